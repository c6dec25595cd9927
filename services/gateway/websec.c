// websec.c: allowed WebSocket origins, security headers, the rate limit of
// meeting creation per client address, and the join token configuration.
#include "gateway/websec.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uthash.h>

#include "common/jwt.h"
#include "common/log.h"
#include "gateway/gateway.h"
#include "gateway/ratelimit.h"

#define FRAME_ANCESTORS_MAX 512 // bytes of FRAME_ANCESTORS
#define CREATE_COST                                                                                                    \
	60.0 // tokens of one creation: the bucket fills at MEETINGS_PER_ADDRESS_PER_MINUTE tokens per second

// The web app (web/dist) needs: its own scripts, modules and workers;
// 'wasm-unsafe-eval' for background blur's WebAssembly (MediaPipe, served
// from /assets); blob: and mediastream: media (camera, screen, recordings);
// data: and blob: images; the WebSocket. No inline script, ever. Inline
// styles are allowed: the notes editor (CodeMirror's style-mod) mounts
// <style> elements in the document and its shared cursors carry style
// attributes, which CSP counts as inline (element.style from scripts is
// CSSOM and would pass); a style cannot run code.
// Watch together (web/src/watch): the shared player plays a video file from
// any http(s) URL a participant pastes (media-src http: https:; a <video>
// runs no code), and a YouTube link through YouTube's IFrame API: its
// script (script-src www.youtube.com, the API and the widget script it
// loads from there) and its iframe (frame-src www.youtube.com and
// www.youtube-nocookie.com, where the player is embedded from). The page
// stays Referrer-Policy no-referrer; only the YouTube iframe says
// referrerpolicy="strict-origin-when-cross-origin", since YouTube refuses
// to play an embed that arrives without a referrer. That leaks nothing: it
// sends only our origin, and Huddle's secrets (host keys, join tokens)
// travel only in URL fragments, which no referrer carries, and the page
// removes them from the address bar as soon as it has read them.
#define CSP_YOUTUBE "https://www.youtube.com"
#define CSP_YOUTUBE_FRAMES "https://www.youtube.com https://www.youtube-nocookie.com"
#define CSP_BASE                                                                                                       \
	"default-src 'self'; script-src 'self' 'wasm-unsafe-eval' " CSP_YOUTUBE "; worker-src 'self' blob:; "          \
	"style-src 'self' 'unsafe-inline'; "                                                                           \
	"img-src 'self' data: blob:; media-src 'self' blob: mediastream: http: https:; "                               \
	"frame-src " CSP_YOUTUBE_FRAMES "; connect-src 'self' ws: wss:; "                                              \
	"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors "
#define PERMISSIONS_POLICY "camera=(self), microphone=(self), display-capture=(self)"

// conn_client counts one client address's open WebSocket connections
// (MAX_CONNECTIONS_PER_ADDRESS); dropped when its count is back at 0. The
// table lives apart from gw.websec: sessions closing during shut-down
// still count down after gw_websec_close.
struct conn_client {
	char addr[INET6_ADDRSTRLEN];
	uint32_t n;
	UT_hash_handle hh;
};

static struct conn_client *conn_clients; // by addr (uthash); lws thread only

// create_client is one client address's bucket of creations.
struct create_client {
	char addr[INET6_ADDRSTRLEN];
	struct gw_ratelimit rl;
	UT_hash_handle hh;
};

struct gw_websec {
	char *origins[GW_ORIGINS_MAX]; // lower case, no trailing '/'
	size_t n_origins;
	char csp[sizeof(CSP_BASE) + FRAME_ANCESTORS_MAX];
	bool deny_framing; // frame-ancestors 'none': X-Frame-Options DENY too
	bool tls;
	char hsts[64];
	char *public_key_pem;
	struct create_client *clients; // by addr (uthash)
};

