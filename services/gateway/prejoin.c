// prejoin.c: ICE servers for the pre-join connectivity check. The TURN
// credentials are minted like a participant's (turn.h) but live only
// PREJOIN_TURN_TTL and name the connection ("prejoin-<session id>"), not a
// participant: they let a browser test relay before it joins, nothing else.
#include "gateway/prejoin.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "gateway/session.h"
#include "gateway/turn.h"

// PREJOIN_USER_MAX: "prejoin-" and a session id in decimal.
#define PREJOIN_USER_MAX 32

void gw_prejoin_op_ice_servers(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	const char *id = cm->ice_servers->meeting_id;
	char why[96];
	if (id == NULL || id[0] == '\0') {
		gw_session_send_error(s, cm->request_id, HD_EBADREQUEST, "ice_servers needs a meeting_id");
		return;
	}
	if (!hd_id_valid(id)) {
		gw_session_send_error(s, cm->request_id, HD_EUNKNOWNMEETING, "no meeting has that id");
		return;
	}
	// PREJOIN_ICE_RATE per GW_PREJOIN_WINDOW_S: a request costs the window's
	// seconds, the bucket refills PREJOIN_ICE_RATE tokens a second.
	uint32_t rate = (uint32_t)gw.cfg.prejoin_ice_rate;
	if (!gw_ratelimit_take_n(&s->prejoin_rl, GW_PREJOIN_WINDOW_S, rate, rate * GW_PREJOIN_WINDOW_S, hd_mono_ms())) {
		gw.stats.rate_limited++;
		snprintf(why, sizeof(why), "too many connection checks; at most %u per %d seconds", rate,
			 GW_PREJOIN_WINDOW_S);
		gw_session_send_error(s, cm->request_id, HD_ERATELIMITED, why);
		return;
	}
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__GetMeetingRequest gm = HUDDLE__V1__GET_MEETING_REQUEST__INIT;
	gm.meeting_id = (char *)id;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_GET_MEETING;
	req.get_meeting = &gm;
	if (gw_registry_call(GW_OP_ICE_SERVERS, s->id, cm->request_id, &req) != HD_OK)
		gw_session_send_error(s, cm->request_id, HD_EUNAVAILABLE, "the registry is unavailable");
}

void gw_prejoin_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	struct gw_session *s = gw_session_find(p->conn_id);
	if (s == NULL)
		return; // closed meanwhile
	if (gw_session_registry_failed(s, p->request_id, err, r))
		return;
	if (r->body_case != HUDDLE__V1__REGISTRY_REPLY__BODY_GET_MEETING || r->get_meeting->meeting == NULL) {
		gw_session_send_error(s, p->request_id, HD_EINTERNAL, "bad reply from the registry");
		return;
	}
	Huddle__V1__IceServersReply reply = HUDDLE__V1__ICE_SERVERS_REPLY__INIT;
	Huddle__V1__IceServer stun = HUDDLE__V1__ICE_SERVER__INIT, turn = HUDDLE__V1__ICE_SERVER__INIT;
	Huddle__V1__IceServer *servers[2];
	size_t n = 0;
	char user[PREJOIN_USER_MAX], username[GW_TURN_USERNAME_MAX], credential[GW_TURN_CREDENTIAL_MAX];
	int64_t now_s = (int64_t)time(NULL);
	if (gw.n_stun > 0) {
		stun.n_urls = gw.n_stun;
		stun.urls = gw.stun_urls;
		servers[n++] = &stun;
	}
	snprintf(user, sizeof(user), "prejoin-%" PRIu64, (uint64_t)s->id);
	if (gw.n_turn > 0) {
		if (gw_turn_credentials(gw.cfg.turn_secret, user, now_s, gw.cfg.prejoin_turn_ttl_s, username,
					credential) == HD_OK) {
			turn.n_urls = gw.n_turn;
			turn.urls = gw.turn_urls;
			turn.username = username;
			turn.credential = credential;
			servers[n++] = &turn;
		} else {
			HD_WARN("session %llu: no pre-join TURN credentials", (unsigned long long)s->id);
		}
	}
	reply.n_ice_servers = n;
	reply.ice_servers = servers;
	reply.expires_at_ms = (now_s + gw.cfg.prejoin_turn_ttl_s) * 1000;
	gw.stats.prejoin_ice++;
	gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_ICE_SERVERS, &reply);
}
