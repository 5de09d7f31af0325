/* b64.c: the streaming base64 decoder: an AVX2 fast path (32 characters at
 * a time), a table-driven one (4 at a time), and a per-byte path for
 * whitespace, '=' and escapes. */
#include "b64.h"

#include <stdint.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#endif

/* Byte classes of the per-byte path; 0..63 are sextet values. */
#define C_WS	64	/* space, \t, \r, \n */
#define C_PAD	65	/* '=' */
#define C_ESC	66	/* '\\', the start of a JSON escape */
#define C_BAD	255

#define B64_VAL(c)							\
	((c) >= 'A' && (c) <= 'Z' ? (c) - 'A' :				\
	 (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26 :			\
	 (c) >= '0' && (c) <= '9' ? (c) - '0' + 52 :			\
	 (c) == '+' ? 62 : (c) == '/' ? 63 : -1)

#define B64_CLASS(c)							\
	(B64_VAL(c) >= 0 ? B64_VAL(c) :					\
	 (c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n' ? C_WS :	\
	 (c) == '=' ? C_PAD : (c) == '\\' ? C_ESC : C_BAD)

/* Fast-path tables: the sextet already shifted to its place in the 24-bit
 * group, or a high bit that marks anything else. */
#define B64_SHIFTED(c, sh)						\
	(B64_VAL(c) >= 0 ? (uint32_t)B64_VAL(c) << (sh) : 0x80000000u)

#define R4(F, a, b)	F((a), b), F((a) + 1, b), F((a) + 2, b), F((a) + 3, b)
#define R16(F, a, b)	R4(F, a, b), R4(F, (a) + 4, b), R4(F, (a) + 8, b), \
			R4(F, (a) + 12, b)
#define R64(F, a, b)	R16(F, a, b), R16(F, (a) + 16, b), \
			R16(F, (a) + 32, b), R16(F, (a) + 48, b)
#define R256(F, b)	R64(F, 0, b), R64(F, 64, b), R64(F, 128, b), \
			R64(F, 192, b)
#define CLASS_OF(c, unused)	B64_CLASS(c)

static const unsigned char b64_class[256] = { R256(CLASS_OF, 0) };
static const uint32_t b64_d0[256] = { R256(B64_SHIFTED, 18) };
static const uint32_t b64_d1[256] = { R256(B64_SHIFTED, 12) };
static const uint32_t b64_d2[256] = { R256(B64_SHIFTED, 6) };
static const uint32_t b64_d3[256] = { R256(B64_SHIFTED, 0) };

void
b64_init(struct b64_decoder *d, int flags)
{
	d->acc = 0;
	d->nbits = 0;
	d->pad = 0;
	d->escape = 0;
	d->flags = flags;
	d->consumed = 0;
#ifdef HAVE_AVX2_PATH
	d->avx2 = !(flags & B64_SCALAR) && __builtin_cpu_supports("avx2");
#else
	d->avx2 = 0;
#endif
}

size_t
b64_decoded_max(size_t len)
{
	/* Up to one whole sextet may be pending from the previous chunk:
	 * (6 + 6 * len) / 8 bytes at most, which this bounds. */
	return len / 4 * 3 + 3;
}

#ifdef HAVE_AVX2_PATH
/* Blocks of 32 alphabet characters into 24 bytes (Mula and Lemire, "Faster
 * Base64 Encoding and Decoding Using AVX2 Instructions", 2018): nibble
 * lookups classify each character, a third lookup maps it to its sextet,
 * two multiply-adds pack the sextets. Stops before the first block that
 * holds anything else (whitespace, '=', a backslash, a bad byte): the
 * slower paths take it from there. Writes exactly 24 bytes per block. */
__attribute__((target("avx2"))) static const unsigned char *
decode_avx2(const unsigned char *s, const unsigned char *end,
    unsigned char **op)
{
	const __m256i lut_lo = _mm256_setr_epi8(
	    0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	    0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a,
	    0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	    0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a);
	const __m256i lut_hi = _mm256_setr_epi8(
	    0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08,
	    0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
	    0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08,
	    0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
	const __m256i lut_roll = _mm256_setr_epi8(
	    0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m256i pack_bytes = _mm256_setr_epi8(
	    2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
	    2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
	const __m256i pack_lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
	const __m256i mask_2f = _mm256_set1_epi8(0x2f);
	unsigned char *o = *op;
	__m256i in, hi_nib, lo_nib, roll, v;

	while (end - s >= 32) {
		in = _mm256_loadu_si256((const __m256i *)(const void *)s);
		hi_nib = _mm256_and_si256(_mm256_srli_epi32(in, 4), mask_2f);
		lo_nib = _mm256_and_si256(in, mask_2f);
		if (!_mm256_testz_si256(_mm256_shuffle_epi8(lut_lo, lo_nib),
		    _mm256_shuffle_epi8(lut_hi, hi_nib)))
			break;
		roll = _mm256_shuffle_epi8(lut_roll, _mm256_add_epi8(
		    _mm256_cmpeq_epi8(in, mask_2f), hi_nib));
		v = _mm256_add_epi8(in, roll);
		v = _mm256_maddubs_epi16(v, _mm256_set1_epi32(0x01400140));
		v = _mm256_madd_epi16(v, _mm256_set1_epi32(0x00011000));
		v = _mm256_shuffle_epi8(v, pack_bytes);
		v = _mm256_permutevar8x32_epi32(v, pack_lanes);
		_mm_storeu_si128((__m128i *)(void *)o, _mm256_castsi256_si128(v));
		_mm_storel_epi64((__m128i *)(void *)(o + 16),
		    _mm256_extracti128_si256(v, 1));
		o += 24;
		s += 32;
	}
	*op = o;
	return s;
}
#endif

/* Whole quanta of four alphabet characters, while nothing is pending;
 * stops before the first quantum that holds anything else. */
static const unsigned char *
decode_fast(struct b64_decoder *d, const unsigned char *s,
    const unsigned char *end, unsigned char **op)
{
	unsigned char *o;
	uint32_t x, y;

#ifdef HAVE_AVX2_PATH
	if (d->avx2)
		s = decode_avx2(s, end, op);
#else
	(void)d;
#endif
	o = *op;
	while (end - s >= 8) {
		x = b64_d0[s[0]] | b64_d1[s[1]] | b64_d2[s[2]] | b64_d3[s[3]];
		y = b64_d0[s[4]] | b64_d1[s[5]] | b64_d2[s[6]] | b64_d3[s[7]];
		if ((x | y) & 0x80000000u)
			break;
		o[0] = x >> 16;
		o[1] = x >> 8;
		o[2] = x;
		o[3] = y >> 16;
		o[4] = y >> 8;
		o[5] = y;
		o += 6;
		s += 8;
	}
	while (end - s >= 4) {
		x = b64_d0[s[0]] | b64_d1[s[1]] | b64_d2[s[2]] | b64_d3[s[3]];
		if (x & 0x80000000u)
			break;
		o[0] = x >> 16;
		o[1] = x >> 8;
		o[2] = x;
		o += 3;
		s += 4;
	}
	*op = o;
	return s;
}

/* One sextet: each output byte is written as soon as its 8 bits are in,
 * so b64_decode_final never has anything left to write. */
static int
put_sextet(struct b64_decoder *d, unsigned v, unsigned char **op)
{
	if (d->pad)
		return -1;
	d->acc = d->acc << 6 | v;
	switch (d->nbits) {
	case 0:
		d->nbits = 1;
		return 0;
	case 1:		/* 12 bits: one byte out, 4 left */
		*(*op)++ = d->acc >> 4;
		d->acc &= 0xf;
		break;
	case 2:		/* 10 bits: one byte out, 2 left */
		*(*op)++ = d->acc >> 2;
		d->acc &= 0x3;
		break;
	default:	/* 8 bits */
		*(*op)++ = d->acc;
		d->acc = 0;
		d->nbits = 0;
		return 0;
	}
	d->nbits++;
	return 0;
}

/* '=' is allowed only after 2 or 3 sextets of a quantum, and only as many
 * as complete it; d->pad is 1 + the number still allowed. */
static int
put_pad(struct b64_decoder *d)
{
	if (d->pad == 0) {
		if (d->nbits < 2)
			return -1;
		d->pad = d->nbits == 2 ? 2 : 1;
		d->nbits = 0;
		d->acc = 0;
		return 0;
	}
	if (d->pad == 1)
		return -1;
	d->pad--;
	return 0;
}

/* The character after a backslash: \/ is '/', \n \r \t are whitespace. */
static int
put_escaped(struct b64_decoder *d, unsigned char c, unsigned char **op)
{
	d->escape = 0;
	switch (c) {
	case '/':
		return put_sextet(d, 63, op);
	case 'n':
	case 'r':
	case 't':
		return 0;
	default:
		return -1;
	}
}

static int
decode_one(struct b64_decoder *d, unsigned char c, unsigned char **op)
{
	unsigned v;

	if (d->escape)
		return put_escaped(d, c, op);
	v = b64_class[c];
	if (v < 64)
		return put_sextet(d, v, op);
	switch (v) {
	case C_WS:
		return 0;
	case C_PAD:
		return put_pad(d);
	case C_ESC:
		if (!(d->flags & B64_JSON_ESCAPES))
			return -1;
		d->escape = 1;
		return 0;
	default:
		return -1;
	}
}

long
b64_decode_update(struct b64_decoder *d, const char *in, size_t len,
    unsigned char *out)
{
	const unsigned char *s = (const unsigned char *)in, *end = s + len;
	unsigned char *o = out;

	while (s < end) {
		if (d->nbits == 0 && !d->pad && !d->escape &&
		    (s = decode_fast(d, s, end, &o)) == end)
			break;
		if (decode_one(d, *s, &o) == -1)
			goto fail;
		s++;
	}
	d->consumed += len;
	return o - out;
 fail:
	d->consumed += s - (const unsigned char *)in;
	return -1;
}

int
b64_decode_final(struct b64_decoder *d)
{
	/* pad == 2: "xx=" ended one '=' short of a whole quantum */
	if (d->escape || d->nbits == 1 || d->pad == 2)
		return -1;
	return 0;
}
