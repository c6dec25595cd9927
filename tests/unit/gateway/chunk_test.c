// chunk_test.c: FrameChunk splitting and reassembly: every size a message
// may have comes back byte for byte; every broken sequence the proto names
// is refused with its code, the partial message dropped, the request named.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gateway/chunk.h"

// message fills a len-byte packed ClientMessage-like buffer: request_id
// first (tag 0x08, varint), then filler bytes.
static uint8_t *message(size_t len, uint32_t request_id)
{
	uint8_t *m = malloc(len);
	assert_non_null(m);
	for (size_t i = 0; i < len; i++)
		m[i] = (uint8_t)(i * 131 + 7);
	m[0] = 0x08;
	size_t i = 1;
	uint32_t v = request_id;
	do {
		m[i++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v > 0);
	return m;
}

static Huddle__V1__FrameChunk part_of(const uint8_t *m, size_t len, uint32_t id, uint32_t index)
{
	Huddle__V1__FrameChunk p;
	gw_chunk_part(&p, m, len, id, index);
	return p;
}

// add feeds one part and returns the code, with *complete.
static hd_err add(struct gw_chunk_rx *rx, const Huddle__V1__FrameChunk *p, bool *complete, uint32_t *request_id)
{
	const char *why = "unset";
	hd_err err = gw_chunk_rx_add(rx, p, HD_WS_MESSAGE_MAX, complete, request_id, &why);
	if (err != HD_OK)
		assert_non_null(why);
	return err;
}

static void round_trip(void **state)
{
	static const size_t sizes[] = {GW_WS_FRAME_MAX + 1, GW_CHUNK_PART_MAX * 2, GW_CHUNK_PART_MAX * 2 + 1,
				       1024 * 1024, HD_WS_MESSAGE_MAX};
	struct gw_chunk_rx rx = {0};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t len = sizes[k];
		uint8_t *m = message(len, 1000 + (uint32_t)k);
		uint32_t count = gw_chunk_count(len);
		assert_true(count >= GW_CHUNK_COUNT_MIN && count <= GW_CHUNK_COUNT_MAX);
		for (uint32_t i = 0; i < count; i++) {
			Huddle__V1__FrameChunk p = part_of(m, len, 77, i);
			assert_int_equal(p.count, count);
			assert_true(p.data.len >= 1 && p.data.len <= GW_CHUNK_PART_MAX);
			// The whole frame fits one WebSocket frame.
			Huddle__V1__ServerMessage sm = HUDDLE__V1__SERVER_MESSAGE__INIT;
			sm.body_case = HUDDLE__V1__SERVER_MESSAGE__BODY_CHUNK;
			sm.chunk = &p;
			assert_true(huddle__v1__server_message__get_packed_size(&sm) <= GW_WS_FRAME_MAX);
			bool complete = true;
			uint32_t rid = 1;
			assert_int_equal(add(&rx, &p, &complete, &rid), HD_OK);
			assert_int_equal(complete, i == count - 1);
		}
		assert_int_equal(rx.len, len);
		assert_memory_equal(rx.buf, m, len);
		assert_int_equal(gw_chunk_request_id(rx.buf, rx.len), 1000 + k);
		gw_chunk_rx_reset(&rx);
		assert_null(rx.buf);
		free(m);
	}
	assert_int_equal(gw_chunk_count(HD_WS_MESSAGE_MAX), 69);
	gw_chunk_rx_fini(&rx);
}

static void request_id_peek(void **state)
{
	Huddle__V1__ClientMessage cm = HUDDLE__V1__CLIENT_MESSAGE__INIT;
	Huddle__V1__PingRequest ping = HUDDLE__V1__PING_REQUEST__INIT;
	uint8_t buf[64];
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_PING;
	cm.ping = &ping;
	cm.request_id = 4000000000u;
	size_t n = huddle__v1__client_message__pack(&cm, buf);
	assert_int_equal(gw_chunk_request_id(buf, n), 4000000000u);
	assert_int_equal(gw_chunk_request_id(buf, 3), 0); // the varint is cut off
	cm.request_id = 0;
	n = huddle__v1__client_message__pack(&cm, buf);
	assert_int_equal(gw_chunk_request_id(buf, n), 0);
	static const uint8_t too_big[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0x1f}; // 2^35 - 1
	assert_int_equal(gw_chunk_request_id(too_big, sizeof(too_big)), 0);
}

