// files.c: huddle-recording's files (files.h): durable writes by fsync and
// rename, and their removal.
#include "recording/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/log.h"

// fits tells whether snprintf's result n filled out (REC_PATH_MAX) without cutting.
static bool fits(int n)
{
	return n > 0 && n < REC_PATH_MAX;
}

bool rec_files_chunk_dir(const char *dir, const char *meeting_id, const char *id, char *out)
{
	return fits(snprintf(out, REC_PATH_MAX, "%s/%s/%s", dir, meeting_id, id));
}

bool rec_files_chunk_path(const char *dir, const char *meeting_id, const char *id, uint32_t index, char *out)
{
	return fits(snprintf(out, REC_PATH_MAX, "%s/%s/%s/%u.part", dir, meeting_id, id, index));
}

// chunk_temp_path is where chunk index is written before its rename.
static bool chunk_temp_path(const char *dir, const char *meeting_id, const char *id, uint32_t index, char *out)
{
	return fits(snprintf(out, REC_PATH_MAX, "%s/%s/%s/%u.tmp", dir, meeting_id, id, index));
}

bool rec_files_final_path(const char *dir, const char *meeting_id, const char *id, char *out)
{
	return fits(snprintf(out, REC_PATH_MAX, "%s/%s/%s.webm", dir, meeting_id, id));
}

bool rec_files_temp_path(const char *dir, const char *meeting_id, const char *id, char *out)
{
	return fits(snprintf(out, REC_PATH_MAX, "%s/%s/%s.webm.tmp", dir, meeting_id, id));
}

// fsync_path opens path (a folder or a file) read-only and fsyncs it.
static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

// parent_of writes path's folder into out (REC_PATH_MAX).
static void parent_of(const char *path, char *out)
{
	snprintf(out, REC_PATH_MAX, "%s", path);
	char *slash = strrchr(out, '/');
	if (slash == NULL)
		snprintf(out, REC_PATH_MAX, ".");
	else if (slash == out)
		out[1] = '\0';
	else
		*slash = '\0';
}

// make_dir creates path and its missing parents, fsyncing the folder that
// holds each one it created, so the new entries survive a crash.
static int make_dir(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : (errno = ENOTDIR, -1);
	char parent[REC_PATH_MAX];
	parent_of(path, parent);
	if (strcmp(parent, path) != 0 && make_dir(parent) != 0)
		return -1;
	if (mkdir(path, 0750) != 0 && errno != EEXIST)
		return -1;
	return fsync_path(parent);
}

hd_err rec_files_open_dir(const char *dir, char *why, size_t why_cap)
{
	if (make_dir(dir) != 0) {
		snprintf(why, why_cap, "cannot create RECORDINGS_DIR '%s': %s", dir, strerror(errno));
		return HD_EUNAVAILABLE;
	}
	if (access(dir, R_OK | W_OK | X_OK) != 0) {
		snprintf(why, why_cap, "cannot write in RECORDINGS_DIR '%s': %s", dir, strerror(errno));
		return HD_EUNAVAILABLE;
	}
	return HD_OK;
}

bool rec_files_chunk_exists(const char *dir, const char *meeting_id, const char *id, uint32_t index, uint64_t *len)
{
	char path[REC_PATH_MAX];
	struct stat st;
	if (!rec_files_chunk_path(dir, meeting_id, id, index, path) || stat(path, &st) != 0)
		return false;
	*len = (uint64_t)st.st_size;
	return true;
}

// write_all writes len bytes to fd.
static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

hd_err rec_files_chunk_write(const char *dir, const char *meeting_id, const char *id, uint32_t index,
			     const uint8_t *data, size_t len, bool *existed, uint64_t *stored_len)
{
	char folder[REC_PATH_MAX], path[REC_PATH_MAX], temp[REC_PATH_MAX];
	const char *step = "path";
	*existed = false;
	if (!rec_files_chunk_dir(dir, meeting_id, id, folder) ||
	    !rec_files_chunk_path(dir, meeting_id, id, index, path) ||
	    !chunk_temp_path(dir, meeting_id, id, index, temp)) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if (rec_files_chunk_exists(dir, meeting_id, id, index, stored_len)) {
		*existed = true;
		return HD_OK;
	}
	step = "mkdir";
	if (make_dir(folder) != 0)
		goto fail;
	step = "write";
	int fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		goto fail;
	if (write_all(fd, data, len) != 0 || (step = "fsync", fsync(fd) != 0)) {
		int e = errno;
		close(fd);
		unlink(temp);
		errno = e;
		goto fail;
	}
	close(fd);
	step = "rename";
	if (rename(temp, path) != 0)
		goto fail;
	step = "fsync folder";
	if (fsync_path(folder) != 0)
		goto fail;
	*stored_len = len;
	return HD_OK;

fail:
	HD_ERROR("chunk %u of recording %s/%s: %s failed: %s", index, meeting_id, id, step, strerror(errno));
	return HD_EUNAVAILABLE;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

// part_index parses "<index>.part"; false for any other name.
static bool part_index(const char *name, uint32_t *index)
{
	char *end;
	if (name[0] < '0' || name[0] > '9')
		return false;
	errno = 0;
	unsigned long v = strtoul(name, &end, 10);
	if (errno != 0 || v > UINT32_MAX || strcmp(end, ".part") != 0)
		return false;
	*index = (uint32_t)v;
	return true;
}

hd_err rec_files_chunks_present(const char *dir, const char *meeting_id, const char *id, uint32_t from, uint32_t **out,
				size_t *n)
{
	char folder[REC_PATH_MAX];
	*out = NULL;
	*n = 0;
	if (!rec_files_chunk_dir(dir, meeting_id, id, folder))
		return HD_OK;
	DIR *d = opendir(folder);
	if (d == NULL)
		return HD_OK;
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		uint32_t index;
		if (!part_index(e->d_name, &index) || index < from)
			continue;
		if (*n == cap) {
			size_t want = cap == 0 ? 64 : cap * 2;
			uint32_t *grown = realloc(*out, want * sizeof(**out));
			if (grown == NULL) {
				closedir(d);
				free(*out);
				*out = NULL;
				*n = 0;
				return HD_ENOMEM;
			}
			*out = grown;
			cap = want;
		}
		(*out)[(*n)++] = index;
	}
	closedir(d);
	if (*n > 0)
		qsort(*out, *n, sizeof(**out), cmp_u32);
	return HD_OK;
}

