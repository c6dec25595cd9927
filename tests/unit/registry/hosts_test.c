// hosts_test.c: access modes at join, the waiting room, host actions,
// hands and reactions against a real Redis and a real store, with the room
// events read back from a real PUB socket (access.md, "Join" and "Host
// actions").
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "common/util.h"
#include "registry/hosts.h"
#include "registry/meetings.h"
#include "registry/presence.h"

#define JOINED HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_JOINED
#define LEFT HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_LEFT
#define UPDATED HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_UPDATED
#define ADMISSION HUDDLE__V1__ROOM_EVENT__BODY_ADMISSION
#define WAITING HUDDLE__V1__ROOM_EVENT__BODY_WAITING_CHANGED
#define MODERATED HUDDLE__V1__ROOM_EVENT__BODY_MODERATED
#define UPDATED_MEETING HUDDLE__V1__ROOM_EVENT__BODY_MEETING_UPDATED
#define ENDED HUDDLE__V1__ROOM_EVENT__BODY_MEETING_ENDED
#define REACTION HUDDLE__V1__ROOM_EVENT__BODY_REACTION

#define IS_WAITING HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_WAITING
#define IS_ADMITTED HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_ADMITTED
#define HOST HUDDLE__V1__ROLE__ROLE_HOST
#define GUEST HUDDLE__V1__ROLE__ROLE_GUEST
#define QUIET_MS 150 // how long we listen for an event that must not come
#define EVENT_MS 2000

static struct reg_test T;

// who is how a test joins: every field may be NULL / 0.
struct who {
	const char *host_key, *client_key;
	int grant_role; // 0: no grant
	const char *grant_name;
};

static hd_err join_as(const char *meeting, const char *name, const struct who *w, int64_t now, struct reg_join *j)
{
	Huddle__V1__RegistryJoinRequest req = HUDDLE__V1__REGISTRY_JOIN_REQUEST__INIT;
	Huddle__V1__JoinGrant grant = HUDDLE__V1__JOIN_GRANT__INIT;
	const char *why = NULL;
	req.meeting_id = (char *)meeting;
	req.display_name = (char *)name;
	req.gateway_id = "gw-1";
	if (w != NULL) {
		req.host_key = (char *)(w->host_key != NULL ? w->host_key : "");
		req.client_key = (char *)(w->client_key != NULL ? w->client_key : "");
		if (w->grant_role != 0) {
			grant.role = w->grant_role;
			grant.display_name = (char *)(w->grant_name != NULL ? w->grant_name : "");
			req.grant = &grant;
		}
	}
	hd_err err = reg_presence_join(&T.ctx, &req, now, j, &why);
	if (err != HD_OK)
		assert_true(why != NULL && why[0] != '\0');
	return err;
}

static void join_ok(const char *meeting, const char *name, const struct who *w, int64_t now, struct reg_join *j)
{
	hd_err err = join_as(meeting, name, w, now, j);
	if (err != HD_OK)
		fail_msg("join %s: %s", name, hd_err_name(err));
}

static hd_err resume(const char *meeting, const struct reg_join *a, int64_t now, struct reg_join *j)
{
	Huddle__V1__RegistryJoinRequest req = HUDDLE__V1__REGISTRY_JOIN_REQUEST__INIT;
	const char *why = NULL;
	req.meeting_id = (char *)meeting;
	req.gateway_id = "gw-2";
	req.participant_id = (char *)a->self.id;
	req.resume_token = (char *)a->self.resume_token;
	return reg_presence_join(&T.ctx, &req, now, j, &why);
}

// admit calls reg_host_admit; ids NULL-terminated, or NULL for all.
static hd_err admit(struct reg_ctx *c, const char *meeting, const char *actor_id, const char *actor_key,
		    const char *const *ids, bool deny, size_t *n_done)
{
	Huddle__V1__RegistryAdmitRequest req = HUDDLE__V1__REGISTRY_ADMIT_REQUEST__INIT;
	Huddle__V1__Actor actor = HUDDLE__V1__ACTOR__INIT;
	struct reg_roster done;
	const char *why = NULL;
	size_t n = 0;
	actor.participant_id = (char *)(actor_id != NULL ? actor_id : "");
	actor.host_key = (char *)(actor_key != NULL ? actor_key : "");
	req.meeting_id = (char *)meeting;
	req.actor = &actor;
	req.all = ids == NULL;
	req.deny = deny;
	while (ids != NULL && ids[n] != NULL)
		n++;
	req.participant_ids = (char **)ids;
	req.n_participant_ids = n;
	hd_err err = reg_host_admit(c, &req, hd_now_ms(), &done, &why);
	if (n_done != NULL)
		*n_done = err == HD_OK ? done.n : 0;
	if (err == HD_OK)
		reg_roster_fini(&done);
	return err;
}

static hd_err moderate(const char *meeting, const char *actor_id, const char *actor_key, const char *target,
		       Huddle__V1__ModerationAction action, int64_t now)
{
	Huddle__V1__RegistryModerateRequest req = HUDDLE__V1__REGISTRY_MODERATE_REQUEST__INIT;
	Huddle__V1__Actor actor = HUDDLE__V1__ACTOR__INIT;
	const char *why = NULL;
	actor.participant_id = (char *)(actor_id != NULL ? actor_id : "");
	actor.host_key = (char *)(actor_key != NULL ? actor_key : "");
	req.meeting_id = (char *)meeting;
	req.actor = &actor;
	req.participant_id = (char *)target;
	req.action = action;
	return reg_host_moderate(&T.ctx, &req, now, &why);
}

static hd_err set_access(const char *meeting, const char *actor_id, const char *actor_key, int mode)
{
	Huddle__V1__RegistrySetAccessRequest req = HUDDLE__V1__REGISTRY_SET_ACCESS_REQUEST__INIT;
	Huddle__V1__Actor actor = HUDDLE__V1__ACTOR__INIT;
	struct hd_meeting m;
	const char *why = NULL;
	actor.participant_id = (char *)(actor_id != NULL ? actor_id : "");
	actor.host_key = (char *)(actor_key != NULL ? actor_key : "");
	req.meeting_id = (char *)meeting;
	req.actor = &actor;
	req.access_mode = mode;
	hd_err err = reg_host_set_access(&T.ctx, &req, hd_now_ms(), &m, &why);
	if (err == HD_OK)
		assert_int_equal(m.access_mode, mode);
	return err;
}

static hd_err end_meeting(const char *meeting, const char *actor_id, const char *actor_key)
{
	Huddle__V1__RegistryEndMeetingRequest req = HUDDLE__V1__REGISTRY_END_MEETING_REQUEST__INIT;
	Huddle__V1__Actor actor = HUDDLE__V1__ACTOR__INIT;
	const char *why = NULL;
	actor.participant_id = (char *)(actor_id != NULL ? actor_id : "");
	actor.host_key = (char *)(actor_key != NULL ? actor_key : "");
	req.meeting_id = (char *)meeting;
	req.actor = &actor;
	return reg_host_end(&T.ctx, &req, &why);
}

