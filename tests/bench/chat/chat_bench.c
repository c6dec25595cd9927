// chat_bench.c: chat-bench, huddle-chat's benchmark: durable posts per
// second with 1 and 32 concurrent posters, and the latency of 50-message
// history pages in a meeting holding 100,000 messages. It starts the real
// daemon on a fresh SQLite file for each measurement and talks to it over
// NNG REQ/REP, as the gateway does.
#define _GNU_SOURCE
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/util.h"
#include "huddle/v1/chat.pb-c.h"

#ifndef HUDDLE_CHAT_BIN
#define HUDDLE_CHAT_BIN "huddle-chat"
#endif

#define CALL_MS 10000

static const char *usage = "usage: chat-bench [options]\n"
			   "\n"
			   "Benchmarks huddle-chat on SQLite: durable posts/s with 1 and 32 concurrent\n"
			   "posters (each a thread with its own REQ socket making blocking Post calls,\n"
			   "one meeting, ~100-byte texts), and history-page latency (p50/p99 of\n"
			   "History(before_seq = random, limit 50) in a meeting of 100,000 messages,\n"
			   "one client, calls in sequence). Every run starts bin/huddle-chat on a fresh\n"
			   "SQLite file (synchronous=FULL: each acknowledged post is fsynced) in a\n"
			   "temporary folder, over ipc://. The 100,000 messages are seeded with\n"
			   "hd_chat_append (batches of 256) into that file before the daemon starts.\n"
			   "\n"
			   "Numbers worth quoting come from a Release build without sanitizers:\n"
			   "  cmake -S . -B /tmp/build-rel -DCMAKE_BUILD_TYPE=Release -DHUDDLE_SANITIZE=OFF\n"
			   "  cmake --build /tmp/build-rel --target chat-bench huddle-chat\n"
			   "  /tmp/build-rel/bin/chat-bench\n"
			   "and a folder on the disk you deploy on (not tmpfs, where fsync is free).\n"
			   "\n"
			   "options:\n"
			   "  --bin PATH        huddle-chat to run (default: $HUDDLE_CHAT_BIN, else the one\n"
			   "                    built beside this program)\n"
			   "  --dir DIR         where the temporary folder goes (default: $TMPDIR or /var/tmp)\n"
			   "  --seconds S       length of each posting run (default 3)\n"
			   "  --posters N       concurrent posters of the second run (default 32)\n"
			   "  --workers N       CHAT_WORKERS of the daemon (default 32, the daemon's default);\n"
			   "                    the many-poster run is repeated with CHAT_WORKERS=posters\n"
			   "  --messages N      messages in the history meeting (default 100000)\n"
			   "  --pages N         history pages to time (default 2000, after 100 warm-up)\n"
			   "  --keep            keep the temporary folder (logs, database)\n"
			   "\n"
			   "Prints a table, then one JSON line (the last line of output).\n";

struct opts {
	const char *bin;
	const char *dir;
	double seconds;
	int posters;
	int workers;
	int messages;
	int pages;
	bool keep;
};

static struct opts O = {NULL, NULL, 3.0, 32, 32, 100000, 2000, false};
static char work[512];

// call makes one blocking ChatRequest; returns the reply (caller frees) or NULL.
static Huddle__V1__ChatReply *call(struct hd_rpc_client *c, Huddle__V1__ChatRequest *req, int timeout_ms)
{
	nng_msg *msg, *rep;
	if (hd_msg_pack(&req->base, &msg) != HD_OK || hd_rpc_call(c, msg, timeout_ms, &rep) != HD_OK)
		return NULL;
	Huddle__V1__ChatReply *r = huddle__v1__chat_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
	nng_msg_free(rep);
	return r;
}

static bool reply_ok(const Huddle__V1__ChatReply *r)
{
	return r != NULL && (r->error == NULL || r->error->code == 0);
}

