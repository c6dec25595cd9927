// gen_seeds.c: writes the seed corpora of the harnesses (tests/fuzz/corpus/
// <harness>/) from the messages the clients and the gateway really send:
// a join, a signal, a chat post, a notes update, ... built with the
// protocol's own types and packed as the web client's encoder would.
// Usage: gen_seeds <corpus dir>. Run by `make fuzz-seeds`; the output is
// checked in.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/jwt.h"
#include "huddle/v1/chat.pb-c.h"
#include "huddle/v1/client.pb-c.h"
#include "huddle/v1/notes.pb-c.h"
#include "huddle/v1/recording.pb-c.h"
#include "huddle/v1/registry.pb-c.h"

#define MEETING "fuzzmeeting00000000000" // the harnesses' known meeting (registry_rpc inserts it)
#define P0 "fuzzparticipant0000000"
#define P1 "fuzzparticipant0000001"

static const char *root;

// buf is a growing input being built.
struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put_u8(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}

// put_msg appends a 16-bit big-endian length and m packed.
static void put_msg(struct buf *b, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *tmp = malloc(n + 1);
	if (tmp == NULL || n > 0xffff)
		abort();
	protobuf_c_message_pack(m, tmp);
	put_u8(b, (uint8_t)(n >> 8));
	put_u8(b, (uint8_t)n);
	put(b, tmp, n);
	free(tmp);
}

static void put_slice(struct buf *b, const void *data, size_t n)
{
	put_u8(b, (uint8_t)(n >> 8));
	put_u8(b, (uint8_t)n);
	put(b, data, n);
}

static void emit(const char *harness, const char *name, struct buf *b)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, harness);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		abort();
	snprintf(path, sizeof(path), "%s/%s/%s", root, harness, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(b->p, 1, b->len, f) != b->len || fclose(f) != 0)
		abort();
	free(b->p);
	memset(b, 0, sizeof(*b));
}

// ---- the gateway's client frames (ws_frame) ----

enum { A_FRAME = 0, A_OK = 3, A_BYTES = 4, A_FAIL = 5, A_EVENT = 6, A_MISC = 7 };

static void frame(struct buf *b, int session, Huddle__V1__ClientMessage *cm)
{
	put_u8(b, (uint8_t)(A_FRAME | session << 3));
	put_msg(b, &cm->base);
}

static void ok(struct buf *b)
{
	put_u8(b, A_OK);
}

static void join(struct buf *b, int session, uint32_t rid)
{
	Huddle__V1__ClientMessage cm = HUDDLE__V1__CLIENT_MESSAGE__INIT;
	Huddle__V1__JoinRequest j = HUDDLE__V1__JOIN_REQUEST__INIT;
	Huddle__V1__MediaState media = HUDDLE__V1__MEDIA_STATE__INIT;
	media.video_muted = true;
	j.meeting_id = MEETING;
	j.display_name = session == 0 ? "Ada" : "Grace";
	j.media = &media;
	j.client_key = "client-key-1";
	cm.request_id = rid;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_JOIN;
	cm.join = &j;
	frame(b, session, &cm);
	ok(b);
}

