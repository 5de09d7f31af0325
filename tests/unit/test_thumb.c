/* test_thumb.c: the thumbnailer (sizes, the box average, PNG interlaced or
 * not, JPEG, WebP, hostile bytes) and the LRU cache of thumbnails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <webp/encode.h>

#include "testjpeg.h"
#include "testutil.h"
#include "thumb.h"
#include "thumbcache.h"

struct mem {
	unsigned char *p;
	size_t len;
};

static void
mem_write(png_structp png, png_bytep p, size_t n)
{
	struct mem *m = png_get_io_ptr(png);

	m->p = realloc(m->p, m->len + n);
	memcpy(m->p + m->len, p, n);
	m->len += n;
}

static void
mem_flush(png_structp png)
{
	(void)png;
}

/* A w x h RGBA PNG of px (w * h * 4 bytes). */
static struct mem
make_png(const unsigned char *px, uint32_t w, uint32_t h, int interlace)
{
	struct mem m = { 0 };
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
	    NULL, NULL);
	png_infop info = png_create_info_struct(png);
	uint32_t y;
	int pass, passes;

	png_set_write_fn(png, &m, mem_write, mem_flush);
	png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGBA, interlace ?
	    PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	    PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	passes = png_set_interlace_handling(png);
	for (pass = 0; pass < passes; pass++)
		for (y = 0; y < h; y++)
			png_write_row(png, px + (size_t)y * w * 4);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return m;
}

/* A gradient, so averages differ from pixel to pixel. */
static unsigned char *
gradient(uint32_t w, uint32_t h, int channels)
{
	unsigned char *px = malloc((size_t)w * h * channels);
	uint32_t x, y;
	int c;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			for (c = 0; c < channels; c++)
				px[((size_t)y * w + x) * channels + c] =
				    (unsigned char)(c == 3 ? 255 : (x + y * c) & 0xff);
	return px;
}

/* Reads a thumbnail back: its size and its first pixel. */
static int
read_back(const struct thumb *t, uint32_t *w, uint32_t *h, unsigned char rgba[4])
{
	png_image img;
	unsigned char *px;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&img, t->png, t->len))
		return -1;
	img.format = PNG_FORMAT_RGBA;
	px = malloc(PNG_IMAGE_SIZE(img));
	if (!png_image_finish_read(&img, NULL, px, 0, NULL)) {
		free(px);
		return -1;
	}
	*w = img.width;
	*h = img.height;
	memcpy(rgba, px, 4);
	free(px);
	return 0;
}

static void
test_fit(void)
{
	uint32_t w, h;

	thumb_fit(1536, 1024, 160, &w, &h);
	CHECK_INT(w, 160); CHECK_INT(h, 107);
	thumb_fit(1024, 1536, 160, &w, &h);
	CHECK_INT(w, 107); CHECK_INT(h, 160);
	thumb_fit(100, 50, 160, &w, &h);        /* never enlarged */
	CHECK_INT(w, 100); CHECK_INT(h, 50);
	thumb_fit(5000, 1, 160, &w, &h);        /* at least one row */
	CHECK_INT(w, 160); CHECK_INT(h, 1);
	thumb_fit(1024, 1024, 160, &w, &h);
	CHECK_INT(w, 160); CHECK_INT(h, 160);
}

static void
test_average(int interlace)
{
	static const unsigned char px[16] = {
		0, 10, 200, 255,    100, 20, 100, 255,
		200, 30, 0, 255,     60, 40, 50, 55,
	};
	struct mem m = make_png(px, 2, 2, interlace);
	struct thumb t;
	unsigned char got[4];
	uint32_t w = 0, h = 0;
	char err[256];

	CHECK_INT(thumb_make(m.p, m.len, 1, &t, err, sizeof(err)), 0);
	CHECK_INT(t.width, 1);
	CHECK_INT(t.height, 1);
	CHECK_INT(t.src_width, 2);
	CHECK_INT(read_back(&t, &w, &h, got), 0);
	CHECK_INT(w, 1);
	CHECK_INT(h, 1);
	CHECK_INT(got[0], 90);   /* (0 + 100 + 200 + 60) / 4 */
	CHECK_INT(got[1], 25);
	CHECK_INT(got[2], 88);   /* 350 / 4 = 87.5, rounded */
	CHECK_INT(got[3], 205);  /* 820 / 4 */
	free(t.png);
	free(m.p);
}

static void
test_png_sizes(void)
{
	unsigned char *px = gradient(300, 200, 4);
	struct mem m = make_png(px, 300, 200, 0);
	struct mem il = make_png(px, 300, 200, 1);
	struct thumb t;
	unsigned char rgba[4];
	uint32_t w, h;
	char err[256];

	CHECK_INT(thumb_make(m.p, m.len, 160, &t, err, sizeof(err)), 0);
	CHECK_INT(t.width, 160);
	CHECK_INT(t.height, 107);
	CHECK_INT(read_back(&t, &w, &h, rgba), 0);
	CHECK_INT(w, 160);
	CHECK_INT(h, 107);
	free(t.png);
	CHECK_INT(thumb_make(il.p, il.len, 160, &t, err, sizeof(err)), 0);
	CHECK_INT(t.width, 160);
	CHECK_INT(t.height, 107);
	free(t.png);
	/* cut in half: an error, never a half-made thumbnail */
	CHECK_INT(thumb_make(m.p, m.len / 2, 160, &t, err, sizeof(err)), -1);
	CHECK(t.png == NULL);
	CHECK_INT(thumb_make(il.p, il.len - 20, 160, &t, err, sizeof(err)), -1);
	free(px);
	free(m.p);
	free(il.p);
}

