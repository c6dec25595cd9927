// access.c: hosts and access on the WebSocket side: the waiting room's
// limits, host and participant requests, the access room events, and the
// JoinReply of a join or an admission.
#include "gateway/access.h"
#include "gateway/sfu.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "gateway/rectoken.h"
#include "gateway/room.h"
#include "gateway/session.h"
#include "gateway/turn.h"
#include "gateway/watch.h"

#define GW_CLOSE_READMIT 4000 // as presence lost: the client resumes, and the resume brings the roster

// ---- who may do what ----

bool gw_access_client_key_valid(const char *key)
{
	size_t n = strlen(key);
	if (n == 0 || n > GW_CLIENT_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = key[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

static bool is_chat_op(Huddle__V1__ClientMessage__BodyCase c)
{
	return c == HUDDLE__V1__CLIENT_MESSAGE__BODY_CHAT_SUBSCRIBE ||
	       c == HUDDLE__V1__CLIENT_MESSAGE__BODY_CHAT_POST || c == HUDDLE__V1__CLIENT_MESSAGE__BODY_CHAT_HISTORY;
}

static bool is_notes_op(Huddle__V1__ClientMessage__BodyCase c)
{
	switch (c) {
	case HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_SUBSCRIBE:
	case HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_OPEN:
	case HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_UPDATE:
	case HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_AWARENESS:
	case HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_SNAPSHOT:
	case HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_VERSIONS:
	case HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_VERSION:
		return true;
	default:
		return false;
	}
}

bool gw_access_gate(struct gw_session *s, const Huddle__V1__ClientMessage *cm)
{
	Huddle__V1__ClientMessage__BodyCase c = cm->body_case;
	if (c == HUDDLE__V1__CLIENT_MESSAGE__BODY_LEAVE || c == HUDDLE__V1__CLIENT_MESSAGE__BODY_PING)
		return true;
	if (s->state == GW_SESSION_JOINED && s->admission != GW_ADMISSION_ADMITTED) {
		gw.stats.access_refused++;
		gw_session_send_error(s, cm->request_id, HD_EFORBIDDEN, GW_WAITING_MESSAGE);
		return false;
	}
	// A subscription made while allowed ends being one when the session
	// leaves, is removed, or the meeting closes its doors.
	bool chat_denied = is_chat_op(c) && s->chat_state == GW_CHAT_SUBSCRIBED &&
			   (c != HUDDLE__V1__CLIENT_MESSAGE__BODY_CHAT_SUBSCRIBE ||
			    strcmp(cm->chat_subscribe->meeting_id, s->chat_meeting_id) == 0) &&
			   !gw_session_may_read(s, s->chat_meeting_id, s->chat_access_mode);
	bool notes_denied = is_notes_op(c) && s->notes.state == GW_NOTES_SUBSCRIBED &&
			    (c != HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_SUBSCRIBE ||
			     strcmp(cm->notes_subscribe->meeting_id, s->notes.meeting_id) == 0) &&
			    !gw_session_may_read(s, s->notes.meeting_id, s->notes.access_mode);
	if (chat_denied || notes_denied) {
		gw.stats.access_refused++;
		gw_session_send_error(s, cm->request_id, HD_EFORBIDDEN,
				      "the chat and notes of this meeting are for the participants a host let in");
		return false;
	}
	return true;
}

// ---- join replies ----

// send_join sends s its JoinReply, for request_id or (as_event) inside an
// admission_event: with participants (borrowed), ICE servers and a
// recording token when s is admitted, with the waiting list (borrowed) when
// it is an admitted host, and the shared player (watch, may be NULL) and the
// media mode (media_mode, may be NULL) when admitted.
static void send_join(struct gw_session *s, uint32_t request_id, Huddle__V1__Participant **participants, size_t n,
		      bool resumed, Huddle__V1__WaitingParticipant **waiting, size_t n_waiting, bool as_event,
		      Huddle__V1__WatchState *watch, Huddle__V1__MediaModeState *media_mode)
{
	bool admitted = s->admission == GW_ADMISSION_ADMITTED;
	Huddle__V1__JoinReply jr = HUDDLE__V1__JOIN_REPLY__INIT;
	Huddle__V1__Meeting meeting = HUDDLE__V1__MEETING__INIT;
	meeting.id = s->meeting_id;
	meeting.title = s->title;
	meeting.created_at_ms = s->created_at_ms;
	meeting.access_mode = (Huddle__V1__AccessMode)s->access_mode;
	meeting.starts_at_ms = s->starts_at_ms;
	jr.participant_id = s->participant_id;
	jr.resume_token = s->resume_token;
	jr.resumed = resumed;
	jr.meeting = &meeting;
	jr.presence_ttl_ms = s->presence_ttl_ms;
	jr.role = (Huddle__V1__Role)s->role;
	jr.admission = admitted ? HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_ADMITTED
				: HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_WAITING;
	jr.host_present = s->host_present;
	jr.display_name = s->display_name;

	// ICE servers: STUN without credentials, TURN with REST API ones.
	Huddle__V1__IceServer stun = HUDDLE__V1__ICE_SERVER__INIT, turn = HUDDLE__V1__ICE_SERVER__INIT;
	Huddle__V1__IceServer *servers[2];
	size_t n_servers = 0;
	char username[GW_TURN_USERNAME_MAX], credential[GW_TURN_CREDENTIAL_MAX];
	char rec_token[GW_RECTOKEN_MAX];
	if (admitted) {
		jr.watch = gw_watch_stamp(watch);
		jr.media_mode = media_mode;
		if (media_mode != NULL) {
			s->media_mode = (int)media_mode->mode;
			s->media_epoch = (uint32_t)media_mode->epoch;
		}
		jr.n_participants = n;
		jr.participants = participants;
		if (s->role == HUDDLE__V1__ROLE__ROLE_HOST) {
			jr.n_waiting = n_waiting;
			jr.waiting = waiting;
		}
		if (gw.n_stun > 0) {
			stun.n_urls = gw.n_stun;
			stun.urls = gw.stun_urls;
			servers[n_servers++] = &stun;
		}
		if (gw.n_turn > 0 && gw_turn_credentials(gw.cfg.turn_secret, s->participant_id, (int64_t)time(NULL),
							 gw.cfg.turn_ttl_s, username, credential) == HD_OK) {
			turn.n_urls = gw.n_turn;
			turn.urls = gw.turn_urls;
			turn.username = username;
			turn.credential = credential;
			servers[n_servers++] = &turn;
		}
		jr.n_ice_servers = n_servers;
		jr.ice_servers = servers;
		// A fresh recording token on every join and resume: an upload
		// queue left by a closed tab finishes with the one its next
		// visit gets.
		if (gw_rectoken_mint(gw.cfg.recording_token_secret, s->meeting_id, s->participant_id,
				     (int64_t)time(NULL), gw.cfg.recording_token_ttl_s, rec_token) == HD_OK)
			jr.recording_token = rec_token;
		else
			HD_WARN("session %llu: no recording token for %s", (unsigned long long)s->id,
				s->participant_id);
	}
	if (as_event) {
		Huddle__V1__AdmissionEvent ae = HUDDLE__V1__ADMISSION_EVENT__INIT;
		ae.state = HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_ADMITTED;
		ae.join = &jr;
		gw_session_send_body(s, 0, HUDDLE__V1__SERVER_MESSAGE__BODY_ADMISSION_EVENT, &ae);
	} else {
		gw_session_send_body(s, request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_JOIN, &jr);
	}
}

// keep_meeting copies the meeting record m into s.
static void keep_meeting(struct gw_session *s, const Huddle__V1__Meeting *m)
{
	if (m == NULL)
		return;
	snprintf(s->title, sizeof(s->title), "%s", m->title);
	s->created_at_ms = m->created_at_ms;
	s->starts_at_ms = m->starts_at_ms;
	s->access_mode = (int)m->access_mode;
}

void gw_access_join_reply(struct gw_session *s, uint32_t request_id, const Huddle__V1__RegistryJoinReply *r)
{
	const Huddle__V1__Participant *me = r->participant;
	// A registry that predates admission says nothing: in the call.
	s->admission = r->admission == HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_WAITING ? GW_ADMISSION_WAITING
											    : GW_ADMISSION_ADMITTED;
	s->role = me->role == HUDDLE__V1__ROLE__ROLE_HOST ? HUDDLE__V1__ROLE__ROLE_HOST : HUDDLE__V1__ROLE__ROLE_GUEST;
	s->host_present = r->host_present;
	s->hand_raised_at_ms = me->hand_raised_at_ms;
	snprintf(s->resume_token, sizeof(s->resume_token), "%s", r->resume_token);
	snprintf(s->display_name, sizeof(s->display_name), "%s", me->display_name);
	keep_meeting(s, r->meeting);
	s->presence_ttl_ms = r->presence_ttl_ms;
	send_join(s, request_id, r->participants, r->n_participants, r->resumed, r->waiting, r->n_waiting, false,
		  r->watch, r->media_mode);
}

// ---- requests ----

static bool require_joined(struct gw_session *s, uint32_t request_id)
{
	if (s->state == GW_SESSION_JOINED)
		return true;
	gw_session_send_error(s, request_id, HD_ENOTJOINED, NULL);
	return false;
}

// call sends req for s's request, or answers UNAVAILABLE.
static void call(struct gw_session *s, enum gw_op op, uint32_t request_id, Huddle__V1__RegistryRequest *req)
{
	if (gw_registry_call(op, s->id, request_id, req) != HD_OK)
		gw_session_send_error(s, request_id, HD_EUNAVAILABLE, "the registry is unavailable");
}

void gw_access_op_admit(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	Huddle__V1__AdmitRequest *a = cm->admit;
	if (!require_joined(s, cm->request_id))
		return;
	if (!a->all && a->n_participant_ids == 0) {
		gw_session_send_error(s, cm->request_id, HD_EBADREQUEST, "name the participants to admit, or all");
		return;
	}
	if (!a->all) {
		if (a->n_participant_ids > GW_ADMIT_IDS_MAX) {
			gw_session_send_error(s, cm->request_id, HD_EBADREQUEST, "at most 256 participants at once");
			return;
		}
		for (size_t i = 0; i < a->n_participant_ids; i++)
			if (!hd_id_valid(a->participant_ids[i])) {
				gw_session_send_error(s, cm->request_id, HD_EBADREQUEST,
						      "a participant id is not valid");
				return;
			}
	}
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RegistryAdmitRequest ra = HUDDLE__V1__REGISTRY_ADMIT_REQUEST__INIT;
	Huddle__V1__Actor actor = HUDDLE__V1__ACTOR__INIT;
	actor.participant_id = s->participant_id;
	ra.meeting_id = s->meeting_id;
	ra.actor = &actor;
	ra.all = a->all;
	ra.deny = a->deny;
	if (!a->all) {
		ra.n_participant_ids = a->n_participant_ids;
		ra.participant_ids = a->participant_ids;
	}
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_ADMIT;
	req.admit = &ra;
	call(s, GW_OP_ADMIT, cm->request_id, &req);
}

void gw_access_op_moderate(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	Huddle__V1__ModerateRequest *m = cm->moderate;
	if (!require_joined(s, cm->request_id))
		return;
	if (!hd_id_valid(m->participant_id)) {
		gw_session_send_error(s, cm->request_id, HD_EUNKNOWNPARTICIPANT, "no participant has that id");
		return;
	}
	if (m->action < HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_MUTE ||
	    m->action > HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_LOWER_HAND) {
		gw_session_send_error(s, cm->request_id, HD_EBADREQUEST, "action must be a ModerationAction");
		return;
	}
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RegistryModerateRequest rm = HUDDLE__V1__REGISTRY_MODERATE_REQUEST__INIT;
	Huddle__V1__Actor actor = HUDDLE__V1__ACTOR__INIT;
	actor.participant_id = s->participant_id;
	rm.meeting_id = s->meeting_id;
	rm.actor = &actor;
	rm.participant_id = m->participant_id;
	rm.action = m->action;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_MODERATE;
	req.moderate = &rm;
	call(s, GW_OP_MODERATE, cm->request_id, &req);
}

void gw_access_op_set_access(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	Huddle__V1__AccessMode mode = cm->set_access->access_mode;
	if (!require_joined(s, cm->request_id))
		return;
	if (mode < HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_OPEN ||
	    mode > HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_TOKEN_ONLY) {
		gw_session_send_error(s, cm->request_id, HD_EBADREQUEST, "access_mode must be an AccessMode");
		return;
	}
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RegistrySetAccessRequest sa = HUDDLE__V1__REGISTRY_SET_ACCESS_REQUEST__INIT;
	Huddle__V1__Actor actor = HUDDLE__V1__ACTOR__INIT;
	actor.participant_id = s->participant_id;
	sa.meeting_id = s->meeting_id;
	sa.actor = &actor;
	sa.access_mode = mode;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_SET_ACCESS;
	req.set_access = &sa;
	call(s, GW_OP_SET_ACCESS, cm->request_id, &req);
}

void gw_access_op_end_meeting(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	if (!require_joined(s, cm->request_id))
		return;
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RegistryEndMeetingRequest em = HUDDLE__V1__REGISTRY_END_MEETING_REQUEST__INIT;
	Huddle__V1__Actor actor = HUDDLE__V1__ACTOR__INIT;
	actor.participant_id = s->participant_id;
	em.meeting_id = s->meeting_id;
	em.actor = &actor;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_END_MEETING;
	req.end_meeting = &em;
	call(s, GW_OP_END_MEETING, cm->request_id, &req);
}

void gw_access_op_hand(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	if (!require_joined(s, cm->request_id))
		return;
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RegistryHandRequest h = HUDDLE__V1__REGISTRY_HAND_REQUEST__INIT;
	h.meeting_id = s->meeting_id;
	h.participant_id = s->participant_id;
	h.raised = cm->hand->raised;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_HAND;
	req.hand = &h;
	call(s, GW_OP_HAND, cm->request_id, &req);
}

void gw_access_op_reaction(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	char why[96];
	if (!require_joined(s, cm->request_id))
		return;
	// REACTION_RATE per GW_REACTION_WINDOW_S: a reaction costs the window's
	// seconds, and the bucket refills REACTION_RATE tokens a second.
	uint32_t rate = (uint32_t)gw.cfg.reaction_rate;
	if (!gw_ratelimit_take_n(&s->reactions, GW_REACTION_WINDOW_S, rate, rate * GW_REACTION_WINDOW_S,
				 hd_mono_ms())) {
		gw.stats.rate_limited++;
		snprintf(why, sizeof(why), "too many reactions; at most %u per %d seconds", rate, GW_REACTION_WINDOW_S);
		gw_session_send_error(s, cm->request_id, HD_ERATELIMITED, why);
		return;
	}
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RegistryReactionRequest rr = HUDDLE__V1__REGISTRY_REACTION_REQUEST__INIT;
	rr.meeting_id = s->meeting_id;
	rr.participant_id = s->participant_id;
	rr.emoji = cm->reaction->emoji;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_REACTION;
	req.reaction = &rr;
	call(s, GW_OP_REACTION, cm->request_id, &req);
}

// ---- admission ----

// admit_failed ends s's join when its roster cannot be read: the client
// resumes (close 4000), and the registry, where it is admitted, answers the
// resume with everything.
static void admit_failed(struct gw_session *s, const char *why)
{
	HD_WARN("session %llu: admitted, but the roster could not be read (%s); asking the client to resume",
		(unsigned long long)s->id, why);
	gw_room_detach(s);
	gw_session_close(s, GW_CLOSE_READMIT, "admitted: resume to enter");
}

// admit_start begins s's entry into the call: room events are buffered
// while the roster is read, then replayed after the admission_event.
static void admit_start(struct gw_session *s)
{
	s->admission = GW_ADMISSION_ADMITTING;
	gw_room_buffer(s);
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__ListParticipantsRequest lp = HUDDLE__V1__LIST_PARTICIPANTS_REQUEST__INIT;
	lp.meeting_id = s->meeting_id;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_LIST_PARTICIPANTS;
	req.list_participants = &lp;
	// The join's request id names this entry: a reply to an earlier one is stale.
	if (gw_registry_call(GW_OP_ADMIT_ROSTER, s->id, s->join_request_id, &req) != HD_OK)
		admit_failed(s, "registry unavailable");
}

static void on_roster(struct gw_session *s, const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	if (s->state != GW_SESSION_JOINED || s->admission != GW_ADMISSION_ADMITTING ||
	    s->join_request_id != p->request_id)
		return;
	if (err != HD_OK || (r->error != NULL && r->error->code != HUDDLE__V1__ERROR_CODE__ERROR_CODE_OK) ||
	    r->body_case != HUDDLE__V1__REGISTRY_REPLY__BODY_LIST_PARTICIPANTS) {
		admit_failed(s, err != HD_OK ? hd_strerror(err) : "error reply");
		return;
	}
	Huddle__V1__ListParticipantsReply *l = r->list_participants;
	Huddle__V1__Participant **others = calloc(l->n_participants + 1, sizeof(*others));
	size_t n = 0;
	if (others == NULL) {
		admit_failed(s, "no memory");
		return;
	}
	for (size_t i = 0; i < l->n_participants; i++)
		if (l->participants[i] != NULL && strcmp(l->participants[i]->id, s->participant_id) != 0)
			others[n++] = l->participants[i];
	s->admission = GW_ADMISSION_ADMITTED;
	send_join(s, 0, others, n, false, NULL, 0, true, l->watch, l->media_mode);
	gw_room_replay(s, others, n);
	free(others);
	gw.stats.admissions++;
	HD_DEBUG("session %llu admitted to meeting %s as %s", (unsigned long long)s->id, s->meeting_id,
		 s->participant_id);
}

void gw_access_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	struct gw_session *s = gw_session_find(p->conn_id);
	if (s == NULL)
		return;
	if (p->op == GW_OP_ADMIT_ROSTER) {
		on_roster(s, p, err, r);
		return;
	}
	if (gw_session_registry_failed(s, p->request_id, err, r))
		return;
	switch (p->op) {
	case GW_OP_ADMIT: {
		Huddle__V1__AdmitReply ok = HUDDLE__V1__ADMIT_REPLY__INIT;
		gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_ADMIT, &ok);
		break;
	}
	case GW_OP_MODERATE: {
		Huddle__V1__ModerateReply ok = HUDDLE__V1__MODERATE_REPLY__INIT;
		gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_MODERATE, &ok);
		break;
	}
	case GW_OP_SET_ACCESS: {
		Huddle__V1__SetAccessReply ok = HUDDLE__V1__SET_ACCESS_REPLY__INIT;
		if (r->body_case == HUDDLE__V1__REGISTRY_REPLY__BODY_SET_ACCESS)
			ok.meeting = r->set_access->meeting;
		gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_SET_ACCESS, &ok);
		break;
	}
	case GW_OP_END_MEETING: {
		Huddle__V1__EndMeetingReply ok = HUDDLE__V1__END_MEETING_REPLY__INIT;
		gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_END_MEETING, &ok);
		break;
	}
	case GW_OP_HAND: {
		Huddle__V1__HandReply ok = HUDDLE__V1__HAND_REPLY__INIT;
		gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_HAND, &ok);
		break;
	}
	case GW_OP_REACTION: {
		gw.stats.reactions++;
		Huddle__V1__ReactionReply ok = HUDDLE__V1__REACTION_REPLY__INIT;
		gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_REACTION, &ok);
		break;
	}
	default:
		break;
	}
}

