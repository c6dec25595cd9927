// client.c: one simulated participant's WebSocket — lws client callbacks,
// the outgoing queue, and what happens on each reply or event.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "load.h"

int64_t hl_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void hl_note_error(struct hl_worker *w, int idx, const char *what)
{
	if (w->first_error[0] != '\0')
		return;
	snprintf(w->first_error, sizeof(w->first_error), "client %d: %s", idx, what);
	w->first_error_ns = hl_now_ns();
}

void hl_fail(struct hl_client *c, enum hl_ctr counter, const char *what)
{
	if (c->state == HL_FAILED || c->state == HL_DONE)
		return; // counted once
	c->w->ctr[counter]++;
	hl_note_error(c->w, c->idx, what);
	c->state = HL_FAILED;
	c->w->ctr[HL_C_GONE]++;
}

void hl_send(struct hl_client *c, const void *data, size_t len, bool binary)
{
	if (c->wsi == NULL || c->close_now)
		return;
	struct hl_out *o = malloc(sizeof(*o) + LWS_PRE + len);
	if (o == NULL)
		return;
	o->next = NULL;
	o->len = len;
	o->binary = binary;
	memcpy(o->buf + LWS_PRE, data, len);
	if (c->out_tail != NULL)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	c->queued++;
	lws_callback_on_writable(c->wsi);
}

void hl_client_close(struct hl_client *c)
{
	if (c->wsi == NULL)
		return;
	c->close_now = true;
	lws_callback_on_writable(c->wsi);
}

void hl_client_free(struct hl_client *c)
{
	struct hl_out *o = c->out_head;
	while (o != NULL) {
		struct hl_out *next = o->next;
		free(o);
		o = next;
	}
	c->out_head = c->out_tail = NULL;
	c->queued = 0;
	free(c->rx);
	c->rx = NULL;
	c->rx_len = c->rx_cap = 0;
}

bool hl_client_connect(struct hl_client *c)
{
	struct lws_client_connect_info ci;
	memset(&ci, 0, sizeof(ci));
	ci.context = c->w->ctx;
	ci.address = hl.host;
	ci.port = hl.port;
	ci.path = hl.target->path;
	ci.host = hl.host;
	ci.origin = hl.host;
	ci.protocol = hl.target->subprotocol;
	ci.local_protocol_name = "huddle-load";
	ci.opaque_user_data = c;
	ci.pwsi = &c->wsi;
	// Each source address has its own ~28k ephemeral ports towards one server port.
	if (hl.src_addrs > 0)
		ci.iface = hl.src[c->idx % hl.src_addrs];
	c->state = HL_CONNECTING;
	c->start_ns = hl_now_ns();
	c->join_sent_ns = 0;
	c->inflight = 0;
	c->sio_open = false;
	c->close_now = false;
	c->participant_id[0] = '\0';
	c->close_why[0] = '\0';
	if (lws_client_connect_via_info(&ci) == NULL) {
		c->wsi = NULL;
		hl_fail(c, HL_C_ERR_CONNECT, "lws_client_connect_via_info failed");
		return false;
	}
	return true;
}

void hl_on_connected(struct hl_client *c)
{
	char name[32];
	snprintf(name, sizeof(name), "load-%d", c->idx);
	c->state = HL_JOINING;
	c->join_sent_ns = hl_now_ns();
	hl.target->send_join(c, hl.meeting_ids[c->meeting], name);
}

void hl_on_join_reply(struct hl_client *c, const char *participant_id, size_t roster_n)
{
	if (c->state != HL_JOINING)
		return;
	hl_hist_add(&c->w->join_lat, hl_now_ns() - c->join_sent_ns);
	snprintf(c->participant_id, sizeof(c->participant_id), "%s", participant_id);
	c->state = HL_JOINED;
	c->w->ctr[HL_C_JOINED]++;
	(void)roster_n;
}

void hl_on_peer_joined(struct hl_client *c, const char *display_name)
{
	c->w->ctr[HL_C_PEER_JOINED_EVENTS]++;
	// The joiner is found by its name: the event can beat its own join reply.
	if (strncmp(display_name, "load-", 5) != 0)
		return;
	long i = strtol(display_name + 5, NULL, 10);
	// Same meeting, so the same worker: hl.c[i] is this thread's.
	if (i < 0 || i >= hl.clients || hl.c[i].w != c->w || hl.c[i].join_sent_ns == 0)
		return;
	hl_hist_add(&c->w->peer_lat, hl_now_ns() - hl.c[i].join_sent_ns);
}

bool hl_signal_peer(struct hl_client *c)
{
	if (c->state != HL_JOINED)
		return false;
	// Members of meeting m are clients m, m + M, m + 2M...: send to the next joined one.
	for (int j = c->idx + hl.meetings;; j += hl.meetings) {
		if (j >= hl.clients)
			j = c->meeting;
		if (j == c->idx)
			return false;
		struct hl_client *p = &hl.c[j];
		if (p->state != HL_JOINED)
			continue;
		char cand[192];
		// The send time rides in the candidate's foundation field.
		snprintf(cand, sizeof(cand),
			 "candidate:%lld 1 udp 2122260223 192.0.2.%d %d typ host generation 0 ufrag hl4V "
			 "network-id 1 network-cost 10",
			 (long long)hl_now_ns(), 1 + c->idx % 250, 40000 + c->idx % 20000);
		hl.target->send_signal(c, p->participant_id, cand);
		c->inflight++;
		c->w->ctr[HL_C_SIGNALS_SENT]++;
		if (c->w->phase == HL_PH_STORM)
			c->w->ctr[HL_C_SIGNALS_SENT_STORM]++;
		return true;
	}
}

