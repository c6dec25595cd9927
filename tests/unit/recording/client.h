// client.h: what the huddle-recording tests share: RecordingRequest calls
// over a real REQ socket, and WebM fixtures made with ffmpeg/libavformat.
// Failures end the test (cmocka asserts); every reply is the caller's
// (huddle__v1__recording_reply__free_unpacked).
#ifndef RECORDING_TEST_CLIENT_H
#define RECORDING_TEST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rpc.h"
#include "huddle/v1/recording.pb-c.h"

#define REC_TEST_CALL_MS 30000 // bound on one call (ASan builds, fsync)

// rec_test_call sends req (request_id set here) and returns the decoded
// reply, checking that it echoes the request id; NULL when no reply came
// within timeout_ms (only when allow_timeout, else the test fails).
Huddle__V1__RecordingReply *rec_test_call(struct hd_rpc_client *c, Huddle__V1__RecordingRequest *req, int timeout_ms,
					  bool allow_timeout);

// rec_test_code is the reply's error code (0 on success); an error always
// carries a message and no body.
int rec_test_code(const Huddle__V1__RecordingReply *r);

// rec_test_message is the error message ("" when none).
const char *rec_test_message(const Huddle__V1__RecordingReply *r);

Huddle__V1__RecordingReply *rec_test_create(struct hd_rpc_client *c, const char *meeting, const char *id,
					    const char *recorder);
Huddle__V1__RecordingReply *rec_test_chunk(struct hd_rpc_client *c, const char *meeting, const char *id,
					   const char *recorder, uint32_t index, const void *data, size_t len);
Huddle__V1__RecordingReply *rec_test_finish(struct hd_rpc_client *c, const char *meeting, const char *id,
					    const char *recorder, uint32_t chunks);
Huddle__V1__RecordingReply *rec_test_get(struct hd_rpc_client *c, const char *meeting, const char *id);
Huddle__V1__RecordingReply *rec_test_list(struct hd_rpc_client *c, const char *meeting);
Huddle__V1__RecordingReply *rec_test_read(struct hd_rpc_client *c, const char *meeting, const char *id, uint64_t offset,
					  uint32_t length);
Huddle__V1__RecordingReply *rec_test_delete(struct hd_rpc_client *c, const char *meeting, const char *id,
					    const char *recorder);

// rec_test_health tells whether huddle-recording answers Health within timeout_ms.
bool rec_test_health(struct hd_rpc_client *c, int timeout_ms);

// rec_test_wait_state polls Get until the recording is in state (or
// timeout_ms passed) and returns the last state seen.
int rec_test_wait_state(struct hd_rpc_client *c, const char *meeting, const char *id, int state, int timeout_ms);

// rec_test_download reads the whole READY file through Read calls of
// piece bytes into a new buffer (*len; the caller frees).
uint8_t *rec_test_download(struct hd_rpc_client *c, const char *meeting, const char *id, uint32_t piece, size_t *len);

// rec_test_upload sends data cut into chunks of chunk bytes, first..last
// chunk index (inclusive; all when last is UINT32_MAX), and returns how many
// chunks data makes.
uint32_t rec_test_upload(struct hd_rpc_client *c, const char *meeting, const char *id, const char *recorder,
			 const uint8_t *data, size_t len, size_t chunk, uint32_t first, uint32_t last);

// ---- fixtures ----

// rec_test_clip makes (once per path) a WebM of `seconds` with VP8 video
// (320x240, 15 fps, test pattern) and Opus audio (a sine), written by ffmpeg
// to a pipe as MediaRecorder writes: no cues, no duration. Returns its bytes
// (the caller frees) and *len.
uint8_t *rec_test_clip(const char *path, int seconds, size_t *len);

// rec_test_loop writes to out_path a WebM stream of about `seconds`, the
// packets of the WebM at clip_path repeated with their timestamps moved on
// (no re-encoding), muxed without seeking (no cues, no duration), as one
// long MediaRecorder recording would be. Returns its size in bytes;
// *duration_ms is its length (whole clips: at least `seconds`).
uint64_t rec_test_loop(const char *clip_path, const char *out_path, int seconds, int64_t *duration_ms);

// rec_test_probe opens a WebM file with libavformat: *duration_ms from its
// header, *cues whether it has an index to seek by (cue entries). Returns
// false when it cannot be opened.
bool rec_test_probe(const char *path, int64_t *duration_ms, bool *cues);

// rec_test_write writes len bytes to path (the test fails otherwise).
void rec_test_write(const char *path, const uint8_t *data, size_t len);

#endif
