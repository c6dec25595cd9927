// sfu.c: participants' publisher and subscriber handles and the VideoRoom
// requests behind MediaRequest.sfu (see sfu.h); the event callback turns
// Janus's unsolicited messages to the participants' handles over to events.c.
#include "media/sfu.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "media/events.h"

// VideoRoom error codes (janus_videoroom.c, JANUS_VIDEOROOM_ERROR_*).
#define VR_NO_SUCH_ROOM 426
#define VR_NO_SUCH_FEED 428
#define VR_UNAUTHORIZED 433
// PEER_RETRIES bounds how often a request looks its participant up again
// when a leave removed the entry while the request waited for it.
#define PEER_RETRIES 4
// MEDIA_LOST_MEETINGS_MAX bounds the meetings told at once that Janus was
// lost (a stack array on the service thread).
#define MEDIA_LOST_MEETINGS_MAX 1024
// U64_TEXT_MAX holds a uint64_t in decimal and its NUL (21 bytes).
#define U64_TEXT_MAX 24

// peer is one participant of one meeting and their two handles. Linked in
// s->peers until a leave; freed when the last request using it is over.
struct peer {
	struct peer *next;
	char meeting[HD_ID_LEN + 1];
	char participant[HD_ID_LEN + 1];
	pthread_mutex_t op; // held for the whole of one request: a participant's requests run in turn
	int refs;           // requests using it (s->mu)
	bool gone;          // left: no longer in s->peers (s->mu)
	// Under s->mu (the event callback reads them); written with op held too.
	uint64_t session;  // the Janus session the handles belong to
	uint64_t pub, sub; // handle ids, 0: not attached
	// Under op only.
	bool joined;         // the publisher handle is in the room
	bool publishing;     // ... and sends media
	bool subscribed;     // the subscriber handle joined
	uint64_t private_id; // the publisher's, which the subscriber presents
};

struct media_sfu {
	const struct media_rooms *rooms;
	struct media_events *events;
	pthread_mutex_t mu; // guards peers and the peers' fields marked so
	struct peer *peers;
};

static hd_err oom(char *why)
{
	snprintf(why, MEDIA_JANUS_WHY_MAX, "out of memory");
	return HD_ENOMEM;
}

// ---- checks (pure) ----

static hd_err bad(char *why, hd_err err, const char *text)
{
	snprintf(why, MEDIA_JANUS_WHY_MAX, "%s", text);
	return err;
}