hd_err rec_files_commit(const char *temp, const char *final)
{
	char folder[REC_PATH_MAX];
	const char *step = "fsync";
	parent_of(final, folder);
	if (fsync_path(temp) != 0)
		goto fail;
	step = "rename";
	if (rename(temp, final) != 0)
		goto fail;
	step = "fsync folder";
	if (fsync_path(folder) != 0)
		goto fail;
	return HD_OK;

fail:
	HD_ERROR("committing %s: %s failed: %s", final, step, strerror(errno));
	return HD_EUNAVAILABLE;
}

// remove_file unlinks path; a missing one is fine.
static int remove_file(const char *path)
{
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

hd_err rec_files_remove_chunks(const char *dir, const char *meeting_id, const char *id)
{
	char folder[REC_PATH_MAX], path[REC_PATH_MAX];
	if (!rec_files_chunk_dir(dir, meeting_id, id, folder))
		return HD_OK;
	DIR *d = opendir(folder);
	if (d == NULL) {
		if (errno == ENOENT)
			return HD_OK;
		HD_ERROR("opening %s: %s", folder, strerror(errno));
		return HD_EUNAVAILABLE;
	}
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		int w = snprintf(path, sizeof(path), "%s/%s", folder, e->d_name);
		if (w > 0 && w < (int)sizeof(path) && remove_file(path) != 0)
			rc = -1;
	}
	closedir(d);
	if (rc != 0 || (rmdir(folder) != 0 && errno != ENOENT)) {
		HD_ERROR("removing %s: %s", folder, strerror(errno));
		return HD_EUNAVAILABLE;
	}
	return HD_OK;
}

hd_err rec_files_remove(const char *dir, const char *meeting_id, const char *id)
{
	char final[REC_PATH_MAX], temp[REC_PATH_MAX], folder[REC_PATH_MAX];
	if (!rec_files_final_path(dir, meeting_id, id, final) || !rec_files_temp_path(dir, meeting_id, id, temp))
		return HD_OK;
	if (remove_file(final) != 0 || remove_file(temp) != 0) {
		HD_ERROR("removing the files of recording %s/%s: %s", meeting_id, id, strerror(errno));
		return HD_EUNAVAILABLE;
	}
	hd_err err = rec_files_remove_chunks(dir, meeting_id, id);
	parent_of(final, folder);
	if (err == HD_OK && fsync_path(folder) != 0 && errno != ENOENT) {
		HD_ERROR("fsync %s: %s", folder, strerror(errno));
		err = HD_EUNAVAILABLE;
	}
	return err;
}

hd_err rec_files_read(const char *dir, const char *meeting_id, const char *id, uint64_t offset, size_t len,
		      uint8_t *buf, size_t *n, uint64_t *size)
{
	char path[REC_PATH_MAX];
	struct stat st;
	*n = 0;
	*size = 0;
	if (!rec_files_final_path(dir, meeting_id, id, path))
		return HD_EUNAVAILABLE;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		HD_ERROR("reading %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return HD_EUNAVAILABLE;
	}
	*size = (uint64_t)st.st_size;
	size_t got = 0;
	while (got < len && offset + got < *size) {
		ssize_t r = pread(fd, buf + got, len - got, (off_t)(offset + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			HD_ERROR("reading %s: %s", path, strerror(errno));
			close(fd);
			return HD_EUNAVAILABLE;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*n = got;
	return HD_OK;
}

bool rec_files_space_ok(const char *dir, uint64_t need)
{
	struct statvfs v;
	if (statvfs(dir, &v) != 0)
		return true;
	return (uint64_t)v.f_bavail * (uint64_t)v.f_frsize >= need;
}