static void websec_free(struct gw_websec *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n_origins; i++)
		free(w->origins[i]);
	// HASH_CLEAR leaves the items (and their hh.next links) alone.
	struct create_client *c = w->clients, *next;
	HASH_CLEAR(hh, w->clients);
	for (; c != NULL; c = next) {
		next = c->hh.next;
		free(c);
	}
	free(w->public_key_pem);
	free(w);
}

// parse_origins fills w->origins from ALLOWED_ORIGINS.
static hd_err parse_origins(struct gw_websec *w, const char *list)
{
	char *copy = strdup(list), *save = NULL;
	if (copy == NULL)
		return HD_ENOMEM;
	for (char *o = strtok_r(copy, ",", &save); o != NULL; o = strtok_r(NULL, ",", &save)) {
		while (*o == ' ')
			o++;
		size_t n = strlen(o);
		while (n > 0 && (o[n - 1] == ' ' || o[n - 1] == '/'))
			o[--n] = '\0';
		if (n == 0)
			continue;
		const char *host = strncasecmp(o, "https://", 8) == 0  ? o + 8
				   : strncasecmp(o, "http://", 7) == 0 ? o + 7
								       : NULL;
		bool ok = host != NULL && *host != '\0' && n < GW_ORIGIN_MAX && strchr(host, '/') == NULL;
		for (const char *c = o; ok && *c != '\0'; c++)
			ok = *c > ' ' && *c < 0x7f;
		if (!ok || w->n_origins == GW_ORIGINS_MAX) {
			fprintf(stderr,
				"huddle-gateway: ALLOWED_ORIGINS entry '%s' is not an origin like "
				"https://meet.example.com "
				"(scheme and host[:port], no path; at most %d entries)\n",
				o, GW_ORIGINS_MAX);
			free(copy);
			return HD_EBADREQUEST;
		}
		for (char *c = o; *c != '\0'; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + ('a' - 'A') : *c);
		if ((w->origins[w->n_origins] = strdup(o)) == NULL) {
			free(copy);
			return HD_ENOMEM;
		}
		w->n_origins++;
	}
	free(copy);
	return HD_OK;
}

// read_pem reads the JOIN_TOKEN_PUBLIC_KEY file into *out (malloc'd, NUL-terminated).
static hd_err read_pem(const char *path, char **out)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "huddle-gateway: JOIN_TOKEN_PUBLIC_KEY: cannot read %s: %m\n", path);
		return HD_EBADREQUEST;
	}
	char *pem = malloc(GW_PEM_MAX + 1);
	size_t n = pem != NULL ? fread(pem, 1, GW_PEM_MAX + 1, f) : 0;
	bool bad = ferror(f) != 0;
	fclose(f);
	if (pem == NULL)
		return HD_ENOMEM;
	if (bad || n == 0 || n > GW_PEM_MAX) {
		if (bad || n == 0)
			fprintf(stderr, "huddle-gateway: JOIN_TOKEN_PUBLIC_KEY: %s is %s\n", path,
				bad ? "unreadable" : "empty");
		else
			fprintf(stderr, "huddle-gateway: JOIN_TOKEN_PUBLIC_KEY: %s is over %d bytes (GW_PEM_MAX)\n",
				path, GW_PEM_MAX);
		free(pem);
		return HD_EBADREQUEST;
	}
	pem[n] = '\0';
	*out = pem;
	return HD_OK;
}

static bool readable(const char *name, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "huddle-gateway: %s: cannot read %s: %m\n", name, path);
		return false;
	}
	fclose(f);
	return true;
}