static void out_of_order(void **state)
{
	struct gw_chunk_rx rx = {0};
	size_t len = 3 * GW_CHUNK_PART_MAX;
	uint8_t *m = message(len, 42);
	bool complete;
	uint32_t rid;
	Huddle__V1__FrameChunk p0 = part_of(m, len, 5, 0), p1 = part_of(m, len, 5, 1), p2 = part_of(m, len, 5, 2);
	assert_int_equal(add(&rx, &p0, &complete, &rid), HD_OK);
	assert_int_equal(add(&rx, &p2, &complete, &rid), HD_EMALFORMED);
	assert_int_equal(rid, 42);
	assert_null(rx.buf); // dropped
	// The rest of message 5 is ignored, without further errors.
	assert_int_equal(add(&rx, &p1, &complete, &rid), HD_OK);
	assert_false(complete);
	assert_int_equal(add(&rx, &p2, &complete, &rid), HD_OK);
	assert_false(complete);
	// A part repeated is out of order too.
	assert_int_equal(add(&rx, &p0, &complete, &rid), HD_OK);
	assert_int_equal(add(&rx, &p0, &complete, &rid), HD_EMALFORMED); // index 0 again: abandons the first
	assert_int_equal(rid, 42);
	assert_int_equal(add(&rx, &p1, &complete, &rid), HD_OK); // ... and restarts the message
	assert_int_equal(add(&rx, &p2, &complete, &rid), HD_OK);
	assert_true(complete);
	assert_memory_equal(rx.buf, m, len);
	// Sending it again (same id) works: index 0 always starts a message.
	assert_int_equal(add(&rx, &p0, &complete, &rid), HD_OK);
	assert_int_equal(add(&rx, &p1, &complete, &rid), HD_OK);
	assert_int_equal(add(&rx, &p1, &complete, &rid), HD_EMALFORMED);
	assert_int_equal(add(&rx, &p2, &complete, &rid), HD_OK); // ignored
	assert_false(complete);
	gw_chunk_rx_fini(&rx);
	free(m);
}

static void interleaved_messages(void **state)
{
	struct gw_chunk_rx rx = {0};
	size_t len = 2 * GW_CHUNK_PART_MAX + 10;
	uint8_t *a = message(len, 1), *b = message(len, 2);
	bool complete;
	uint32_t rid;
	Huddle__V1__FrameChunk a0 = part_of(a, len, 1, 0), a1 = part_of(a, len, 1, 1);
	assert_int_equal(add(&rx, &a0, &complete, &rid), HD_OK);
	// b starts before a's last part: a is dropped (named), b is taken.
	Huddle__V1__FrameChunk b0 = part_of(b, len, 2, 0);
	assert_int_equal(add(&rx, &b0, &complete, &rid), HD_EMALFORMED);
	assert_int_equal(rid, 1);
	for (uint32_t i = 1; i < 3; i++) {
		Huddle__V1__FrameChunk bi = part_of(b, len, 2, i);
		assert_int_equal(add(&rx, &bi, &complete, &rid), HD_OK);
	}
	assert_true(complete);
	assert_memory_equal(rx.buf, b, len);
	gw_chunk_rx_reset(&rx);
	// A later part of another message while one is in assembly drops it.
	assert_int_equal(add(&rx, &b0, &complete, &rid), HD_OK);
	assert_int_equal(add(&rx, &a1, &complete, &rid), HD_EMALFORMED);
	assert_int_equal(rid, 2);
	// A part without its first part.
	assert_int_equal(add(&rx, &a1, &complete, &rid), HD_OK); // message 1 is being ignored now
	Huddle__V1__FrameChunk stray = part_of(a, len, 9, 1);
	assert_int_equal(add(&rx, &stray, &complete, &rid), HD_EMALFORMED);
	assert_int_equal(rid, 0);
	gw_chunk_rx_fini(&rx);
	free(a);
	free(b);
}

static void bad_parts(void **state)
{
	struct gw_chunk_rx rx = {0};
	uint8_t data[GW_CHUNK_PART_MAX + 1];
	memset(data, 1, sizeof(data));
	bool complete;
	uint32_t rid;
	Huddle__V1__FrameChunk p = HUDDLE__V1__FRAME_CHUNK__INIT;
	p.message_id = 3;
	p.data.data = data;
	p.data.len = 100;
	static const uint32_t counts[][2] = {{1, 0}, {71, 0}, {0, 0}, {2, 2}, {5, 9}};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		p.count = counts[i][0];
		p.index = counts[i][1];
		assert_int_equal(add(&rx, &p, &complete, &rid), HD_EMALFORMED);
	}
	p.count = 2;
	p.index = 0;
	p.data.len = 0;
	assert_int_equal(add(&rx, &p, &complete, &rid), HD_EMALFORMED);
	p.data.len = GW_CHUNK_PART_MAX + 1;
	assert_int_equal(add(&rx, &p, &complete, &rid), HD_EMALFORMED);
	// A count that changes between parts.
	p.data.len = 100;
	assert_int_equal(add(&rx, &p, &complete, &rid), HD_OK);
	p.index = 1;
	p.count = 3;
	assert_int_equal(add(&rx, &p, &complete, &rid), HD_EMALFORMED);
	gw_chunk_rx_fini(&rx);
}

