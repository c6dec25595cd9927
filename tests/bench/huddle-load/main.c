// main.c: huddle-load — N simulated participants in M meetings against
// huddle-gateway (huddle.v1) or the socket.io reference server. Phases:
// connect + join at --join-rate; idle --hold; relay storm (--rate signals/s
// in all, or --window in flight per client when --rate is 0); drain; leave
// at --leave-rate. Prints a table, then one JSON line (the last line).
#include <ev.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "load.h"

#define HL_TICK_STORM_US 1000
#define HL_TICK_US 5000
#define HL_DRAIN_S 5.0
#define HL_LEAVE_TIMEOUT_S 10.0
#define HL_END_TIMEOUT_S 3.0
#define HL_QUEUE_MAX 64 // frames queued to one client before the storm skips it

struct hl_run hl;
static volatile sig_atomic_t interrupted;
static lws_sorted_usec_list_t tick_sul;
static struct ev_loop *loop;
static ev_timer tick_timer;
static bool finished;
static long rss_before[8], rss_after[8];
static long long cpu_storm_start[8], cpu_storm_end[8];
static double client_cpu_storm_start, client_cpu_storm_end;
static double storm_seconds;

static double secs(int64_t ns)
{
	return (double)ns / 1e9;
}

static double process_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void enter(enum hl_phase p)
{
	int64_t now = hl_now_ns();
	hl.phase = p;
	hl.phase_start_ns = now;
	if (p == HL_PH_STORM) {
		hl.storm_start_ns = now;
		for (int i = 0; i < hl.n_pids; i++)
			cpu_storm_start[i] = hl_cpu_ticks(hl.pids[i]);
		client_cpu_storm_start = process_cpu_s();
		if (hl.rate <= 0) // windowed: fill every client's window now
			for (int i = 0; i < hl.clients; i++)
				for (int w = 0; w < hl.window; w++)
					hl_signal_peer(&hl.c[i]);
	} else if (p == HL_PH_DRAIN) {
		hl.storm_end_ns = now;
		storm_seconds = secs(now - hl.storm_start_ns);
		for (int i = 0; i < hl.n_pids; i++)
			cpu_storm_end[i] = hl_cpu_ticks(hl.pids[i]);
		client_cpu_storm_end = process_cpu_s();
	}
	if (!hl.quiet)
		fprintf(stderr, "huddle-load: %s: %s (joined %d, failed %d)\n", hl.label,
			(const char *[]){"join", "hold", "storm", "drain", "leave", "end"}[p], hl.n_joined, hl.n_gone);
}

static void tick_join(int64_t now)
{
	double t = secs(now - hl.phase_start_ns);
	int due = hl.join_rate > 0 ? (int)(t * hl.join_rate) + 1 : hl.clients;
	if (due > hl.clients)
		due = hl.clients;
	while (hl.n_connect_started < due)
		hl_client_connect(&hl.c[hl.n_connect_started++]);
	int pending = 0;
	for (int i = 0; i < hl.n_connect_started; i++) {
		struct hl_client *c = &hl.c[i];
		if (c->state != HL_CONNECTING && c->state != HL_JOINING)
			continue;
		if (secs(now - c->start_ns) > hl.join_timeout_s) {
			hl_fail(c, &hl.err_join_timeout, "no join reply in time");
			hl_client_close(c);
			continue;
		}
		pending++;
	}
	if (hl.n_connect_started == hl.clients && pending == 0) {
		for (int i = 0; i < hl.n_pids; i++)
			rss_after[i] = hl_rss_kb(hl.pids[i]); // refreshed at the end of the hold
		enter(HL_PH_HOLD);
	}
}

static void tick_storm(int64_t now)
{
	double t = secs(now - hl.phase_start_ns);
	if (t >= hl.storm_s) {
		enter(HL_PH_DRAIN);
		return;
	}
	if (hl.rate <= 0 || hl.n_joined == 0)
		return;
	int64_t target = (int64_t)(t * hl.rate);
	int64_t due = target - hl.storm_sent_target;
	int64_t cap = (int64_t)(hl.rate / 4) + 1; // never catch up more than 250 ms at once
	if (due > cap) {
		hl.backpressure_skips += (uint64_t)(due - cap);
		hl.storm_sent_target += due - cap;
		due = cap;
	}
	for (int64_t k = 0; k < due; k++) {
		hl.storm_sent_target++;
		for (int tries = 0; tries < hl.clients; tries++) {
			struct hl_client *c = &hl.c[hl.rr];
			hl.rr = (hl.rr + 1) % hl.clients;
			if (c->state != HL_JOINED)
				continue;
			if (c->queued >= HL_QUEUE_MAX) {
				hl.backpressure_skips++;
				break;
			}
			if (hl_signal_peer(c))
				break;
		}
	}
}