static void ws_seeds(void)
{
	struct buf b = {0};
	Huddle__V1__ClientMessage cm = HUDDLE__V1__CLIENT_MESSAGE__INIT;

	// ping alone
	Huddle__V1__PingRequest ping = HUDDLE__V1__PING_REQUEST__INIT;
	ping.client_time_ms = 1700000000000;
	cm.request_id = 1;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_PING;
	cm.ping = &ping;
	frame(&b, 0, &cm);
	emit("ws_frame", "ping", &b);

	// two join the same meeting, signal each other (offer, candidate), media, leave
	join(&b, 0, 1);
	join(&b, 1, 1);
	Huddle__V1__SignalRequest sr = HUDDLE__V1__SIGNAL_REQUEST__INIT;
	Huddle__V1__Signal sig = HUDDLE__V1__SIGNAL__INIT;
	Huddle__V1__SessionDescription sd = HUDDLE__V1__SESSION_DESCRIPTION__INIT;
	sd.type = HUDDLE__V1__SDP_TYPE__SDP_TYPE_OFFER;
	sd.sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
	sig.kind_case = HUDDLE__V1__SIGNAL__KIND_DESCRIPTION;
	sig.description = &sd;
	sr.to = P0;
	sr.signal = &sig;
	cm = (Huddle__V1__ClientMessage)HUDDLE__V1__CLIENT_MESSAGE__INIT;
	cm.request_id = 2;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_SIGNAL;
	cm.signal = &sr;
	frame(&b, 1, &cm);
	Huddle__V1__IceCandidate cand = HUDDLE__V1__ICE_CANDIDATE__INIT;
	cand.candidate = "candidate:1 1 udp 2113937151 192.0.2.1 54400 typ host";
	cand.sdp_mid = "0";
	sig.kind_case = HUDDLE__V1__SIGNAL__KIND_CANDIDATE;
	sig.candidate = &cand;
	sr.to = P1;
	cm.request_id = 3;
	frame(&b, 0, &cm);
	sr.to = "fuzzparticipant0000009"; // not here: relayed through the registry
	cm.request_id = 4;
	frame(&b, 0, &cm);
	ok(&b);
	Huddle__V1__MediaStateRequest ms = HUDDLE__V1__MEDIA_STATE_REQUEST__INIT;
	Huddle__V1__MediaState media = HUDDLE__V1__MEDIA_STATE__INIT;
	media.audio_muted = true;
	ms.media = &media;
	cm = (Huddle__V1__ClientMessage)HUDDLE__V1__CLIENT_MESSAGE__INIT;
	cm.request_id = 5;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_MEDIA_STATE;
	cm.media_state = &ms;
	frame(&b, 0, &cm);
	ok(&b);
	Huddle__V1__HandRequest hand = HUDDLE__V1__HAND_REQUEST__INIT;
	hand.raised = true;
	cm = (Huddle__V1__ClientMessage)HUDDLE__V1__CLIENT_MESSAGE__INIT;
	cm.request_id = 6;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_HAND;
	cm.hand = &hand;
	frame(&b, 1, &cm);
	ok(&b);
	Huddle__V1__ReactionRequest re = HUDDLE__V1__REACTION_REQUEST__INIT;
	re.emoji = "👍";
	cm = (Huddle__V1__ClientMessage)HUDDLE__V1__CLIENT_MESSAGE__INIT;
	cm.request_id = 7;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_REACTION;
	cm.reaction = &re;
	frame(&b, 1, &cm);
	ok(&b);
	Huddle__V1__LeaveRequest lv = HUDDLE__V1__LEAVE_REQUEST__INIT;
	cm = (Huddle__V1__ClientMessage)HUDDLE__V1__CLIENT_MESSAGE__INIT;
	cm.request_id = 8;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_LEAVE;
	cm.leave = &lv;
	frame(&b, 1, &cm);
	ok(&b);
	put_u8(&b, A_MISC | 0 << 3); // write session 0's queue
	put_u8(&b, A_MISC | 2 << 3); // heartbeat
	ok(&b);
	emit("ws_frame", "join-signal-leave", &b);

	// chat: subscribe (GetMeeting, then the room's init), post, history
	Huddle__V1__ChatSubscribeRequest cs = HUDDLE__V1__CHAT_SUBSCRIBE_REQUEST__INIT;
	cs.meeting_id = MEETING;
	cm = (Huddle__V1__ClientMessage)HUDDLE__V1__CLIENT_MESSAGE__INIT;
	cm.request_id = 1;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_CHAT_SUBSCRIBE;
	cm.chat_subscribe = &cs;
	frame(&b, 0, &cm);
	ok(&b);
	ok(&b);
	Huddle__V1__ChatPostRequest cp = HUDDLE__V1__CHAT_POST_REQUEST__INIT;
	cp.client_message_id = "m1";
	cp.text = "hello";
	cp.sender_name = "Ada";
	cm = (Huddle__V1__ClientMessage)HUDDLE__V1__CLIENT_MESSAGE__INIT;
	cm.request_id = 2;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_CHAT_POST;
	cm.chat_post = &cp;
	frame(&b, 0, &cm);
	ok(&b);
	Huddle__V1__ChatHistoryRequest ch = HUDDLE__V1__CHAT_HISTORY_REQUEST__INIT;
	ch.limit = 50;
	cm = (Huddle__V1__ClientMessage)HUDDLE__V1__CLIENT_MESSAGE__INIT;
	cm.request_id = 3;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_CHAT_HISTORY;
	cm.chat_history = &ch;
	frame(&b, 0, &cm);
	ok(&b);
	emit("ws_frame", "chat", &b);

	// notes: subscribe, open, update, awareness, snapshot, versions
	Huddle__V1__NotesSubscribeRequest ns = HUDDLE__V1__NOTES_SUBSCRIBE_REQUEST__INIT;
	ns.meeting_id = MEETING;
	cm = (Huddle__V1__ClientMessage)HUDDLE__V1__CLIENT_MESSAGE__INIT;
	cm.request_id = 1;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_SUBSCRIBE;
	cm.notes_subscribe = &ns;
	frame(&b, 0, &cm);
	ok(&b);
	ok(&b);
	ok(&b);
	Huddle__V1__NotesOpenRequest no = HUDDLE__V1__NOTES_OPEN_REQUEST__INIT;
	no.document = HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_NOTES;
	cm = (Huddle__V1__ClientMessage)HUDDLE__V1__CLIENT_MESSAGE__INIT;
	cm.request_id = 2;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_OPEN;
	cm.notes_open = &no;
	frame(&b, 0, &cm);
	ok(&b);
	static uint8_t update[] = {1, 1, 200, 1, 0, 4, 1, 0, 'h', 'i'};
	Huddle__V1__NotesUpdateRequest nu = HUDDLE__V1__NOTES_UPDATE_REQUEST__INIT;
	nu.document = HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_NOTES;
	nu.client_update_id = "u1";
	nu.data.data = update;
	nu.data.len = sizeof(update);
	nu.author_name = "Ada";
	cm = (Huddle__V1__ClientMessage)HUDDLE__V1__CLIENT_MESSAGE__INIT;
	cm.request_id = 3;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_UPDATE;
	cm.notes_update = &nu;
	frame(&b, 0, &cm);
	ok(&b);
	Huddle__V1__NotesAwarenessRequest na = HUDDLE__V1__NOTES_AWARENESS_REQUEST__INIT;
	na.document = HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_NOTES;
	na.data.data = update;
	na.data.len = sizeof(update);
	cm = (Huddle__V1__ClientMessage)HUDDLE__V1__CLIENT_MESSAGE__INIT;
	cm.request_id = 4;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_AWARENESS;
	cm.notes_awareness = &na;
	frame(&b, 0, &cm);
	ok(&b);
	Huddle__V1__NotesVersionsRequest nv = HUDDLE__V1__NOTES_VERSIONS_REQUEST__INIT;
	nv.document = HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_CODE;
	cm = (Huddle__V1__ClientMessage)HUDDLE__V1__CLIENT_MESSAGE__INIT;
	cm.request_id = 5;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_VERSIONS;
	cm.notes_versions = &nv;
	frame(&b, 0, &cm);
	ok(&b);
	emit("ws_frame", "notes", &b);

	// a host admits and moderates
	join(&b, 0, 1);
	Huddle__V1__AdmitRequest ad = HUDDLE__V1__ADMIT_REQUEST__INIT;
	ad.all = true;
	cm = (Huddle__V1__ClientMessage)HUDDLE__V1__CLIENT_MESSAGE__INIT;
	cm.request_id = 2;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_ADMIT;
	cm.admit = &ad;
	frame(&b, 0, &cm);
	ok(&b);
	Huddle__V1__ModerateRequest mo = HUDDLE__V1__MODERATE_REQUEST__INIT;
	mo.participant_id = P1;
	mo.action = 1;
	cm = (Huddle__V1__ClientMessage)HUDDLE__V1__CLIENT_MESSAGE__INIT;
	cm.request_id = 3;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_MODERATE;
	cm.moderate = &mo;
	frame(&b, 0, &cm);
	ok(&b);
	emit("ws_frame", "host", &b);

	// a chunked message: a ping cut in two parts (FrameChunk)
	uint8_t packed[64];
	cm = (Huddle__V1__ClientMessage)HUDDLE__V1__CLIENT_MESSAGE__INIT;
	cm.request_id = 9;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_PING;
	cm.ping = &ping;
	size_t plen = huddle__v1__client_message__pack(&cm, packed);
	for (uint32_t i = 0; i < 2; i++) {
		Huddle__V1__FrameChunk part = HUDDLE__V1__FRAME_CHUNK__INIT;
		part.message_id = 1;
		part.index = i;
		part.count = 2;
		part.data.data = packed + (i == 0 ? 0 : plen / 2);
		part.data.len = i == 0 ? plen / 2 : plen - plen / 2;
		Huddle__V1__ClientMessage f = HUDDLE__V1__CLIENT_MESSAGE__INIT;
		f.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_CHUNK;
		f.chunk = &part;
		frame(&b, 0, &f);
	}
	emit("ws_frame", "chunked", &b);
}

