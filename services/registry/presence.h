// presence.h: who is in which meeting, kept in Redis, and the room events
// that tell gateways about it.
//
// Keys: those of members.h, and (global) the active set:
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
#include "registry/members.h"
#include "registry/mode.h"
#include "registry/registry.h"

#define REG_HEARTBEAT_MAX 10000 // presence refs in one heartbeat
#define REG_CLIENT_KEY_MAX 64   // characters of [A-Za-z0-9_-] in a client key

// reg_join is the outcome of a join: the joiner, everyone else, the meeting.
struct reg_join {
	struct reg_member self;    // self.admission: ADMITTED or WAITING, self.role
	struct reg_roster others;  // everyone else admitted; empty while waiting
	struct reg_roster waiting; // the waiting room, for an admitted host only
	struct hd_meeting meeting;
	bool host_present; // an admitted host is in the meeting (self included)
	bool resumed;
	struct reg_mode mode; // an admitted joiner's meeting media mode, this join counted
};

// reg_join_fini frees what a successful reg_presence_join left in j.
void reg_join_fini(struct reg_join *j);

// reg_presence_join adds a participant to a meeting, or resumes one when
// req->participant_id or req->resume_token is set (access.md, "Join").
// Fresh: the role (HOST for a valid req->host_key or a host grant), the name
// (the grant's, if it has one) and the admission by the meeting's access
// mode; a new participant id and resume token. An admitted joiner is
// published as participant_joined; a waiting one as waiting_changed (a host
// also publishes waiting_changed: host_present may have changed). Resume:
// the participant must still be present (seen within the TTL) and the token
// must match; its gateway_id and last-seen are updated, role and admission
// kept, nothing is published.
// Returns HD_OK (then reg_join_fini *out), HD_EUNKNOWNMEETING,
// HD_EBADREQUEST (display name not 1..64 bytes of UTF-8 after trimming,
// client_key not 1..64 of [A-Za-z0-9_-], gateway_id missing or too long),
// HD_EFORBIDDEN (a host key that is not one of this meeting), HD_EBLOCKED,
// HD_EMEETINGLOCKED, HD_ETOKENINVALID (a token-only meeting without a
// grant), HD_ERESUMEREJECTED.
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

// reg_presence_list reads a meeting's admitted members into *out
// (reg_roster_fini it); waiting members are in no roster. Returns HD_OK or
// HD_EUNKNOWNMEETING.
hd_err reg_presence_list(struct reg_ctx *c, const char *meeting_id, struct reg_roster *out, const char **why);

// reg_presence_update_media sets a member's media state (media NULL: all
// off), copies the updated member to *out and publishes
// participant_updated. Returns HD_OK, HD_EUNKNOWNPARTICIPANT, HD_EFORBIDDEN
// (a waiting member).
hd_err reg_presence_update_media(struct reg_ctx *c, const char *meeting_id, const char *participant_id,
				 const Huddle__V1__MediaState *media, int64_t now_ms, struct reg_member *out,
				 const char **why);

// reg_presence_relay publishes req->signal as a SignalRelayed event when
// both req->from and req->to are admitted members of req->meeting_id.
// Returns HD_OK, HD_EBADREQUEST (no signal), HD_EUNKNOWNPARTICIPANT (either
// end not a member, or the recipient waiting), HD_EFORBIDDEN (the sender
// waiting).
hd_err reg_presence_relay(struct reg_ctx *c, const Huddle__V1__RelaySignalRequest *req, const char **why);

// reg_presence_sweep removes every member not seen since now_ms minus the
// TTL and publishes participant_left (TIMED_OUT) for each one this call
// removed (waiting_changed instead for a waiting one, and also for a host): the removal that wins in Redis publishes, so concurrent sweepers
// (threads or registry replicas) do not publish twice. Only when a lost
// reply made a batch of removals run twice does it publish the whole batch,
// which may repeat an event a racing leave or replica also sent; never none.
// Meetings left empty and idle for a TTL leave the active set. *expired
// counts the members it published.
// The work per call is bounded; what is left is done by the next call.
hd_err reg_presence_sweep(struct reg_ctx *c, int64_t now_ms, size_t *expired);

// reg_sweep_hold is a sweeper's memory of Redis outages. While Redis (or the
// registry itself) was unreachable no heartbeat could refresh anyone, so the
// members' last-seen times say nothing about who is still there: nobody is
// expired until one TTL after Redis answers again (heartbeats come more than
// twice a TTL). Start with {.down = true}: a registry that was down missed
// heartbeats as well.
struct reg_sweep_hold {
	bool down;        // the last sweep (or the start) found Redis unreachable
	int64_t until_ms; // no expiry before this (same clock as now_ms)
};

// reg_presence_sweep_held runs reg_presence_sweep, unless Redis has not
// answered for a TTL since it was last unreachable (h says, and is updated):
// then it expires nobody (*expired 0) and only moves back the SFU meetings
// whose move is due (mode.h), so the media mode policy does not wait for the
// hold. Returns what reg_presence_sweep returns; HD_EUNAVAILABLE also from the
// PING it sends while Redis was last found down.
hd_err reg_presence_sweep_held(struct reg_ctx *c, struct reg_sweep_hold *h, int64_t now_ms, size_t *expired);

#endif
