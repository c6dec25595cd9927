// http.c: fuzzes the gateway's HTTP side: the real gw_http_callback
// (http.c's router and its API: meetings, spaces, admit, access, links,
// exports, recordings upload and download, health, metrics, static files)
// over gwfake's libwebsockets (a request's method, URI, headers and URL
// arguments as lws would have parsed them) and services (see gwfake.h).
//
// Input: method byte; URI slice; header count, then per header a byte that
// picks it (FZ_HEADERS; the last one: Authorization with a valid recording
// token for FZ_MEETING) and its value slice; URL argument count, then
// "name=value" slices; then actions until the end, each one byte:
//   a % 8 = 0  a body piece (slice)      1 the body is complete
//           2  answer the oldest call well-formed
//           3  answer it with a slice as the reply
//           4  fail it (TIMEOUT / CLOSED / UNAVAILABLE)
//           5  writeable: write the response's next part
//           6  a new request on the same connection (method byte, URI slice)
//           7  WebSocket upgrade check (Origin against ALLOWED_ORIGINS)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/http.h"
#include "gateway/rectoken.h"
#include "support/gwfake.h"
#include "support/input.h"

#define FZ_MEETING "fuzzmeeting00000000000"
#define FZ_PARTICIPANT "fuzzparticipant0000000"

static const enum lws_token_indexes headers[] = {
	WSI_TOKEN_HTTP_CONTENT_LENGTH, WSI_TOKEN_HTTP_AUTHORIZATION, WSI_TOKEN_ORIGIN,        WSI_TOKEN_HOST,
	WSI_TOKEN_X_FORWARDED_FOR,     WSI_TOKEN_HTTP_RANGE,         WSI_TOKEN_HTTP_IF_RANGE,
};
#define N_HEADERS (sizeof(headers) / sizeof(headers[0]))

static const enum lws_token_indexes methods[] = {WSI_TOKEN_GET_URI, WSI_TOKEN_HEAD_URI,   WSI_TOKEN_POST_URI,
						 WSI_TOKEN_PUT_URI, WSI_TOKEN_DELETE_URI, WSI_TOKEN_OPTIONS_URI};
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

static struct lws wsi;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char root[] = "/tmp/huddle-fuzz-web-XXXXXX";
	char path[256];
	if (mkdtemp(root) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/index.html", root);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs("<!doctype html><title>Huddle</title>\n", f);
	fclose(f);
	fz_gw_init(root);
	return 0;
}

// request sets the method and URI of a new request on the connection.
static char *request(struct fz_in *in)
{
	uint8_t m = fz_u8(in);
	char *uri = fz_str(in);
	for (size_t i = 0; i < N_METHODS; i++)
		free(wsi.hdr[methods[i]]), wsi.hdr[methods[i]] = NULL;
	fz_wsi_set(&wsi, methods[m % N_METHODS], uri, strlen(uri));
	return uri;
}

static int serve(void *pss, enum lws_callback_reasons reason, void *in, size_t len)
{
	wsi.writable = false;
	return gw_http_callback(&wsi, reason, pss, in, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const hd_err errors[] = {HD_ETIMEOUT, HD_ECLOSED, HD_EUNAVAILABLE};
	struct fz_in in;
	fz_init(&in, data, size);
	fz_wsi_reset(&wsi);
	snprintf(wsi.peer, sizeof(wsi.peer), "192.0.2.%u", 1 + fz_u8(&in) % 4);
	void *pss = calloc(1, gw_http_pss_size); // lws zeroes per-session data
	if (pss == NULL)
		abort();
	char *uri = request(&in);
	for (uint8_t n = fz_u8(&in) % 8; n > 0; n--) {
		uint8_t which = fz_u8(&in);
		char *value = fz_str(&in);
		if (which % (N_HEADERS + 1) == N_HEADERS) {
			char token[GW_RECTOKEN_MAX], auth[GW_RECTOKEN_MAX + 8];
			if (gw_rectoken_mint(gw.cfg.recording_token_secret, FZ_MEETING, FZ_PARTICIPANT,
					     (int64_t)time(NULL), 3600, token) != HD_OK)
				abort();
			snprintf(auth, sizeof(auth), "Bearer %s", token);
			fz_wsi_set(&wsi, WSI_TOKEN_HTTP_AUTHORIZATION, auth, strlen(auth));
		} else {
			fz_wsi_set(&wsi, headers[which % (N_HEADERS + 1)], value, strlen(value));
		}
		free(value);
	}
	for (size_t n = fz_u8(&in) % 4, i = 0; i < n; i++)
		wsi.args[i] = fz_str(&in);
	bool closed = serve(pss, LWS_CALLBACK_HTTP, uri, strlen(uri)) != 0;
	free(uri);
	while (!closed && in.left > 0) {
		uint8_t a = fz_u8(&in);
		size_t n;
		const uint8_t *p;
		switch (a % 8) {
		case 0:
			p = fz_slice(&in, &n);
			closed = serve(pss, LWS_CALLBACK_HTTP_BODY, (void *)p, n) != 0;
			break;
		case 1:
			closed = serve(pss, LWS_CALLBACK_HTTP_BODY_COMPLETION, NULL, 0) != 0;
			break;
		case 2:
			fz_calls_answer_ok(NULL, NULL, 0);
			break;
		case 3:
			p = fz_slice(&in, &n);
			fz_calls_answer_bytes(p, n);
			break;
		case 4:
			fz_calls_answer_error(errors[(a >> 3) % 3]);
			break;
		case 5:
			// lws calls WRITEABLE only when asked; keep going while it is.
			for (int k = 0; k < 64 && !closed; k++) {
				if (!wsi.writable && k > 0)
					break;
				closed = serve(pss, LWS_CALLBACK_HTTP_WRITEABLE, NULL, 0) != 0;
			}
			break;
		case 6:
			uri = request(&in);
			closed = serve(pss, LWS_CALLBACK_HTTP, uri, strlen(uri)) != 0;
			free(uri);
			break;
		default:
			if (serve(pss, LWS_CALLBACK_HTTP_CONFIRM_UPGRADE, NULL, 0) < 0)
				closed = true;
			break;
		}
	}
	// The connection closes, then the services answer what is left.
	serve(pss, LWS_CALLBACK_CLOSED_HTTP, NULL, 0);
	fz_calls_drop_all();
	free(pss);
	fz_wsi_reset(&wsi);
	if (gw.https != NULL)
		abort(); // a closed request still waits for a reply
	return 0;
}
