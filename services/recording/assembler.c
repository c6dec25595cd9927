// assembler.c: huddle-recording's background thread and the assembly of
// one recording (assembler.h).
#include "recording/assembler.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "recording/files.h"
#include "recording/remux.h"

// backoff is a recording whose assembly failed on a disk or store error,
// not to be tried before retry_at (hd_mono_ms).
struct backoff {
	char meeting_id[HD_ID_LEN + 1];
	char id[HD_ID_LEN + 1];
	int64_t retry_at;
};

struct rec_assembler {
	struct rec_service *svc;
	pthread_t thread;
	bool running;
	atomic_bool stop;
	pthread_mutex_t mtx; // guards kicked, stats and the wait on cv
	pthread_cond_t cv;
	bool kicked;
	struct rec_assembler_stats stats;
	// the thread's own
	struct backoff backoff[REC_BACKOFF_MAX];
	size_t n_backoff;
	struct hd_recording found[HD_REC_RESUME_MAX];
};

hd_err rec_begin_assembly(struct rec_service *svc, const char *meeting_id, const char *id, uint32_t total_chunks,
			  struct hd_recording *out, bool *changed)
{
	struct hd_rec_change c = {.state = HD_REC_ASSEMBLING, .at_ms = hd_now_ms(), .total_chunks = total_chunks};
	rec_lock(svc, meeting_id, id);
	hd_err err = hd_recording_set_state(svc->store, meeting_id, id, HD_REC_RECORDING, &c, out, changed);
	rec_unlock(svc, meeting_id, id);
	if (err == HD_OK && *changed && svc->assembler != NULL)
		rec_assembler_kick(svc->assembler);
	return err;
}

// append_range adds "a" or "a-b" to the list in out (cap bytes), with ", "
// between; "..." once it is full.
static void append_range(char *out, size_t cap, uint32_t a, uint32_t b)
{
	size_t len = strlen(out);
	char item[32];
	if (a == b)
		snprintf(item, sizeof(item), "%s%u", len > 0 ? ", " : "", a);
	else
		snprintf(item, sizeof(item), "%s%u-%u", len > 0 ? ", " : "", a, b);
	if (len + strlen(item) + 4 < cap)
		memcpy(out + len, item, strlen(item) + 1);
	else if (len + 4 < cap && (len < 3 || strcmp(out + len - 3, "...") != 0))
		memcpy(out + len, "...", 4);
}

// gap_report writes into out (cap bytes) which chunks below the highest
// one known (the recorder's count, or the highest on disk) never arrived,
// or "" when none did: chunks past the first gap are not used.
static hd_err gap_report(struct rec_service *svc, const struct hd_recording *r, char *out, size_t cap)
{
	uint32_t *present;
	size_t n;
	out[0] = '\0';
	hd_err err = rec_files_chunks_present(svc->dir, r->meeting_id, r->id, r->chunks, &present, &n);
	if (err != HD_OK)
		return err;
	uint32_t end = r->total_chunks; // chunks 0..end-1 were sent
	if (n > 0 && present[n - 1] + 1 > end)
		end = present[n - 1] + 1;
	if (end > r->chunks) {
		char list[160] = "";
		size_t k = 0;
		uint32_t i = r->chunks;
		while (i < end) {
			while (k < n && present[k] < i)
				k++;
			if (k < n && present[k] == i) {
				i++;
				continue;
			}
			uint32_t last = i; // a run of missing chunks: i..last
			while (last + 1 < end && !(k < n && present[k] == last + 1))
				last++;
			append_range(list, sizeof(list), i, last);
			i = last + 1;
		}
		if (r->chunks == 0)
			snprintf(out, cap, "chunks %s of 0-%u never arrived", list, end - 1);
		else
			snprintf(out, cap, "chunks %s of 0-%u never arrived; the recording ends with chunk %u", list,
				 end - 1, r->chunks - 1);
	}
	free(present);
	return HD_OK;
}

// join writes "a; b" (or whichever is not empty) into out (cap bytes).
static void join(char *out, size_t cap, const char *a, const char *b)
{
	// Cut short when it does not fit (both parts are messages for people).
	size_t n = 0;
	const char *parts[3] = {a, a[0] != '\0' && b[0] != '\0' ? "; " : "", b};
	for (int i = 0; i < 3; i++)
		for (const char *p = parts[i]; *p != '\0' && n + 1 < cap; p++)
			out[n++] = *p;
	if (n + 1 == cap) // cut: not in the middle of a UTF-8 sequence
		while (n > 0 && ((uint8_t)out[n - 1] & 0x80) != 0)
			n--;
	out[n] = '\0';
}

