// rooms.c: the VideoRoom requests behind huddle-media's calls (see rooms.h).
#include "media/rooms.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

// VideoRoom error codes (janus_videoroom.c, JANUS_VIDEOROOM_ERROR_*).
#define VR_NO_SUCH_ROOM 426
#define VR_ROOM_EXISTS 427
#define VR_NO_SUCH_FEED 428

// DERIVE_MAX is the room for a derived value: base64url of 32 bytes.
#define DERIVE_MAX 44

void media_derive(const char *key, const char *label, const char *room, const char *participant, char *out, size_t len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char msg[512], enc[DERIVE_MAX + 4];
	int n = snprintf(msg, sizeof(msg), "%s:%s%s%s", label, room, participant != NULL ? ":" : "",
			 participant != NULL ? participant : "");
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = (int)sizeof(msg) - 1; // ids are validated far shorter; never reached
	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg, (size_t)n, mac, &mac_len);
	hd_base64url_encode(mac, mac_len, enc);
	if (len > DERIVE_MAX - 1)
		len = DERIVE_MAX - 1;
	memcpy(out, enc, len);
	out[len] = '\0';
}

// vr_error returns the VideoRoom error code of an answer (0: none) and
// writes its text into why.
static int vr_error(const cJSON *data, char *why)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(data, "error_code");
	if (!cJSON_IsNumber(code))
		return 0;
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(data, "error");
	snprintf(why, MEDIA_JANUS_WHY_MAX, "VideoRoom error %d: %s", code->valueint,
		 cJSON_IsString(text) ? text->valuestring : "(no text)");
	return code->valueint;
}

// request sends {"request": verb, "room": room} plus what fill adds, and
// returns the answer in *data (the caller's). A VideoRoom error is returned
// as HD_EINTERNAL unless it is `tolerated` (then HD_OK, *vr_code set).
static hd_err request(const struct media_rooms *r, cJSON *body, cJSON **data, int tolerated, int *vr_code, char *why)
{
	hd_err err = media_janus_message(r->janus, body, data, why);
	if (vr_code != NULL)
		*vr_code = 0;
	if (err != HD_OK)
		return err;
	int code = vr_error(*data, why);
	if (vr_code != NULL)
		*vr_code = code;
	if (code != 0 && code != tolerated) {
		cJSON_Delete(*data);
		*data = NULL;
		return HD_EINTERNAL;
	}
	return HD_OK;
}

// room_body starts {"request": verb, "room": meeting, "secret": its secret}.
static cJSON *room_body(const struct media_rooms *r, const char *verb, const char *meeting)
{
	char secret[MEDIA_SECRET_LEN + 1];
	cJSON *b = cJSON_CreateObject();
	media_derive(r->key, "secret", meeting, NULL, secret, MEDIA_SECRET_LEN);
	if (b == NULL || cJSON_AddStringToObject(b, "request", verb) == NULL ||
	    cJSON_AddStringToObject(b, "room", meeting) == NULL ||
	    cJSON_AddStringToObject(b, "secret", secret) == NULL) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

static hd_err oom(char *why)
{
	snprintf(why, MEDIA_JANUS_WHY_MAX, "out of memory");
	return HD_ENOMEM;
}

// exists asks whether the meeting's room exists.
static hd_err exists(const struct media_rooms *r, const char *meeting, bool *yes, char *why)
{
	cJSON *b = room_body(r, "exists", meeting), *data = NULL;
	if (b == NULL)
		return oom(why);
	hd_err err = request(r, b, &data, 0, NULL, why);
	cJSON_Delete(b);
	if (err == HD_OK)
		*yes = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data, "exists"));
	cJSON_Delete(data);
	return err;
}

// allowed runs the `allowed` request with action on tokens (may be NULL).
static hd_err allowed(const struct media_rooms *r, const char *meeting, const char *action, const char *token,
		      int *vr_code, char *why)
{
	cJSON *b = room_body(r, "allowed", meeting), *data = NULL;
	if (b == NULL || cJSON_AddStringToObject(b, "action", action) == NULL)
		goto nomem;
	if (token != NULL) {
		cJSON *list = cJSON_AddArrayToObject(b, "allowed");
		cJSON *t = cJSON_CreateString(token);
		if (list == NULL || t == NULL || !cJSON_AddItemToArray(list, t)) {
			cJSON_Delete(t);
			goto nomem;
		}
	}
	hd_err err = request(r, b, &data, VR_NO_SUCH_ROOM, vr_code, why);
	cJSON_Delete(b);
	cJSON_Delete(data);
	return err;
nomem:
	cJSON_Delete(b);
	return oom(why);
}

