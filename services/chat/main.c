// main.c: huddle-chat: the meetings' chat logs. A REP socket served by a
// pool of worker threads, one writer thread that stores their posts in
// batches (group commit), and a PUB socket for the new messages; the
// skeleton (common/daemon.h) runs them.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "chat/chat.h"
#include "chat/rpc.h"
#include "chat/writer.h"
#include "common/config.h"
#include "common/daemon.h"
#include "common/log.h"

// chat_config is what main reads from the environment (see config_table).
struct chat_config {
	const char *listen;
	const char *events_listen;
	const char *store_uri;
	int64_t workers;
	int64_t batch_max;
	int log_level; // enum hd_log_level
};

static struct chat_config cfg;

static const struct hd_config config_table[] = {
	{"CHAT_LISTEN", HD_CONFIG_STRING, "tcp://127.0.0.1:7003", 0, 0, &cfg.listen,
	 "NNG REP address for ChatRequest calls (tcp://host:port or ipc:///path)"},
	{"CHAT_EVENTS_LISTEN", HD_CONFIG_STRING, "tcp://127.0.0.1:7004", 0, 0, &cfg.events_listen,
	 "NNG PUB address for chat events (topic: meeting id + NUL, then ChatEvent)"},
	{"STORE_URI", HD_CONFIG_URI, "sqlite://huddle.db", 0, 0, &cfg.store_uri,
	 "history store for the chat log: sqlite://<path> or mongodb://... (may be the registry's)"},
	{"CHAT_WORKERS", HD_CONFIG_INT, "32", 1, 256, &cfg.workers,
	 "request worker threads; also the most posts one batch can gather"},
	{"CHAT_BATCH_MAX", HD_CONFIG_INT, "256", 1, 4096, &cfg.batch_max,
	 "most posts stored by one transaction (group commit)"},
	{"LOG_LEVEL", HD_CONFIG_LOG_LEVEL, "info", 0, 0, &cfg.log_level, "error, warn, info or debug"},
};

// chat_app is what the workers share: the store and the writer.
struct chat_app {
	struct hd_store *store;
	struct chat_writer *writer;
};

static hd_err app_open(void *p, struct hd_store *store, nng_socket pub, char *why)
{
	struct chat_app *app = p;
	hd_err err;
	app->store = store;
	if ((err = chat_writer_open(&app->writer, store, pub, (size_t)cfg.batch_max)) != HD_OK)
		snprintf(why, HD_DAEMON_WHY_MAX, "cannot start the writer thread: %s", hd_strerror(err));
	return err;
}

static void app_close(void *p)
{
	struct chat_app *app = p;
	struct chat_writer_stats st;
	chat_writer_get_stats(app->writer, &st);
	if (st.posts > 0)
		HD_INFO("stats: %llu posts in %llu batches (largest %llu): %llu new, %llu duplicates, "
			"%llu failed; %llu events published",
			(unsigned long long)st.posts, (unsigned long long)st.batches, (unsigned long long)st.max_batch,
			(unsigned long long)st.stored, (unsigned long long)st.duplicates, (unsigned long long)st.failed,
			(unsigned long long)st.published);
	chat_writer_close(app->writer); // finishes the posts already handed in
}

static hd_err worker_init(void *p, void *worker, char *why)
{
	struct chat_app *app = p;
	return chat_ctx_init(worker, app->store, app->writer);
}

static void worker_fini(void *p, void *worker)
{
	chat_ctx_fini(worker);
}

int main(int argc, char **argv)
{
	static struct chat_app app;
	static const struct hd_daemon chat = {
		.name = "huddle-chat",
		.summary = "Huddle's chat service: each meeting's chat log, durable, ordered, idempotent.",
		.config = config_table,
		.n_config = sizeof(config_table) / sizeof(config_table[0]),
		.store_setting = "STORE_URI",
		.listen_setting = "CHAT_LISTEN",
		.events_setting = "CHAT_EVENTS_LISTEN",
		.workers_setting = "CHAT_WORKERS",
		.handle = chat_rpc_handle,
		.worker_size = sizeof(struct chat_ctx),
		.app = &app,
		.open = app_open,
		.close = app_close,
		.worker_init = worker_init,
		.worker_fini = worker_fini,
	};
	return hd_daemon_main(&chat, argc, argv);
}
