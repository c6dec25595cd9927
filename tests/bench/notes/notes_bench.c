// notes_bench.c: notes-bench, huddle-notes' benchmark: durable updates per
// second with 1 and 32 concurrent editors, and the time to open a document
// of 10,000 updates before and after a snapshot covers them. It starts the
// real daemon on a fresh SQLite file for each measurement and talks to it
// over NNG REQ/REP, as the gateway does.
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
#include "huddle/v1/notes.pb-c.h"

#ifndef HUDDLE_NOTES_BIN
#define HUDDLE_NOTES_BIN "huddle-notes"
#endif

#define CALL_MS 10000
#define OPEN_CALL_MS 30000
// An update's data is UPDATE_MIN..UPDATE_MAX random bytes, uniformly: the
// size of the Yjs updates a typing editor sends (one or a few characters
// with their ids and deletions).
#define UPDATE_MIN 20
#define UPDATE_MAX 200
#define OPEN_WARMUP 3

static const char *usage = "usage: notes-bench [options]\n"
			   "\n"
			   "Benchmarks huddle-notes on SQLite:\n"
			   " - durable updates/s with 1 and 32 concurrent editors of one document (each\n"
			   "   a thread with its own REQ socket making blocking NotesServiceAppendRequest\n"
			   "   calls of 20-200 random bytes), with p50/p99 latency and the appends per\n"
			   "   transaction the daemon reports when it stops;\n"
			   " - open time of a document of 10,000 such updates (NotesServiceOpenRequest\n"
			   "   with after_seq 0, then after the last seq received while `more`; p50/p99\n"
			   "   over --opens opens by one client, after 3 warm-up opens), before and after\n"
			   "   a NotesServiceSnapshotRequest covering all of them (state: random bytes as\n"
			   "   many as the updates hold; text: half that in ASCII).\n"
			   "Every run starts bin/huddle-notes on a fresh SQLite file (synchronous=FULL:\n"
			   "each acknowledged append is fsynced) in a temporary folder, over ipc://. The\n"
			   "10,000 updates are seeded with hd_doc_append (batches of 256) into that file\n"
			   "before the daemon starts.\n"
			   "\n"
			   "options:\n"
			   "  --bin PATH        huddle-notes to run (default: $HUDDLE_NOTES_BIN, else the one\n"
			   "                    built beside this program)\n"
			   "  --dir DIR         where the temporary folder goes (default: $TMPDIR or /var/tmp)\n"
			   "  --seconds S       length of each appending run (default 3)\n"
			   "  --editors N       concurrent editors of the second run (default 32)\n"
			   "  --workers N       NOTES_WORKERS of the daemon (default 32, the daemon's default);\n"
			   "                    the many-editor run is repeated with NOTES_WORKERS=editors\n"
			   "  --updates N       updates in the document that is opened (default 10000)\n"
			   "  --opens N         opens to time before and after the snapshot (default 100)\n"
			   "  --keep            keep the temporary folder (logs, databases)\n"
			   "\n"
			   "Prints a table, then one JSON line (the last line of output).\n";

struct opts {
	const char *bin;
	const char *dir;
	double seconds;
	int editors;
	int workers;
	int updates;
	int opens;
	bool keep;
};

static struct opts O = {NULL, NULL, 3.0, 32, 32, 10000, 100, false};
static char work[512];

// random_bytes fills buf with len bytes from the xorshift state *x.
static void random_bytes(uint64_t *x, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		*x ^= *x << 13;
		*x ^= *x >> 7;
		*x ^= *x << 17;
		buf[i] = (uint8_t)(*x >> 24);
	}
}

// update_len is a random update size in UPDATE_MIN..UPDATE_MAX.
static size_t update_len(unsigned *seed)
{
	return UPDATE_MIN + (size_t)(rand_r(seed) % (UPDATE_MAX - UPDATE_MIN + 1));
}

// ---- the daemon ----

// daemon_stats is what huddle-notes' shutdown stats line says.
struct daemon_stats {
	unsigned long long appends, batches, largest;
};