static void tick_leave(int64_t now)
{
	double t = secs(now - hl.phase_start_ns);
	int due = hl.leave_rate > 0 ? (int)(t * hl.leave_rate) + 1 : hl.clients;
	if (due > hl.clients)
		due = hl.clients;
	while (hl.n_leave_started < due) {
		struct hl_client *c = &hl.c[hl.n_leave_started++];
		if (c->state != HL_JOINED)
			continue;
		c->state = HL_LEAVING;
		c->start_ns = now;
		hl.target->send_leave(c);
	}
	int pending = 0;
	for (int i = 0; i < hl.n_leave_started; i++) {
		struct hl_client *c = &hl.c[i];
		if (c->state != HL_LEAVING)
			continue;
		if (secs(now - c->start_ns) > HL_LEAVE_TIMEOUT_S) {
			hl_fail(c, &hl.err_leave_timeout, "no leave reply in time");
			hl_client_close(c);
			continue;
		}
		pending++;
	}
	if (hl.n_leave_started == hl.clients && pending == 0) {
		for (int i = 0; i < hl.clients; i++)
			hl_client_close(&hl.c[i]);
		enter(HL_PH_END);
	}
}

// tick advances the run; returns the microseconds until the next tick, or 0 when done.
static long tick_run(void)
{
	int64_t now = hl_now_ns();
	if (interrupted && hl.phase < HL_PH_END) {
		for (int i = 0; i < hl.clients; i++)
			hl_client_close(&hl.c[i]);
		snprintf(hl.first_error, sizeof(hl.first_error), "interrupted");
		enter(HL_PH_END);
	}
	switch (hl.phase) {
	case HL_PH_JOIN:
		tick_join(now);
		break;
	case HL_PH_HOLD:
		if (secs(now - hl.phase_start_ns) >= hl.hold_s) {
			for (int i = 0; i < hl.n_pids; i++)
				rss_after[i] = hl_rss_kb(hl.pids[i]);
			enter(HL_PH_STORM);
		}
		break;
	case HL_PH_STORM:
		tick_storm(now);
		break;
	case HL_PH_DRAIN: {
		bool all_in =
			hl.deliveries + hl.bad_deliveries >= hl.signals_sent && hl.signal_replies >= hl.signals_sent;
		if (all_in || secs(now - hl.phase_start_ns) >= HL_DRAIN_S)
			enter(HL_PH_LEAVE);
		break;
	}
	case HL_PH_LEAVE:
		tick_leave(now);
		break;
	case HL_PH_END: {
		int open = 0;
		for (int i = 0; i < hl.clients; i++)
			open += hl.c[i].wsi != NULL;
		if (open == 0 || secs(now - hl.phase_start_ns) >= HL_END_TIMEOUT_S) {
			finished = true;
			return 0;
		}
		break;
	}
	}
	return hl.phase == HL_PH_STORM ? HL_TICK_STORM_US : HL_TICK_US;
}

static void tick_sul_cb(lws_sorted_usec_list_t *sul)
{
	long us = tick_run();
	if (us > 0)
		lws_sul_schedule(hl.ctx, 0, &tick_sul, tick_sul_cb, us);
	else
		lws_cancel_service(hl.ctx);
}

static void tick_ev_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	long us = tick_run();
	if (us > 0) {
		w->repeat = (double)us / 1e6;
		ev_timer_again(l, w);
	} else {
		ev_timer_stop(l, w);
		ev_break(l, EVBREAK_ALL);
	}
}

// ---- report ----

static void json_lat(FILE *f, const char *name, struct hl_samples *s)
{
	fprintf(f, "\"%s\":{\"n\":%zu,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}", name, s->n,
		hl_samples_pct(s, 50), hl_samples_pct(s, 90), hl_samples_pct(s, 99), hl_samples_pct(s, 99.9),
		hl_samples_max(s));
}

