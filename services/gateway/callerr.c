// callerr.c: a service call's transport error as the client's error.
#include "gateway/callerr.h"

hd_err gw_call_failed(hd_err err, const struct gw_service_words *w, const char **message)
{
	switch (err) {
	case HD_ETIMEOUT:
		*message = w->timeout;
		return HD_ETIMEOUT;
	case HD_EINTERNAL:
		*message = w->bad_reply;
		return HD_EINTERNAL;
	case HD_ENOMEM:
		*message = "out of memory";
		return HD_ENOMEM;
	default:
		*message = w->unavailable;
		return HD_EUNAVAILABLE;
	}
}
