// service.c: what the REP workers and the assembler share (recording.h):
// the limits and the per-recording locks.
#include <stdint.h>
#include <string.h>

#include "recording/recording.h"

void rec_service_init(struct rec_service *svc, struct hd_store *store, const char *dir, const struct rec_limits *limits)
{
	memset(svc, 0, sizeof(*svc));
	svc->store = store;
	svc->dir = dir;
	svc->limits = *limits;
	for (int i = 0; i < REC_LOCKS; i++)
		pthread_mutex_init(&svc->locks[i], NULL);
}

void rec_service_fini(struct rec_service *svc)
{
	for (int i = 0; i < REC_LOCKS; i++)
		pthread_mutex_destroy(&svc->locks[i]);
}

// lock_of picks the stripe of (meeting, id): FNV-1a over both.
static pthread_mutex_t *lock_of(struct rec_service *svc, const char *meeting_id, const char *id)
{
	uint32_t h = 2166136261u;
	for (const char *p = meeting_id; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	for (const char *p = id; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return &svc->locks[h % REC_LOCKS];
}

void rec_lock(struct rec_service *svc, const char *meeting_id, const char *id)
{
	pthread_mutex_lock(lock_of(svc, meeting_id, id));
}

void rec_unlock(struct rec_service *svc, const char *meeting_id, const char *id)
{
	pthread_mutex_unlock(lock_of(svc, meeting_id, id));
}

static const char *const state_names[] = {
	[HD_REC_RECORDING] = "RECORDING",
	[HD_REC_ASSEMBLING] = "ASSEMBLING",
	[HD_REC_READY] = "READY",
	[HD_REC_FAILED] = "FAILED",
};

const char *rec_state_name(int state)
{
	if (state < 0 || (size_t)state >= sizeof(state_names) / sizeof(state_names[0]) || state_names[state] == NULL)
		return "UNKNOWN";
	return state_names[state];
}