static void table_lat(const char *name, struct hl_samples *s)
{
	if (s->n == 0) {
		printf("  %-26s (no samples)\n", name);
		return;
	}
	printf("  %-26s %9.3f %9.3f %9.3f %9.3f %9.3f %9zu\n", name, hl_samples_pct(s, 50), hl_samples_pct(s, 90),
	       hl_samples_pct(s, 99), hl_samples_pct(s, 99.9), hl_samples_max(s), s->n);
}

static int report(void)
{
	uint64_t lost = hl.signals_sent > hl.deliveries + hl.bad_deliveries
				? hl.signals_sent - hl.deliveries - hl.bad_deliveries
				: 0;
	uint64_t errors = hl.err_connect + hl.err_closed + hl.err_server + hl.err_join_timeout + hl.err_leave_timeout +
			  hl.err_protocol + hl.bad_deliveries;
	double relayed_per_s = storm_seconds > 0 ? (double)hl.deliveries_storm / storm_seconds : 0;
	long tck = sysconf(_SC_CLK_TCK);
	double server_cpu = 0;
	long rss_b = 0, rss_a = 0;
	for (int i = 0; i < hl.n_pids; i++) {
		if (cpu_storm_start[i] >= 0 && cpu_storm_end[i] >= 0 && storm_seconds > 0)
			server_cpu += (double)(cpu_storm_end[i] - cpu_storm_start[i]) / (double)tck / storm_seconds;
		rss_b += rss_before[i];
		rss_a += rss_after[i];
	}
	double client_cpu = storm_seconds > 0 ? (client_cpu_storm_end - client_cpu_storm_start) / storm_seconds : 0;
	int conns = hl.n_joined > 0 ? hl.n_joined : 1;
	double rss_first = hl.n_pids > 0 ? (double)(rss_after[0] - rss_before[0]) / conns : 0;
	double rss_all = hl.n_pids > 0 ? (double)(rss_a - rss_b) / conns : 0;

	if (!hl.quiet) {
		printf("huddle-load %s: target %s, %d clients in %d meetings\n", hl.label, hl.target->name, hl.clients,
		       hl.meetings);
		printf("  joined %d, left %d, failed %d\n", hl.n_joined, hl.n_left, hl.n_gone);
		printf("  %-26s %9s %9s %9s %9s %9s %9s\n", "latency (ms)", "p50", "p90", "p99", "p99.9", "max", "n");
		table_lat("join -> join reply", &hl.join_lat);
		table_lat("join -> peers notified", &hl.peer_lat);
		table_lat("relay (send -> delivery)", &hl.relay_lat);
		printf("  storm: %.1f s, %llu signals sent, %llu delivered, %.0f relayed msg/s, %llu lost, %llu "
		       "skipped\n",
		       storm_seconds, (unsigned long long)hl.signals_sent_storm,
		       (unsigned long long)hl.deliveries_storm, relayed_per_s, (unsigned long long)lost,
		       (unsigned long long)hl.backpressure_skips);
		if (hl.n_pids > 0)
			printf("  server: RSS %ld -> %ld KiB (%.2f KiB per connection; first pid %.2f), CPU %.0f%% "
			       "during the storm; huddle-load CPU %.0f%%\n",
			       rss_b, rss_a, rss_all, rss_first, server_cpu * 100, client_cpu * 100);
		printf("  errors: %llu (connect %llu, closed %llu, server %llu, join timeout %llu, leave timeout %llu, "
		       "protocol %llu, bad deliveries %llu)%s%s\n",
		       (unsigned long long)errors, (unsigned long long)hl.err_connect,
		       (unsigned long long)hl.err_closed, (unsigned long long)hl.err_server,
		       (unsigned long long)hl.err_join_timeout, (unsigned long long)hl.err_leave_timeout,
		       (unsigned long long)hl.err_protocol, (unsigned long long)hl.bad_deliveries,
		       hl.first_error[0] ? "; first: " : "", hl.first_error);
	}
	printf("{\"label\":\"%s\",\"target\":\"%s\",\"clients\":%d,\"meetings\":%d,\"joined\":%d,\"left\":%d,",
	       hl.label, hl.target->name, hl.clients, hl.meetings, hl.n_joined, hl.n_left);
	printf("\"join_rate\":%.1f,\"rate\":%.1f,\"window\":%d,", hl.join_rate, hl.rate, hl.window);
	json_lat(stdout, "join_ms", &hl.join_lat);
	putchar(',');
	json_lat(stdout, "peer_notify_ms", &hl.peer_lat);
	putchar(',');
	json_lat(stdout, "relay_ms", &hl.relay_lat);
	printf(",\"storm_s\":%.3f,\"signals_sent\":%llu,\"delivered\":%llu,\"relayed_per_s\":%.1f,\"lost\":%llu,"
	       "\"skipped\":%llu,",
	       storm_seconds, (unsigned long long)hl.signals_sent_storm, (unsigned long long)hl.deliveries_storm,
	       relayed_per_s, (unsigned long long)lost, (unsigned long long)hl.backpressure_skips);
	printf("\"rss_kb_before\":%ld,\"rss_kb_after\":%ld,\"rss_per_conn_kb\":%.3f,\"rss_per_conn_kb_first\":%.3f,"
	       "\"server_cpu\":%.3f,\"client_cpu\":%.3f,",
	       rss_b, rss_a, rss_all, rss_first, server_cpu, client_cpu);
	printf("\"errors\":{\"total\":%llu,\"connect\":%llu,\"closed\":%llu,\"server\":%llu,\"join_timeout\":%llu,"
	       "\"leave_timeout\":%llu,\"protocol\":%llu,\"bad_deliveries\":%llu},\"first_error\":\"",
	       (unsigned long long)errors, (unsigned long long)hl.err_connect, (unsigned long long)hl.err_closed,
	       (unsigned long long)hl.err_server, (unsigned long long)hl.err_join_timeout,
	       (unsigned long long)hl.err_leave_timeout, (unsigned long long)hl.err_protocol,
	       (unsigned long long)hl.bad_deliveries);
	for (const char *p = hl.first_error; *p; p++)
		if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
			putchar(*p);
	printf("\"}\n");
	fflush(stdout);
	return errors == 0 && lost == 0 && hl.n_joined == hl.clients ? 0 : 1;
}