static hd_err hand(const char *meeting, const char *pid, bool raised, int64_t now, struct reg_member *out)
{
	Huddle__V1__RegistryHandRequest req = HUDDLE__V1__REGISTRY_HAND_REQUEST__INIT;
	struct reg_member m;
	const char *why = NULL;
	req.meeting_id = (char *)meeting;
	req.participant_id = (char *)pid;
	req.raised = raised;
	return reg_presence_hand(&T.ctx, &req, now, out != NULL ? out : &m, &why);
}

static hd_err react(const char *meeting, const char *pid, const char *emoji)
{
	Huddle__V1__RegistryReactionRequest req = HUDDLE__V1__REGISTRY_REACTION_REQUEST__INIT;
	const char *why = NULL;
	req.meeting_id = (char *)meeting;
	req.participant_id = (char *)pid;
	req.emoji = (char *)emoji;
	return reg_presence_reaction(&T.ctx, &req, &why);
}

// room reads the meeting's presence (admitted roster, waiting room).
static void room(const char *meeting, struct reg_room *r)
{
	const char *why = NULL;
	assert_int_equal(reg_presence_waiting(&T.ctx, meeting, r, &why), HD_OK);
}

// last_waiting is the latest waiting_changed of the meeting, waited for
// until it has n entries.
static const Huddle__V1__WaitingChanged *last_waiting(const char *meeting, size_t n, bool host_present)
{
	int64_t until = hd_mono_ms() + EVENT_MS;
	const Huddle__V1__RoomEvent *ev;
	do {
		ev = reg_test_last(&T, meeting, WAITING, NULL);
		if (ev != NULL && ev->waiting_changed->n_waiting == n &&
		    ev->waiting_changed->host_present == host_present)
			return ev->waiting_changed;
		usleep(5 * 1000);
	} while (hd_mono_ms() < until);
	fail_msg("no waiting_changed with %zu waiting, host_present %d (last: %zd, %d)", n, host_present,
		 ev != NULL ? (ssize_t)ev->waiting_changed->n_waiting : (ssize_t)-1,
		 ev != NULL ? ev->waiting_changed->host_present : -1);
	return NULL;
}

static const char *actions_all[] = {"MUTE", "CAMERA_OFF", "REMOVE", "BLOCK", "MAKE_HOST", "LOWER_HAND"};

// ---- tests ----

static void waiting_room_join(void **state)
{
	char m[23], key[HD_KEY_LEN + 1];
	struct reg_join g1, h, g2;
	struct reg_room r;
	const char *why;
	int64_t t0 = hd_now_ms();
	reg_test_host_meeting(&T, HD_ACCESS_WAITING_ROOM, m, key);

	// A guest before any host: waiting, no roster, told no host is here.
	join_ok(m, "Gail", &(struct who){.client_key = "gail-1"}, t0, &g1);
	assert_int_equal(g1.self.admission, IS_WAITING);
	assert_int_equal(g1.self.role, GUEST);
	assert_int_equal(g1.self.waiting_since_ms, t0);
	assert_int_equal(g1.others.n, 0);
	assert_int_equal(g1.waiting.n, 0);
	assert_false(g1.host_present);
	const Huddle__V1__WaitingChanged *w = last_waiting(m, 1, false);
	assert_string_equal(w->waiting[0]->id, g1.self.id);
	assert_string_equal(w->waiting[0]->display_name, "Gail");
	assert_int_equal(w->waiting[0]->waiting_since_ms, t0);

	// The host goes straight in and gets the waiting room.
	join_ok(m, "Hana", &(struct who){.host_key = key}, t0 + 1, &h);
	assert_int_equal(h.self.admission, IS_ADMITTED);
	assert_int_equal(h.self.role, HOST);
	assert_true(h.host_present);
	assert_int_equal(h.others.n, 0); // the waiting guest is in no roster
	assert_int_equal(h.waiting.n, 1);
	assert_string_equal(h.waiting.members[0].id, g1.self.id);
	assert_int_equal(reg_test_wait(&T, m, JOINED, h.self.id, 1, EVENT_MS), 1);
	last_waiting(m, 1, true);

	// A second guest waits too, sees nobody, but that a host is here.
	join_ok(m, "Gus", &(struct who){.client_key = "gus-1"}, t0 + 2, &g2);
	assert_int_equal(g2.self.admission, IS_WAITING);
	assert_int_equal(g2.others.n, 0);
	assert_int_equal(g2.waiting.n, 0); // guests do not see the waiting room
	assert_true(g2.host_present);
	w = last_waiting(m, 2, true);
	assert_string_equal(w->waiting[0]->id, g1.self.id); // by waiting_since
	assert_string_equal(w->waiting[1]->id, g2.self.id);

	// Never announced as participants, not in the roster.
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, m, JOINED, g1.self.id), 0);
	assert_int_equal(reg_test_count(&T, m, JOINED, g2.self.id), 0);
	struct reg_roster roster;
	assert_int_equal(reg_presence_list(&T.ctx, m, &roster, &why), HD_OK);
	assert_int_equal(roster.n, 1);
	assert_string_equal(roster.members[0].id, h.self.id);
	reg_roster_fini(&roster);
	room(m, &r);
	assert_int_equal(r.admitted.n, 1);
	assert_int_equal(r.waiting.n, 2);
	assert_true(r.host_present);
	reg_room_fini(&r);

	// A waiting guest cannot signal, be signalled, change media, raise a
	// hand or react.
	Huddle__V1__IceCandidate cand = HUDDLE__V1__ICE_CANDIDATE__INIT;
	Huddle__V1__Signal sig = HUDDLE__V1__SIGNAL__INIT;
	Huddle__V1__RelaySignalRequest rs = HUDDLE__V1__RELAY_SIGNAL_REQUEST__INIT;
	cand.candidate = "candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host";
	sig.kind_case = HUDDLE__V1__SIGNAL__KIND_CANDIDATE;
	sig.candidate = &cand;
	rs.meeting_id = m;
	rs.signal = &sig;
	rs.from = g1.self.id;
	rs.to = h.self.id;
	assert_int_equal(reg_presence_relay(&T.ctx, &rs, &why), HD_EFORBIDDEN);
	rs.from = h.self.id;
	rs.to = g1.self.id;
	assert_int_equal(reg_presence_relay(&T.ctx, &rs, &why), HD_EUNKNOWNPARTICIPANT);
	struct reg_member out;
	assert_int_equal(reg_presence_update_media(&T.ctx, m, g1.self.id, NULL, t0 + 3, &out, &why), HD_EFORBIDDEN);
	assert_int_equal(hand(m, g1.self.id, true, t0 + 3, NULL), HD_EFORBIDDEN);
	assert_int_equal(react(m, g1.self.id, "\xF0\x9F\x91\x8D"), HD_EFORBIDDEN);
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, m, HUDDLE__V1__ROOM_EVENT__BODY_SIGNAL, NULL), 0);
	assert_int_equal(reg_test_count(&T, m, UPDATED, g1.self.id), 0);
	assert_int_equal(reg_test_count(&T, m, REACTION, NULL), 0);

	// A waiting guest who leaves changes the waiting room, nothing else.
	assert_int_equal(reg_presence_leave(&T.ctx, m, g2.self.id, &why), HD_OK);
	last_waiting(m, 1, true);
	assert_int_equal(reg_test_count(&T, m, LEFT, g2.self.id), 0);
	// The host leaving: host_present goes false.
	assert_int_equal(reg_presence_leave(&T.ctx, m, h.self.id, &why), HD_OK);
	assert_int_equal(reg_test_wait(&T, m, LEFT, h.self.id, 1, EVENT_MS), 1);
	last_waiting(m, 1, false);
	reg_join_fini(&g1);
	reg_join_fini(&h);
	reg_join_fini(&g2);
}