// healthy makes one Health call (bench_target.healthy).
static bool healthy(struct hd_rpc_client *c, int timeout_ms)
{
	Huddle__V1__ChatRequest req = HUDDLE__V1__CHAT_REQUEST__INIT;
	Huddle__V1__ChatHealthRequest h = HUDDLE__V1__CHAT_HEALTH_REQUEST__INIT;
	req.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_HEALTH;
	req.health = &h;
	Huddle__V1__ChatReply *r = call(c, &req, timeout_ms);
	bool up = reply_ok(r);
	huddle__v1__chat_reply__free_unpacked(r, NULL);
	return up;
}

static struct bench_target T = {
	.prog = "chat-bench", .daemon = "huddle-chat", .env = "CHAT", .work = work, .healthy = healthy};

// daemon_stop stops d (bench_daemon_stop); returns the batches the daemon
// reported in its shutdown stats line (0 when it printed none), and the
// posts in *posts_out when not NULL.
static unsigned long long daemon_stop(struct bench_daemon *d, unsigned long long *posts_out)
{
	bench_daemon_stop(&T, d);
	unsigned long long posts = 0, batches = 0;
	char line[1024];
	FILE *f = fopen(d->log, "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		// "stats: <posts> posts in <batches> batches ..."
		const char *s = strstr(line, "stats: ");
		char *end;
		if (s == NULL)
			continue;
		posts = strtoull(s + 7, &end, 10);
		if (strncmp(end, " posts in ", 10) == 0)
			batches = strtoull(end + 10, NULL, 10);
	}
	if (f != NULL)
		fclose(f);
	if (posts_out != NULL)
		*posts_out = posts;
	return batches;
}

// ---- posting ----

struct poster {
	pthread_t thread;
	int index;
	const char *url;
	const char *meeting;
	double deadline;
	unsigned long ok, errors;
	double *lat; // ms per acknowledged post
	size_t nlat, cap;
};

static void *poster_main(void *p)
{
	struct poster *po = p;
	struct hd_rpc_client *c = bench_client_open(&T, po->url);
	char text[128];
	memset(text, 'x', 100);
	text[100] = '\0';
	for (unsigned long i = 0; bench_now_s() < po->deadline; i++) {
		char id[64];
		Huddle__V1__ChatRequest req = HUDDLE__V1__CHAT_REQUEST__INIT;
		Huddle__V1__ChatServicePostRequest body = HUDDLE__V1__CHAT_SERVICE_POST_REQUEST__INIT;
		snprintf(id, sizeof(id), "bench-%d-%lu", po->index, i);
		memcpy(text, id, strlen(id)); // distinct texts, same length
		body.meeting_id = (char *)po->meeting;
		body.client_message_id = id;
		body.sender_name = "Bench";
		body.text = text;
		req.request_id = i + 1;
		req.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_POST;
		req.post = &body;
		double t0 = bench_now_s();
		Huddle__V1__ChatReply *r = call(c, &req, CALL_MS);
		double ms = (bench_now_s() - t0) * 1000;
		if (reply_ok(r) && r->body_case == HUDDLE__V1__CHAT_REPLY__BODY_POST) {
			po->ok++;
			if (po->nlat == po->cap) {
				size_t cap = po->cap ? po->cap * 2 : 4096;
				double *l = realloc(po->lat, cap * sizeof(*l));
				if (l != NULL) {
					po->lat = l;
					po->cap = cap;
				}
			}
			if (po->nlat < po->cap)
				po->lat[po->nlat++] = ms;
		} else {
			po->errors++;
		}
		huddle__v1__chat_reply__free_unpacked(r, NULL);
	}
	hd_rpc_client_close(c);
	return NULL;
}

struct post_result {
	int posters, workers;
	unsigned long ok, errors;
	double seconds, rate, p50, p99;
	unsigned long long batches, daemon_posts; // as the daemon counted them
};

