// sfu.c: SFU signaling between browsers and huddle-media (sfu.h).
#include "gateway/sfu.h"

#include <string.h>
#include <uthash.h>

#include "common/log.h"
#include "gateway/access.h"
#include "gateway/room.h"

// reply_error: the error huddle-media's reply r carries (HD_OK: none).
static hd_err reply_error(const Huddle__V1__MediaReply *r)
{
	if (r->error != NULL && r->error->code != HUDDLE__V1__ERROR_CODE__ERROR_CODE_OK)
		return (hd_err)r->error->code;
	return HD_OK;
}

void gw_sfu_op(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	if (s->state != GW_SESSION_JOINED) {
		gw_session_send_error(s, cm->request_id, HD_ENOTJOINED, NULL);
		return;
	}
	if (s->media_mode != HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_SFU) {
		gw_session_send_error(s, cm->request_id, HD_EFORBIDDEN,
				      "this meeting's media goes peer to peer (mesh mode); SFU signaling is for "
				      "meetings in SFU mode");
		return;
	}
	if (cm->sfu == NULL || cm->sfu->body_case == HUDDLE__V1__SFU_REQUEST__BODY__NOT_SET) {
		gw_session_send_error(s, cm->request_id, HD_EBADREQUEST, "an SfuRequest needs a body");
		return;
	}
	if (gw.media == NULL) {
		gw_session_send_error(s, cm->request_id, HD_EUNAVAILABLE,
				      "SFU signaling is not available on this gateway (no MEDIA_URL)");
		return;
	}
	Huddle__V1__MediaRequest req = HUDDLE__V1__MEDIA_REQUEST__INIT;
	Huddle__V1__MediaSfuRequest sfu = HUDDLE__V1__MEDIA_SFU_REQUEST__INIT;
	sfu.meeting_id = s->meeting_id;
	sfu.participant_id = s->participant_id;
	sfu.request = cm->sfu;
	sfu.admitted = true; // checked above: huddle-media lets them publish
	req.body_case = HUDDLE__V1__MEDIA_REQUEST__BODY_SFU;
	req.sfu = &sfu;
	hd_err err = gw_media_call(GW_OP_SFU, s->id, cm->request_id, &req);
	if (err != HD_OK) {
		gw_session_send_error(s, cm->request_id, err == HD_ECLOSED ? HD_EUNAVAILABLE : err,
				      "huddle-media cannot be reached");
		return;
	}
	s->sfu_used = true;
}

void gw_sfu_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__MediaReply *r)
{
	struct gw_session *s = gw_session_find(p->conn_id);
	if (s == NULL)
		return; // gone meanwhile
	if (err == HD_OK)
		err = reply_error(r);
	if (err != HD_OK) {
		const char *why =
			r != NULL && r->error != NULL && r->error->message != NULL && r->error->message[0]
				? r->error->message
				: (err == HD_ETIMEOUT || err == HD_EUNAVAILABLE ? "huddle-media did not answer" : NULL);
		gw_session_send_error(s, p->request_id, err == HD_ECLOSED ? HD_EUNAVAILABLE : err, why);
		return;
	}
	if (r->body_case != HUDDLE__V1__MEDIA_REPLY__BODY_SFU || r->sfu == NULL) {
		gw_session_send_error(s, p->request_id, HD_EINTERNAL, "huddle-media answered with no SfuReply");
		return;
	}
	gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_SFU, r->sfu);
}

void gw_sfu_on_notice_reply(const struct gw_pending *p, hd_err err, Huddle__V1__MediaReply *r)
{
	(void)p;
	if (err == HD_OK && r != NULL)
		err = reply_error(r);
	if (err != HD_OK)
		HD_WARN("huddle-media: a leave or revoke sent for a participant failed: %s", hd_strerror(err));
}

// deliver sends ev to s if s is an admitted member.
static void deliver(struct gw_session *s, Huddle__V1__SfuEvent *ev)
{
	if (s->state == GW_SESSION_JOINED && s->admission == GW_ADMISSION_ADMITTED)
		gw_session_send_body(s, 0, HUDDLE__V1__SERVER_MESSAGE__BODY_SFU_EVENT, ev);
}

void gw_sfu_on_event(const uint8_t *data, size_t len)
{
	Huddle__V1__MediaEvent *me = huddle__v1__media_event__unpack(NULL, len, data);
	if (me == NULL) {
		HD_WARN("undecodable MediaEvent (%zu bytes) dropped", len);
		return;
	}
	struct gw_room *room = NULL;
	if (me->meeting_id != NULL && me->event != NULL)
		HASH_FIND_STR(gw.rooms, me->meeting_id, room);
	if (room != NULL) {
		if (me->participant_id != NULL && me->participant_id[0] != '\0') {
			struct gw_session *s = gw_room_find_member(room, me->participant_id);
			if (s != NULL)
				deliver(s, me->event);
		} else {
			struct gw_session *s, *tmp;
			HASH_ITER(hh_member, room->members, s, tmp)
			deliver(s, me->event);
		}
	}
	huddle__v1__media_event__free_unpacked(me, NULL);
}

void gw_sfu_left(struct gw_session *s, bool removed)
{
	if (!s->sfu_used || gw.media == NULL || s->meeting_id[0] == '\0' || s->participant_id[0] == '\0')
		return;
	s->sfu_used = false;
	Huddle__V1__MediaRequest req = HUDDLE__V1__MEDIA_REQUEST__INIT;
	Huddle__V1__MediaSfuRequest sfu = HUDDLE__V1__MEDIA_SFU_REQUEST__INIT;
	Huddle__V1__SfuRequest sr = HUDDLE__V1__SFU_REQUEST__INIT;
	Huddle__V1__SfuLeave leave = HUDDLE__V1__SFU_LEAVE__INIT;
	Huddle__V1__MediaRevokeRequest revoke = HUDDLE__V1__MEDIA_REVOKE_REQUEST__INIT;
	if (removed) {
		revoke.meeting_id = s->meeting_id;
		revoke.participant_id = s->participant_id;
		req.body_case = HUDDLE__V1__MEDIA_REQUEST__BODY_REVOKE;
		req.revoke = &revoke;
		if (gw_media_call(GW_OP_SFU_NOTICE, 0, 0, &req) != HD_OK)
			HD_WARN("huddle-media: could not revoke a removed participant's publisher");
		req = (Huddle__V1__MediaRequest)HUDDLE__V1__MEDIA_REQUEST__INIT;
	}
	sr.body_case = HUDDLE__V1__SFU_REQUEST__BODY_LEAVE;
	sr.leave = &leave;
	sfu.meeting_id = s->meeting_id;
	sfu.participant_id = s->participant_id;
	sfu.request = &sr;
	req.body_case = HUDDLE__V1__MEDIA_REQUEST__BODY_SFU;
	req.sfu = &sfu;
	if (gw_media_call(GW_OP_SFU_NOTICE, 0, 0, &req) != HD_OK)
		HD_WARN("huddle-media: could not tell it a participant left");
}
