// route_test.c: every gw_op has exactly one reply handler and reaches the
// one its caller expects; replies are decoded (or turned into
// HD_EINTERNAL) on the way. The handlers here stand in for ws.c, http.c,
// chat.c, notes.c, recording.c, access.c and access_http.c, so only route.c is linked from the gateway.
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/rpc.h"
#include "gateway/route.h"

// owner names the handler a reply reached.
enum owner {
	OWNER_NONE, // no handler ran
	OWNER_WS,
	OWNER_HEARTBEAT,
	OWNER_HTTP,
	OWNER_CHAT,
	OWNER_HTTP_CHAT,
	OWNER_NOTES,
	OWNER_NOTES_OP,
	OWNER_HTTP_NOTES,
	OWNER_HTTP_RECORDING,
	OWNER_ACCESS,
	OWNER_HTTP_ACCESS,
	OWNER_WATCH,
	OWNER_PREJOIN,
	OWNER_SFU,
	OWNER_SFU_NOTICE,
};

// service names who answers a call.
enum service {
	SERVICE_REGISTRY,
	SERVICE_CHAT,
	SERVICE_NOTES,
	SERVICE_RECORDING,
	SERVICE_MEDIA,
	SERVICE_COUNT,
};

// want is who takes each op's reply, written out independently of route.c.
// An op added to enum gw_op without a line here fails owners_are_as_written.
static const enum owner want[GW_OP_COUNT] = {
	[GW_OP_JOIN] = OWNER_WS,
	[GW_OP_LEAVE] = OWNER_WS,
	[GW_OP_RELAY] = OWNER_WS,
	[GW_OP_MEDIA] = OWNER_WS,
	[GW_OP_CHAT_MEETING] = OWNER_WS,
	[GW_OP_NOTES_MEETING] = OWNER_WS,
	[GW_OP_HEARTBEAT] = OWNER_HEARTBEAT,
	[GW_OP_ADMIT] = OWNER_ACCESS,
	[GW_OP_MODERATE] = OWNER_ACCESS,
	[GW_OP_SET_ACCESS] = OWNER_ACCESS,
	[GW_OP_END_MEETING] = OWNER_ACCESS,
	[GW_OP_HAND] = OWNER_ACCESS,
	[GW_OP_REACTION] = OWNER_ACCESS,
	[GW_OP_ADMIT_ROSTER] = OWNER_ACCESS,
	[GW_OP_WATCH] = OWNER_WATCH,
	[GW_OP_ICE_SERVERS] = OWNER_PREJOIN,
	[GW_OP_HTTP_CREATE] = OWNER_HTTP,
	[GW_OP_HTTP_GET] = OWNER_HTTP,
	[GW_OP_HTTP_READY] = OWNER_HTTP,
	[GW_OP_HTTP_CHAT_MEETING] = OWNER_HTTP,
	[GW_OP_HTTP_NOTES_MEETING] = OWNER_HTTP,
	[GW_OP_HTTP_REC_MEETING] = OWNER_HTTP,
	[GW_OP_HTTP_SPACE_CREATE] = OWNER_HTTP_ACCESS,
	[GW_OP_HTTP_SPACE_GET] = OWNER_HTTP_ACCESS,
	[GW_OP_HTTP_SPACE_MEETING] = OWNER_HTTP_ACCESS,
	[GW_OP_HTTP_ADMIT] = OWNER_HTTP_ACCESS,
	[GW_OP_HTTP_ACCESS] = OWNER_HTTP_ACCESS,
	[GW_OP_HTTP_LINKS] = OWNER_HTTP_ACCESS,
	[GW_OP_CHAT_INIT] = OWNER_CHAT,
	[GW_OP_CHAT_FILL] = OWNER_CHAT,
	[GW_OP_CHAT_POST] = OWNER_CHAT,
	[GW_OP_CHAT_HISTORY] = OWNER_CHAT,
	[GW_OP_HTTP_CHAT_PAGE] = OWNER_HTTP_CHAT,
	[GW_OP_NOTES_INIT] = OWNER_NOTES,
	[GW_OP_NOTES_FILL] = OWNER_NOTES,
	[GW_OP_NOTES_OPEN] = OWNER_NOTES_OP,
	[GW_OP_NOTES_UPDATE] = OWNER_NOTES_OP,
	[GW_OP_NOTES_AWARENESS] = OWNER_NOTES_OP,
	[GW_OP_NOTES_SNAPSHOT] = OWNER_NOTES_OP,
	[GW_OP_NOTES_VERSIONS] = OWNER_NOTES_OP,
	[GW_OP_NOTES_VERSION] = OWNER_NOTES_OP,
	[GW_OP_HTTP_NOTES_EXPORT] = OWNER_HTTP_NOTES,
	[GW_OP_HTTP_RECORDING] = OWNER_HTTP_RECORDING,
	[GW_OP_SFU] = OWNER_SFU,
	[GW_OP_SFU_NOTICE] = OWNER_SFU_NOTICE,
};