static void access_rules(void **state)
{
	char open[23], locked[23], token[23], wr[23], k_open[HD_KEY_LEN + 1], k_locked[HD_KEY_LEN + 1],
		k_token[HD_KEY_LEN + 1], k_wr[HD_KEY_LEN + 1];
	struct reg_join j;
	int64_t t0 = hd_now_ms();
	reg_test_host_meeting(&T, HD_ACCESS_OPEN, open, k_open);
	reg_test_host_meeting(&T, HD_ACCESS_LOCKED, locked, k_locked);
	reg_test_host_meeting(&T, HD_ACCESS_TOKEN_ONLY, token, k_token);
	reg_test_host_meeting(&T, HD_ACCESS_WAITING_ROOM, wr, k_wr);

	// Open: guests go in; a wrong host key is refused, never a guest join.
	join_ok(open, "Olga", NULL, t0, &j);
	assert_int_equal(j.self.admission, IS_ADMITTED);
	assert_int_equal(j.self.role, GUEST);
	assert_false(j.host_present);
	reg_join_fini(&j);
	assert_int_equal(join_as(open, "Eve", &(struct who){.host_key = k_locked}, t0, &j), HD_EFORBIDDEN);
	assert_int_equal(join_as(open, "Eve", &(struct who){.host_key = "not-a-key"}, t0, &j), HD_EFORBIDDEN);
	// A bad client key is a bad request.
	assert_int_equal(join_as(open, "Eve", &(struct who){.client_key = "a b"}, t0, &j), HD_EBADREQUEST);
	char long_key[66];
	memset(long_key, 'k', 65);
	long_key[65] = '\0';
	assert_int_equal(join_as(open, "Eve", &(struct who){.client_key = long_key}, t0, &j), HD_EBADREQUEST);
	long_key[64] = '\0';
	join_ok(open, "Kim", &(struct who){.client_key = long_key}, t0, &j);
	reg_join_fini(&j);

	// Locked: nobody new but hosts (by key or by a host grant).
	assert_int_equal(join_as(locked, "Gail", NULL, t0, &j), HD_EMEETINGLOCKED);
	assert_int_equal(join_as(locked, "Gail", &(struct who){.grant_role = GUEST}, t0, &j), HD_EMEETINGLOCKED);
	join_ok(locked, "Hana", &(struct who){.host_key = k_locked}, t0, &j);
	assert_int_equal(j.self.role, HOST);
	assert_int_equal(j.self.admission, IS_ADMITTED);
	reg_join_fini(&j);
	join_ok(locked, "x", &(struct who){.grant_role = HOST, .grant_name = "Dr. Who"}, t0, &j);
	assert_int_equal(j.self.role, HOST);
	assert_string_equal(j.self.display_name, "Dr. Who"); // the grant names the joiner
	reg_join_fini(&j);

	// Token only: a grant is needed; a guest grant goes in.
	assert_int_equal(join_as(token, "Gail", NULL, t0, &j), HD_ETOKENINVALID);
	join_ok(token, "Gail", &(struct who){.grant_role = GUEST, .grant_name = ""}, t0, &j);
	assert_int_equal(j.self.admission, IS_ADMITTED);
	assert_int_equal(j.self.role, GUEST);
	assert_string_equal(j.self.display_name, "Gail"); // a grant without a name keeps the asked one
	reg_join_fini(&j);
	join_ok(token, "Hana", &(struct who){.host_key = k_token}, t0, &j);
	assert_int_equal(j.self.role, HOST);
	reg_join_fini(&j);

	// Waiting room: a guest grant waits, a host grant goes in.
	join_ok(wr, "Gail", &(struct who){.grant_role = GUEST}, t0, &j);
	assert_int_equal(j.self.admission, IS_WAITING);
	reg_join_fini(&j);
	join_ok(wr, "Hana", &(struct who){.grant_role = HOST}, t0, &j);
	assert_int_equal(j.self.admission, IS_ADMITTED);
	assert_int_equal(j.self.role, HOST);
	assert_int_equal(j.waiting.n, 1);
	reg_join_fini(&j);

	// A space's key is a host key of every meeting of the space.
	char space_key[HD_KEY_LEN + 1], mk[HD_KEY_LEN + 1];
	struct hd_space sp;
	struct hd_meeting sm;
	const char *why;
	assert_int_equal(reg_space_create(T.store, "Clinic", t0, &sp, space_key, &why), HD_OK);
	struct reg_meeting_spec spec = {.title = "Consult", .space_key = space_key};
	assert_int_equal(reg_meeting_new(T.store, &spec, t0, &sm, mk, &why), HD_OK);
	assert_int_equal(sm.access_mode, HD_ACCESS_WAITING_ROOM);
	reg_test_subscribe(&T, sm.id);
	join_ok(sm.id, "Pro", &(struct who){.host_key = space_key}, t0, &j);
	assert_int_equal(j.self.role, HOST);
	reg_join_fini(&j);
	join_ok(sm.id, "Client", NULL, t0, &j);
	assert_int_equal(j.self.admission, IS_WAITING);
	reg_join_fini(&j);
	assert_int_equal(join_as(sm.id, "Eve", &(struct who){.host_key = k_wr}, t0, &j), HD_EFORBIDDEN);
}

