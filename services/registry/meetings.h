// meetings.h: meeting records (create, look up) in the history store.
#ifndef REG_MEETINGS_H
#define REG_MEETINGS_H

#include <stdint.h>

#include "common/store.h"
#include "huddle/v1/common.pb-c.h"

// reg_meeting_create makes a meeting with a fresh unguessable id, created at
// now_ms (Unix ms), titled `title` (at most HD_MEETING_TITLE_MAX bytes of
// UTF-8, may be empty), and stores it durably before returning; an id
// collision is retried once with a new id. Returns HD_OK with *out set;
// HD_EBADREQUEST for a bad title; HD_EUNAVAILABLE when the store fails;
// HD_EINTERNAL when no fresh id can be had. On error *why is a static,
// human-readable reason.
hd_err reg_meeting_create(struct hd_store *s, const char *title, int64_t now_ms, struct hd_meeting *out,
			  const char **why);

// reg_meeting_get copies the meeting with this id into *out. Returns HD_OK,
// HD_EUNKNOWNMEETING (also for a malformed id) or HD_EUNAVAILABLE, with *why
// set on error.
hd_err reg_meeting_get(struct hd_store *s, const char *id, struct hd_meeting *out, const char **why);

// reg_meeting_to_pb fills pb (initialised here) from m; pb borrows m's
// strings, so m must outlive it.
void reg_meeting_to_pb(const struct hd_meeting *m, Huddle__V1__Meeting *pb);

#endif
