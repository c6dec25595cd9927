// members.h: a meeting's member records in Redis (packed MemberRecords),
// the compare-and-set that changes one, and the meeting's presence split
// into the call (admitted) and the waiting room.
//
// Keys (hash-tagged per meeting so a meeting's keys share one Redis Cluster
// slot):
//   huddle:{<meeting>}:members  hash: participant id -> packed MemberRecord
//   huddle:{<meeting>}:seen     sorted set: participant id -> last seen, Unix ms
//   huddle:{<meeting>}:removed  sorted set: client key hash -> removed at, Unix ms
//                               (entries older than REG_REMOVED_TTL_S count for nothing)
//   huddle:{<meeting>}:blocked  set: client key hashes a host blocked
//
// Calls run on the thread owning c->redis. Errors give a static,
// human-readable *why: HD_EUNAVAILABLE when Redis is down, HD_EINTERNAL for
// an unexpected Redis reply, HD_ENOMEM, plus those listed.
#ifndef REG_MEMBERS_H
#define REG_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/redis.h"
#include "common/store.h"
#include "common/util.h"
#include "huddle/v1/registry.pb-c.h"
#include "registry/registry.h"

#define REG_DISPLAY_NAME_MAX 64    // bytes of UTF-8, after trimming white space
#define REG_GATEWAY_ID_MAX 255     // bytes
#define REG_KEY_MAX 64             // "huddle:{<22-char id>}:members" and friends
#define REG_MS_MAX 24              // an int64 in decimal, with sign and NUL
#define REG_REMOVED_TTL_S 86400    // a removed client waits for admission on return for 24 h
#define REG_MEMBER_CAS_RETRIES 32  // compare-and-set attempts on a record that keeps changing
#define REG_MEMBER_PACKED_MAX 1024 // a packed MemberRecord within the field limits

// reg_member is one participant's presence record (a MemberRecord in Redis).
struct reg_member {
	char id[HD_ID_LEN + 1];
	char display_name[REG_DISPLAY_NAME_MAX + 1];
	bool audio_muted, video_muted, screen_sharing, recording;
	int64_t joined_at_ms; // Unix ms (for an admitted waiting member: when admitted)
	char resume_token[HD_ID_LEN + 1];
	char gateway_id[REG_GATEWAY_ID_MAX + 1];
	int role;                                  // Huddle__V1__Role: ROLE_GUEST or ROLE_HOST
	int admission;                             // Huddle__V1__AdmissionState: ADMITTED or WAITING
	int64_t waiting_since_ms;                  // Unix ms; 0 unless waiting
	int64_t hand_raised_at_ms;                 // Unix ms; 0: hand down
	char client_key_hash[HD_KEY_HASH_LEN + 1]; // hex SHA-256 of the client key; "" without one
};

// reg_member_waiting and reg_member_host tell where m stands.
bool reg_member_waiting(const struct reg_member *m);
bool reg_member_host(const struct reg_member *m);

// reg_roster is a list of members: admitted ones sorted by joined_at_ms,
// waiting ones by waiting_since_ms (then id).
struct reg_roster {
	struct reg_member *members; // n entries, owned
	size_t n;
};

// reg_roster_fini frees the members and empties r.
void reg_roster_fini(struct reg_roster *r);

// reg_room is a meeting's presence: who is in the call, who waits, and
// whether an admitted host is there.
struct reg_room {
	struct reg_roster admitted;
	struct reg_roster waiting;
	bool host_present;
};

void reg_room_fini(struct reg_room *r);

// reg_room_from_hash splits an HGETALL reply of a members hash into *out,
// leaving participant `except` (may be NULL) out of the lists (not out of
// host_present) and records that do not decode out of everything.
// Returns HD_OK, HD_EINTERNAL (not an HGETALL reply), HD_ENOMEM.
hd_err reg_room_from_hash(const redisReply *rep, const char *except, struct reg_room *out);

// reg_room_read reads a meeting's presence (the meeting is not checked).
hd_err reg_room_read(struct reg_ctx *c, const char *meeting_id, struct reg_room *out, const char **why);

// Key names of a meeting (meeting_id must be a valid id).
void reg_key_members(char out[REG_KEY_MAX], const char *meeting_id);
void reg_key_seen(char out[REG_KEY_MAX], const char *meeting_id);
void reg_key_removed(char out[REG_KEY_MAX], const char *meeting_id);
void reg_key_blocked(char out[REG_KEY_MAX], const char *meeting_id);

