/* derive.c: --derive: the images a request gets are made from its first
 * input, so that a demo shows an edit progressing instead of noise. */
#include "fake_upstream.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>

#define DERIVE_MAX_SIDE	1536

/* A colour from the prompt (FNV-1a), bright enough to see. */
static void
prompt_color(const char *prompt, unsigned char rgb[3])
{
	uint32_t	 h = 2166136261u;
	int		 i;

	for (; *prompt != '\0'; prompt++)
		h = (h ^ (unsigned char)*prompt) * 16777619u;
	for (i = 0; i < 3; i++)
		rgb[i] = (unsigned char)(96 + ((h >> (8 * i)) & 0xff) % 160);
}

/* The output's side lengths: size "WxH", else the input's (bounded). */
static void
out_size(const char *size, int in_w, int in_h, int *w, int *h)
{
	if (size != NULL && sscanf(size, "%dx%d", w, h) == 2 && *w > 0 &&
	    *h > 0 && *w <= DERIVE_MAX_SIDE && *h <= DERIVE_MAX_SIDE)
		return;
	*w = in_w < DERIVE_MAX_SIDE ? in_w : DERIVE_MAX_SIDE;
	*h = in_h < DERIVE_MAX_SIDE ? in_h : DERIVE_MAX_SIDE;
}

/*
 * Partial k of np: the input pixelated, with blocks the smaller the later
 * (w/6, w/12, w/24...).  Final j: the input tinted with the prompt's colour
 * and a band of it, the band lower for each further final, so that the n
 * finals differ.
 */
static void
render(const unsigned char *src, int sw, int sh, unsigned char *dst, int w,
    int h, int final, int k, const unsigned char rgb[3])
{
	int	 x, y, bx, by, block, band0, band1, c, sx, sy;
	const unsigned char *p;
	unsigned char *q;

	block = final ? 1 : w / (6 << k);
	block = block < 1 ? 1 : block;
	band0 = h * (70 + 8 * k) / 100;
	band1 = band0 + h / 12;
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			bx = x - x % block;
			by = y - y % block;
			sx = (int)((int64_t)bx * sw / w);
			sy = (int)((int64_t)by * sh / h);
			p = src + ((size_t)sy * sw + sx) * 4;
			q = dst + ((size_t)y * w + x) * 4;
			for (c = 0; c < 3; c++)
				q[c] = !final ? p[c] : (y >= band0 && y < band1) ?
				    rgb[c] : (unsigned char)((p[c] * 3 + rgb[c] * 2) / 5);
			q[3] = 255;
		}
}

/* A grey gradient, for an input that is not a PNG we can read. */
static unsigned char *
gradient(int *w, int *h)
{
	unsigned char	*b;
	int		 x, y;

	*w = *h = 256;
	b = xcalloc((size_t)*w * *h, 4);
	for (y = 0; y < *h; y++)
		for (x = 0; x < *w; x++) {
			memset(b + ((size_t)y * *w + x) * 4, (x + y) / 2, 3);
			b[((size_t)y * *w + x) * 4 + 3] = 255;
		}
	return b;
}

int
derive_image(const unsigned char *in, size_t inlen, const char *size,
    const char *prompt, int final, int k, unsigned char **out, size_t *outlen)
{
	png_image	 src, dst;
	unsigned char	*sbuf = NULL, *dbuf, rgb[3];
	png_alloc_size_t n = 0;
	int		 sw, sh, w, h, rc = -1;

	memset(&src, 0, sizeof(src));
	src.version = PNG_IMAGE_VERSION;
	if (in != NULL && png_image_begin_read_from_memory(&src, in, inlen)) {
		src.format = PNG_FORMAT_RGBA;
		sbuf = xcalloc(PNG_IMAGE_SIZE(src), 1);
		if (!png_image_finish_read(&src, NULL, sbuf, 0, NULL)) {
			free(sbuf);
			sbuf = NULL;
		}
	}
	png_image_free(&src);
	if (sbuf != NULL) {
		sw = (int)src.width;
		sh = (int)src.height;
	} else
		sbuf = gradient(&sw, &sh);
	out_size(size, sw, sh, &w, &h);
	dbuf = xcalloc((size_t)w * h, 4);
	prompt_color(prompt, rgb);
	render(sbuf, sw, sh, dbuf, w, h, final, k, rgb);
	memset(&dst, 0, sizeof(dst));
	dst.version = PNG_IMAGE_VERSION;
	dst.width = (png_uint_32)w;
	dst.height = (png_uint_32)h;
	dst.format = PNG_FORMAT_RGBA;
	if (png_image_write_to_memory(&dst, NULL, &n, 0, dbuf, 0, NULL) && n > 0) {
		*out = xcalloc(n, 1);
		if (png_image_write_to_memory(&dst, *out, &n, 0, dbuf, 0, NULL)) {
			*outlen = n;
			rc = 0;
		} else
			free(*out);
	}
	png_image_free(&dst);
	free(sbuf);
	free(dbuf);
	return rc;
}
