// events.c: MediaEvents (see events.h): per meeting the publishers and who
// is talking, and the events built from them.
#include "media/events.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/rpc.h"
#include "common/util.h"
#include "huddle/v1/media.pb-c.h"

// room is what the events need of one meeting: its publishers and who is
// talking, to publish the whole list (only when it changed) and each talking
// change once, though every handle in the room hears the same event.
struct room {
	struct room *next;
	char meeting[HD_ID_LEN + 1];
	cJSON *publishers; // {participant id: [Janus stream objects]}
	cJSON *talking;    // {participant id: true}
	char *last;        // the list last published (printed), NULL: none yet
};

struct media_events {
	nng_socket pub;
	bool on;            // pub is a socket
	pthread_mutex_t mu; // guards rooms
	struct room *rooms;
};

// room_find finds (or, with make, creates) the meeting's event state (e->mu held).
static struct room *room_find(struct media_events *e, const char *meeting, bool make)
{
	struct room *r = e->rooms;
	while (r != NULL && strcmp(r->meeting, meeting) != 0)
		r = r->next;
	if (r != NULL || !make)
		return r;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	snprintf(r->meeting, sizeof(r->meeting), "%s", meeting);
	if ((r->publishers = cJSON_CreateObject()) == NULL || (r->talking = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(r->publishers);
		free(r);
		return NULL;
	}
	r->next = e->rooms;
	e->rooms = r;
	return r;
}

static void room_free(struct room *r)
{
	cJSON_Delete(r->publishers);
	cJSON_Delete(r->talking);
	free(r->last);
	free(r);
}

// room_drop unlinks and frees r (e->mu held).
static void room_drop(struct media_events *e, struct room *r)
{
	for (struct room **q = &e->rooms; *q != NULL; q = &(*q)->next)
		if (*q == r) {
			*q = r->next;
			break;
		}
	room_free(r);
}

// send_event publishes ev for meeting (to participant, "" = everyone) (any thread).
static void send_event(struct media_events *e, const char *meeting, const char *participant, Huddle__V1__SfuEvent *ev)
{
	if (!e->on)
		return;
	Huddle__V1__MediaEvent me = HUDDLE__V1__MEDIA_EVENT__INIT;
	me.meeting_id = (char *)meeting;
	me.participant_id = (char *)participant;
	me.event = ev;
	nng_msg *m = NULL;
	if (hd_pub_pack(meeting, &me.base, &m) != HD_OK) {
		HD_WARN("sfu: out of memory packing an event for meeting %s", meeting);
		return;
	}
	hd_pub_send_msg(e->pub, m);
}

// stream_type reads a Janus publisher stream's kind and whether it is a screen.
static Huddle__V1__SfuStreamType stream_type(const cJSON *st)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(st, "description");
	return cJSON_IsString(d) && strcmp(d->valuestring, "screen") == 0
		       ? HUDDLE__V1__SFU_STREAM_TYPE__SFU_STREAM_TYPE_SCREEN
		       : HUDDLE__V1__SFU_STREAM_TYPE__SFU_STREAM_TYPE_CAMERA;
}

