/* test_b64.c: the streaming base64 decoder: round trips of every length,
 * every split point, padding, whitespace, JSON escapes, bad bytes and their
 * offsets, large input, and the b64_decoded_max bound (buffers sized exactly).
 * Everything runs twice, with the AVX2 path (where the CPU has it) and with
 * B64_SCALAR; then both paths are compared on special bytes at every place. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "testutil.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static uint32_t rng_state = 0x12345678;
static int mode_flags; /* 0 or B64_SCALAR: OR'ed into every init */

static void
init_dec(struct b64_decoder *d, int flags)
{
	b64_init(d, flags | mode_flags);
}

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Reference encoder; pad=0 leaves the '=' off. Returns a malloc'd string. */
static char *
encode(const unsigned char *in, size_t n, int pad)
{
	char *out = malloc(n / 3 * 4 + 5), *o = out;
	size_t i;
	uint32_t v;

	if (out == NULL)
		abort();
	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*o++ = alphabet[v >> 18], *o++ = alphabet[(v >> 12) & 63];
		*o++ = alphabet[(v >> 6) & 63], *o++ = alphabet[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		*o++ = alphabet[v >> 18], *o++ = alphabet[(v >> 12) & 63];
		if (pad)
			*o++ = '=', *o++ = '=';
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*o++ = alphabet[v >> 18], *o++ = alphabet[(v >> 12) & 63];
		*o++ = alphabet[(v >> 6) & 63];
		if (pad)
			*o++ = '=';
	}
	*o = '\0';
	return out;
}

static unsigned char *
random_bytes(size_t n)
{
	unsigned char *p = malloc(n ? n : 1);
	size_t i;

	if (p == NULL)
		abort();
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)rng();
	return p;
}

/* Feeds in[0..len) split at the given cut points, each chunk into a buffer of
 * exactly b64_decoded_max(chunk) bytes, appending to *out. Returns the total
 * decoded, or -1 (with the decoder's state in *d) on the first bad byte. */
static long
decode_cuts(struct b64_decoder *d, const char *in, size_t len, const size_t *cuts,
    size_t ncuts, unsigned char *out)
{
	size_t i, start = 0, end;
	unsigned char *tmp;
	long n, total = 0;

	for (i = 0; i <= ncuts; i++) {
		end = i < ncuts ? cuts[i] : len;
		if ((tmp = malloc(b64_decoded_max(end - start) + 1)) == NULL)
			abort();
		n = b64_decode_update(d, in + start, end - start, tmp);
		if (n >= 0) {
			if ((size_t)n > b64_decoded_max(end - start))
				n = -2;	/* the bound was broken; ASan may say so first */
			else
				memcpy(out + total, tmp, n);
		}
		free(tmp);
		if (n < 0)
			return n;
		total += n;
		start = end;
	}
	return total;
}

/* Decodes text in one go (flags), expecting want[0..wantlen) or, with
 * wantlen -1, a failure at bad_at (in update) or at b64_decode_final. */
static void
expect(const char *label, const char *text, size_t textlen, int flags,
    const void *want, long wantlen, long bad_at)
{
	struct b64_decoder d;
	unsigned char *out = malloc(b64_decoded_max(textlen) + 1);
	long n;
	int fin = 0;

	if (out == NULL)
		abort();
	init_dec(&d, flags);
	n = decode_cuts(&d, text, textlen, NULL, 0, out);
	if (n >= 0)
		fin = b64_decode_final(&d);
	if (wantlen >= 0) {
		if (n != wantlen || fin != 0 || memcmp(out, want, wantlen) != 0)
			fprintf(stderr, "%s: got n=%ld final=%d, expected %ld bytes\n",
			    label, n, fin, wantlen);
		CHECK_INT(n, wantlen);
		CHECK_INT(fin, 0);
		if (n == wantlen)
			CHECK_MEM(out, want, wantlen);
		CHECK_INT(d.consumed, textlen);
	} else if (bad_at >= 0) {
		if (n != -1 || (long)d.consumed != bad_at)
			fprintf(stderr, "%s: got n=%ld consumed=%zu, expected -1 at %ld\n",
			    label, n, d.consumed, bad_at);
		CHECK_INT(n, -1);
		CHECK_INT(d.consumed, bad_at);
	} else {
		if (n < 0 || fin != -1)
			fprintf(stderr, "%s: got n=%ld final=%d, expected final -1\n",
			    label, n, fin);
		CHECK(n >= 0);
		CHECK_INT(fin, -1);
	}
	free(out);
}

