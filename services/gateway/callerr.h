// callerr.h: how a failed call to a service reads to the client, shared by
// the chat, notes and recording sides of the gateway (they add the
// service's own error replies). No state; any thread.
#ifndef GW_CALLERR_H
#define GW_CALLERR_H

#include "common/err.h"

// gw_service_words names a service in the errors a client reads when a
// call to it fails in transport.
struct gw_service_words {
	const char *timeout;     // "the chat service did not answer in time"
	const char *bad_reply;   // "bad reply from the chat service"
	const char *unavailable; // "the chat service is unavailable"
};

// gw_call_failed maps a call's transport error err (not HD_OK) to the
// client's code: TIMEOUT, INTERNAL (a bad reply), NOMEM, else UNAVAILABLE;
// *message gets the matching static description from w.
hd_err gw_call_failed(hd_err err, const struct gw_service_words *w, const char **message);

#endif
