// rpc_test.c: the registry's calls over a real REP socket (ipc://), as the
// gateway makes them: meetings, errors and their envelopes, joins, relays.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "common/hostkey.h"
#include "common/util.h"
#include "huddle/v1/registry.pb-c.h"
#include "registry/rpc.h"

#define WORKERS 3
#define CALL_MS 5000

static struct reg_test T;
static struct reg_ctx workers[WORKERS];
static struct hd_rpc_server *server;
static struct hd_rpc_client *client;
static uint64_t next_id = 1000;

// call sends req (request_id set here) and returns the decoded reply
// (huddle__v1__registry_reply__free_unpacked it).
static Huddle__V1__RegistryReply *call(Huddle__V1__RegistryRequest *req)
{
	nng_msg *msg, *rep;
	req->request_id = ++next_id;
	assert_int_equal(hd_msg_pack(&req->base, &msg), HD_OK);
	assert_int_equal(hd_rpc_call(client, msg, CALL_MS, &rep), HD_OK);
	Huddle__V1__RegistryReply *r = huddle__v1__registry_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
	nng_msg_free(rep);
	assert_non_null(r);
	assert_int_equal(r->request_id, req->request_id);
	return r;
}

// code is the reply's error code (0 when it succeeded).
static int code(const Huddle__V1__RegistryReply *r)
{
	if (r->error == NULL || r->error->code == 0)
		return HD_OK;
	assert_true(strlen(r->error->message) > 0); // a human message with every code
	assert_int_equal(r->body_case, HUDDLE__V1__REGISTRY_REPLY__BODY__NOT_SET);
	return (int)r->error->code;
}

static Huddle__V1__RegistryReply *create_meeting(const char *title)
{
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__CreateMeetingRequest body = HUDDLE__V1__CREATE_MEETING_REQUEST__INIT;
	body.title = (char *)title;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_CREATE_MEETING;
	req.create_meeting = &body;
	return call(&req);
}

static Huddle__V1__RegistryReply *create_meeting_full(const char *title, const char *space_key, int64_t starts_at_ms,
						      int access_mode)
{
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__CreateMeetingRequest body = HUDDLE__V1__CREATE_MEETING_REQUEST__INIT;
	body.title = (char *)title;
	body.space_key = (char *)space_key;
	body.starts_at_ms = starts_at_ms;
	body.access_mode = (Huddle__V1__AccessMode)access_mode;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_CREATE_MEETING;
	req.create_meeting = &body;
	return call(&req);
}

static Huddle__V1__RegistryReply *create_space(const char *title)
{
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__CreateSpaceRequest body = HUDDLE__V1__CREATE_SPACE_REQUEST__INIT;
	body.title = (char *)title;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_CREATE_SPACE;
	req.create_space = &body;
	return call(&req);
}

static Huddle__V1__RegistryReply *check_host(const char *meeting, const char *key)
{
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__CheckHostRequest body = HUDDLE__V1__CHECK_HOST_REQUEST__INIT;
	body.meeting_id = (char *)meeting;
	body.host_key = (char *)key;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_CHECK_HOST;
	req.check_host = &body;
	return call(&req);
}

static Huddle__V1__RegistryReply *get_meeting(const char *id)
{
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__GetMeetingRequest body = HUDDLE__V1__GET_MEETING_REQUEST__INIT;
	body.meeting_id = (char *)id;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_GET_MEETING;
	req.get_meeting = &body;
	return call(&req);
}

static Huddle__V1__RegistryReply *join(const char *meeting, const char *name)
{
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RegistryJoinRequest body = HUDDLE__V1__REGISTRY_JOIN_REQUEST__INIT;
	body.meeting_id = (char *)meeting;
	body.display_name = (char *)name;
	body.gateway_id = "gw-test";
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_JOIN;
	req.join = &body;
	return call(&req);
}

static Huddle__V1__RegistryReply *relay(const char *meeting, const char *from, const char *to,
					Huddle__V1__Signal *signal)
{
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RelaySignalRequest body = HUDDLE__V1__RELAY_SIGNAL_REQUEST__INIT;
	body.meeting_id = (char *)meeting;
	body.from = (char *)from;
	body.to = (char *)to;
	body.signal = signal;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_RELAY_SIGNAL;
	req.relay_signal = &body;
	return call(&req);
}

// new_meeting creates a meeting over RPC and subscribes to its events.
static void new_meeting(char id[23])
{
	Huddle__V1__RegistryReply *r = create_meeting("");
	assert_int_equal(code(r), HD_OK);
	snprintf(id, 23, "%s", r->create_meeting->meeting->id);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	reg_test_subscribe(&T, id);
}

// ---- tests ----

