// presence.h: who is in which meeting, kept in Redis, and the room events
// that tell gateways about it.
//
// Keys (hash-tagged per meeting so a meeting's keys share one Redis Cluster
// slot; the active set is global):
//   huddle:{<meeting>}:members  hash: participant id -> packed MemberRecord
//   huddle:{<meeting>}:seen     sorted set: participant id -> last seen, Unix ms
//   huddle:meetings:active      sorted set: meeting id -> last activity, Unix ms
// A participant is present while it is in both; every write changes the two
// together (MULTI/EXEC or a script), so they always agree.
//
// Every call takes the time as now_ms (Unix ms) so tests control the clock.
// Calls run on the thread owning c->redis. Errors give a static,
// human-readable *why: HD_EUNAVAILABLE when Redis (or the store) is down,
// HD_EINTERNAL for an unexpected Redis reply, HD_ENOMEM, plus those listed.
#ifndef REG_PRESENCE_H
#define REG_PRESENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "huddle/v1/registry.pb-c.h"
#include "registry/registry.h"

#define REG_DISPLAY_NAME_MAX 64 // bytes of UTF-8, after trimming white space
#define REG_GATEWAY_ID_MAX 255  // bytes
#define REG_HEARTBEAT_MAX 10000 // presence refs in one heartbeat

// reg_member is one participant's presence record (a MemberRecord in Redis).
struct reg_member {
	char id[HD_ID_LEN + 1];
	char display_name[REG_DISPLAY_NAME_MAX + 1];
	bool audio_muted, video_muted, screen_sharing, recording;
	int64_t joined_at_ms; // Unix ms
	char resume_token[HD_ID_LEN + 1];
	char gateway_id[REG_GATEWAY_ID_MAX + 1];
};

// reg_roster is a meeting's members sorted by joined_at_ms (then id).
struct reg_roster {
	struct reg_member *members; // n entries, owned
	size_t n;
};

// reg_roster_fini frees the members and empties r.
void reg_roster_fini(struct reg_roster *r);

// reg_join is the outcome of a join: the joiner, everyone else, the meeting.
struct reg_join {
	struct reg_member self;
	struct reg_roster others;
	struct hd_meeting meeting;
	bool resumed;
};

// reg_join_fini frees what a successful reg_presence_join left in j.
void reg_join_fini(struct reg_join *j);

// reg_presence_join adds a participant to a meeting, or resumes one when
// req->participant_id or req->resume_token is set. Fresh: a new participant
// id and resume token, published as participant_joined. Resume: the
// participant must still be present (seen within the TTL) and the token must
// match; its gateway_id and last-seen are updated, nothing is published.
// Returns HD_OK (then reg_join_fini *out), HD_EUNKNOWNMEETING,
// HD_EBADREQUEST (display name not 1..64 bytes of UTF-8 after trimming, or
// gateway_id missing or too long), HD_ERESUMEREJECTED.
hd_err reg_presence_join(struct reg_ctx *c, const Huddle__V1__RegistryJoinRequest *req, int64_t now_ms,
			 struct reg_join *out, const char **why);

// reg_presence_leave removes a participant and publishes participant_left
// (reason LEFT) when it was present, and also when a lost reply made the
// removal run twice (the first run, unseen, may have removed it): receivers
// ignore a LEFT for someone already gone. Leaving twice is HD_OK.
hd_err reg_presence_leave(struct reg_ctx *c, const char *meeting_id, const char *participant_id, const char **why);

// reg_presence_heartbeat refreshes the last-seen time of every ref still a
// member, in one Redis round trip, and sets gone[i] for each ref that is no
// longer one (expired, left, or never was). Returns HD_OK, or HD_ETOOLARGE
// for more than REG_HEARTBEAT_MAX refs.
hd_err reg_presence_heartbeat(struct reg_ctx *c, Huddle__V1__PresenceRef *const *refs, size_t n, int64_t now_ms,
			      bool *gone, const char **why);

// reg_presence_list reads a meeting's members into *out (reg_roster_fini
// it). Returns HD_OK or HD_EUNKNOWNMEETING.
hd_err reg_presence_list(struct reg_ctx *c, const char *meeting_id, struct reg_roster *out, const char **why);

// reg_presence_update_media sets a member's media state (media NULL: all
// off), copies the updated member to *out and publishes
// participant_updated. Returns HD_OK or HD_EUNKNOWNPARTICIPANT.
hd_err reg_presence_update_media(struct reg_ctx *c, const char *meeting_id, const char *participant_id,
				 const Huddle__V1__MediaState *media, int64_t now_ms, struct reg_member *out,
				 const char **why);

// reg_presence_relay publishes req->signal as a SignalRelayed event when
// both req->from and req->to are members of req->meeting_id. Returns HD_OK,
// HD_EBADREQUEST (no signal), HD_EUNKNOWNPARTICIPANT.
hd_err reg_presence_relay(struct reg_ctx *c, const Huddle__V1__RelaySignalRequest *req, const char **why);

// reg_presence_sweep removes every member not seen since now_ms minus the
// TTL and publishes participant_left (TIMED_OUT) for each one this call
// removed: the removal that wins in Redis publishes, so concurrent sweepers
// (threads or registry replicas) do not publish twice. Only when a lost
// reply made a batch of removals run twice does it publish the whole batch,
// which may repeat an event a racing leave or replica also sent; never none.
// Meetings left empty and idle for a TTL leave the active set. *expired
// counts the members it published.
// The work per call is bounded; what is left is done by the next call.
hd_err reg_presence_sweep(struct reg_ctx *c, int64_t now_ms, size_t *expired);

// reg_member_to_pb fills p and media (both initialised here) from m; p
// borrows m's strings and points at media.
void reg_member_to_pb(const struct reg_member *m, Huddle__V1__Participant *p, Huddle__V1__MediaState *media);

#endif
