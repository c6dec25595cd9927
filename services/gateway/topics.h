// topics.h: who listens to a meeting's registry events on this gateway.
// The event bus's subscriptions are not counted (hd_sub_subscribe), but a
// meeting's events matter to its room (room.c) and to its chat and notes
// rooms (a meeting_updated changes who may read them), so the topic is
// subscribed while any of them is open. Service thread only.
#ifndef GW_TOPICS_H
#define GW_TOPICS_H

#include "common/err.h"

// gw_topics_watch counts one more user of meeting_id's registry events,
// subscribing gw.events to the topic for the first (nothing is subscribed
// while gw.events is NULL: tests, shutdown). Returns HD_OK or HD_ENOMEM
// (nothing counted).
hd_err gw_topics_watch(const char *meeting_id);

// gw_topics_unwatch drops one user; the last one unsubscribes the topic.
// A meeting nobody watches is a no-op.
void gw_topics_unwatch(const char *meeting_id);

#endif