hd_err media_sfu_check(const Huddle__V1__SfuRequest *req, char *why)
{
	switch (req->body_case) {
	case HUDDLE__V1__SFU_REQUEST__BODY_PUBLISH:
		if (req->publish->offer_sdp == NULL || req->publish->offer_sdp[0] == '\0')
			return bad(why, HD_EBADREQUEST, "publish.offer_sdp is empty");
		if (strlen(req->publish->offer_sdp) > MEDIA_SDP_MAX)
			return bad(why, HD_EBADREQUEST,
				   "publish.offer_sdp is over MEDIA_SDP_MAX (" HD_XSTR(MEDIA_SDP_MAX) " bytes)");
		return HD_OK;
	case HUDDLE__V1__SFU_REQUEST__BODY_TRICKLE: {
		const Huddle__V1__SfuTrickle *t = req->trickle;
		if (t->handle != HUDDLE__V1__SFU_HANDLE__SFU_HANDLE_PUBLISHER &&
		    t->handle != HUDDLE__V1__SFU_HANDLE__SFU_HANDLE_SUBSCRIBER)
			return bad(why, HD_EBADREQUEST, "trickle.handle is neither PUBLISHER nor SUBSCRIBER");
		if (t->completed)
			return HD_OK;
		if (t->candidate == NULL || t->candidate[0] == '\0')
			return bad(why, HD_EBADREQUEST, "trickle.candidate is empty (and completed is false)");
		if (strlen(t->candidate) > MEDIA_CANDIDATE_MAX || strlen(t->sdp_mid) > MEDIA_MID_MAX)
			return bad(
				why, HD_EBADREQUEST,
				"trickle.candidate or sdp_mid is over MEDIA_CANDIDATE_MAX (" HD_XSTR(
					MEDIA_CANDIDATE_MAX) " bytes) or MEDIA_MID_MAX (" HD_XSTR(MEDIA_MID_MAX) ")");
		return HD_OK;
	}
	case HUDDLE__V1__SFU_REQUEST__BODY_SUBSCRIBE:
		if (req->subscribe->n_feeds == 0)
			return bad(why, HD_EBADREQUEST, "subscribe.feeds is empty");
		if (req->subscribe->n_feeds > MEDIA_FEEDS_MAX)
			return bad(why, HD_ETOOLARGE,
				   "subscribe.feeds has more than MEDIA_FEEDS_MAX (" HD_XSTR(MEDIA_FEEDS_MAX) ")");
		for (size_t i = 0; i < req->subscribe->n_feeds; i++) {
			if (!hd_id_valid(req->subscribe->feeds[i]->participant_id))
				return bad(why, HD_EBADREQUEST, "subscribe.feeds[].participant_id is not an id");
			if (strlen(req->subscribe->feeds[i]->mid) > MEDIA_MID_MAX)
				return bad(why, HD_EBADREQUEST,
					   "subscribe.feeds[].mid is over MEDIA_MID_MAX (" HD_XSTR(MEDIA_MID_MAX) ")");
		}
		return HD_OK;
	case HUDDLE__V1__SFU_REQUEST__BODY_START:
		if (req->start->answer_sdp == NULL || req->start->answer_sdp[0] == '\0')
			return bad(why, HD_EBADREQUEST, "start.answer_sdp is empty");
		if (strlen(req->start->answer_sdp) > MEDIA_SDP_MAX)
			return bad(why, HD_EBADREQUEST,
				   "start.answer_sdp is over MEDIA_SDP_MAX (" HD_XSTR(MEDIA_SDP_MAX) " bytes)");
		return HD_OK;
	case HUDDLE__V1__SFU_REQUEST__BODY_CONFIGURE:
		if (req->configure->n_streams == 0)
			return bad(why, HD_EBADREQUEST, "configure.streams is empty");
		if (req->configure->n_streams > MEDIA_FEEDS_MAX)
			return bad(why, HD_ETOOLARGE,
				   "configure.streams has more than MEDIA_FEEDS_MAX (" HD_XSTR(MEDIA_FEEDS_MAX) ")");
		for (size_t i = 0; i < req->configure->n_streams; i++) {
			const Huddle__V1__SfuSubstream *st = req->configure->streams[i];
			if (st->mid[0] == '\0' || strlen(st->mid) > MEDIA_MID_MAX)
				return bad(why, HD_EBADREQUEST,
					   "configure.streams[].mid is empty or over MEDIA_MID_MAX (" HD_XSTR(
						   MEDIA_MID_MAX) ")");
			if (st->substream > 2)
				return bad(why, HD_EBADREQUEST, "configure.streams[].substream is over 2");
		}
		return HD_OK;
	case HUDDLE__V1__SFU_REQUEST__BODY_UNPUBLISH:
	case HUDDLE__V1__SFU_REQUEST__BODY_LEAVE:
		return HD_OK;
	default:
		return bad(why, HD_EBADREQUEST, "sfu.request carries no body");
	}
}

// ---- the participants' table ----

// peer_get finds or makes the participant's entry and takes its op lock.
// Returns NULL when out of memory.
static struct peer *peer_get(struct media_sfu *s, const char *meeting, const char *participant)
{
	for (int attempt = 0; attempt < PEER_RETRIES; attempt++) {
		pthread_mutex_lock(&s->mu);
		struct peer *p = s->peers;
		while (p != NULL && (strcmp(p->meeting, meeting) != 0 || strcmp(p->participant, participant) != 0))
			p = p->next;
		if (p == NULL) {
			if ((p = calloc(1, sizeof(*p))) == NULL) {
				pthread_mutex_unlock(&s->mu);
				return NULL;
			}
			snprintf(p->meeting, sizeof(p->meeting), "%s", meeting);
			snprintf(p->participant, sizeof(p->participant), "%s", participant);
			pthread_mutex_init(&p->op, NULL);
			p->next = s->peers;
			s->peers = p;
		}
		p->refs++;
		pthread_mutex_unlock(&s->mu);
		pthread_mutex_lock(&p->op);
		pthread_mutex_lock(&s->mu);
		bool gone = p->gone;
		pthread_mutex_unlock(&s->mu);
		if (!gone)
			return p;
		// A leave ran while this request waited: look the participant up anew.
		pthread_mutex_unlock(&p->op);
		pthread_mutex_lock(&s->mu);
		bool last = --p->refs == 0;
		pthread_mutex_unlock(&s->mu);
		if (last) {
			pthread_mutex_destroy(&p->op);
			free(p);
		}
	}
	return NULL;
}