// finish moves r (ASSEMBLING) to READY with the committed temp file, or to
// FAILED, under its lock; a recording deleted or moved meanwhile is left
// alone (and the temp file removed).
static hd_err finish(struct rec_service *svc, const struct hd_recording *r, bool ready, bool remuxed,
		     int64_t duration_ms, uint64_t bytes, const char *error)
{
	char temp[REC_PATH_MAX], final[REC_PATH_MAX];
	struct hd_recording now;
	bool changed;
	hd_err err;
	rec_files_temp_path(svc->dir, r->meeting_id, r->id, temp);
	rec_files_final_path(svc->dir, r->meeting_id, r->id, final);
	rec_lock(svc, r->meeting_id, r->id);
	if ((err = hd_recording_get(svc->store, r->meeting_id, r->id, &now)) != HD_OK ||
	    now.state != HD_REC_ASSEMBLING) {
		unlink(temp);
		rec_unlock(svc, r->meeting_id, r->id);
		return err == HD_EUNKNOWNMEETING ? HD_OK : err;
	}
	if (remuxed && (err = rec_files_commit(temp, final)) != HD_OK) {
		rec_unlock(svc, r->meeting_id, r->id);
		return err;
	}
	struct hd_rec_change c = {.state = ready ? HD_REC_READY : HD_REC_FAILED,
				  .at_ms = hd_now_ms(),
				  .bytes = bytes,
				  .duration_ms = duration_ms,
				  .error = error};
	err = hd_recording_set_state(svc->store, r->meeting_id, r->id, HD_REC_ASSEMBLING, &c, &now, &changed);
	if (err == HD_OK) // the file is committed: the chunks (and for FAILED everything) can go
		err = ready ? rec_files_remove_chunks(svc->dir, r->meeting_id, r->id)
			    : rec_files_remove(svc->dir, r->meeting_id, r->id);
	rec_unlock(svc, r->meeting_id, r->id);
	return err;
}

hd_err rec_assemble(struct rec_service *svc, const char *meeting_id, const char *id, const atomic_bool *stop)
{
	struct hd_recording r;
	char gaps[HD_REC_ERROR_MAX + 1], error[HD_REC_ERROR_MAX + 1];
	char dir[REC_PATH_MAX], temp[REC_PATH_MAX], final[REC_PATH_MAX];
	hd_err err = hd_recording_get(svc->store, meeting_id, id, &r);
	if (err == HD_EUNKNOWNMEETING || (err == HD_OK && r.state != HD_REC_ASSEMBLING))
		return HD_OK;
	if (err != HD_OK || (err = gap_report(svc, &r, gaps, sizeof(gaps))) != HD_OK)
		return err;
	if (!rec_files_chunk_dir(svc->dir, meeting_id, id, dir) ||
	    !rec_files_temp_path(svc->dir, meeting_id, id, temp) ||
	    !rec_files_final_path(svc->dir, meeting_id, id, final))
		return HD_EUNAVAILABLE;

	// Committed before a crash stopped this assembly: only the state is left to set.
	struct stat st;
	int64_t duration_ms;
	uint64_t bytes;
	if (stat(final, &st) == 0) {
		if ((err = rec_probe(final, &duration_ms, &bytes)) == HD_OK)
			return finish(svc, &r, true, false, duration_ms, bytes, gaps);
		if (err != HD_EMALFORMED)
			return err;
		HD_WARN("recording %s/%s: %s is not playable; assembling it again", meeting_id, id, final);
		unlink(final);
	}
	if (r.chunks == 0) {
		join(error, sizeof(error), "chunk 0 never arrived: nothing to play", gaps);
		return finish(svc, &r, false, false, 0, 0, error);
	}
	struct rec_remux_result res;
	err = rec_remux(dir, r.chunks, temp, svc->limits.max_minutes * 60000, stop, &res);
	if (err == HD_EMALFORMED) {
		char why[HD_REC_ERROR_MAX + 1];
		snprintf(why, sizeof(why), "nothing playable: %s", res.why);
		join(error, sizeof(error), why, gaps);
		unlink(temp);
		return finish(svc, &r, false, false, 0, 0, error);
	}
	if (err != HD_OK) {
		unlink(temp);
		return err;
	}
	join(error, sizeof(error), gaps, res.cut ? res.why : "");
	return finish(svc, &r, true, true, res.duration_ms, res.bytes, error);
}

