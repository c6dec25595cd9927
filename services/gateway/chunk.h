// chunk.h: FrameChunk (proto/huddle/v1/client.proto). A browser-protocol
// message whose packed size exceeds one WebSocket frame travels as 2..70
// consecutive chunk frames of at most GW_CHUNK_PART_MAX bytes each, up to
// HD_WS_MESSAGE_MAX in all. This component reassembles one connection's
// incoming parts and cuts outgoing messages into parts; it knows nothing of
// lws or sessions. Service thread only.
#ifndef GW_CHUNK_H
#define GW_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/util.h"
#include "huddle/v1/client.pb-c.h"

#define GW_WS_FRAME_MAX 65536                 // bytes of one frame; a longer message is sent in chunks
#define GW_CHUNK_PART_MAX ((size_t)60 * 1024) // bytes of data in one part
#define GW_CHUNK_COUNT_MIN 2
#define GW_CHUNK_COUNT_MAX 70

// gw_chunk_rx is one connection's incoming message in assembly (embed it
// zeroed; gw_chunk_rx_fini frees it).
struct gw_chunk_rx {
	uint8_t *buf; // the parts so far, concatenated
	size_t len, cap;
	uint32_t message_id; // of the message in assembly, or of the dropped one
	uint32_t count;      // parts of the message in assembly
	uint32_t next;       // index of the part due next; 0: nothing in assembly
	bool discarding;     // message_id was dropped: its later parts are ignored
};

// gw_chunk_rx_add takes one incoming part (borrowed). A part with index 0
// always starts a new message; any other part must be the next one of the
// message in assembly. On HD_OK *complete tells whether that was the last
// part: then rx->buf holds rx->len bytes, the whole message, until the next
// call or gw_chunk_rx_reset. A later part of a message dropped before is
// ignored (HD_OK, not complete). Otherwise the message in assembly (if any)
// is dropped, the rest of the offending message's parts will be ignored, and
// the error is returned: HD_EMALFORMED (a part out of order, a new
// message_id before the last part, a count outside 2..70, an index not below
// it, a part of 0 or over GW_CHUNK_PART_MAX bytes), HD_ETOOLARGE (more than
// max bytes in all), HD_ENOMEM; *request_id is then the request_id of the
// dropped message as far as its first part shows it (0 when unknown) and
// *why a static description. A part with index 0 that follows an
// unfinished message is still taken as the start of its own message after
// the error about the other.
hd_err gw_chunk_rx_add(struct gw_chunk_rx *rx, const Huddle__V1__FrameChunk *part, size_t max, bool *complete,
		       uint32_t *request_id, const char **why);

// gw_chunk_rx_abort drops the message in assembly (a frame that is no chunk
// came between its parts, or a part was refused) and ignores its later
// parts. Returns whether one was in assembly, with its request_id as
// gw_chunk_rx_add reports it.
bool gw_chunk_rx_abort(struct gw_chunk_rx *rx, uint32_t *request_id);

// gw_chunk_rx_refuse drops the message `part` belongs to without taking
// the part (the rate limiter refused it) and ignores its later parts; a
// different message in assembly is dropped too. Returns the dropped
// message's request_id as far as known (0 otherwise).
uint32_t gw_chunk_rx_refuse(struct gw_chunk_rx *rx, const Huddle__V1__FrameChunk *part);

// gw_chunk_rx_ignoring tells whether part is a later part of a message
// dropped before, which gw_chunk_rx_add would ignore.
bool gw_chunk_rx_ignoring(const struct gw_chunk_rx *rx, const Huddle__V1__FrameChunk *part);

// gw_chunk_rx_reset forgets a completed message and frees the buffer, so an
// idle connection keeps no memory.
void gw_chunk_rx_reset(struct gw_chunk_rx *rx);

// gw_chunk_rx_fini frees what rx holds.
void gw_chunk_rx_fini(struct gw_chunk_rx *rx);

// gw_chunk_count returns how many parts a len-byte message is cut into
// (len <= HD_WS_MESSAGE_MAX needs at most GW_CHUNK_COUNT_MAX).
uint32_t gw_chunk_count(size_t len);

// gw_chunk_part fills part as part `index` (< gw_chunk_count(len)) of the
// len-byte packed message msg, borrowing its bytes.
void gw_chunk_part(Huddle__V1__FrameChunk *part, const uint8_t *msg, size_t len, uint32_t message_id, uint32_t index);

// gw_chunk_request_id reads the request_id (field 1) from the first bytes of
// a packed ClientMessage or ServerMessage, as protobuf encoders write it
// first; 0 when it is absent or cut off.
uint32_t gw_chunk_request_id(const uint8_t *msg, size_t len);

#endif