// peer_put ends a request's use of p (op held), freeing it when it left and
// nothing else uses it.
static void peer_put(struct media_sfu *s, struct peer *p)
{
	pthread_mutex_unlock(&p->op);
	pthread_mutex_lock(&s->mu);
	bool last = --p->refs == 0 && p->gone;
	pthread_mutex_unlock(&s->mu);
	if (last) {
		pthread_mutex_destroy(&p->op);
		free(p);
	}
}

// peer_remove takes p out of the table (op held): later requests start over.
static void peer_remove(struct media_sfu *s, struct peer *p)
{
	pthread_mutex_lock(&s->mu);
	for (struct peer **q = &s->peers; *q != NULL; q = &(*q)->next)
		if (*q == p) {
			*q = p->next;
			break;
		}
	p->gone = true;
	p->pub = p->sub = 0;
	pthread_mutex_unlock(&s->mu);
}

// peer_fresh forgets p's handles when they belong to an earlier Janus
// session (Janus lost it: they no longer exist) (op held).
static void peer_fresh(struct media_sfu *s, struct peer *p)
{
	struct media_janus_stats st;
	media_janus_get_stats(s->rooms->janus, &st);
	pthread_mutex_lock(&s->mu);
	if (p->session != st.session_id) {
		p->session = st.session_id;
		p->pub = p->sub = 0;
		p->joined = p->publishing = p->subscribed = false;
		p->private_id = 0;
	}
	pthread_mutex_unlock(&s->mu);
}

// attach_handle attaches *h when it is 0 (op held).
static hd_err attach_handle(struct media_sfu *s, struct peer *p, uint64_t *h, char *why)
{
	if (*h != 0)
		return HD_OK;
	uint64_t handle = 0, session = 0;
	hd_err err = media_janus_attach(s->rooms->janus, &handle, &session, why);
	if (err != HD_OK)
		return err;
	pthread_mutex_lock(&s->mu);
	if (session != p->session) {
		// The session changed between peer_fresh and now: the other handle is gone.
		p->pub = p->sub = 0;
		p->joined = p->publishing = p->subscribed = false;
		p->session = session;
	}
	*h = handle;
	pthread_mutex_unlock(&s->mu);
	return HD_OK;
}

// ---- events ----

// on_janus_event is the media_janus_event_fn (the lws service thread): it
// finds whose handle spoke and hands the message to events.c, or tells
// every meeting with participants that Janus was lost.
static void on_janus_event(void *arg, uint64_t handle, const cJSON *msg)
{
	struct media_sfu *s = arg;
	char meeting[HD_ID_LEN + 1], participant[HD_ID_LEN + 1];
	if (handle == 0) {
		// One event per meeting: the peers of a meeting are found under s->mu,
		// the events sent outside it (events.c has its own lock).
		char done[MEDIA_LOST_MEETINGS_MAX][HD_ID_LEN + 1];
		size_t n = 0;
		pthread_mutex_lock(&s->mu);
		for (struct peer *p = s->peers; p != NULL && n < MEDIA_LOST_MEETINGS_MAX; p = p->next) {
			bool seen = false;
			for (size_t i = 0; i < n && !seen; i++)
				seen = strcmp(done[i], p->meeting) == 0;
			if (!seen)
				snprintf(done[n++], sizeof(done[0]), "%s", p->meeting);
		}
		pthread_mutex_unlock(&s->mu);
		for (size_t i = 0; i < n; i++)
			media_events_stopped(s->events, done[i]);
		if (n == MEDIA_LOST_MEETINGS_MAX)
			HD_WARN("sfu: Janus lost; media_stopped sent to the first MEDIA_LOST_MEETINGS_MAX (%d) "
				"meetings only",
				MEDIA_LOST_MEETINGS_MAX);
		return;
	}
	pthread_mutex_lock(&s->mu);
	struct peer *p = s->peers;
	while (p != NULL && p->pub != handle && p->sub != handle)
		p = p->next;
	bool subscriber = p != NULL && p->sub == handle;
	if (p != NULL) {
		memcpy(meeting, p->meeting, sizeof(meeting));
		memcpy(participant, p->participant, sizeof(participant));
	}
	pthread_mutex_unlock(&s->mu);
	if (p != NULL) // else the room handle's, or a handle just detached
		media_events_janus(s->events, meeting, participant, subscriber, msg);
}

