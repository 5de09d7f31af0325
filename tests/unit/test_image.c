/* test_image.c: img_probe on PNG, JPEG and WebP headers, every truncation,
 * corrupted and hostile inputs (run under ASan), and the name helpers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "image.h"
#include "testpng.h"
#include "testutil.h"

static void
put_be32(struct membuf *b, uint32_t v)
{
	unsigned char x[4] = { v >> 24, v >> 16, v >> 8, v };

	membuf_put(b, x, 4);
}

static void
put_le(struct membuf *b, uint32_t v, int nbytes)
{
	unsigned char x[4] = { v, v >> 8, v >> 16, v >> 24 };

	membuf_put(b, x, nbytes);
}

/* ---- PNG: written by libpng (testpng.c), or chunk by chunk for hostile
 * headers ---- */

static uint32_t
crc32_of(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffU;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320U & -(c & 1));
	}
	return c ^ 0xffffffffU;
}

static void
put_chunk(struct membuf *b, const char *type, const void *data, uint32_t n)
{
	size_t start;

	put_be32(b, n);
	start = b->len;
	membuf_put(b, type, 4);
	if (n)
		membuf_put(b, data, n);
	put_be32(b, crc32_of(b->p + start, n + 4));
}

/* Signature, IHDR, an empty IDAT and IEND: enough for a header probe. */
static struct membuf
craft_png(uint32_t w, uint32_t h, int depth, int ctype)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char ihdr[13] = { 0 };
	struct membuf b = { NULL, 0, 0 };

	ihdr[0] = w >> 24, ihdr[1] = w >> 16, ihdr[2] = w >> 8, ihdr[3] = w;
	ihdr[4] = h >> 24, ihdr[5] = h >> 16, ihdr[6] = h >> 8, ihdr[7] = h;
	ihdr[8] = depth, ihdr[9] = ctype;
	membuf_put(&b, sig, 8);
	put_chunk(&b, "IHDR", ihdr, 13);
	put_chunk(&b, "IDAT", NULL, 0);
	put_chunk(&b, "IEND", NULL, 0);
	return b;
}

/* craft_png with one chunk of n bytes inserted after IHDR. */
static struct membuf
craft_png_with(const char *type, uint32_t n)
{
	struct membuf b = craft_png(64, 32, 8, 2), out = { NULL, 0, 0 };
	unsigned char *data = calloc(1, n ? n : 1);

	if (data == NULL)
		abort();
	memset(data, 'a', n);
	if (n > 0 && strcmp(type, "tEXt") == 0)
		data[1] = '\0';		/* keyword "a" */
	membuf_put(&out, b.p, 33);
	put_chunk(&out, type, data, n);
	membuf_put(&out, b.p + 33, b.len - 33);
	free(data);
	free(b.p);
	return out;
}

/* ---- JPEG and WebP headers ---- */

static void
put_sof(struct membuf *b, unsigned char marker, uint32_t w, uint32_t h)
{
	unsigned char sof[19] = { 0xff, marker, 0, 17, 8, h >> 8, h, w >> 8, w, 3,
	    1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1 };

	membuf_put(b, sof, sizeof(sof));
}

/* SOI, the given segments, SOFn; *sof_end is where a probe can stop. */
static struct membuf
make_jpeg(unsigned char marker, uint32_t w, uint32_t h, int exif, size_t *sof_end)
{
	static const unsigned char app0[] = { 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0,
	    1, 1, 0, 0, 1, 0, 1, 0, 0 };
	static const unsigned char dht[] = { 0xff, 0xc4, 0, 5, 0, 0, 0 };
	static const unsigned char tail[] = { 0xff, 0xda, 0, 2, 0x12, 0x34, 0xff, 0xd9 };
	struct membuf b = { NULL, 0, 0 };

	membuf_put(&b, "\xff\xd8", 2);
	if (exif) {
		membuf_put(&b, "\xff\xe1", 2);
		membuf_put(&b, "\x00\x20" "Exif\0\0MM\0\x2a\0\0\0\x08" "0123456789abcdef", 0x20);
		membuf_put(&b, "\xff\xff\xff", 3);	/* fill bytes before a marker */
	} else {
		membuf_put(&b, app0, sizeof(app0));
	}
	membuf_put(&b, dht, sizeof(dht));		/* 0xc4 is not a frame header */
	put_sof(&b, marker, w, h);
	*sof_end = b.len;
	membuf_put(&b, tail, sizeof(tail));
	return b;
}

