// rooms.h: one Janus VideoRoom per meeting, driven through the VideoRoom
// plugin's synchronous requests (https://janus.conf.meetecho.com/docs/videoroom:
// exists, create, allowed, kick, destroy, list). The room id is the meeting
// id (the plugin runs with string_ids). A room's secret and pin, and each
// participant's publisher token, are HMAC-SHA256 of the room (and the
// participant) under the key (JANUS_API_SECRET), base64url: unguessable
// without the key, and the same after huddle-media restarts, so it can
// manage rooms it created before without keeping state.
#ifndef MEDIA_ROOMS_H
#define MEDIA_ROOMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "media/janus.h"

// MEDIA_SECRET_LEN, MEDIA_PIN_LEN, MEDIA_TOKEN_LEN: characters of a room's
// secret, its pin and a publisher token (base64url of HMAC-SHA256, cut).
#define MEDIA_SECRET_LEN 32
#define MEDIA_PIN_LEN 16
#define MEDIA_TOKEN_LEN 32
// MEDIA_ROOM_DESCRIPTION marks the rooms huddle-media created (cleanup
// destroys only those).
#define MEDIA_ROOM_DESCRIPTION "huddle"

// media_rooms is what every room operation needs (borrowed, shared by the
// worker threads; read-only after set-up).
struct media_rooms {
	struct media_janus *janus;
	const char *key;         // JANUS_API_SECRET: the VideoRoom admin_key and the HMAC key
	uint32_t publishers_max; // a room's publisher limit when the request names none
	uint32_t bitrate;        // a publisher's bitrate cap, bits/s (0: Janus's default)
};

// media_derive writes base64url(HMAC-SHA256(key, label ":" room [":" participant]))
// cut to len characters (at most 43) and a NUL into out (len + 1 bytes).
// participant may be NULL.
void media_derive(const char *key, const char *label, const char *room, const char *participant, char *out, size_t len);

// media_room_ensure creates the meeting's room (publishers: limit, 0 for
// publishers_max) unless it exists; *created says which. Errors as
// media_janus_message, why (MEDIA_JANUS_WHY_MAX bytes) set.
hd_err media_room_ensure(const struct media_rooms *r, const char *meeting, uint32_t publishers, bool *created,
			 char *why);

// media_room_allow adds the participant's token (written to token,
// MEDIA_TOKEN_LEN + 1 bytes) to the room's allowed list. HD_EUNKNOWNMEETING
// when the room does not exist; other errors as media_janus_message.
hd_err media_room_allow(const struct media_rooms *r, const char *meeting, const char *participant, char *token,
			char *why);

// media_room_revoke removes the participant's token and kicks their
// publisher (publisher id = participant id); *kicked says whether they were
// in the room. No room is not an error (*kicked false). Errors as
// media_janus_message.
hd_err media_room_revoke(const struct media_rooms *r, const char *meeting, const char *participant, bool *kicked,
			 char *why);

// media_room_destroy destroys the meeting's room; *destroyed is false when
// there was none. Errors as media_janus_message.
hd_err media_room_destroy(const struct media_rooms *r, const char *meeting, bool *destroyed, char *why);

// media_room_cleanup destroys every Huddle room (MEDIA_ROOM_DESCRIPTION)
// whose id is not among active[0..n_active). For each destroyed room it
// calls on_destroyed(arg, room id) (the string lives for the call only);
// *kept counts the Huddle rooms left. Errors as media_janus_message (rooms
// destroyed before the error stay destroyed).
hd_err media_room_cleanup(const struct media_rooms *r, const char *const *active, size_t n_active,
			  void (*on_destroyed)(void *arg, const char *room), void *arg, uint32_t *kept, char *why);

#endif