static void create_then_get(void **state)
{
	int64_t before = hd_now_ms();
	Huddle__V1__RegistryReply *c = create_meeting("Weekly sync ☕");
	assert_int_equal(code(c), HD_OK);
	assert_int_equal(c->body_case, HUDDLE__V1__REGISTRY_REPLY__BODY_CREATE_MEETING);
	const Huddle__V1__Meeting *m = c->create_meeting->meeting;
	assert_true(hd_id_valid(m->id));
	assert_string_equal(m->title, "Weekly sync ☕");
	assert_true(m->created_at_ms >= before && m->created_at_ms <= hd_now_ms());

	Huddle__V1__RegistryReply *g = get_meeting(m->id);
	assert_int_equal(code(g), HD_OK);
	assert_int_equal(g->body_case, HUDDLE__V1__REGISTRY_REPLY__BODY_GET_MEETING);
	assert_string_equal(g->get_meeting->meeting->id, m->id);
	assert_string_equal(g->get_meeting->meeting->title, m->title);
	assert_int_equal(g->get_meeting->meeting->created_at_ms, m->created_at_ms);
	huddle__v1__registry_reply__free_unpacked(g, NULL);

	// Two meetings never share an id.
	Huddle__V1__RegistryReply *c2 = create_meeting("");
	assert_int_equal(code(c2), HD_OK);
	assert_string_not_equal(c2->create_meeting->meeting->id, m->id);
	assert_string_equal(c2->create_meeting->meeting->title, "");
	huddle__v1__registry_reply__free_unpacked(c2, NULL);
	huddle__v1__registry_reply__free_unpacked(c, NULL);
}

static void create_bad_titles(void **state)
{
	char t200[201], t201[202];
	memset(t200, 'x', 200);
	t200[200] = '\0';
	memset(t201, 'x', 201);
	t201[201] = '\0';
	Huddle__V1__RegistryReply *r = create_meeting(t200);
	assert_int_equal(code(r), HD_OK);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	r = create_meeting(t201);
	assert_int_equal(code(r), HD_EBADREQUEST);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	r = create_meeting("bad \xc0\xaf utf-8");
	assert_int_equal(code(r), HD_EBADREQUEST);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
}

static void get_unknown(void **state)
{
	const char *ids[] = {"AAAAAAAAAAAAAAAAAAAAAA", "", "short", "../../../../etc/passwd"};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		Huddle__V1__RegistryReply *r = get_meeting(ids[i]);
		assert_int_equal(code(r), HD_EUNKNOWNMEETING);
		huddle__v1__registry_reply__free_unpacked(r, NULL);
	}
}

// raw_call sends bytes as they are and decodes the reply.
static Huddle__V1__RegistryReply *raw_call(const void *data, size_t len)
{
	nng_msg *msg, *rep;
	assert_int_equal(nng_msg_alloc(&msg, 0), 0);
	assert_int_equal(nng_msg_append(msg, data, len), 0);
	assert_int_equal(hd_rpc_call(client, msg, CALL_MS, &rep), HD_OK);
	Huddle__V1__RegistryReply *r = huddle__v1__registry_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
	nng_msg_free(rep);
	assert_non_null(r);
	return r;
}

static void malformed(void **state)
{
	static const uint8_t garbage[][8] = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
					     {0x08, 0x96},        // truncated varint of request_id
					     {0x52, 0x05, 0x0a}}; // create_meeting longer than the frame
	static const size_t lens[] = {8, 2, 3};
	for (size_t i = 0; i < 3; i++) {
		Huddle__V1__RegistryReply *r = raw_call(garbage[i], lens[i]);
		assert_int_equal(r->request_id, 0);
		assert_int_equal(code(r), HD_EMALFORMED);
		huddle__v1__registry_reply__free_unpacked(r, NULL);
	}
}

static void unknown_type(void **state)
{
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RegistryReply *r = call(&req); // no body
	assert_int_equal(code(r), HD_EUNKNOWNTYPE);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	// A body from a newer schema (field 99) is unknown too, id echoed.
	static const uint8_t future[] = {0x08, 0x2a, 0x9a, 0x06, 0x00};
	r = raw_call(future, sizeof(future));
	assert_int_equal(r->request_id, 42);
	assert_int_equal(code(r), HD_EUNKNOWNTYPE);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	// An empty message is a valid request without a body.
	r = raw_call("", 0);
	assert_int_equal(code(r), HD_EUNKNOWNTYPE);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
}

static void join_errors(void **state)
{
	char m[23], long_name[80];
	new_meeting(m);
	Huddle__V1__RegistryReply *r = join("AAAAAAAAAAAAAAAAAAAAAA", "Alice");
	assert_int_equal(code(r), HD_EUNKNOWNMEETING);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	memset(long_name, 'n', 65);
	long_name[65] = '\0';
	const char *bad[] = {"", "  ", long_name, "\xe2\x82"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = join(m, bad[i]);
		assert_int_equal(code(r), HD_EBADREQUEST);
		huddle__v1__registry_reply__free_unpacked(r, NULL);
	}
}