static void
riff_start(struct membuf *b)
{
	membuf_put(b, "RIFF\0\0\0\0WEBP", 12);
}

static void
riff_end(struct membuf *b)
{
	uint32_t n = (uint32_t)b->len - 8;

	b->p[4] = n, b->p[5] = n >> 8, b->p[6] = n >> 16, b->p[7] = n >> 24;
}

static struct membuf
make_vp8(uint32_t w, uint32_t h)
{
	struct membuf b = { NULL, 0, 0 };
	uint32_t size = 24, first = 12;
	unsigned char zero[14] = { 0 };

	riff_start(&b);
	membuf_put(&b, "VP8 ", 4);
	put_le(&b, size, 4);
	put_le(&b, first << 5 | 0x10, 3);	/* key frame, version 0, shown */
	membuf_put(&b, "\x9d\x01\x2a", 3);
	put_le(&b, w, 2);
	put_le(&b, h, 2);
	membuf_put(&b, zero, size - 10);
	riff_end(&b);
	return b;
}

static struct membuf
make_vp8l(uint32_t w, uint32_t h, int alpha)
{
	struct membuf b = { NULL, 0, 0 };
	uint32_t bits = (w - 1) | (h - 1) << 14 | (uint32_t)alpha << 28;

	riff_start(&b);
	membuf_put(&b, "VP8L", 4);
	put_le(&b, 6, 4);
	membuf_put(&b, "\x2f", 1);
	put_le(&b, bits, 4);
	membuf_put(&b, "\0", 1);
	riff_end(&b);
	return b;
}

static struct membuf
make_vp8x(uint32_t w, uint32_t h, int alpha)
{
	struct membuf b = { NULL, 0, 0 };

	riff_start(&b);
	membuf_put(&b, "VP8X", 4);
	put_le(&b, 10, 4);
	membuf_put(&b, alpha ? "\x10\0\0\0" : "\0\0\0\0", 4);
	put_le(&b, w - 1, 3);
	put_le(&b, h - 1, 3);
	membuf_put(&b, "ALPH\x03\0\0\0abc\0", 12);	/* odd size: padded */
	membuf_put(&b, "VP8L\0\0\0\0", 8);
	riff_end(&b);
	return b;
}

/* ---- probing helpers ---- */

/* Probes a private, exactly sized copy, so ASan sees any over-read. */
static int
probe(const unsigned char *data, size_t len, struct img_info *info, char *err,
    size_t errlen)
{
	unsigned char *copy = malloc(len ? len : 1);
	int rc;

	if (copy == NULL)
		abort();
	if (len)
		memcpy(copy, data, len);
	rc = img_probe(copy, len, info, err, errlen);
	free(copy);
	return rc;
}

static void
expect_ok(const char *what, struct membuf b, enum img_format f, uint32_t w, uint32_t h,
    int alpha)
{
	struct img_info info;
	char err[256] = "";
	int rc = probe(b.p, b.len, &info, err, sizeof(err));

	if (rc != 0)
		fprintf(stderr, "%s: %s\n", what, err);
	CHECK_INT(rc, 0);
	CHECK_INT(info.format, f);
	CHECK_INT(info.width, w);
	CHECK_INT(info.height, h);
	CHECK_INT(info.has_alpha, alpha);
	free(b.p);
}

static void
expect_fail(const char *what, struct membuf b, const char *needle)
{
	struct img_info info;
	char err[256] = "";
	int rc;

	memset(&info, 0xa5, sizeof(info));
	rc = probe(b.p, b.len, &info, err, sizeof(err));
	if (rc != -1 || (needle && strstr(err, needle) == NULL))
		fprintf(stderr, "%s: rc %d, err \"%s\", expected \"%s\"\n", what, rc, err,
		    needle ? needle : "(any)");
	CHECK_INT(rc, -1);
	CHECK(err[0] != '\0');
	CHECK(needle == NULL || strstr(err, needle) != NULL);
	CHECK_INT(info.format, IMG_UNKNOWN);	/* *out is cleared on failure */
	free(b.p);
}

