// hosts.h: what hosts do to a meeting (admit, moderate, set its access,
// end it), what every admitted participant does besides media (hands,
// reactions), and the live state hosts read (waiting rooms, a space).
// access.md, "Host actions".
//
// A host action names its Actor: the participant id of an ADMITTED HOST
// member of that meeting, or a host key valid for the meeting (its own or
// its space's). Anyone else gets HD_EFORBIDDEN and changes nothing.
//
// Calls run on the thread owning c->redis; now_ms is Unix ms. Errors give a
// static, human-readable *why: HD_EUNAVAILABLE when Redis or the store is
// down, HD_EINTERNAL, HD_ENOMEM, plus those listed.
#ifndef REG_HOSTS_H
#define REG_HOSTS_H

#include <stdint.h>

#include "huddle/v1/registry.pb-c.h"
#include "registry/members.h"
#include "registry/registry.h"

#define REG_ADMIT_IDS_MAX 1000 // participant ids in one admit request

// reg_host_admit moves waiting participants (req->participant_ids, or all
// of them with req->all) into the call, or with req->deny removes them.
// Each one changed publishes admission (ADMITTED, then participant_joined;
// or DENIED), then one waiting_changed. Ids unknown or no longer waiting are
// skipped; each change is a compare-and-set, so two hosts admitting the same
// participant at once admit it once. *done gets the changed members (as
// admitted, or as they were when denied; reg_roster_fini it).
// Returns HD_OK, HD_EUNKNOWNMEETING, HD_EFORBIDDEN, HD_ETOOLARGE (more than
// REG_ADMIT_IDS_MAX ids).
hd_err reg_host_admit(struct reg_ctx *c, const Huddle__V1__RegistryAdmitRequest *req, int64_t now_ms,
		      struct reg_roster *done, const char **why);

// reg_host_moderate does req->action to member req->participant_id:
// MUTE, CAMERA_OFF publish moderated only (their client acts); REMOVE and
// BLOCK delete the member and record its client key hash in the meeting's
// removed (REG_REMOVED_TTL_S) or blocked set, then publish moderated and
// participant_left (REMOVED) (waiting_changed for a waiting one);
// MAKE_HOST publishes participant_updated, moderated, waiting_changed;
// LOWER_HAND participant_updated and moderated. Returns HD_OK,
// HD_EUNKNOWNMEETING, HD_EFORBIDDEN, HD_EBADREQUEST (action),
// HD_EUNKNOWNPARTICIPANT (not a member; only REMOVE and BLOCK act on a
// waiting one).
hd_err reg_host_moderate(struct reg_ctx *c, const Huddle__V1__RegistryModerateRequest *req, int64_t now_ms,
			 const char **why);

// reg_host_set_access stores the meeting's access mode, publishes
// meeting_updated and, for OPEN, admits everyone waiting; *out gets the
// meeting as stored. Returns HD_OK, HD_EUNKNOWNMEETING, HD_EFORBIDDEN,
// HD_EBADREQUEST (not a mode).
hd_err reg_host_set_access(struct reg_ctx *c, const Huddle__V1__RegistrySetAccessRequest *req, int64_t now_ms,
			   struct hd_meeting *out, const char **why);

// reg_host_end removes every member and waiting participant and clears the
// removed set, then publishes meeting_ended (by the actor's name, "" for a
// key), participant_left (ENDED) for each admitted member and an empty
// waiting_changed. Returns HD_OK, HD_EUNKNOWNMEETING, HD_EFORBIDDEN.
hd_err reg_host_end(struct reg_ctx *c, const Huddle__V1__RegistryEndMeetingRequest *req, const char **why);

// reg_presence_hand raises (hand_raised_at_ms = now_ms, kept when already
// up) or lowers (0) an admitted member's hand and publishes
// participant_updated when it changed; *out gets the member. Returns HD_OK,
// HD_EUNKNOWNPARTICIPANT, HD_EFORBIDDEN (waiting).
hd_err reg_presence_hand(struct reg_ctx *c, const Huddle__V1__RegistryHandRequest *req, int64_t now_ms,
			 struct reg_member *out, const char **why);

// reg_reaction_emoji lists the reactions everyone may send (UTF-8): the
// REACTION_EMOJI of access.md, 👍 👏 😂 ❤️ 🎉 😮; NULL-terminated.
extern const char *const reg_reaction_emoji[];

// reg_presence_reaction publishes an admitted member's reaction. Returns
// HD_OK, HD_EBADREQUEST (not one of reg_reaction_emoji),
// HD_EUNKNOWNPARTICIPANT, HD_EFORBIDDEN (waiting).
hd_err reg_presence_reaction(struct reg_ctx *c, const Huddle__V1__RegistryReactionRequest *req, const char **why);

// reg_presence_waiting reads a meeting's presence (waiting room, admitted,
// host_present) into *out (reg_room_fini it). Returns HD_OK,
// HD_EUNKNOWNMEETING.
hd_err reg_presence_waiting(struct reg_ctx *c, const char *meeting_id, struct reg_room *out, const char **why);

// reg_space_status is a space with its meetings and each one's presence.
struct reg_space_status {
	struct hd_space space;
	struct hd_meeting *meetings; // n, in hd_space_meetings order; owned
	struct reg_room *rooms;      // n, rooms[i] of meetings[i]; owned
	size_t n;
};

void reg_space_status_fini(struct reg_space_status *s);

// reg_space_read opens the space of key and reads every meeting's presence
// in one Redis round trip. Returns HD_OK (then reg_space_status_fini *out),
// HD_EFORBIDDEN (no space has that key).
hd_err reg_space_read(struct reg_ctx *c, const char *key, struct reg_space_status *out, const char **why);

#endif