static void join_roster_and_relay(void **state)
{
	char m[23], stranger[HD_ID_LEN + 1];
	new_meeting(m);
	Huddle__V1__RegistryReply *a = join(m, "Alice");
	Huddle__V1__RegistryReply *b = join(m, "Bob");
	assert_int_equal(code(a), HD_OK);
	assert_int_equal(code(b), HD_OK);
	const Huddle__V1__RegistryJoinReply *ja = a->join, *jb = b->join;
	assert_false(ja->resumed);
	assert_int_equal(ja->presence_ttl_ms, REG_TEST_TTL_MS);
	assert_string_equal(ja->meeting->id, m);
	assert_true(hd_id_valid(ja->resume_token));
	assert_int_equal(jb->n_participants, 1);
	assert_string_equal(jb->participants[0]->id, ja->participant->id);
	assert_string_equal(jb->participants[0]->display_name, "Alice");
	assert_int_equal(
		reg_test_wait(&T, m, HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_JOINED, jb->participant->id, 1, 2000), 1);

	Huddle__V1__IceCandidate cand = HUDDLE__V1__ICE_CANDIDATE__INIT;
	Huddle__V1__Signal sig = HUDDLE__V1__SIGNAL__INIT;
	cand.candidate = "candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host";
	cand.sdp_mid = "0";
	sig.kind_case = HUDDLE__V1__SIGNAL__KIND_CANDIDATE;
	sig.candidate = &cand;

	// To someone who is not in the meeting: refused, nothing published.
	assert_int_equal(hd_id_random(stranger), HD_OK);
	Huddle__V1__RegistryReply *r = relay(m, ja->participant->id, stranger, &sig);
	assert_int_equal(code(r), HD_EUNKNOWNPARTICIPANT);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	r = relay(m, stranger, jb->participant->id, &sig);
	assert_int_equal(code(r), HD_EUNKNOWNPARTICIPANT);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	r = relay(m, ja->participant->id, jb->participant->id, NULL);
	assert_int_equal(code(r), HD_EBADREQUEST);
	huddle__v1__registry_reply__free_unpacked(r, NULL);

	// To a member: published for the gateway holding Bob.
	r = relay(m, ja->participant->id, jb->participant->id, &sig);
	assert_int_equal(code(r), HD_OK);
	assert_int_equal(r->body_case, HUDDLE__V1__REGISTRY_REPLY__BODY_RELAY_SIGNAL);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	assert_int_equal(reg_test_wait(&T, m, HUDDLE__V1__ROOM_EVENT__BODY_SIGNAL, jb->participant->id, 1, 2000), 1);
	const Huddle__V1__RoomEvent *ev =
		reg_test_find(&T, m, HUDDLE__V1__ROOM_EVENT__BODY_SIGNAL, jb->participant->id);
	assert_string_equal(ev->meeting_id, m);
	assert_string_equal(ev->signal->from, ja->participant->id);
	assert_int_equal(ev->signal->signal->kind_case, HUDDLE__V1__SIGNAL__KIND_CANDIDATE);
	assert_string_equal(ev->signal->signal->candidate->candidate, cand.candidate);
	assert_int_equal(reg_test_count(&T, m, HUDDLE__V1__ROOM_EVENT__BODY_SIGNAL, NULL), 1);

	huddle__v1__registry_reply__free_unpacked(a, NULL);
	huddle__v1__registry_reply__free_unpacked(b, NULL);
}