// ---- options ----

static void usage(FILE *f)
{
	fprintf(f, "usage: huddle-load [options]\n"
		   "  -t, --target huddle|socketio  wire protocol of the server (default huddle)\n"
		   "  -u, --url http://HOST:PORT    server (default http://127.0.0.1:8080); HOST is an IPv4 address\n"
		   "  -n, --clients N               participants (default 10)\n"
		   "  -m, --meetings M              meetings, made with POST /api/meetings (default 5);\n"
		   "                                client i joins meeting i %% M\n"
		   "  -j, --join-rate R             connects + joins per second (default 100; 0: all at once)\n"
		   "      --leave-rate R            leaves per second (default: the join rate)\n"
		   "      --hold S                  idle seconds after everyone joined (default 1)\n"
		   "  -d, --duration S              relay storm seconds (default 5; 0: no storm)\n"
		   "  -r, --rate R                  signals per second, all clients together (default 100);\n"
		   "                                0: as fast as the server replies, --window in flight per client\n"
		   "  -w, --window W                signals in flight per client when --rate is 0 (default 4)\n"
		   "      --join-timeout S          a client not joined after S seconds fails (default 20)\n"
		   "      --src-addrs K             bind clients round-robin to 127.0.0.2 .. 127.0.0.(K+1) so more\n"
		   "                                than one address's ~28k ephemeral ports are usable (default 4;\n"
		   "                                0: no bind; only used for a 127.x server)\n"
		   "  -p, --pid PID                 a server process: RSS and CPU are read from /proc (repeatable;\n"
		   "                                RSS is summed, the first is also reported alone)\n"
		   "      --poll                    use lws's poll() loop instead of libev (epoll)\n"
		   "  -l, --label NAME              scenario name in the report\n"
		   "  -q, --quiet                   print only the JSON line\n"
		   "  -h, --help\n"
		   "Latencies: join -> join reply: the JoinReply (Huddle) or join ack (socket.io), roster included;\n"
		   "join -> peers notified: for each participant_joined a member receives, since the joiner sent its\n"
		   "join; relay: from building a signal (its send time rides in the candidate string) to its\n"
		   "signal delivery at the peer. Exit status 0 when every client joined and left, nothing was lost\n"
		   "and no error happened; 1 otherwise; 2 on bad options or setup failures.\n"
		   "huddle-load raises its own RLIMIT_NOFILE to the hard limit; raise the server's before starting it\n"
		   "(ulimit -n, or prlimit --nofile=N:N --pid PID before it opens its sockets).\n");
}

static bool parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || !(v >= lo && v <= hi))
		return false;
	*out = v;
	return true;
}