// call makes one blocking NotesRequest; returns the reply (caller frees) or
// NULL; *bytes (when not NULL) gets the reply's size.
static Huddle__V1__NotesReply *call(struct hd_rpc_client *c, Huddle__V1__NotesRequest *req, int timeout_ms,
				    size_t *bytes)
{
	nng_msg *msg, *rep;
	if (hd_msg_pack(&req->base, &msg) != HD_OK || hd_rpc_call(c, msg, timeout_ms, &rep) != HD_OK)
		return NULL;
	if (bytes != NULL)
		*bytes = nng_msg_len(rep);
	Huddle__V1__NotesReply *r = huddle__v1__notes_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
	nng_msg_free(rep);
	return r;
}

static bool reply_ok(const Huddle__V1__NotesReply *r, Huddle__V1__NotesReply__BodyCase body)
{
	return r != NULL && (r->error == NULL || r->error->code == 0) && r->body_case == body;
}

// reply_why names what went wrong with a reply, for a message.
static const char *reply_why(const Huddle__V1__NotesReply *r)
{
	if (r == NULL)
		return "no reply";
	if (r->error != NULL && r->error->code != 0)
		return r->error->message[0] != '\0' ? r->error->message : "error reply";
	return "unexpected reply body";
}

// healthy makes one Health call (bench_target.healthy).
static bool healthy(struct hd_rpc_client *c, int timeout_ms)
{
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesHealthRequest h = HUDDLE__V1__NOTES_HEALTH_REQUEST__INIT;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_HEALTH;
	req.health = &h;
	Huddle__V1__NotesReply *r = call(c, &req, timeout_ms, NULL);
	bool up = reply_ok(r, HUDDLE__V1__NOTES_REPLY__BODY_HEALTH);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	return up;
}

static struct bench_target T = {
	.prog = "notes-bench", .daemon = "huddle-notes", .env = "NOTES", .work = work, .healthy = healthy};

// daemon_stop stops d (bench_daemon_stop) and returns what the daemon's
// shutdown stats line says (zeros when it printed none).
static struct daemon_stats daemon_stop(struct bench_daemon *d)
{
	struct daemon_stats st = {0};
	bench_daemon_stop(&T, d);
	char line[1024];
	FILE *f = fopen(d->log, "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		// "stats: <appends> appends in <batches> batches (largest <n>): ..."
		const char *s = strstr(line, "stats: ");
		char *end;
		struct daemon_stats got;
		if (s == NULL)
			continue;
		got.appends = strtoull(s + 7, &end, 10);
		if (strncmp(end, " appends in ", 12) != 0)
			continue;
		got.batches = strtoull(end + 12, &end, 10);
		if (strncmp(end, " batches (largest ", 18) != 0)
			continue;
		got.largest = strtoull(end + 18, NULL, 10);
		st = got;
	}
	if (f != NULL)
		fclose(f);
	return st;
}

// ---- appending ----

// editor is one appending thread: its own REQ socket, one document.
struct editor {
	pthread_t thread;
	int index;
	const char *url;
	const char *meeting;
	double deadline;
	unsigned long ok, errors;
	double *lat; // ms per acknowledged append
	size_t nlat, cap;
};

