// target_sio.c: socket.io v4 over a plain WebSocket, as the reference server
// (tests/bench/reference/server.js) speaks it. Engine.IO v4 packets are text
// frames: "0{...}" open, "2"/"3" ping/pong, "4" + a socket.io packet:
// "40" connect, "42[name,data]" event, "42<id>[...]" event wanting an ack,
// "43<id>[data]" the ack. Every request here asks for an ack, the socket.io
// counterpart of Huddle's reply with the same request_id.
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

static void sio_open(struct hl_client *c)
{
	// Wait for the Engine.IO open packet.
}

static void sio_join(struct hl_client *c, const char *meeting_id, const char *display_name)
{
	char buf[512];
	c->join_rid = ++c->next_rid;
	int n = snprintf(buf, sizeof(buf),
			 "42%u[\"join\",{\"meetingId\":\"%s\",\"displayName\":\"%s\",\"media\":{\"audioMuted\":false,"
			 "\"videoMuted\":false,\"screenSharing\":false}}]",
			 c->join_rid, meeting_id, display_name);
	hl_send(c, buf, (size_t)n, false);
}

static void sio_signal(struct hl_client *c, const char *to, const char *candidate)
{
	char buf[1024];
	int n = snprintf(
		buf, sizeof(buf),
		"42%u[\"signal\",{\"to\":\"%s\",\"signal\":{\"candidate\":{\"candidate\":\"%s\",\"sdpMid\":\"0\","
		"\"sdpMLineIndex\":0,\"usernameFragment\":\"hl4V\"}}}]",
		++c->next_rid, to, candidate);
	if (n > 0 && (size_t)n < sizeof(buf))
		hl_send(c, buf, (size_t)n, false);
}

static void sio_leave(struct hl_client *c)
{
	char buf[64];
	c->leave_rid = ++c->next_rid;
	int n = snprintf(buf, sizeof(buf), "42%u[\"leave\",{}]", c->leave_rid);
	hl_send(c, buf, (size_t)n, false);
}

// ack_error reports {"error":{"code","message"}} in an ack; true if it was one.
static bool ack_error(struct hl_client *c, uint32_t rid, const cJSON *data)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(data, "error");
	if (e == NULL)
		return false;
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
	hl_on_error(c, rid, cJSON_IsString(code) ? code->valuestring : "?",
		    cJSON_IsString(msg) ? msg->valuestring : "");
	return true;
}

static void on_ack(struct hl_client *c, uint32_t rid, const cJSON *args)
{
	const cJSON *data = cJSON_GetArrayItem(args, 0);
	if (ack_error(c, rid, data))
		return;
	if (rid == c->join_rid && c->state == HL_JOINING) {
		const cJSON *pid = cJSON_GetObjectItemCaseSensitive(data, "participantId");
		const cJSON *roster = cJSON_GetObjectItemCaseSensitive(data, "participants");
		if (!cJSON_IsString(pid)) {
			hl_on_error(c, rid, "BAD_REPLY", "join ack without participantId");
			return;
		}
		hl_on_join_reply(c, pid->valuestring, (size_t)cJSON_GetArraySize(roster));
	} else if (rid == c->leave_rid && c->state == HL_LEAVING) {
		hl_on_leave_reply(c);
	} else {
		hl_on_signal_reply(c);
	}
}

static void on_event(struct hl_client *c, const cJSON *args)
{
	const cJSON *name = cJSON_GetArrayItem(args, 0);
	const cJSON *data = cJSON_GetArrayItem(args, 1);
	if (!cJSON_IsString(name))
		return;
	if (strcmp(name->valuestring, "signal") == 0) {
		const cJSON *sig = cJSON_GetObjectItemCaseSensitive(data, "signal");
		const cJSON *cand = cJSON_GetObjectItemCaseSensitive(sig, "candidate");
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(cand, "candidate");
		if (cJSON_IsString(s))
			hl_on_delivery(c, s->valuestring, strlen(s->valuestring));
		else
			hl_on_delivery(c, "", 0);
	} else if (strcmp(name->valuestring, "participant_joined") == 0) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(data, "participant");
		const cJSON *dn = cJSON_GetObjectItemCaseSensitive(p, "displayName");
		if (cJSON_IsString(dn))
			hl_on_peer_joined(c, dn->valuestring);
	} else if (strcmp(name->valuestring, "error") == 0) {
		ack_error(c, 0, data);
	}
}

static int sio_message(struct hl_client *c, const uint8_t *data, size_t len, bool binary)
{
	if (binary || len == 0)
		return -1;
	switch (data[0]) {
	case '0': // open: connect to the main namespace
		hl_send(c, "40", 2, false);
		return 0;
	case '2': // ping
		hl_send(c, "3", 1, false);
		return 0;
	case '1': // close
		return -1;
	case '4':
		break;
	default:
		return 0;
	}
	if (len < 2)
		return -1;
	char type = (char)data[1];
	if (type == '0') { // namespace connected
		if (!c->sio_open) {
			c->sio_open = true;
			hl_on_connected(c);
		}
		return 0;
	}
	if (type == '4') {
		hl_on_error(c, 0, "CONNECT_ERROR", "socket.io refused the namespace");
		return -1;
	}
	if (type != '2' && type != '3')
		return 0;
	size_t i = 2;
	uint32_t id = 0;
	while (i < len && data[i] >= '0' && data[i] <= '9')
		id = id * 10 + (uint32_t)(data[i++] - '0');
	cJSON *args = cJSON_ParseWithLength((const char *)data + i, len - i);
	if (args == NULL || !cJSON_IsArray(args)) {
		cJSON_Delete(args);
		return -1;
	}
	if (type == '3')
		on_ack(c, id, args);
	else
		on_event(c, args);
	cJSON_Delete(args);
	return 0;
}

const struct hl_target hl_target_sio = {
	.name = "socketio",
	.path = "/socket.io/?EIO=4&transport=websocket",
	.subprotocol = NULL,
	.on_open = sio_open,
	.on_message = sio_message,
	.send_join = sio_join,
	.send_signal = sio_signal,
	.send_leave = sio_leave,
};