static void admit_and_deny(void **state)
{
	char m[23], key[HD_KEY_LEN + 1], stranger[HD_ID_LEN + 1];
	struct reg_join h, g[3];
	struct reg_room r;
	size_t n;
	int64_t t0 = hd_now_ms();
	reg_test_host_meeting(&T, HD_ACCESS_WAITING_ROOM, m, key);
	join_ok(m, "Hana", &(struct who){.host_key = key}, t0, &h);
	const char *names[] = {"Ann", "Ben", "Cat"};
	for (int i = 0; i < 3; i++) {
		join_ok(m, names[i], NULL, t0 + 1 + i, &g[i]);
		assert_int_equal(g[i].self.admission, IS_WAITING);
	}
	last_waiting(m, 3, true);

	// Admit Ann (by the host in the call): admission, then participant_joined.
	assert_int_equal(hd_id_random(stranger), HD_OK);
	const char *ids[] = {g[0].self.id, stranger, "not-an-id", NULL};
	assert_int_equal(admit(&T.ctx, m, h.self.id, NULL, ids, false, &n), HD_OK);
	assert_int_equal(n, 1); // the unknown ones are skipped
	assert_int_equal(reg_test_wait(&T, m, JOINED, g[0].self.id, 1, EVENT_MS), 1);
	const Huddle__V1__RoomEvent *ev = reg_test_find(&T, m, ADMISSION, g[0].self.id);
	assert_non_null(ev);
	assert_int_equal(ev->admission->state, IS_ADMITTED);
	// ... in that order.
	pthread_mutex_lock(&T.events.mtx);
	size_t at_admission = SIZE_MAX, at_joined = SIZE_MAX;
	for (size_t i = 0; i < T.events.n; i++) {
		if (T.events.ev[i] == ev)
			at_admission = i;
		if (T.events.ev[i]->body_case == JOINED &&
		    strcmp(T.events.ev[i]->participant_joined->participant->id, g[0].self.id) == 0)
			at_joined = i;
	}
	pthread_mutex_unlock(&T.events.mtx);
	assert_true(at_admission < at_joined);
	last_waiting(m, 2, true);
	room(m, &r);
	assert_int_equal(r.admitted.n, 2);
	assert_int_equal(r.waiting.n, 2);
	reg_room_fini(&r);

	// Admitting twice is harmless and says nothing again.
	const char *again[] = {g[0].self.id, NULL};
	assert_int_equal(admit(&T.ctx, m, h.self.id, NULL, again, false, &n), HD_OK);
	assert_int_equal(n, 0);

	// Deny Ben (by host key, as the dashboard does): gone, told DENIED.
	const char *ben[] = {g[1].self.id, NULL};
	assert_int_equal(admit(&T.ctx, m, NULL, key, ben, true, &n), HD_OK);
	assert_int_equal(n, 1);
	assert_int_equal(reg_test_wait(&T, m, ADMISSION, g[1].self.id, 1, EVENT_MS), 1);
	assert_int_equal(reg_test_find(&T, m, ADMISSION, g[1].self.id)->admission->state,
			 HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_DENIED);
	last_waiting(m, 1, true);

	// Admit all: Cat.
	assert_int_equal(admit(&T.ctx, m, h.self.id, NULL, NULL, false, &n), HD_OK);
	assert_int_equal(n, 1);
	assert_int_equal(reg_test_wait(&T, m, JOINED, g[2].self.id, 1, EVENT_MS), 1);
	last_waiting(m, 0, true);
	room(m, &r);
	assert_int_equal(r.admitted.n, 3);
	assert_int_equal(r.waiting.n, 0);
	reg_room_fini(&r);
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, m, JOINED, g[1].self.id), 0);
	assert_int_equal(reg_test_count(&T, m, ADMISSION, g[0].self.id), 1);
	reg_join_fini(&h);
	for (int i = 0; i < 3; i++)
		reg_join_fini(&g[i]);
}

#define RACE_GUESTS 20
#define RACERS 2

struct racer {
	struct reg_ctx ctx;
	const char *meeting, *host_id;
	const char **ids;
	pthread_barrier_t *go;
	size_t done;
	hd_err err;
};

static void *racer_thread(void *p)
{
	struct racer *r = p;
	pthread_barrier_wait(r->go);
	r->err = admit(&r->ctx, r->meeting, r->host_id, NULL, r->ids, false, &r->done);
	return NULL;
}