void rec_assembler_kick(struct rec_assembler *a)
{
	pthread_mutex_lock(&a->mtx);
	a->kicked = true;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mtx);
}

// backoff_find is r's index in a->backoff, or -1.
static int backoff_find(struct rec_assembler *a, const struct hd_recording *r)
{
	for (size_t i = 0; i < a->n_backoff; i++)
		if (strcmp(a->backoff[i].id, r->id) == 0 && strcmp(a->backoff[i].meeting_id, r->meeting_id) == 0)
			return (int)i;
	return -1;
}

static void backoff_drop(struct rec_assembler *a, int i)
{
	if (i >= 0)
		a->backoff[i] = a->backoff[--a->n_backoff];
}

static void backoff_add(struct rec_assembler *a, const struct hd_recording *r)
{
	int i = backoff_find(a, r);
	if (i < 0 && a->n_backoff < REC_BACKOFF_MAX) {
		i = (int)a->n_backoff++;
		memcpy(a->backoff[i].meeting_id, r->meeting_id, sizeof(r->meeting_id));
		memcpy(a->backoff[i].id, r->id, sizeof(r->id));
	}
	if (i >= 0)
		a->backoff[i].retry_at = hd_mono_ms() + REC_RETRY_MS;
}

// sweep removes what finished recordings left behind after a crash: the
// chunk folder and temp file of each READY or FAILED one. Recordings the
// store does not know are left alone (a wrong STORE_URI must not cost
// anyone their files).
static void sweep(struct rec_service *svc)
{
	DIR *top = opendir(svc->dir);
	struct dirent *m, *e;
	size_t removed = 0;
	if (top == NULL)
		return;
	while ((m = readdir(top)) != NULL && !atomic_load(&svc->assembler->stop)) {
		char meeting_dir[REC_PATH_MAX];
		if (!hd_id_valid(m->d_name) ||
		    snprintf(meeting_dir, sizeof(meeting_dir), "%s/%s", svc->dir, m->d_name) >= REC_PATH_MAX)
			continue;
		DIR *d = opendir(meeting_dir);
		if (d == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			char id[HD_ID_LEN + 1];
			size_t len = strlen(e->d_name);
			bool temp = len == HD_ID_LEN + 9 && strcmp(e->d_name + HD_ID_LEN, ".webm.tmp") == 0;
			if (len != HD_ID_LEN && !temp)
				continue;
			memcpy(id, e->d_name, HD_ID_LEN);
			id[HD_ID_LEN] = '\0';
			struct hd_recording r;
			if (!hd_id_valid(id) || hd_recording_get(svc->store, m->d_name, id, &r) != HD_OK ||
			    (r.state != HD_REC_READY && r.state != HD_REC_FAILED))
				continue;
			rec_lock(svc, m->d_name, id);
			if (temp) {
				char path[REC_PATH_MAX];
				if (rec_files_temp_path(svc->dir, m->d_name, id, path))
					unlink(path);
			} else {
				rec_files_remove_chunks(svc->dir, m->d_name, id);
			}
			rec_unlock(svc, m->d_name, id);
			removed++;
		}
		closedir(d);
	}
	closedir(top);
	if (removed > 0)
		HD_INFO("removed %zu leftovers of finished recordings", removed);
}