static int parse_options(int argc, char **argv)
{
	static const struct option opts[] = {
		{"target", required_argument, NULL, 't'},
		{"url", required_argument, NULL, 'u'},
		{"clients", required_argument, NULL, 'n'},
		{"meetings", required_argument, NULL, 'm'},
		{"join-rate", required_argument, NULL, 'j'},
		{"leave-rate", required_argument, NULL, 'L'},
		{"hold", required_argument, NULL, 'H'},
		{"duration", required_argument, NULL, 'd'},
		{"rate", required_argument, NULL, 'r'},
		{"window", required_argument, NULL, 'w'},
		{"join-timeout", required_argument, NULL, 'T'},
		{"src-addrs", required_argument, NULL, 'S'},
		{"pid", required_argument, NULL, 'p'},
		{"label", required_argument, NULL, 'l'},
		{"poll", no_argument, NULL, 'P'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *url = "http://127.0.0.1:8080";
	double v, leave_rate = -1;
	int o;
	hl.target = &hl_target_huddle;
	hl.clients = 10;
	hl.meetings = 5;
	hl.join_rate = 100;
	hl.hold_s = 1;
	hl.storm_s = 5;
	hl.rate = 100;
	hl.window = 4;
	hl.join_timeout_s = 20;
	hl.src_addrs = 4;
	hl.label = "run";
	hl.evlib_ev = true;
	while ((o = getopt_long(argc, argv, "t:u:n:m:j:d:r:w:p:l:qh", opts, NULL)) != -1) {
		switch (o) {
		case 't':
			if (strcmp(optarg, "huddle") == 0)
				hl.target = &hl_target_huddle;
			else if (strcmp(optarg, "socketio") == 0)
				hl.target = &hl_target_sio;
			else
				goto bad;
			break;
		case 'u':
			url = optarg;
			break;
		case 'n':
			if (!parse_num(optarg, 1, 1000000, &v))
				goto bad;
			hl.clients = (int)v;
			break;
		case 'm':
			if (!parse_num(optarg, 1, 1000000, &v))
				goto bad;
			hl.meetings = (int)v;
			break;
		case 'j':
			if (!parse_num(optarg, 0, 1e7, &hl.join_rate))
				goto bad;
			break;
		case 'L':
			if (!parse_num(optarg, 0, 1e7, &leave_rate))
				goto bad;
			break;
		case 'H':
			if (!parse_num(optarg, 0, 3600, &hl.hold_s))
				goto bad;
			break;
		case 'd':
			if (!parse_num(optarg, 0, 3600, &hl.storm_s))
				goto bad;
			break;
		case 'r':
			if (!parse_num(optarg, 0, 1e8, &hl.rate))
				goto bad;
			break;
		case 'w':
			if (!parse_num(optarg, 1, 1000, &v))
				goto bad;
			hl.window = (int)v;
			break;
		case 'T':
			if (!parse_num(optarg, 0.1, 3600, &hl.join_timeout_s))
				goto bad;
			break;
		case 'S':
			if (!parse_num(optarg, 0, 250, &v))
				goto bad;
			hl.src_addrs = (int)v;
			break;
		case 'p':
			if (hl.n_pids == (int)(sizeof(hl.pids) / sizeof(hl.pids[0])) || !parse_num(optarg, 1, 1e9, &v))
				goto bad;
			hl.pids[hl.n_pids++] = (int)v;
			break;
		case 'l':
			hl.label = optarg;
			break;
		case 'P':
			hl.evlib_ev = false;
			break;
		case 'q':
			hl.quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "huddle-load: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (sscanf(url, "http://%63[0-9.]:%d", hl.host, &hl.port) != 2 || hl.port < 1 || hl.port > 65535) {
		fprintf(stderr, "huddle-load: --url must be http://IPv4:PORT\n");
		return -1;
	}
	if (hl.meetings > hl.clients)
		hl.meetings = hl.clients;
	hl.leave_rate = leave_rate >= 0 ? leave_rate : hl.join_rate;
	if (strncmp(hl.host, "127.", 4) != 0)
		hl.src_addrs = 0;
	return 0;
bad:
	fprintf(stderr, "huddle-load: bad value '%s' for -%c (see --help)\n", optarg, o);
	return -1;
}

static void on_signal(int sig)
{
	interrupted = 1;
}

static void lws_log(int level, const char *line)
{
	if (!hl.quiet)
		fprintf(stderr, "huddle-load: lws: %s", line);
}

int main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct lws_protocols protocols[2];
	int status = 2;

	if (parse_options(argc, argv) != 0)
		return 2;
	long nofile = hl_raise_nofile();
	if (nofile > 0 && nofile < hl.clients + 64)
		fprintf(stderr,
			"huddle-load: warning: RLIMIT_NOFILE is %ld, too low for %d clients (raise the hard limit)\n",
			nofile, hl.clients);
	hl.join_lat.max = hl.peer_lat.max = 1000000;
	hl.relay_lat.max = 20000000; // 80 MB of samples at most
	hl.c = calloc((size_t)hl.clients, sizeof(*hl.c));
	hl.meeting_ids = calloc((size_t)hl.meetings, sizeof(*hl.meeting_ids));
	hl.src = calloc((size_t)(hl.src_addrs > 0 ? hl.src_addrs : 1), sizeof(*hl.src));
	if (hl.c == NULL || hl.meeting_ids == NULL || hl.src == NULL) {
		fprintf(stderr, "huddle-load: out of memory\n");
		goto out;
	}
	for (int i = 0; i < hl.src_addrs; i++)
		snprintf(hl.src[i], sizeof(hl.src[i]), "127.0.0.%u", (unsigned)(2 + i) & 0xffu);
	for (int i = 0; i < hl.clients; i++) {
		hl.c[i].idx = i;
		hl.c[i].meeting = i % hl.meetings;
	}
	for (int m = 0; m < hl.meetings; m++) {
		char err[256];
		if (hl_http_create_meeting(hl.host, hl.port, hl.meeting_ids[m], HL_ID_MAX, err, sizeof(err)) != 0) {
			fprintf(stderr, "huddle-load: cannot create meeting %d: %s\n", m, err);
			goto out;
		}
	}

	lws_set_log_level(LLL_ERR, lws_log);
	memset(protocols, 0, sizeof(protocols));
	protocols[0].name = "huddle-load";
	protocols[0].callback = hl_callback;
	protocols[0].rx_buffer_size = 4096;
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.count_threads = 1;
	info.fd_limit_per_thread = (unsigned int)(hl.clients + 256);
	info.timeout_secs = 30;
	// libev (epoll) instead of lws's default poll(), which walks every socket
	// on each wakeup: with thousands of clients that, not the server, would
	// be what is measured. Debian ships it as an lws event-library plugin.
	void *foreign[1];
	if (hl.evlib_ev) {
		if ((loop = ev_loop_new(EVBACKEND_EPOLL)) == NULL) {
			fprintf(stderr, "huddle-load: cannot create the libev loop\n");
			goto out;
		}
		foreign[0] = loop;
		info.foreign_loops = foreign;
		info.options |= LWS_SERVER_OPTION_LIBEV;
	}
	if ((hl.ctx = lws_create_context(&info)) == NULL) {
		fprintf(stderr, "huddle-load: cannot create the lws context\n");
		goto out;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (int i = 0; i < hl.n_pids; i++) {
		rss_before[i] = hl_rss_kb(hl.pids[i]);
		if (rss_before[i] < 0)
			fprintf(stderr, "huddle-load: warning: cannot read /proc/%d/status\n", hl.pids[i]);
	}
	enter(HL_PH_JOIN);
	if (hl.evlib_ev) {
		ev_timer_init(&tick_timer, tick_ev_cb, 0.0, HL_TICK_US / 1e6);
		ev_timer_start(loop, &tick_timer);
		ev_run(loop, 0);
		ev_timer_stop(loop, &tick_timer);
	} else {
		lws_sul_schedule(hl.ctx, 0, &tick_sul, tick_sul_cb, 1);
		while (!finished && lws_service(hl.ctx, 0) >= 0)
			;
		lws_sul_cancel(&tick_sul);
	}
	lws_context_destroy(hl.ctx); // closes what is still open
	hl.ctx = NULL;
	status = report();

out:
	if (loop != NULL)
		ev_loop_destroy(loop);
	if (hl.c != NULL)
		for (int i = 0; i < hl.clients; i++)
			hl_client_free(&hl.c[i]);
	HASH_CLEAR(hh, hl.by_participant);
	hl_samples_free(&hl.join_lat);
	hl_samples_free(&hl.peer_lat);
	hl_samples_free(&hl.relay_lat);
	free(hl.c);
	free(hl.meeting_ids);
	free(hl.src);
	return status;
}