#define OK(label, text, want) \
	expect(label, text, strlen(text), 0, want, (long)strlen(want), -1)
#define BAD_AT(label, text, at) expect(label, text, strlen(text), 0, NULL, -1, at)
#define BAD_END(label, text) expect(label, text, strlen(text), 0, NULL, -1, -1)

/* Every length 0..300, padded and unpadded, in one call. */
static void
round_trips(void)
{
	unsigned char *data, *out;
	struct b64_decoder d;
	size_t len;
	char *text;
	int pad, bad = 0;
	long n;

	for (len = 0; len <= 300; len++)
		for (pad = 0; pad < 2; pad++) {
			data = random_bytes(len);
			text = encode(data, len, pad);
			if ((out = malloc(b64_decoded_max(strlen(text)) + 1)) == NULL)
				abort();
			init_dec(&d, 0);
			n = b64_decode_update(&d, text, strlen(text), out);
			if (n != (long)len || memcmp(out, data, len) != 0 ||
			    b64_decode_final(&d) != 0 || d.consumed != strlen(text)) {
				if (bad++ < 5)
					fprintf(stderr, "round trip len %zu pad %d: n=%ld\n",
					    len, pad, n);
			}
			tu_checked++;
			free(out);
			free(text);
			free(data);
		}
	tu_failed += bad != 0;
}

/* Every split point (2 chunks) for lengths 0..64, every pair of split points
 * (3 chunks) for a few lengths, and byte at a time for all of them. */
static void
splits(void)
{
	unsigned char *data, out[128];
	struct b64_decoder d;
	size_t len, tl, a, b, cuts[200];
	char *text;
	int pad, bad = 0;
	long n;

	for (len = 0; len <= 64; len++)
		for (pad = 0; pad < 2; pad++) {
			data = random_bytes(len);
			text = encode(data, len, pad);
			tl = strlen(text);
			for (a = 0; a <= tl; a++) {
				init_dec(&d, 0);
				cuts[0] = a;
				n = decode_cuts(&d, text, tl, cuts, 1, out);
				if (n != (long)len || memcmp(out, data, len) ||
				    b64_decode_final(&d) != 0)
					bad++;
				tu_checked++;
				if (len % 7 != 3)
					continue;
				for (b = a; b <= tl; b++) {
					init_dec(&d, 0);
					cuts[0] = a, cuts[1] = b;
					n = decode_cuts(&d, text, tl, cuts, 2, out);
					if (n != (long)len || memcmp(out, data, len) ||
					    b64_decode_final(&d) != 0)
						bad++;
					tu_checked++;
				}
			}
			for (a = 0; a < tl; a++)
				cuts[a] = a + 1;
			init_dec(&d, 0);
			n = decode_cuts(&d, text, tl, cuts, tl ? tl - 1 : 0, out);
			if (n != (long)len || memcmp(out, data, len) || b64_decode_final(&d))
				bad++;
			tu_checked++;
			free(text);
			free(data);
		}
	if (bad)
		fprintf(stderr, "splits: %d failures\n", bad);
	tu_failed += bad;
}