// ---- the daemons' requests ----

static void chat_seeds(void)
{
	struct buf b = {0};
	Huddle__V1__ChatRequest r = HUDDLE__V1__CHAT_REQUEST__INIT;
	Huddle__V1__ChatServicePostRequest p = HUDDLE__V1__CHAT_SERVICE_POST_REQUEST__INIT;
	p.meeting_id = MEETING;
	p.client_message_id = "m1";
	p.sender_id = P0;
	p.sender_name = "Ada";
	p.text = "hello, world";
	r.request_id = 1;
	r.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_POST;
	r.post = &p;
	put_msg(&b, &r.base);
	put_msg(&b, &r.base); // the same again: a duplicate
	Huddle__V1__ChatServiceHistoryRequest h = HUDDLE__V1__CHAT_SERVICE_HISTORY_REQUEST__INIT;
	h.meeting_id = MEETING;
	h.limit = 50;
	r.request_id = 2;
	r.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_HISTORY;
	r.history = &h;
	put_msg(&b, &r.base);
	h.before_seq = 2;
	put_msg(&b, &r.base);
	emit("chat_rpc", "post-history", &b);
	Huddle__V1__ChatHealthRequest hr = HUDDLE__V1__CHAT_HEALTH_REQUEST__INIT;
	r.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_HEALTH;
	r.health = &hr;
	put_msg(&b, &r.base);
	emit("chat_rpc", "health", &b);
}