// seen is what the last handler call got.
static struct {
	enum owner owner;
	int calls;
	enum gw_op op; // -1 for the heartbeat, which gets no pending record
	hd_err err;
	bool has_reply;
	uint64_t request_id; // of the decoded reply
} seen;

static void saw(enum owner owner, const struct gw_pending *p, hd_err err, uint64_t request_id, bool has_reply)
{
	seen.owner = owner;
	seen.calls++;
	seen.op = p != NULL ? p->op : (enum gw_op) - 1;
	seen.err = err;
	seen.has_reply = has_reply;
	seen.request_id = request_id;
}

static void saw_registry(enum owner owner, const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	saw(owner, p, err, r != NULL ? r->request_id : 0, r != NULL);
}

static void saw_chat(enum owner owner, const struct gw_pending *p, hd_err err, Huddle__V1__ChatReply *r)
{
	saw(owner, p, err, r != NULL ? r->request_id : 0, r != NULL);
}

void gw_ws_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	saw_registry(OWNER_WS, p, err, r);
}

void gw_ws_on_heartbeat(hd_err err, Huddle__V1__RegistryReply *r)
{
	saw_registry(OWNER_HEARTBEAT, NULL, err, r);
}

void gw_http_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	saw_registry(OWNER_HTTP, p, err, r);
}

void gw_access_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	saw_registry(OWNER_ACCESS, p, err, r);
}

void gw_watch_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	saw_registry(OWNER_WATCH, p, err, r);
}

void gw_prejoin_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	saw_registry(OWNER_PREJOIN, p, err, r);
}

void gw_access_http_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	saw_registry(OWNER_HTTP_ACCESS, p, err, r);
}

void gw_chat_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__ChatReply *r)
{
	saw_chat(OWNER_CHAT, p, err, r);
}

void gw_http_on_chat_reply(const struct gw_pending *p, hd_err err, Huddle__V1__ChatReply *r)
{
	saw_chat(OWNER_HTTP_CHAT, p, err, r);
}

static void saw_notes(enum owner owner, const struct gw_pending *p, hd_err err, Huddle__V1__NotesReply *r)
{
	saw(owner, p, err, r != NULL ? r->request_id : 0, r != NULL);
}

void gw_notes_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__NotesReply *r)
{
	saw_notes(OWNER_NOTES, p, err, r);
}

void gw_notes_op_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__NotesReply *r)
{
	saw_notes(OWNER_NOTES_OP, p, err, r);
}

void gw_http_on_notes_reply(const struct gw_pending *p, hd_err err, Huddle__V1__NotesReply *r)
{
	saw_notes(OWNER_HTTP_NOTES, p, err, r);
}

void gw_http_on_recording_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RecordingReply *r)
{
	saw(OWNER_HTTP_RECORDING, p, err, r != NULL ? r->request_id : 0, r != NULL);
}

void gw_sfu_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__MediaReply *r)
{
	saw(OWNER_SFU, p, err, r != NULL ? r->request_id : 0, r != NULL);
}

void gw_sfu_on_notice_reply(const struct gw_pending *p, hd_err err, Huddle__V1__MediaReply *r)
{
	saw(OWNER_SFU_NOTICE, p, err, r != NULL ? r->request_id : 0, r != NULL);
}

static void forget(void)
{
	memset(&seen, 0, sizeof(seen));
}

