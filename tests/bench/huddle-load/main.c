// main.c: huddle-load — N simulated participants in M meetings against
// huddle-gateway (huddle.v1) or the socket.io reference server. Phases:
// connect + join at --join-rate; idle --hold; relay storm (--rate signals/s
// in all, or --window in flight per client when --rate is 0); drain; leave
// at --leave-rate. With --soak the storm is a soak: churn (--churn leaves and
// joins per second) and a report every --interval seconds, then a verdict.
// Prints a table, then one JSON line (the last line).
//
// Threads: --threads workers (default: the cores this process may run on),
// each with its own lws context and libev loop; meeting m and its clients
// belong to worker m % threads. This (main) thread creates the meetings,
// moves the run from phase to phase once every worker is ready, reads the
// servers' /proc figures and merges the workers' counters and histograms.
#define _GNU_SOURCE
#include <ev.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "load.h"

#define HL_TICK_STORM_US 1000
#define HL_TICK_US 5000
#define HL_MAIN_TICK_NS 5000000L
#define HL_DRAIN_S 5.0
#define HL_LEAVE_TIMEOUT_S 10.0
#define HL_END_TIMEOUT_S 3.0
#define HL_SWEEP_S 1.0        // soak: how often timeouts are looked for during the storm
#define HL_QUEUE_MAX 64       // frames queued to one client before the storm skips it
#define HL_THREADS_MAX 64     // --threads
#define HL_SOAK_SLACK_KB 2048 // verdict: growth always allowed, whatever the percentage (small processes)
#define HL_SOAK_BASE 1        // verdict: the baseline interval (0-based: the second, "minute 2")
#define HL_SOAK_LAST 2        // verdict: the last intervals compared with the baseline (their maximum)
#define HL_INTERVALS_MAX 10000

struct hl_run hl;
static volatile sig_atomic_t interrupted;
static long rss_before[HL_PIDS_MAX], rss_after[HL_PIDS_MAX];
static long long cpu_storm_start[HL_PIDS_MAX], cpu_storm_end[HL_PIDS_MAX];
static double client_cpu_storm_start, client_cpu_storm_end;
static double storm_seconds;

// One soak interval's figures (main thread).
struct hl_interval {
	double t_s;             // since the storm began, at the interval's end
	uint64_t d[HL_C_COUNT]; // counter increments in the interval
	double relay_p50, relay_p99, relay_max;
	uint64_t relay_n;
	long rss_kb[HL_PIDS_MAX];
	double cpu[HL_PIDS_MAX]; // share of a core in the interval
	double client_cpu;
};
static struct hl_interval *intervals;
static int n_intervals;

static double secs(int64_t ns)
{
	return (double)ns / 1e9;
}

