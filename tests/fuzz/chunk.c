// chunk.c: fuzzes the gateway's FrameChunk reassembly (gateway/chunk.c):
// a client's sequence of parts, aborts (another frame came between parts)
// and refusals (the rate limiter), with a small limit so TOO_LARGE is
// reachable; and the round trip: any message cut with gw_chunk_part comes
// back whole and unchanged.
// Input: records of {kind, message_id, index, count, 16-bit length, data}.
#include <stdlib.h>
#include <string.h>

#include "gateway/chunk.h"
#include "support/input.h"

#define FZ_MAX ((size_t)256 * 1024) // message limit in this harness (the gateway's is HD_WS_MESSAGE_MAX)

static void round_trip(const uint8_t *msg, size_t len)
{
	struct gw_chunk_rx rx = {0};
	uint32_t count = gw_chunk_count(len);
	bool complete = false;
	if (len <= GW_WS_FRAME_MAX || count < GW_CHUNK_COUNT_MIN)
		return; // sent in one frame
	for (uint32_t i = 0; i < count; i++) {
		Huddle__V1__FrameChunk part;
		uint32_t request_id = 0;
		const char *why = NULL;
		gw_chunk_part(&part, msg, len, 7, i);
		if (gw_chunk_rx_add(&rx, &part, HD_WS_MESSAGE_MAX, &complete, &request_id, &why) != HD_OK)
			abort();
		if (complete != (i + 1 == count))
			abort();
	}
	if (rx.len != len || memcmp(rx.buf, msg, len) != 0)
		abort();
	gw_chunk_rx_fini(&rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	struct gw_chunk_rx rx = {0};
	fz_init(&in, data, size);
	while (in.left > 0) {
		uint8_t kind = fz_u8(&in);
		Huddle__V1__FrameChunk part = HUDDLE__V1__FRAME_CHUNK__INIT;
		part.message_id = fz_u8(&in);
		part.index = fz_u8(&in);
		part.count = fz_u8(&in);
		size_t n;
		const uint8_t *p = fz_slice(&in, &n);
		// A part may be up to GW_CHUNK_PART_MAX: repeat the slice to get there.
		size_t want = (kind & 0x80) ? GW_CHUNK_PART_MAX + (kind & 1) : n;
		uint8_t *buf = malloc(want > 0 ? want : 1);
		if (buf == NULL)
			abort();
		for (size_t i = 0; i < want; i++)
			buf[i] = n > 0 ? p[i % n] : 0;
		part.data.data = buf;
		part.data.len = want;
		uint32_t request_id = 0;
		bool complete = false;
		const char *why = NULL;
		switch (kind & 3) {
		case 0:
		case 1: {
			hd_err err = gw_chunk_rx_add(&rx, &part, FZ_MAX, &complete, &request_id, &why);
			if (err == HD_OK && complete) {
				if (rx.len > FZ_MAX || (rx.len > 0 && rx.buf == NULL))
					abort();
				gw_chunk_rx_reset(&rx);
			}
			if (err != HD_OK && why == NULL)
				abort();
			break;
		}
		case 2:
			gw_chunk_rx_abort(&rx, &request_id);
			break;
		default:
			if (gw_chunk_rx_ignoring(&rx, &part))
				break;
			gw_chunk_rx_refuse(&rx, &part);
			break;
		}
		free(buf);
	}
	gw_chunk_rx_fini(&rx);
	gw_chunk_request_id(data, size);
	// The sender's side: a message of up to 4 MiB built from the input.
	if (size > 2 && (data[1] & 0xf) == 0) { // one input in 16: 4 MiB copies are slow
		size_t len = ((size_t)data[0] << 14 | (size_t)data[1] << 6) % (HD_WS_MESSAGE_MAX + 1);
		uint8_t *msg = malloc(len > 0 ? len : 1);
		if (msg == NULL)
			abort();
		for (size_t i = 0; i < len; i++)
			msg[i] = data[2 + i % (size - 2)];
		round_trip(msg, len);
		free(msg);
	}
	return 0;
}
