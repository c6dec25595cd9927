// main.c: huddle-notes: each meeting's shared documents (notes, code). A REP
// socket served by a pool of worker threads, one writer thread that stores
// their appends in batches (group commit) and their snapshots, and a PUB
// socket for stored updates, new versions and awareness; the skeleton
// (common/daemon.h) runs them.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/config.h"
#include "common/daemon.h"
#include "common/log.h"
#include "notes/notes.h"
#include "notes/rpc.h"
#include "notes/writer.h"

// notes_config is what main reads from the environment (see config_table).
struct notes_config {
	const char *listen;
	const char *events_listen;
	const char *store_uri;
	int64_t workers;
	int64_t batch_max;
	int log_level; // enum hd_log_level
};

static struct notes_config cfg;

static const struct hd_config config_table[] = {
	{"NOTES_LISTEN", HD_CONFIG_STRING, "tcp://127.0.0.1:7005", 0, 0, &cfg.listen,
	 "NNG REP address for NotesRequest calls (tcp://host:port or ipc:///path)"},
	{"NOTES_EVENTS_LISTEN", HD_CONFIG_STRING, "tcp://127.0.0.1:7006", 0, 0, &cfg.events_listen,
	 "NNG PUB address for notes events (topic: meeting id + NUL, then NotesEvent)"},
	{"STORE_URI", HD_CONFIG_URI, "sqlite://huddle.db", 0, 0, &cfg.store_uri,
	 "history store for the documents: sqlite://<path> or mongodb://... (may be the registry's)"},
	{"NOTES_WORKERS", HD_CONFIG_INT, "32", 1, 256, &cfg.workers,
	 "request worker threads; also the most appends one batch can gather"},
	{"NOTES_BATCH_MAX", HD_CONFIG_INT, "256", 1, 4096, &cfg.batch_max,
	 "most appends stored by one transaction (group commit)"},
	{"LOG_LEVEL", HD_CONFIG_LOG_LEVEL, "info", 0, 0, &cfg.log_level, "error, warn, info or debug"},
};

// notes_app is what the workers share: the store, the writer, the PUB socket.
struct notes_app {
	struct hd_store *store;
	nng_socket pub;
	struct notes_writer *writer;
};

static hd_err app_open(void *p, struct hd_store *store, nng_socket pub, char *why)
{
	struct notes_app *app = p;
	hd_err err;
	app->store = store;
	app->pub = pub;
	if ((err = notes_writer_open(&app->writer, store, pub, (size_t)cfg.batch_max)) != HD_OK)
		snprintf(why, HD_DAEMON_WHY_MAX, "cannot start the writer thread: %s", hd_strerror(err));
	return err;
}

static void app_close(void *p)
{
	struct notes_app *app = p;
	struct notes_writer_stats st;
	notes_writer_get_stats(app->writer, &st);
	if (st.appends > 0 || st.snapshots > 0)
		HD_INFO("stats: %llu appends in %llu batches (largest %llu): %llu new, %llu duplicates, %llu failed; "
			"%llu snapshots; %llu events published",
			(unsigned long long)st.appends, (unsigned long long)st.batches,
			(unsigned long long)st.max_batch, (unsigned long long)st.stored,
			(unsigned long long)st.duplicates, (unsigned long long)st.failed,
			(unsigned long long)st.snapshots, (unsigned long long)st.published);
	notes_writer_close(app->writer); // finishes what was already handed in
}

static hd_err worker_init(void *p, void *worker, char *why)
{
	struct notes_app *app = p;
	return notes_ctx_init(worker, app->store, app->writer, app->pub);
}

static void worker_fini(void *p, void *worker)
{
	notes_ctx_fini(worker);
}

int main(int argc, char **argv)
{
	static struct notes_app app;
	static const struct hd_daemon notes = {
		.name = "huddle-notes",
		.summary = "Huddle's notes service: each meeting's shared documents (notes, code): "
			   "an append-only log of updates plus snapshots.",
		.config = config_table,
		.n_config = sizeof(config_table) / sizeof(config_table[0]),
		.store_setting = "STORE_URI",
		.listen_setting = "NOTES_LISTEN",
		.events_setting = "NOTES_EVENTS_LISTEN",
		.workers_setting = "NOTES_WORKERS",
		.handle = notes_rpc_handle,
		.worker_size = sizeof(struct notes_ctx),
		.app = &app,
		.open = app_open,
		.close = app_close,
		.worker_init = worker_init,
		.worker_fini = worker_fini,
	};
	return hd_daemon_main(&notes, argc, argv);
}