static double cpu_s(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *phase_name(int p)
{
	return (const char *[]){"join", "hold", "storm", "drain", "leave", "end"}[p];
}

static uint64_t sum_ctr(enum hl_ctr k)
{
	uint64_t v = 0;
	for (int i = 0; i < hl.threads; i++)
		v += atomic_load_explicit(&hl.w[i].ctr[k], memory_order_relaxed);
	return v;
}

static uint64_t errors_of(const uint64_t *c)
{
	return c[HL_C_ERR_CONNECT] + c[HL_C_ERR_CLOSED] + c[HL_C_ERR_SERVER] + c[HL_C_ERR_JOIN_TIMEOUT] +
	       c[HL_C_ERR_LEAVE_TIMEOUT] + c[HL_C_ERR_PROTOCOL] + c[HL_C_BAD_DELIVERIES];
}

// ---- workers ----

static bool all_workers(size_t flag_offset)
{
	for (int i = 0; i < hl.threads; i++)
		if (!atomic_load((_Atomic bool *)((char *)&hl.w[i] + flag_offset)))
			return false;
	return true;
}
#define ALL(flag) all_workers(offsetof(struct hl_worker, flag))

static struct hl_client *cli(struct hl_worker *w, int k)
{
	return &hl.c[w->ci[k]];
}

static void close_all(struct hl_worker *w)
{
	for (int k = 0; k < w->n; k++)
		hl_client_close(cli(w, k));
}

// worker_enter: w's first tick in phase p (the main thread moved on).
static void worker_enter(struct hl_worker *w, enum hl_phase p)
{
	w->phase = p;
	w->phase_start_ns = atomic_load(&hl.phase_start_ns);
	if (p == HL_PH_STORM) {
		w->cpu_storm_start = cpu_s(CLOCK_THREAD_CPUTIME_ID);
		w->last_sweep_ns = hl_now_ns();
		if (hl.rate <= 0) // windowed: fill every client's window now
			for (int k = 0; k < w->n; k++)
				for (int i = 0; i < hl.window; i++)
					hl_signal_peer(cli(w, k));
	} else if (p == HL_PH_DRAIN) {
		w->cpu_storm_end = cpu_s(CLOCK_THREAD_CPUTIME_ID);
		if (w->cpu_storm_start == 0)
			w->cpu_storm_start = w->cpu_storm_end; // the storm passed between two ticks
	} else if (p == HL_PH_END) {
		close_all(w);
	}
}

// sweep fails clients stuck joining or leaving.
static void sweep(struct hl_worker *w, int64_t now, int *pending_join, int *pending_leave)
{
	int pj = 0, pl = 0;
	for (int k = 0; k < w->n; k++) {
		struct hl_client *c = cli(w, k);
		if (c->state == HL_CONNECTING || c->state == HL_JOINING) {
			if (secs(now - c->start_ns) > hl.join_timeout_s) {
				hl_fail(c, HL_C_ERR_JOIN_TIMEOUT, "no join reply in time");
				hl_client_close(c);
			} else {
				pj++;
			}
		} else if (c->state == HL_LEAVING) {
			if (secs(now - c->start_ns) > HL_LEAVE_TIMEOUT_S) {
				hl_fail(c, HL_C_ERR_LEAVE_TIMEOUT, "no leave reply in time");
				hl_client_close(c);
			} else {
				pl++;
			}
		}
	}
	if (pending_join != NULL)
		*pending_join = pj;
	if (pending_leave != NULL)
		*pending_leave = pl;
}

static void tick_join(struct hl_worker *w, int64_t now)
{
	double t = secs(now - w->phase_start_ns);
	int due = w->join_rate > 0 ? (int)(t * w->join_rate) + 1 : w->n;
	if (due > w->n)
		due = w->n;
	// --max-pending: at most that many handshakes + joins in flight (each
	// started client ends joined or gone during this phase).
	int64_t cap = w->max_pending > 0 ? (int64_t)w->ctr[HL_C_JOINED] + (int64_t)w->ctr[HL_C_GONE] + w->max_pending
					 : INT64_MAX;
	while (w->n_connect_started < due && w->n_connect_started < cap)
		hl_client_connect(cli(w, w->n_connect_started++));
	if (w->n_connect_started < w->n)
		return;
	int pending;
	sweep(w, now, &pending, NULL);
	if (pending == 0)
		atomic_store(&w->join_done, true);
}

static void churn(struct hl_worker *w, int64_t now, double t)
{
	int64_t due = (int64_t)(t * w->churn);
	// Leaves: the next joined client stops being a signal target, and sends
	// its leave after the grace time (signals already sent to it arrive first).
	while (w->churn_leaves_due < due) {
		w->churn_leaves_due++;
		for (int tries = 0; tries < w->n; tries++) {
			struct hl_client *c = cli(w, w->churn_rr);
			w->churn_rr = (w->churn_rr + 1) % w->n;
			if (c->state != HL_JOINED)
				continue;
			c->state = HL_DRAINING;
			c->leave_at_ns = now + (int64_t)(hl.churn_grace_s * 1e9);
			w->drain_q[(w->drain_head + w->drain_len++) % w->n] = c->idx;
			break;
		}
	}
	while (w->drain_len > 0) {
		struct hl_client *c = &hl.c[w->drain_q[w->drain_head]];
		if (c->state == HL_DRAINING && c->leave_at_ns > now)
			break;
		w->drain_head = (w->drain_head + 1) % w->n;
		w->drain_len--;
		if (c->state != HL_DRAINING)
			continue; // failed meanwhile
		c->state = HL_LEAVING;
		c->start_ns = now;
		hl.target->send_leave(c);
		w->ctr[HL_C_CHURN_LEAVES]++;
	}
	// Joins: clients that left come back on a new connection, same meeting.
	if (due - w->churn_joins_due > (int64_t)w->churn + 1)
		w->churn_joins_due = due - (int64_t)w->churn - 1; // catch up one second at most
	while (w->churn_joins_due < due && w->rejoin_len > 0) {
		struct hl_client *c = &hl.c[w->rejoin_q[w->rejoin_head]];
		w->rejoin_head = (w->rejoin_head + 1) % w->n;
		w->rejoin_len--;
		if (c->state != HL_IDLE)
			continue;
		w->churn_joins_due++;
		w->ctr[HL_C_CHURN_JOINS]++;
		hl_client_connect(c);
	}
}

void hl_client_closed(struct hl_client *c)
{
	struct hl_worker *w = c->w;
	if (!hl.soak || w->phase != HL_PH_STORM || (c->state != HL_DONE && c->state != HL_FAILED))
		return;
	c->state = HL_IDLE;
	w->rejoin_q[(w->rejoin_head + w->rejoin_len++) % w->n] = c->idx;
}

static void tick_storm(struct hl_worker *w, int64_t now)
{
	double t = secs(now - w->phase_start_ns);
	if (hl.soak) {
		if (hl.churn > 0)
			churn(w, now, t);
		if (secs(now - w->last_sweep_ns) >= HL_SWEEP_S) {
			w->last_sweep_ns = now;
			sweep(w, now, NULL, NULL);
		}
	}
	if (hl.rate <= 0 || w->n == 0)
		return;
	int64_t target = (int64_t)(t * w->rate);
	int64_t due = target - w->storm_sent_target;
	int64_t cap = (int64_t)(w->rate / 4) + 1; // never catch up more than 250 ms at once
	if (due > cap) {
		w->ctr[HL_C_BACKPRESSURE_SKIPS] += (uint64_t)(due - cap);
		w->storm_sent_target += due - cap;
		due = cap;
	}
	for (int64_t k = 0; k < due; k++) {
		w->storm_sent_target++;
		for (int tries = 0; tries < w->n; tries++) {
			struct hl_client *c = cli(w, w->rr);
			w->rr = (w->rr + 1) % w->n;
			if (c->state != HL_JOINED)
				continue;
			if (c->queued >= HL_QUEUE_MAX) {
				w->ctr[HL_C_BACKPRESSURE_SKIPS]++;
				break;
			}
			if (hl_signal_peer(c))
				break;
		}
	}
}

static void tick_drain(struct hl_worker *w, int64_t now)
{
	uint64_t sent = w->ctr[HL_C_SIGNALS_SENT];
	bool all_in =
		w->ctr[HL_C_DELIVERIES] + w->ctr[HL_C_BAD_DELIVERIES] >= sent && w->ctr[HL_C_SIGNAL_REPLIES] >= sent;
	if (hl.soak) { // churned clients still joining or leaving finish first
		int pj, pl;
		sweep(w, now, &pj, &pl);
		all_in = all_in && pj == 0 && pl == 0;
	}
	if (all_in)
		atomic_store(&w->drained, true);
}

static void tick_leave(struct hl_worker *w, int64_t now)
{
	double t = secs(now - w->phase_start_ns);
	int due = w->leave_rate > 0 ? (int)(t * w->leave_rate) + 1 : w->n;
	if (due > w->n)
		due = w->n;
	while (w->n_leave_started < due) {
		struct hl_client *c = cli(w, w->n_leave_started++);
		if (c->state != HL_JOINED && c->state != HL_DRAINING)
			continue;
		c->state = HL_LEAVING;
		c->start_ns = now;
		hl.target->send_leave(c);
	}
	if (w->n_leave_started < w->n || atomic_load(&w->leave_done))
		return;
	int pj, pl;
	sweep(w, now, &pj, &pl);
	if (pj == 0 && pl == 0) {
		close_all(w);
		atomic_store(&w->leave_done, true);
	}
}

// worker_tick advances w; returns the microseconds until its next tick, or 0 when it is done.
static long worker_tick(struct hl_worker *w)
{
	int p = atomic_load(&hl.phase);
	if (p != (int)w->phase)
		worker_enter(w, (enum hl_phase)p);
	int64_t now = hl_now_ns();
	switch (w->phase) {
	case HL_PH_JOIN:
		tick_join(w, now);
		break;
	case HL_PH_HOLD:
		break;
	case HL_PH_STORM:
		tick_storm(w, now);
		break;
	case HL_PH_DRAIN:
		tick_drain(w, now);
		break;
	case HL_PH_LEAVE:
		tick_leave(w, now);
		break;
	case HL_PH_END: {
		int open = 0;
		for (int k = 0; k < w->n; k++)
			open += cli(w, k)->wsi != NULL;
		if (open == 0 || secs(now - w->phase_start_ns) >= HL_END_TIMEOUT_S)
			return 0;
		break;
	}
	}
	return w->phase == HL_PH_STORM ? HL_TICK_STORM_US : HL_TICK_US;
}

static void tick_sul_cb(lws_sorted_usec_list_t *sul)
{
	struct hl_worker *w = lws_container_of(sul, struct hl_worker, tick_sul);
	long us = worker_tick(w);
	if (us > 0) {
		lws_sul_schedule(w->ctx, 0, &w->tick_sul, tick_sul_cb, us);
	} else {
		w->stop = true;
		lws_cancel_service(w->ctx);
	}
}

static void tick_ev_cb(struct ev_loop *l, ev_timer *t, int revents)
{
	(void)revents;
	struct hl_worker *w = t->data;
	long us = worker_tick(w);
	if (us > 0) {
		t->repeat = (double)us / 1e6;
		ev_timer_again(l, t);
	} else {
		ev_timer_stop(l, t);
		ev_break(l, EVBREAK_ALL);
	}
}

static void *worker_main(void *arg)
{
	struct hl_worker *w = arg;
	if (hl.evlib_ev) {
		ev_timer_init(&w->tick_timer, tick_ev_cb, 0.0, HL_TICK_US / 1e6);
		w->tick_timer.data = w;
		ev_timer_start(w->loop, &w->tick_timer);
		ev_run(w->loop, 0);
		ev_timer_stop(w->loop, &w->tick_timer);
	} else {
		lws_sul_schedule(w->ctx, 0, &w->tick_sul, tick_sul_cb, 1);
		while (!w->stop && lws_service(w->ctx, 0) >= 0)
			;
		lws_sul_cancel(&w->tick_sul);
	}
	lws_context_destroy(w->ctx); // closes what is still open, on this thread
	w->ctx = NULL;
	atomic_store(&w->finished, true);
	return NULL;
}

// ---- the main thread: phases ----

static void enter(enum hl_phase p)
{
	atomic_store(&hl.phase_start_ns, hl_now_ns());
	atomic_store(&hl.phase, (int)p);
	if (!hl.quiet)
		fprintf(stderr, "huddle-load: %s: %s (joined %llu, failed %llu)\n", hl.label, phase_name(p),
			(unsigned long long)sum_ctr(HL_C_JOINED), (unsigned long long)sum_ctr(HL_C_GONE));
}

static void read_pids_cpu(long long *out)
{
	for (int i = 0; i < hl.n_pids; i++)
		out[i] = hl_cpu_ticks(hl.pids[i]);
}

// ---- soak intervals ----

static struct hl_hist relay_cur, relay_prev, relay_diff; // 100 KiB each: static
static uint64_t ctr_prev[HL_C_COUNT];
static long long soak_cpu_prev[HL_PIDS_MAX];
static double soak_client_cpu_prev;
static FILE *soak_out;

static void merged_relay(struct hl_hist *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < hl.threads; i++)
		hl_hist_merge(out, &hl.w[i].relay_lat);
}

