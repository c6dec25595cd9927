// recjson.c: recordings as JSON, and the JSON bodies of create and finish.
#include "gateway/recjson.h"

#include <stdio.h>
#include <string.h>

#include "common/util.h"

static const char *const kind_names[] = {
	[HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_CAMERA] = "camera",
	[HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_SCREEN] = "screen",
	[HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_MEETING] = "meeting",
};

static const char *const state_names[] = {
	[HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_RECORDING] = "recording",
	[HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_ASSEMBLING] = "assembling",
	[HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_READY] = "ready",
	[HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_FAILED] = "failed",
};

static const char *name_of(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n && names[v] != NULL ? names[v] : "unspecified";
}

const char *gw_recjson_kind(Huddle__V1__RecordingKind kind)
{
	return name_of(kind_names, sizeof(kind_names) / sizeof(kind_names[0]), (int)kind);
}

const char *gw_recjson_state(Huddle__V1__RecordingState state)
{
	return name_of(state_names, sizeof(state_names) / sizeof(state_names[0]), (int)state);
}

cJSON *gw_recjson_recording(const Huddle__V1__Recording *x)
{
	char url[96];
	cJSON *o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	snprintf(url, sizeof(url), "/api/meetings/%s/recordings/%s/file", x->meeting_id, x->id);
	if (cJSON_AddStringToObject(o, "id", x->id) == NULL ||
	    cJSON_AddStringToObject(o, "meetingId", x->meeting_id) == NULL ||
	    cJSON_AddStringToObject(o, "kind", gw_recjson_kind(x->kind)) == NULL ||
	    cJSON_AddStringToObject(o, "state", gw_recjson_state(x->state)) == NULL ||
	    cJSON_AddStringToObject(o, "recorderId", x->recorder_id) == NULL ||
	    cJSON_AddStringToObject(o, "recorderName", x->recorder_name) == NULL ||
	    cJSON_AddNumberToObject(o, "createdAtMs", (double)x->created_at_ms) == NULL ||
	    cJSON_AddNumberToObject(o, "updatedAtMs", (double)x->updated_at_ms) == NULL ||
	    cJSON_AddNumberToObject(o, "chunks", (double)x->chunks) == NULL ||
	    cJSON_AddNumberToObject(o, "bytes", (double)x->bytes) == NULL ||
	    cJSON_AddNumberToObject(o, "durationMs", (double)x->duration_ms) == NULL ||
	    cJSON_AddStringToObject(o, "error", x->error) == NULL ||
	    cJSON_AddStringToObject(o, "mimeType", x->mime_type) == NULL ||
	    cJSON_AddStringToObject(o, "url", url) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *gw_recjson_chunk(uint32_t index, bool duplicate, const Huddle__V1__Recording *x)
{
	cJSON *o = cJSON_CreateObject(), *rec = gw_recjson_recording(x);
	if (o == NULL || rec == NULL || cJSON_AddNumberToObject(o, "index", (double)index) == NULL ||
	    cJSON_AddBoolToObject(o, "duplicate", duplicate) == NULL) {
		cJSON_Delete(o);
		cJSON_Delete(rec);
		return NULL;
	}
	cJSON_AddItemToObject(o, "recording", rec);
	return o;
}

// parse_object parses body as a JSON object; NULL when it is none.
static cJSON *parse_object(const char *body, size_t len)
{
	cJSON *json = cJSON_ParseWithLength(body, len);
	if (json != NULL && !cJSON_IsObject(json)) {
		cJSON_Delete(json);
		return NULL;
	}
	return json;
}

// create_fields reads json's fields into out; see gw_recjson_parse_create.
static const char *create_fields(const cJSON *json, struct gw_recjson_create *out)
{
	static const struct {
		const char *name;
		Huddle__V1__RecordingKind kind;
	} kinds[] = {
		{"camera", HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_CAMERA},
		{"screen", HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_SCREEN},
		{"meeting", HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_MEETING},
	};
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(json, "kind");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(json, "name");
	const cJSON *mime = cJSON_GetObjectItemCaseSensitive(json, "mimeType");
	out->kind = HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_UNSPECIFIED;
	for (size_t i = 0; cJSON_IsString(kind) && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind->valuestring, kinds[i].name) == 0)
			out->kind = kinds[i].kind;
	if (out->kind == HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_UNSPECIFIED)
		return "kind must be \"camera\", \"screen\" or \"meeting\"";
	size_t n = cJSON_IsString(name) ? strlen(name->valuestring) : 0;
	if (n == 0 || n > GW_RECJSON_NAME_MAX || !hd_utf8_valid(name->valuestring, n))
		return "name must be 1 to 64 bytes of UTF-8";
	memcpy(out->name, name->valuestring, n + 1);
	// MediaRecorder's type, e.g. "video/webm;codecs=vp8,opus".
	snprintf(out->mime, sizeof(out->mime), "video/webm");
	if (mime != NULL && !cJSON_IsNull(mime)) {
		size_t len = cJSON_IsString(mime) ? strlen(mime->valuestring) : 0;
		if (len == 0 || len > GW_RECJSON_MIME_MAX)
			return "mimeType must be a string of 1 to 128 bytes (video/webm, codecs parameters allowed)";
		memcpy(out->mime, mime->valuestring, len + 1);
	}
	return NULL;
}

const char *gw_recjson_parse_create(const char *body, size_t len, struct gw_recjson_create *out)
{
	cJSON *json = parse_object(body, len);
	if (json == NULL)
		return "the body must be a JSON object";
	const char *why = create_fields(json, out);
	cJSON_Delete(json);
	return why;
}

const char *gw_recjson_parse_finish(const char *body, size_t len, uint32_t *chunks)
{
	cJSON *json = parse_object(body, len);
	if (json == NULL)
		return "the body must be a JSON object";
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(json, "chunks");
	bool ok = cJSON_IsNumber(n) && n->valuedouble >= 0 && n->valuedouble <= UINT32_MAX &&
		  n->valuedouble == (double)(uint32_t)n->valuedouble;
	if (ok)
		*chunks = (uint32_t)n->valuedouble;
	cJSON_Delete(json);
	return ok ? NULL : "chunks must be a whole number from 0 to 4294967295";
}