hd_err gw_websec_open(void)
{
	const struct gw_config *cfg = &gw.cfg;
	hd_err err = HD_EBADREQUEST;
	struct gw_websec *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return HD_ENOMEM;
	if ((err = parse_origins(w, cfg->allowed_origins)) != HD_OK)
		goto fail;
	err = HD_EBADREQUEST;
	const char *fa = cfg->frame_ancestors;
	bool fa_ok = *fa != '\0' && strlen(fa) < FRAME_ANCESTORS_MAX;
	for (const char *c = fa; fa_ok && *c != '\0'; c++)
		fa_ok = *c >= ' ' && *c < 0x7f && *c != ';' && *c != ',';
	if (!fa_ok) {
		fprintf(stderr,
			"huddle-gateway: FRAME_ANCESTORS='%s' is not a CSP source list such as 'none', 'self' or "
			"https://lms.example.com (no ';' or ',')\n",
			fa);
		goto fail;
	}
	snprintf(w->csp, sizeof(w->csp), "%s%s", CSP_BASE, fa);
	w->deny_framing = strcasecmp(fa, "'none'") == 0;
	if ((*cfg->tls_cert != '\0') != (*cfg->tls_key != '\0')) {
		fprintf(stderr, "huddle-gateway: set both TLS_CERT and TLS_KEY (PEM files) for HTTPS, or neither\n");
		goto fail;
	}
	w->tls = *cfg->tls_cert != '\0';
	if (w->tls && (!readable("TLS_CERT", cfg->tls_cert) || !readable("TLS_KEY", cfg->tls_key)))
		goto fail;
	snprintf(w->hsts, sizeof(w->hsts), "max-age=%d", GW_HSTS_MAX_AGE_S);
	if (*cfg->join_token_public_key != '\0' &&
	    (err = read_pem(cfg->join_token_public_key, &w->public_key_pem)) != HD_OK)
		goto fail;
	gw.jwt.secret = cfg->join_token_secret;
	gw.jwt.public_key_pem = w->public_key_pem != NULL ? w->public_key_pem : "";
	gw.jwt.issuer = cfg->join_token_issuer;
	gw.jwt.audience = cfg->join_token_audience;
	const char *why;
	if (hd_jwt_check_config(&gw.jwt, &why) != HD_OK) {
		fprintf(stderr, "huddle-gateway: JOIN_TOKEN_PUBLIC_KEY: %s: %s\n", cfg->join_token_public_key, why);
		err = HD_EBADREQUEST;
		goto fail;
	}
	gw.websec = w;
	if (*gw.jwt.secret == '\0' && *gw.jwt.public_key_pem == '\0')
		HD_INFO("signed join links are off (no JOIN_TOKEN_SECRET or JOIN_TOKEN_PUBLIC_KEY)");
	return HD_OK;
fail:
	memset(&gw.jwt, 0, sizeof(gw.jwt));
	websec_free(w);
	return err;
}

void gw_websec_close(void)
{
	websec_free(gw.websec);
	gw.websec = NULL;
	memset(&gw.jwt, 0, sizeof(gw.jwt));
}

bool gw_websec_tls(void)
{
	return gw.websec != NULL && gw.websec->tls;
}

static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p, unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)value,
					   (int)strlen(value), p, end);
}

int gw_websec_headers(struct lws *wsi, unsigned char **p, unsigned char *end)
{
	// Before gw_websec_open (unit tests of http.c): the defaults.
	static const struct gw_websec defaults = {.csp = CSP_BASE "'none'", .deny_framing = true};
	const struct gw_websec *w = gw.websec != NULL ? gw.websec : &defaults;
	if (add_header(wsi, "content-security-policy:", w->csp, p, end) ||
	    add_header(wsi, "x-content-type-options:", "nosniff", p, end) ||
	    add_header(wsi, "referrer-policy:", "no-referrer", p, end) ||
	    add_header(wsi, "permissions-policy:", PERMISSIONS_POLICY, p, end) ||
	    (w->deny_framing && add_header(wsi, "x-frame-options:", "DENY", p, end)) ||
	    (w->tls && add_header(wsi, "strict-transport-security:", w->hsts, p, end)))
		return 1;
	return 0;
}

