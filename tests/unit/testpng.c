/* testpng.c: the unit tests' PNG writer (libpng into a memory buffer), so
 * test_image and test_jobspec build their images the same way. */
#include "testpng.h"

#include <stdlib.h>
#include <string.h>

#include <png.h>

void
membuf_put(struct membuf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void
write_cb(png_structp png, png_bytep data, png_size_t n)
{
	membuf_put(png_get_io_ptr(png), data, n);
}

static void
flush_cb(png_structp png)
{
	(void)png;
}

struct membuf
testpng_make(uint32_t w, uint32_t h, int ctype, int depth, int trns)
{
	struct membuf b = { NULL, 0, 0 };
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
	    NULL, NULL);
	png_infop info = png_create_info_struct(png);
	png_color pal[4] = { { 0, 0, 0 }, { 255, 0, 0 }, { 0, 255, 0 },
	    { 0, 0, 255 } };
	png_byte alpha[2] = { 0, 128 };
	png_color_16 tcol;
	unsigned char *row;
	uint32_t y;

	if (png == NULL || info == NULL || setjmp(png_jmpbuf(png)))
		abort();
	png_set_write_fn(png, &b, write_cb, flush_cb);
	png_set_IHDR(png, info, w, h, depth, ctype, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (ctype == PNG_COLOR_TYPE_PALETTE)
		png_set_PLTE(png, info, pal, 4);
	if (trns) {
		memset(&tcol, 0, sizeof(tcol));
		png_set_tRNS(png, info, alpha,
		    ctype == PNG_COLOR_TYPE_PALETTE ? 2 : 0, &tcol);
	}
	png_write_info(png, info);
	if ((row = calloc(w, 8)) == NULL) /* up to 16-bit RGBA */
		abort();
	for (y = 0; y < h; y++)
		png_write_row(png, row);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	free(row);
	return b;
}
