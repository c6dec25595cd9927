// ws_frame.c: fuzzes the gateway's handling of client frames: the real
// gw_ws_message (decode, FrameChunk reassembly, rate limits, the access
// gate, ws_ops dispatch into ws.c, access.c, chat.c, notes.c, notes_ops.c)
// with up to FZ_SESSIONS sessions that join rooms and talk to each other,
// and the replies and events that come back through route.c, room.c,
// chat.c and notes.c. The services answer through gwfake (see there):
// well-formed replies, replies from the input, or transport errors.
//
// Input: records, each one action byte, then for the actions that take one
// a 16-bit big-endian length and that many bytes:
//   a & 7 = 0..2  frame (the bytes) from session (a >> 3) % FZ_SESSIONS
//           3     answer the oldest call well-formed (a join: that session's
//                 participant id, with the others of its meeting as roster)
//           4     answer the oldest call with the bytes as its reply
//           5     fail the oldest call (TIMEOUT, CLOSED, UNAVAILABLE)
//           6     an event (the bytes) on the bus (a >> 3) % 3: room, chat, notes
//           7     (a >> 3) % 4: 0 write session (a >> 5)'s queue out;
//                 1 close it (and open a new one); 2 heartbeat;
//                 3 services down / up
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/chat.h"
#include "gateway/notes.h"
#include "gateway/room.h"
#include "gateway/session.h"
#include "gateway/ws.h"
#include "support/gwfake.h"
#include "support/input.h"

#define FZ_SESSIONS 3

static struct lws wsis[FZ_SESSIONS];
static struct gw_session *sessions[FZ_SESSIONS];
static const char *const participant_ids[FZ_SESSIONS] = {
	"fuzzparticipant0000000",
	"fuzzparticipant0000001",
	"fuzzparticipant0000002",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_gw_init("/nonexistent");
	return 0;
}

static void open_session(int i)
{
	fz_wsi_reset(&wsis[i]);
	snprintf(wsis[i].peer, sizeof(wsis[i].peer), "192.0.2.%d", i + 1);
	if ((sessions[i] = gw_session_alloc(&wsis[i])) == NULL)
		abort();
}

// close_session is lws closing the connection: LWS_CALLBACK_CLOSED.
static void close_session(int i)
{
	gw_session_free(sessions[i]);
	sessions[i] = NULL;
}

// write_out is lws calling SERVER_WRITEABLE until the queue is empty; -1
// closes the connection.
static void write_out(int i)
{
	struct gw_session *s = sessions[i];
	for (int n = 0; s->out_head != NULL || s->close_code != 0; n++) {
		if (gw_session_writeable(s) < 0) {
			close_session(i);
			open_session(i);
			return;
		}
		if (s->out_head == NULL && s->close_code != 0 && n > 1000)
			break; // waiting for a quiet peer (GW_CLOSE_QUIET_MS)
	}
}

static void answer_ok(void)
{
	const char *roster[FZ_SESSIONS];
	size_t n = 0;
	const char *me = NULL;
	if (fz_calls_oldest_op() == GW_OP_JOIN) {
		// As the registry: a new participant id, the others present.
		int i = -1;
		for (int k = 0; k < FZ_SESSIONS; k++)
			if (sessions[k] != NULL && sessions[k]->state == GW_SESSION_JOINING)
				i = k;
		if (i >= 0) {
			me = participant_ids[i];
			for (int k = 0; k < FZ_SESSIONS; k++)
				if (k != i && sessions[k] != NULL && sessions[k]->state == GW_SESSION_JOINED &&
				    strcmp(sessions[k]->meeting_id, sessions[i]->meeting_id) == 0)
					roster[n++] = participant_ids[k];
		}
	}
	fz_calls_answer_ok(me, roster, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	static const hd_err errors[] = {HD_ETIMEOUT, HD_ECLOSED, HD_EUNAVAILABLE};
	fz_init(&in, data, size);
	for (int i = 0; i < FZ_SESSIONS; i++)
		open_session(i);
	fz_calls_down = false;
	while (in.left > 0) {
		uint8_t a = fz_u8(&in);
		int who = (a >> 3) % FZ_SESSIONS;
		size_t n;
		const uint8_t *p;
		switch (a & 7) {
		case 0:
		case 1:
		case 2:
			p = fz_slice(&in, &n);
			if (gw_ws_message(sessions[who], p, n) < 0) {
				if (!wsis[who].closing)
					abort(); // -1 must come with a close reason
				close_session(who);
				open_session(who);
			}
			break;
		case 3:
			answer_ok();
			break;
		case 4:
			p = fz_slice(&in, &n);
			fz_calls_answer_bytes(p, n);
			break;
		case 5:
			fz_calls_answer_error(errors[(a >> 3) % 3]);
			break;
		case 6:
			p = fz_slice(&in, &n);
			if ((a >> 3) % 3 == 0)
				gw_room_on_event(p, n);
			else if ((a >> 3) % 3 == 1)
				gw_chat_on_event(p, n);
			else
				gw_notes_on_event(p, n);
			break;
		default:
			switch ((a >> 3) % 4) {
			case 0:
				write_out((a >> 5) % FZ_SESSIONS);
				break;
			case 1:
				close_session((a >> 5) % FZ_SESSIONS);
				open_session((a >> 5) % FZ_SESSIONS);
				break;
			case 2:
				gw_ws_heartbeat();
				break;
			default:
				fz_calls_down = !fz_calls_down;
				break;
			}
			break;
		}
	}
	// The end: every connection closes, then the services answer what is
	// left (as closing the clients does). Nothing may remain.
	for (int i = 0; i < FZ_SESSIONS; i++) {
		close_session(i);
		fz_wsi_reset(&wsis[i]);
	}
	fz_calls_drop_all();
	if (gw.sessions != NULL || gw.rooms != NULL)
		abort();
	return 0;
}