// publish_list publishes r's publisher list if it changed since the last
// time (e->mu held; NNG's pub send never blocks).
static void publish_list(struct media_events *e, struct room *r)
{
	char *text = cJSON_PrintUnformatted(r->publishers);
	if (text == NULL || (r->last != NULL && strcmp(text, r->last) == 0)) {
		cJSON_free(text);
		return;
	}
	free(r->last);
	r->last = strdup(text);
	cJSON_free(text);
	size_t n = (size_t)cJSON_GetArraySize(r->publishers), k = 0;
	Huddle__V1__SfuPublisher *pubs = calloc(n + 1, sizeof(*pubs));
	Huddle__V1__SfuPublisher **pp = calloc(n + 1, sizeof(*pp));
	size_t n_streams = 0;
	const cJSON *pe, *st;
	cJSON_ArrayForEach(pe, r->publishers) n_streams += (size_t)cJSON_GetArraySize(pe);
	Huddle__V1__SfuStream *streams = calloc(n_streams + 1, sizeof(*streams));
	Huddle__V1__SfuStream **sp = calloc(n_streams + 1, sizeof(*sp));
	if (pubs == NULL || pp == NULL || streams == NULL || sp == NULL) {
		HD_WARN("sfu: out of memory building meeting %s's publisher list", r->meeting);
		goto done;
	}
	size_t si = 0;
	cJSON_ArrayForEach(pe, r->publishers)
	{
		Huddle__V1__SfuPublisher *p = &pubs[k];
		huddle__v1__sfu_publisher__init(p);
		p->participant_id = pe->string;
		p->streams = &sp[si];
		cJSON_ArrayForEach(st, pe)
		{
			const cJSON *type = cJSON_GetObjectItemCaseSensitive(st, "type");
			const cJSON *mid = cJSON_GetObjectItemCaseSensitive(st, "mid");
			if (!cJSON_IsString(type) || !cJSON_IsString(mid) || strcmp(type->valuestring, "data") == 0 ||
			    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "disabled")))
				continue;
			Huddle__V1__SfuStream *x = &streams[si];
			huddle__v1__sfu_stream__init(x);
			x->mid = mid->valuestring;
			x->kind = type->valuestring;
			x->type = stream_type(st);
			sp[si++] = x;
			p->n_streams++;
		}
		pp[k++] = p;
	}
	Huddle__V1__SfuPublishers list = HUDDLE__V1__SFU_PUBLISHERS__INIT;
	list.publishers = pp;
	list.n_publishers = k;
	Huddle__V1__SfuEvent ev = HUDDLE__V1__SFU_EVENT__INIT;
	ev.body_case = HUDDLE__V1__SFU_EVENT__BODY_PUBLISHERS;
	ev.publishers = &list;
	send_event(e, r->meeting, "", &ev);
done:
	free(pubs);
	free(pp);
	free(streams);
	free(sp);
}

// set_publisher records participant's streams (a copy of streams; NULL:
// none known yet, which keeps what is known) in meeting's list, or removes
// them (remove), and publishes the list if it changed. A list left empty is
// forgotten (the removals other handles hear after it find nothing to do)
// (e->mu held).
static void set_publisher(struct media_events *e, const char *meeting, const char *participant, const cJSON *streams,
			  bool remove)
{
	struct room *r = room_find(e, meeting, !remove);
	if (r == NULL)
		return;
	bool known = cJSON_GetObjectItemCaseSensitive(r->publishers, participant) != NULL;
	if (remove) {
		cJSON_DeleteItemFromObjectCaseSensitive(r->publishers, participant);
		cJSON_DeleteItemFromObjectCaseSensitive(r->talking, participant);
	} else if (streams != NULL || !known) {
		cJSON *copy = streams != NULL ? cJSON_Duplicate(streams, 1) : cJSON_CreateArray();
		if (copy == NULL)
			return;
		if (known)
			cJSON_ReplaceItemInObjectCaseSensitive(r->publishers, participant, copy);
		else
			cJSON_AddItemToObject(r->publishers, participant, copy);
	}
	publish_list(e, r);
	if (remove && cJSON_GetArraySize(r->publishers) == 0)
		room_drop(e, r);
}

// add_publishers records each entry of a VideoRoom "publishers" array (e->mu held).
static void add_publishers(struct media_events *e, const char *meeting, const cJSON *list)
{
	const cJSON *pe;
	cJSON_ArrayForEach(pe, list)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(pe, "id");
		if (cJSON_IsString(id) && hd_id_valid(id->valuestring))
			set_publisher(e, meeting, id->valuestring, cJSON_GetObjectItemCaseSensitive(pe, "streams"),
				      false);
	}
}

hd_err media_events_open(struct media_events **out, nng_socket pub)
{
	struct media_events *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return HD_ENOMEM;
	e->pub = pub;
	e->on = nng_socket_id(pub) > 0;
	pthread_mutex_init(&e->mu, NULL);
	*out = e;
	return HD_OK;
}