static void presence_calls(void **state)
{
	char m[23];
	new_meeting(m);
	Huddle__V1__RegistryReply *a = join(m, "Alice");
	assert_int_equal(code(a), HD_OK);
	const char *pid = a->join->participant->id;

	// Media state.
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__UpdateMediaRequest um = HUDDLE__V1__UPDATE_MEDIA_REQUEST__INIT;
	Huddle__V1__MediaState media = HUDDLE__V1__MEDIA_STATE__INIT;
	media.video_muted = true;
	um.meeting_id = m;
	um.participant_id = (char *)pid;
	um.media = &media;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_UPDATE_MEDIA;
	req.update_media = &um;
	Huddle__V1__RegistryReply *r = call(&req);
	assert_int_equal(code(r), HD_OK);
	assert_true(r->update_media->participant->media->video_muted);
	huddle__v1__registry_reply__free_unpacked(r, NULL);

	// Roster.
	Huddle__V1__ListParticipantsRequest lp = HUDDLE__V1__LIST_PARTICIPANTS_REQUEST__INIT;
	lp.meeting_id = m;
	req = (Huddle__V1__RegistryRequest)HUDDLE__V1__REGISTRY_REQUEST__INIT;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_LIST_PARTICIPANTS;
	req.list_participants = &lp;
	r = call(&req);
	assert_int_equal(code(r), HD_OK);
	assert_int_equal(r->list_participants->n_participants, 1);
	assert_string_equal(r->list_participants->participants[0]->id, pid);
	assert_true(r->list_participants->participants[0]->media->video_muted);
	huddle__v1__registry_reply__free_unpacked(r, NULL);

	// Heartbeat: the member is present, a stranger is gone.
	Huddle__V1__PresenceRef refs[2] = {HUDDLE__V1__PRESENCE_REF__INIT, HUDDLE__V1__PRESENCE_REF__INIT};
	Huddle__V1__PresenceRef *ptrs[2] = {&refs[0], &refs[1]};
	Huddle__V1__HeartbeatRequest hb = HUDDLE__V1__HEARTBEAT_REQUEST__INIT;
	refs[0].meeting_id = refs[1].meeting_id = m;
	refs[0].participant_id = "nobody-nobody-nobody-0";
	refs[1].participant_id = (char *)pid;
	hb.gateway_id = "gw-test";
	hb.n_present = 2;
	hb.present = ptrs;
	req = (Huddle__V1__RegistryRequest)HUDDLE__V1__REGISTRY_REQUEST__INIT;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_HEARTBEAT;
	req.heartbeat = &hb;
	r = call(&req);
	assert_int_equal(code(r), HD_OK);
	assert_int_equal(r->heartbeat->n_gone, 1);
	assert_string_equal(r->heartbeat->gone[0]->participant_id, refs[0].participant_id);
	assert_string_equal(r->heartbeat->gone[0]->meeting_id, m);
	huddle__v1__registry_reply__free_unpacked(r, NULL);

	// Leave, twice.
	Huddle__V1__RegistryLeaveRequest lv = HUDDLE__V1__REGISTRY_LEAVE_REQUEST__INIT;
	lv.meeting_id = m;
	lv.participant_id = (char *)pid;
	req = (Huddle__V1__RegistryRequest)HUDDLE__V1__REGISTRY_REQUEST__INIT;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_LEAVE;
	req.leave = &lv;
	for (int i = 0; i < 2; i++) {
		r = call(&req);
		assert_int_equal(code(r), HD_OK);
		assert_int_equal(r->body_case, HUDDLE__V1__REGISTRY_REPLY__BODY_LEAVE);
		huddle__v1__registry_reply__free_unpacked(r, NULL);
	}
	assert_int_equal(reg_test_wait(&T, m, HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_LEFT, pid, 1, 2000), 1);

	// The stranger gets UNKNOWN_PARTICIPANT for media.
	req = (Huddle__V1__RegistryRequest)HUDDLE__V1__REGISTRY_REQUEST__INIT;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_UPDATE_MEDIA;
	req.update_media = &um;
	r = call(&req);
	assert_int_equal(code(r), HD_EUNKNOWNPARTICIPANT);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	huddle__v1__registry_reply__free_unpacked(a, NULL);
}

static void health(void **state)
{
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__HealthRequest h = HUDDLE__V1__HEALTH_REQUEST__INIT;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_HEALTH;
	req.health = &h;
	Huddle__V1__RegistryReply *r = call(&req);
	assert_int_equal(code(r), HD_OK);
	assert_int_equal(r->body_case, HUDDLE__V1__REGISTRY_REPLY__BODY_HEALTH);
	huddle__v1__registry_reply__free_unpacked(r, NULL);

	// A registry whose Redis is down says so, promptly.
	struct reg_ctx down = T.ctx;
	struct hd_rpc_server *srv;
	struct hd_rpc_client *cli;
	char url[128];
	void *states[1] = {&down};
	nng_msg *msg, *rep;
	snprintf(url, sizeof(url), "ipc://%s/down.ipc", T.dir);
	assert_int_equal(hd_redis_open(&down.redis, "redis://127.0.0.1:1", 200), HD_OK);
	assert_int_equal(hd_rpc_server_open(&srv, url, 1, reg_rpc_handle, states), HD_OK);
	assert_int_equal(hd_rpc_client_open(&cli, url), HD_OK);
	req.request_id = 7;
	assert_int_equal(hd_msg_pack(&req.base, &msg), HD_OK);
	int64_t t = hd_mono_ms();
	assert_int_equal(hd_rpc_call(cli, msg, CALL_MS, &rep), HD_OK);
	assert_true(hd_mono_ms() - t < 2000);
	r = huddle__v1__registry_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
	nng_msg_free(rep);
	assert_non_null(r);
	assert_int_equal(r->request_id, 7);
	assert_int_equal(code(r), HD_EUNAVAILABLE);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	// and so do presence calls.
	Huddle__V1__RegistryJoinRequest j = HUDDLE__V1__REGISTRY_JOIN_REQUEST__INIT;
	char m[23];
	new_meeting(m);
	j.meeting_id = m;
	j.display_name = "Al";
	j.gateway_id = "gw";
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_JOIN;
	req.join = &j;
	assert_int_equal(hd_msg_pack(&req.base, &msg), HD_OK);
	assert_int_equal(hd_rpc_call(cli, msg, CALL_MS, &rep), HD_OK);
	r = huddle__v1__registry_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
	nng_msg_free(rep);
	assert_int_equal(code(r), HD_EUNAVAILABLE);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	hd_rpc_client_close(cli);
	hd_rpc_server_close(srv);
	hd_redis_close(down.redis);
}

