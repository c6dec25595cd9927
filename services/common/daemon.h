// daemon.h: the one skeleton of Huddle's service daemons (huddle-registry,
// huddle-chat, huddle-notes): read the config table, turn SIGINT/SIGTERM
// into a flag, open the history store and the PUB socket, serve a REP
// socket with a pool of worker threads, wait for the stop request, and undo
// everything in reverse order. A daemon is its config table, its op table
// (hd_rpc_service, rpc.h), its store calls and the hooks below, the way
// nng's protocols are only their ops tables over one socket core.
#ifndef HD_DAEMON_H
#define HD_DAEMON_H

#include <nng/nng.h>
#include <stddef.h>

#include "common/config.h"
#include "common/err.h"
#include "common/rpc.h"
#include "common/store.h"

// HD_DAEMON_WHY_MAX is the room (bytes, with the NUL) a hook has for the
// message that says why it failed.
#define HD_DAEMON_WHY_MAX 640

// hd_daemon describes one daemon to hd_daemon_main. The skeleton finds its
// addresses, its store and its worker count in the config table by the
// settings' names, so every message names the setting at fault.
//
// Every hook is optional and runs on the main thread with app. One that
// fails undoes its own work, writes a one-line reason into why (room for
// HD_DAEMON_WHY_MAX bytes; left empty: hd_strerror) and returns the code:
// HD_EBADREQUEST (a bad setting) makes the exit status 2, anything else 1.
// A hook that succeeded has its counterpart run at shut-down: close after
// open, worker_fini after worker_init, stop after start.
struct hd_daemon {
	const char *name;    // "huddle-chat": the log name and the prefix of start-up errors
	const char *summary; // one line for --help
	const struct hd_config *config;
	size_t n_config;
	const char *store_setting;   // an HD_CONFIG_URI or _STRING setting: STORE_URI; NULL: no store
	const char *listen_setting;  // an HD_CONFIG_STRING setting: the REP address (NNG URL)
	const char *events_setting;  // an HD_CONFIG_STRING setting: the PUB address; NULL: no events
	const char *workers_setting; // an HD_CONFIG_INT setting (min >= 1): REP worker threads
	hd_rpc_handler handle;       // serves one request on a worker thread (hd_rpc_dispatch)
	size_t worker_size;          // bytes of one worker's state, zeroed before worker_init
	void *app;                   // the daemon's own state, handed to every hook

	// open runs once the store and the PUB socket are open (store NULL and
	// pub id 0 when there are none); they stay open until after close.
	hd_err (*open)(void *app, struct hd_store *store, nng_socket pub, char *why);
	// close runs after every worker is joined and finished.
	void (*close)(void *app);
	// worker_init sets up worker (worker_size zeroed bytes) for one REP
	// worker thread; worker_fini undoes it once that thread is joined.
	hd_err (*worker_init)(void *app, void *worker, char *why);
	void (*worker_fini)(void *app, void *worker);
	// start runs once requests are served (threads of the daemon's own,
	// such as the registry's sweeper); stop runs on a stop request, while
	// requests are still served.
	hd_err (*start)(void *app, char *why);
	void (*stop)(void *app);
};

// hd_daemon_main runs the daemon d described and returns main's exit
// status: 0 after --help or a clean stop on SIGINT/SIGTERM (also when the
// signal came during start-up); 2 for a bad setting or argument, an invalid
// address or store URI; 1 when it cannot start otherwise (address in use,
// store unreachable, a hook failed). Start-up failures are one line on
// stderr, "<name>: ...", naming the setting; credentials in URIs are
// redacted. Call it once per process, from main.
int hd_daemon_main(const struct hd_daemon *d, int argc, char **argv);

#endif