static void notes_seeds(void)
{
	struct buf b = {0};
	static uint8_t update[] = {1, 1, 200, 1, 0, 4, 1, 0, 'h', 'i'};
	Huddle__V1__NotesRequest r = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceAppendRequest a = HUDDLE__V1__NOTES_SERVICE_APPEND_REQUEST__INIT;
	Huddle__V1__NotesUpdate u = HUDDLE__V1__NOTES_UPDATE__INIT;
	u.meeting_id = MEETING;
	u.document = HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_NOTES;
	u.client_update_id = "u1";
	u.data.data = update;
	u.data.len = sizeof(update);
	u.author_name = "Ada";
	a.update = &u;
	r.request_id = 1;
	r.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_APPEND;
	r.append = &a;
	put_msg(&b, &r.base);
	Huddle__V1__NotesServiceOpenRequest o = HUDDLE__V1__NOTES_SERVICE_OPEN_REQUEST__INIT;
	o.meeting_id = MEETING;
	o.document = HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_NOTES;
	r.request_id = 2;
	r.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_OPEN;
	r.open = &o;
	put_msg(&b, &r.base);
	Huddle__V1__NotesServiceSnapshotRequest s = HUDDLE__V1__NOTES_SERVICE_SNAPSHOT_REQUEST__INIT;
	s.meeting_id = MEETING;
	s.document = HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_CODE;
	s.seq = 1;
	s.state.data = update;
	s.state.len = sizeof(update);
	s.text = "print(1)";
	s.language = "python";
	s.author_name = "Ada";
	r.request_id = 3;
	r.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_SNAPSHOT;
	r.snapshot = &s;
	put_msg(&b, &r.base);
	Huddle__V1__NotesServiceVersionsRequest v = HUDDLE__V1__NOTES_SERVICE_VERSIONS_REQUEST__INIT;
	v.meeting_id = MEETING;
	v.document = HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_CODE;
	r.request_id = 4;
	r.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_VERSIONS;
	r.versions = &v;
	put_msg(&b, &r.base);
	Huddle__V1__NotesServiceVersionRequest vv = HUDDLE__V1__NOTES_SERVICE_VERSION_REQUEST__INIT;
	vv.meeting_id = MEETING;
	vv.document = HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_CODE;
	vv.version = 1;
	r.request_id = 5;
	r.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_VERSION;
	r.version = &vv;
	put_msg(&b, &r.base);
	Huddle__V1__NotesServiceAwarenessRequest aw = HUDDLE__V1__NOTES_SERVICE_AWARENESS_REQUEST__INIT;
	Huddle__V1__NotesAwareness na = HUDDLE__V1__NOTES_AWARENESS__INIT;
	na.meeting_id = MEETING;
	na.document = HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_NOTES;
	na.origin = "origin1";
	na.data.data = update;
	na.data.len = sizeof(update);
	aw.awareness = &na;
	r.request_id = 6;
	r.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_AWARENESS;
	r.awareness = &aw;
	put_msg(&b, &r.base);
	emit("notes_rpc", "append-open-snapshot", &b);
}

