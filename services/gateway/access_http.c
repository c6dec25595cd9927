// access_http.c: the HTTP API of spaces, admission, access modes and join
// links, and the access check of a meeting's exports and recordings list.
#include "gateway/access_http.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/jwt.h"
#include "common/log.h"
#include "gateway/access.h"
#include "gateway/rectoken.h"

#define AUTH_MAX (GW_HOST_KEY_MAX + 16) // bytes of an Authorization header we read ("Bearer " + a key)
#define KEY_NEEDED "a key is needed: Authorization: Bearer <host or space key>"

// mode_parse reads an access mode from JSON: a name, or its number 1..4.
// Returns the AccessMode, or -1.
static int mode_parse(const cJSON *v)
{
	if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= 4 && v->valuedouble == (int)v->valuedouble)
		return (int)v->valuedouble;
	if (cJSON_IsString(v) && gw_http_access_mode_parse(v->valuestring) != 0)
		return gw_http_access_mode_parse(v->valuestring);
	return -1;
}

// ---- request pieces ----

// bearer copies the request's Bearer credential (RFC 6750 section 2.1)
// into key (GW_HOST_KEY_MAX + 1 bytes). Returns its length; 0 when the
// request has none (or one that is no Bearer, or too long to be a key).
static int bearer(struct gw_http *h, char key[GW_HOST_KEY_MAX + 1])
{
	struct lws *wsi = gw_http_wsi(h);
	char auth[AUTH_MAX];
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION), len = 0;
	key[0] = '\0';
	if (n <= 0 || n >= (int)sizeof(auth) ||
	    lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION) != n ||
	    strncasecmp(auth, "Bearer ", 7) != 0) {
		OPENSSL_cleanse(auth, sizeof(auth));
		return 0;
	}
	const char *t = auth + 7;
	while (*t == ' ')
		t++;
	for (len = (int)strlen(t); len > 0 && t[len - 1] == ' '; len--)
		;
	if (len <= GW_HOST_KEY_MAX) {
		memcpy(key, t, (size_t)len);
		key[len] = '\0';
	} else {
		len = 0;
	}
	OPENSSL_cleanse(auth, sizeof(auth));
	return len;
}

// need_key reads the Bearer key into key, or answers 401 and returns false.
static bool need_key(struct gw_http *h, char key[GW_HOST_KEY_MAX + 1])
{
	if (bearer(h, key) > 0)
		return true;
	gw_http_header(h, "www-authenticate:", "Bearer realm=\"huddle\"");
	gw_http_respond_error(h, HTTP_STATUS_UNAUTHORIZED, HD_EFORBIDDEN, KEY_NEEDED);
	return false;
}

// parse_body returns h's body as a JSON object (an empty body is {}), or
// answers 400 / 413 and returns NULL. The caller deletes it.
static cJSON *parse_body(struct gw_http *h)
{
	size_t len;
	bool too_large;
	const char *body = gw_http_body(h, &len, &too_large);
	if (too_large) {
		gw_http_respond_error(h, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, HD_ETOOLARGE,
				      "request body over " HD_XSTR(GW_HTTP_BODY_MAX) " bytes");
		return NULL;
	}
	cJSON *json = len > 0 ? cJSON_ParseWithLength(body, len) : cJSON_CreateObject();
	if (json == NULL || !cJSON_IsObject(json)) {
		cJSON_Delete(json);
		gw_http_respond_error(h, HTTP_STATUS_BAD_REQUEST, HD_EBADREQUEST, "body must be a JSON object");
		return NULL;
	}
	return json;
}

// string_field returns the string member name of o, "" when absent or null,
// or NULL (after answering 400) when it is something else.
static const char *string_field(struct gw_http *h, const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (v == NULL || cJSON_IsNull(v))
		return "";
	if (cJSON_IsString(v))
		return v->valuestring;
	char msg[64];
	snprintf(msg, sizeof(msg), "%s must be a string", name);
	gw_http_respond_error(h, HTTP_STATUS_BAD_REQUEST, HD_EBADREQUEST, msg);
	return NULL;
}

static void api_call(struct gw_http *h, enum gw_op op, Huddle__V1__RegistryRequest *req)
{
	if (gw_http_registry_call(h, op, req) != HD_OK)
		gw_http_respond_error(h, HTTP_STATUS_SERVICE_UNAVAILABLE, HD_EUNAVAILABLE,
				      "the registry is unavailable");
}