static void soak_begin(void)
{
	merged_relay(&relay_prev);
	for (int k = 0; k < HL_C_COUNT; k++)
		ctr_prev[k] = sum_ctr((enum hl_ctr)k);
	read_pids_cpu(soak_cpu_prev);
	soak_client_cpu_prev = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
	soak_out = stdout;
	fprintf(soak_out, "%-8s %7s %7s %9s %6s %9s %9s", "interval", "joins", "leaves", "relayed", "errors",
		"relay p50", "relay p99");
	for (int i = 0; i < hl.n_pids; i++)
		fprintf(soak_out, " %14s", hl.pid_names[i]);
	fprintf(soak_out, " %8s\n", "load CPU");
	fprintf(soak_out, "%-8s %7s %7s %9s %6s %9s %9s", "", "", "", "", "", "(ms)", "(ms)");
	for (int i = 0; i < hl.n_pids; i++)
		fprintf(soak_out, " %14s", "RSS MiB/CPU%");
	fprintf(soak_out, " %8s\n", "%");
	fflush(soak_out);
}

static void soak_interval(double t_s, double len_s)
{
	if (n_intervals == HL_INTERVALS_MAX)
		return;
	struct hl_interval *iv = &intervals[n_intervals++];
	memset(iv, 0, sizeof(*iv));
	iv->t_s = t_s;
	for (int k = 0; k < HL_C_COUNT; k++) {
		uint64_t v = sum_ctr((enum hl_ctr)k);
		iv->d[k] = v - ctr_prev[k];
		ctr_prev[k] = v;
	}
	merged_relay(&relay_cur);
	hl_hist_diff(&relay_diff, &relay_cur, &relay_prev);
	memcpy(&relay_prev, &relay_cur, sizeof(relay_prev));
	iv->relay_n = hl_hist_n(&relay_diff);
	iv->relay_p50 = hl_hist_pct(&relay_diff, 50);
	iv->relay_p99 = hl_hist_pct(&relay_diff, 99);
	iv->relay_max = hl_hist_pct(&relay_diff, 100);
	long tck = sysconf(_SC_CLK_TCK);
	for (int i = 0; i < hl.n_pids; i++) {
		iv->rss_kb[i] = hl_rss_kb(hl.pids[i]);
		long long c = hl_cpu_ticks(hl.pids[i]);
		iv->cpu[i] = c >= 0 && soak_cpu_prev[i] >= 0 ? (double)(c - soak_cpu_prev[i]) / (double)tck / len_s : 0;
		soak_cpu_prev[i] = c;
	}
	double cc = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
	iv->client_cpu = (cc - soak_client_cpu_prev) / len_s;
	soak_client_cpu_prev = cc;

	char name[32];
	snprintf(name, sizeof(name), "%d (%.0fs)", n_intervals, t_s);
	fprintf(soak_out, "%-8s %7llu %7llu %9llu %6llu %9.3f %9.3f", name, (unsigned long long)iv->d[HL_C_CHURN_JOINS],
		(unsigned long long)iv->d[HL_C_CHURN_LEAVES], (unsigned long long)iv->d[HL_C_DELIVERIES],
		(unsigned long long)errors_of(iv->d), iv->relay_p50, iv->relay_p99);
	for (int i = 0; i < hl.n_pids; i++) {
		char cell[32];
		snprintf(cell, sizeof(cell), "%.1f/%.0f", iv->rss_kb[i] / 1024.0, iv->cpu[i] * 100);
		fprintf(soak_out, " %14s", cell);
	}
	fprintf(soak_out, " %8.0f\n", iv->client_cpu * 100);
	fflush(soak_out);
}