static uint32_t
crc32_png(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return c ^ 0xffffffffu;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

/* Appends a chunk with its CRC at f + off; returns the offset after it. */
static size_t
chunk(unsigned char *f, size_t off, const char *type, const unsigned char *d,
    uint32_t n)
{
	put32(f + off, n);
	memcpy(f + off + 4, type, 4);
	if (n > 0)
		memcpy(f + off + 8, d, n);
	put32(f + off + 8 + n, crc32_png(f + off + 4, n + 4));
	return off + 12 + n;
}

/* A well-formed file declaring 60000 x 60000 (3.6 G pixels). */
static void
test_huge(void)
{
	unsigned char f[128] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char ihdr[13] = { 0 };
	struct thumb t;
	char err[256] = "";
	size_t n;

	put32(ihdr, 60000);
	put32(ihdr + 4, 60000);
	ihdr[8] = 8, ihdr[9] = 6;
	n = chunk(f, 8, "IHDR", ihdr, 13);
	n = chunk(f, n, "IDAT", (const unsigned char *)"\x78\x9c", 2);
	n = chunk(f, n, "IEND", NULL, 0);
	CHECK_INT(thumb_make(f, n, 160, &t, err, sizeof(err)), -1);
	CHECK(strstr(err, "too large") != NULL);
	if (strstr(err, "too large") == NULL)
		fprintf(stderr, "err: %s\n", err);
	CHECK_INT(thumb_make((const unsigned char *)"GIF89a....", 10, 160, &t,
	    err, sizeof(err)), -1);
}

static struct mem
make_jpeg(uint32_t w, uint32_t h)
{
	struct jpeg_compress_struct ci;
	struct jpeg_error_mgr je;
	unsigned char *px = gradient(w, h, 3), *out = NULL;
	unsigned long len = 0;
	JSAMPROW row;
	struct mem m;

	ci.err = jpeg_std_error(&je);
	jpeg_create_compress(&ci);
	jpeg_mem_dest(&ci, &out, &len);
	ci.image_width = w;
	ci.image_height = h;
	ci.input_components = 3;
	ci.in_color_space = JCS_RGB;
	jpeg_set_defaults(&ci);
	jpeg_start_compress(&ci, TRUE);
	while (ci.next_scanline < h) {
		row = px + (size_t)ci.next_scanline * w * 3;
		jpeg_write_scanlines(&ci, &row, 1);
	}
	jpeg_finish_compress(&ci);
	jpeg_destroy_compress(&ci);
	free(px);
	m.p = out;
	m.len = len;
	return m;
}

static void
test_jpeg_webp(void)
{
	struct mem j = make_jpeg(640, 480);
	unsigned char *px = gradient(64, 32, 4), *webp = NULL;
	size_t wlen = WebPEncodeLosslessRGBA(px, 64, 32, 64 * 4, &webp);
	struct thumb t;
	unsigned char rgba[4];
	uint32_t w, h;
	char err[256];

	CHECK_INT(thumb_make(j.p, j.len, 160, &t, err, sizeof(err)), 0);
	CHECK_INT(t.width, 160);
	CHECK_INT(t.height, 120);
	CHECK_INT(t.src_width, 640);
	CHECK_INT(read_back(&t, &w, &h, rgba), 0);
	CHECK_INT(w, 160);
	free(t.png);
	CHECK_INT(thumb_make(j.p, j.len * 2 / 3, 160, &t, err, sizeof(err)), -1);
	CHECK(wlen > 0);
	CHECK_INT(thumb_make(webp, wlen, 160, &t, err, sizeof(err)), 0);
	CHECK_INT(t.width, 64);
	CHECK_INT(t.height, 32);
	free(t.png);
	CHECK_INT(thumb_make(webp, wlen, 16, &t, err, sizeof(err)), 0);
	CHECK_INT(t.width, 16);
	CHECK_INT(t.height, 8);
	free(t.png);
	CHECK_INT(thumb_make(webp, wlen / 2, 16, &t, err, sizeof(err)), -1);
	WebPFree(webp);
	free(px);
	free(j.p);
}

/* Progressive JPEGs: a camera's 10 scans get a thumbnail; hundreds of
 * scans, too much memory or too much time are refused, quickly. */
static void
test_jpeg_limits(void)
{
	struct thumb_limits lim = { THUMB_MAX_SCANS, THUMB_MAX_MEMORY,
	    THUMB_MAX_MS };
	unsigned char *cam, *many;
	size_t clen, mlen;
	int cscans, mscans;
	struct thumb t;
	char err[256];
	double t0;

	cam = testjpeg_progressive(1600, 1200, 0, &clen, &cscans);
	many = testjpeg_progressive(1000, 1000, 1, &mlen, &mscans);
	CHECK(cam != NULL && many != NULL);
	CHECK_INT(cscans, 10);
	CHECK(mscans > 700);
	CHECK_INT(thumb_make(cam, clen, 160, &t, err, sizeof(err)), 0);
	CHECK_INT(t.width, 160);
	CHECK_INT(t.height, 120);
	free(t.png);
	t0 = tu_now_ms();
	CHECK_INT(thumb_make(many, mlen, 160, &t, err, sizeof(err)), -1);
	CHECK(tu_now_ms() - t0 < 1000);
	CHECK(strstr(err, "more than 32 scans") != NULL);
	/* truncated: the same refusal, no later */
	CHECK_INT(thumb_make(many, mlen / 2, 160, &t, err, sizeof(err)), -1);
	CHECK(strstr(err, "scans") != NULL);
	/* a coefficient buffer over the memory bound */
	lim.max_memory = 1u << 20;
	CHECK_INT(thumb_make_limited(cam, clen, 160, &lim, &t, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "JPEG") != NULL);
	/* no time at all */
	lim.max_memory = THUMB_MAX_MEMORY;
	lim.max_ms = -1;
	CHECK_INT(thumb_make_limited(cam, clen, 160, &lim, &t, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "to decode") != NULL);
	free(cam);
	free(many);
}

static void
test_cache(void)
{
	struct thumbcache *tc = thumbcache_new(100);
	unsigned char a[40], b[40], c[40];
	const unsigned char *p;
	size_t len = 0;

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	memset(c, 'c', sizeof(c));
	CHECK(thumbcache_get(tc, "aa", &len) == NULL);
	CHECK_INT(thumbcache_put(tc, "aa", a, sizeof(a)), 0);
	CHECK_INT(thumbcache_put(tc, "bb", b, sizeof(b)), 0);
	p = thumbcache_get(tc, "aa", &len);        /* aa now most recent */
	CHECK(p != NULL && len == 40 && p[0] == 'a');
	CHECK_INT(thumbcache_put(tc, "cc", c, sizeof(c)), 0);  /* drops bb */
	CHECK(thumbcache_get(tc, "bb", &len) == NULL);
	CHECK(thumbcache_get(tc, "aa", &len) != NULL);
	CHECK(thumbcache_get(tc, "cc", &len) != NULL);
	CHECK_INT(thumbcache_count(tc), 2);
	CHECK_INT(thumbcache_bytes(tc), 80);
	CHECK_INT(thumbcache_put(tc, "aa", b, 10), 0);  /* replaced */
	p = thumbcache_get(tc, "aa", &len);
	CHECK(p != NULL && len == 10 && p[0] == 'b');
	CHECK_INT(thumbcache_bytes(tc), 50);
	CHECK_INT(thumbcache_put(tc, "big", a, 0), 0);
	CHECK_INT(thumbcache_count(tc), 3);
	thumbcache_free(tc);
	tc = thumbcache_new(10);
	CHECK_INT(thumbcache_put(tc, "aa", a, sizeof(a)), 0); /* over the budget */
	CHECK(thumbcache_get(tc, "aa", &len) == NULL);
	thumbcache_free(tc);
	/* failures are kept too, counted as at least 256 bytes */
	tc = thumbcache_new(600);
	CHECK(thumbcache_failure(tc, "ff") == NULL);
	CHECK_INT(thumbcache_put_failure(tc, "ff", "JPEG: more than 64 scans"),
	    0);
	CHECK_STR(thumbcache_failure(tc, "ff"), "JPEG: more than 64 scans");
	CHECK(thumbcache_get(tc, "ff", &len) == NULL);
	CHECK_INT(thumbcache_bytes(tc), THUMBCACHE_FAILURE_BYTES);
	CHECK_INT(thumbcache_put(tc, "aa", a, sizeof(a)), 0);
	CHECK(thumbcache_failure(tc, "aa") == NULL);
	CHECK_INT(thumbcache_put_failure(tc, "gg", "x"), 0);
	CHECK_INT(thumbcache_put_failure(tc, "hh", "y"), 0); /* drops ff */
	CHECK(thumbcache_failure(tc, "ff") == NULL);
	CHECK_STR(thumbcache_failure(tc, "hh"), "y");
	CHECK_INT(thumbcache_put(tc, "hh", b, 10), 0);  /* now a success */
	CHECK(thumbcache_failure(tc, "hh") == NULL);
	CHECK(thumbcache_get(tc, "hh", &len) != NULL && len == 10);
	thumbcache_free(tc);
}

int
main(void)
{
	test_fit();
	test_average(0);
	test_average(1);
	test_png_sizes();
	test_huge();
	test_jpeg_webp();
	test_jpeg_limits();
	test_cache();
	return tu_finish("test_thumb");
}