static enum service service_of(enum owner o)
{
	switch (o) {
	case OWNER_CHAT:
	case OWNER_HTTP_CHAT:
		return SERVICE_CHAT;
	case OWNER_NOTES:
	case OWNER_NOTES_OP:
	case OWNER_HTTP_NOTES:
		return SERVICE_NOTES;
	case OWNER_HTTP_RECORDING:
		return SERVICE_RECORDING;
	case OWNER_SFU:
	case OWNER_SFU_NOTICE:
		return SERVICE_MEDIA;
	default:
		return SERVICE_REGISTRY;
	}
}

// reply hands p's reply to the route as if service had sent it.
static void reply(enum service service, const struct gw_pending *p, hd_err err, nng_msg *msg)
{
	switch (service) {
	case SERVICE_CHAT:
		gw_route_chat_reply(p, err, msg);
		break;
	case SERVICE_NOTES:
		gw_route_notes_reply(p, err, msg);
		break;
	case SERVICE_RECORDING:
		gw_route_recording_reply(p, err, msg);
		break;
	case SERVICE_MEDIA:
		gw_route_media_reply(p, err, msg);
		break;
	default:
		gw_route_registry_reply(p, err, msg);
		break;
	}
}

static void every_op_has_one_handler(void **state)
{
	for (int op = 0; op < GW_OP_COUNT; op++) {
		const struct gw_route *r = gw_route_of((enum gw_op)op);
		int handlers = r == NULL ? 0
					 : (r->registry != NULL) + (r->chat != NULL) + (r->notes != NULL) +
						   (r->recording != NULL) + (r->media != NULL);
		if (handlers != 1)
			fail_msg("gw_op %d has %s reply handler in route.c", op,
				 handlers == 0 ? "no" : "more than one");
	}
	assert_null(gw_route_of(GW_OP_COUNT));
	assert_null(gw_route_of((enum gw_op) - 1));
}

static void owners_are_as_written(void **state)
{
	for (int op = 0; op < GW_OP_COUNT; op++) {
		struct gw_pending p = {.op = (enum gw_op)op, .conn_id = 9, .request_id = 3};
		if (want[op] == OWNER_NONE)
			fail_msg("gw_op %d: route_test.c's want[] does not say who takes its reply", op);
		// A call that failed in transport: no reply to decode.
		forget();
		reply(service_of(want[op]), &p, HD_ETIMEOUT, NULL);
		if (seen.calls != 1 || seen.owner != want[op])
			fail_msg("gw_op %d: reply reached owner %d (%d calls), want owner %d", op, seen.owner,
				 seen.calls, want[op]);
		assert_int_equal(seen.err, HD_ETIMEOUT);
		assert_false(seen.has_reply);
		if (want[op] != OWNER_HEARTBEAT)
			assert_int_equal(seen.op, op);
		// Another service's reply for this op is dropped.
		for (int sv = 0; sv < SERVICE_COUNT; sv++) {
			if (sv == (int)service_of(want[op]))
				continue;
			forget();
			reply((enum service)sv, &p, HD_ETIMEOUT, NULL);
			if (seen.calls != 0)
				fail_msg("gw_op %d: a reply from service %d reached owner %d", op, sv, seen.owner);
		}
	}
}