// look finds the work in the store and does it: idle recordings move to
// ASSEMBLING, then every ASSEMBLING one not waiting for a retry is assembled.
static void look(struct rec_assembler *a)
{
	struct rec_service *svc = a->svc;
	size_t n;
	int64_t idle_before = hd_now_ms() - svc->limits.idle_s * 1000;
	if (hd_recording_resumable(svc->store, idle_before, a->found, &n) != HD_OK)
		return; // logged; the next look tries again
	for (size_t i = 0; i < n && !atomic_load(&a->stop); i++) {
		struct hd_recording *r = &a->found[i];
		if (r->state == HD_REC_RECORDING) {
			struct hd_recording now;
			bool changed;
			if (rec_begin_assembly(svc, r->meeting_id, r->id, 0, &now, &changed) != HD_OK || !changed)
				continue;
			HD_INFO("recording %s/%s: no chunk for %lld s; assembling its %u chunks", r->meeting_id, r->id,
				(long long)svc->limits.idle_s, now.chunks);
			pthread_mutex_lock(&a->mtx);
			a->stats.idle++;
			pthread_mutex_unlock(&a->mtx);
		}
		int b = backoff_find(a, r);
		if (b >= 0 && a->backoff[b].retry_at > hd_mono_ms())
			continue;
		int64_t t0 = hd_mono_ms();
		hd_err err = rec_assemble(svc, r->meeting_id, r->id, &a->stop);
		int64_t took = hd_mono_ms() - t0;
		struct hd_recording done;
		bool ready = false, failed = false;
		if (err == HD_OK && hd_recording_get(svc->store, r->meeting_id, r->id, &done) == HD_OK) {
			ready = done.state == HD_REC_READY;
			failed = done.state == HD_REC_FAILED;
			HD_INFO("recording %s/%s: %s in %lld ms: %u chunks, %llu bytes, %lld ms%s%s", r->meeting_id,
				r->id, rec_state_name(done.state), (long long)took, done.chunks,
				(unsigned long long)done.bytes, (long long)done.duration_ms,
				done.error[0] != '\0' ? "; " : "", done.error);
		}
		if (err == HD_OK || err == HD_ECLOSED) {
			backoff_drop(a, b);
		} else {
			HD_WARN("recording %s/%s: assembly failed (%s); trying again in %d s", r->meeting_id, r->id,
				hd_strerror(err), REC_RETRY_MS / 1000);
			backoff_add(a, r);
		}
		pthread_mutex_lock(&a->mtx);
		a->stats.ready += ready;
		a->stats.failed += failed;
		a->stats.retries += err != HD_OK && err != HD_ECLOSED;
		if (ready || failed)
			a->stats.last_ms = (uint64_t)took;
		pthread_mutex_unlock(&a->mtx);
	}
}

static void *assembler_main(void *p)
{
	struct rec_assembler *a = p;
	sweep(a->svc);
	while (!atomic_load(&a->stop)) {
		look(a);
		pthread_mutex_lock(&a->mtx);
		if (!a->kicked && !atomic_load(&a->stop)) {
			struct timespec until;
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += REC_CHECK_MS / 1000;
			until.tv_nsec += (long)(REC_CHECK_MS % 1000) * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&a->cv, &a->mtx, &until);
		}
		a->kicked = false;
		pthread_mutex_unlock(&a->mtx);
	}
	return NULL;
}

hd_err rec_assembler_open(struct rec_assembler **out, struct rec_service *svc)
{
	struct rec_assembler *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return HD_ENOMEM;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&a->mtx, NULL);
	atomic_init(&a->stop, false);
	a->svc = svc;
	rec_remux_log_init();
	svc->assembler = a;
	*out = a;
	return HD_OK;
}

hd_err rec_assembler_start(struct rec_assembler *a)
{
	atomic_store(&a->stop, false);
	if (pthread_create(&a->thread, NULL, assembler_main, a) != 0)
		return HD_ENOMEM;
	a->running = true;
	return HD_OK;
}

void rec_assembler_stop(struct rec_assembler *a)
{
	if (a == NULL || !a->running)
		return;
	pthread_mutex_lock(&a->mtx);
	atomic_store(&a->stop, true);
	pthread_cond_signal(&a->cv); // under the mutex: the thread cannot miss it between its check and its wait
	pthread_mutex_unlock(&a->mtx);
	pthread_join(a->thread, NULL);
	a->running = false;
}

void rec_assembler_close(struct rec_assembler *a)
{
	if (a == NULL)
		return;
	rec_assembler_stop(a);
	if (a->svc->assembler == a)
		a->svc->assembler = NULL;
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mtx);
	free(a);
}

void rec_assembler_get_stats(struct rec_assembler *a, struct rec_assembler_stats *out)
{
	pthread_mutex_lock(&a->mtx);
	*out = a->stats;
	pthread_mutex_unlock(&a->mtx);
}