static void recording_seeds(const uint8_t *webm, size_t webm_len)
{
	struct buf b = {0};
	Huddle__V1__RecordingRequest r = HUDDLE__V1__RECORDING_REQUEST__INIT;
	Huddle__V1__RecordingCreateRequest c = HUDDLE__V1__RECORDING_CREATE_REQUEST__INIT;
	c.meeting_id = MEETING;
	c.id = "fuzzrecording000000000";
	c.kind = HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_CAMERA;
	c.recorder_id = P0;
	c.recorder_name = "Ada";
	c.mime_type = "video/webm";
	r.request_id = 1;
	r.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_CREATE;
	r.create = &c;
	put_msg(&b, &r.base);
	size_t half = webm_len / 2;
	for (uint32_t i = 0; i < 2 && webm != NULL; i++) {
		Huddle__V1__RecordingChunkRequest ch = HUDDLE__V1__RECORDING_CHUNK_REQUEST__INIT;
		ch.meeting_id = MEETING;
		ch.id = c.id;
		ch.index = i;
		ch.data.data = (uint8_t *)webm + (i == 0 ? 0 : half);
		ch.data.len = i == 0 ? half : webm_len - half;
		ch.recorder_id = P0;
		r.request_id = 2 + i;
		r.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_CHUNK;
		r.chunk = &ch;
		put_msg(&b, &r.base);
	}
	Huddle__V1__RecordingFinishRequest f = HUDDLE__V1__RECORDING_FINISH_REQUEST__INIT;
	f.meeting_id = MEETING;
	f.id = c.id;
	f.chunks = 2;
	f.recorder_id = P0;
	r.request_id = 4;
	r.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_FINISH;
	r.finish = &f;
	put_msg(&b, &r.base);
	Huddle__V1__RecordingGetRequest g = HUDDLE__V1__RECORDING_GET_REQUEST__INIT;
	g.meeting_id = MEETING;
	g.id = c.id;
	r.request_id = 5;
	r.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_GET;
	r.get = &g;
	put_msg(&b, &r.base);
	Huddle__V1__RecordingReadRequest rd = HUDDLE__V1__RECORDING_READ_REQUEST__INIT;
	rd.meeting_id = MEETING;
	rd.id = c.id;
	rd.length = 4096;
	r.request_id = 6;
	r.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_READ;
	r.read = &rd;
	put_msg(&b, &r.base);
	Huddle__V1__RecordingListRequest l = HUDDLE__V1__RECORDING_LIST_REQUEST__INIT;
	l.meeting_id = MEETING;
	r.request_id = 7;
	r.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_LIST;
	r.list = &l;
	put_msg(&b, &r.base);
	Huddle__V1__RecordingDeleteRequest d = HUDDLE__V1__RECORDING_DELETE_REQUEST__INIT;
	d.meeting_id = MEETING;
	d.id = c.id;
	d.recorder_id = P0;
	r.request_id = 8;
	r.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_DELETE;
	r.delete_ = &d;
	put_msg(&b, &r.base);
	emit("recording_rpc", "create-chunks-finish-read-delete", &b);
	if (webm != NULL) {
		// rec_assembly: the clip cut in three chunks
		size_t third = webm_len / 3;
		put_u8(&b, 3);
		put_slice(&b, webm, third);
		put_slice(&b, webm + third, third);
		put_slice(&b, webm + 2 * third, webm_len - 2 * third);
		emit("rec_assembly", "clip-3-chunks", &b);
	}
}