static void replies_are_decoded(void **state)
{
	Huddle__V1__RegistryReply rr = HUDDLE__V1__REGISTRY_REPLY__INIT;
	Huddle__V1__HeartbeatReply hb = HUDDLE__V1__HEARTBEAT_REPLY__INIT;
	Huddle__V1__ChatReply cr = HUDDLE__V1__CHAT_REPLY__INIT;
	struct gw_pending http = {.op = GW_OP_HTTP_GET, .conn_id = 1, .request_id = 0};
	struct gw_pending post = {.op = GW_OP_CHAT_POST, .conn_id = 2, .request_id = 5};
	struct gw_pending update = {.op = GW_OP_NOTES_UPDATE, .conn_id = 3, .request_id = 6, .document = 2};
	Huddle__V1__NotesReply nr = HUDDLE__V1__NOTES_REPLY__INIT;
	Huddle__V1__RecordingReply rec = HUDDLE__V1__RECORDING_REPLY__INIT;
	struct gw_pending download = {.op = GW_OP_HTTP_RECORDING, .conn_id = 4, .request_id = 0};
	nng_msg *msg;

	rr.request_id = 42;
	rr.body_case = HUDDLE__V1__REGISTRY_REPLY__BODY_HEARTBEAT;
	rr.heartbeat = &hb;
	assert_int_equal(hd_msg_pack(&rr.base, &msg), HD_OK);
	forget();
	gw_route_registry_reply(&http, HD_OK, msg);
	assert_int_equal(seen.owner, OWNER_HTTP);
	assert_int_equal(seen.err, HD_OK);
	assert_true(seen.has_reply);
	assert_int_equal(seen.request_id, 42);
	nng_msg_free(msg); // borrowed by the route

	cr.request_id = 7;
	assert_int_equal(hd_msg_pack(&cr.base, &msg), HD_OK);
	forget();
	gw_route_chat_reply(&post, HD_OK, msg);
	assert_int_equal(seen.owner, OWNER_CHAT);
	assert_int_equal(seen.err, HD_OK);
	assert_true(seen.has_reply);
	assert_int_equal(seen.request_id, 7);
	nng_msg_free(msg);

	nr.request_id = 8;
	assert_int_equal(hd_msg_pack(&nr.base, &msg), HD_OK);
	forget();
	gw_route_notes_reply(&update, HD_OK, msg);
	assert_int_equal(seen.owner, OWNER_NOTES_OP);
	assert_int_equal(seen.err, HD_OK);
	assert_true(seen.has_reply);
	assert_int_equal(seen.request_id, 8);
	nng_msg_free(msg);

	rec.request_id = 9;
	assert_int_equal(hd_msg_pack(&rec.base, &msg), HD_OK);
	forget();
	gw_route_recording_reply(&download, HD_OK, msg);
	assert_int_equal(seen.owner, OWNER_HTTP_RECORDING);
	assert_int_equal(seen.err, HD_OK);
	assert_true(seen.has_reply);
	assert_int_equal(seen.request_id, 9);
	nng_msg_free(msg);

	Huddle__V1__MediaReply mr = HUDDLE__V1__MEDIA_REPLY__INIT;
	struct gw_pending sfu = {.op = GW_OP_SFU, .conn_id = 5, .request_id = 11};
	mr.request_id = 10;
	assert_int_equal(hd_msg_pack(&mr.base, &msg), HD_OK);
	forget();
	gw_route_media_reply(&sfu, HD_OK, msg);
	assert_int_equal(seen.owner, OWNER_SFU);
	assert_int_equal(seen.err, HD_OK);
	assert_true(seen.has_reply);
	assert_int_equal(seen.request_id, 10);
	nng_msg_free(msg);

	// Field 1 as 5 bytes long, with one present: undecodable either way.
	static const uint8_t junk[] = {0x0a, 0x05, 0x01};
	assert_int_equal(nng_msg_alloc(&msg, 0), 0);
	assert_int_equal(nng_msg_append(msg, junk, sizeof(junk)), 0);
	forget();
	gw_route_registry_reply(&http, HD_OK, msg);
	assert_int_equal(seen.owner, OWNER_HTTP);
	assert_int_equal(seen.err, HD_EINTERNAL);
	assert_false(seen.has_reply);
	forget();
	gw_route_chat_reply(&post, HD_OK, msg);
	assert_int_equal(seen.owner, OWNER_CHAT);
	assert_int_equal(seen.err, HD_EINTERNAL);
	assert_false(seen.has_reply);
	forget();
	gw_route_notes_reply(&update, HD_OK, msg);
	assert_int_equal(seen.owner, OWNER_NOTES_OP);
	assert_int_equal(seen.err, HD_EINTERNAL);
	assert_false(seen.has_reply);
	forget();
	gw_route_recording_reply(&download, HD_OK, msg);
	assert_int_equal(seen.owner, OWNER_HTTP_RECORDING);
	assert_int_equal(seen.err, HD_EINTERNAL);
	assert_false(seen.has_reply);
	nng_msg_free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_op_has_one_handler),
		cmocka_unit_test(owners_are_as_written),
		cmocka_unit_test(replies_are_decoded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