void media_events_close(struct media_events *e)
{
	if (e == NULL)
		return;
	while (e->rooms != NULL)
		room_drop(e, e->rooms);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

void media_events_publisher(struct media_events *e, const char *meeting, const char *participant, const cJSON *streams,
			    bool remove)
{
	pthread_mutex_lock(&e->mu);
	set_publisher(e, meeting, participant, streams, remove);
	pthread_mutex_unlock(&e->mu);
}

void media_events_joined(struct media_events *e, const char *meeting, const cJSON *publishers)
{
	pthread_mutex_lock(&e->mu);
	add_publishers(e, meeting, publishers);
	pthread_mutex_unlock(&e->mu);
}

// talking_change publishes id's talking state if it changed (e->mu held).
static void talking_change(struct media_events *e, const char *meeting, const char *id, bool talking)
{
	struct room *r = room_find(e, meeting, true);
	if (r == NULL || talking == (cJSON_GetObjectItemCaseSensitive(r->talking, id) != NULL))
		return;
	if (talking)
		cJSON_AddTrueToObject(r->talking, id);
	else
		cJSON_DeleteItemFromObjectCaseSensitive(r->talking, id);
	Huddle__V1__SfuTalking t = HUDDLE__V1__SFU_TALKING__INIT;
	t.participant_id = (char *)id;
	t.talking = talking;
	Huddle__V1__SfuEvent ev = HUDDLE__V1__SFU_EVENT__INIT;
	ev.body_case = HUDDLE__V1__SFU_EVENT__BODY_TALKING;
	ev.talking = &t;
	send_event(e, meeting, "", &ev);
}

void media_events_janus(struct media_events *e, const char *meeting, const char *participant, bool subscriber,
			const cJSON *msg)
{
	const cJSON *data =
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(msg, "plugindata"), "data");
	const cJSON *vr = cJSON_GetObjectItemCaseSensitive(data, "videoroom");
	if (!cJSON_IsString(vr))
		return; // not VideoRoom's (webrtcup, media, hangup, ...)
	pthread_mutex_lock(&e->mu);
	if (subscriber) {
		const cJSON *sdp =
			cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(msg, "jsep"), "sdp");
		if (cJSON_IsString(sdp)) {
			// Janus renegotiates the subscription (a publisher it carries left or changed).
			Huddle__V1__SfuSubscribeReply offer = HUDDLE__V1__SFU_SUBSCRIBE_REPLY__INIT;
			offer.offer_sdp = sdp->valuestring;
			Huddle__V1__SfuEvent ev = HUDDLE__V1__SFU_EVENT__INIT;
			ev.body_case = HUDDLE__V1__SFU_EVENT__BODY_SUBSCRIBER_OFFER;
			ev.subscriber_offer = &offer;
			send_event(e, meeting, participant, &ev);
		}
	} else if (strcmp(vr->valuestring, "event") == 0) {
		// "unpublished"/"leaving": "ok" about the handle's own participant, an id about another.
		static const char *const gone[] = {"unpublished", "leaving", "kicked"};
		add_publishers(e, meeting, cJSON_GetObjectItemCaseSensitive(data, "publishers"));
		for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
			const cJSON *x = cJSON_GetObjectItemCaseSensitive(data, gone[i]);
			if (cJSON_IsString(x))
				set_publisher(e, meeting,
					      strcmp(x->valuestring, "ok") == 0 ? participant : x->valuestring, NULL,
					      true);
		}
	} else if (strcmp(vr->valuestring, "talking") == 0 || strcmp(vr->valuestring, "stopped-talking") == 0) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(data, "id");
		if (cJSON_IsString(id) && hd_id_valid(id->valuestring))
			talking_change(e, meeting, id->valuestring, strcmp(vr->valuestring, "talking") == 0);
	}
	pthread_mutex_unlock(&e->mu);
}

void media_events_stopped(struct media_events *e, const char *meeting)
{
	pthread_mutex_lock(&e->mu);
	struct room *r = room_find(e, meeting, false);
	if (r != NULL)
		room_drop(e, r);
	Huddle__V1__SfuMediaStopped stopped = HUDDLE__V1__SFU_MEDIA_STOPPED__INIT;
	stopped.reconnecting = true;
	Huddle__V1__SfuEvent ev = HUDDLE__V1__SFU_EVENT__INIT;
	ev.body_case = HUDDLE__V1__SFU_EVENT__BODY_MEDIA_STOPPED;
	ev.media_stopped = &stopped;
	send_event(e, meeting, "", &ev);
	pthread_mutex_unlock(&e->mu);
}