// ---- JSON answers ----

static cJSON *meeting_json(const Huddle__V1__Meeting *m)
{
	cJSON *o = gw_http_meeting_json(m);
	if (o == NULL)
		return NULL;
	// gw_http_meeting_json may already carry these (the meeting record's fields).
	if (!cJSON_HasObjectItem(o, "created_at_ms"))
		cJSON_AddNumberToObject(o, "created_at_ms", (double)m->created_at_ms);
	if (!cJSON_HasObjectItem(o, "access_mode"))
		cJSON_AddStringToObject(o, "access_mode", gw_http_access_mode_name(m->access_mode));
	if (!cJSON_HasObjectItem(o, "starts_at_ms"))
		cJSON_AddNumberToObject(o, "starts_at_ms", (double)m->starts_at_ms);
	return o;
}

static cJSON *status_json(const Huddle__V1__MeetingStatus *st)
{
	cJSON *o = meeting_json(st->meeting), *ps, *ws;
	if (o == NULL || (ps = cJSON_AddArrayToObject(o, "participants")) == NULL ||
	    (ws = cJSON_AddArrayToObject(o, "waiting")) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	for (size_t i = 0; i < st->n_participants; i++) {
		const Huddle__V1__Participant *p = st->participants[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddItemToArray(ps, j);
		cJSON_AddStringToObject(j, "id", p->id);
		cJSON_AddStringToObject(j, "display_name", p->display_name);
		cJSON_AddStringToObject(j, "role", p->role == HUDDLE__V1__ROLE__ROLE_HOST ? "host" : "guest");
		cJSON_AddNumberToObject(j, "hand_raised_at_ms", (double)p->hand_raised_at_ms);
	}
	for (size_t i = 0; i < st->n_waiting; i++) {
		const Huddle__V1__WaitingParticipant *w = st->waiting[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddItemToArray(ws, j);
		cJSON_AddStringToObject(j, "id", w->id);
		cJSON_AddStringToObject(j, "display_name", w->display_name);
		cJSON_AddNumberToObject(j, "waiting_since_ms", (double)w->waiting_since_ms);
	}
	return o;
}

static cJSON *space_json(const Huddle__V1__GetSpaceReply *g)
{
	cJSON *o = cJSON_CreateObject(), *list;
	cJSON_AddStringToObject(o, "space_id", g->space_id);
	cJSON_AddStringToObject(o, "title", g->title);
	cJSON_AddNumberToObject(o, "created_at_ms", (double)g->created_at_ms);
	if ((list = cJSON_AddArrayToObject(o, "meetings")) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	for (size_t i = 0; i < g->n_meetings; i++)
		if (g->meetings[i] != NULL && g->meetings[i]->meeting != NULL)
			cJSON_AddItemToArray(list, status_json(g->meetings[i]));
	return o;
}

// ---- spaces ----

// POST /api/spaces {title}
static void space_create(struct gw_http *h)
{
	cJSON *json = parse_body(h);
	const char *title;
	if (json == NULL || (title = string_field(h, json, "title")) == NULL) {
		cJSON_Delete(json);
		return;
	}
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__CreateSpaceRequest cs = HUDDLE__V1__CREATE_SPACE_REQUEST__INIT;
	cs.title = (char *)title;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_CREATE_SPACE;
	req.create_space = &cs;
	api_call(h, GW_OP_HTTP_SPACE_CREATE, &req);
	cJSON_Delete(json);
}

// GET /api/space (Bearer space key)
static void space_get(struct gw_http *h)
{
	char key[GW_HOST_KEY_MAX + 1];
	if (!need_key(h, key))
		return;
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__GetSpaceRequest gs = HUDDLE__V1__GET_SPACE_REQUEST__INIT;
	gs.space_key = key;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_GET_SPACE;
	req.get_space = &gs;
	api_call(h, GW_OP_HTTP_SPACE_GET, &req);
	OPENSSL_cleanse(key, sizeof(key));
}

// POST /api/space/meetings (Bearer space key) {title, starts_at_ms?, access_mode?}
static void space_meeting(struct gw_http *h)
{
	char key[GW_HOST_KEY_MAX + 1];
	cJSON *json;
	const char *title;
	if (!need_key(h, key))
		return;
	if ((json = parse_body(h)) == NULL || (title = string_field(h, json, "title")) == NULL)
		goto done;
	const cJSON *starts = cJSON_GetObjectItemCaseSensitive(json, "starts_at_ms"),
		    *mode = cJSON_GetObjectItemCaseSensitive(json, "access_mode");
	if (starts != NULL && !cJSON_IsNull(starts) && (!cJSON_IsNumber(starts) || starts->valuedouble < 0)) {
		gw_http_respond_error(h, HTTP_STATUS_BAD_REQUEST, HD_EBADREQUEST,
				      "starts_at_ms must be a Unix time in milliseconds");
		goto done;
	}
	int m = mode == NULL || cJSON_IsNull(mode) ? 0 : mode_parse(mode);
	if (m < 0) {
		gw_http_respond_error(h, HTTP_STATUS_BAD_REQUEST, HD_EBADREQUEST,
				      "access_mode must be open, waiting_room, locked or token_only");
		goto done;
	}
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__CreateMeetingRequest cm = HUDDLE__V1__CREATE_MEETING_REQUEST__INIT;
	cm.title = (char *)title;
	cm.space_key = key;
	cm.starts_at_ms = starts != NULL && cJSON_IsNumber(starts) ? (int64_t)starts->valuedouble : 0;
	cm.access_mode = (Huddle__V1__AccessMode)m;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_CREATE_MEETING;
	req.create_meeting = &cm;
	api_call(h, GW_OP_HTTP_SPACE_MEETING, &req);
done:
	cJSON_Delete(json);
	OPENSSL_cleanse(key, sizeof(key));
}

// ---- a meeting's host actions ----

// POST /api/meetings/<id>/admit (Bearer host or space key)
// {participant_ids: [...] | all: true, deny?: bool}
static void meeting_admit(struct gw_http *h)
{
	char key[GW_HOST_KEY_MAX + 1];
	char *ids[GW_ADMIT_IDS_MAX];
	size_t n = 0;
	cJSON *json;
	if (!need_key(h, key))
		return;
	if ((json = parse_body(h)) == NULL)
		goto done;
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(json, "all"),
		    *deny = cJSON_GetObjectItemCaseSensitive(json, "deny"),
		    *list = cJSON_GetObjectItemCaseSensitive(json, "participant_ids"), *it;
	bool everyone = cJSON_IsTrue(all);
	if (!everyone) {
		if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0 ||
		    cJSON_GetArraySize(list) > GW_ADMIT_IDS_MAX) {
			gw_http_respond_error(h, HTTP_STATUS_BAD_REQUEST, HD_EBADREQUEST,
					      "participant_ids must list 1 to " HD_XSTR(
						      GW_ADMIT_IDS_MAX) " participants, or all must be true");
			goto done;
		}
		cJSON_ArrayForEach(it, list)
		{
			if (!cJSON_IsString(it) || !hd_id_valid(it->valuestring)) {
				gw_http_respond_error(h, HTTP_STATUS_BAD_REQUEST, HD_EBADREQUEST,
						      "a participant id is not valid");
				goto done;
			}
			ids[n++] = it->valuestring;
		}
	}
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RegistryAdmitRequest ra = HUDDLE__V1__REGISTRY_ADMIT_REQUEST__INIT;
	Huddle__V1__Actor actor = HUDDLE__V1__ACTOR__INIT;
	actor.host_key = key;
	ra.meeting_id = (char *)gw_http_arg(h);
	ra.actor = &actor;
	ra.all = everyone;
	ra.deny = cJSON_IsTrue(deny);
	ra.n_participant_ids = n;
	ra.participant_ids = ids;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_ADMIT;
	req.admit = &ra;
	api_call(h, GW_OP_HTTP_ADMIT, &req);
done:
	cJSON_Delete(json);
	OPENSSL_cleanse(key, sizeof(key));
}

// POST /api/meetings/<id>/access (Bearer host or space key) {access_mode}
static void meeting_access(struct gw_http *h)
{
	char key[GW_HOST_KEY_MAX + 1];
	cJSON *json;
	int m;
	if (!need_key(h, key))
		return;
	if ((json = parse_body(h)) == NULL)
		goto done;
	if ((m = mode_parse(cJSON_GetObjectItemCaseSensitive(json, "access_mode"))) < 0) {
		gw_http_respond_error(h, HTTP_STATUS_BAD_REQUEST, HD_EBADREQUEST,
				      "access_mode must be open, waiting_room, locked or token_only");
		goto done;
	}
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RegistrySetAccessRequest sa = HUDDLE__V1__REGISTRY_SET_ACCESS_REQUEST__INIT;
	Huddle__V1__Actor actor = HUDDLE__V1__ACTOR__INIT;
	actor.host_key = key;
	sa.meeting_id = (char *)gw_http_arg(h);
	sa.actor = &actor;
	sa.access_mode = (Huddle__V1__AccessMode)m;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_SET_ACCESS;
	req.set_access = &sa;
	api_call(h, GW_OP_HTTP_ACCESS, &req);
done:
	cJSON_Delete(json);
	OPENSSL_cleanse(key, sizeof(key));
}

// link_request is a links body, checked.
struct link_request {
	const char *name;
	enum hd_jwt_role role;
	int64_t ttl_s;
};

// link_parse reads {name?, role?, ttl_s?} from json into *lr, or answers
// 400 and returns false.
static bool link_parse(struct gw_http *h, const cJSON *json, struct link_request *lr)
{
	const cJSON *role = cJSON_GetObjectItemCaseSensitive(json, "role"),
		    *ttl = cJSON_GetObjectItemCaseSensitive(json, "ttl_s");
	if ((lr->name = string_field(h, json, "name")) == NULL)
		return false;
	if (strlen(lr->name) > HD_JWT_NAME_MAX || !hd_utf8_valid(lr->name, strlen(lr->name))) {
		gw_http_respond_error(h, HTTP_STATUS_BAD_REQUEST, HD_EBADREQUEST,
				      "name must be 0 to " HD_XSTR(HD_JWT_NAME_MAX) " bytes of UTF-8");
		return false;
	}
	lr->role = HD_JWT_GUEST;
	if (role != NULL && !cJSON_IsNull(role)) {
		if (cJSON_IsString(role) && strcmp(role->valuestring, "host") == 0) {
			lr->role = HD_JWT_HOST;
		} else if (!cJSON_IsString(role) || strcmp(role->valuestring, "guest") != 0) {
			gw_http_respond_error(h, HTTP_STATUS_BAD_REQUEST, HD_EBADREQUEST, "role must be guest or host");
			return false;
		}
	}
	lr->ttl_s = GW_JOIN_LINK_TTL_S;
	if (ttl != NULL && !cJSON_IsNull(ttl)) {
		if (!cJSON_IsNumber(ttl) || ttl->valuedouble < 1 || ttl->valuedouble > HD_JWT_TTL_MAX_S) {
			char msg[64];
			snprintf(msg, sizeof(msg), "ttl_s must be 1 to %d seconds", HD_JWT_TTL_MAX_S);
			gw_http_respond_error(h, HTTP_STATUS_BAD_REQUEST, HD_EBADREQUEST, msg);
			return false;
		}
		lr->ttl_s = (int64_t)ttl->valuedouble;
	}
	return true;
}

static bool links_configured(void)
{
	return gw.jwt.secret != NULL && gw.jwt.secret[0] != '\0';
}

// POST /api/meetings/<id>/links (Bearer host or space key) {name?, role?, ttl_s?}:
// CheckHost, then links_mint.
static void meeting_links(struct gw_http *h)
{
	char key[GW_HOST_KEY_MAX + 1];
	struct link_request lr;
	cJSON *json = NULL;
	if (!links_configured()) {
		gw_http_respond_error(h, HTTP_STATUS_SERVICE_UNAVAILABLE, HD_EUNAVAILABLE,
				      "signed join links are not configured (JOIN_TOKEN_SECRET)");
		return;
	}
	if (!need_key(h, key))
		return;
	if ((json = parse_body(h)) == NULL || !link_parse(h, json, &lr))
		goto done;
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__CheckHostRequest ch = HUDDLE__V1__CHECK_HOST_REQUEST__INIT;
	ch.meeting_id = (char *)gw_http_arg(h);
	ch.host_key = key;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_CHECK_HOST;
	req.check_host = &ch;
	api_call(h, GW_OP_HTTP_LINKS, &req);
done:
	cJSON_Delete(json);
	OPENSSL_cleanse(key, sizeof(key));
}

// links_mint answers a links request whose key the registry accepted.
static void links_mint(struct gw_http *h)
{
	struct link_request lr;
	char *token = NULL;
	const char *why = NULL;
	cJSON *json = parse_body(h); // read again: it passed before the CheckHost
	if (json == NULL || !link_parse(h, json, &lr)) {
		cJSON_Delete(json);
		return;
	}
	int64_t now = (int64_t)time(NULL);
	hd_err err = hd_jwt_mint(&gw.jwt, gw_http_arg(h), lr.name, lr.role, now, lr.ttl_s, &token, &why);
	cJSON_Delete(json);
	if (err != HD_OK) {
		gw_http_respond_error(h, gw_http_status_of(err), err, why);
		return;
	}
	size_t plen = strlen(token) + HD_ID_LEN + 16;
	char *path = malloc(plen);
	cJSON *o = cJSON_CreateObject();
	if (path != NULL && o != NULL) {
		snprintf(path, plen, "/m/%s#jwt=%s", gw_http_arg(h), token);
		cJSON_AddStringToObject(o, "token", token);
		cJSON_AddStringToObject(o, "path", path);
		cJSON_AddNumberToObject(o, "expires_at_ms", (double)(now + lr.ttl_s) * 1000.0);
		gw_http_respond_json(h, 201, o);
	} else {
		cJSON_Delete(o);
		gw_http_respond_error(h, HTTP_STATUS_INTERNAL_SERVER_ERROR, HD_ENOMEM, NULL);
	}
	free(path);
	free(token);
}

// ---- routing ----

// with_body serves h with fn once its body is read (now if it has none).
static void with_body(struct gw_http *h, gw_http_body_fn *fn, const char *arg)
{
	gw_http_expect_body(h, fn, arg);
	if (lws_hdr_total_length(gw_http_wsi(h), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
		fn(h);
}

static void not_allowed(struct gw_http *h, const char *use)
{
	gw_http_respond_error(h, HTTP_STATUS_METHOD_NOT_ALLOWED, HD_EBADREQUEST, use);
}

bool gw_access_http_route(struct gw_http *h, const char *uri, enum gw_http_method method)
{
	bool get = method == GW_HTTP_GET || method == GW_HTTP_HEAD, post = method == GW_HTTP_POST;
	if (strcmp(uri, "/api/spaces") == 0) {
		if (!post)
			not_allowed(h, "use POST");
		else
			with_body(h, space_create, NULL);
		return true;
	}
	if (strcmp(uri, "/api/space") == 0) {
		if (!get)
			not_allowed(h, "use GET");
		else
			space_get(h);
		return true;
	}
	if (strcmp(uri, "/api/space/meetings") == 0) {
		if (!post)
			not_allowed(h, "use POST");
		else
			with_body(h, space_meeting, NULL);
		return true;
	}
	if (strncmp(uri, "/api/meetings/", 14) != 0)
		return false;
	const char *rest = uri + 14, *slash = strchr(rest, '/');
	gw_http_body_fn *fn = NULL;
	if (slash == NULL)
		return false;
	if (strcmp(slash, "/admit") == 0)
		fn = meeting_admit;
	else if (strcmp(slash, "/access") == 0)
		fn = meeting_access;
	else if (strcmp(slash, "/links") == 0)
		fn = meeting_links;
	else
		return false;
	char id[HD_ID_LEN + 1] = "";
	if (slash - rest == HD_ID_LEN)
		memcpy(id, rest, HD_ID_LEN);
	if (!post)
		not_allowed(h, "use POST");
	else if (!hd_id_valid(id))
		gw_http_respond_error(h, HTTP_STATUS_NOT_FOUND, HD_EUNKNOWNMEETING, "no meeting has that id");
	else
		with_body(h, fn, id);
	return true;
}

void gw_access_http_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	struct gw_http *h = gw_http_waited(p);
	if (h == NULL)
		return; // the client went away
	if (err == HD_OK && r->error != NULL && r->error->code != 0)
		err = (hd_err)r->error->code;
	if (err != HD_OK) {
		const char *msg =
			r != NULL && r->error != NULL && r->error->message[0] != '\0' ? r->error->message : NULL;
		gw_http_respond_error(h, gw_http_status_of(err), err, msg);
		return;
	}
	cJSON *o = NULL;
	int status = HTTP_STATUS_OK;
	switch (p->op) {
	case GW_OP_HTTP_SPACE_CREATE:
		if (r->body_case != HUDDLE__V1__REGISTRY_REPLY__BODY_CREATE_SPACE)
			break;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "space_id", r->create_space->space_id);
		cJSON_AddStringToObject(o, "space_key", r->create_space->space_key);
		cJSON_AddStringToObject(o, "title", r->create_space->title);
		status = 201;
		break;
	case GW_OP_HTTP_SPACE_GET:
		if (r->body_case == HUDDLE__V1__REGISTRY_REPLY__BODY_GET_SPACE)
			o = space_json(r->get_space);
		break;
	case GW_OP_HTTP_SPACE_MEETING:
		if (r->body_case != HUDDLE__V1__REGISTRY_REPLY__BODY_CREATE_MEETING ||
		    r->create_meeting->meeting == NULL)
			break;
		o = meeting_json(r->create_meeting->meeting);
		if (o != NULL && r->create_meeting->host_key[0] != '\0' && !cJSON_HasObjectItem(o, "host_key"))
			cJSON_AddStringToObject(o, "host_key", r->create_meeting->host_key);
		status = 201;
		break;
	case GW_OP_HTTP_ADMIT:
		o = cJSON_CreateObject();
		break;
	case GW_OP_HTTP_ACCESS:
		if (r->body_case == HUDDLE__V1__REGISTRY_REPLY__BODY_SET_ACCESS && r->set_access->meeting != NULL)
			o = meeting_json(r->set_access->meeting);
		break;
	case GW_OP_HTTP_LINKS:
		if (r->body_case != HUDDLE__V1__REGISTRY_REPLY__BODY_CHECK_HOST)
			break;
		links_mint(h);
		return;
	default:
		break;
	}
	if (o == NULL)
		gw_http_respond_error(h, HTTP_STATUS_INTERNAL_SERVER_ERROR, HD_EINTERNAL,
				      "bad reply from the registry");
	else
		gw_http_respond_json(h, status, o);
}

// ---- exports and the recordings list ----

hd_err gw_access_http_meeting_call(struct gw_http *h, enum gw_op op, const char *meeting_id)
{
	char key[GW_HOST_KEY_MAX + 1], who[HD_ID_LEN + 1];
	int n = bearer(h, key);
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__GetMeetingRequest gm = HUDDLE__V1__GET_MEETING_REQUEST__INIT;
	Huddle__V1__CheckHostRequest ch = HUDDLE__V1__CHECK_HOST_REQUEST__INIT;
	gw_http_set_authorized(h, false);
	if (n > 0 && gw_rectoken_verify(gw.cfg.recording_token_secret, meeting_id, key, (size_t)n, (int64_t)time(NULL),
					who) == GW_RECTOKEN_OK)
		gw_http_set_authorized(h, true); // minted only for a participant in the call
	if (n > 0 && !gw_http_authorized(h)) {
		ch.meeting_id = (char *)meeting_id;
		ch.host_key = key;
		req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_CHECK_HOST;
		req.check_host = &ch;
	} else {
		gm.meeting_id = (char *)meeting_id;
		req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_GET_MEETING;
		req.get_meeting = &gm;
	}
	hd_err err = gw_http_registry_call(h, op, &req);
	OPENSSL_cleanse(key, sizeof(key));
	return err;
}

Huddle__V1__RegistryReply *gw_access_http_check(struct gw_http *h, hd_err err, Huddle__V1__RegistryReply *r,
						struct gw_access_checked *c)
{
	const Huddle__V1__Meeting *m = NULL;
	if (err != HD_OK || r == NULL || (r->error != NULL && r->error->code != HUDDLE__V1__ERROR_CODE__ERROR_CODE_OK))
		return r;
	if (r->body_case == HUDDLE__V1__REGISTRY_REPLY__BODY_CHECK_HOST) {
		m = r->check_host->meeting;
		gw_http_set_authorized(h, true);
		c->reply = *r;
		huddle__v1__get_meeting_reply__init(&c->get);
		c->get.meeting = r->check_host->meeting;
		c->reply.body_case = HUDDLE__V1__REGISTRY_REPLY__BODY_GET_MEETING;
		c->reply.get_meeting = &c->get;
		r = &c->reply;
	} else if (r->body_case == HUDDLE__V1__REGISTRY_REPLY__BODY_GET_MEETING) {
		m = r->get_meeting->meeting;
	}
	if (m == NULL || gw_http_authorized(h) || m->access_mode == HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_OPEN ||
	    m->access_mode == HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_UNSPECIFIED)
		return r;
	c->reply = *r;
	huddle__v1__error__init(&c->error);
	c->error.code = HUDDLE__V1__ERROR_CODE__ERROR_CODE_FORBIDDEN;
	c->error.message = "this meeting is not open: send Authorization: Bearer <host key or recording token>";
	c->reply.error = &c->error;
	return &c->reply;
}