static void registry_seeds(void)
{
	struct buf b = {0};
	Huddle__V1__RegistryRequest r = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RegistryJoinRequest j = HUDDLE__V1__REGISTRY_JOIN_REQUEST__INIT;
	Huddle__V1__MediaState media = HUDDLE__V1__MEDIA_STATE__INIT;
	j.meeting_id = MEETING;
	j.display_name = "Ada";
	j.media = &media;
	j.gateway_id = "gw1";
	j.client_key = "client-key-1";
	r.request_id = 1;
	r.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_JOIN;
	r.join = &j;
	put_msg(&b, &r.base);
	j.display_name = "Grace";
	r.request_id = 2;
	put_msg(&b, &r.base);
	Huddle__V1__ListParticipantsRequest lp = HUDDLE__V1__LIST_PARTICIPANTS_REQUEST__INIT;
	lp.meeting_id = MEETING;
	r.request_id = 3;
	r.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_LIST_PARTICIPANTS;
	r.list_participants = &lp;
	put_msg(&b, &r.base);
	Huddle__V1__GetMeetingRequest gm = HUDDLE__V1__GET_MEETING_REQUEST__INIT;
	gm.meeting_id = MEETING;
	r.request_id = 4;
	r.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_GET_MEETING;
	r.get_meeting = &gm;
	put_msg(&b, &r.base);
	Huddle__V1__HeartbeatRequest hb = HUDDLE__V1__HEARTBEAT_REQUEST__INIT;
	hb.gateway_id = "gw1";
	r.request_id = 5;
	r.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_HEARTBEAT;
	r.heartbeat = &hb;
	put_msg(&b, &r.base);
	emit("registry_rpc", "join-list-get", &b);
	Huddle__V1__CreateMeetingRequest cm = HUDDLE__V1__CREATE_MEETING_REQUEST__INIT;
	cm.title = "Weekly";
	cm.access_mode = HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_WAITING_ROOM;
	r.request_id = 1;
	r.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_CREATE_MEETING;
	r.create_meeting = &cm;
	put_msg(&b, &r.base);
	Huddle__V1__CreateSpaceRequest cs = HUDDLE__V1__CREATE_SPACE_REQUEST__INIT;
	cs.title = "Team";
	r.request_id = 2;
	r.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_CREATE_SPACE;
	r.create_space = &cs;
	put_msg(&b, &r.base);
	emit("registry_rpc", "create", &b);
}

// ---- HTTP requests (http) ----

enum { H_BODY = 0, H_DONE = 1, H_OK = 2, H_BYTES = 3, H_FAIL = 4, H_WRITE = 5, H_NEXT = 6, H_UPGRADE = 7 };
enum { M_GET, M_HEAD, M_POST, M_PUT, M_DELETE, M_OPTIONS };
enum { HDR_LENGTH, HDR_AUTH, HDR_ORIGIN, HDR_HOST, HDR_XFF, HDR_RANGE, HDR_IF_RANGE, HDR_RECTOKEN };

struct hdr {
	int which;
	const char *value;
};

static void http_request(struct buf *b, int method, const char *uri, const struct hdr *h, size_t n_h, const char *arg)
{
	put_u8(b, 0); // peer
	put_u8(b, (uint8_t)method);
	put_slice(b, uri, strlen(uri));
	put_u8(b, (uint8_t)n_h);
	for (size_t i = 0; i < n_h; i++) {
		put_u8(b, (uint8_t)h[i].which);
		put_slice(b, h[i].value, strlen(h[i].value));
	}
	put_u8(b, arg != NULL ? 1 : 0);
	if (arg != NULL)
		put_slice(b, arg, strlen(arg));
}

