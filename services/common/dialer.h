// dialer.h: dials a list of NNG URLs and keeps every one of them dialing.
//
// NNG redials a lost connection by itself, except in one case: libnng 1.5.2
// (Debian 12) gives a dialer up for good when a connection attempt ends with
// NNG_ECLOSED, which happens when the peer dies during the SP handshake (a
// daemon SIGKILLed while clients reconnect to it); see dialer_connect_cb in
// nng's src/core/dialer.c, "No further action". A watchdog thread therefore
// replaces any dialer that has had no connection for HD_REDIAL_MS.
#ifndef HD_DIALER_H
#define HD_DIALER_H

#include <nng/nng.h>

#include "common/err.h"

#define HD_REDIAL_MS 3000 // ms without a connection before a dialer is replaced

struct hd_dialset;

// hd_dialset_open dials every comma-separated URL of urls on sock without
// waiting (NNG_FLAG_NONBLOCK) and starts the watchdog. It installs sock's
// pipe notifications (to count connections). Returns HD_OK, HD_EBADREQUEST
// when a URL cannot be dialed or the list is empty, HD_ENOMEM. *out is the
// caller's.
hd_err hd_dialset_open(struct hd_dialset **out, nng_socket sock, const char *urls);

// hd_dialset_stop stops the watchdog (waits for it). Call it before closing
// the socket; then hd_dialset_free after nng_close. NULL is a no-op.
void hd_dialset_stop(struct hd_dialset *d);

// hd_dialset_free frees d (the socket, and so its dialers, already closed).
// NULL is a no-op.
void hd_dialset_free(struct hd_dialset *d);

// hd_dialset_connected returns how many connections the dialers have now.
// Thread-safe.
int hd_dialset_connected(struct hd_dialset *d);

// hd_dialset_connections returns how many connections were established
// since hd_dialset_open (it only grows, wrapping at UINT_MAX). Thread-safe.
unsigned hd_dialset_connections(struct hd_dialset *d);

#endif