static void *editor_main(void *p)
{
	struct editor *e = p;
	struct hd_rpc_client *c = bench_client_open(&T, e->url);
	char author_id[HD_ID_LEN + 1], author_name[32];
	uint8_t data[UPDATE_MAX];
	uint64_t x = 0x9e3779b97f4a7c15ULL * (uint64_t)(e->index + 1);
	unsigned seed = (unsigned)e->index + 1;
	hd_id_random(author_id);
	snprintf(author_name, sizeof(author_name), "Editor %d", e->index);
	for (unsigned long i = 0; bench_now_s() < e->deadline; i++) {
		char id[64];
		Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
		Huddle__V1__NotesServiceAppendRequest body = HUDDLE__V1__NOTES_SERVICE_APPEND_REQUEST__INIT;
		Huddle__V1__NotesUpdate u = HUDDLE__V1__NOTES_UPDATE__INIT;
		size_t len = update_len(&seed);
		random_bytes(&x, data, len);
		snprintf(id, sizeof(id), "bench-%d-%lu", e->index, i);
		u.meeting_id = (char *)e->meeting;
		u.document = HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_NOTES;
		u.client_update_id = id;
		u.data.data = data;
		u.data.len = len;
		u.author_id = author_id;
		u.author_name = author_name;
		body.update = &u;
		req.request_id = i + 1;
		req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_APPEND;
		req.append = &body;
		double t0 = bench_now_s();
		Huddle__V1__NotesReply *r = call(c, &req, CALL_MS, NULL);
		double ms = (bench_now_s() - t0) * 1000;
		if (reply_ok(r, HUDDLE__V1__NOTES_REPLY__BODY_APPEND) && !r->append->duplicate) {
			e->ok++;
			if (e->nlat == e->cap) {
				size_t cap = e->cap ? e->cap * 2 : 4096;
				double *l = realloc(e->lat, cap * sizeof(*l));
				if (l != NULL) {
					e->lat = l;
					e->cap = cap;
				}
			}
			if (e->nlat < e->cap)
				e->lat[e->nlat++] = ms;
		} else {
			if (e->errors++ == 0)
				fprintf(stderr, "notes-bench: editor %d: append failed: %s\n", e->index, reply_why(r));
		}
		huddle__v1__notes_reply__free_unpacked(r, NULL);
	}
	hd_rpc_client_close(c);
	return NULL;
}

struct append_result {
	int editors, workers;
	unsigned long ok, errors;
	double seconds, rate, p50, p99;
	struct daemon_stats daemon;
};

static struct append_result run_appends(int editors, int workers)
{
	struct bench_daemon d;
	char name[64], meeting[HD_ID_LEN + 1];
	struct append_result res = {.editors = editors, .workers = workers};
	snprintf(name, sizeof(name), "appends-%d-w%d", editors, workers);
	snprintf(d.uri, sizeof(d.uri), "sqlite://%s/%s.db", work, name);
	bench_daemon_start(&T, &d, name, workers);
	hd_id_random(meeting);
	struct editor *es = calloc((size_t)editors, sizeof(*es));
	if (es == NULL)
		exit(1);
	double t0 = bench_now_s();
	for (int i = 0; i < editors; i++) {
		es[i] = (struct editor){.index = i, .url = d.url, .meeting = meeting, .deadline = t0 + O.seconds};
		if (pthread_create(&es[i].thread, NULL, editor_main, &es[i]) != 0) {
			fprintf(stderr, "notes-bench: cannot start editor threads\n");
			exit(1);
		}
	}
	size_t n = 0;
	for (int i = 0; i < editors; i++) {
		pthread_join(es[i].thread, NULL);
		res.ok += es[i].ok;
		res.errors += es[i].errors;
		n += es[i].nlat;
	}
	res.seconds = bench_now_s() - t0;
	double *all = malloc((n > 0 ? n : 1) * sizeof(*all));
	size_t k = 0;
	for (int i = 0; all != NULL && i < editors; i++) {
		memcpy(all + k, es[i].lat, es[i].nlat * sizeof(*all));
		k += es[i].nlat;
	}
	for (int i = 0; i < editors; i++)
		free(es[i].lat);
	free(es);
	if (all != NULL) {
		bench_sort(all, k);
		res.p50 = bench_pct(all, k, 0.50);
		res.p99 = bench_pct(all, k, 0.99);
		free(all);
	}
	res.rate = (double)res.ok / res.seconds;
	res.daemon = daemon_stop(&d);
	fprintf(stderr, "appends: %d editor%s, NOTES_WORKERS=%d: %lu acknowledged in %.2f s = %.0f/s (%lu errors)\n",
		editors, editors > 1 ? "s" : "", workers, res.ok, res.seconds, res.rate, res.errors);
	return res;
}

// ---- opening ----

// open_stats is one way of opening the document timed --opens times.
struct open_stats {
	double p50, p99, mean;
	int pages;    // calls per open
	size_t bytes; // reply bytes per open
	unsigned long errors;
};

