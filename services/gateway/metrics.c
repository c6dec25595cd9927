// metrics.c: the gateway's counters and gauges as Prometheus text.
#include "gateway/metrics.h"

#include <stdio.h>
#include <string.h>
#include <uthash.h>

#include "gateway/access.h"
#include "gateway/bridge.h"
#include "gateway/chat.h"
#include "gateway/gateway.h"
#include "gateway/notes.h"
#include "gateway/recording.h"
#include "gateway/room.h"
#include "gateway/session.h"
#include "gateway/websec.h"

// metric is one line of /metrics: a gauge or a counter, with an optional
// label (name{label}).
struct metric {
	const char *name, *label, *type;
	double value;
};

size_t gw_metrics_format(char *buf, size_t cap)
{
	size_t rooms, members, chat_rooms, chat_subscribers, notes_rooms, notes_subscribers, rec_transfers,
		rec_buffered;
	gw_room_count(&rooms, &members);
	gw_rec_count(&rec_transfers, &rec_buffered);
	gw_chat_count(&chat_rooms, &chat_subscribers);
	gw_notes_count(&notes_rooms, &notes_subscribers);
	const struct gw_stats *s = &gw.stats;
	size_t queued = 0, queued_max = 0;
	for (const struct gw_session *q = gw.sessions; q != NULL; q = q->hh.next) {
		queued += q->out_bytes;
		if (q->out_bytes > queued_max)
			queued_max = q->out_bytes;
	}
	const struct metric all[] = {
		{"huddle_gateway_ws_queued_bytes", NULL, "gauge", (double)queued},
		{"huddle_gateway_bus_events_dropped_total", NULL, "counter", (double)gw_bridge_dropped()},
		{"huddle_gateway_ws_queued_bytes_max", NULL, "gauge", (double)queued_max},
		{"huddle_gateway_ws_slow_closed_total", NULL, "counter", (double)s->slow_closed},
		{"huddle_gateway_ws_addresses", NULL, "gauge", (double)gw_websec_conn_addresses()},
		{"huddle_gateway_ws_address_refused_total", NULL, "counter", (double)s->conn_refused},
		{"huddle_gateway_ws_full_refused_total", NULL, "counter", (double)s->full_refused},
		{"huddle_gateway_ws_idle_closed_total", NULL, "counter", (double)s->idle_closed},
		{"huddle_gateway_ws_max_connections", NULL, "gauge", (double)gw.cfg.max_connections},
		{"huddle_gateway_sessions", NULL, "gauge", HASH_CNT(hh, gw.sessions)},
		{"huddle_gateway_rooms", NULL, "gauge", (double)rooms},
		{"huddle_gateway_participants", NULL, "gauge", (double)members},
		{"huddle_gateway_waiting", NULL, "gauge", (double)gw_access_waiting()},
		{"huddle_gateway_access_refused_total", NULL, "counter", (double)s->access_refused},
		{"huddle_gateway_admissions_total", "outcome=\"admitted\"", "counter", (double)s->admissions},
		{"huddle_gateway_admissions_total", "outcome=\"denied\"", "counter", (double)s->denials},
		{"huddle_gateway_removals_total", NULL, "counter", (double)s->removals},
		{"huddle_gateway_reactions_total", NULL, "counter", (double)s->reactions},
		{"huddle_gateway_prejoin_ice_total", NULL, "counter", (double)s->prejoin_ice},
		{"huddle_gateway_ws_opened_total", NULL, "counter", (double)s->ws_opened},
		{"huddle_gateway_frames_in_total", NULL, "counter", (double)s->frames_in},
		{"huddle_gateway_frames_out_total", NULL, "counter", (double)s->frames_out},
		{"huddle_gateway_joins_total", NULL, "counter", (double)s->joins},
		{"huddle_gateway_resumes_total", NULL, "counter", (double)s->resumes},
		{"huddle_gateway_signals_total", "path=\"local\"", "counter", (double)s->signals_local},
		{"huddle_gateway_signals_total", "path=\"registry\"", "counter", (double)s->signals_remote},
		{"huddle_gateway_errors_sent_total", NULL, "counter", (double)s->errors_sent},
		{"huddle_gateway_rate_limited_total", NULL, "counter", (double)s->rate_limited},
		{"huddle_gateway_malformed_total", NULL, "counter", (double)s->malformed},
		{"huddle_gateway_http_requests_total", NULL, "counter", (double)s->http_requests},
		{"huddle_gateway_ws_origin_refused_total", NULL, "counter", (double)s->origin_refused},
		{"huddle_gateway_chunks_in_total", NULL, "counter", (double)s->chunks_in},
		{"huddle_gateway_chunked_messages_total", "direction=\"in\"", "counter", (double)s->chunked_in},
		{"huddle_gateway_chunked_messages_total", "direction=\"out\"", "counter", (double)s->chunked_out},
		{"huddle_gateway_chunk_errors_total", NULL, "counter", (double)s->chunk_errors},
		{"huddle_gateway_chat_rooms", NULL, "gauge", (double)chat_rooms},
		{"huddle_gateway_chat_subscribers", NULL, "gauge", (double)chat_subscribers},
		{"huddle_gateway_chat_events_connected", NULL, "gauge",
		 gw.chat_events != NULL ? hd_sub_connected(gw.chat_events) : 0},
		{"huddle_gateway_chat_requests_total", "kind=\"subscribe\"", "counter", (double)s->chat_subscribes},
		{"huddle_gateway_chat_requests_total", "kind=\"post\"", "counter", (double)s->chat_posts},
		{"huddle_gateway_chat_requests_total", "kind=\"history\"", "counter", (double)s->chat_history},
		{"huddle_gateway_chat_requests_total", "kind=\"export\"", "counter", (double)s->chat_exports},
		{"huddle_gateway_chat_events_total", NULL, "counter", (double)s->chat_events_in},
		{"huddle_gateway_chat_delivered_total", NULL, "counter", (double)s->chat_delivered},
		{"huddle_gateway_chat_fills_total", NULL, "counter", (double)s->chat_fills},
		{"huddle_gateway_chat_failures_total", NULL, "counter", (double)s->chat_failures},
		{"huddle_gateway_notes_rooms", NULL, "gauge", (double)notes_rooms},
		{"huddle_gateway_notes_subscribers", NULL, "gauge", (double)notes_subscribers},
		{"huddle_gateway_notes_events_connected", NULL, "gauge",
		 gw.notes_events != NULL ? hd_sub_connected(gw.notes_events) : 0},
		{"huddle_gateway_notes_requests_total", "kind=\"subscribe\"", "counter", (double)s->notes_subscribes},
		{"huddle_gateway_notes_requests_total", "kind=\"open\"", "counter", (double)s->notes_opens},
		{"huddle_gateway_notes_requests_total", "kind=\"update\"", "counter", (double)s->notes_updates},
		{"huddle_gateway_notes_requests_total", "kind=\"awareness\"", "counter", (double)s->notes_awareness},
		{"huddle_gateway_notes_requests_total", "kind=\"snapshot\"", "counter", (double)s->notes_snapshots},
		{"huddle_gateway_notes_requests_total", "kind=\"versions\"", "counter", (double)s->notes_versions},
		{"huddle_gateway_notes_requests_total", "kind=\"export\"", "counter", (double)s->notes_exports},
		{"huddle_gateway_notes_events_total", NULL, "counter", (double)s->notes_events_in},
		{"huddle_gateway_notes_delivered_total", "kind=\"update\"", "counter", (double)s->notes_delivered},
		{"huddle_gateway_notes_delivered_total", "kind=\"awareness\"", "counter",
		 (double)s->notes_awareness_delivered},
		{"huddle_gateway_notes_fills_total", NULL, "counter", (double)s->notes_fills},
		{"huddle_gateway_notes_failures_total", NULL, "counter", (double)s->notes_failures},
		{"huddle_gateway_notes_rate_limited_total", NULL, "counter", (double)s->notes_rate_limited},
		{"huddle_gateway_recording_connected", NULL, "gauge",
		 gw.recording != NULL ? hd_rpc_client_connected(gw.recording) : 0},
		{"huddle_gateway_recording_transfers", NULL, "gauge", (double)rec_transfers},
		{"huddle_gateway_recording_buffered_bytes", NULL, "gauge", (double)rec_buffered},
		{"huddle_gateway_recording_requests_total", "kind=\"create\"", "counter", (double)s->rec_creates},
		{"huddle_gateway_recording_requests_total", "kind=\"chunk\"", "counter", (double)s->rec_chunks},
		{"huddle_gateway_recording_requests_total", "kind=\"finish\"", "counter", (double)s->rec_finishes},
		{"huddle_gateway_recording_requests_total", "kind=\"list\"", "counter", (double)s->rec_lists},
		{"huddle_gateway_recording_requests_total", "kind=\"get\"", "counter", (double)s->rec_gets},
		{"huddle_gateway_recording_requests_total", "kind=\"file\"", "counter", (double)s->rec_files},
		{"huddle_gateway_recording_requests_total", "kind=\"delete\"", "counter", (double)s->rec_deletes},
		{"huddle_gateway_recording_bytes_total", "direction=\"in\"", "counter", (double)s->rec_chunk_bytes},
		{"huddle_gateway_recording_bytes_total", "direction=\"out\"", "counter", (double)s->rec_file_bytes},
		{"huddle_gateway_recording_refused_total", "why=\"unauthorized\"", "counter",
		 (double)s->rec_unauthorized},
		{"huddle_gateway_recording_refused_total", "why=\"forbidden\"", "counter", (double)s->rec_forbidden},
		{"huddle_gateway_recording_refused_total", "why=\"rate\"", "counter", (double)s->rec_rate_limited},
		{"huddle_gateway_recording_refused_total", "why=\"busy\"", "counter", (double)s->rec_busy},
		{"huddle_gateway_recording_failures_total", NULL, "counter", (double)s->rec_failures},
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && n < cap; i++) {
		const struct metric *m = &all[i];
		int k = 0;
		// One TYPE line per name, before its first sample.
		if (i == 0 || strcmp(all[i - 1].name, m->name) != 0)
			k = snprintf(buf + n, cap - n, "# TYPE %s %s\n", m->name, m->type);
		if (k < 0 || (size_t)k >= cap - n)
			break;
		n += (size_t)k;
		k = m->label != NULL ? snprintf(buf + n, cap - n, "%s{%s} %.0f\n", m->name, m->label, m->value)
				     : snprintf(buf + n, cap - n, "%s %.0f\n", m->name, m->value);
		if (k < 0 || (size_t)k >= cap - n)
			break;
		n += (size_t)k;
	}
	return n;
}