static void
padding(void)
{
	OK("empty", "", "");
	OK("A==", "QQ==", "A");
	OK("AB=", "QUI=", "AB");
	OK("ABC", "QUJD", "ABC");
	OK("A unpadded", "QQ", "A");
	OK("AB unpadded", "QUI", "AB");
	OK("two quanta", "QUJDREVG", "ABCDEF");
	OK("padded after whole", "QUJDRA==", "ABCD");
	OK("ws in padding", "QQ= \r\n=", "A");
	OK("ws after padding", "QQ==\n\n  \t", "A");
	OK("ws everywhere", " Q\tU\rJ\nD ", "ABC");
	OK("all ws", " \r\n\t", "");
	BAD_END("one sextet", "Q");
	BAD_END("five sextets", "QUJDR");
	BAD_END("half padding", "QQ=");
	BAD_END("half padding ws", "QQ=\n");
	BAD_AT("pad first", "=", 0);
	BAD_AT("pad after 1", "Q=", 1);
	BAD_AT("pad after 1 of 2nd", "QUJDR=", 5);
	BAD_AT("pad at start of quantum", "QUJD=", 4);
	BAD_AT("3 pads", "QQ===", 4);
	BAD_AT("2 pads after 3", "QUI==", 4);
	BAD_AT("data after pad", "QQ==QQ==", 4);
	BAD_AT("data after pad ws", "QQ== Q", 5);
	BAD_AT("data after 1 pad", "QUI=Q", 4);
	BAD_AT("data inside pad", "QQ=Q=", 3);
}

/* A bad byte at every position of a valid text: fails exactly there, also
 * when the text arrives in two chunks. */
static void
bad_bytes(void)
{
	static const unsigned char bads[] = { '-', '_', '.', '*', '!', '"', ':', '@',
	    '[', '`', '{', '~', 0x00, 0x0b, 0x0c, 0x7f, 0x80, 0xc3, 0xff, '\\' };
	unsigned char data[30], out[64];
	struct b64_decoder d;
	size_t i, pos, tl, cut;
	char *text, buf[64];
	int bad = 0;
	long n;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)rng();
	text = encode(data, sizeof(data), 1);
	tl = strlen(text);
	for (i = 0; i < sizeof(bads); i++)
		for (pos = 0; pos < tl; pos++)
			for (cut = 0; cut <= tl; cut += 7) {
				memcpy(buf, text, tl);
				buf[pos] = (char)bads[i];
				init_dec(&d, 0);
				n = decode_cuts(&d, buf, tl, &cut, 1, out);
				if (n != -1 || d.consumed != pos) {
					if (bad++ < 5)
						fprintf(stderr, "bad byte 0x%02x at %zu cut %zu: "
						    "n=%ld consumed=%zu\n", bads[i], pos, cut, n,
						    d.consumed);
				}
				tu_checked++;
			}
	tu_failed += bad;
	free(text);
}

/* B64_JSON_ESCAPES: \/ is '/', \n \r \t are whitespace, nothing else. */
static void
json_escapes(void)
{
	static const unsigned char slashes[] = { 0xff, 0xff, 0xff };	/* "////" */
	struct b64_decoder d;
	unsigned char out[16];
	const char *t = "\\/\\/\\/\\/";
	size_t cut;
	long n;

	expect("escaped slashes", t, strlen(t), B64_JSON_ESCAPES, slashes, 3, -1);
	expect("escape not enabled", t, strlen(t), 0, NULL, -1, 0);
	expect("escaped ws", "QU\\nJ\\rD\\t", 10, B64_JSON_ESCAPES, "ABC", 3, -1);
	expect("escaped ws, pad", "QQ=\\n=", 6, B64_JSON_ESCAPES, "A", 1, -1);
	expect("\\u escape", "QQ\\u002f", 8, B64_JSON_ESCAPES, NULL, -1, 3);
	expect("\\\\", "QQ\\\\", 4, B64_JSON_ESCAPES, NULL, -1, 3);
	expect("\\\"", "QQ\\\"", 4, B64_JSON_ESCAPES, NULL, -1, 3);
	expect("\\b", "QQ\\b", 4, B64_JSON_ESCAPES, NULL, -1, 3);
	expect("\\/ after pad", "QQ==\\/", 6, B64_JSON_ESCAPES, NULL, -1, 5);
	expect("trailing backslash", "QQ==\\", 5, B64_JSON_ESCAPES, NULL, -1, -1);
	expect("plain with flag", "QUJD", 4, B64_JSON_ESCAPES, "ABC", 3, -1);
	/* the escape split across chunks at every point */
	for (cut = 0; cut <= 8; cut++) {
		init_dec(&d, B64_JSON_ESCAPES);
		n = decode_cuts(&d, t, 8, &cut, 1, out);
		CHECK_INT(n, 3);
		CHECK_MEM(out, slashes, 3);
		CHECK_INT(b64_decode_final(&d), 0);
	}
}