/* Every prefix shorter than ok_from (0: the whole file) fails with a
 * message; the rest pass. */
static void
all_prefixes(const char *what, struct membuf b, size_t ok_from)
{
	struct img_info info;
	char err[256];
	size_t n, bad = 0;
	int rc;

	if (ok_from == 0)
		ok_from = b.len;
	for (n = 0; n <= b.len; n++) {
		err[0] = '\0';
		rc = probe(b.p, n, &info, err, sizeof(err));
		if ((n < ok_from) != (rc == -1) || (rc == -1 && err[0] == '\0')) {
			if (bad++ < 5)
				fprintf(stderr, "%s: prefix %zu of %zu: rc %d \"%s\"\n",
				    what, n, b.len, rc, err);
		}
	}
	tu_checked++;
	tu_failed += bad != 0;
	free(b.p);
}

/* Flips bytes at random; only checks that nothing crashes or over-reads. */
static void
mutate(const char *what, struct membuf b, unsigned *seed, int rounds)
{
	unsigned char *m = malloc(b.len);
	struct img_info info;
	char err[256];
	int r, k, ok = 0;

	if (m == NULL)
		abort();
	for (r = 0; r < rounds; r++) {
		memcpy(m, b.p, b.len);
		for (k = 0; k < 1 + r % 4; k++) {
			*seed = *seed * 1103515245 + 12345;
			m[(*seed >> 8) % b.len] = (unsigned char)(*seed >> 20);
		}
		if (probe(m, b.len, &info, err, sizeof(err)) == 0) {
			ok++;
			CHECK(info.width >= 1 && info.width <= 65536);
			CHECK(info.height >= 1 && info.height <= 65536);
		}
	}
	printf("%s: %d of %d mutants still probe as images\n", what, ok, rounds);
	free(m);
	free(b.p);
}

static struct membuf
bytes(const void *p, size_t n)
{
	struct membuf b = { NULL, 0, 0 };

	membuf_put(&b, p, n);
	return b;
}

/* ---- the tests ---- */

