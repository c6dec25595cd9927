// range.h: the Range header of a download (RFC 9110 section 14), for one
// byte range; what a <video> element and a resumed download send.
#ifndef GW_RANGE_H
#define GW_RANGE_H

#include <stdint.h>

// gw_range_result is how to answer a request for a representation of size
// bytes given its Range header.
enum gw_range_result {
	GW_RANGE_NONE,          // no Range, or one to ignore (another unit, several ranges): 200, everything
	GW_RANGE_PARTIAL,       // one satisfiable byte range [*first, *last]: 206
	GW_RANGE_UNSATISFIABLE, // bytes, but no byte of it exists or the range is invalid: 416
};

// gw_range_parse reads header (NUL-terminated; NULL for none) against size:
// "bytes=a-b" (b clamped to size - 1), "bytes=a-" (to the end), "bytes=-n"
// (the last n bytes, all of them when n >= size), white space around the
// range allowed and the unit case-insensitive (section 14.1). A first
// position at or past size, a suffix of 0, any range of an empty
// representation, and an invalid range (last < first, no digits) are
// unsatisfiable. Several ranges are ignored (section 14.2 allows it; we do
// not send multipart/byteranges). Numbers too large for 64 bits saturate.
// *first and *last are set only for GW_RANGE_PARTIAL.
enum gw_range_result gw_range_parse(const char *header, uint64_t size, uint64_t *first, uint64_t *last);

#endif