/* ~3 MB, as an image event carries: one call, then random chunk sizes, then
 * wrapped at 76 columns with CRLF. */
static void
large(void)
{
	size_t len = 3 * 1024 * 1024 + 2, tl, i, ncuts = 0, *cuts, pos;
	unsigned char *data = random_bytes(len), *out = malloc(len + 16);
	struct b64_decoder d;
	char *text = encode(data, len, 1), *wrapped;
	long n;

	tl = strlen(text);
	CHECK(out != NULL);
	init_dec(&d, 0);
	n = b64_decode_update(&d, text, tl, out);
	CHECK_INT(n, len);
	CHECK(memcmp(out, data, len) == 0);
	CHECK_INT(b64_decode_final(&d), 0);

	cuts = malloc(sizeof(*cuts) * (tl / 1000 + 2));
	for (pos = rng() % 70000; pos < tl; pos += 1 + rng() % 70000)
		cuts[ncuts++] = pos;
	memset(out, 0, len);
	init_dec(&d, 0);
	n = decode_cuts(&d, text, tl, cuts, ncuts, out);
	CHECK_INT(n, len);
	CHECK(memcmp(out, data, len) == 0);
	CHECK_INT(b64_decode_final(&d), 0);

	wrapped = malloc(tl + tl / 76 * 2 + 3);
	for (i = 0, pos = 0; i < tl; i++) {
		wrapped[pos++] = text[i];
		if (i % 76 == 75)
			wrapped[pos++] = '\r', wrapped[pos++] = '\n';
	}
	memset(out, 0, len);
	init_dec(&d, 0);
	n = decode_cuts(&d, wrapped, pos, cuts, ncuts, out);
	CHECK_INT(n, len);
	CHECK(memcmp(out, data, len) == 0);
	CHECK_INT(b64_decode_final(&d), 0);
	CHECK_INT(d.consumed, pos);
	free(wrapped);
	free(cuts);
	free(text);
	free(out);
	free(data);
}

/* Whatever is pending from earlier chunks, one call never writes more than
 * b64_decoded_max(len); and the bound is not absurdly loose. */
static void
decoded_max(void)
{
	static const char *const lead[] = { "", "Q", "QU", "QUJ" };
	unsigned char *out;
	struct b64_decoder d;
	char chunk[200];
	size_t len, p, k;
	long n;
	int bad = 0;

	for (len = 0; len < 200; len++) {
		CHECK(b64_decoded_max(len) <= len * 3 / 4 + 3);
		for (p = 0; p < 4; p++) {
			for (k = 0; k < len; k++)
				chunk[k] = alphabet[rng() % 64];
			if ((out = malloc(b64_decoded_max(len) + 1)) == NULL)
				abort();
			init_dec(&d, 0);
			b64_decode_update(&d, lead[p], p, out);
			n = b64_decode_update(&d, chunk, len, out);
			if (n < 0 || (size_t)n > b64_decoded_max(len) ||
			    (size_t)n != (p + len) * 6 / 8 - p * 6 / 8)
				bad++;
			tu_checked++;
			free(out);
		}
	}
	tu_failed += bad != 0;
	if (bad)
		fprintf(stderr, "decoded_max: %d failures\n", bad);
	/* the worst case (one pending sextet, 4k+3 new ones) is reached */
	init_dec(&d, 0);
	out = malloc(b64_decoded_max(7));
	b64_decode_update(&d, "Q", 1, out);
	CHECK_INT(b64_decode_update(&d, "UJDREVG", 7, out), b64_decoded_max(7));
	free(out);
}