static void
test_png(void)
{
	struct membuf b;

	expect_ok("png rgb", testpng_make(3, 5, PNG_COLOR_TYPE_RGB, 8, 0), IMG_PNG, 3, 5, 0);
	expect_ok("png rgba", testpng_make(7, 2, PNG_COLOR_TYPE_RGBA, 8, 0), IMG_PNG, 7, 2, 1);
	expect_ok("png rgba16", testpng_make(4, 4, PNG_COLOR_TYPE_RGBA, 16, 0), IMG_PNG, 4, 4, 1);
	expect_ok("png rgb+trns", testpng_make(4, 4, PNG_COLOR_TYPE_RGB, 8, 1), IMG_PNG, 4, 4, 1);
	expect_ok("png palette", testpng_make(9, 9, PNG_COLOR_TYPE_PALETTE, 8, 0), IMG_PNG, 9, 9, 0);
	expect_ok("png palette+trns", testpng_make(9, 9, PNG_COLOR_TYPE_PALETTE, 8, 1),
	    IMG_PNG, 9, 9, 1);
	expect_ok("png palette4+trns", testpng_make(9, 9, PNG_COLOR_TYPE_PALETTE, 4, 1),
	    IMG_PNG, 9, 9, 1);
	expect_ok("png gray", testpng_make(1, 1, PNG_COLOR_TYPE_GRAY, 8, 0), IMG_PNG, 1, 1, 0);
	expect_ok("png gray1", testpng_make(17, 3, PNG_COLOR_TYPE_GRAY, 1, 0), IMG_PNG, 17, 3, 0);
	expect_ok("png gray+trns", testpng_make(2, 2, PNG_COLOR_TYPE_GRAY, 8, 1), IMG_PNG, 2, 2, 1);
	expect_ok("png gray+alpha", testpng_make(2, 3, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0),
	    IMG_PNG, 2, 3, 1);
	expect_ok("png 1024", testpng_make(1024, 1024, PNG_COLOR_TYPE_RGBA, 8, 0), IMG_PNG,
	    1024, 1024, 1);
	expect_ok("png crafted", craft_png(300, 200, 8, 6), IMG_PNG, 300, 200, 1);
	/* declared dimensions: up to 65536 is fine, beyond is refused */
	expect_ok("png 65536", craft_png(65536, 65536, 8, 6), IMG_PNG, 65536, 65536, 1);
	expect_fail("png 65537 wide", craft_png(65537, 1, 8, 6), NULL);
	expect_fail("png 65537 high", craft_png(1, 65537, 8, 2), NULL);
	expect_fail("png 2^31-1", craft_png(0x7fffffff, 0x7fffffff, 8, 6), NULL);
	expect_fail("png 2^32-1", craft_png(0xffffffff, 1, 8, 6), NULL);
	expect_fail("png 0 wide", craft_png(0, 10, 8, 6), NULL);
	expect_fail("png 0 high", craft_png(10, 0, 8, 6), NULL);
	expect_fail("png bad depth", craft_png(10, 10, 7, 6), NULL);
	expect_fail("png bad ctype", craft_png(10, 10, 8, 5), NULL);
	/* a corrupt IHDR CRC */
	b = craft_png(10, 10, 8, 6);
	b.p[29] ^= 1;
	expect_fail("png ihdr crc", b, "PNG");
	/* a chunk length beyond 2^31 after IHDR */
	b = craft_png(10, 10, 8, 6);
	b.p[33] = 0x80;
	expect_fail("png huge chunk length", b, "PNG");
	/* a chunk length past the end of the file */
	b = craft_png(10, 10, 8, 6);
	b.p[33] = 0, b.p[34] = 0x10;
	expect_fail("png chunk overrun", b, "PNG");
	/* IHDR missing: IDAT first */
	b = craft_png(10, 10, 8, 6);
	memmove(b.p + 8, b.p + 33, b.len - 33);
	b.len -= 25;
	expect_fail("png no ihdr", b, "PNG");
	/* big ancillary chunks before IDAT are skipped, not buffered */
	expect_ok("png 2MB tEXt", craft_png_with("tEXt", 2 << 20), IMG_PNG, 64, 32, 0);
	expect_ok("png 2MB iCCP", craft_png_with("iCCP", 2 << 20), IMG_PNG, 64, 32, 0);
	expect_ok("png 2MB private", craft_png_with("prIv", 2 << 20), IMG_PNG, 64, 32, 0);
	expect_ok("png empty private", craft_png_with("prIv", 0), IMG_PNG, 64, 32, 0);
	expect_fail("png unknown critical", craft_png_with("CRIT", 4), "PNG");
	expect_ok("png rgb tRNS", craft_png_with("tRNS", 6), IMG_PNG, 64, 32, 1);
	expect_ok("png rgb short tRNS", craft_png_with("tRNS", 2), IMG_PNG, 64, 32, 0);
	/* no IDAT at all: IHDR then IEND */
	b = craft_png(10, 10, 8, 6);
	memmove(b.p + 33, b.p + 45, b.len - 45);
	b.len -= 12;
	expect_fail("png no idat", b, "PNG");
	/* Adam7 interlace */
	b = craft_png(10, 10, 8, 6);
	b.p[28] = 1;
	{
		uint32_t crc = crc32_of(b.p + 12, 17);

		b.p[29] = crc >> 24, b.p[30] = crc >> 16, b.p[31] = crc >> 8, b.p[32] = crc;
	}
	expect_ok("png interlaced", b, IMG_PNG, 10, 10, 1);
	/* the signature alone, and a bad signature byte */
	expect_fail("png sig only", bytes("\x89PNG\r\n\x1a\n", 8), "PNG");
	b = testpng_make(4, 4, PNG_COLOR_TYPE_RGB, 8, 0);
	b.p[1] = 'Q';
	expect_fail("png bad sig", b, NULL);
	/* every truncation of a whole file fails: IEND must be there */
	all_prefixes("png rgba prefixes", testpng_make(8, 8, PNG_COLOR_TYPE_RGBA, 8, 0), 0);
	all_prefixes("png palette prefixes", testpng_make(8, 8, PNG_COLOR_TYPE_PALETTE, 8, 1),
	    0);
}