void hl_on_signal_reply(struct hl_client *c)
{
	c->w->ctr[HL_C_SIGNAL_REPLIES]++;
	if (c->inflight > 0)
		c->inflight--;
	// Windowed storm: every reply lets the next signal go.
	if (c->w->phase == HL_PH_STORM && hl.rate <= 0)
		hl_signal_peer(c);
}

void hl_on_delivery(struct hl_client *c, const char *candidate, size_t len)
{
	int64_t now = hl_now_ns();
	struct hl_worker *w = c->w;
	w->ctr[HL_C_DELIVERIES]++;
	if (w->phase == HL_PH_STORM)
		w->ctr[HL_C_DELIVERIES_STORM]++;
	if (len < 11 || strncmp(candidate, "candidate:", 10) != 0) {
		w->ctr[HL_C_BAD_DELIVERIES]++;
		hl_note_error(w, c->idx, "a delivery without the candidate sent");
		return;
	}
	long long sent = strtoll(candidate + 10, NULL, 10);
	if (sent <= 0 || sent > now) {
		w->ctr[HL_C_BAD_DELIVERIES]++;
		hl_note_error(w, c->idx, "a delivery with a bad send time");
		return;
	}
	hl_hist_add(&w->relay_lat, now - sent);
}

void hl_on_leave_reply(struct hl_client *c)
{
	if (c->state != HL_LEAVING)
		return;
	c->state = HL_DONE;
	c->w->ctr[HL_C_LEFT]++;
	hl_client_close(c);
}

void hl_on_error(struct hl_client *c, uint32_t rid, const char *code, const char *message)
{
	char what[200];
	snprintf(what, sizeof(what), "server error %s on request %u: %s", code, rid, message);
	c->w->ctr[HL_C_ERR_SERVER]++;
	hl_note_error(c->w, c->idx, what);
	if (rid != 0 && rid == c->join_rid && c->state == HL_JOINING) {
		c->state = HL_FAILED;
		c->w->ctr[HL_C_GONE]++;
		hl_client_close(c);
	} else if (rid != 0 && rid == c->leave_rid && c->state == HL_LEAVING) {
		c->state = HL_DONE; // it asked to leave; count the error, then go
		c->w->ctr[HL_C_LEFT]++;
		hl_client_close(c);
	} else if (rid != 0 && c->inflight > 0) {
		c->inflight--; // a refused signal
	}
}

// receive assembles fragments into one message for the target.
static int receive(struct lws *wsi, struct hl_client *c, const uint8_t *in, size_t len)
{
	size_t remaining = lws_remaining_packet_payload(wsi);
	bool complete = lws_is_final_fragment(wsi) && remaining == 0;
	bool binary = lws_frame_is_binary(wsi);
	if (complete && c->rx_len == 0)
		return hl.target->on_message(c, in, len, binary);
	if (c->rx_len + len > c->rx_cap) {
		size_t cap = c->rx_len + len + remaining + 1;
		uint8_t *rx = realloc(c->rx, cap);
		if (rx == NULL)
			return -1;
		c->rx = rx;
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (!complete)
		return 0;
	int rv = hl.target->on_message(c, c->rx, c->rx_len, binary);
	c->rx_len = 0;
	return rv;
}

static int writeable(struct hl_client *c)
{
	struct hl_out *o = c->out_head;
	if (o != NULL) {
		c->out_head = o->next;
		if (c->out_head == NULL)
			c->out_tail = NULL;
		c->queued--;
		int n = lws_write(c->wsi, o->buf + LWS_PRE, o->len, o->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
		free(o);
		if (n < 0)
			return -1;
		if (c->out_head != NULL || c->close_now)
			lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (c->close_now) {
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
		return -1;
	}
	return 0;
}

int hl_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct hl_client *c = lws_get_opaque_user_data(wsi);
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (c == NULL)
			return -1;
		c->wsi = wsi;
		hl.target->on_open(c);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (c == NULL)
			return -1;
		if (receive(wsi, c, in, len) != 0) {
			hl_fail(c, HL_C_ERR_PROTOCOL, "undecodable or unexpected frame");
			return -1;
		}
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (c == NULL)
			return -1;
		return writeable(c);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c != NULL) {
			char what[200];
			snprintf(what, sizeof(what), "connect failed: %s", in != NULL ? (const char *)in : "?");
			hl_fail(c, HL_C_ERR_CONNECT, what);
			c->wsi = NULL;
			hl_client_free(c);
			hl_client_closed(c);
		}
		return 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		// The server's close code and reason, for the error message.
		if (c != NULL && len >= 2) {
			const uint8_t *b = in;
			snprintf(c->close_why, sizeof(c->close_why), ": %u %.*s", (unsigned)(b[0] << 8 | b[1]),
				 (int)(len - 2 < 80 ? len - 2 : 80), (const char *)b + 2);
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c != NULL) {
			if (c->state != HL_DONE && c->state != HL_FAILED) {
				char what[160];
				snprintf(what, sizeof(what), "the server closed the connection%s", c->close_why);
				hl_fail(c, HL_C_ERR_CLOSED, what);
			}
			c->close_why[0] = '\0';
			c->wsi = NULL;
			hl_client_free(c);
			hl_client_closed(c);
		}
		return 0;
	default:
		return 0;
	}
}