hd_err media_room_ensure(const struct media_rooms *r, const char *meeting, uint32_t publishers, bool *created,
			 char *why)
{
	bool yes = false;
	hd_err err;
	*created = false;
	if ((err = exists(r, meeting, &yes, why)) != HD_OK || yes)
		return err;

	char pin[MEDIA_PIN_LEN + 1];
	media_derive(r->key, "pin", meeting, NULL, pin, MEDIA_PIN_LEN);
	cJSON *b = room_body(r, "create", meeting), *data = NULL;
	if (b == NULL || cJSON_AddStringToObject(b, "admin_key", r->key) == NULL ||
	    cJSON_AddStringToObject(b, "description", MEDIA_ROOM_DESCRIPTION) == NULL ||
	    cJSON_AddStringToObject(b, "pin", pin) == NULL || cJSON_AddFalseToObject(b, "is_private") == NULL ||
	    cJSON_AddTrueToObject(b, "require_pvtid") == NULL ||
	    cJSON_AddNumberToObject(b, "publishers", publishers != 0 ? publishers : r->publishers_max) == NULL ||
	    cJSON_AddNumberToObject(b, "bitrate", r->bitrate) == NULL ||
	    cJSON_AddTrueToObject(b, "audiolevel_event") == NULL ||
	    cJSON_AddStringToObject(b, "videocodec", "vp8") == NULL || cJSON_AddFalseToObject(b, "permanent") == NULL) {
		cJSON_Delete(b);
		return oom(why);
	}
	int code = 0;
	err = request(r, b, &data, VR_ROOM_EXISTS, &code, why);
	cJSON_Delete(b);
	cJSON_Delete(data);
	if (err != HD_OK)
		return err;
	if (code == VR_ROOM_EXISTS)
		return HD_OK; // another worker created it in between: reuse it
	// Tokens are checked from now on: only participants allowed through
	// media_room_allow may publish.
	if ((err = allowed(r, meeting, "enable", NULL, &code, why)) != HD_OK)
		return err;
	*created = true;
	return HD_OK;
}

hd_err media_room_allow(const struct media_rooms *r, const char *meeting, const char *participant, char *token,
			char *why)
{
	int code = 0;
	media_derive(r->key, "token", meeting, participant, token, MEDIA_TOKEN_LEN);
	hd_err err = allowed(r, meeting, "add", token, &code, why);
	if (err == HD_OK && code == VR_NO_SUCH_ROOM)
		return HD_EUNKNOWNMEETING;
	return err;
}

hd_err media_room_revoke(const struct media_rooms *r, const char *meeting, const char *participant, bool *kicked,
			 char *why)
{
	char token[MEDIA_TOKEN_LEN + 1];
	int code = 0;
	*kicked = false;
	media_derive(r->key, "token", meeting, participant, token, MEDIA_TOKEN_LEN);
	hd_err err = allowed(r, meeting, "remove", token, &code, why);
	if (err != HD_OK || code == VR_NO_SUCH_ROOM)
		return err;
	cJSON *b = room_body(r, "kick", meeting), *data = NULL;
	if (b == NULL || cJSON_AddStringToObject(b, "id", participant) == NULL) {
		cJSON_Delete(b);
		return oom(why);
	}
	// No such feed: they were not publishing. No such room: destroyed meanwhile.
	err = request(r, b, &data, VR_NO_SUCH_FEED, &code, why);
	if (err == HD_EINTERNAL && code == VR_NO_SUCH_ROOM)
		err = HD_OK;
	else if (err == HD_OK && code == 0)
		*kicked = true;
	cJSON_Delete(b);
	cJSON_Delete(data);
	return err;
}

hd_err media_room_destroy(const struct media_rooms *r, const char *meeting, bool *destroyed, char *why)
{
	cJSON *b = room_body(r, "destroy", meeting), *data = NULL;
	int code = 0;
	*destroyed = false;
	if (b == NULL)
		return oom(why);
	hd_err err = request(r, b, &data, VR_NO_SUCH_ROOM, &code, why);
	cJSON_Delete(b);
	cJSON_Delete(data);
	if (err == HD_OK && code == 0)
		*destroyed = true;
	return err;
}

hd_err media_room_cleanup(const struct media_rooms *r, const char *const *active, size_t n_active,
			  void (*on_destroyed)(void *arg, const char *room), void *arg, uint32_t *kept, char *why)
{
	cJSON *b = cJSON_CreateObject(), *data = NULL;
	*kept = 0;
	if (b == NULL || cJSON_AddStringToObject(b, "request", "list") == NULL ||
	    cJSON_AddStringToObject(b, "admin_key", r->key) == NULL) {
		cJSON_Delete(b);
		return oom(why);
	}
	hd_err err = request(r, b, &data, 0, NULL, why);
	cJSON_Delete(b);
	if (err != HD_OK)
		return err;
	const cJSON *room;
	cJSON_ArrayForEach(room, cJSON_GetObjectItemCaseSensitive(data, "list"))
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(room, "room");
		const cJSON *desc = cJSON_GetObjectItemCaseSensitive(room, "description");
		if (!cJSON_IsString(id) || !cJSON_IsString(desc) ||
		    strcmp(desc->valuestring, MEDIA_ROOM_DESCRIPTION) != 0)
			continue; // not one of ours
		bool live = false;
		for (size_t i = 0; i < n_active && !live; i++)
			live = strcmp(active[i], id->valuestring) == 0;
		if (live) {
			(*kept)++;
			continue;
		}
		bool destroyed = false;
		if ((err = media_room_destroy(r, id->valuestring, &destroyed, why)) != HD_OK)
			break;
		if (destroyed && on_destroyed != NULL)
			on_destroyed(arg, id->valuestring);
	}
	cJSON_Delete(data);
	return err;
}