bool gw_websec_origin_allowed(struct lws *wsi)
{
	char origin[GW_ORIGIN_MAX], host[GW_ORIGIN_MAX];
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
	if (n <= 0)
		return true; // not a browser: an Origin check protects browsers' users only
	if (n >= (int)sizeof(origin) || lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) != n)
		return false;
	while (n > 0 && origin[n - 1] == '/')
		origin[--n] = '\0';
	const struct gw_websec *w = gw.websec;
	if (w != NULL && w->n_origins > 0) {
		for (size_t i = 0; i < w->n_origins; i++)
			if (strcasecmp(origin, w->origins[i]) == 0)
				return true;
		return false;
	}
	const char *rest = strncasecmp(origin, "https://", 8) == 0  ? origin + 8
			   : strncasecmp(origin, "http://", 7) == 0 ? origin + 7
								    : NULL;
	int h = lws_hdr_total_length(wsi, WSI_TOKEN_HOST);
	if (rest == NULL || h <= 0 || h >= (int)sizeof(host) ||
	    lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) != h)
		return false;
	return strcasecmp(rest, host) == 0;
}

int gw_websec_refuse(struct lws *wsi, unsigned int status, hd_err code, const char *message)
{
	unsigned char buf[LWS_PRE + 512 + GW_HTTP_SECURITY_HEADERS], *start = buf + LWS_PRE, *p = start,
								     *end = buf + sizeof(buf) - 1;
	cJSON *root = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(root, "error");
	cJSON_AddStringToObject(e, "code", hd_err_name(code));
	cJSON_AddStringToObject(e, "message", message);
	char *body = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (body == NULL)
		return -1;
	size_t len = strlen(body);
	unsigned char *out = malloc(LWS_PRE + len + 1);
	int rv = -1;
	if (out != NULL) {
		memcpy(out + LWS_PRE, body, len + 1);
		if (lws_add_http_common_headers(wsi, status, "application/json", len, &p, end) == 0 &&
		    add_header(wsi, "cache-control:", "no-store", &p, end) == 0 &&
		    gw_websec_headers(wsi, &p, end) == 0 && lws_finalize_write_http_header(wsi, start, &p, end) == 0 &&
		    lws_write(wsi, out + LWS_PRE, len, LWS_WRITE_HTTP_FINAL) == (int)len)
			rv = 0;
	}
	free(out);
	cJSON_free(body);
	return rv;
}

// forwarded_for copies the last address of X-Forwarded-For (the one the
// reverse proxy in front appended) into key. False when there is none or
// it is not an IP address.
static bool forwarded_for(struct lws *wsi, char key[INET6_ADDRSTRLEN])
{
	char xff[GW_ORIGIN_MAX], *last;
	struct in6_addr a;
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_X_FORWARDED_FOR);
	if (n <= 0 || n >= (int)sizeof(xff) || lws_hdr_copy(wsi, xff, sizeof(xff), WSI_TOKEN_X_FORWARDED_FOR) != n)
		return false;
	last = strrchr(xff, ',');
	last = last != NULL ? last + 1 : xff;
	while (*last == ' ')
		last++;
	for (size_t len = strlen(last); len > 0 && last[len - 1] == ' ';)
		last[--len] = '\0';
	size_t len = strlen(last);
	if (len >= INET6_ADDRSTRLEN || (inet_pton(AF_INET, last, &a) != 1 && inet_pton(AF_INET6, last, &a) != 1))
		return false;
	memcpy(key, last, len + 1);
	return true;
}

// client_key names the bucket of wsi's client: its address (with
// TRUST_X_FORWARDED_FOR, the one its proxy saw), or an IPv6 address's /64
// (one host usually has a whole /64).
static bool client_key(struct lws *wsi, char key[INET6_ADDRSTRLEN])
{
	struct in6_addr a6;
	if (!(gw.cfg.trust_x_forwarded_for && forwarded_for(wsi, key)) &&
	    lws_get_peer_simple(wsi, key, INET6_ADDRSTRLEN) == NULL)
		return false;
	if (inet_pton(AF_INET6, key, &a6) == 1 && !IN6_IS_ADDR_V4MAPPED(&a6)) {
		memset(a6.s6_addr + 8, 0, 8);
		inet_ntop(AF_INET6, &a6, key, INET6_ADDRSTRLEN);
	}
	return true;
}