/* b64_init resets everything, including after a failure. */
static void
reinit(void)
{
	struct b64_decoder d;
	unsigned char out[8];

	init_dec(&d, B64_JSON_ESCAPES);
	CHECK_INT(b64_decode_update(&d, "QQ=", 3, out), 1);
	CHECK_INT(b64_decode_update(&d, "!", 1, out), -1);
	init_dec(&d, 0);
	CHECK_INT(d.consumed, 0);
	CHECK_INT(d.flags, mode_flags);
	CHECK_INT(b64_decode_update(&d, "QUJD", 4, out), 3);
	CHECK_MEM(out, "ABC", 3);
	CHECK_INT(b64_decode_final(&d), 0);
	init_dec(&d, 0);
	CHECK_INT(b64_decode_update(&d, NULL, 0, out), 0);
	CHECK_INT(b64_decode_final(&d), 0);
}

/* Decodes text in chunks of at most chunk bytes; returns the total or -1,
 * with the output in out and the decoder's state in *d. */
static long
decode_chunked(struct b64_decoder *d, const char *text, size_t len,
    size_t chunk, unsigned char *out)
{
	size_t at = 0, n;
	long got, total = 0;

	while (at < len) {
		n = len - at < chunk ? len - at : chunk;
		if ((got = b64_decode_update(d, text + at, n, out + total)) < 0)
			return -1;
		total += got;
		at += n;
	}
	return total;
}

/* The AVX2 path against the scalar one: text of 0..130 alphabet characters
 * with a special byte at every position, whole and in chunks of 1..40: the
 * same output, result, final state and error offset. */
static void
simd_matches_scalar(void)
{
	static const char special[] = " \n=\\/!\"\x80\xff\x00" "A-_.";
	unsigned char want[256], got[256];
	char text[160];
	struct b64_decoder a, b;
	size_t len, pos, k, chunk, i;
	long na, nb;
	int bad = 0;

	b64_init(&a, 0);
#ifdef __x86_64__
	CHECK_INT(a.avx2, __builtin_cpu_supports("avx2") != 0);
#endif
	if (!a.avx2)
		fprintf(stderr, "simd_matches_scalar: no AVX2 here, "
		    "comparing the scalar path with itself\n");
	for (len = 0; len <= 130; len++) {
		for (pos = 0; pos <= len; pos++) {
			for (k = 0; k < sizeof(special) - 1; k++) {
				for (i = 0; i < len; i++)
					text[i] = alphabet[rng() & 63];
				if (pos < len)
					text[pos] = special[k];
				chunk = 1 + rng() % 40;
				if (rng() & 1)
					chunk = len + 1;
				b64_init(&a, B64_JSON_ESCAPES);
				b64_init(&b, B64_JSON_ESCAPES | B64_SCALAR);
				na = decode_chunked(&a, text, len, chunk, got);
				nb = decode_chunked(&b, text, len, chunk, want);
				tu_checked++;
				if (na != nb || a.consumed != b.consumed ||
				    (na > 0 && memcmp(got, want, na) != 0) ||
				    (na >= 0 && b64_decode_final(&a) !=
				    b64_decode_final(&b))) {
					if (bad++ < 5)
						fprintf(stderr, "simd_matches_scalar: "
						    "len %zu, byte %#x at %zu, chunk %zu: "
						    "%ld/%zu vs %ld/%zu\n", len,
						    (unsigned char)special[k], pos, chunk,
						    na, a.consumed, nb, b.consumed);
				}
			}
		}
	}
	tu_failed += bad != 0;
}

static void
all_cases(void)
{
	round_trips();
	splits();
	padding();
	bad_bytes();
	json_escapes();
	large();
	decoded_max();
	reinit();
}

int
main(void)
{
	mode_flags = 0;
	all_cases();
	mode_flags = B64_SCALAR;
	all_cases();
	simd_matches_scalar();
	return tu_finish("test_b64");
}