// host_calls: the access calls over the socket, with their reply bodies and
// error envelopes (the logic itself is in hosts_test.c).
static void host_calls(void **state)
{
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RegistryReply *r, *host, *guest;
	char m[23], key[64];

	// A meeting with a waiting room and its host key.
	Huddle__V1__CreateMeetingRequest cm = HUDDLE__V1__CREATE_MEETING_REQUEST__INIT;
	cm.title = "Interview";
	cm.access_mode = HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_WAITING_ROOM;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_CREATE_MEETING;
	req.create_meeting = &cm;
	r = call(&req);
	assert_int_equal(code(r), HD_OK);
	snprintf(m, sizeof(m), "%s", r->create_meeting->meeting->id);
	snprintf(key, sizeof(key), "%s", r->create_meeting->host_key);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	reg_test_subscribe(&T, m);

	// The host joins, then a guest who waits.
	Huddle__V1__RegistryJoinRequest j = HUDDLE__V1__REGISTRY_JOIN_REQUEST__INIT;
	j.meeting_id = m;
	j.display_name = "Hana";
	j.gateway_id = "gw-test";
	j.host_key = key;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_JOIN;
	req.join = &j;
	host = call(&req);
	assert_int_equal(code(host), HD_OK);
	assert_int_equal(host->join->admission, HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_ADMITTED);
	assert_int_equal(host->join->participant->role, HUDDLE__V1__ROLE__ROLE_HOST);
	assert_true(host->join->host_present);
	assert_int_equal(host->join->meeting->access_mode, HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_WAITING_ROOM);
	const char *hid = host->join->participant->id;
	j.display_name = "Gail";
	j.host_key = "";
	j.client_key = "gail-device";
	guest = call(&req);
	assert_int_equal(code(guest), HD_OK);
	assert_int_equal(guest->join->admission, HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_WAITING);
	assert_int_equal(guest->join->participant->role, HUDDLE__V1__ROLE__ROLE_GUEST);
	assert_int_equal(guest->join->n_participants, 0);
	assert_int_equal(guest->join->n_waiting, 0);
	assert_true(guest->join->host_present);
	const char *gid = guest->join->participant->id;
	j.host_key = "wrong";
	r = call(&req);
	assert_int_equal(code(r), HD_EFORBIDDEN);
	huddle__v1__registry_reply__free_unpacked(r, NULL);

	// The waiting room, as hosts read it.
	Huddle__V1__ListWaitingRequest lw = HUDDLE__V1__LIST_WAITING_REQUEST__INIT;
	lw.meeting_id = m;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_LIST_WAITING;
	req.list_waiting = &lw;
	r = call(&req);
	assert_int_equal(code(r), HD_OK);
	assert_int_equal(r->list_waiting->n_waiting, 1);
	assert_string_equal(r->list_waiting->waiting[0]->id, gid);
	assert_string_equal(r->list_waiting->waiting[0]->display_name, "Gail");
	assert_true(r->list_waiting->host_present);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	lw.meeting_id = "AAAAAAAAAAAAAAAAAAAAAA";
	r = call(&req);
	assert_int_equal(code(r), HD_EUNKNOWNMEETING);
	huddle__v1__registry_reply__free_unpacked(r, NULL);

	// A guest cannot act as a host; the host admits.
	Huddle__V1__Actor actor = HUDDLE__V1__ACTOR__INIT;
	Huddle__V1__RegistryAdmitRequest ad = HUDDLE__V1__REGISTRY_ADMIT_REQUEST__INIT;
	char *ids[] = {(char *)gid};
	actor.participant_id = (char *)gid;
	ad.meeting_id = m;
	ad.actor = &actor;
	ad.participant_ids = ids;
	ad.n_participant_ids = 1;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_ADMIT;
	req.admit = &ad;
	r = call(&req);
	assert_int_equal(code(r), HD_EFORBIDDEN);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	actor.participant_id = (char *)hid;
	r = call(&req);
	assert_int_equal(code(r), HD_OK);
	assert_int_equal(r->body_case, HUDDLE__V1__REGISTRY_REPLY__BODY_ADMIT);
	assert_int_equal(r->admit->n_admitted, 1);
	assert_string_equal(r->admit->admitted[0], gid);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	assert_int_equal(reg_test_wait(&T, m, HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_JOINED, gid, 1, 2000), 1);

	// Hand and reaction of the admitted guest.
	Huddle__V1__RegistryHandRequest hd = HUDDLE__V1__REGISTRY_HAND_REQUEST__INIT;
	hd.meeting_id = m;
	hd.participant_id = (char *)gid;
	hd.raised = true;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_HAND;
	req.hand = &hd;
	r = call(&req);
	assert_int_equal(code(r), HD_OK);
	assert_string_equal(r->hand->participant->id, gid);
	assert_true(r->hand->participant->hand_raised_at_ms > 0);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	Huddle__V1__RegistryReactionRequest re = HUDDLE__V1__REGISTRY_REACTION_REQUEST__INIT;
	re.meeting_id = m;
	re.participant_id = (char *)gid;
	re.emoji = "\xF0\x9F\x8E\x89";
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_REACTION;
	req.reaction = &re;
	r = call(&req);
	assert_int_equal(code(r), HD_OK);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	re.emoji = "<script>";
	r = call(&req);
	assert_int_equal(code(r), HD_EBADREQUEST);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	assert_int_equal(reg_test_wait(&T, m, HUDDLE__V1__ROOM_EVENT__BODY_REACTION, gid, 1, 2000), 1);

	// Moderate: the guest may not, the host key may.
	Huddle__V1__RegistryModerateRequest mo = HUDDLE__V1__REGISTRY_MODERATE_REQUEST__INIT;
	Huddle__V1__Actor by_key = HUDDLE__V1__ACTOR__INIT;
	by_key.host_key = key;
	actor.participant_id = (char *)gid;
	mo.meeting_id = m;
	mo.actor = &actor;
	mo.participant_id = (char *)hid;
	mo.action = HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_MUTE;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_MODERATE;
	req.moderate = &mo;
	r = call(&req);
	assert_int_equal(code(r), HD_EFORBIDDEN);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	mo.actor = &by_key;
	mo.participant_id = (char *)gid;
	r = call(&req);
	assert_int_equal(code(r), HD_OK);
	assert_int_equal(r->body_case, HUDDLE__V1__REGISTRY_REPLY__BODY_MODERATE);
	huddle__v1__registry_reply__free_unpacked(r, NULL);

	// Lock: the reply carries the meeting as stored.
	Huddle__V1__RegistrySetAccessRequest sa = HUDDLE__V1__REGISTRY_SET_ACCESS_REQUEST__INIT;
	sa.meeting_id = m;
	sa.actor = &by_key;
	sa.access_mode = HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_LOCKED;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_SET_ACCESS;
	req.set_access = &sa;
	r = call(&req);
	assert_int_equal(code(r), HD_OK);
	assert_string_equal(r->set_access->meeting->id, m);
	assert_int_equal(r->set_access->meeting->access_mode, HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_LOCKED);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_JOIN;
	req.join = &j; // a oneof: set_access took its place
	j.host_key = "";
	j.client_key = "";
	r = call(&req);
	assert_int_equal(code(r), HD_EMEETINGLOCKED);
	huddle__v1__registry_reply__free_unpacked(r, NULL);

	// End for all.
	Huddle__V1__RegistryEndMeetingRequest em = HUDDLE__V1__REGISTRY_END_MEETING_REQUEST__INIT;
	em.meeting_id = m;
	em.actor = &by_key;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_END_MEETING;
	req.end_meeting = &em;
	r = call(&req);
	assert_int_equal(code(r), HD_OK);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	assert_int_equal(reg_test_wait(&T, m, HUDDLE__V1__ROOM_EVENT__BODY_MEETING_ENDED, NULL, 1, 2000), 1);
	huddle__v1__registry_reply__free_unpacked(host, NULL);
	huddle__v1__registry_reply__free_unpacked(guest, NULL);
}

