// sfu.h: each participant's JSEP through Janus VideoRoom (issue 14; the
// VideoRoom API: https://janus.conf.meetecho.com/docs/videoroom). A
// participant of a meeting gets, lazily, two handles in huddle-media's Janus
// session: a publisher (joinandconfigure, then configure, with the
// browser's offer, Janus's answer back) and a multistream subscriber (join
// as subscriber / update gives Janus's offer, start takes the browser's
// answer, configure picks simulcast layers). The publisher joins the room
// with the participant's id as its feed id and display, the room's pin and
// the participant's token (rooms.h: derived, so only a participant that
// media_room_allow let in gets through); subscribers give their own
// publisher's private_id (the rooms require one), so a participant that
// subscribes before publishing joins as a publisher first, without media.
//
// Events (MediaEvent on the PUB socket, topic = meeting id): the whole
// publisher list of a meeting whenever it changes, Janus-initiated
// subscriber offers, talking / stopped talking, and media stopped when
// Janus is lost.
#ifndef MEDIA_SFU_H
#define MEDIA_SFU_H

#include <nng/nng.h>
#include <stddef.h>

#include "common/err.h"
#include "huddle/v1/media.pb-c.h"
#include "media/janus.h"
#include "media/rooms.h"

// MEDIA_SDP_MAX is the largest offer or answer a request may carry, bytes
// (64 KiB; a 3-layer simulcast camera, a screen and audio are ~10 KiB).
#define MEDIA_SDP_MAX 65536
// MEDIA_CANDIDATE_MAX is the largest ICE candidate line (or mid) a trickle
// may carry, bytes.
#define MEDIA_CANDIDATE_MAX 1024
// MEDIA_FEEDS_MAX is the most feeds one subscribe may name
// (MEDIA_PUBLISHERS_MAX's bound, 256, times a camera, a mic and a screen).
#define MEDIA_FEEDS_MAX 768
// MEDIA_MID_MAX is the longest mid a feed or substream may name, bytes.
#define MEDIA_MID_MAX 64

struct media_sfu;

// media_sfu_open makes the participants' table. rooms is borrowed for the
// table's life; pub is the socket MediaEvents go to (id 0: none). It
// installs its event callback on rooms->janus. Returns HD_OK (*out the
// caller's) or HD_ENOMEM.
hd_err media_sfu_open(struct media_sfu **out, const struct media_rooms *rooms, nng_socket pub);

// media_sfu_close frees s (the handles stay in Janus until its session
// expires). Call it once no worker uses s and after media_janus_close (the
// event callback may run until then). NULL is a no-op.
void media_sfu_close(struct media_sfu *s);

// media_sfu_check validates req without Janus: SDPs over MEDIA_SDP_MAX,
// candidates or mids over their limits, a trickle without a handle, feeds
// or substreams that name no valid participant, over MEDIA_FEEDS_MAX feeds,
// an empty body. Returns HD_OK, HD_EBADREQUEST or HD_ETOOLARGE with why
// (MEDIA_JANUS_WHY_MAX bytes) naming the field and the limit.
hd_err media_sfu_check(const Huddle__V1__SfuRequest *req, char *why);

// media_sfu_handle runs one participant's SfuRequest (already checked by
// media_sfu_check; ids valid) on a REP worker thread. A participant's
// requests run one at a time. For publish and subscribe *sdp is set to
// Janus's answer / offer (malloc'd, the caller's to free; "" when an update
// needed no renegotiation); NULL for the others. Errors, why
// (MEDIA_JANUS_WHY_MAX bytes) set: HD_EUNKNOWNMEETING (no room for the
// meeting), HD_EFORBIDDEN (the participant was not allowed, or was
// revoked), HD_EUNKNOWNPARTICIPANT (a feed that is not publishing),
// HD_EBADREQUEST (trickle, start or configure on a handle not set up yet),
// HD_EUNAVAILABLE (Janus down), HD_ETIMEOUT, HD_EINTERNAL (Janus refused:
// its reason), HD_ENOMEM, HD_ECLOSED.
hd_err media_sfu_handle(struct media_sfu *s, const char *meeting, const char *participant,
			const Huddle__V1__SfuRequest *req, char **sdp, char *why);

// media_sfu_forget makes a participant (participant NULL: everyone in the
// meeting) leave as SfuLeave does: their handles are detached, so they stop
// publishing and receiving, and their next request starts over. For revoke
// (removed by a host), destroy_room and cleanup. Errors from Janus are
// logged at debug (a handle of a lost session is gone already).
void media_sfu_forget(struct media_sfu *s, const char *meeting, const char *participant);

#endif