// ---- requests ----

// vr_result maps a VideoRoom answer's error_code to an hd_err, why set.
static hd_err vr_result(const cJSON *data, const char *participant, char *why)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(data, "error_code");
	if (!cJSON_IsNumber(code))
		return HD_OK;
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(data, "error");
	const char *t = cJSON_IsString(text) ? text->valuestring : "(no text)";
	switch (code->valueint) {
	case VR_NO_SUCH_ROOM:
		snprintf(why, MEDIA_JANUS_WHY_MAX, "the meeting has no room (ensure_room first)");
		return HD_EUNKNOWNMEETING;
	case VR_UNAUTHORIZED:
		snprintf(why, MEDIA_JANUS_WHY_MAX,
			 "participant %s may not publish in this room (not allowed, or revoked)", participant);
		return HD_EFORBIDDEN;
	case VR_NO_SUCH_FEED:
		snprintf(why, MEDIA_JANUS_WHY_MAX, "a feed is not publishing: VideoRoom error %d: %s", code->valueint,
			 t);
		return HD_EUNKNOWNPARTICIPANT;
	default:
		snprintf(why, MEDIA_JANUS_WHY_MAX, "VideoRoom error %d: %s", code->valueint, t);
		return HD_EINTERNAL;
	}
}

// send_req sends body (+ jsep of type with sdp, when sdp is not NULL) to
// handle, maps VideoRoom errors, and returns the answer's data and the sdp
// of its jsep (malloc'd; NULL when it has none) when wanted.
static hd_err send_req(struct media_sfu *s, struct peer *p, uint64_t handle, cJSON *body, const char *type,
		       const char *sdp, cJSON **data_out, char **sdp_out, char *why)
{
	cJSON *jsep = NULL, *data = NULL, *jsep_out = NULL;
	hd_err err;
	if (sdp != NULL &&
	    ((jsep = cJSON_CreateObject()) == NULL || cJSON_AddStringToObject(jsep, "type", type) == NULL ||
	     cJSON_AddStringToObject(jsep, "sdp", sdp) == NULL)) {
		err = oom(why);
		goto out;
	}
	if (body == NULL) {
		err = oom(why);
		goto out;
	}
	if ((err = media_janus_send(s->rooms->janus, handle, body, jsep, &data, &jsep_out, why)) != HD_OK)
		goto out;
	if ((err = vr_result(data, p->participant, why)) != HD_OK)
		goto out;
	if (sdp_out != NULL) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(jsep_out, "sdp");
		*sdp_out = cJSON_IsString(x) ? strdup(x->valuestring) : NULL;
		if (cJSON_IsString(x) && *sdp_out == NULL)
			err = oom(why);
	}
out:
	if (data_out != NULL && err == HD_OK) {
		*data_out = data;
		data = NULL;
	}
	cJSON_Delete(body);
	cJSON_Delete(jsep);
	cJSON_Delete(data);
	cJSON_Delete(jsep_out);
	return err;
}

