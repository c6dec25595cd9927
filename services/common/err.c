// err.c: names and descriptions of hd_err codes.
#include "common/err.h"

#include <nng/nng.h>

static const struct {
	const char *name;
	const char *text;
} err_table[HD_ERR_COUNT] = {
	[HD_OK] = {"OK", "success"},
	[HD_EINTERNAL] = {"INTERNAL", "internal error"},
	[HD_EBADREQUEST] = {"BAD_REQUEST", "bad request"},
	[HD_EMALFORMED] = {"MALFORMED", "malformed message"},
	[HD_ETOOLARGE] = {"TOO_LARGE", "message too large"},
	[HD_EUNKNOWNTYPE] = {"UNKNOWN_TYPE", "unknown message type"},
	[HD_EUNKNOWNMEETING] = {"UNKNOWN_MEETING", "unknown meeting"},
	[HD_EUNKNOWNPARTICIPANT] = {"UNKNOWN_PARTICIPANT", "participant is not in this meeting"},
	[HD_ENOTJOINED] = {"NOT_JOINED", "join a meeting first"},
	[HD_EALREADYJOINED] = {"ALREADY_JOINED", "already joined a meeting"},
	[HD_ERESUMEREJECTED] = {"RESUME_REJECTED", "resume token rejected"},
	[HD_ERATELIMITED] = {"RATE_LIMITED", "rate limit exceeded"},
	[HD_EUNAVAILABLE] = {"UNAVAILABLE", "service unavailable"},
	[HD_ETIMEOUT] = {"TIMEOUT", "timed out"},
	[HD_ENOMEM] = {"NO_MEMORY", "out of memory"},
	[HD_ECLOSED] = {"CLOSED", "shutting down"},
	[HD_EFORBIDDEN] = {"FORBIDDEN", "only a host (or an admitted participant) may do that"},
	[HD_EMEETINGLOCKED] = {"MEETING_LOCKED", "the meeting is locked"},
	[HD_ETOKENINVALID] = {"TOKEN_INVALID", "the join link is invalid or expired"},
	[HD_EBLOCKED] = {"BLOCKED", "a host removed you from this meeting"},
	[HD_EDENIED] = {"DENIED", "a host did not let you in"},
	[HD_EMEETINGFULL] = {"MEETING_FULL", "the meeting is full"},
};

const char *hd_strerror(int err)
{
	if (err < 0 || err >= HD_ERR_COUNT)
		return "unknown error";
	return err_table[err].text;
}

const char *hd_err_name(int err)
{
	if (err < 0 || err >= HD_ERR_COUNT)
		return "UNKNOWN";
	return err_table[err].name;
}

hd_err hd_err_from_nng(int nng_rv)
{
	switch (nng_rv) {
	case 0:
		return HD_OK;
	case NNG_ETIMEDOUT:
		return HD_ETIMEOUT;
	case NNG_ENOMEM:
		return HD_ENOMEM;
	case NNG_ECLOSED:
	case NNG_ECANCELED:
		return HD_ECLOSED;
	case NNG_ECONNREFUSED:
	case NNG_ECONNRESET:
	case NNG_ECONNSHUT:
	case NNG_EUNREACHABLE:
	case NNG_EADDRINVAL:
		return HD_EUNAVAILABLE;
	default:
		return HD_EINTERNAL;
	}
}