static struct post_result run_posts(int posters, int workers)
{
	struct bench_daemon d;
	char name[64], meeting[HD_ID_LEN + 1];
	struct post_result res = {.posters = posters, .workers = workers};
	snprintf(name, sizeof(name), "posts-%d-w%d", posters, workers);
	snprintf(d.uri, sizeof(d.uri), "sqlite://%s/%s.db", work, name);
	bench_daemon_start(&T, &d, name, workers);
	hd_id_random(meeting);
	struct poster *ps = calloc((size_t)posters, sizeof(*ps));
	if (ps == NULL)
		exit(1);
	double t0 = bench_now_s();
	for (int i = 0; i < posters; i++) {
		ps[i] = (struct poster){.index = i, .url = d.url, .meeting = meeting, .deadline = t0 + O.seconds};
		if (pthread_create(&ps[i].thread, NULL, poster_main, &ps[i]) != 0) {
			fprintf(stderr, "chat-bench: cannot start poster threads\n");
			exit(1);
		}
	}
	size_t n = 0;
	for (int i = 0; i < posters; i++) {
		pthread_join(ps[i].thread, NULL);
		res.ok += ps[i].ok;
		res.errors += ps[i].errors;
		n += ps[i].nlat;
	}
	res.seconds = bench_now_s() - t0;
	double *all = malloc((n > 0 ? n : 1) * sizeof(*all));
	size_t k = 0;
	for (int i = 0; all != NULL && i < posters; i++) {
		memcpy(all + k, ps[i].lat, ps[i].nlat * sizeof(*all));
		k += ps[i].nlat;
	}
	for (int i = 0; i < posters; i++)
		free(ps[i].lat);
	free(ps);
	if (all != NULL) {
		bench_sort(all, k);
		res.p50 = bench_pct(all, k, 0.50);
		res.p99 = bench_pct(all, k, 0.99);
		free(all);
	}
	res.rate = (double)res.ok / res.seconds;
	res.batches = daemon_stop(&d, &res.daemon_posts);
	fprintf(stderr, "posts: %d posters, CHAT_WORKERS=%d: %lu acknowledged in %.2f s = %.0f/s (%lu errors)\n",
		posters, workers, res.ok, res.seconds, res.rate, res.errors);
	return res;
}

// ---- history ----

struct history_result {
	int messages, pages;
	double seed_s, p50, p99, mean, max;
	unsigned long errors;
};

static void seed(const char *uri, const char *meeting, int total)
{
	struct hd_store *s;
	enum { BATCH = 256 };
	struct hd_chat_message *msgs = calloc(BATCH, sizeof(*msgs));
	bool dup[BATCH];
	if (msgs == NULL || hd_store_open(&s, uri) != HD_OK) {
		fprintf(stderr, "chat-bench: cannot open %s to seed it\n", uri);
		exit(1);
	}
	for (int done = 0; done < total;) {
		int k = total - done < BATCH ? total - done : BATCH;
		for (int i = 0; i < k; i++) {
			struct hd_chat_message *m = &msgs[i];
			memset(m, 0, sizeof(*m));
			memcpy(m->meeting_id, meeting, HD_ID_LEN + 1);
			snprintf(m->client_message_id, sizeof(m->client_message_id), "seed-%d", done + i);
			snprintf(m->sender_name, sizeof(m->sender_name), "Seeder %d", (done + i) % 7);
			snprintf(m->text, sizeof(m->text),
				 "seeded message %d: the quick brown fox jumps over the lazy dog, twice over",
				 done + i);
			m->sent_at_ms = hd_now_ms();
		}
		if (hd_chat_append(s, msgs, (size_t)k, dup) != HD_OK) {
			fprintf(stderr, "chat-bench: seeding failed at message %d\n", done);
			exit(1);
		}
		done += k;
	}
	hd_store_close(s);
	free(msgs);
}