static void too_large(void **state)
{
	struct gw_chunk_rx rx = {0};
	size_t len = HD_WS_MESSAGE_MAX + 1;
	uint8_t *m = message(len, 77);
	bool complete = false;
	uint32_t rid = 0;
	uint32_t count = gw_chunk_count(len);
	assert_int_equal(count, 69);
	hd_err err = HD_OK;
	uint32_t i;
	for (i = 0; i < count && err == HD_OK; i++) {
		Huddle__V1__FrameChunk p = part_of(m, len, 8, i);
		err = add(&rx, &p, &complete, &rid);
	}
	assert_int_equal(err, HD_ETOOLARGE);
	assert_int_equal(i, count); // refused with the part that passed the limit
	assert_int_equal(rid, 77);
	assert_false(complete);
	assert_null(rx.buf);
	// A smaller limit is the caller's to choose.
	Huddle__V1__FrameChunk p0 = part_of(m, len, 9, 0);
	const char *why;
	assert_int_equal(gw_chunk_rx_add(&rx, &p0, 1000, &complete, &rid, &why), HD_ETOOLARGE);
	gw_chunk_rx_fini(&rx);
	free(m);
}

static void abort_assembly(void **state)
{
	struct gw_chunk_rx rx = {0};
	size_t len = 2 * GW_CHUNK_PART_MAX + 1;
	uint8_t *m = message(len, 314);
	bool complete;
	uint32_t rid = 0;
	assert_false(gw_chunk_rx_abort(&rx, &rid));
	Huddle__V1__FrameChunk p0 = part_of(m, len, 4, 0), p1 = part_of(m, len, 4, 1), p2 = part_of(m, len, 4, 2);
	assert_int_equal(add(&rx, &p0, &complete, &rid), HD_OK);
	assert_true(gw_chunk_rx_abort(&rx, &rid));
	assert_int_equal(rid, 314);
	assert_false(gw_chunk_rx_abort(&rx, &rid));
	assert_int_equal(add(&rx, &p1, &complete, &rid), HD_OK); // ignored
	assert_int_equal(add(&rx, &p2, &complete, &rid), HD_OK);
	assert_false(complete);
	assert_null(rx.buf);
	gw_chunk_rx_fini(&rx);
	free(m);
}

static void refuse(void **state)
{
	struct gw_chunk_rx rx = {0};
	size_t len = 3 * GW_CHUNK_PART_MAX;
	uint8_t *m = message(len, 2718);
	bool complete;
	uint32_t rid;
	Huddle__V1__FrameChunk p0 = part_of(m, len, 6, 0), p1 = part_of(m, len, 6, 1), p2 = part_of(m, len, 6, 2);
	// A refused first part: named from its own bytes; the rest is ignored.
	assert_false(gw_chunk_rx_ignoring(&rx, &p1));
	assert_int_equal(gw_chunk_rx_refuse(&rx, &p0), 2718);
	assert_true(gw_chunk_rx_ignoring(&rx, &p1));
	assert_false(gw_chunk_rx_ignoring(&rx, &p0)); // a first part starts anew
	assert_int_equal(add(&rx, &p1, &complete, &rid), HD_OK);
	assert_int_equal(add(&rx, &p2, &complete, &rid), HD_OK);
	assert_false(complete);
	// A refused middle part: the message in assembly is dropped.
	assert_int_equal(add(&rx, &p0, &complete, &rid), HD_OK);
	assert_int_equal(gw_chunk_rx_refuse(&rx, &p1), 2718);
	assert_null(rx.buf);
	assert_int_equal(add(&rx, &p2, &complete, &rid), HD_OK);
	assert_false(complete);
	// A refused later part with nothing in assembly names nothing.
	assert_int_equal(gw_chunk_rx_refuse(&rx, &p2), 0);
	gw_chunk_rx_fini(&rx);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),     cmocka_unit_test(request_id_peek),
		cmocka_unit_test(out_of_order),   cmocka_unit_test(interleaved_messages),
		cmocka_unit_test(bad_parts),      cmocka_unit_test(too_large),
		cmocka_unit_test(abort_assembly), cmocka_unit_test(refuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