// space_call: GetSpace over the socket.
static void space_call(void **state)
{
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RegistryReply *r, *g;
	char key[64], m[23];
	Huddle__V1__CreateSpaceRequest cs = HUDDLE__V1__CREATE_SPACE_REQUEST__INIT;
	cs.title = "Practice";
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_CREATE_SPACE;
	req.create_space = &cs;
	r = call(&req);
	assert_int_equal(code(r), HD_OK);
	snprintf(key, sizeof(key), "%s", r->create_space->space_key);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	Huddle__V1__CreateMeetingRequest cm = HUDDLE__V1__CREATE_MEETING_REQUEST__INIT;
	cm.title = "Client call";
	cm.space_key = key;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_CREATE_MEETING;
	req.create_meeting = &cm;
	r = call(&req);
	assert_int_equal(code(r), HD_OK);
	snprintf(m, sizeof(m), "%s", r->create_meeting->meeting->id);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	reg_test_subscribe(&T, m);
	g = join(m, "Client");
	assert_int_equal(code(g), HD_OK);
	assert_int_equal(g->join->admission, HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_WAITING);

	Huddle__V1__GetSpaceRequest gs = HUDDLE__V1__GET_SPACE_REQUEST__INIT;
	gs.space_key = key;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_GET_SPACE;
	req.get_space = &gs;
	r = call(&req);
	assert_int_equal(code(r), HD_OK);
	assert_string_equal(r->get_space->title, "Practice");
	assert_true(hd_id_valid(r->get_space->space_id));
	assert_int_equal(r->get_space->n_meetings, 1);
	const Huddle__V1__MeetingStatus *st = r->get_space->meetings[0];
	assert_string_equal(st->meeting->id, m);
	assert_string_equal(st->meeting->title, "Client call");
	assert_int_equal(st->n_participants, 0);
	assert_int_equal(st->n_waiting, 1);
	assert_string_equal(st->waiting[0]->id, g->join->participant->id);
	assert_string_equal(st->waiting[0]->display_name, "Client");
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	gs.space_key = "wrong";
	r = call(&req);
	assert_int_equal(code(r), HD_EFORBIDDEN);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	huddle__v1__registry_reply__free_unpacked(g, NULL);
}

