// input.h: reading a libFuzzer input as a stream of small fields (a byte,
// a 16-bit length, a length-prefixed slice, a NUL-terminated copy). Every
// read past the end yields zeros / empty slices, so a harness never needs
// to check lengths itself.
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fz_in {
	const uint8_t *p;
	size_t left;
};

static inline void fz_init(struct fz_in *in, const uint8_t *data, size_t len)
{
	in->p = data;
	in->left = len;
}

static inline uint8_t fz_u8(struct fz_in *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint16_t fz_u16(struct fz_in *in)
{
	uint16_t hi = fz_u8(in);
	return (uint16_t)(hi << 8 | fz_u8(in));
}

static inline uint32_t fz_u32(struct fz_in *in)
{
	uint32_t hi = fz_u16(in);
	return hi << 16 | fz_u16(in);
}

// fz_bytes returns the next n bytes (fewer at the end: *got says how many).
static inline const uint8_t *fz_bytes(struct fz_in *in, size_t n, size_t *got)
{
	const uint8_t *p = in->p;
	if (n > in->left)
		n = in->left;
	in->p += n;
	in->left -= n;
	*got = n;
	return p;
}

// fz_slice reads a 16-bit big-endian length, then that many bytes.
static inline const uint8_t *fz_slice(struct fz_in *in, size_t *got)
{
	return fz_bytes(in, fz_u16(in), got);
}

// fz_str reads a slice as a new NUL-terminated string (the caller frees;
// embedded NULs end it early, as C code reading it would see it).
static inline char *fz_str(struct fz_in *in)
{
	size_t n;
	const uint8_t *p = fz_slice(in, &n);
	char *s = malloc(n + 1);
	if (s == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

// fz_rest returns everything left.
static inline const uint8_t *fz_rest(struct fz_in *in, size_t *got)
{
	return fz_bytes(in, in->left, got);
}

#endif