struct open_result {
	int updates, opens;
	size_t data_bytes; // the updates' data, summed
	size_t state_len, text_len;
	double seed_s, snapshot_ms;
	struct open_stats before, after;
	unsigned long errors;
};

// seed stores total updates of UPDATE_MIN..UPDATE_MAX random bytes in
// (meeting, "notes") with hd_doc_append; returns their bytes.
static size_t seed(const char *uri, const char *meeting, int total)
{
	struct hd_store *s;
	enum { BATCH = 256 };
	struct hd_doc_update *u = calloc(BATCH, sizeof(*u));
	uint8_t *data = malloc((size_t)BATCH * UPDATE_MAX);
	bool dup[BATCH];
	uint64_t x = 0x2545f4914f6cdd1dULL;
	unsigned rs = 4242;
	size_t bytes = 0;
	char author_id[HD_ID_LEN + 1];
	if (u == NULL || data == NULL || hd_store_open(&s, uri) != HD_OK) {
		fprintf(stderr, "notes-bench: cannot open %s to seed it\n", uri);
		exit(1);
	}
	hd_id_random(author_id);
	for (int done = 0; done < total;) {
		int k = total - done < BATCH ? total - done : BATCH;
		for (int i = 0; i < k; i++) {
			struct hd_doc_update *v = &u[i];
			memset(v, 0, sizeof(*v));
			memcpy(v->meeting_id, meeting, HD_ID_LEN + 1);
			snprintf(v->document, sizeof(v->document), "notes");
			snprintf(v->client_update_id, sizeof(v->client_update_id), "seed-%d", done + i);
			memcpy(v->author_id, author_id, HD_ID_LEN + 1);
			snprintf(v->author_name, sizeof(v->author_name), "Seeder %d", (done + i) % 7);
			v->stored_at_ms = hd_now_ms();
			v->data = data + (size_t)i * UPDATE_MAX;
			v->len = update_len(&rs);
			random_bytes(&x, v->data, v->len);
			bytes += v->len;
		}
		if (hd_doc_append(s, u, (size_t)k, dup) != HD_OK) {
			fprintf(stderr, "notes-bench: seeding failed at update %d\n", done);
			exit(1);
		}
		done += k;
	}
	hd_store_close(s);
	free(data);
	free(u);
	return bytes;
}

// open_once opens (meeting, notes) as an editor joining does: after_seq 0,
// then after the last seq received while the reply says `more`. It checks
// that the snapshot (when want_state > 0) and the updates add up to the
// document, and sets st's pages and bytes. Returns false on an error or a
// wrong document.
static bool open_once(struct hd_rpc_client *c, const char *meeting, int want_updates, size_t want_state,
		      struct open_stats *st)
{
	int64_t after = 0, want_last = want_updates;
	bool more = true, ok = true, snapshot = false;
	st->pages = 0;
	st->bytes = 0;
	while (more && ok) {
		Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
		Huddle__V1__NotesServiceOpenRequest o = HUDDLE__V1__NOTES_SERVICE_OPEN_REQUEST__INIT;
		size_t n = 0;
		o.meeting_id = (char *)meeting;
		o.document = HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_NOTES;
		o.after_seq = after;
		req.request_id = (uint64_t)st->pages + 1;
		req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_OPEN;
		req.open = &o;
		Huddle__V1__NotesReply *r = call(c, &req, OPEN_CALL_MS, &n);
		if (!reply_ok(r, HUDDLE__V1__NOTES_REPLY__BODY_OPEN)) {
			fprintf(stderr, "notes-bench: open failed: %s\n", reply_why(r));
			huddle__v1__notes_reply__free_unpacked(r, NULL);
			return false;
		}
		const Huddle__V1__NotesServiceOpenReply *op = r->open;
		st->pages++;
		st->bytes += n;
		if (op->snapshot != NULL) {
			snapshot = true;
			ok = ok && op->snapshot->version != NULL && op->snapshot->state.len == want_state;
			after = op->snapshot->version != NULL ? op->snapshot->version->seq : after;
		}
		for (size_t i = 0; i < op->n_updates && ok; i++) {
			ok = op->updates[i]->seq == after + 1 && op->updates[i]->data.len >= UPDATE_MIN;
			after = op->updates[i]->seq;
		}
		ok = ok && op->last_seq == want_last && !(op->more && op->n_updates == 0);
		more = op->more;
		huddle__v1__notes_reply__free_unpacked(r, NULL);
	}
	ok = ok && after == want_last && snapshot == (want_state > 0);
	if (!ok)
		fprintf(stderr, "notes-bench: open returned a document other than the one stored\n");
	return ok;
}