static void http_seeds(const uint8_t *webm, size_t webm_len)
{
	struct buf b = {0};
	http_request(&b, M_GET, "/healthz", NULL, 0, NULL);
	put_u8(&b, H_WRITE);
	put_u8(&b, H_NEXT);
	put_u8(&b, M_GET);
	put_slice(&b, "/metrics", 8);
	put_u8(&b, H_WRITE);
	emit("http", "healthz-metrics", &b);

	http_request(&b, M_GET, "/readyz", NULL, 0, NULL);
	put_u8(&b, H_OK);
	put_u8(&b, H_WRITE);
	emit("http", "readyz", &b);

	static const char body[] =
		"{\"title\":\"Weekly\",\"access_mode\":\"waiting_room\",\"starts_at_ms\":1800000000000}";
	struct hdr post[] = {{HDR_LENGTH, "78"}, {HDR_HOST, "meet.example.com"}, {HDR_XFF, "198.51.100.7"}};
	http_request(&b, M_POST, "/api/meetings", post, 3, NULL);
	put_u8(&b, H_BODY);
	put_slice(&b, body, strlen(body));
	put_u8(&b, H_DONE);
	put_u8(&b, H_OK);
	put_u8(&b, H_WRITE);
	emit("http", "create-meeting", &b);

	http_request(&b, M_GET, "/api/meetings/" MEETING, NULL, 0, NULL);
	put_u8(&b, H_OK);
	put_u8(&b, H_WRITE);
	emit("http", "get-meeting", &b);

	http_request(&b, M_GET, "/api/meetings/" MEETING "/chat", NULL, 0, "format=markdown");
	put_u8(&b, H_OK);
	put_u8(&b, H_OK);
	put_u8(&b, H_WRITE);
	emit("http", "chat-export", &b);

	http_request(&b, M_GET, "/api/meetings/" MEETING "/notes.md", NULL, 0, NULL);
	put_u8(&b, H_OK);
	put_u8(&b, H_OK);
	put_u8(&b, H_WRITE);
	emit("http", "notes-export", &b);

	static const char create[] = "{\"id\":\"fuzzrecording000000000\",\"kind\":\"camera\",\"mime_type\":\"video/"
				     "webm\",\"recorder_name\":\"Ada\"}";
	char len[16];
	snprintf(len, sizeof(len), "%zu", strlen(create));
	struct hdr rec[] = {{HDR_RECTOKEN, ""}, {HDR_LENGTH, len}};
	http_request(&b, M_POST, "/api/meetings/" MEETING "/recordings", rec, 2, NULL);
	put_u8(&b, H_BODY);
	put_slice(&b, create, strlen(create));
	put_u8(&b, H_DONE);
	put_u8(&b, H_OK);
	put_u8(&b, H_OK);
	put_u8(&b, H_WRITE);
	emit("http", "recording-create", &b);

	size_t n = webm != NULL && webm_len < 4000 ? webm_len : 4000;
	snprintf(len, sizeof(len), "%zu", n);
	http_request(&b, M_PUT, "/api/meetings/" MEETING "/recordings/fuzzrecording000000000/chunks/0", rec, 2, NULL);
	put_u8(&b, H_BODY);
	put_slice(&b, webm != NULL ? webm : (const uint8_t *)"", webm != NULL ? n : 0);
	put_u8(&b, H_DONE);
	put_u8(&b, H_OK);
	put_u8(&b, H_WRITE);
	emit("http", "recording-chunk", &b);

	struct hdr range[] = {{HDR_RANGE, "bytes=0-99"}};
	http_request(&b, M_GET, "/api/meetings/" MEETING "/recordings/fuzzrecording000000000/file", range, 1,
		     "download=1");
	put_u8(&b, H_OK);
	put_u8(&b, H_OK);
	put_u8(&b, H_WRITE);
	put_u8(&b, H_OK);
	put_u8(&b, H_WRITE);
	emit("http", "recording-download", &b);

	http_request(&b, M_GET, "/api/meetings/" MEETING "/recordings", NULL, 0, NULL);
	put_u8(&b, H_OK);
	put_u8(&b, H_OK);
	put_u8(&b, H_WRITE);
	emit("http", "recording-list", &b);

	static const char space[] = "{\"title\":\"Team\"}";
	struct hdr sp[] = {{HDR_LENGTH, "16"}};
	http_request(&b, M_POST, "/api/spaces", sp, 1, NULL);
	put_u8(&b, H_BODY);
	put_slice(&b, space, strlen(space));
	put_u8(&b, H_DONE);
	put_u8(&b, H_OK);
	put_u8(&b, H_WRITE);
	emit("http", "space-create", &b);

	static const char admit[] = "{\"participant_ids\":[\"fuzzparticipant0000001\"],\"deny\":false}";
	snprintf(len, sizeof(len), "%zu", strlen(admit));
	struct hdr ad[] = {{HDR_AUTH, "Bearer host-key-0123456789"}, {HDR_LENGTH, len}};
	http_request(&b, M_POST, "/api/meetings/" MEETING "/admit", ad, 2, NULL);
	put_u8(&b, H_BODY);
	put_slice(&b, admit, strlen(admit));
	put_u8(&b, H_DONE);
	put_u8(&b, H_OK);
	put_u8(&b, H_WRITE);
	emit("http", "admit", &b);

	static const char links[] = "{\"role\":\"guest\",\"name\":\"Ada\",\"ttl_s\":3600}";
	snprintf(len, sizeof(len), "%zu", strlen(links));
	ad[1].value = len;
	http_request(&b, M_POST, "/api/meetings/" MEETING "/links", ad, 2, NULL);
	put_u8(&b, H_BODY);
	put_slice(&b, links, strlen(links));
	put_u8(&b, H_DONE);
	put_u8(&b, H_OK);
	put_u8(&b, H_WRITE);
	emit("http", "links", &b);

	struct hdr ws[] = {{HDR_ORIGIN, "http://meet.example.com"}, {HDR_HOST, "meet.example.com"}};
	http_request(&b, M_GET, "/ws", ws, 2, NULL);
	put_u8(&b, H_UPGRADE);
	emit("http", "upgrade", &b);

	http_request(&b, M_GET, "/m/" MEETING, NULL, 0, NULL);
	emit("http", "app", &b);
}

// ---- tokens, settings, chunks ----

