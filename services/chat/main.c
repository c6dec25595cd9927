// main.c: huddle-chat: the meetings' chat logs. A REP socket served by a
// pool of worker threads, one writer thread that stores their posts in
// batches (group commit), and a PUB socket for the new messages.
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat/chat.h"
#include "chat/rpc.h"
#include "chat/writer.h"
#include "common/config.h"
#include "common/log.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/util.h"

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

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = 1;
}

int main(int argc, char **argv)
{
	struct hd_store *store = NULL;
	struct chat_writer *writer = NULL;
	struct hd_rpc_server *server = NULL;
	struct chat_ctx *workers = NULL;
	void **states = NULL;
	nng_socket pub = NNG_SOCKET_INITIALIZER;
	int nworkers = 0, status = 1;
	bool pub_open = false;
	hd_err err;

	hd_log_set_name("huddle-chat");
	enum hd_config_result loaded = hd_config_load(
		"huddle-chat", "Huddle's chat service: each meeting's chat log, durable, ordered, idempotent.",
		config_table, sizeof(config_table) / sizeof(config_table[0]), argc, argv);
	if (loaded != HD_CONFIG_OK)
		return hd_config_exit_status(loaded);
	signal(SIGPIPE, SIG_IGN);
	// From here a stop request is a flag: one during start-up is honoured
	// as soon as we are up, with a clean exit.
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if ((err = hd_store_open(&store, cfg.store_uri)) != HD_OK) {
		char shown[HD_URI_LOG_MAX];
		fprintf(stderr, "huddle-chat: cannot open STORE_URI '%s': %s\n",
			hd_uri_redact(cfg.store_uri, shown, sizeof(shown)), hd_strerror(err));
		status = err == HD_EBADREQUEST ? 2 : 1;
		goto fail;
	}
	if ((err = hd_pub_open(&pub, cfg.events_listen)) != HD_OK) {
		fprintf(stderr, "huddle-chat: cannot listen on CHAT_EVENTS_LISTEN '%s' (%s)\n", cfg.events_listen,
			err == HD_EBADREQUEST ? "not a valid address" : "address in use?");
		status = err == HD_EBADREQUEST ? 2 : 1;
		goto fail;
	}
	pub_open = true;
	if ((err = chat_writer_open(&writer, store, pub, (size_t)cfg.batch_max)) != HD_OK) {
		fprintf(stderr, "huddle-chat: cannot start the writer thread: %s\n", hd_strerror(err));
		goto fail;
	}
	if ((workers = calloc((size_t)cfg.workers, sizeof(*workers))) == NULL ||
	    (states = calloc((size_t)cfg.workers, sizeof(*states))) == NULL) {
		fprintf(stderr, "huddle-chat: out of memory\n");
		goto fail;
	}
	for (; nworkers < (int)cfg.workers; nworkers++) {
		if (chat_ctx_init(&workers[nworkers], store, writer) != HD_OK) {
			fprintf(stderr, "huddle-chat: out of memory\n");
			goto fail;
		}
		states[nworkers] = &workers[nworkers];
	}
	if ((err = hd_rpc_server_open(&server, cfg.listen, nworkers, chat_rpc_handle, states)) != HD_OK) {
		fprintf(stderr, "huddle-chat: cannot listen on CHAT_LISTEN '%s' (%s)\n", cfg.listen,
			err == HD_EBADREQUEST ? "not a valid address" : "address in use?");
		status = err == HD_EBADREQUEST ? 2 : 1;
		goto fail;
	}

	HD_INFO("serving %s with %d workers, batches of up to %lld posts; events on %s", cfg.listen, nworkers,
		(long long)cfg.batch_max, cfg.events_listen);

	// The handler only sets the flag; look at it ten times a second.
	while (!stopping) {
		struct timespec tick = {0, 100L * 1000000L};
		nanosleep(&tick, NULL);
	}
	HD_INFO("shutting down");
	status = 0;

fail:
	hd_rpc_server_close(server); // wakes and joins the workers (posts in flight finish first)
	if (writer != NULL) {
		struct chat_writer_stats st;
		chat_writer_get_stats(writer, &st);
		if (st.posts > 0)
			HD_INFO("stats: %llu posts in %llu batches (largest %llu): %llu new, %llu duplicates, "
				"%llu failed; %llu events published",
				(unsigned long long)st.posts, (unsigned long long)st.batches,
				(unsigned long long)st.max_batch, (unsigned long long)st.stored,
				(unsigned long long)st.duplicates, (unsigned long long)st.failed,
				(unsigned long long)st.published);
	}
	chat_writer_close(writer);
	for (int i = nworkers - 1; i >= 0; i--)
		chat_ctx_fini(&workers[i]);
	free(states);
	free(workers);
	if (pub_open)
		nng_close(pub);
	hd_store_close(store);
	return status;
}