// ---- events ----

bool gw_access_is_event(const Huddle__V1__RoomEvent *ev)
{
	switch (ev->body_case) {
	case HUDDLE__V1__ROOM_EVENT__BODY_ADMISSION:
	case HUDDLE__V1__ROOM_EVENT__BODY_WAITING_CHANGED:
	case HUDDLE__V1__ROOM_EVENT__BODY_MODERATED:
	case HUDDLE__V1__ROOM_EVENT__BODY_MEETING_UPDATED:
	case HUDDLE__V1__ROOM_EVENT__BODY_MEETING_ENDED:
	case HUDDLE__V1__ROOM_EVENT__BODY_REACTION:
	case HUDDLE__V1__ROOM_EVENT__BODY_WATCH_STATE:
	case HUDDLE__V1__ROOM_EVENT__BODY_MEDIA_MODE:
		return true;
	default:
		return false;
	}
}

void gw_access_meeting_updated(const Huddle__V1__Meeting *m)
{
	struct gw_session *s, *tmp;
	HASH_ITER(hh, gw.sessions, s, tmp)
	{
		if (s->chat_state != GW_CHAT_NONE && strcmp(s->chat_meeting_id, m->id) == 0)
			s->chat_access_mode = (int)m->access_mode;
		if (s->notes.state != GW_NOTES_NONE && strcmp(s->notes.meeting_id, m->id) == 0)
			s->notes.access_mode = (int)m->access_mode;
	}
}

