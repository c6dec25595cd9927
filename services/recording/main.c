// main.c: huddle-recording: recordings made in the browser, uploaded in
// chunks, joined and remuxed into one seekable WebM each. A REP socket
// served by a pool of worker threads (chunks to RECORDINGS_DIR, metadata to
// the history store) and one assembler thread (idle recordings, assembly,
// resuming after a crash); the skeleton (common/daemon.h) runs them.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/config.h"
#include "common/daemon.h"
#include "common/log.h"
#include "recording/assembler.h"
#include "recording/files.h"
#include "recording/recording.h"
#include "recording/rpc.h"

// rec_config is what main reads from the environment (see config_table).
struct rec_config {
	const char *listen;
	const char *store_uri;
	const char *dir;
	struct rec_limits limits;
	int64_t workers;
	int log_level; // enum hd_log_level
};

static struct rec_config cfg;

static const struct hd_config config_table[] = {
	{"RECORDING_LISTEN", HD_CONFIG_STRING, "tcp://127.0.0.1:7007", 0, 0, &cfg.listen,
	 "NNG REP address for RecordingRequest calls (tcp://host:port or ipc:///path)"},
	{"STORE_URI", HD_CONFIG_URI, "sqlite://huddle.db", 0, 0, &cfg.store_uri,
	 "history store for the recordings' metadata: sqlite://<path> or mongodb://... (may be the registry's)"},
	{"RECORDINGS_DIR", HD_CONFIG_STRING, "recordings", 0, 0, &cfg.dir,
	 "folder for the chunks and the finished files (created when missing)"},
	{"RECORDING_IDLE_S", HD_CONFIG_INT, "120", 1, 86400, &cfg.limits.idle_s,
	 "seconds without a chunk after which a recording is assembled as it is (its recorder vanished)"},
	{"RECORDING_QUOTA_MB", HD_CONFIG_INT, "4096", 1, 16777216, &cfg.limits.quota_mb,
	 "MiB all recordings of one meeting may take; chunks past it are refused (TOO_LARGE)"},
	{"RECORDING_MAX_MINUTES", HD_CONFIG_INT, "240", 1, 10080, &cfg.limits.max_minutes,
	 "longest recording, minutes of media; chunks past it are refused (TOO_LARGE)"},
	{"RECORDING_WORKERS", HD_CONFIG_INT, "8", 1, 256, &cfg.workers,
	 "request worker threads (each may hold a 4 MiB chunk and a 1 MiB read)"},
	{"LOG_LEVEL", HD_CONFIG_LOG_LEVEL, "info", 0, 0, &cfg.log_level, "error, warn, info or debug"},
};

// rec_app is what the hooks share: the service and its assembler.
struct rec_app {
	struct rec_service svc;
	struct rec_assembler *assembler;
};

static hd_err app_open(void *p, struct hd_store *store, nng_socket pub, char *why)
{
	struct rec_app *app = p;
	hd_err err;
	if ((err = rec_files_open_dir(cfg.dir, why, HD_DAEMON_WHY_MAX)) != HD_OK)
		return err;
	rec_service_init(&app->svc, store, cfg.dir, &cfg.limits);
	if ((err = rec_assembler_open(&app->assembler, &app->svc)) != HD_OK) {
		rec_service_fini(&app->svc);
		snprintf(why, HD_DAEMON_WHY_MAX, "cannot set up the assembler: %s", hd_strerror(err));
	}
	return err;
}

static void app_close(void *p)
{
	struct rec_app *app = p;
	struct rec_assembler_stats st;
	rec_assembler_get_stats(app->assembler, &st);
	if (st.ready > 0 || st.failed > 0 || st.idle > 0 || st.retries > 0)
		HD_INFO("stats: %llu recordings assembled, %llu failed, %llu found idle, %llu assemblies to retry",
			(unsigned long long)st.ready, (unsigned long long)st.failed, (unsigned long long)st.idle,
			(unsigned long long)st.retries);
	rec_assembler_close(app->assembler);
	rec_service_fini(&app->svc);
}

static hd_err app_start(void *p, char *why)
{
	struct rec_app *app = p;
	hd_err err = rec_assembler_start(app->assembler);
	if (err != HD_OK)
		snprintf(why, HD_DAEMON_WHY_MAX, "cannot start the assembler thread: %s", hd_strerror(err));
	return err;
}

// app_stop interrupts an assembly in progress: it is redone at the next start.
static void app_stop(void *p)
{
	struct rec_app *app = p;
	rec_assembler_stop(app->assembler);
}

static hd_err worker_init(void *p, void *worker, char *why)
{
	struct rec_app *app = p;
	return rec_ctx_init(worker, &app->svc);
}

static void worker_fini(void *p, void *worker)
{
	rec_ctx_fini(worker);
}

int main(int argc, char **argv)
{
	static struct rec_app app;
	static const struct hd_daemon recording = {
		.name = "huddle-recording",
		.summary = "Huddle's recording service: chunked uploads of browser recordings, joined and remuxed "
			   "into one seekable WebM each, listed and read back per meeting.",
		.config = config_table,
		.n_config = sizeof(config_table) / sizeof(config_table[0]),
		.store_setting = "STORE_URI",
		.listen_setting = "RECORDING_LISTEN",
		.workers_setting = "RECORDING_WORKERS",
		.handle = rec_rpc_handle,
		.worker_size = sizeof(struct rec_ctx),
		.app = &app,
		.open = app_open,
		.close = app_close,
		.worker_init = worker_init,
		.worker_fini = worker_fini,
		.start = app_start,
		.stop = app_stop,
	};
	return hd_daemon_main(&recording, argc, argv);
}