// soak_verdict prints, per process, the RSS of the baseline interval and the
// largest of the last ones, and whether the growth is within the tolerance.
// Returns 1 when every process passes, 0 when one grew, -1 when the run was
// too short to judge.
static int soak_verdict(FILE *f, char *json, size_t jlen)
{
	size_t used = 0;
	json[0] = '\0';
	if (n_intervals < HL_SOAK_BASE + 2) {
		fprintf(f,
			"verdict: no verdict — %d interval(s); at least %d needed (warm-up, baseline, one to "
			"compare)\n",
			n_intervals, HL_SOAK_BASE + 2);
		return -1;
	}
	int from = n_intervals - HL_SOAK_LAST;
	if (from <= HL_SOAK_BASE)
		from = HL_SOAK_BASE + 1;
	int ok = 1;
	fprintf(f,
		"RSS growth once warm: interval %d (baseline) vs the largest of intervals %d..%d; tolerance %.1f%% "
		"or %d KiB, whichever is larger\n",
		HL_SOAK_BASE + 1, from + 1, n_intervals, hl.rss_tolerance_pct, HL_SOAK_SLACK_KB);
	fprintf(f, "  %-12s %12s %12s %10s %10s  %s\n", "process", "base MiB", "last MiB", "growth %", "allowed %",
		"verdict");
	for (int i = 0; i < hl.n_pids; i++) {
		long base = intervals[HL_SOAK_BASE].rss_kb[i], last = 0;
		for (int k = from; k < n_intervals; k++)
			if (intervals[k].rss_kb[i] > last)
				last = intervals[k].rss_kb[i];
		double allowed_kb = fmax(base * hl.rss_tolerance_pct / 100.0, HL_SOAK_SLACK_KB);
		double growth = base > 0 ? 100.0 * (double)(last - base) / (double)base : 0;
		bool pass = base > 0 && (double)(last - base) <= allowed_kb;
		if (!pass)
			ok = 0;
		fprintf(f, "  %-12s %12.1f %12.1f %+10.2f %10.2f  %s\n", hl.pid_names[i], base / 1024.0, last / 1024.0,
			growth, base > 0 ? 100.0 * allowed_kb / (double)base : 0, pass ? "ok" : "GREW");
		used += (size_t)snprintf(json + used, used < jlen ? jlen - used : 0,
					 "%s{\"name\":\"%s\",\"base_kb\":%ld,\"last_kb\":%ld,\"pass\":%s}",
					 i ? "," : "", hl.pid_names[i], base, last, pass ? "true" : "false");
		if (used >= jlen)
			used = jlen - 1;
	}
	return ok;
}

// ---- report ----

static void json_lat(FILE *f, const char *name, const struct hl_hist *s)
{
	fprintf(f, "\"%s\":{\"n\":%llu,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}", name,
		(unsigned long long)hl_hist_n(s), hl_hist_pct(s, 50), hl_hist_pct(s, 90), hl_hist_pct(s, 99),
		hl_hist_pct(s, 99.9), hl_hist_pct(s, 100));
}

static void table_lat(const char *name, const struct hl_hist *s)
{
	if (hl_hist_n(s) == 0) {
		printf("  %-26s (no samples)\n", name);
		return;
	}
	printf("  %-26s %9.3f %9.3f %9.3f %9.3f %9.3f %9llu\n", name, hl_hist_pct(s, 50), hl_hist_pct(s, 90),
	       hl_hist_pct(s, 99), hl_hist_pct(s, 99.9), hl_hist_pct(s, 100), (unsigned long long)hl_hist_n(s));
}

static void json_str(const char *s)
{
	putchar('"');
	for (const char *p = s; *p; p++)
		if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
			putchar(*p);
	putchar('"');
}