static void admit_race(void **state)
{
	char m[23], key[HD_KEY_LEN + 1];
	struct reg_join h, g[RACE_GUESTS];
	const char *ids[RACE_GUESTS + 1] = {0};
	struct racer racers[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t go;
	int64_t t0 = hd_now_ms();
	reg_test_host_meeting(&T, HD_ACCESS_WAITING_ROOM, m, key);
	join_ok(m, "Hana", &(struct who){.host_key = key}, t0, &h);
	for (int i = 0; i < RACE_GUESTS; i++) {
		join_ok(m, "Guest", NULL, t0 + i, &g[i]);
		ids[i] = g[i].self.id;
	}
	// Two hosts (two workers, two connections) admit the same people at once.
	pthread_barrier_init(&go, NULL, RACERS);
	for (int i = 0; i < RACERS; i++) {
		reg_test_ctx_open(&T, &racers[i].ctx);
		racers[i].meeting = m;
		racers[i].host_id = h.self.id;
		racers[i].ids = ids;
		racers[i].go = &go;
		assert_int_equal(pthread_create(&th[i], NULL, racer_thread, &racers[i]), 0);
	}
	size_t total = 0;
	for (int i = 0; i < RACERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(racers[i].err, HD_OK);
		total += racers[i].done;
		reg_test_ctx_close(&racers[i].ctx);
	}
	pthread_barrier_destroy(&go);
	assert_int_equal(total, RACE_GUESTS); // each admitted by exactly one of them
	for (int i = 0; i < RACE_GUESTS; i++)
		assert_int_equal(reg_test_wait(&T, m, JOINED, ids[i], 1, EVENT_MS), 1);
	usleep(QUIET_MS * 1000);
	for (int i = 0; i < RACE_GUESTS; i++) {
		assert_int_equal(reg_test_count(&T, m, JOINED, ids[i]), 1);
		assert_int_equal(reg_test_count(&T, m, ADMISSION, ids[i]), 1);
	}
	reg_join_fini(&h);
	for (int i = 0; i < RACE_GUESTS; i++)
		reg_join_fini(&g[i]);
}

static void non_hosts_forbidden(void **state)
{
	char m[23], key[HD_KEY_LEN + 1], other[23], other_key[HD_KEY_LEN + 1];
	struct reg_join h, guest, w;
	struct reg_room r;
	int64_t t0 = hd_now_ms();
	reg_test_host_meeting(&T, HD_ACCESS_WAITING_ROOM, m, key);
	reg_test_host_meeting(&T, HD_ACCESS_OPEN, other, other_key);
	join_ok(m, "Hana", &(struct who){.host_key = key}, t0, &h);
	join_ok(m, "Gail", &(struct who){.grant_role = HOST}, t0, &guest); // a host by grant
	join_ok(m, "Walt", NULL, t0, &w);
	// Walt admitted (a guest in the call), Xena waiting (to act on).
	const char *walt[] = {w.self.id, NULL};
	assert_int_equal(admit(&T.ctx, m, h.self.id, NULL, walt, false, NULL), HD_OK);
	struct reg_join x;
	join_ok(m, "Xena", NULL, t0, &x);
	const char *xena[] = {x.self.id, NULL};

	// Actors that are not hosts: an admitted guest, a waiting guest, a host
	// of another meeting (by key or by participant id), nobody.
	struct {
		const char *id, *key;
	} actors[] = {{w.self.id, NULL}, {x.self.id, NULL}, {NULL, other_key},
		      {NULL, "nope"},    {NULL, NULL},      {"AAAAAAAAAAAAAAAAAAAAAA", NULL}};
	for (size_t a = 0; a < sizeof(actors) / sizeof(actors[0]); a++) {
		const char *id = actors[a].id, *k = actors[a].key;
		assert_int_equal(admit(&T.ctx, m, id, k, xena, false, NULL), HD_EFORBIDDEN);
		assert_int_equal(admit(&T.ctx, m, id, k, NULL, true, NULL), HD_EFORBIDDEN);
		for (int act = HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_MUTE;
		     act <= HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_LOWER_HAND; act++)
			if (moderate(m, id, k, h.self.id, act, t0) != HD_EFORBIDDEN)
				fail_msg("actor %zu could %s", a, actions_all[act - 1]);
		assert_int_equal(set_access(m, id, k, HD_ACCESS_OPEN), HD_EFORBIDDEN);
		assert_int_equal(end_meeting(m, id, k), HD_EFORBIDDEN);
	}
	// Nothing changed: Xena waits, the host is a host, the mode is as set.
	room(m, &r);
	assert_int_equal(r.waiting.n, 1);
	assert_string_equal(r.waiting.members[0].id, x.self.id);
	assert_int_equal(r.admitted.n, 3);
	assert_true(r.host_present);
	reg_room_fini(&r);
	struct hd_meeting mt;
	const char *why;
	assert_int_equal(reg_meeting_get(T.store, m, &mt, &why), HD_OK);
	assert_int_equal(mt.access_mode, HD_ACCESS_WAITING_ROOM);
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, m, MODERATED, NULL), 0);
	assert_int_equal(reg_test_count(&T, m, ENDED, NULL), 0);
	assert_int_equal(reg_test_count(&T, m, ADMISSION, x.self.id), 0);
	// Unknown meeting; a bad action.
	assert_int_equal(end_meeting("AAAAAAAAAAAAAAAAAAAAAA", NULL, key), HD_EUNKNOWNMEETING);
	assert_int_equal(moderate(m, h.self.id, NULL, w.self.id, 99, t0), HD_EBADREQUEST);
	assert_int_equal(moderate(m, h.self.id, NULL, w.self.id, 0, t0), HD_EBADREQUEST);
	assert_int_equal(set_access(m, h.self.id, NULL, 0), HD_EBADREQUEST);
	assert_int_equal(set_access(m, h.self.id, NULL, 5), HD_EBADREQUEST);
	// The host grant holder is a host: it may act.
	assert_int_equal(guest.self.role, HOST);
	assert_int_equal(
		moderate(m, guest.self.id, NULL, w.self.id, HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_MUTE, t0),
		HD_OK);
	assert_int_equal(reg_test_wait(&T, m, MODERATED, w.self.id, 1, EVENT_MS), 1);
	const Huddle__V1__Moderated *md = reg_test_find(&T, m, MODERATED, w.self.id)->moderated;
	assert_int_equal(md->action, HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_MUTE);
	assert_string_equal(md->by_participant_id, guest.self.id);
	assert_string_equal(md->by_name, "Gail");
	// A target who is not a member.
	assert_int_equal(moderate(m, h.self.id, NULL, "AAAAAAAAAAAAAAAAAAAAAA",
				  HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_MUTE, t0),
			 HD_EUNKNOWNPARTICIPANT);
	reg_join_fini(&h);
	reg_join_fini(&guest);
	reg_join_fini(&w);
	reg_join_fini(&x);
}

static void remove_and_block(void **state)
{
	char m[23], key[HD_KEY_LEN + 1];
	struct reg_join h, g, back, fresh, x;
	const char *why;
	int64_t t0 = hd_now_ms();
	reg_test_host_meeting(&T, HD_ACCESS_OPEN, m, key);
	join_ok(m, "Hana", &(struct who){.host_key = key}, t0, &h);
	join_ok(m, "Gail", &(struct who){.client_key = "gail-device"}, t0, &g);
	assert_int_equal(g.self.admission, IS_ADMITTED);

	// Remove: moderated, then participant_left REMOVED.
	assert_int_equal(
		moderate(m, h.self.id, NULL, g.self.id, HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_REMOVE, t0),
		HD_OK);
	assert_int_equal(reg_test_wait(&T, m, LEFT, g.self.id, 1, EVENT_MS), 1);
	assert_int_equal(reg_test_find(&T, m, LEFT, g.self.id)->participant_left->reason,
			 HUDDLE__V1__LEAVE_REASON__LEAVE_REASON_REMOVED);
	const Huddle__V1__Moderated *md = reg_test_find(&T, m, MODERATED, g.self.id)->moderated;
	assert_int_equal(md->action, HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_REMOVE);
	assert_string_equal(md->by_name, "Hana");
	struct reg_member out;
	assert_int_equal(reg_presence_update_media(&T.ctx, m, g.self.id, NULL, t0, &out, &why), HD_EUNKNOWNPARTICIPANT);

	// Back with the same client key, in an open meeting: the waiting room.
	join_ok(m, "Gail", &(struct who){.client_key = "gail-device"}, t0 + 1, &back);
	assert_int_equal(back.self.admission, IS_WAITING);
	assert_int_equal(back.others.n, 0);
	last_waiting(m, 1, true);
	// Another device goes in; a host with the same client key too.
	join_ok(m, "Fred", &(struct who){.client_key = "fred-device"}, t0 + 1, &fresh);
	assert_int_equal(fresh.self.admission, IS_ADMITTED);
	reg_join_fini(&fresh);
	join_ok(m, "Hana 2", &(struct who){.host_key = key, .client_key = "gail-device"}, t0 + 1, &x);
	assert_int_equal(x.self.admission, IS_ADMITTED);
	reg_join_fini(&x);
	// A day later the removal is forgotten.
	join_ok(m, "Gail", &(struct who){.client_key = "gail-device"}, t0 + (int64_t)REG_REMOVED_TTL_S * 1000 + 1, &x);
	assert_int_equal(x.self.admission, IS_ADMITTED);
	reg_join_fini(&x);

	// Block the returning (waiting) one: gone from the waiting room, and
	// refused from now on, whatever the mode.
	assert_int_equal(
		moderate(m, NULL, key, back.self.id, HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_BLOCK, t0 + 2),
		HD_OK);
	assert_int_equal(reg_test_wait(&T, m, MODERATED, back.self.id, 1, EVENT_MS), 1);
	md = reg_test_find(&T, m, MODERATED, back.self.id)->moderated;
	assert_int_equal(md->action, HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_BLOCK);
	assert_string_equal(md->by_participant_id, ""); // by key
	last_waiting(m, 0, true);
	assert_int_equal(join_as(m, "Gail", &(struct who){.client_key = "gail-device"}, t0 + 3, &x), HD_EBLOCKED);
	assert_int_equal(join_as(m, "Gail", &(struct who){.client_key = "gail-device"},
				 t0 + (int64_t)REG_REMOVED_TTL_S * 1000 + 1, &x),
			 HD_EBLOCKED);
	// An admitted one blocked: left REMOVED as well.
	join_ok(m, "Mo", &(struct who){.client_key = "mo-device"}, t0 + 3, &x);
	assert_int_equal(
		moderate(m, h.self.id, NULL, x.self.id, HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_BLOCK, t0 + 4),
		HD_OK);
	assert_int_equal(reg_test_wait(&T, m, LEFT, x.self.id, 1, EVENT_MS), 1);
	assert_int_equal(reg_test_find(&T, m, LEFT, x.self.id)->participant_left->reason,
			 HUDDLE__V1__LEAVE_REASON__LEAVE_REASON_REMOVED);
	reg_join_fini(&x);
	assert_int_equal(join_as(m, "Mo", &(struct who){.client_key = "mo-device"}, t0 + 5, &x), HD_EBLOCKED);
	reg_join_fini(&h);
	reg_join_fini(&g);
	reg_join_fini(&back);
}

