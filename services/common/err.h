// err.h: the one error enum of Huddle's backend.
#ifndef HD_ERR_H
#define HD_ERR_H

// hd_err numbers equal huddle.v1.ErrorCode (proto/huddle/v1/common.proto), so
// a code travels from any service reply to the browser unchanged; err_test.c
// checks the two stay equal. 0 is success.
typedef enum hd_err {
	HD_OK = 0,
	HD_EINTERNAL = 1,    // a bug or an unexpected failure
	HD_EBADREQUEST = 2,  // a field is missing or out of range
	HD_EMALFORMED = 3,   // bytes that do not decode
	HD_ETOOLARGE = 4,    // a frame or field over its limit
	HD_EUNKNOWNTYPE = 5, // a message body we do not know
	HD_EUNKNOWNMEETING = 6,
	HD_EUNKNOWNPARTICIPANT = 7,
	HD_ENOTJOINED = 8,
	HD_EALREADYJOINED = 9,
	HD_ERESUMEREJECTED = 10,
	HD_ERATELIMITED = 11,
	HD_EUNAVAILABLE = 12, // a backend (service, Redis, store) is down
	HD_ETIMEOUT = 13,
	HD_ENOMEM = 14,
	HD_ECLOSED = 15,        // shutting down
	HD_EFORBIDDEN = 16,     // needs a host, or admission from the waiting room
	HD_EMEETINGLOCKED = 17, // the meeting takes nobody new but hosts
	HD_ETOKENINVALID = 18,  // join token missing, expired, forged or for another meeting
	HD_EBLOCKED = 19,       // removed and blocked by a host for this meeting
	HD_EDENIED = 20,        // a host denied admission
	HD_EMEETINGFULL = 21,   // MAX_PARTICIPANTS people are in the meeting
	HD_ERR_COUNT
} hd_err;

// hd_strerror returns a static, human-readable description of err; unknown
// values give "unknown error".
const char *hd_strerror(int err);

// hd_err_name returns the upper-case code name without prefix, as used in
// the HTTP API's JSON errors ("UNKNOWN_MEETING"); unknown values give "UNKNOWN".
const char *hd_err_name(int err);

// hd_err_from_nng maps an NNG error number to the closest hd_err.
hd_err hd_err_from_nng(int nng_rv);

#endif