static void
test_jpeg(void)
{
	size_t end;
	struct membuf b;

	expect_ok("jpeg baseline", make_jpeg(0xc0, 640, 480, 0, &end), IMG_JPEG, 640, 480, 0);
	expect_ok("jpeg extended", make_jpeg(0xc1, 3, 4, 0, &end), IMG_JPEG, 3, 4, 0);
	expect_ok("jpeg progressive", make_jpeg(0xc2, 1536, 1024, 0, &end), IMG_JPEG,
	    1536, 1024, 0);
	expect_ok("jpeg exif", make_jpeg(0xc0, 100, 200, 1, &end), IMG_JPEG, 100, 200, 0);
	expect_ok("jpeg exif progressive", make_jpeg(0xc2, 1, 65535, 1, &end), IMG_JPEG,
	    1, 65535, 0);
	expect_ok("jpeg lossless", make_jpeg(0xc3, 16, 16, 0, &end), IMG_JPEG, 16, 16, 0);
	expect_ok("jpeg arithmetic", make_jpeg(0xc9, 16, 8, 0, &end), IMG_JPEG, 16, 8, 0);
	expect_ok("jpeg 65535", make_jpeg(0xc0, 65535, 65535, 0, &end), IMG_JPEG,
	    65535, 65535, 0);
	expect_fail("jpeg 0 high (DNL)", make_jpeg(0xc0, 640, 0, 0, &end), "JPEG");
	expect_fail("jpeg 0 wide", make_jpeg(0xc0, 0, 480, 0, &end), "JPEG");
	/* SOS or EOI before any frame header */
	expect_fail("jpeg sos first", bytes("\xff\xd8\xff\xda\x00\x02\xff\xd9", 8), "JPEG");
	expect_fail("jpeg eoi first", bytes("\xff\xd8\xff\xd9", 4), "JPEG");
	expect_fail("jpeg no marker", bytes("\xff\xd8\xff\xe0\x00\x02\x12\x34", 8), "JPEG");
	expect_fail("jpeg seglen 1", bytes("\xff\xd8\xff\xe0\x00\x01\x00\x00", 8), "JPEG");
	expect_fail("jpeg seglen 0", bytes("\xff\xd8\xff\xe0\x00\x00\x00\x00", 8), "JPEG");
	expect_fail("jpeg short sof", bytes("\xff\xd8\xff\xc0\x00\x06\x08\x00\x10\x00",
	    10), "JPEG");
	expect_fail("jpeg only fill", bytes("\xff\xd8\xff\xff\xff\xff", 6), "JPEG");
	expect_fail("jpeg soi only", bytes("\xff\xd8", 2), NULL);
	/* a frame header past a long APP segment that runs off the end */
	expect_fail("jpeg app overrun", bytes("\xff\xd8\xff\xe1\xff\xff\x00\x00", 8), "JPEG");
	/* prefixes: everything before the end of SOF fails, after it passes */
	b = make_jpeg(0xc0, 64, 64, 0, &end);
	all_prefixes("jpeg prefixes", b, end);
	b = make_jpeg(0xc2, 64, 48, 1, &end);
	all_prefixes("jpeg exif prefixes", b, end);
}

