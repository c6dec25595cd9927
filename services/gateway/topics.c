// topics.c: counted subscriptions to meetings' registry events.
#include "gateway/topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <uthash.h>

#include "common/util.h"
#include "gateway/gateway.h"

// topic is one watched meeting.
struct topic {
	char meeting_id[HD_ID_LEN + 1];
	unsigned users;
	UT_hash_handle hh;
};

static struct topic *topics; // by meeting id

hd_err gw_topics_watch(const char *meeting_id)
{
	struct topic *t = NULL;
	HASH_FIND_STR(topics, meeting_id, t);
	if (t != NULL) {
		t->users++;
		return HD_OK;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return HD_ENOMEM;
	snprintf(t->meeting_id, sizeof(t->meeting_id), "%s", meeting_id);
	if (gw.events != NULL && hd_sub_subscribe(gw.events, t->meeting_id) != HD_OK) {
		free(t);
		return HD_ENOMEM;
	}
	if (gw.media_events != NULL && hd_sub_subscribe(gw.media_events, t->meeting_id) != HD_OK) {
		if (gw.events != NULL)
			hd_sub_unsubscribe(gw.events, t->meeting_id);
		free(t);
		return HD_ENOMEM;
	}
	t->users = 1;
	HASH_ADD_STR(topics, meeting_id, t);
	return HD_OK;
}

void gw_topics_unwatch(const char *meeting_id)
{
	struct topic *t = NULL;
	HASH_FIND_STR(topics, meeting_id, t);
	if (t == NULL || --t->users > 0)
		return;
	if (gw.events != NULL) // NULL while shutting down
		hd_sub_unsubscribe(gw.events, t->meeting_id);
	if (gw.media_events != NULL)
		hd_sub_unsubscribe(gw.media_events, t->meeting_id);
	HASH_DEL(topics, t);
	free(t);
}
