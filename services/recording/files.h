// files.h: huddle-recording's files under RECORDINGS_DIR, each made durable
// by fsync and rename (the rename is the step's commit):
//   <dir>/<meeting>/<rid>/<index>.part   one chunk, as uploaded
//   <dir>/<meeting>/<rid>/<index>.tmp    a chunk being written (redone after a crash)
//   <dir>/<meeting>/<rid>.webm.tmp       the remuxed file being written (redone)
//   <dir>/<meeting>/<rid>.webm           the finished recording
// Ids are base64url (hd_id_valid), so a path never leaves its folder.
#ifndef RECORDING_FILES_H
#define RECORDING_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define REC_PATH_MAX 4096

// rec_files_chunk_dir, _chunk_path, _final_path and _temp_path write the
// path into out (REC_PATH_MAX bytes). They return false when it does not fit.
bool rec_files_chunk_dir(const char *dir, const char *meeting_id, const char *id, char *out);
bool rec_files_chunk_path(const char *dir, const char *meeting_id, const char *id, uint32_t index, char *out);
bool rec_files_final_path(const char *dir, const char *meeting_id, const char *id, char *out);
bool rec_files_temp_path(const char *dir, const char *meeting_id, const char *id, char *out);

// rec_files_open_dir creates dir (and its parents) when missing and checks
// that it is a folder this process can write. Returns HD_OK or
// HD_EUNAVAILABLE (errno-based message in why, room for why_cap bytes).
hd_err rec_files_open_dir(const char *dir, char *why, size_t why_cap);

// rec_files_chunk_exists tells whether chunk index is on disk; *len is its size.
bool rec_files_chunk_exists(const char *dir, const char *meeting_id, const char *id, uint32_t index, uint64_t *len);

// rec_files_chunk_write stores chunk index durably: written to its .tmp,
// fsync, renamed to .part, the folder fsynced (created first, with its
// parents, each fsynced). When the .part exists already nothing is written
// (the first bytes stay): *existed is true and *stored_len its size;
// otherwise *stored_len is len. The caller holds the recording's lock.
// Returns HD_OK or HD_EUNAVAILABLE (logged).
hd_err rec_files_chunk_write(const char *dir, const char *meeting_id, const char *id, uint32_t index,
			     const uint8_t *data, size_t len, bool *existed, uint64_t *stored_len);

// rec_files_chunks_present lists the chunk indexes on disk that are >= from,
// ascending, into a new array (*out, the caller frees; NULL when none),
// *n their count. Returns HD_OK, HD_ENOMEM (a folder that is missing has
// no chunks).
hd_err rec_files_chunks_present(const char *dir, const char *meeting_id, const char *id, uint32_t from, uint32_t **out,
				size_t *n);

// rec_files_commit makes temp the file final: fsync temp, rename it over
// final, fsync the folder. Returns HD_OK or HD_EUNAVAILABLE (logged).
hd_err rec_files_commit(const char *temp, const char *final);

// rec_files_remove_chunks removes the recording's chunk folder and all in
// it (missing: fine). Returns HD_OK or HD_EUNAVAILABLE (logged).
hd_err rec_files_remove_chunks(const char *dir, const char *meeting_id, const char *id);

// rec_files_remove removes every file of the recording: the final file,
// the temp file and the chunk folder (missing ones are fine), then fsyncs
// the meeting's folder. Returns HD_OK or HD_EUNAVAILABLE (logged).
hd_err rec_files_remove(const char *dir, const char *meeting_id, const char *id);

// rec_files_read reads up to len bytes at offset of the final file into
// buf: *n is the count (0 past the end), *size the file's size. Returns
// HD_OK, HD_EUNAVAILABLE (missing or unreadable; logged).
hd_err rec_files_read(const char *dir, const char *meeting_id, const char *id, uint64_t offset, size_t len,
		      uint8_t *buf, size_t *n, uint64_t *size);

// rec_files_space_ok tells whether dir's file system has at least need
// bytes free for this process (statvfs; true when it cannot tell).
bool rec_files_space_ok(const char *dir, uint64_t need);

#endif
