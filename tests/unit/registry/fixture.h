// fixture.h: what the registry tests share: a store in a temporary folder,
// a real Redis (its own database, flushed), a PUB socket on ipc:// and a
// subscriber that collects the room events published on it.
#ifndef REG_TEST_FIXTURE_H
#define REG_TEST_FIXTURE_H

#include <pthread.h>
#include <stddef.h>

#include "common/hostkey.h"
#include "common/rpc.h"
#include "huddle/v1/events.pb-c.h"
#include "registry/registry.h"

#define REG_TEST_TTL_MS 30000 // presence TTL of the fixture's contexts
#define REG_TEST_EVENTS_MAX 16384

// reg_test_events collects room events; filled on an NNG thread.
struct reg_test_events {
	pthread_mutex_t mtx;
	Huddle__V1__RoomEvent *ev[REG_TEST_EVENTS_MAX];
	size_t n;
	int probes; // "probe" topic messages seen while connecting
	struct hd_sub *sub;
};

struct reg_test {
	char dir[64];         // temporary folder, removed at teardown
	char redis_url[160];  // the fixture Redis, database `db`
	char events_url[128]; // ipc:// in dir
	struct hd_store *store;
	nng_socket pub;
	struct reg_ctx ctx; // presence_ttl_ms = REG_TEST_TTL_MS
	struct reg_test_events events;
};

// reg_test_open sets everything up (Redis database db is flushed) and
// connects the subscriber; failures end the test program.
void reg_test_open(struct reg_test *t, int db);
void reg_test_close(struct reg_test *t);

// reg_test_flush empties the test's Redis database (presence only; meetings
// stay in the store).
void reg_test_flush(struct reg_test *t);

// reg_test_ctx_open gives another context on the same store, PUB socket and
// Redis (its own connection), as another worker or replica would have.
void reg_test_ctx_open(struct reg_test *t, struct reg_ctx *c);
void reg_test_ctx_close(struct reg_ctx *c);

// reg_test_subscribe delivers the events of this meeting from now on.
void reg_test_subscribe(struct reg_test *t, const char *meeting_id);

// reg_test_count counts collected events of this meeting and body case
// about participant `who` (joined/updated: the participant; left: its id;
// signal: "to"); who NULL matches any.
size_t reg_test_count(struct reg_test *t, const char *meeting_id, int body_case, const char *who);

// reg_test_wait waits up to timeout_ms for reg_test_count to reach want,
// and returns the count it saw last.
size_t reg_test_wait(struct reg_test *t, const char *meeting_id, int body_case, const char *who, size_t want,
		     int timeout_ms);

// reg_test_find returns the first matching event (owned by t), or NULL.
const Huddle__V1__RoomEvent *reg_test_find(struct reg_test *t, const char *meeting_id, int body_case, const char *who);

// reg_test_last returns the latest matching event (owned by t), or NULL.
// Events about the meeting as a whole (waiting_changed, meeting_updated,
// meeting_ended, watch_state, media_mode) match only who NULL.
const Huddle__V1__RoomEvent *reg_test_last(struct reg_test *t, const char *meeting_id, int body_case, const char *who);

// reg_test_host_meeting creates a meeting with this access mode (1..4) and
// a host key of its own (written to host_key), and subscribes to it.
void reg_test_host_meeting(struct reg_test *t, int access_mode, char id[23], char host_key[HD_KEY_LEN + 1]);

// reg_test_meeting creates a meeting and subscribes to it; id gets its id.
void reg_test_meeting(struct reg_test *t, char id[23]);

#endif
