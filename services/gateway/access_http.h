// access_http.h: the HTTP API of hosts and spaces (/work/spec access.md
// "HTTP API"): POST /api/spaces, GET /api/space, POST /api/space/meetings,
// POST /api/meetings/<id>/admit, /access and /links; and who may read the
// chat and notes exports and the recordings list of a meeting that is not
// open. Keys come only in "Authorization: Bearer <key>" (RFC 6750 section
// 2.1), never in a URL. Service thread only.
#ifndef GW_ACCESS_HTTP_H
#define GW_ACCESS_HTTP_H

#include <stdbool.h>

#include "gateway/http.h"

#define GW_JOIN_LINK_TTL_S ((int64_t)7 * 24 * 3600) // default lifetime of a minted join link, s

// gw_access_http_route serves uri if it is one of the APIs above (method
// checked: 405 otherwise) and returns true; false for any other uri.
bool gw_access_http_route(struct gw_http *h, const char *uri, enum gw_http_method method);

// gw_access_http_on_reply answers the API request that waited on the
// registry (ops GW_OP_HTTP_SPACE_CREATE ... GW_OP_HTTP_LINKS).
void gw_access_http_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r);

// gw_access_http_meeting_call asks the registry about meeting_id for h's
// export or recordings list (op): CheckHost when the request carries a
// Bearer that is not a recording token of the meeting, otherwise
// GetMeeting; h remembers whether a valid recording token came. Returns as
// gw_http_registry_call.
hd_err gw_access_http_meeting_call(struct gw_http *h, enum gw_op op, const char *meeting_id);

// gw_access_checked holds the reply gw_access_http_check may make up.
struct gw_access_checked {
	Huddle__V1__RegistryReply reply;
	Huddle__V1__GetMeetingReply get;
	Huddle__V1__Error error;
};

// gw_access_http_check turns the reply r (NULL on transport error err) to
// gw_access_http_meeting_call into what the export or list expects: a
// CheckHost answer becomes a GetMeeting one (h authorized), and a meeting
// that is not OPEN without a host key or recording token becomes a
// FORBIDDEN error. Returns r or a reply inside c (valid while c and r are).
Huddle__V1__RegistryReply *gw_access_http_check(struct gw_http *h, hd_err err, Huddle__V1__RegistryReply *r,
						struct gw_access_checked *c);

#endif
