// watch.h: "Watch together": a meeting's shared player, kept in Redis in the
// meeting's hash slot, changed by its admitted members and published as
// watch_state room events.
//
// Key (hash-tagged like members.h's):
//   huddle:{<meeting>}:watch  hash: url, playing (0/1), position_ms, rate,
//                             updated_at_ms, by, by_name, seq, action
//
// Life of the state: START makes it (paused at 0, rate 1); PLAY, PAUSE, SEEK
// and RATE change it; STOP empties the url and keeps only seq, for
// REG_WATCH_STOPPED_TTL_S, so a late event never outranks a newer start. It
// ends with the meeting's call: the last leave or expiry deletes it, as does
// a host ending the meeting, and a participant who joins a call with nobody
// else admitted in it starts without one (left over from a crash). Every
// change also sets the key's expiry to REG_WATCH_TTL_S: a state nobody has
// touched for that long is dropped even if nothing above ran.
//
// Calls run on the thread owning c->redis. Errors give a static,
// human-readable *why: HD_EUNAVAILABLE when Redis is down, HD_EINTERNAL for
// an unexpected Redis reply, plus those listed.
#ifndef REG_WATCH_H
#define REG_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "huddle/v1/registry.pb-c.h"
#include "registry/members.h"
#include "registry/registry.h"

#define REG_WATCH_URL_MAX 2048                            // bytes of a shared video's URL
#define REG_WATCH_RATE_MIN 0.25                           // slowest playback rate
#define REG_WATCH_RATE_MAX 2.0                            // fastest playback rate
#define REG_WATCH_POSITION_MAX_MS ((int64_t)48 * 3600000) // 48 h: no video is longer
#define REG_WATCH_TTL_S 86400                             // a state unchanged for a day is dropped
#define REG_WATCH_STOPPED_TTL_S 3600                      // a stopped state keeps its seq this long
#define REG_WATCH_CAS_RETRIES 32                          // compare-and-set attempts while others change it

// reg_watch is a meeting's shared player (a WatchState without the send time).
struct reg_watch {
	char url[REG_WATCH_URL_MAX + 1]; // "" when nothing is being watched
	bool playing;
	int64_t position_ms;   // media time at updated_at_ms
	double rate;           // REG_WATCH_RATE_MIN..REG_WATCH_RATE_MAX (1 when unset)
	int64_t updated_at_ms; // registry clock, Unix ms
	char by[HD_ID_LEN + 1];
	char by_name[REG_DISPLAY_NAME_MAX + 1];
	uint64_t seq; // 0: never set; grows by one with every change
	int action;   // Huddle__V1__WatchAction of the last change
};

// reg_watch_url_valid tells whether url is one a meeting may share: an
// http:// or https:// URL (scheme in any case) with a host, 1 to
// REG_WATCH_URL_MAX bytes of valid UTF-8 without spaces or control characters.
bool reg_watch_url_valid(const char *url);

// reg_watch_position_at returns the media position (ms) of w at now_ms on
// the registry's clock: position_ms while paused, position_ms + elapsed *
// rate while playing, never below 0 or above REG_WATCH_POSITION_MAX_MS.
int64_t reg_watch_position_at(const struct reg_watch *w, int64_t now_ms);

// reg_watch_read reads the meeting's state into *out (all zero, rate 1, when
// there is none or meeting_id is not an id). Returns HD_OK, or a Redis error.
hd_err reg_watch_read(struct reg_ctx *c, const char *meeting_id, struct reg_watch *out, const char **why);

// reg_watch_apply makes an admitted member's change (req: meeting,
// participant, action and its argument) with a compare-and-set on seq,
// publishes watch_state and leaves the new state in *out. STOP when nothing
// is watched changes and publishes nothing. Returns HD_OK,
// HD_EUNKNOWNMEETING, HD_EUNKNOWNPARTICIPANT (not a member),
// HD_EFORBIDDEN (waiting), HD_EBADREQUEST (action unknown; url not
// reg_watch_url_valid; position outside 0..REG_WATCH_POSITION_MAX_MS; rate
// outside REG_WATCH_RATE_MIN..MAX; PLAY, PAUSE, SEEK or RATE with nothing
// being watched), HD_EUNAVAILABLE (still racing after
// REG_WATCH_CAS_RETRIES attempts, or Redis down).
hd_err reg_watch_apply(struct reg_ctx *c, const Huddle__V1__RegistryWatchRequest *req, int64_t now_ms,
		       struct reg_watch *out, const char **why);

// reg_watch_for_join reads the state a joiner gets. alone: the joiner found
// nobody else admitted, so any state left is stale and is deleted first
// (*out is then empty). A failure is logged and gives an empty state: the
// join goes on without it.
void reg_watch_for_join(struct reg_ctx *c, const char *meeting_id, bool alone, struct reg_watch *out);

// reg_watch_end_if_empty deletes the meeting's state when its members hash
// is gone (the last one left or expired), atomically in Redis. A failure is
// logged (the state then lives until its TTL or the next joiner).
void reg_watch_end_if_empty(struct reg_ctx *c, const char *meeting_id);

// reg_watch_end deletes the meeting's state (the meeting ended for all).
void reg_watch_end(struct reg_ctx *c, const char *meeting_id);

// reg_watch_to_pb fills pb (initialised here) from w, borrowing its strings.
void reg_watch_to_pb(const struct reg_watch *w, Huddle__V1__WatchState *pb);

#endif