static void
test_webp(void)
{
	struct membuf b;

	expect_ok("webp vp8", make_vp8(320, 240), IMG_WEBP, 320, 240, 0);
	expect_ok("webp vp8 max", make_vp8(16383, 16383), IMG_WEBP, 16383, 16383, 0);
	expect_ok("webp vp8l", make_vp8l(100, 50, 0), IMG_WEBP, 100, 50, 0);
	expect_ok("webp vp8l alpha", make_vp8l(1, 16384, 1), IMG_WEBP, 1, 16384, 1);
	expect_ok("webp vp8x", make_vp8x(1024, 1536, 0), IMG_WEBP, 1024, 1536, 0);
	expect_ok("webp vp8x alpha", make_vp8x(1536, 1024, 1), IMG_WEBP, 1536, 1024, 1);
	expect_ok("webp vp8x 65536", make_vp8x(65536, 1, 1), IMG_WEBP, 65536, 1, 1);
	expect_fail("webp vp8x 65537", make_vp8x(65537, 1, 1), "WebP");
	expect_fail("webp vp8x 2^24", make_vp8x(1U << 24, 1U << 24, 0), "WebP");
	expect_fail("webp vp8 0x0", make_vp8(0, 0), "WebP");
	/* VP8: an inter frame, a hidden frame, a bad start code */
	b = make_vp8(10, 10);
	b.p[20] |= 1;
	expect_fail("webp vp8 inter", b, "WebP");
	b = make_vp8(10, 10);
	b.p[20] &= ~0x10;
	expect_fail("webp vp8 hidden", b, "WebP");
	b = make_vp8(10, 10);
	b.p[23] = 0;
	expect_fail("webp vp8 start code", b, "WebP");
	/* VP8L: bad signature, unknown version */
	b = make_vp8l(10, 10, 0);
	b.p[20] = 0x2e;
	expect_fail("webp vp8l sig", b, "WebP");
	b = make_vp8l(10, 10, 0);
	b.p[24] |= 0x20;
	expect_fail("webp vp8l version", b, "WebP");
	/* RIFF size: larger than the file, too small; a chunk overrunning it */
	b = make_vp8l(10, 10, 0);
	b.p[4] += 2;
	expect_fail("webp riff too big", b, "WebP");
	b = make_vp8l(10, 10, 0);
	b.p[4] = 4, b.p[5] = 0;
	expect_fail("webp riff too small", b, "WebP");
	b = make_vp8l(10, 10, 0);
	b.p[16] = 0xff;
	expect_fail("webp chunk overrun", b, "WebP");
	b = make_vp8l(10, 10, 0);
	b.p[16] = 0xff, b.p[17] = 0xff, b.p[18] = 0xff, b.p[19] = 0xff;
	expect_fail("webp chunk 4G", b, "WebP");
	b = make_vp8l(10, 10, 0);
	memcpy(b.p + 12, "ABCD", 4);
	expect_fail("webp unknown chunk", b, "WebP");
	expect_fail("webp short vp8x", bytes("RIFF\x10\0\0\0WEBPVP8X\x04\0\0\0\x10\0\0\0", 24),
	    "VP8X header too short");
	expect_fail("riff avi", bytes("RIFF\x0c\0\0\0AVI LIST\0\0\0\0", 20), NULL);
	all_prefixes("webp vp8 prefixes", make_vp8(33, 44), 0);
	all_prefixes("webp vp8l prefixes", make_vp8l(33, 44, 1), 0);
	all_prefixes("webp vp8x prefixes", make_vp8x(33, 44, 1), 0);
}

static void
test_garbage(void)
{
	unsigned char rnd[4096];
	struct img_info info;
	char err[256];
	unsigned seed = 12345;
	size_t i, n;

	expect_fail("empty", bytes("", 0), "empty");
	expect_fail("gif", bytes("GIF89a\x01\0\x01\0\0\0\0", 13), "truncated GIF");
	expect_fail("text", bytes("hello world", 11), "not a PNG, JPEG, WebP or GIF");
	expect_fail("bmp", bytes("BM\0\0\0\0\0\0\0\0", 10), NULL);
	expect_fail("one byte png", bytes("\x89", 1), "truncated");
	expect_fail("one byte jpeg", bytes("\xff", 1), "truncated");
	expect_fail("riff 9 bytes", bytes("RIFF\0\0\0\0W", 9), "truncated");
	CHECK_INT(img_probe(NULL, 10, &info, err, sizeof(err)), -1);
	CHECK_INT(img_probe(NULL, 0, NULL, NULL, 0), -1);
	CHECK_INT(img_probe((const unsigned char *)"xx", 2, NULL, NULL, 0), -1);
	/* small error buffers are terminated, never overrun */
	memset(err, 'Z', sizeof(err));
	CHECK_INT(img_probe((const unsigned char *)"xxxxxxxx", 8, &info, err, 5), -1);
	CHECK_INT(strlen(err), 4);
	/* random bytes of every length, with and without each signature */
	for (n = 0; n < 600; n++) {
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			rnd[i] = seed >> 16;
		}
		if (n % 4 == 1 && n >= 8)
			memcpy(rnd, "\x89PNG\r\n\x1a\n", 8);
		if (n % 4 == 2 && n >= 3)
			memcpy(rnd, "\xff\xd8\xff", 3);
		if (n % 4 == 3 && n >= 16)
			memcpy(rnd, "RIFF\0\0\0\0WEBPVP8", 15);
		(void)probe(rnd, n, &info, err, sizeof(err));
	}
	tu_checked++;	/* reaching here under ASan is the check */
	mutate("png mutants", testpng_make(16, 16, PNG_COLOR_TYPE_PALETTE, 8, 1), &seed, 3000);
	{
		size_t end;
		mutate("jpeg mutants", make_jpeg(0xc2, 16, 16, 1, &end), &seed, 3000);
	}
	mutate("vp8 mutants", make_vp8(16, 16), &seed, 2000);
	mutate("vp8l mutants", make_vp8l(16, 16, 1), &seed, 2000);
	mutate("vp8x mutants", make_vp8x(16, 16, 1), &seed, 2000);
}