// time_opens opens the document OPEN_WARMUP + O.opens times, one after the
// other, and times the last O.opens.
static struct open_stats time_opens(struct hd_rpc_client *c, const char *meeting, int want_updates, size_t want_state)
{
	struct open_stats st = {0};
	double *lat = calloc((size_t)O.opens, sizeof(*lat)), sum = 0;
	if (lat == NULL)
		exit(1);
	for (int i = -OPEN_WARMUP; i < O.opens; i++) {
		double t = bench_now_s();
		bool ok = open_once(c, meeting, want_updates, want_state, &st);
		double ms = (bench_now_s() - t) * 1000;
		if (!ok)
			st.errors++;
		if (i >= 0) {
			lat[i] = ms;
			sum += ms;
		}
	}
	bench_sort(lat, (size_t)O.opens);
	st.p50 = bench_pct(lat, (size_t)O.opens, 0.50);
	st.p99 = bench_pct(lat, (size_t)O.opens, 0.99);
	st.mean = sum / O.opens;
	free(lat);
	return st;
}

// snapshot stores a snapshot covering seq 1..upto with a state of state_len
// random bytes and a text of text_len ASCII bytes; returns its time in ms,
// or a negative value on an error.
static double snapshot(struct hd_rpc_client *c, const char *meeting, int64_t upto, size_t state_len, size_t text_len)
{
	uint8_t *state = malloc(state_len > 0 ? state_len : 1);
	char *text = malloc(text_len + 1);
	uint64_t x = 0x853c49e6748fea9bULL;
	if (state == NULL || text == NULL)
		exit(1);
	random_bytes(&x, state, state_len);
	for (size_t i = 0; i < text_len; i++)
		text[i] = i % 61 == 60 ? '\n' : "the quick brown fox jumps over the lazy dog "[i % 44];
	text[text_len] = '\0';
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceSnapshotRequest s = HUDDLE__V1__NOTES_SERVICE_SNAPSHOT_REQUEST__INIT;
	s.meeting_id = (char *)meeting;
	s.document = HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_NOTES;
	s.seq = upto;
	s.state.data = state;
	s.state.len = state_len;
	s.text = text;
	s.author_name = "Bench";
	req.request_id = 1;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_SNAPSHOT;
	req.snapshot = &s;
	double t = bench_now_s();
	Huddle__V1__NotesReply *r = call(c, &req, OPEN_CALL_MS, NULL);
	double ms = (bench_now_s() - t) * 1000;
	bool ok = reply_ok(r, HUDDLE__V1__NOTES_REPLY__BODY_SNAPSHOT) && r->snapshot->stored;
	if (!ok)
		fprintf(stderr, "notes-bench: snapshot not stored: %s\n",
			reply_ok(r, HUDDLE__V1__NOTES_REPLY__BODY_SNAPSHOT) ? "stored = false" : reply_why(r));
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	free(text);
	free(state);
	return ok ? ms : -1;
}

static struct open_result run_opens(void)
{
	struct bench_daemon d;
	char meeting[HD_ID_LEN + 1];
	struct open_result res = {.updates = O.updates, .opens = O.opens};
	snprintf(d.uri, sizeof(d.uri), "sqlite://%s/open.db", work);
	hd_id_random(meeting);
	double t0 = bench_now_s();
	res.data_bytes = seed(d.uri, meeting, O.updates);
	res.seed_s = bench_now_s() - t0;
	fprintf(stderr, "open: seeded %d updates (%zu bytes of data) in %.2f s\n", O.updates, res.data_bytes,
		res.seed_s);
	bench_daemon_start(&T, &d, "open", O.workers);
	struct hd_rpc_client *c = bench_client_open(&T, d.url);

