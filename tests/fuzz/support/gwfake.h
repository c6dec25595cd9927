// gwfake.h: what the gateway harnesses run the real gateway code (ws.c,
// http.c, room.c, chat.c, notes.c, access*.c, recording.c ...) over, in one
// process and without a network:
// - calls: replaces services/gateway/calls.c (the NNG side). gw_registry_call
//   and the others pack the request and keep it with its gw_pending in a
//   FIFO; the harness answers the oldest call when the input says so, with a
//   well-formed reply built from the request (fz_calls_answer_ok), with bytes
//   from the input (fz_calls_answer_bytes), or with a transport error. The
//   answer goes through the real route.c (gw_route_*_reply), as gw_drain
//   would hand it over.
// - lws: the libwebsockets calls the gateway makes (the executable's
//   definitions take precedence over libwebsockets.so's): a struct lws is a
//   fake connection holding a request's method, URI, headers, URL arguments
//   and peer address; writes are counted and dropped.
#ifndef FUZZ_GWFAKE_H
#define FUZZ_GWFAKE_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/gateway.h"

#define FZ_HDR_MAX 256 // bytes of one fake header value

// struct lws is the fake connection (libwebsockets.h leaves it opaque).
struct lws {
	char *hdr[WSI_TOKEN_COUNT]; // malloc'd values, NULL when absent
	char *args[8];              // URL arguments ("name=value"), NULL-terminated
	char peer[64];
	bool writable;       // lws_callback_on_writable was asked
	bool closing;        // lws_close_reason was called
	uint64_t written;    // bytes lws_write took
	int transaction_end; // what lws_http_transaction_completed returns
};

// fz_wsi_reset frees w's headers and arguments and zeroes it.
void fz_wsi_reset(struct lws *w);

// fz_wsi_set sets header token to value (n bytes, copied; NULs end it).
void fz_wsi_set(struct lws *w, enum lws_token_indexes token, const char *value, size_t n);

// fz_gw_init fills gw.cfg with main.c's defaults (web_root given) and opens
// what a started gateway has (websec); once per process.
void fz_gw_init(const char *web_root);

// fz_calls_pending is the number of calls waiting for an answer.
size_t fz_calls_pending(void);

// fz_calls_answer_ok answers the oldest call with a reply of its kind that
// echoes the request's body case (sub-messages present, fields empty);
// participant_id, when not NULL, names the joining participant in a join
// reply (with the meeting and the members given as the roster).
void fz_calls_answer_ok(const char *participant_id, const char *const *roster, size_t n_roster);

// fz_calls_answer_bytes answers the oldest call with data as the packed reply.
void fz_calls_answer_bytes(const uint8_t *data, size_t len);

// fz_calls_answer_error completes the oldest call with a transport error
// (HD_ETIMEOUT, HD_ECLOSED, ...), as hd_rpc does.
void fz_calls_answer_error(hd_err err);

// fz_calls_oldest_op is the op of the oldest call (GW_OP_COUNT when none).
enum gw_op fz_calls_oldest_op(void);

// fz_calls_drop_all answers every waiting call with HD_ECLOSED (as closing
// the clients does), so nothing is left between inputs.
void fz_calls_drop_all(void);

// fz_calls_fail makes every new call fail at once with HD_ECLOSED (the
// service is down) while set.
extern bool fz_calls_down;

#endif
