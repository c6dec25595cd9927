// export.h: a meeting's content over HTTP: the chat (GET
// /api/meetings/<id>/chat, JSON or Markdown, read page by page from
// huddle-chat) and the shared documents (GET /api/meetings/<id>/notes.md and
// /code: the newest snapshot's plain text from huddle-notes). An export is a
// sub-protocol of one HTTP request (http.c): the registry checks the
// meeting, then the service is read, then http.c streams the response.
// Service thread only.
#ifndef GW_EXPORT_H
#define GW_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway/gateway.h"

struct gw_http;
struct gw_export;

// gw_export_chat and gw_export_notes start an export for h (meeting_id
// copied; document a DocumentKind). They return the export in progress,
// which h keeps and frees with gw_export_free, or NULL once h is answered
// already (an unknown meeting id, no memory, the registry unavailable).
struct gw_export *gw_export_chat(struct gw_http *h, const char *meeting_id, bool markdown);
struct gw_export *gw_export_notes(struct gw_http *h, const char *meeting_id, uint32_t document);

// gw_export_on_meeting, gw_export_on_chat_reply and gw_export_on_notes_reply
// continue export e of h with the reply to the call it made (r NULL on
// transport error err; borrowed). Each either makes the next call or
// answers h.
void gw_export_on_meeting(struct gw_export *e, struct gw_http *h, hd_err err, Huddle__V1__RegistryReply *r);
void gw_export_on_chat_reply(struct gw_export *e, struct gw_http *h, hd_err err, Huddle__V1__ChatReply *r);
void gw_export_on_notes_reply(struct gw_export *e, struct gw_http *h, hd_err err, Huddle__V1__NotesReply *r);

// gw_export_extension returns the file extension of a code pad language id
// ("python" -> "py"), "txt" for one we do not know.
const char *gw_export_extension(const char *language);

// gw_export_free frees e. NULL is a no-op.
void gw_export_free(struct gw_export *e);

#endif