	res.before = time_opens(c, meeting, O.updates, 0);
	fprintf(stderr, "open: %d updates, no snapshot: p50 %.2f ms, p99 %.2f ms (%d pages, %zu bytes)\n", O.updates,
		res.before.p50, res.before.p99, res.before.pages, res.before.bytes);

	// A state as large as the updates it replaces (Yjs merges them, but a
	// state also carries what they deleted); the text is half of that.
	res.state_len = res.data_bytes < HD_DOC_STATE_MAX ? res.data_bytes : HD_DOC_STATE_MAX;
	res.text_len = res.state_len / 2;
	res.snapshot_ms = snapshot(c, meeting, O.updates, res.state_len, res.text_len);
	fprintf(stderr, "open: snapshot of seq 1..%d (state %zu bytes, text %zu bytes) stored in %.2f ms\n", O.updates,
		res.state_len, res.text_len, res.snapshot_ms);

	if (res.snapshot_ms >= 0) {
		res.after = time_opens(c, meeting, O.updates, res.state_len);
		fprintf(stderr, "open: after the snapshot: p50 %.2f ms, p99 %.2f ms (%d pages, %zu bytes)\n",
			res.after.p50, res.after.p99, res.after.pages, res.after.bytes);
	}
	hd_rpc_client_close(c);
	daemon_stop(&d);
	res.errors = res.before.errors + res.after.errors + (res.snapshot_ms < 0 ? 1 : 0);
	return res;
}

// ---- main ----

static void print_appends(const struct append_result *r)
{
	char label[64];
	snprintf(label, sizeof(label), "%d editor%s, NOTES_WORKERS=%d", r->editors, r->editors > 1 ? "s" : "",
		 r->workers);
	printf("%-34s %11.0f %9.2f %9.2f %13.1f %9llu\n", label, r->rate, r->p50, r->p99,
	       r->daemon.batches > 0 ? (double)r->daemon.appends / (double)r->daemon.batches : 0.0, r->daemon.largest);
}