static void
test_names(void)
{
	static const struct {
		const char *name;
		enum img_format f;
	} v[] = {
		{ "png", IMG_PNG }, { "PNG", IMG_PNG }, { "image/png", IMG_PNG },
		{ "Image/PNG", IMG_PNG }, { "image/png; charset=binary", IMG_PNG },
		{ " image/png", IMG_PNG }, { "image/png ", IMG_PNG },
		{ "jpeg", IMG_JPEG }, { "jpg", IMG_JPEG }, { "JPG", IMG_JPEG },
		{ "image/jpeg", IMG_JPEG }, { "image/jpg", IMG_JPEG },
		{ "image/pjpeg", IMG_JPEG }, { "jpe", IMG_JPEG },
		{ "webp", IMG_WEBP }, { "image/webp", IMG_WEBP }, { "WEBP", IMG_WEBP },
		{ "gif", IMG_GIF }, { "image/gif", IMG_GIF }, { "", IMG_UNKNOWN },
		{ "   ", IMG_UNKNOWN }, { "image/", IMG_UNKNOWN }, { "image/pngx", IMG_UNKNOWN },
		{ "pn", IMG_UNKNOWN }, { "pngg", IMG_UNKNOWN }, { "image/png2", IMG_UNKNOWN },
		{ "application/octet-stream", IMG_UNKNOWN }, { "bin", IMG_UNKNOWN },
		{ ";png", IMG_UNKNOWN },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (img_format_from_name(v[i].name) != v[i].f)
			fprintf(stderr, "img_format_from_name(\"%s\")\n", v[i].name);
		CHECK_INT(img_format_from_name(v[i].name), v[i].f);
	}
	CHECK_INT(img_format_from_name(NULL), IMG_UNKNOWN);
	CHECK_STR(img_mime(IMG_PNG), "image/png");
	CHECK_STR(img_mime(IMG_JPEG), "image/jpeg");
	CHECK_STR(img_mime(IMG_WEBP), "image/webp");
	CHECK(img_mime(IMG_UNKNOWN) == NULL);
	CHECK_STR(img_name(IMG_PNG), "png");
	CHECK_STR(img_name(IMG_JPEG), "jpeg");
	CHECK_STR(img_name(IMG_WEBP), "webp");
	CHECK(img_name(IMG_UNKNOWN) == NULL);
	CHECK_STR(img_ext(IMG_PNG), "png");
	CHECK_STR(img_ext(IMG_JPEG), "jpg");
	CHECK_STR(img_ext(IMG_WEBP), "webp");
	CHECK_STR(img_ext(IMG_UNKNOWN), "bin");
	CHECK(img_mime((enum img_format)42) == NULL);
	CHECK_STR(img_ext((enum img_format)42), "bin");
	/* each name maps back to its format */
	for (i = IMG_PNG; i <= IMG_WEBP; i++) {
		CHECK_INT(img_format_from_name(img_mime((enum img_format)i)), i);
		CHECK_INT(img_format_from_name(img_name((enum img_format)i)), i);
		CHECK_INT(img_format_from_name(img_ext((enum img_format)i)), i);
	}
}