// create_with_host_key: a meeting of no space comes with its host key once
// (GetMeeting never shows it), access OPEN by default, the start time kept;
// only the key's hash is in the store; CheckHost accepts that key alone.
static void create_with_host_key(void **state)
{
	Huddle__V1__RegistryReply *c = create_meeting_full("Interview", "", 1800000000000, 0);
	assert_int_equal(code(c), HD_OK);
	const Huddle__V1__Meeting *m = c->create_meeting->meeting;
	const char *key = c->create_meeting->host_key;
	assert_int_equal(strlen(key), HD_KEY_LEN);
	assert_int_equal(m->access_mode, HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_OPEN);
	assert_int_equal(m->starts_at_ms, 1800000000000);

	struct hd_meeting stored;
	char hash[HD_KEY_HASH_LEN + 1];
	assert_int_equal(hd_meeting_get(T.store, m->id, &stored), HD_OK);
	hd_key_hash(key, hash);
	assert_string_equal(stored.host_key_hash, hash);
	assert_string_equal(stored.space_id, "");

	Huddle__V1__RegistryReply *g = get_meeting(m->id);
	assert_int_equal(code(g), HD_OK);
	assert_int_equal(g->get_meeting->meeting->access_mode, HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_OPEN);
	assert_int_equal(g->get_meeting->meeting->starts_at_ms, 1800000000000);
	huddle__v1__registry_reply__free_unpacked(g, NULL);

	Huddle__V1__RegistryReply *h = check_host(m->id, key);
	assert_int_equal(code(h), HD_OK);
	assert_int_equal(h->body_case, HUDDLE__V1__REGISTRY_REPLY__BODY_CHECK_HOST);
	assert_string_equal(h->check_host->meeting->id, m->id);
	assert_string_equal(h->check_host->meeting->title, "Interview");
	huddle__v1__registry_reply__free_unpacked(h, NULL);
	const char *bad[] = {"", "not-the-key", hash};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h = check_host(m->id, bad[i]);
		assert_int_equal(code(h), HD_EFORBIDDEN);
		huddle__v1__registry_reply__free_unpacked(h, NULL);
	}
	h = check_host("AAAAAAAAAAAAAAAAAAAAAA", key);
	assert_int_equal(code(h), HD_EUNKNOWNMEETING);
	huddle__v1__registry_reply__free_unpacked(h, NULL);

	// another meeting's key is not this one's
	Huddle__V1__RegistryReply *c2 = create_meeting_full("", "", 0, HD_ACCESS_LOCKED);
	assert_int_equal(code(c2), HD_OK);
	assert_int_equal(c2->create_meeting->meeting->access_mode, HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_LOCKED);
	assert_string_not_equal(c2->create_meeting->host_key, key);
	h = check_host(c2->create_meeting->meeting->id, key);
	assert_int_equal(code(h), HD_EFORBIDDEN);
	huddle__v1__registry_reply__free_unpacked(h, NULL);
	huddle__v1__registry_reply__free_unpacked(c2, NULL);

	// bad start or mode
	Huddle__V1__RegistryReply *r = create_meeting_full("", "", -5, 0);
	assert_int_equal(code(r), HD_EBADREQUEST);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	r = create_meeting_full("", "", 0, 7);
	assert_int_equal(code(r), HD_EBADREQUEST);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	huddle__v1__registry_reply__free_unpacked(c, NULL);
}