static void on_admission(struct gw_session *s, const Huddle__V1__Admission *a)
{
	if (strcmp(a->participant_id, s->participant_id) != 0 || s->admission != GW_ADMISSION_WAITING)
		return;
	if (a->state == HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_ADMITTED) {
		admit_start(s);
	} else if (a->state == HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_DENIED) {
		Huddle__V1__AdmissionEvent ae = HUDDLE__V1__ADMISSION_EVENT__INIT;
		ae.state = HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_DENIED;
		gw_session_send_body(s, 0, HUDDLE__V1__SERVER_MESSAGE__BODY_ADMISSION_EVENT, &ae);
		gw_room_detach(s);
		gw.stats.denials++;
	}
}

static void on_waiting_changed(struct gw_session *s, const Huddle__V1__WaitingChanged *w)
{
	Huddle__V1__WaitingRoomEvent we = HUDDLE__V1__WAITING_ROOM_EVENT__INIT;
	s->host_present = w->host_present;
	we.host_present = w->host_present;
	if (s->admission == GW_ADMISSION_ADMITTED && s->role == HUDDLE__V1__ROLE__ROLE_HOST) {
		we.n_waiting = w->n_waiting;
		we.waiting = w->waiting;
	} else if (s->admission != GW_ADMISSION_WAITING) {
		return; // admitted guests do not see the waiting room
	}
	gw_session_send_body(s, 0, HUDDLE__V1__SERVER_MESSAGE__BODY_WAITING_ROOM_EVENT, &we);
}