/* A w x h GIF (2-colour global table) of frames 1x1 frames; a graphic
 * control extension with a transparent colour when alpha. */
static struct membuf
make_gif(const char *sig, uint32_t w, uint32_t h, unsigned frames, int alpha)
{
	static const unsigned char gct[6] = { 0, 0, 0, 255, 255, 255 };
	static const unsigned char gce[8] = { 0x21, 0xf9, 4, 1, 10, 0, 0, 0 };
	static const unsigned char img[] = { 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0,
	    2, 2, 0x44, 0x01, 0 };
	unsigned char hdr[13];
	struct membuf b = { NULL, 0, 0 };
	unsigned i;

	memcpy(hdr, sig, 6);
	hdr[6] = w & 0xff, hdr[7] = w >> 8, hdr[8] = h & 0xff, hdr[9] = h >> 8;
	hdr[10] = 0x80, hdr[11] = 0, hdr[12] = 0;
	membuf_put(&b, hdr, 13);
	membuf_put(&b, gct, 6);
	for (i = 0; i < frames; i++) {
		if (alpha)
			membuf_put(&b, gce, 8);
		membuf_put(&b, img, sizeof(img));
	}
	membuf_put(&b, ";", 1);
	return b;
}

static void
test_gif(void)
{
	struct membuf b;
	struct img_info info;
	char err[256];

	expect_ok("gif89a", make_gif("GIF89a", 64, 48, 3, 0), IMG_GIF, 64, 48, 0);
	expect_ok("gif87a", make_gif("GIF87a", 1, 1, 1, 0), IMG_GIF, 1, 1, 0);
	expect_ok("gif alpha", make_gif("GIF89a", 16, 16, 2, 1), IMG_GIF, 16, 16, 1);
	b = make_gif("GIF89a", 32, 32, 16, 1);
	CHECK_INT(img_probe(b.p, b.len, &info, err, sizeof(err)), 0);
	CHECK_INT(info.frames, 16);
	free(b.p);
	expect_ok("gif 256 frames", make_gif("GIF89a", 8, 8, IMG_GIF_FRAMES_MAX, 0),
	    IMG_GIF, 8, 8, 0);
	expect_fail("gif 257 frames", make_gif("GIF89a", 8, 8, IMG_GIF_FRAMES_MAX + 1, 0),
	    "GIF of more than 256 frames");
	expect_fail("gif 0x0", make_gif("GIF89a", 0, 0, 1, 0), "GIF dimensions 0x0");
	expect_fail("gif no frame", make_gif("GIF89a", 8, 8, 0, 0), "GIF without a frame");
	b = make_gif("GIF89a", 8, 8, 2, 0);
	b.len--;	/* no trailer */
	expect_fail("gif no trailer", b, "truncated GIF");
	b = make_gif("GIF89a", 8, 8, 2, 0);
	b.p[19] = 0x99;	/* not a block */
	expect_fail("gif bad block", b, "GIF: bad block at byte 19");
	expect_fail("gif prefix", bytes("GIF8", 4), "truncated");
	b = make_gif("GIF89a", 64, 64, 3, 1);
	all_prefixes("gif", b, 0);
	CHECK_STR(img_ext_by_name("gif"), "gif");
	CHECK_STR(img_mime_by_name("gif"), "image/gif");
	CHECK_STR(img_ext_by_name("jpeg"), "jpg");
	CHECK_STR(img_ext_by_name("svg"), "svg");
	CHECK_STR(img_mime_by_name("svg"), "image/svg+xml");
	CHECK_STR(img_ext_by_name("image/avif"), "avif");
	CHECK_STR(img_ext_by_name("bin"), "bin");
	CHECK_STR(img_ext_by_name(NULL), "bin");
	CHECK_STR(img_ext_by_name("exe"), "bin");
	CHECK(img_mime_by_name("exe") == NULL);
	CHECK(img_mime_by_name("") == NULL);
}

int
main(void)
{
	test_png();
	test_jpeg();
	test_webp();
	test_gif();
	test_garbage();
	test_names();
	return tu_finish("test_image");
}
