// recjson.h: the JSON forms of the recordings API (README, "Recordings"):
// a recording as the API shows it, a chunk's answer, and the bodies of
// create and finish. Pure functions; any thread.
#ifndef GW_RECJSON_H
#define GW_RECJSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "huddle/v1/recording.pb-c.h"

#define GW_RECJSON_NAME_MAX 64  // bytes of a recorder's name (UTF-8), as a display name
#define GW_RECJSON_MIME_MAX 128 // bytes of a mime type

// gw_recjson_create is the body of a create: {"kind": "camera"|"screen"|
// "meeting", "name": ..., "mimeType": ... (optional, default "video/webm")}.
struct gw_recjson_create {
	Huddle__V1__RecordingKind kind;
	char name[GW_RECJSON_NAME_MAX + 1];
	char mime[GW_RECJSON_MIME_MAX + 1];
};

// gw_recjson_kind and gw_recjson_state name a kind ("camera", "screen",
// "meeting") and a state ("recording", "assembling", "ready", "failed");
// "unspecified" for any other value.
const char *gw_recjson_kind(Huddle__V1__RecordingKind kind);
const char *gw_recjson_state(Huddle__V1__RecordingState state);

// gw_recjson_recording is x as the API shows it: {id, meetingId, kind,
// state, recorderId, recorderName, createdAtMs, updatedAtMs, chunks, bytes,
// durationMs, error, mimeType, url} (url: the file's path). The caller's;
// NULL on ENOMEM.
cJSON *gw_recjson_recording(const Huddle__V1__Recording *x);

// gw_recjson_chunk is the answer to chunk `index`: {index, duplicate,
// recording}. The caller's; NULL on ENOMEM.
cJSON *gw_recjson_chunk(uint32_t index, bool duplicate, const Huddle__V1__Recording *x);

// gw_recjson_parse_create and gw_recjson_parse_finish read a request body
// (len bytes). They return NULL, or why the body is refused (static text
// for the client). The mime type is only checked for its size here:
// huddle-recording says which types it takes.
const char *gw_recjson_parse_create(const char *body, size_t len, struct gw_recjson_create *out);
const char *gw_recjson_parse_finish(const char *body, size_t len, uint32_t *chunks);

#endif