// reg_ms_string writes ms in decimal.
void reg_ms_string(char out[REG_MS_MAX], int64_t ms);

// reg_redis_failed sets *why for a failed Redis call and passes err on
// (anything but HD_EUNAVAILABLE and HD_ENOMEM becomes HD_EINTERNAL).
hd_err reg_redis_failed(hd_err err, const char **why);

// reg_member_pack packs m as a MemberRecord into buf; returns the length, or
// 0 if it does not fit (cannot happen within the field limits).
size_t reg_member_pack(const struct reg_member *m, uint8_t buf[REG_MEMBER_PACKED_MAX]);

// reg_member_unpack reads a stored MemberRecord; false if it does not
// decode or a field is out of its limits. A record stored before admission
// existed reads as an admitted guest.
bool reg_member_unpack(const char *data, size_t len, struct reg_member *m);

// reg_member_set_media copies media (NULL: all off) into m.
void reg_member_set_media(struct reg_member *m, const Huddle__V1__MediaState *media);

// reg_member_to_pb fills p and media (both initialised here) from m; p
// borrows m's strings and points at media.
void reg_member_to_pb(const struct reg_member *m, Huddle__V1__Participant *p, Huddle__V1__MediaState *media);

// reg_member_to_waiting_pb fills w (initialised here) from m, borrowing.
void reg_member_to_waiting_pb(const struct reg_member *m, Huddle__V1__WaitingParticipant *w);

// reg_member_publish sends participant_joined (joined) or
// participant_updated for m.
void reg_member_publish(struct reg_ctx *c, const char *meeting_id, const struct reg_member *m, bool joined);

// reg_modify_outcome is what a reg_modify_fn decides for a record.
enum reg_modify_outcome {
	REG_MODIFY_WRITE,  // store the changed record
	REG_MODIFY_DELETE, // remove the member
	REG_MODIFY_SKIP,   // leave it as it is (not an error)
	REG_MODIFY_FAIL,   // leave it and fail with the fn's error
};

// reg_modify_fn changes *m in place and says what to do; on REG_MODIFY_FAIL
// it sets *err and *why. Called again on a fresh copy when the record
// changed in between, so it must not have side effects.
typedef enum reg_modify_outcome (*reg_modify_fn)(struct reg_member *m, void *arg, hd_err *err, const char **why);

// reg_modify_opts are reg_member_modify's extras; all may be zero.
struct reg_modify_opts {
	int64_t touch_ms;       // when > 0, also refresh last-seen to this time
	int64_t oldest_seen_ms; // when > 0, the member must have been seen since (else HD_ERESUMEREJECTED)
	const char *record_key; // REG_MODIFY_DELETE: also record the member's client key hash in this
	bool record_blocked;    // ... blocked set (true) or removed sorted set (false)
	int64_t now_ms;         // time of a removed entry
};

// reg_member_modify reads member participant_id of the meeting, applies fn,
// and writes (or deletes) it with a compare-and-set on the stored bytes, in
// a script so that two concurrent changes (two hosts admitting, a host and
// the member) both apply or one sees the other's result. *out gets the
// member as left (as deleted, for a delete); *outcome what fn decided (may
// be NULL). Returns HD_OK, HD_EUNKNOWNPARTICIPANT (no such member), fn's
// error, HD_ERESUMEREJECTED (see opts), HD_EUNAVAILABLE (still racing after
// REG_MEMBER_CAS_RETRIES attempts).
hd_err reg_member_modify(struct reg_ctx *c, const char *meeting_id, const char *participant_id, reg_modify_fn fn,
			 void *arg, const struct reg_modify_opts *opts, struct reg_member *out,
			 enum reg_modify_outcome *outcome, const char **why);

// reg_publish_waiting reads the meeting's waiting room and publishes
// waiting_changed. A failure is logged (the next change publishes again).
void reg_publish_waiting(struct reg_ctx *c, const char *meeting_id);

// reg_room_publish_waiting publishes waiting_changed from a room already read.
void reg_room_publish_waiting(struct reg_ctx *c, const char *meeting_id, const struct reg_room *room);

#endif
