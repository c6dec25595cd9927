// chunk.c: FrameChunk reassembly and splitting.
#include "gateway/chunk.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_FIRST_CAP ((size_t)128 * 1024) // grown by doubling: a part's count is the sender's word, not ours

uint32_t gw_chunk_request_id(const uint8_t *msg, size_t len)
{
	uint64_t v = 0;
	// Tag 0x08: field 1, varint. Anything else first means no request_id.
	if (len < 2 || msg[0] != 0x08)
		return 0;
	for (size_t i = 1; i < len && i <= 10; i++) {
		v |= (uint64_t)(msg[i] & 0x7f) << (7 * (i - 1));
		if ((msg[i] & 0x80) == 0)
			return v <= UINT32_MAX ? (uint32_t)v : 0;
	}
	return 0;
}

// drop forgets the message in assembly and ignores the rest of message_id's
// parts.
static void drop(struct gw_chunk_rx *rx, uint32_t message_id)
{
	free(rx->buf);
	rx->buf = NULL;
	rx->len = rx->cap = 0;
	rx->next = 0;
	rx->count = 0;
	rx->message_id = message_id;
	rx->discarding = true;
}

bool gw_chunk_rx_abort(struct gw_chunk_rx *rx, uint32_t *request_id)
{
	if (rx->next == 0)
		return false;
	*request_id = gw_chunk_request_id(rx->buf, rx->len);
	drop(rx, rx->message_id);
	return true;
}

bool gw_chunk_rx_ignoring(const struct gw_chunk_rx *rx, const Huddle__V1__FrameChunk *part)
{
	return rx->discarding && rx->next == 0 && part->index > 0 && part->message_id == rx->message_id;
}

uint32_t gw_chunk_rx_refuse(struct gw_chunk_rx *rx, const Huddle__V1__FrameChunk *part)
{
	uint32_t request_id = 0;
	if (rx->next > 0)
		request_id = gw_chunk_request_id(rx->buf, rx->len);
	else if (part->index == 0)
		request_id = gw_chunk_request_id(part->data.data, part->data.len);
	drop(rx, part->message_id);
	return request_id;
}

// append adds n bytes to the message in assembly, at most max in all.
static hd_err append(struct gw_chunk_rx *rx, const uint8_t *data, size_t n, size_t max)
{
	if (n > max || rx->len > max - n)
		return HD_ETOOLARGE;
	if (rx->len + n > rx->cap) {
		size_t cap = rx->cap > 0 ? rx->cap : CHUNK_FIRST_CAP;
		while (cap < rx->len + n)
			cap *= 2;
		if (cap > max)
			cap = max;
		uint8_t *buf = realloc(rx->buf, cap);
		if (buf == NULL)
			return HD_ENOMEM;
		rx->buf = buf;
		rx->cap = cap;
	}
	memcpy(rx->buf + rx->len, data, n);
	rx->len += n;
	return HD_OK;
}

// fail drops the message in assembly (naming its request) and ignores the
// rest of message_id's parts.
static hd_err fail(struct gw_chunk_rx *rx, uint32_t message_id, hd_err code, const char *message, uint32_t *request_id,
		   const char **why)
{
	*request_id = rx->next > 0 ? gw_chunk_request_id(rx->buf, rx->len) : 0;
	*why = message;
	drop(rx, message_id);
	return code;
}

hd_err gw_chunk_rx_add(struct gw_chunk_rx *rx, const Huddle__V1__FrameChunk *part, size_t max, bool *complete,
		       uint32_t *request_id, const char **why)
{
	*complete = false;
	*request_id = 0;
	*why = NULL;
	if (part->count < GW_CHUNK_COUNT_MIN || part->count > GW_CHUNK_COUNT_MAX || part->index >= part->count)
		return fail(rx, part->message_id, HD_EMALFORMED, "a chunk's count must be 2..70 and its index below it",
			    request_id, why);
	if (part->data.len == 0 || part->data.len > GW_CHUNK_PART_MAX)
		return fail(rx, part->message_id, HD_EMALFORMED, "a chunk carries 1..61440 bytes", request_id, why);
	hd_err err = HD_OK;
	if (part->index == 0) {
		// A new message; one still in assembly is abandoned.
		if (rx->next > 0) {
			err = fail(rx, part->message_id, HD_EMALFORMED,
				   "a new chunked message began before the last part", request_id, why);
		}
		rx->message_id = part->message_id;
		rx->count = part->count;
		rx->next = 0;
		rx->discarding = false;
	} else if (gw_chunk_rx_ignoring(rx, part)) {
		return HD_OK; // the rest of a dropped message
	} else if (rx->next == 0) {
		return fail(rx, part->message_id, HD_EMALFORMED, "a chunk without the parts before it", request_id,
			    why);
	} else if (part->message_id != rx->message_id) {
		return fail(rx, part->message_id, HD_EMALFORMED, "a new chunked message began before the last part",
			    request_id, why);
	} else if (part->index != rx->next || part->count != rx->count) {
		return fail(rx, part->message_id, HD_EMALFORMED, "a chunk out of order", request_id, why);
	}
	hd_err added = append(rx, part->data.data, part->data.len, max);
	if (added != HD_OK) {
		// Report the first problem: the message abandoned before this one.
		uint32_t id = 0;
		const char *msg = NULL;
		hd_err code =
			fail(rx, part->message_id, added,
			     added == HD_ETOOLARGE ? "the chunked message is over 4 MiB" : "out of memory", &id, &msg);
		if (err == HD_OK) {
			*request_id = id;
			*why = msg;
			err = code;
		}
		return err;
	}
	rx->next = part->index + 1;
	if (rx->next == rx->count) { // index 0 never is the last part, so err is HD_OK here
		rx->next = 0;
		*complete = true;
	}
	return err;
}

void gw_chunk_rx_reset(struct gw_chunk_rx *rx)
{
	free(rx->buf);
	rx->buf = NULL;
	rx->len = rx->cap = 0;
	rx->next = 0;
	rx->count = 0;
	rx->discarding = false;
}

void gw_chunk_rx_fini(struct gw_chunk_rx *rx)
{
	gw_chunk_rx_reset(rx);
}

uint32_t gw_chunk_count(size_t len)
{
	return (uint32_t)((len + GW_CHUNK_PART_MAX - 1) / GW_CHUNK_PART_MAX);
}

void gw_chunk_part(Huddle__V1__FrameChunk *part, const uint8_t *msg, size_t len, uint32_t message_id, uint32_t index)
{
	size_t off = (size_t)index * GW_CHUNK_PART_MAX;
	huddle__v1__frame_chunk__init(part);
	part->message_id = message_id;
	part->index = index;
	part->count = gw_chunk_count(len);
	part->data.data = (uint8_t *)msg + off;
	part->data.len = len - off < GW_CHUNK_PART_MAX ? len - off : GW_CHUNK_PART_MAX;
}