static void make_host(void **state)
{
	char m[23], key[HD_KEY_LEN + 1];
	struct reg_join h, g, w;
	size_t n;
	int64_t t0 = hd_now_ms();
	reg_test_host_meeting(&T, HD_ACCESS_WAITING_ROOM, m, key);
	join_ok(m, "Hana", &(struct who){.host_key = key}, t0, &h);
	join_ok(m, "Gail", NULL, t0 + 1, &g);
	const char *gail[] = {g.self.id, NULL};
	assert_int_equal(admit(&T.ctx, m, h.self.id, NULL, gail, false, NULL), HD_OK);
	join_ok(m, "Walt", NULL, t0 + 2, &w);
	const char *walt[] = {w.self.id, NULL};
	assert_int_equal(admit(&T.ctx, m, g.self.id, NULL, walt, false, &n), HD_EFORBIDDEN);

	assert_int_equal(moderate(m, h.self.id, NULL, g.self.id,
				  HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_MAKE_HOST, t0 + 3),
			 HD_OK);
	assert_int_equal(reg_test_wait(&T, m, MODERATED, g.self.id, 1, EVENT_MS), 1);
	assert_int_equal(reg_test_wait(&T, m, UPDATED, g.self.id, 1, EVENT_MS), 1);
	assert_int_equal(reg_test_find(&T, m, UPDATED, g.self.id)->participant_updated->participant->role, HOST);
	// The old host leaves; the new one keeps host_present true and admits.
	const char *why;
	assert_int_equal(reg_presence_leave(&T.ctx, m, h.self.id, &why), HD_OK);
	last_waiting(m, 1, true);
	assert_int_equal(admit(&T.ctx, m, g.self.id, NULL, walt, false, &n), HD_OK);
	assert_int_equal(n, 1);
	assert_int_equal(reg_test_wait(&T, m, JOINED, w.self.id, 1, EVENT_MS), 1);
	// Making a waiting one host is not possible; nor is it needed twice.
	struct reg_join x;
	join_ok(m, "Xena", NULL, t0 + 4, &x);
	assert_int_equal(moderate(m, g.self.id, NULL, x.self.id,
				  HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_MAKE_HOST, t0 + 5),
			 HD_EUNKNOWNPARTICIPANT);
	assert_int_equal(moderate(m, g.self.id, NULL, g.self.id,
				  HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_MAKE_HOST, t0 + 5),
			 HD_OK);
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, m, MODERATED, g.self.id), 1);
	reg_join_fini(&h);
	reg_join_fini(&g);
	reg_join_fini(&w);
	reg_join_fini(&x);
}

static void resume_keeps_admission(void **state)
{
	char m[23], key[HD_KEY_LEN + 1];
	struct reg_join h, g, a, r;
	int64_t t0 = hd_now_ms();
	reg_test_host_meeting(&T, HD_ACCESS_WAITING_ROOM, m, key);
	join_ok(m, "Hana", &(struct who){.host_key = key}, t0, &h);
	join_ok(m, "Gail", NULL, t0 + 1, &g);
	join_ok(m, "Ann", NULL, t0 + 2, &a);
	const char *ann[] = {a.self.id, NULL};
	assert_int_equal(admit(&T.ctx, m, h.self.id, NULL, ann, false, NULL), HD_OK);

	// Waiting stays waiting: no roster, still in the waiting room.
	assert_int_equal(resume(m, &g, t0 + 10, &r), HD_OK);
	assert_true(r.resumed);
	assert_int_equal(r.self.admission, IS_WAITING);
	assert_int_equal(r.self.waiting_since_ms, t0 + 1);
	assert_int_equal(r.others.n, 0);
	assert_true(r.host_present);
	assert_string_equal(r.self.gateway_id, "gw-2");
	reg_join_fini(&r);
	// Admitted stays admitted, with the roster.
	assert_int_equal(resume(m, &a, t0 + 10, &r), HD_OK);
	assert_int_equal(r.self.admission, IS_ADMITTED);
	assert_int_equal(r.self.role, GUEST);
	assert_int_equal(r.others.n, 1);
	reg_join_fini(&r);
	// A host stays a host and gets the waiting room.
	assert_int_equal(resume(m, &h, t0 + 10, &r), HD_OK);
	assert_int_equal(r.self.role, HOST);
	assert_int_equal(r.waiting.n, 1);
	assert_string_equal(r.waiting.members[0].id, g.self.id);
	reg_join_fini(&r);
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, m, JOINED, g.self.id), 0);
	assert_int_equal(reg_test_count(&T, m, JOINED, a.self.id), 1);
	struct reg_room rm;
	room(m, &rm);
	assert_int_equal(rm.waiting.n, 1);
	assert_int_equal(rm.admitted.n, 2);
	reg_room_fini(&rm);
	reg_join_fini(&h);
	reg_join_fini(&g);
	reg_join_fini(&a);
}