static void jwt_seeds(void)
{
	struct buf b = {0};
	struct hd_jwt_config cfg = {.secret = "fuzz-secret-0123456789abcdef0123456789abcdef"};
	char *tok = NULL;
	const char *why;
	if (hd_jwt_mint(&cfg, MEETING, "Ada", HD_JWT_HOST, 1800000000LL - 60, 3600, &tok, &why) != HD_OK)
		abort();
	put_u8(&b, 0);
	put_u8(&b, 0);
	put(&b, tok, strlen(tok));
	emit("jwt", "hs256-host", &b);
	free(tok);
	cfg.issuer = "https://lms.example.com";
	cfg.audience = "huddle";
	if (hd_jwt_mint(&cfg, "*", "", HD_JWT_GUEST, 1800000000LL - 60, 3600, &tok, &why) != HD_OK)
		abort();
	put_u8(&b, 0x0c);
	put_u8(&b, 0);
	put(&b, tok, strlen(tok));
	emit("jwt", "hs256-any-iss-aud", &b);
	free(tok);
	static const char pem[] = "-----BEGIN PUBLIC KEY-----\n"
				  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE+bJvl0XY9ZEDPCvFsS8oECDKCFR0\n"
				  "f9INCGEanYu31T7CnE/sGomuH//5XM8Dc1Oa8ZivN2ShTeSTtwGp9IrIkA==\n"
				  "-----END PUBLIC KEY-----\n";
	put_u8(&b, 0x82);
	put_u8(&b, 0);
	put(&b, pem, strlen(pem));
	emit("jwt", "pem-ec", &b);
	static const char es[] = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9."
				 "eyJyb29tIjoiZnV6em1lZXRpbmcwMDAwMDAwMDAwMCIsImV4cCI6MTgwMDAwMDA2MH0.c2ln";
	put_u8(&b, 2);
	put_u8(&b, 0);
	put(&b, es, strlen(es));
	emit("jwt", "es256-bad-sig", &b);
}

static void config_seeds(void)
{
	struct buf b = {0};
	static const char *values[] = {"https://meet.example.com,http://localhost:8080",
				       "s3cret",
				       "redis://127.0.0.1:6379/2",
				       "100",
				       "8388608",
				       "debug",
				       "'self' https://lms.example.com",
				       ""};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		put_u8(&b, 0);
		put_slice(&b, values[i], strlen(values[i]));
	}
	static const char uri[] =
		"mongodb://user:pass@db1.example.com:27017,db2/huddle?replicaSet=rs0&authSource=admin";
	put_slice(&b, uri, strlen(uri));
	emit("config", "all-set", &b);
	for (size_t i = 0; i < 8; i++) {
		put_u8(&b, 1);
		put_slice(&b, "", 0);
	}
	static const char uri2[] = "unix:///run/redis.sock?db=3";
	put_slice(&b, uri2, strlen(uri2));
	emit("config", "defaults", &b);
}

static void chunk_seeds(void)
{
	struct buf b = {0};
	static const uint8_t first[] = {0x08, 0x2a, 0x72, 0x02, 0x08, 0x01};
	for (uint8_t i = 0; i < 3; i++) {
		put_u8(&b, 0);
		put_u8(&b, 5);
		put_u8(&b, i);
		put_u8(&b, 3);
		put_slice(&b, first, sizeof(first));
	}
	emit("chunk", "three-parts", &b);
	put_u8(&b, 0);
	put_u8(&b, 5);
	put_u8(&b, 0);
	put_u8(&b, 2);
	put_slice(&b, first, sizeof(first));
	put_u8(&b, 2);
	put_u8(&b, 0);
	put_u8(&b, 0);
	put_u8(&b, 0);
	put_slice(&b, "", 0);
	put_u8(&b, 0);
	put_u8(&b, 5);
	put_u8(&b, 1);
	put_u8(&b, 2);
	put_slice(&b, first, sizeof(first));
	emit("chunk", "abort-then-late-part", &b);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: gen_seeds <corpus dir> [clip.webm]\n");
		return 2;
	}
	root = argv[1];
	mkdir(root, 0755);
	uint8_t *webm = NULL;
	size_t webm_len = 0;
	if (argc > 2) {
		FILE *f = fopen(argv[2], "rb");
		if (f == NULL)
			return 1;
		webm = malloc(1 << 20);
		webm_len = fread(webm, 1, 1 << 20, f);
		fclose(f);
	}
	ws_seeds();
	chat_seeds();
	notes_seeds();
	recording_seeds(webm, webm_len);
	registry_seeds();
	http_seeds(webm, webm_len);
	jwt_seeds();
	config_seeds();
	chunk_seeds();
	free(webm);
	return 0;
}