// spaces_over_rpc: CreateSpace returns the key once; a meeting made with it
// belongs to the space (no host_key in the reply, WAITING_ROOM by default),
// CheckHost takes the space key for it; a wrong space key is FORBIDDEN.
static void spaces_over_rpc(void **state)
{
	Huddle__V1__RegistryReply *sp = create_space("Tutoring ✏");
	assert_int_equal(code(sp), HD_OK);
	assert_int_equal(sp->body_case, HUDDLE__V1__REGISTRY_REPLY__BODY_CREATE_SPACE);
	const char *space_key = sp->create_space->space_key;
	assert_int_equal(strlen(space_key), HD_KEY_LEN);
	assert_true(hd_id_valid(sp->create_space->space_id));
	assert_string_equal(sp->create_space->title, "Tutoring ✏");
	struct hd_space stored_space;
	char hash[HD_KEY_HASH_LEN + 1];
	assert_int_equal(hd_space_get(T.store, sp->create_space->space_id, &stored_space), HD_OK);
	hd_key_hash(space_key, hash);
	assert_string_equal(stored_space.key_hash, hash);

	Huddle__V1__RegistryReply *c = create_meeting_full("Lesson 1", space_key, 1800000000000, 0);
	assert_int_equal(code(c), HD_OK);
	assert_string_equal(c->create_meeting->host_key, "");
	const Huddle__V1__Meeting *m = c->create_meeting->meeting;
	assert_int_equal(m->access_mode, HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_WAITING_ROOM);
	struct hd_meeting stored;
	assert_int_equal(hd_meeting_get(T.store, m->id, &stored), HD_OK);
	assert_string_equal(stored.space_id, sp->create_space->space_id);
	assert_string_equal(stored.host_key_hash, "");

	Huddle__V1__RegistryReply *h = check_host(m->id, space_key);
	assert_int_equal(code(h), HD_OK);
	huddle__v1__registry_reply__free_unpacked(h, NULL);

	Huddle__V1__RegistryReply *other = create_space("");
	assert_int_equal(code(other), HD_OK);
	h = check_host(m->id, other->create_space->space_key);
	assert_int_equal(code(h), HD_EFORBIDDEN);
	huddle__v1__registry_reply__free_unpacked(h, NULL);
	huddle__v1__registry_reply__free_unpacked(other, NULL);

	Huddle__V1__RegistryReply *r = create_meeting_full("x", "not a space key", 0, 0);
	assert_int_equal(code(r), HD_EFORBIDDEN);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	char t201[202];
	memset(t201, 'x', 201);
	t201[201] = '\0';
	r = create_space(t201);
	assert_int_equal(code(r), HD_EBADREQUEST);
	huddle__v1__registry_reply__free_unpacked(r, NULL);
	huddle__v1__registry_reply__free_unpacked(c, NULL);
	huddle__v1__registry_reply__free_unpacked(sp, NULL);
}

static int group_setup(void **state)
{
	char url[128];
	void *states[WORKERS];
	reg_test_open(&T, 12);
	for (int i = 0; i < WORKERS; i++) {
		reg_test_ctx_open(&T, &workers[i]);
		states[i] = &workers[i];
	}
	snprintf(url, sizeof(url), "ipc://%s/registry.ipc", T.dir);
	assert_int_equal(hd_rpc_server_open(&server, url, WORKERS, reg_rpc_handle, states), HD_OK);
	assert_int_equal(hd_rpc_client_open(&client, url), HD_OK);
	return 0;
}

static int group_teardown(void **state)
{
	hd_rpc_client_close(client);
	hd_rpc_server_close(server);
	for (int i = 0; i < WORKERS; i++)
		reg_test_ctx_close(&workers[i]);
	reg_test_close(&T);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_then_get),
		cmocka_unit_test(create_bad_titles),
		cmocka_unit_test(get_unknown),
		cmocka_unit_test(malformed),
		cmocka_unit_test(unknown_type),
		cmocka_unit_test(join_errors),
		cmocka_unit_test(join_roster_and_relay),
		cmocka_unit_test(presence_calls),
		cmocka_unit_test(health),
		cmocka_unit_test(host_calls),
		cmocka_unit_test(space_call),
		cmocka_unit_test(create_with_host_key),
		cmocka_unit_test(spaces_over_rpc),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