static struct history_result run_history(void)
{
	struct bench_daemon d;
	char meeting[HD_ID_LEN + 1];
	struct history_result res = {.messages = O.messages, .pages = O.pages};
	snprintf(d.uri, sizeof(d.uri), "sqlite://%s/history.db", work);
	hd_id_random(meeting);
	double t0 = bench_now_s();
	seed(d.uri, meeting, O.messages);
	res.seed_s = bench_now_s() - t0;
	fprintf(stderr, "history: seeded %d messages in %.2f s\n", O.messages, res.seed_s);
	bench_daemon_start(&T, &d, "history", O.workers);

	struct hd_rpc_client *c = bench_client_open(&T, d.url);
	double *lat = calloc((size_t)O.pages, sizeof(*lat));
	unsigned seed_r = 12345;
	int warm = 100;
	if (lat == NULL)
		exit(1);
	for (int i = -warm; i < O.pages; i++) {
		Huddle__V1__ChatRequest req = HUDDLE__V1__CHAT_REQUEST__INIT;
		Huddle__V1__ChatServiceHistoryRequest h = HUDDLE__V1__CHAT_SERVICE_HISTORY_REQUEST__INIT;
		// before_seq in 51..messages+1: every page holds 50 messages.
		int span = O.messages > 50 ? O.messages - 50 + 1 : 1;
		h.meeting_id = meeting;
		h.before_seq = 51 + (int64_t)(rand_r(&seed_r) % span);
		h.limit = 50;
		req.request_id = (uint64_t)i + (uint64_t)warm + 1;
		req.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_HISTORY;
		req.history = &h;
		double t = bench_now_s();
		Huddle__V1__ChatReply *r = call(c, &req, CALL_MS);
		double ms = (bench_now_s() - t) * 1000;
		bool full = reply_ok(r) && r->body_case == HUDDLE__V1__CHAT_REPLY__BODY_HISTORY &&
			    r->history->n_messages == (size_t)(O.messages < 50 ? O.messages : 50) &&
			    r->history->last_seq == O.messages;
		if (!full)
			res.errors++;
		huddle__v1__chat_reply__free_unpacked(r, NULL);
		if (i >= 0)
			lat[i] = ms;
	}
	hd_rpc_client_close(c);
	daemon_stop(&d, NULL);
	double sum = 0;
	for (int i = 0; i < O.pages; i++)
		sum += lat[i];
	bench_sort(lat, (size_t)O.pages);
	res.p50 = bench_pct(lat, (size_t)O.pages, 0.50);
	res.p99 = bench_pct(lat, (size_t)O.pages, 0.99);
	res.max = O.pages > 0 ? lat[O.pages - 1] : 0;
	res.mean = O.pages > 0 ? sum / O.pages : 0;
	free(lat);
	fprintf(stderr, "history: %d pages of 50: p50 %.3f ms, p99 %.3f ms (%lu bad replies)\n", O.pages, res.p50,
		res.p99, res.errors);
	return res;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"bin", required_argument, NULL, 'b'},     {"dir", required_argument, NULL, 'd'},
		{"seconds", required_argument, NULL, 's'}, {"posters", required_argument, NULL, 'p'},
		{"workers", required_argument, NULL, 'w'}, {"messages", required_argument, NULL, 'm'},
		{"pages", required_argument, NULL, 'n'},   {"keep", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	int c;
	bool ok = true;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			O.bin = optarg;
			break;
		case 'd':
			O.dir = optarg;
			break;
		case 's':
			ok = ok && bench_number(optarg, &O.seconds);
			break;
		case 'p':
			ok = ok && bench_integer(optarg, &O.posters);
			break;
		case 'w':
			ok = ok && bench_integer(optarg, &O.workers);
			break;
		case 'm':
			ok = ok && bench_integer(optarg, &O.messages);
			break;
		case 'n':
			ok = ok && bench_integer(optarg, &O.pages);
			break;
		case 'k':
			O.keep = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!ok || optind < argc || O.seconds <= 0 || O.posters < 1 || O.posters > 256 || O.workers < 1 ||
	    O.workers > 256 || O.messages < 1 || O.pages < 1) {
		fputs(usage, stderr);
		return 2;
	}
	if (O.bin == NULL)
		O.bin = bench_default_bin(&T, "HUDDLE_CHAT_BIN", HUDDLE_CHAT_BIN);
	T.bin = O.bin;
	if (access(O.bin, X_OK) != 0) {
		fprintf(stderr, "chat-bench: %s is not an executable huddle-chat (use --bin or HUDDLE_CHAT_BIN)\n",
			O.bin);
		return 2;
	}
	if (O.dir == NULL) {
		const char *tmp = getenv("TMPDIR");
		O.dir = tmp != NULL && *tmp != '\0' ? tmp : "/var/tmp";
	}
	bool tmpfs;
	if (!bench_work_open(&T, O.dir, work, sizeof(work), "post", &tmpfs))
		return 1;
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "chat-bench: %s, folder %s, %.1f s per posting run\n", O.bin, work, O.seconds);

	struct post_result one = run_posts(1, O.workers);
	struct post_result many = run_posts(O.posters, O.workers);
	struct post_result many_w = many;
	bool again = O.posters != O.workers;
	if (again)
		many_w = run_posts(O.posters, O.posters);
	struct history_result h = run_history();

	printf("\nhuddle-chat benchmark (SQLite, synchronous=FULL, %s)\n", tmpfs ? "tmpfs!" : "disk");
	printf("%-34s %12s %10s %10s %14s\n", "durable posts", "posts/s", "p50 ms", "p99 ms", "posts/batch");
	const struct post_result *rows[] = {&one, &many, again ? &many_w : NULL};
	for (size_t i = 0; i < 3; i++) {
		const struct post_result *r = rows[i];
		char label[64];
		if (r == NULL)
			continue;
		snprintf(label, sizeof(label), "%d poster%s, CHAT_WORKERS=%d", r->posters, r->posters > 1 ? "s" : "",
			 r->workers);
		printf("%-34s %12.0f %10.2f %10.2f %14.1f\n", label, r->rate, r->p50, r->p99,
		       r->batches > 0 ? (double)r->daemon_posts / (double)r->batches : 0.0);
	}
	printf("\n%-34s %10s %10s %10s %10s\n", "history page (limit 50)", "p50 ms", "p99 ms", "mean ms", "max ms");
	char label[64];
	snprintf(label, sizeof(label), "%d pages, %d messages", h.pages, h.messages);
	printf("%-34s %10.3f %10.3f %10.3f %10.3f\n", label, h.p50, h.p99, h.mean, h.max);
	printf("\n");
	printf("{\"bench\":\"chat\",\"store\":\"sqlite\",\"tmpfs\":%s,\"seconds\":%.1f,"
	       "\"posts_per_s_1\":%.1f,\"posts_per_s_%d\":%.1f,\"posts_per_s_%d_workers_%d\":%.1f,"
	       "\"post_p50_ms_1\":%.3f,\"post_p99_ms_1\":%.3f,\"post_p50_ms_%d\":%.3f,\"post_p99_ms_%d\":%.3f,"
	       "\"post_errors\":%lu,\"workers\":%d,"
	       "\"history_messages\":%d,\"history_page\":50,\"history_pages\":%d,\"history_p50_ms\":%.3f,"
	       "\"history_p99_ms\":%.3f,\"history_errors\":%lu,\"seed_s\":%.2f}\n",
	       tmpfs ? "true" : "false", O.seconds, one.rate, O.posters, many.rate, O.posters, many_w.workers,
	       many_w.rate, one.p50, one.p99, O.posters, many.p50, O.posters, many.p99,
	       one.errors + many.errors + (again ? many_w.errors : 0), O.workers, h.messages, h.pages, h.p50, h.p99,
	       h.errors, h.seed_s);

	bench_work_close(&T, O.keep);
	bool failed = one.errors + many.errors + (again ? many_w.errors : 0) + h.errors > 0;
	return failed ? 1 : 0;
}