static void print_opens(const char *label, const struct open_stats *s)
{
	printf("%-34s %9.2f %9.2f %9.2f %6d %11.2f\n", label, s->p50, s->p99, s->mean, s->pages,
	       (double)s->bytes / 1e6);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"bin", required_argument, NULL, 'b'},     {"dir", required_argument, NULL, 'd'},
		{"seconds", required_argument, NULL, 's'}, {"editors", required_argument, NULL, 'e'},
		{"workers", required_argument, NULL, 'w'}, {"updates", required_argument, NULL, 'u'},
		{"opens", required_argument, NULL, 'o'},   {"keep", no_argument, NULL, 'k'},
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
		case 'e':
			ok = ok && bench_integer(optarg, &O.editors);
			break;
		case 'w':
			ok = ok && bench_integer(optarg, &O.workers);
			break;
		case 'u':
			ok = ok && bench_integer(optarg, &O.updates);
			break;
		case 'o':
			ok = ok && bench_integer(optarg, &O.opens);
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
	if (!ok || optind < argc || O.seconds <= 0 || O.editors < 1 || O.editors > 256 || O.workers < 1 ||
	    O.workers > 256 || O.updates < 1 || O.opens < 1) {
		fputs(usage, stderr);
		return 2;
	}
	if (O.bin == NULL)
		O.bin = bench_default_bin(&T, "HUDDLE_NOTES_BIN", HUDDLE_NOTES_BIN);
	T.bin = O.bin;
	if (access(O.bin, X_OK) != 0) {
		fprintf(stderr, "notes-bench: %s is not an executable huddle-notes (use --bin or HUDDLE_NOTES_BIN)\n",
			O.bin);
		return 2;
	}
	if (O.dir == NULL) {
		const char *tmp = getenv("TMPDIR");
		O.dir = tmp != NULL && *tmp != '\0' ? tmp : "/var/tmp";
	}
	bool tmpfs;
	if (!bench_work_open(&T, O.dir, work, sizeof(work), "append", &tmpfs))
		return 1;
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "notes-bench: %s, folder %s, %.1f s per appending run\n", O.bin, work, O.seconds);

	struct append_result one = run_appends(1, O.workers);
	struct append_result many = run_appends(O.editors, O.workers);
	struct append_result many_w = many;
	bool again = O.editors != O.workers;
	if (again)
		many_w = run_appends(O.editors, O.editors);
	struct open_result o = run_opens();

	printf("\nhuddle-notes benchmark (SQLite, synchronous=FULL, %s)\n", tmpfs ? "tmpfs!" : "disk");
	printf("%-34s %11s %9s %9s %13s %9s\n", "durable appends, one document", "updates/s", "p50 ms", "p99 ms",
	       "updates/txn", "largest");
	print_appends(&one);
	print_appends(&many);
	if (again)
		print_appends(&many_w);
	printf("\n%-34s %9s %9s %9s %6s %11s\n", "open (after_seq 0, paging)", "p50 ms", "p99 ms", "mean ms", "pages",
	       "MB/open");
	char label[64];
	snprintf(label, sizeof(label), "%d updates, no snapshot", o.updates);
	print_opens(label, &o.before);
	snprintf(label, sizeof(label), "snapshot of all %d", o.updates);
	print_opens(label, &o.after);
	printf("(%d opens each; updates %zu bytes in all; snapshot state %zu + text %zu bytes, stored in %.1f ms)\n",
	       o.opens, o.data_bytes, o.state_len, o.text_len, o.snapshot_ms);
	printf("\n");
	printf("{\"bench\":\"notes\",\"store\":\"sqlite\",\"tmpfs\":%s,\"seconds\":%.1f,\"workers\":%d,"
	       "\"appends_per_s_1\":%.1f,\"append_p50_ms_1\":%.3f,\"append_p99_ms_1\":%.3f,"
	       "\"appends_per_txn_1\":%.2f,"
	       "\"appends_per_s_%d\":%.1f,\"append_p50_ms_%d\":%.3f,\"append_p99_ms_%d\":%.3f,"
	       "\"appends_per_txn_%d\":%.2f,\"appends_per_s_%d_workers_%d\":%.1f,\"append_errors\":%lu,"
	       "\"open_updates\":%d,\"opens\":%d,\"update_bytes\":%zu,\"open_p50_ms\":%.3f,\"open_p99_ms\":%.3f,"
	       "\"open_pages\":%d,\"open_bytes\":%zu,\"snapshot_state_bytes\":%zu,\"snapshot_text_bytes\":%zu,"
	       "\"snapshot_ms\":%.3f,\"open_snapshot_p50_ms\":%.3f,\"open_snapshot_p99_ms\":%.3f,"
	       "\"open_snapshot_bytes\":%zu,\"open_errors\":%lu,\"seed_s\":%.2f}\n",
	       tmpfs ? "true" : "false", O.seconds, O.workers, one.rate, one.p50, one.p99,
	       one.daemon.batches > 0 ? (double)one.daemon.appends / (double)one.daemon.batches : 0.0, O.editors,
	       many.rate, O.editors, many.p50, O.editors, many.p99, O.editors,
	       many.daemon.batches > 0 ? (double)many.daemon.appends / (double)many.daemon.batches : 0.0, O.editors,
	       many_w.workers, many_w.rate, one.errors + many.errors + (again ? many_w.errors : 0), o.updates, o.opens,
	       o.data_bytes, o.before.p50, o.before.p99, o.before.pages, o.before.bytes, o.state_len, o.text_len,
	       o.snapshot_ms, o.after.p50, o.after.p99, o.after.bytes, o.errors, o.seed_s);

	bench_work_close(&T, O.keep);
	bool failed = one.errors + many.errors + (again ? many_w.errors : 0) + o.errors > 0;
	return failed ? 1 : 0;
}