static void on_moderated(struct gw_session *s, const Huddle__V1__Moderated *m)
{
	if (strcmp(m->participant_id, s->participant_id) != 0)
		return;
	Huddle__V1__ModerationEvent me = HUDDLE__V1__MODERATION_EVENT__INIT;
	me.action = m->action;
	me.by_participant_id = m->by_participant_id;
	me.by_name = m->by_name;
	gw_session_send_body(s, 0, HUDDLE__V1__SERVER_MESSAGE__BODY_MODERATION_EVENT, &me);
	if (m->action == HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_REMOVE ||
	    m->action == HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_BLOCK) {
		HD_INFO("participant %s of %s removed by a host", s->participant_id, s->meeting_id);
		gw_sfu_left(s, true); // revoked and kicked from the SFU room
		gw_room_detach(s);
		gw.stats.removals++;
	} else if (m->action == HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_MAKE_HOST) {
		s->role = HUDDLE__V1__ROLE__ROLE_HOST;
	}
}

// on_event_for delivers ev to the one session s.
static void on_event_for(struct gw_session *s, const Huddle__V1__RoomEvent *ev)
{
	switch (ev->body_case) {
	case HUDDLE__V1__ROOM_EVENT__BODY_ADMISSION:
		on_admission(s, ev->admission);
		break;
	case HUDDLE__V1__ROOM_EVENT__BODY_WAITING_CHANGED:
		on_waiting_changed(s, ev->waiting_changed);
		break;
	case HUDDLE__V1__ROOM_EVENT__BODY_MODERATED:
		on_moderated(s, ev->moderated);
		break;
	case HUDDLE__V1__ROOM_EVENT__BODY_MEETING_UPDATED:
		if (ev->meeting_updated->meeting == NULL)
			break;
		keep_meeting(s, ev->meeting_updated->meeting);
		if (s->admission == GW_ADMISSION_ADMITTED)
			gw_session_send_body(s, 0, HUDDLE__V1__SERVER_MESSAGE__BODY_MEETING_UPDATED,
					     ev->meeting_updated);
		break;
	case HUDDLE__V1__ROOM_EVENT__BODY_MEETING_ENDED:
		gw_session_send_body(s, 0, HUDDLE__V1__SERVER_MESSAGE__BODY_MEETING_ENDED, ev->meeting_ended);
		gw_room_detach(s);
		break;
	case HUDDLE__V1__ROOM_EVENT__BODY_REACTION:
		if (s->admission == GW_ADMISSION_ADMITTED)
			gw_session_send_body(s, 0, HUDDLE__V1__SERVER_MESSAGE__BODY_REACTION_EVENT, ev->reaction);
		break;
	case HUDDLE__V1__ROOM_EVENT__BODY_WATCH_STATE:
		gw_watch_on_event(s, ev->watch_state);
		break;
	case HUDDLE__V1__ROOM_EVENT__BODY_MEDIA_MODE:
		// Every admitted participant; a waiting one learns the mode on admission.
		if (s->admission == GW_ADMISSION_ADMITTED)
			gw_session_send_body(s, 0, HUDDLE__V1__SERVER_MESSAGE__BODY_MEDIA_MODE, ev->media_mode);
		if (ev->media_mode != NULL &&
		    ((uint32_t)ev->media_mode->epoch >= s->media_epoch || s->media_epoch == 0)) {
			s->media_mode = (int)ev->media_mode->mode;
			s->media_epoch = (uint32_t)ev->media_mode->epoch;
		}
		break;
	default:
		break;
	}
}

void gw_access_on_event(const Huddle__V1__RoomEvent *ev, struct gw_session **sessions, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sessions[i]->state == GW_SESSION_JOINED && strcmp(sessions[i]->meeting_id, ev->meeting_id) == 0)
			on_event_for(sessions[i], ev);
}

size_t gw_access_waiting(void)
{
	struct gw_session *s, *tmp;
	size_t n = 0;
	HASH_ITER(hh, gw.sessions, s, tmp)
	{
		if (s->state == GW_SESSION_JOINED && s->admission != GW_ADMISSION_ADMITTED)
			n++;
	}
	return n;
}
