// websec.h: the gateway's web security: which browser origins may open the
// WebSocket (RFC 6455 section 10.2), the security headers of every HTTP
// response (Content-Security-Policy Level 3, X-Content-Type-Options,
// Referrer-Policy, Permissions-Policy, X-Frame-Options, HSTS per RFC 6797
// when TLS is on), the per-address rate limit of meeting and space creation,
// and the signed join link configuration (gw.jwt). Service thread only.
#ifndef GW_WEBSEC_H
#define GW_WEBSEC_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define GW_ORIGIN_MAX 256             // bytes of one Origin or Host header we compare
#define GW_ORIGINS_MAX 32             // entries of ALLOWED_ORIGINS
#define GW_PEM_MAX 16384              // bytes of the JOIN_TOKEN_PUBLIC_KEY file
#define GW_CREATE_CLIENTS_MAX 65536   // client addresses whose create rate is tracked at once
#define GW_HSTS_MAX_AGE_S 31536000    // Strict-Transport-Security max-age, s (one year)
#define GW_HTTP_SECURITY_HEADERS 1024 // bytes the security headers take in a response, at most

// gw_websec_open checks and takes in the settings main loaded into gw.cfg:
// ALLOWED_ORIGINS (each an http(s) origin without a path), FRAME_ANCESTORS
// (no ';', ',' or control characters), TLS_CERT and TLS_KEY (both or
// neither, readable files), JOIN_TOKEN_PUBLIC_KEY (a readable PEM RSA or
// P-256 public key file, at most GW_PEM_MAX bytes) and fills gw.jwt. A bad
// setting is told on stderr, naming it. Returns HD_OK, HD_EBADREQUEST (a
// bad setting; nothing kept), HD_ENOMEM. gw_websec_close frees what it
// kept (and is a no-op when nothing is).
hd_err gw_websec_open(void);
void gw_websec_close(void);

// gw_websec_tls tells whether TLS_CERT and TLS_KEY are set (the vhost
// serves HTTPS and WSS only).
bool gw_websec_tls(void);

// gw_websec_headers appends the security headers to a response being
// built with lws_add_http_header_by_name (*p moves on; at most
// GW_HTTP_SECURITY_HEADERS bytes). Returns 0, or 1 when they do not fit.
int gw_websec_headers(struct lws *wsi, unsigned char **p, unsigned char *end);

// gw_websec_origin_allowed tells whether a WebSocket upgrade's Origin may
// connect: no Origin (not a browser) passes; else it must be one of
// ALLOWED_ORIGINS or, when that is unset, "http://" or "https://" followed
// by the request's own Host header (compared case-insensitively).
bool gw_websec_origin_allowed(struct lws *wsi);

// gw_websec_refuse writes a complete JSON error response ({"error":
// {code,message}}) with the security headers at once, for a connection
// that is then closed (a refused WebSocket upgrade). Returns 0, or -1 when
// it could not be written.
int gw_websec_refuse(struct lws *wsi, unsigned int status, hd_err code, const char *message);

// gw_websec_create_allowed takes one creation (meeting or space) from the
// bucket of the client's address (IPv6: its /64) at now_ms (monotonic):
// MEETINGS_PER_ADDRESS_PER_MINUTE per minute, bursts of as many. Returns true when it
// may go ahead; false with *retry_after_s (>= 1) when it must get 429 (also
// when GW_CREATE_CLIENTS_MAX addresses are tracked and none can be dropped).
bool gw_websec_create_allowed(struct lws *wsi, int64_t now_ms, int64_t *retry_after_s);

// gw_websec_create_take is gw_websec_create_allowed for a client named by
// addr (a bucket key: an address, or an IPv6 /64). When the table is full,
// buckets that have filled up again are dropped first.
bool gw_websec_create_take(const char *addr, int64_t now_ms, int64_t *retry_after_s);

// gw_websec_conn_allowed tells whether wsi's client (its address as for
// meeting creation: X-Forwarded-For's last entry with TRUST_X_FORWARDED_FOR,
// IPv6 by /64) may open one more WebSocket: fewer than
// MAX_CONNECTIONS_PER_ADDRESS are open (always true when that is 0, or when
// the address cannot be read). lws thread only.
bool gw_websec_conn_allowed(struct lws *wsi);

// gw_websec_conn_open counts one more WebSocket of wsi's client and writes
// the client's key into key (the session keeps it for
// gw_websec_conn_close). Returns false (key "") when nothing was counted:
// no limit, no address, or no memory. lws thread only.
bool gw_websec_conn_open(struct lws *wsi, char key[INET6_ADDRSTRLEN]);

// gw_websec_conn_close counts down the connection that gw_websec_conn_open
// counted under key ("" or NULL: a no-op). lws thread only.
void gw_websec_conn_close(const char *key);

// gw_websec_conn_addresses is how many client addresses have a WebSocket open
// (counted ones).
size_t gw_websec_conn_addresses(void);

// gw_websec_create_clients is how many client addresses are tracked.
size_t gw_websec_create_clients(void);

#endif