// join_body starts a publisher's join: {"request": verb, "ptype":
// "publisher", room, pin, id, display, token} (NULL when out of memory).
static cJSON *join_body(struct media_sfu *s, struct peer *p, const char *verb)
{
	char pin[MEDIA_PIN_LEN + 1], token[MEDIA_TOKEN_LEN + 1];
	media_derive(s->rooms->key, "pin", p->meeting, NULL, pin, MEDIA_PIN_LEN);
	media_derive(s->rooms->key, "token", p->meeting, p->participant, token, MEDIA_TOKEN_LEN);
	cJSON *b = cJSON_CreateObject();
	if (b == NULL || cJSON_AddStringToObject(b, "request", verb) == NULL ||
	    cJSON_AddStringToObject(b, "ptype", "publisher") == NULL ||
	    cJSON_AddStringToObject(b, "room", p->meeting) == NULL || cJSON_AddStringToObject(b, "pin", pin) == NULL ||
	    cJSON_AddStringToObject(b, "id", p->participant) == NULL ||
	    cJSON_AddStringToObject(b, "display", p->participant) == NULL ||
	    cJSON_AddStringToObject(b, "token", token) == NULL) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

static cJSON *simple_body(const char *verb)
{
	cJSON *b = cJSON_CreateObject();
	if (b != NULL && cJSON_AddStringToObject(b, "request", verb) == NULL) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

// joined records a publisher's join answer: its private id and the
// publishers already in the room.
static void joined(struct media_sfu *s, struct peer *p, const cJSON *data)
{
	const cJSON *pvt = cJSON_GetObjectItemCaseSensitive(data, "private_id");
	p->joined = true;
	p->private_id = cJSON_IsNumber(pvt) && pvt->valuedouble > 0 ? (uint64_t)pvt->valuedouble : 0;
	media_events_joined(s->events, p->meeting, cJSON_GetObjectItemCaseSensitive(data, "publishers"));
}

static hd_err do_publish(struct media_sfu *s, struct peer *p, const Huddle__V1__SfuPublish *req, char **sdp, char *why)
{
	hd_err err;
	cJSON *data = NULL;
	if ((err = attach_handle(s, p, &p->pub, why)) != HD_OK)
		return err;
	// First: join and publish at once. Once joined (to subscribe, or to
	// publish before): configure, which publishes or renegotiates alike
	// (VideoRoom's "publish" refuses a participant that still has an SDP,
	// e.g. after a hangup Janus saw before huddle-media did).
	cJSON *body = !p->joined ? join_body(s, p, "joinandconfigure") : simple_body("configure");
	if ((err = send_req(s, p, p->pub, body, "offer", req->offer_sdp, &data, sdp, why)) != HD_OK)
		return err;
	if (!p->joined)
		joined(s, p, data);
	p->publishing = true;
	if (*sdp == NULL) {
		cJSON_Delete(data);
		snprintf(why, MEDIA_JANUS_WHY_MAX, "Janus accepted the offer but sent no answer");
		return HD_EINTERNAL;
	}
	media_events_publisher(s->events, p->meeting, p->participant, cJSON_GetObjectItemCaseSensitive(data, "streams"),
			       false);
	cJSON_Delete(data);
	return HD_OK;
}

// feed_list builds [{"feed": participant, "mid": mid}, ...] (mid left out
// when "": all the feed's streams).
static cJSON *feed_list(const Huddle__V1__SfuSubscribe *req)
{
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; list != NULL && i < req->n_feeds; i++) {
		cJSON *f = cJSON_CreateObject();
		if (f == NULL || !cJSON_AddItemToArray(list, f) ||
		    cJSON_AddStringToObject(f, "feed", req->feeds[i]->participant_id) == NULL ||
		    (req->feeds[i]->mid[0] != '\0' && cJSON_AddStringToObject(f, "mid", req->feeds[i]->mid) == NULL)) {
			cJSON_Delete(list);
			return NULL;
		}
	}
	return list;
}

static hd_err do_subscribe(struct media_sfu *s, struct peer *p, const Huddle__V1__SfuSubscribe *req, char **sdp,
			   char *why)
{
	hd_err err;
	cJSON *data = NULL;
	if (!p->joined) {
		// The room requires a private id: join as a publisher, no media yet.
		if ((err = attach_handle(s, p, &p->pub, why)) != HD_OK)
			return err;
		if ((err = send_req(s, p, p->pub, join_body(s, p, "join"), NULL, NULL, &data, NULL, why)) != HD_OK)
			return err;
		joined(s, p, data);
		cJSON_Delete(data);
		data = NULL;
	}
	if ((err = attach_handle(s, p, &p->sub, why)) != HD_OK)
		return err;
	cJSON *feeds = feed_list(req), *body;
	if (feeds == NULL)
		return oom(why);
	if (!p->subscribed) {
		char pin[MEDIA_PIN_LEN + 1], pvt[U64_TEXT_MAX];
		media_derive(s->rooms->key, "pin", p->meeting, NULL, pin, MEDIA_PIN_LEN);
		// An integer literal: cJSON prints big numbers as doubles (janus.c).
		snprintf(pvt, sizeof(pvt), "%" PRIu64, p->private_id);
		body = cJSON_CreateObject();
		if (body == NULL || cJSON_AddStringToObject(body, "request", "join") == NULL ||
		    cJSON_AddStringToObject(body, "ptype", "subscriber") == NULL ||
		    cJSON_AddStringToObject(body, "room", p->meeting) == NULL ||
		    cJSON_AddStringToObject(body, "pin", pin) == NULL ||
		    cJSON_AddRawToObject(body, "private_id", pvt) == NULL ||
		    cJSON_AddTrueToObject(body, "use_msid") == NULL || !cJSON_AddItemToObject(body, "streams", feeds)) {
			cJSON_Delete(body);
			cJSON_Delete(feeds);
			return oom(why);
		}
	} else {
		body = simple_body("update");
		if (body == NULL || !cJSON_AddItemToObject(body, "subscribe", feeds)) {
			cJSON_Delete(body);
			cJSON_Delete(feeds);
			return oom(why);
		}
	}
	if ((err = send_req(s, p, p->sub, body, NULL, NULL, NULL, sdp, why)) != HD_OK)
		return err;
	if (!p->subscribed && *sdp == NULL) {
		snprintf(why, MEDIA_JANUS_WHY_MAX, "Janus joined the subscriber but sent no offer");
		return HD_EINTERNAL;
	}
	p->subscribed = true;
	if (*sdp == NULL && (*sdp = strdup("")) == NULL)
		return oom(why);
	return HD_OK;
}

static hd_err do_trickle(struct media_sfu *s, struct peer *p, const Huddle__V1__SfuTrickle *req, char *why)
{
	uint64_t h = req->handle == HUDDLE__V1__SFU_HANDLE__SFU_HANDLE_PUBLISHER ? p->pub : p->sub;
	if (h == 0)
		return bad(why, HD_EBADREQUEST, "trickle before that handle's publish or subscribe");
	cJSON *c = cJSON_CreateObject();
	bool ok = c != NULL;
	if (ok && req->completed)
		ok = cJSON_AddTrueToObject(c, "completed") != NULL;
	else if (ok)
		ok = cJSON_AddStringToObject(c, "candidate", req->candidate) != NULL &&
		     cJSON_AddStringToObject(c, "sdpMid", req->sdp_mid) != NULL &&
		     cJSON_AddNumberToObject(c, "sdpMLineIndex", req->sdp_mline_index) != NULL;
	if (!ok) {
		cJSON_Delete(c);
		return oom(why);
	}
	hd_err err = media_janus_trickle(s->rooms->janus, h, c, why);
	cJSON_Delete(c);
	return err;
}

static hd_err do_configure(struct media_sfu *s, struct peer *p, const Huddle__V1__SfuConfigure *req, char *why)
{
	if (!p->subscribed)
		return bad(why, HD_EBADREQUEST, "configure before subscribe");
	cJSON *body = simple_body("configure");
	cJSON *list = body != NULL ? cJSON_AddArrayToObject(body, "streams") : NULL;
	for (size_t i = 0; list != NULL && i < req->n_streams; i++) {
		const Huddle__V1__SfuSubstream *st = req->streams[i];
		cJSON *o = cJSON_CreateObject();
		if (o == NULL || !cJSON_AddItemToArray(list, o) || cJSON_AddStringToObject(o, "mid", st->mid) == NULL ||
		    cJSON_AddNumberToObject(o, "substream", st->substream) == NULL ||
		    cJSON_AddBoolToObject(o, "send", !st->paused) == NULL)
			list = NULL;
	}
	if (list == NULL) {
		cJSON_Delete(body);
		return oom(why);
	}
	return send_req(s, p, p->sub, body, NULL, NULL, NULL, NULL, why);
}

// do_leave detaches both handles (Janus makes the publisher leave the room)
// and forgets the participant; handles Janus no longer knows are not an error.
static hd_err do_leave(struct media_sfu *s, struct peer *p, char *why)
{
	hd_err err = HD_OK;
	uint64_t hs[2] = {p->sub, p->pub};
	for (int i = 0; i < 2; i++) {
		if (hs[i] == 0)
			continue;
		hd_err e = media_janus_detach(s->rooms->janus, hs[i], why);
		if (e != HD_OK && e != HD_EINTERNAL && err == HD_OK)
			err = e;
	}
	if (p->publishing)
		media_events_publisher(s->events, p->meeting, p->participant, NULL, true);
	peer_remove(s, p);
	if (err == HD_OK)
		why[0] = '\0';
	return err;
}

void media_sfu_forget(struct media_sfu *s, const char *meeting, const char *participant)
{
	// Bounded by the participants there were: one leaves per round, and
	// one that arrives meanwhile is not waited for.
	size_t rounds = 0;
	pthread_mutex_lock(&s->mu);
	for (struct peer *p = s->peers; p != NULL; p = p->next)
		rounds++;
	pthread_mutex_unlock(&s->mu);
	for (; rounds > 0; rounds--) {
		char who[HD_ID_LEN + 1] = "";
		pthread_mutex_lock(&s->mu);
		for (struct peer *p = s->peers; p != NULL && who[0] == '\0'; p = p->next)
			if (strcmp(p->meeting, meeting) == 0 &&
			    (participant == NULL || strcmp(p->participant, participant) == 0))
				memcpy(who, p->participant, sizeof(who));
		pthread_mutex_unlock(&s->mu);
		if (who[0] == '\0')
			return;
		struct peer *p = peer_get(s, meeting, who);
		if (p == NULL)
			return; // out of memory: the rest stay until they leave
		char why[MEDIA_JANUS_WHY_MAX];
		peer_fresh(s, p);
		if (do_leave(s, p, why) != HD_OK)
			HD_DEBUG("sfu: meeting %s participant %s forgotten, its handles not detached: %s", meeting, who,
				 why);
		peer_put(s, p);
	}
}

hd_err media_sfu_handle(struct media_sfu *s, const char *meeting, const char *participant,
			const Huddle__V1__SfuRequest *req, char **sdp, char *why)
{
	*sdp = NULL;
	struct peer *p = peer_get(s, meeting, participant);
	if (p == NULL)
		return oom(why);
	peer_fresh(s, p);
	hd_err err;
	switch (req->body_case) {
	case HUDDLE__V1__SFU_REQUEST__BODY_PUBLISH:
		err = do_publish(s, p, req->publish, sdp, why);
		break;
	case HUDDLE__V1__SFU_REQUEST__BODY_TRICKLE:
		err = do_trickle(s, p, req->trickle, why);
		break;
	case HUDDLE__V1__SFU_REQUEST__BODY_SUBSCRIBE:
		err = do_subscribe(s, p, req->subscribe, sdp, why);
		break;
	case HUDDLE__V1__SFU_REQUEST__BODY_START:
		err = !p->subscribed ? bad(why, HD_EBADREQUEST, "start before subscribe")
				     : send_req(s, p, p->sub, simple_body("start"), "answer", req->start->answer_sdp,
						NULL, NULL, why);
		break;
	case HUDDLE__V1__SFU_REQUEST__BODY_CONFIGURE:
		err = do_configure(s, p, req->configure, why);
		break;
	case HUDDLE__V1__SFU_REQUEST__BODY_UNPUBLISH:
		if (!p->publishing) {
			err = HD_OK; // nothing to stop
			break;
		}
		err = send_req(s, p, p->pub, simple_body("unpublish"), NULL, NULL, NULL, NULL, why);
		if (err == HD_OK) {
			p->publishing = false;
			media_events_publisher(s->events, p->meeting, p->participant, NULL, true);
		}
		break;
	case HUDDLE__V1__SFU_REQUEST__BODY_LEAVE:
		err = do_leave(s, p, why);
		break;
	default:
		err = bad(why, HD_EBADREQUEST, "sfu.request carries no body");
		break;
	}
	if (err != HD_OK) {
		free(*sdp);
		*sdp = NULL;
	}
	peer_put(s, p);
	return err;
}

hd_err media_sfu_open(struct media_sfu **out, const struct media_rooms *rooms, nng_socket pub)
{
	struct media_sfu *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return HD_ENOMEM;
	s->rooms = rooms;
	if (media_events_open(&s->events, pub) != HD_OK) {
		free(s);
		return HD_ENOMEM;
	}
	pthread_mutex_init(&s->mu, NULL);
	media_janus_set_events(rooms->janus, on_janus_event, s);
	*out = s;
	return HD_OK;
}

void media_sfu_close(struct media_sfu *s)
{
	if (s == NULL)
		return;
	while (s->peers != NULL) {
		struct peer *p = s->peers;
		s->peers = p->next;
		pthread_mutex_destroy(&p->op);
		free(p);
	}
	media_events_close(s->events);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