static int report(void)
{
	static struct hl_hist join_lat, peer_lat, relay_lat; // merged
	uint64_t c[HL_C_COUNT];
	for (int k = 0; k < HL_C_COUNT; k++)
		c[k] = sum_ctr((enum hl_ctr)k);
	memset(&join_lat, 0, sizeof(join_lat));
	memset(&peer_lat, 0, sizeof(peer_lat));
	memset(&relay_lat, 0, sizeof(relay_lat));
	const char *first_error = "";
	int64_t first_ns = 0;
	double thread_cpu_max = 0;
	for (int i = 0; i < hl.threads; i++) {
		struct hl_worker *w = &hl.w[i];
		hl_hist_merge(&join_lat, &w->join_lat);
		hl_hist_merge(&peer_lat, &w->peer_lat);
		hl_hist_merge(&relay_lat, &w->relay_lat);
		if (w->first_error[0] && (first_error[0] == '\0' || w->first_error_ns < first_ns)) {
			first_error = w->first_error;
			first_ns = w->first_error_ns;
		}
		double tc = storm_seconds > 0 ? (w->cpu_storm_end - w->cpu_storm_start) / storm_seconds : 0;
		if (tc > thread_cpu_max)
			thread_cpu_max = tc;
	}
	if (interrupted && first_error[0] == '\0')
		first_error = "interrupted";
	uint64_t sent = c[HL_C_SIGNALS_SENT], got = c[HL_C_DELIVERIES] + c[HL_C_BAD_DELIVERIES];
	uint64_t lost = sent > got ? sent - got : 0;
	uint64_t errors = errors_of(c);
	double relayed_per_s = storm_seconds > 0 ? (double)c[HL_C_DELIVERIES_STORM] / storm_seconds : 0;
	long tck = sysconf(_SC_CLK_TCK);
	double server_cpu = 0, first_cpu = 0;
	long rss_b = 0, rss_a = 0;
	for (int i = 0; i < hl.n_pids; i++) {
		if (cpu_storm_start[i] >= 0 && cpu_storm_end[i] >= 0 && storm_seconds > 0) {
			double v = (double)(cpu_storm_end[i] - cpu_storm_start[i]) / (double)tck / storm_seconds;
			server_cpu += v;
			if (i == 0)
				first_cpu = v;
		}
		rss_b += rss_before[i];
		rss_a += rss_after[i];
	}
	double client_cpu = storm_seconds > 0 ? (client_cpu_storm_end - client_cpu_storm_start) / storm_seconds : 0;
	int joined = (int)c[HL_C_JOINED], left = (int)c[HL_C_LEFT], gone = (int)c[HL_C_GONE];
	int conns = joined > 0 ? (joined < hl.clients ? joined : hl.clients) : 1;
	double rss_first = hl.n_pids > 0 ? (double)(rss_after[0] - rss_before[0]) / conns : 0;
	double rss_all = hl.n_pids > 0 ? (double)(rss_a - rss_b) / conns : 0;

	if (!hl.quiet) {
		printf("huddle-load %s: target %s, %d clients in %d meetings, %d thread%s\n", hl.label, hl.target->name,
		       hl.clients, hl.meetings, hl.threads, hl.threads == 1 ? "" : "s");
		printf("  joined %d, left %d, failed %d", joined, left, gone);
		if (hl.soak)
			printf(" (churn: %llu joins, %llu leaves)", (unsigned long long)c[HL_C_CHURN_JOINS],
			       (unsigned long long)c[HL_C_CHURN_LEAVES]);
		printf("\n  %-26s %9s %9s %9s %9s %9s %9s\n", "latency (ms)", "p50", "p90", "p99", "p99.9", "max", "n");
		table_lat("join -> join reply", &join_lat);
		table_lat("join -> peers notified", &peer_lat);
		table_lat("relay (send -> delivery)", &relay_lat);
		printf("  storm: %.1f s, %llu signals sent, %llu delivered, %.0f relayed msg/s, %llu lost, %llu "
		       "skipped\n",
		       storm_seconds, (unsigned long long)c[HL_C_SIGNALS_SENT_STORM],
		       (unsigned long long)c[HL_C_DELIVERIES_STORM], relayed_per_s, (unsigned long long)lost,
		       (unsigned long long)c[HL_C_BACKPRESSURE_SKIPS]);
		if (hl.n_pids > 0)
			printf("  server: RSS %ld -> %ld KiB (%.2f KiB per connection; first pid %.2f), CPU %.0f%% "
			       "during the storm (first pid %.0f%%)\n",
			       rss_b, rss_a, rss_all, rss_first, server_cpu * 100, first_cpu * 100);
		printf("  huddle-load: CPU %.0f%% during the storm, %d thread%s, busiest thread %.0f%%\n",
		       client_cpu * 100, hl.threads, hl.threads == 1 ? "" : "s", thread_cpu_max * 100);
		printf("  errors: %llu (connect %llu, closed %llu, server %llu, join timeout %llu, leave timeout %llu, "
		       "protocol %llu, bad deliveries %llu)%s%s\n",
		       (unsigned long long)errors, (unsigned long long)c[HL_C_ERR_CONNECT],
		       (unsigned long long)c[HL_C_ERR_CLOSED], (unsigned long long)c[HL_C_ERR_SERVER],
		       (unsigned long long)c[HL_C_ERR_JOIN_TIMEOUT], (unsigned long long)c[HL_C_ERR_LEAVE_TIMEOUT],
		       (unsigned long long)c[HL_C_ERR_PROTOCOL], (unsigned long long)c[HL_C_BAD_DELIVERIES],
		       first_error[0] ? "; first: " : "", first_error);
	}
	int verdict = 1;
	char vjson[2048] = "";
	if (hl.soak) {
		if (!hl.quiet)
			printf("soak: %d interval(s) of %.0f s\n", n_intervals, hl.interval_s);
		verdict = soak_verdict(hl.quiet ? stderr : stdout, vjson, sizeof(vjson));
		bool pass = verdict == 1 && errors == 0 && lost == 0;
		printf("soak verdict: %s (errors %llu, lost %llu, RSS %s)\n", pass ? "PASS" : "FAIL",
		       (unsigned long long)errors, (unsigned long long)lost,
		       verdict == 1   ? "flat"
		       : verdict == 0 ? "grew"
				      : "not judged: too short");
	}
	printf("{\"label\":\"%s\",\"target\":\"%s\",\"clients\":%d,\"meetings\":%d,\"threads\":%d,\"joined\":%d,"
	       "\"left\":%d,",
	       hl.label, hl.target->name, hl.clients, hl.meetings, hl.threads, joined, left);
	printf("\"join_rate\":%.1f,\"rate\":%.1f,\"window\":%d,", hl.join_rate, hl.rate, hl.window);
	json_lat(stdout, "join_ms", &join_lat);
	putchar(',');
	json_lat(stdout, "peer_notify_ms", &peer_lat);
	putchar(',');
	json_lat(stdout, "relay_ms", &relay_lat);
	printf(",\"storm_s\":%.3f,\"signals_sent\":%llu,\"delivered\":%llu,\"relayed_per_s\":%.1f,\"lost\":%llu,"
	       "\"skipped\":%llu,",
	       storm_seconds, (unsigned long long)c[HL_C_SIGNALS_SENT_STORM],
	       (unsigned long long)c[HL_C_DELIVERIES_STORM], relayed_per_s, (unsigned long long)lost,
	       (unsigned long long)c[HL_C_BACKPRESSURE_SKIPS]);
	printf("\"rss_kb_before\":%ld,\"rss_kb_after\":%ld,\"rss_per_conn_kb\":%.3f,\"rss_per_conn_kb_first\":%.3f,"
	       "\"server_cpu\":%.3f,\"server_cpu_first\":%.3f,\"client_cpu\":%.3f,\"client_cpu_thread_max\":%.3f,",
	       rss_b, rss_a, rss_all, rss_first, server_cpu, first_cpu, client_cpu, thread_cpu_max);
	printf("\"errors\":{\"total\":%llu,\"connect\":%llu,\"closed\":%llu,\"server\":%llu,\"join_timeout\":%llu,"
	       "\"leave_timeout\":%llu,\"protocol\":%llu,\"bad_deliveries\":%llu},\"first_error\":",
	       (unsigned long long)errors, (unsigned long long)c[HL_C_ERR_CONNECT],
	       (unsigned long long)c[HL_C_ERR_CLOSED], (unsigned long long)c[HL_C_ERR_SERVER],
	       (unsigned long long)c[HL_C_ERR_JOIN_TIMEOUT], (unsigned long long)c[HL_C_ERR_LEAVE_TIMEOUT],
	       (unsigned long long)c[HL_C_ERR_PROTOCOL], (unsigned long long)c[HL_C_BAD_DELIVERIES]);
	json_str(first_error);
	if (hl.soak) {
		printf(",\"soak\":{\"churn\":%.1f,\"churn_joins\":%llu,\"churn_leaves\":%llu,\"interval_s\":%.1f,"
		       "\"rss_tolerance_pct\":%.2f,\"rss_slack_kb\":%d,\"verdict\":%d,\"processes\":[%s],\"intervals\":"
		       "[",
		       hl.churn, (unsigned long long)c[HL_C_CHURN_JOINS], (unsigned long long)c[HL_C_CHURN_LEAVES],
		       hl.interval_s, hl.rss_tolerance_pct, HL_SOAK_SLACK_KB, verdict, vjson);
		for (int k = 0; k < n_intervals; k++) {
			struct hl_interval *iv = &intervals[k];
			printf("%s{\"t_s\":%.1f,\"joins\":%llu,\"leaves\":%llu,\"relayed\":%llu,\"errors\":%llu,"
			       "\"relay_p50_ms\":%.3f,\"relay_p99_ms\":%.3f,\"relay_max_ms\":%.3f,\"client_cpu\":%.3f,"
			       "\"rss_kb\":[",
			       k ? "," : "", iv->t_s, (unsigned long long)iv->d[HL_C_CHURN_JOINS],
			       (unsigned long long)iv->d[HL_C_CHURN_LEAVES], (unsigned long long)iv->d[HL_C_DELIVERIES],
			       (unsigned long long)errors_of(iv->d), iv->relay_p50, iv->relay_p99, iv->relay_max,
			       iv->client_cpu);
			for (int i = 0; i < hl.n_pids; i++)
				printf("%s%ld", i ? "," : "", iv->rss_kb[i]);
			printf("],\"cpu\":[");
			for (int i = 0; i < hl.n_pids; i++)
				printf("%s%.3f", i ? "," : "", iv->cpu[i]);
			printf("]}");
		}
		printf("]}");
	}
	printf("}\n");
	fflush(stdout);
	if (hl.soak)
		return errors == 0 && lost == 0 && verdict == 1 ? 0 : 1;
	return errors == 0 && lost == 0 && joined == hl.clients ? 0 : 1;
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
		   "      --max-pending P           while joining, at most P clients connecting or awaiting their\n"
		   "                                join reply at once (default 0: no limit; a server starved of\n"
		   "                                CPU otherwise overflows its accept queue and resets them)\n"
		   "      --join-timeout S          a client not joined after S seconds fails (default 20)\n"
		   "      --src-addrs K             bind clients round-robin to 127.0.0.2 .. 127.0.0.(K+1) so more\n"
		   "                                than one address's ~28k ephemeral ports are usable (default 4;\n"
		   "                                0: no bind; only used for a 127.x server)\n"
		   "  -p, --pid [NAME=]PID          a server process: RSS and CPU are read from /proc (repeatable, up\n"
		   "                                to 8; RSS is summed, the first is also reported alone)\n"
		   "      --threads T               worker threads, each with its own lws context and event loop;\n"
		   "                                meeting m belongs to thread m %% T (default: the cores this\n"
		   "                                process may run on; at most the number of meetings)\n"
		   "      --soak                    the storm is a soak: churn, a report line every --interval, and\n"
		   "                                at the end a table and a verdict on the processes' RSS (--pid)\n"
		   "      --churn R                 soak: leaves and as many rejoins per second, all clients\n"
		   "                                together (default 100); a leaving client is no signal target for\n"
		   "                                --churn-grace seconds before it leaves (default 2)\n"
		   "      --interval S              soak: seconds per report line (default 60)\n"
		   "      --rss-tolerance PCT       soak verdict: RSS growth allowed from the second interval to the\n"
		   "                                largest of the last two (default 5; never less than 2 MiB)\n"
		   "      --poll                    use lws's poll() loop instead of libev (epoll)\n"
		   "  -l, --label NAME              scenario name in the report\n"
		   "  -q, --quiet                   print only the JSON line\n"
		   "  -h, --help\n"
		   "Latencies: join -> join reply: the JoinReply (Huddle) or join ack (socket.io), roster included;\n"
		   "join -> peers notified: for each participant_joined a member receives, since the joiner sent its\n"
		   "join; relay: from building a signal (its send time rides in the candidate string) to its\n"
		   "signal delivery at the peer. Percentiles come from histograms (1 us bins below 1 ms, then\n"
		   "within 0.2 %%). CPU: the servers' from /proc, huddle-load's own (all threads, and the busiest),\n"
		   "over the storm. Exit status 0 when every client joined and left, nothing was lost\n"
		   "and no error happened (soak: and the RSS verdict passed); 1 otherwise; 2 on bad options or\n"
		   "setup failures.\n"
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

static bool parse_pid(const char *arg)
{
	double v;
	const char *eq = strchr(arg, '=');
	const char *num = eq != NULL ? eq + 1 : arg;
	size_t nlen = eq != NULL ? (size_t)(eq - arg) : 0;
	if (hl.n_pids == HL_PIDS_MAX || !parse_num(num, 1, 1e9, &v))
		return false;
	if (eq != NULL && (nlen == 0 || nlen >= sizeof(hl.pid_names[0])))
		return false;
	if (eq != NULL)
		snprintf(hl.pid_names[hl.n_pids], sizeof(hl.pid_names[0]), "%.*s", (int)nlen, arg);
	else
		snprintf(hl.pid_names[hl.n_pids], sizeof(hl.pid_names[0]), "pid %d", (int)v);
	hl.pids[hl.n_pids++] = (int)v;
	return true;
}

static int default_threads(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

static int parse_options(int argc, char **argv)
{
	enum {
		O_LEAVE = 256,
		O_HOLD,
		O_JTIMEOUT,
		O_SRC,
		O_POLL,
		O_THREADS,
		O_SOAK,
		O_CHURN,
		O_INTERVAL,
		O_GRACE,
		O_TOL,
		O_PENDING
	};
	static const struct option opts[] = {
		{"target", required_argument, NULL, 't'},
		{"url", required_argument, NULL, 'u'},
		{"clients", required_argument, NULL, 'n'},
		{"meetings", required_argument, NULL, 'm'},
		{"join-rate", required_argument, NULL, 'j'},
		{"leave-rate", required_argument, NULL, O_LEAVE},
		{"hold", required_argument, NULL, O_HOLD},
		{"duration", required_argument, NULL, 'd'},
		{"rate", required_argument, NULL, 'r'},
		{"window", required_argument, NULL, 'w'},
		{"join-timeout", required_argument, NULL, O_JTIMEOUT},
		{"src-addrs", required_argument, NULL, O_SRC},
		{"pid", required_argument, NULL, 'p'},
		{"label", required_argument, NULL, 'l'},
		{"poll", no_argument, NULL, O_POLL},
		{"threads", required_argument, NULL, O_THREADS},
		{"soak", no_argument, NULL, O_SOAK},
		{"churn", required_argument, NULL, O_CHURN},
		{"interval", required_argument, NULL, O_INTERVAL},
		{"churn-grace", required_argument, NULL, O_GRACE},
		{"rss-tolerance", required_argument, NULL, O_TOL},
		{"max-pending", required_argument, NULL, O_PENDING},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *url = "http://127.0.0.1:8080";
	double v, leave_rate = -1;
	int o, idx = 0;
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
	hl.threads = 0;
	hl.churn = 100;
	hl.interval_s = 60;
	hl.churn_grace_s = 2;
	hl.rss_tolerance_pct = 5;
	while ((o = getopt_long(argc, argv, "t:u:n:m:j:d:r:w:p:l:qh", opts, &idx)) != -1) {
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
		case O_LEAVE:
			if (!parse_num(optarg, 0, 1e7, &leave_rate))
				goto bad;
			break;
		case O_HOLD:
			if (!parse_num(optarg, 0, 3600, &hl.hold_s))
				goto bad;
			break;
		case 'd':
			if (!parse_num(optarg, 0, 86400, &hl.storm_s))
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
		case O_JTIMEOUT:
			if (!parse_num(optarg, 0.1, 3600, &hl.join_timeout_s))
				goto bad;
			break;
		case O_SRC:
			if (!parse_num(optarg, 0, 250, &v))
				goto bad;
			hl.src_addrs = (int)v;
			break;
		case 'p':
			if (!parse_pid(optarg))
				goto bad;
			break;
		case 'l':
			hl.label = optarg;
			break;
		case O_POLL:
			hl.evlib_ev = false;
			break;
		case O_THREADS:
			if (!parse_num(optarg, 1, HL_THREADS_MAX, &v))
				goto bad;
			hl.threads = (int)v;
			break;
		case O_SOAK:
			hl.soak = true;
			break;
		case O_CHURN:
			if (!parse_num(optarg, 0, 1e6, &hl.churn))
				goto bad;
			break;
		case O_INTERVAL:
			if (!parse_num(optarg, 1, 86400, &hl.interval_s))
				goto bad;
			break;
		case O_GRACE:
			if (!parse_num(optarg, 0, 60, &hl.churn_grace_s))
				goto bad;
			break;
		case O_TOL:
			if (!parse_num(optarg, 0, 1000, &hl.rss_tolerance_pct))
				goto bad;
			break;
		case O_PENDING:
			if (!parse_num(optarg, 0, 1000000, &v))
				goto bad;
			hl.max_pending = (int)v;
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
	if (hl.soak && hl.rate <= 0) {
		fprintf(stderr, "huddle-load: --soak needs a fixed --rate (> 0)\n");
		return -1;
	}
	if (hl.meetings > hl.clients)
		hl.meetings = hl.clients;
	if (hl.threads == 0)
		hl.threads = default_threads();
	if (hl.threads > HL_THREADS_MAX)
		hl.threads = HL_THREADS_MAX;
	if (hl.threads > hl.meetings)
		hl.threads = hl.meetings;
	hl.leave_rate = leave_rate >= 0 ? leave_rate : hl.join_rate;
	if (strncmp(hl.host, "127.", 4) != 0)
		hl.src_addrs = 0;
	return 0;
bad:
	if (o >= 256)
		fprintf(stderr, "huddle-load: bad value '%s' for --%s (see --help)\n", optarg, opts[idx].name);
	else
		fprintf(stderr, "huddle-load: bad value '%s' for -%c (see --help)\n", optarg, o);
	return -1;
}

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void lws_log(int level, const char *line)
{
	(void)level;
	if (!hl.quiet)
		fprintf(stderr, "huddle-load: lws: %s", line);
}

// setup_workers splits the clients over the workers and makes each one's
// lws context (and libev loop). Returns 0, or -1 with a message printed.
static int setup_workers(void)
{
	static struct lws_protocols protocols[2]; // lws keeps the pointer for the contexts' lifetime
	hl.w = calloc((size_t)hl.threads, sizeof(*hl.w));
	if (hl.w == NULL) {
		fprintf(stderr, "huddle-load: out of memory\n");
		return -1;
	}
	protocols[0].name = "huddle-load";
	protocols[0].callback = hl_callback;
	protocols[0].rx_buffer_size = 4096;
	for (int i = 0; i < hl.clients; i++)
		hl.w[(i % hl.meetings) % hl.threads].n++;
	for (int t = 0; t < hl.threads; t++) {
		struct hl_worker *w = &hl.w[t];
		w->id = t;
		w->ci = calloc((size_t)w->n + 1, sizeof(int));
		w->drain_q = calloc((size_t)w->n + 1, sizeof(int));
		w->rejoin_q = calloc((size_t)w->n + 1, sizeof(int));
		if (w->ci == NULL || w->drain_q == NULL || w->rejoin_q == NULL) {
			fprintf(stderr, "huddle-load: out of memory\n");
			return -1;
		}
		double share = (double)w->n / hl.clients;
		w->join_rate = hl.join_rate * share;
		w->leave_rate = hl.leave_rate * share;
		w->rate = hl.rate * share;
		w->churn = hl.churn * share;
		w->max_pending = hl.max_pending > 0 ? (int)ceil(hl.max_pending * share) : 0;
		w->n = 0; // refilled below
	}
	for (int i = 0; i < hl.clients; i++) {
		struct hl_worker *w = &hl.w[(i % hl.meetings) % hl.threads];
		hl.c[i].w = w;
		w->ci[w->n++] = i;
	}
	for (int t = 0; t < hl.threads; t++) {
		struct hl_worker *w = &hl.w[t];
		struct lws_context_creation_info info;
		memset(&info, 0, sizeof(info));
		info.port = CONTEXT_PORT_NO_LISTEN;
		info.protocols = protocols;
		info.count_threads = 1;
		info.fd_limit_per_thread = (unsigned int)(w->n + 256);
		info.timeout_secs = 30;
		// libev (epoll) instead of lws's default poll(), which walks every socket
		// on each wakeup: with thousands of clients that, not the server, would
		// be what is measured. Debian ships it as an lws event-library plugin.
		void *foreign[1];
		if (hl.evlib_ev) {
			if ((w->loop = ev_loop_new(EVBACKEND_EPOLL)) == NULL) {
				fprintf(stderr, "huddle-load: cannot create the libev loop\n");
				return -1;
			}
			foreign[0] = w->loop;
			info.foreign_loops = foreign;
			info.options |= LWS_SERVER_OPTION_LIBEV;
		}
		if ((w->ctx = lws_create_context(&info)) == NULL) {
			fprintf(stderr, "huddle-load: cannot create the lws context of thread %d\n", t);
			return -1;
		}
	}
	return 0;
}

// run_phases is the main thread's loop: it moves the run on when every worker is ready.
static void run_phases(void)
{
	int64_t next_interval_ns = 0;
	enter(HL_PH_JOIN);
	for (;;) {
		struct timespec ts = {0, HL_MAIN_TICK_NS};
		nanosleep(&ts, NULL);
		int p = atomic_load(&hl.phase);
		int64_t now = hl_now_ns();
		double t = secs(now - atomic_load(&hl.phase_start_ns));
		if (interrupted && p < HL_PH_END) {
			if (p == HL_PH_STORM) {
				storm_seconds = t;
				read_pids_cpu(cpu_storm_end);
				client_cpu_storm_end = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
			}
			enter(HL_PH_END);
			continue;
		}
		switch (p) {
		case HL_PH_JOIN:
			if (ALL(join_done)) {
				for (int i = 0; i < hl.n_pids; i++)
					rss_after[i] = hl_rss_kb(hl.pids[i]); // refreshed at the end of the hold
				enter(HL_PH_HOLD);
			}
			break;
		case HL_PH_HOLD:
			if (t >= hl.hold_s) {
				for (int i = 0; i < hl.n_pids; i++)
					rss_after[i] = hl_rss_kb(hl.pids[i]);
				read_pids_cpu(cpu_storm_start);
				client_cpu_storm_start = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
				if (hl.soak)
					soak_begin();
				enter(HL_PH_STORM);
				next_interval_ns = atomic_load(&hl.phase_start_ns) + (int64_t)(hl.interval_s * 1e9);
			}
			break;
		case HL_PH_STORM:
			if (hl.soak && now >= next_interval_ns) {
				soak_interval(secs(now - atomic_load(&hl.phase_start_ns)), hl.interval_s);
				next_interval_ns += (int64_t)(hl.interval_s * 1e9);
			}
			if (t >= hl.storm_s) {
				storm_seconds = t;
				read_pids_cpu(cpu_storm_end);
				client_cpu_storm_end = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
				enter(HL_PH_DRAIN);
			}
			break;
		case HL_PH_DRAIN:
			if (ALL(drained) || t >= HL_DRAIN_S + (hl.soak ? hl.join_timeout_s : 0))
				enter(HL_PH_LEAVE);
			break;
		case HL_PH_LEAVE:
			if (ALL(leave_done))
				enter(HL_PH_END);
			break;
		case HL_PH_END:
			if (ALL(finished))
				return;
			break;
		}
	}
}

int main(int argc, char **argv)
{
	int status = 2;
	bool started = false;

	if (parse_options(argc, argv) != 0)
		return 2;
	long nofile = hl_raise_nofile();
	if (nofile > 0 && nofile < hl.clients + 64)
		fprintf(stderr,
			"huddle-load: warning: RLIMIT_NOFILE is %ld, too low for %d clients (raise the hard limit)\n",
			nofile, hl.clients);
	hl.c = calloc((size_t)hl.clients, sizeof(*hl.c));
	hl.meeting_ids = calloc((size_t)hl.meetings, sizeof(*hl.meeting_ids));
	hl.src = calloc((size_t)(hl.src_addrs > 0 ? hl.src_addrs : 1), sizeof(*hl.src));
	intervals = hl.soak ? calloc(HL_INTERVALS_MAX, sizeof(*intervals)) : NULL;
	if (hl.c == NULL || hl.meeting_ids == NULL || hl.src == NULL || (hl.soak && intervals == NULL)) {
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
	if (setup_workers() != 0)
		goto out;
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
	// The workers do not take SIGINT/SIGTERM: this thread does, and stops the run.
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int t_started = 0;
	for (; t_started < hl.threads; t_started++)
		if (pthread_create(&hl.w[t_started].thread, NULL, worker_main, &hl.w[t_started]) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (t_started < hl.threads) {
		fprintf(stderr, "huddle-load: cannot start thread %d\n", t_started);
		interrupted = 1;
		for (int t = t_started; t < hl.threads; t++)
			atomic_store(&hl.w[t].finished, true);
	}
	started = true;
	run_phases();
	for (int t = 0; t < t_started; t++)
		pthread_join(hl.w[t].thread, NULL);
	status = t_started < hl.threads ? 2 : report();

out:
	if (hl.w != NULL) {
		for (int t = 0; t < hl.threads; t++) {
			struct hl_worker *w = &hl.w[t];
			if (!started && w->ctx != NULL)
				lws_context_destroy(w->ctx);
			if (w->loop != NULL)
				ev_loop_destroy(w->loop);
			free(w->ci);
			free(w->drain_q);
			free(w->rejoin_q);
		}
	}
	if (hl.c != NULL)
		for (int i = 0; i < hl.clients; i++)
			hl_client_free(&hl.c[i]);
	free(hl.w);
	free(hl.c);
	free(hl.meeting_ids);
	free(hl.src);
	free(intervals);
	return status;
}