static void waiting_expiry(void **state)
{
	char m[23], key[HD_KEY_LEN + 1];
	struct reg_join h, g;
	size_t expired;
	int64_t t0 = hd_now_ms();
	reg_test_host_meeting(&T, HD_ACCESS_WAITING_ROOM, m, key);
	join_ok(m, "Gail", NULL, t0, &g);
	join_ok(m, "Hana", &(struct who){.host_key = key}, t0 + 1000, &h);
	last_waiting(m, 1, true);

	// The waiting guest goes silent: the waiting room empties, and nobody
	// is told a participant left.
	assert_int_equal(reg_presence_sweep(&T.ctx, t0 + REG_TEST_TTL_MS + 1, &expired), HD_OK);
	assert_int_equal(expired, 1);
	last_waiting(m, 0, true);
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, m, LEFT, g.self.id), 0);

	// The host goes silent: left, and no host is present any more.
	assert_int_equal(reg_presence_sweep(&T.ctx, t0 + 1000 + REG_TEST_TTL_MS + 1, &expired), HD_OK);
	assert_int_equal(expired, 1);
	assert_int_equal(reg_test_wait(&T, m, LEFT, h.self.id, 1, EVENT_MS), 1);
	last_waiting(m, 0, false);
	reg_join_fini(&h);
	reg_join_fini(&g);
}

static void hands_and_reactions(void **state)
{
	char m[23];
	struct reg_join a, b;
	struct reg_member out;
	struct reg_room r;
	int64_t t0 = hd_now_ms();
	reg_test_meeting(&T, m);
	join_ok(m, "Ann", NULL, t0, &a);
	join_ok(m, "Ben", NULL, t0, &b);

	assert_int_equal(hand(m, b.self.id, true, t0 + 10, &out), HD_OK);
	assert_int_equal(out.hand_raised_at_ms, t0 + 10);
	assert_int_equal(hand(m, a.self.id, true, t0 + 20, &out), HD_OK);
	// Raising again keeps the place in the queue (and tells nobody).
	assert_int_equal(hand(m, b.self.id, true, t0 + 30, &out), HD_OK);
	assert_int_equal(out.hand_raised_at_ms, t0 + 10);
	assert_int_equal(reg_test_wait(&T, m, UPDATED, a.self.id, 1, EVENT_MS), 1);
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, m, UPDATED, b.self.id), 1);
	assert_int_equal(reg_test_find(&T, m, UPDATED, b.self.id)->participant_updated->participant->hand_raised_at_ms,
			 t0 + 10);
	room(m, &r);
	for (size_t i = 0; i < r.admitted.n; i++)
		assert_int_equal(r.admitted.members[i].hand_raised_at_ms,
				 strcmp(r.admitted.members[i].id, a.self.id) == 0 ? t0 + 20 : t0 + 10);
	reg_room_fini(&r);
	// Media changes keep the hand.
	assert_int_equal(reg_presence_update_media(&T.ctx, m, a.self.id, NULL, t0 + 40, &out, &(const char *){NULL}),
			 HD_OK);
	assert_int_equal(out.hand_raised_at_ms, t0 + 20);
	// Lowered by oneself, or by a host (LOWER_HAND).
	assert_int_equal(hand(m, b.self.id, false, t0 + 50, &out), HD_OK);
	assert_int_equal(out.hand_raised_at_ms, 0);
	assert_int_equal(hand(m, "AAAAAAAAAAAAAAAAAAAAAA", true, t0, NULL), HD_EUNKNOWNPARTICIPANT);

	// Reactions: the six, nothing else.
	for (size_t i = 0; reg_reaction_emoji[i] != NULL; i++)
		assert_int_equal(react(m, a.self.id, reg_reaction_emoji[i]), HD_OK);
	assert_int_equal(reg_test_wait(&T, m, REACTION, a.self.id, 6, EVENT_MS), 6);
	assert_string_equal(reg_test_find(&T, m, REACTION, a.self.id)->reaction->emoji, "\xF0\x9F\x91\x8D");
	const char *bad[] = {"", "\xF0\x9F\x99\x82" /* 🙂 */, "\xE2\x9D\xA4" /* ❤ without VS16 */, "thumbs up",
			     "\xF0\x9F\x91\x8D\xF0\x9F\x91\x8D"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(react(m, a.self.id, bad[i]), HD_EBADREQUEST);
	assert_int_equal(react(m, "AAAAAAAAAAAAAAAAAAAAAA", "\xF0\x9F\x91\x8D"), HD_EUNKNOWNPARTICIPANT);
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, m, REACTION, NULL), 6);
	reg_join_fini(&a);
	reg_join_fini(&b);
}

static void lower_hand_by_host(void **state)
{
	char m[23], key[HD_KEY_LEN + 1];
	struct reg_join h, g;
	struct reg_member out;
	int64_t t0 = hd_now_ms();
	reg_test_host_meeting(&T, HD_ACCESS_OPEN, m, key);
	join_ok(m, "Hana", &(struct who){.host_key = key}, t0, &h);
	join_ok(m, "Gail", NULL, t0, &g);
	assert_int_equal(hand(m, g.self.id, true, t0 + 5, &out), HD_OK);
	assert_int_equal(moderate(m, h.self.id, NULL, g.self.id,
				  HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_LOWER_HAND, t0 + 6),
			 HD_OK);
	assert_int_equal(reg_test_wait(&T, m, MODERATED, g.self.id, 1, EVENT_MS), 1);
	assert_int_equal(reg_test_wait(&T, m, UPDATED, g.self.id, 2, EVENT_MS), 2);
	assert_int_equal(reg_test_last(&T, m, UPDATED, g.self.id)->participant_updated->participant->hand_raised_at_ms,
			 0);
	// CAMERA_OFF: only told.
	assert_int_equal(moderate(m, h.self.id, NULL, g.self.id,
				  HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_CAMERA_OFF, t0 + 7),
			 HD_OK);
	assert_int_equal(reg_test_wait(&T, m, MODERATED, g.self.id, 2, EVENT_MS), 2);
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, m, UPDATED, g.self.id), 2);
	reg_join_fini(&h);
	reg_join_fini(&g);
}

