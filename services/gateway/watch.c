// watch.c: "Watch together" requests and events on the WebSocket side.
#include "gateway/watch.h"

#include "common/log.h"
#include "common/util.h"
#include "gateway/session.h"

void gw_watch_op(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	const Huddle__V1__WatchRequest *w = cm->watch;
	if (s->state != GW_SESSION_JOINED) {
		gw_session_send_error(s, cm->request_id, HD_ENOTJOINED, NULL);
		return;
	}
	if (w->action == HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_UNSPECIFIED) {
		gw_session_send_error(s, cm->request_id, HD_EBADREQUEST, "action must be a WatchAction");
		return;
	}
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RegistryWatchRequest rw = HUDDLE__V1__REGISTRY_WATCH_REQUEST__INIT;
	rw.meeting_id = s->meeting_id;
	rw.participant_id = s->participant_id;
	rw.action = w->action;
	rw.url = w->url;
	rw.position_ms = w->position_ms;
	rw.rate = w->rate;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_WATCH;
	req.watch = &rw;
	if (gw_registry_call(GW_OP_WATCH, s->id, cm->request_id, &req) != HD_OK)
		gw_session_send_error(s, cm->request_id, HD_EUNAVAILABLE, "the registry is unavailable");
}

void gw_watch_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	struct gw_session *s = gw_session_find(p->conn_id);
	if (s == NULL || gw_session_registry_failed(s, p->request_id, err, r))
		return;
	Huddle__V1__WatchReply ok = HUDDLE__V1__WATCH_REPLY__INIT;
	if (r->body_case == HUDDLE__V1__REGISTRY_REPLY__BODY_WATCH)
		ok.state = gw_watch_stamp(r->watch->state);
	gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_WATCH, &ok);
}

Huddle__V1__WatchState *gw_watch_stamp(Huddle__V1__WatchState *state)
{
	if (state != NULL)
		state->server_time_ms = hd_now_ms();
	return state;
}

void gw_watch_on_event(struct gw_session *s, Huddle__V1__WatchStateEvent *ev)
{
	if (!gw_session_admitted(s) || ev->state == NULL)
		return;
	gw_watch_stamp(ev->state);
	gw_session_send_body(s, 0, HUDDLE__V1__SERVER_MESSAGE__BODY_WATCH_STATE_EVENT, ev);
}