// sweep drops the buckets that are full again (their clients are as new).
static void sweep(struct gw_websec *w, uint32_t rate, uint32_t burst, int64_t now_ms)
{
	// The table is rebuilt: HASH_CLEAR leaves the items' hh.next links.
	struct create_client *c = w->clients, *next;
	HASH_CLEAR(hh, w->clients);
	for (; c != NULL; c = next) {
		next = c->hh.next;
		if (c->rl.tokens + (double)(now_ms - c->rl.last_ms) * rate / 1000.0 >= burst)
			free(c);
		else
			HASH_ADD_STR(w->clients, addr, c);
	}
}

bool gw_websec_conn_allowed(struct lws *wsi)
{
	char key[INET6_ADDRSTRLEN];
	struct conn_client *c = NULL;
	if (gw.cfg.max_connections_per_address <= 0 || !client_key(wsi, key))
		return true;
	HASH_FIND_STR(conn_clients, key, c);
	return c == NULL || c->n < (uint64_t)gw.cfg.max_connections_per_address;
}

bool gw_websec_conn_open(struct lws *wsi, char key[INET6_ADDRSTRLEN])
{
	struct conn_client *c = NULL;
	key[0] = '\0';
	if (gw.cfg.max_connections_per_address <= 0 || !client_key(wsi, key)) {
		key[0] = '\0';
		return false;
	}
	HASH_FIND_STR(conn_clients, key, c);
	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			key[0] = '\0';
			return false; // not counted: fails open rather than refusing everyone
		}
		memcpy(c->addr, key, strlen(key) + 1);
		HASH_ADD_STR(conn_clients, addr, c);
	}
	c->n++;
	return true;
}

void gw_websec_conn_close(const char *key)
{
	struct conn_client *c = NULL;
	if (key == NULL || key[0] == '\0')
		return;
	HASH_FIND_STR(conn_clients, key, c);
	if (c == NULL)
		return;
	if (--c->n == 0) {
		HASH_DEL(conn_clients, c);
		free(c);
	}
}

size_t gw_websec_conn_addresses(void)
{
	return HASH_COUNT(conn_clients);
}

bool gw_websec_create_take(const char *addr, int64_t now_ms, int64_t *retry_after_s)
{
	struct gw_websec *w = gw.websec;
	struct create_client *c = NULL;
	uint32_t rate = (uint32_t)gw.cfg.meetings_per_address_per_minute, burst = (uint32_t)(CREATE_COST * rate);
	*retry_after_s = 60;
	if (rate == 0)
		return true; // MEETINGS_PER_ADDRESS_PER_MINUTE=0: no limit
	if (w == NULL || strlen(addr) >= sizeof(c->addr))
		return false;
	HASH_FIND_STR(w->clients, addr, c);
	if (c == NULL) {
		if (HASH_COUNT(w->clients) >= GW_CREATE_CLIENTS_MAX)
			sweep(w, rate, burst, now_ms);
		if (HASH_COUNT(w->clients) >= GW_CREATE_CLIENTS_MAX || (c = calloc(1, sizeof(*c))) == NULL)
			return false;
		memcpy(c->addr, addr, strlen(addr) + 1);
		gw_ratelimit_init(&c->rl, burst, now_ms);
		HASH_ADD_STR(w->clients, addr, c);
	}
	if (gw_ratelimit_take_n(&c->rl, CREATE_COST, rate, burst, now_ms))
		return true;
	double wait_s = (CREATE_COST - c->rl.tokens) / rate;
	*retry_after_s = wait_s < 1 ? 1 : (int64_t)wait_s + (wait_s > (double)(int64_t)wait_s);
	return false;
}

bool gw_websec_create_allowed(struct lws *wsi, int64_t now_ms, int64_t *retry_after_s)
{
	char key[INET6_ADDRSTRLEN];
	*retry_after_s = 60;
	return client_key(wsi, key) && gw_websec_create_take(key, now_ms, retry_after_s);
}

size_t gw_websec_create_clients(void)
{
	return gw.websec != NULL ? HASH_COUNT(gw.websec->clients) : 0;
}