static void set_access_and_end(void **state)
{
	char m[23], key[HD_KEY_LEN + 1];
	struct reg_join h, g[2], x;
	struct reg_room r;
	struct hd_meeting mt;
	const char *why;
	int64_t t0 = hd_now_ms();
	reg_test_host_meeting(&T, HD_ACCESS_WAITING_ROOM, m, key);
	join_ok(m, "Hana", &(struct who){.host_key = key}, t0, &h);
	join_ok(m, "Ann", NULL, t0, &g[0]);
	join_ok(m, "Ben", &(struct who){.client_key = "ben-device"}, t0, &g[1]);

	// Open: everyone waiting is in; the meeting says so.
	assert_int_equal(set_access(m, NULL, key, HD_ACCESS_OPEN), HD_OK);
	assert_int_equal(reg_test_wait(&T, m, UPDATED_MEETING, NULL, 1, EVENT_MS), 1);
	const Huddle__V1__Meeting *pm = reg_test_find(&T, m, UPDATED_MEETING, NULL)->meeting_updated->meeting;
	assert_string_equal(pm->id, m);
	assert_int_equal(pm->access_mode, HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_OPEN);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(reg_test_wait(&T, m, ADMISSION, g[i].self.id, 1, EVENT_MS), 1);
		assert_int_equal(reg_test_wait(&T, m, JOINED, g[i].self.id, 1, EVENT_MS), 1);
	}
	assert_int_equal(reg_meeting_get(T.store, m, &mt, &why), HD_OK);
	assert_int_equal(mt.access_mode, HD_ACCESS_OPEN);

	// Locked by the host in the call: nobody new.
	assert_int_equal(set_access(m, h.self.id, NULL, HD_ACCESS_LOCKED), HD_OK);
	assert_int_equal(join_as(m, "Zed", NULL, t0, &x), HD_EMEETINGLOCKED);
	assert_int_equal(set_access(m, h.self.id, NULL, HD_ACCESS_WAITING_ROOM), HD_OK);
	// Ben removed, then someone waits.
	assert_int_equal(
		moderate(m, h.self.id, NULL, g[1].self.id, HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_REMOVE, t0),
		HD_OK);
	join_ok(m, "Zed", NULL, t0, &x);
	assert_int_equal(x.self.admission, IS_WAITING);

	// End for all: everyone out, told by whom; the removed list is cleared.
	assert_int_equal(end_meeting(m, h.self.id, NULL), HD_OK);
	assert_int_equal(reg_test_wait(&T, m, ENDED, NULL, 1, EVENT_MS), 1);
	assert_string_equal(reg_test_find(&T, m, ENDED, NULL)->meeting_ended->by_name, "Hana");
	assert_int_equal(reg_test_wait(&T, m, LEFT, g[0].self.id, 1, EVENT_MS), 1);
	assert_int_equal(reg_test_find(&T, m, LEFT, g[0].self.id)->participant_left->reason,
			 HUDDLE__V1__LEAVE_REASON__LEAVE_REASON_ENDED);
	last_waiting(m, 0, false);
	room(m, &r);
	assert_int_equal(r.admitted.n, 0);
	assert_int_equal(r.waiting.n, 0);
	assert_false(r.host_present);
	reg_room_fini(&r);
	struct reg_join again;
	assert_int_equal(resume(m, &h, t0 + 1, &again), HD_ERESUMEREJECTED);
	assert_int_equal(set_access(m, NULL, key, HD_ACCESS_OPEN), HD_OK);
	join_ok(m, "Ben", &(struct who){.client_key = "ben-device"}, t0 + 2, &again);
	assert_int_equal(again.self.admission, IS_ADMITTED);
	reg_join_fini(&again);
	// Ended by key: by_name "".
	assert_int_equal(end_meeting(m, NULL, key), HD_OK);
	assert_int_equal(reg_test_wait(&T, m, ENDED, NULL, 2, EVENT_MS), 2);
	assert_string_equal(reg_test_last(&T, m, ENDED, NULL)->meeting_ended->by_name, "");
	reg_join_fini(&h);
	reg_join_fini(&g[0]);
	reg_join_fini(&g[1]);
	reg_join_fini(&x);
}

static void space_status(void **state)
{
	char space_key[HD_KEY_LEN + 1], none[HD_KEY_LEN + 1];
	struct hd_space sp;
	struct hd_meeting m1, m2;
	struct reg_space_status st;
	struct reg_join h, g1, g2;
	const char *why;
	int64_t t0 = hd_now_ms();
	assert_int_equal(reg_space_create(T.store, "Clinic", t0, &sp, space_key, &why), HD_OK);
	struct reg_meeting_spec s1 = {.title = "Later", .space_key = space_key, .starts_at_ms = t0 + 7200000};
	struct reg_meeting_spec s2 = {.title = "Sooner", .space_key = space_key, .starts_at_ms = t0 + 3600000};
	assert_int_equal(reg_meeting_new(T.store, &s1, t0, &m1, none, &why), HD_OK);
	assert_int_equal(reg_meeting_new(T.store, &s2, t0, &m2, none, &why), HD_OK);
	reg_test_subscribe(&T, m1.id);
	reg_test_subscribe(&T, m2.id);
	join_ok(m1.id, "Client One", NULL, t0, &g1);
	join_ok(m2.id, "Pro", &(struct who){.host_key = space_key}, t0, &h);
	join_ok(m2.id, "Client Two", NULL, t0 + 1, &g2);

	assert_int_equal(reg_space_read(&T.ctx, space_key, &st, &why), HD_OK);
	assert_string_equal(st.space.id, sp.id);
	assert_string_equal(st.space.title, "Clinic");
	assert_int_equal(st.n, 2);
	assert_string_equal(st.meetings[0].id, m2.id); // by starts_at
	assert_string_equal(st.meetings[1].id, m1.id);
	assert_int_equal(st.rooms[0].admitted.n, 1);
	assert_string_equal(st.rooms[0].admitted.members[0].display_name, "Pro");
	assert_int_equal(st.rooms[0].waiting.n, 1);
	assert_string_equal(st.rooms[0].waiting.members[0].display_name, "Client Two");
	assert_int_equal(st.rooms[1].admitted.n, 0);
	assert_int_equal(st.rooms[1].waiting.n, 1);
	assert_string_equal(st.rooms[1].waiting.members[0].id, g1.self.id);
	reg_space_status_fini(&st);

	// The space key admits in any of its meetings (the dashboard).
	const char *one[] = {g1.self.id, NULL};
	assert_int_equal(admit(&T.ctx, m1.id, NULL, space_key, one, false, NULL), HD_OK);
	assert_int_equal(reg_test_wait(&T, m1.id, JOINED, g1.self.id, 1, EVENT_MS), 1);

	assert_int_equal(reg_space_read(&T.ctx, "not-a-space-key", &st, &why), HD_EFORBIDDEN);
	assert_int_equal(reg_space_read(&T.ctx, "", &st, &why), HD_EFORBIDDEN);
	reg_join_fini(&h);
	reg_join_fini(&g1);
	reg_join_fini(&g2);
}

static int flush(void **state)
{
	reg_test_flush(&T);
	return 0;
}

static int group_setup(void **state)
{
	reg_test_open(&T, 13);
	return 0;
}

static int group_teardown(void **state)
{
	reg_test_close(&T);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(waiting_room_join),
		cmocka_unit_test(access_rules),
		cmocka_unit_test(admit_and_deny),
		cmocka_unit_test(admit_race),
		cmocka_unit_test(non_hosts_forbidden),
		cmocka_unit_test(remove_and_block),
		cmocka_unit_test(make_host),
		cmocka_unit_test(resume_keeps_admission),
		cmocka_unit_test_setup(waiting_expiry, flush),
		cmocka_unit_test(hands_and_reactions),
		cmocka_unit_test(lower_hand_by_host),
		cmocka_unit_test(set_access_and_end),
		cmocka_unit_test(space_status),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
