// meetings.h: meeting and space records (create, look up, host keys,
// access modes) in the history store. Keys are secrets: they are returned
// once at creation, stored only hashed (common/hostkey.h) and never logged.
#ifndef REG_MEETINGS_H
#define REG_MEETINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/hostkey.h"
#include "common/store.h"
#include "huddle/v1/common.pb-c.h"

// reg_meeting_spec is what a new meeting is asked to be (CreateMeeting).
struct reg_meeting_spec {
	const char *title;     // 0..HD_MEETING_TITLE_MAX bytes of UTF-8
	const char *space_key; // NULL or "": a meeting with a host key of its own; else the space's key
	int64_t starts_at_ms;  // scheduled start, Unix ms, >= 0 (0: not scheduled)
	int access_mode;       // 0: the default (OPEN alone, WAITING_ROOM in a space); else enum hd_access_mode
};

// reg_meeting_new makes a meeting with a fresh unguessable id, created at
// now_ms (Unix ms), as spec says, and stores it durably before returning;
// an id collision is retried once with a new id. Without a space key the
// meeting gets a fresh host key: host_key (HD_KEY_LEN + 1 bytes) receives
// it, out->host_key_hash its hash. With one, the key must be a space's
// (looked up by hash, compared in constant time): the meeting belongs to
// that space (out->space_id), has no key of its own and host_key is "".
// Returns HD_OK with *out set; HD_EBADREQUEST for a bad title, start or
// access mode; HD_EFORBIDDEN when no space has the key; HD_EUNAVAILABLE
// when the store fails; HD_EINTERNAL when no fresh id or key can be had.
// On error *why is a static, human-readable reason (never the key) and
// host_key is "".
hd_err reg_meeting_new(struct hd_store *s, const struct reg_meeting_spec *spec, int64_t now_ms, struct hd_meeting *out,
		       char host_key[HD_KEY_LEN + 1], const char **why);

// reg_meeting_create is reg_meeting_new for a meeting of no space, with the
// default access (OPEN), no start time and a host key nobody is told (for
// callers that need any meeting, like tests). Errors as reg_meeting_new.
hd_err reg_meeting_create(struct hd_store *s, const char *title, int64_t now_ms, struct hd_meeting *out,
			  const char **why);

// reg_meeting_get copies the meeting with this id into *out. Returns HD_OK,
// HD_EUNKNOWNMEETING (also for a malformed id) or HD_EUNAVAILABLE, with *why
// set on error.
hd_err reg_meeting_get(struct hd_store *s, const char *id, struct hd_meeting *out, const char **why);

// reg_meeting_host_check tells (*is_host) whether key is a host key of
// meeting m: key is non-empty and hashes to m->host_key_hash, or m belongs
// to a space whose key it is (access.md "is_host"; hashes compared in
// constant time). Returns HD_OK (*is_host set), HD_EUNAVAILABLE when the
// space cannot be read (*is_host false).
hd_err reg_meeting_host_check(struct hd_store *s, const struct hd_meeting *m, const char *key, bool *is_host);

// reg_meeting_is_host is reg_meeting_host_check as a yes/no: false also when
// the store fails (logged), so a failure never makes anyone a host. key may
// be NULL or "" (false).
bool reg_meeting_is_host(struct hd_store *s, const struct hd_meeting *m, const char *key);

// reg_meeting_set_access stores meeting id's access mode (1..4, enum
// hd_access_mode) durably. Returns HD_OK, HD_EBADREQUEST (not a mode),
// HD_EUNKNOWNMEETING, HD_EUNAVAILABLE.
hd_err reg_meeting_set_access(struct hd_store *s, const char *id, int access_mode);

// reg_access_mode_valid tells whether mode is an AccessMode a request may
// carry: 0 (UNSPECIFIED: the default) or 1..4.
bool reg_access_mode_valid(int mode);

// reg_space_create makes a space titled `title` (0..HD_MEETING_TITLE_MAX
// bytes of UTF-8) created at now_ms, with a fresh id and key, stored
// durably (only the key's hash). key (HD_KEY_LEN + 1 bytes) receives the
// key, to be shown once. Returns HD_OK with *out set; HD_EBADREQUEST (bad
// title); HD_EUNAVAILABLE; HD_EINTERNAL (no randomness, or an id or key
// collision twice). On error *why is set and key is "".
hd_err reg_space_create(struct hd_store *s, const char *title, int64_t now_ms, struct hd_space *out,
			char key[HD_KEY_LEN + 1], const char **why);

// reg_space_open finds the space whose key is key (looked up by its hash,
// compared in constant time) into *out. Returns HD_OK; HD_EFORBIDDEN for
// NULL, "" or a key no space has; HD_EUNAVAILABLE.
hd_err reg_space_open(struct hd_store *s, const char *key, struct hd_space *out);

// reg_meeting_to_pb fills pb (initialised here) from m; pb borrows m's
// strings, so m must outlive it. The host key hash and space are not part
// of the message.
void reg_meeting_to_pb(const struct hd_meeting *m, Huddle__V1__Meeting *pb);

#endif
