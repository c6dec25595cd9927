// events.h: huddle-media's MediaEvents (proto/huddle/v1/media.proto) on the
// PUB socket of MEDIA_EVENTS_LISTEN, topic = the meeting id: the meeting's
// whole publisher list each time it changes, a Janus-initiated subscriber
// offer for its participant, talking changes, media stopped. Every handle in
// a Janus room hears the same room event, so this keeps, per meeting, the
// publishers and who is talking, and publishes a list or a talking change
// only when it differs from the last one sent. Thread-safe (its own lock);
// publishing never blocks (NNG pub0 drops for slow subscribers).
#ifndef MEDIA_EVENTS_H
#define MEDIA_EVENTS_H

#include <cjson/cJSON.h>
#include <nng/nng.h>
#include <stdbool.h>

#include "common/err.h"

struct media_events;

// media_events_open makes the state; events go to pub (id 0: kept, never
// sent, for tests without a socket). Returns HD_OK (*out the caller's) or
// HD_ENOMEM.
hd_err media_events_open(struct media_events **out, nng_socket pub);

// media_events_close frees e (the socket is the caller's). NULL is a no-op.
void media_events_close(struct media_events *e);

// media_events_publisher records that participant publishes streams (a
// VideoRoom "streams" array, borrowed; NULL: none known yet), or, with
// remove, no longer publishes; then publishes the meeting's list if it
// changed.
void media_events_publisher(struct media_events *e, const char *meeting, const char *participant, const cJSON *streams,
			    bool remove);

// media_events_janus reads one VideoRoom message Janus sent unasked to a
// participant's publisher handle (subscriber false) or subscriber handle
// (msg borrowed): "publishers", "unpublished", "leaving", "kicked" update
// the list; "talking" / "stopped-talking" a talking change; a jsep offer on
// the subscriber handle is that participant's subscriber offer.
void media_events_janus(struct media_events *e, const char *meeting, const char *participant, bool subscriber,
			const cJSON *msg);

// media_events_joined records the publishers a VideoRoom "joined" answer
// lists (an array, borrowed).
void media_events_joined(struct media_events *e, const char *meeting, const cJSON *publishers);

// media_events_stopped tells everyone in meeting that the SFU media stopped
// (reconnecting: huddle-media is trying Janus again) and forgets the
// meeting's list and talking state.
void media_events_stopped(struct media_events *e, const char *meeting);

#endif
