/* thumb.c: decodes a stored image row by row (libpng, libjpeg-turbo; libwebp
 * and a GIF's first frame whole), averages each box of source pixels into
 * one, and writes a PNG. */
#include "thumb.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gif_lib.h>
#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>

#include "image.h"
#include "util.h"

/* Interlaced PNGs and WebP are decoded whole: a smaller bound for those. */
#define THUMB_MAX_WHOLE (16u * 1000 * 1000)
/* Largest ancillary chunk libpng may inflate (iCCP, zTXt). */
#define THUMB_PNG_CHUNK_MAX (8u << 20)

/* What a decoder gets: the bytes, the thumbnail's side, the limits and
 * the monotonic time (ms) past which it gives up. */
struct decode_in {
	const unsigned char *data;
	size_t len;
	uint32_t max_side;
	const struct thumb_limits *lim;
	int64_t deadline_ms;
};

static int
past_deadline(const struct decode_in *in)
{
	return mono_ms() > in->deadline_ms;
}

/* The box filter: source rows go in one at a time, RGBA; each output row is
 * written once its last source row has been added. */
struct boxer {
	uint32_t sw, sh, tw, th;
	uint32_t y, oy;      /* next source row; output row being summed */
	uint32_t *xb;        /* tw + 1 column boundaries */
	uint64_t *acc;       /* tw * 4 sums */
	unsigned char *out;  /* tw * th * 4 */
};

void
thumb_fit(uint32_t w, uint32_t h, uint32_t max_side, uint32_t *tw,
    uint32_t *th)
{
	uint64_t a, b;

	if (max_side == 0)
		max_side = 1;
	if (w <= max_side && h <= max_side) {
		*tw = w ? w : 1;
		*th = h ? h : 1;
		return;
	}
	if (w >= h) {
		a = max_side;
		b = ((uint64_t)h * max_side + w / 2) / w;
	} else {
		b = max_side;
		a = ((uint64_t)w * max_side + h / 2) / h;
	}
	*tw = a ? (uint32_t)a : 1;
	*th = b ? (uint32_t)b : 1;
}

static int
boxer_init(struct boxer *b, uint32_t sw, uint32_t sh, uint32_t tw, uint32_t th)
{
	uint32_t i;

	memset(b, 0, sizeof(*b));
	b->sw = sw, b->sh = sh, b->tw = tw, b->th = th;
	b->xb = calloc(tw + 1, sizeof(*b->xb));
	b->acc = calloc((size_t)tw * 4, sizeof(*b->acc));
	b->out = malloc((size_t)tw * th * 4);
	if (b->xb == NULL || b->acc == NULL || b->out == NULL)
		return -1;
	for (i = 0; i <= tw; i++)
		b->xb[i] = (uint32_t)((uint64_t)i * sw / tw);
	return 0;
}

static void
boxer_free(struct boxer *b)
{
	free(b->xb);
	free(b->acc);
	free(b->out);
	memset(b, 0, sizeof(*b));
}

/* Writes output row oy from the sums of source rows y0..y1. */
static void
boxer_flush(struct boxer *b, uint32_t rows)
{
	unsigned char *o = b->out + (size_t)b->oy * b->tw * 4;
	uint64_t n;
	uint32_t x, c;

	for (x = 0; x < b->tw; x++) {
		n = (uint64_t)(b->xb[x + 1] - b->xb[x]) * rows;
		for (c = 0; c < 4; c++)
			o[x * 4 + c] = (unsigned char)((b->acc[x * 4 + c] + n / 2) / n);
	}
	memset(b->acc, 0, (size_t)b->tw * 4 * sizeof(*b->acc));
	b->oy++;
}

/* Adds source row b->y (sw RGBA pixels). */
static void
boxer_row(struct boxer *b, const unsigned char *row)
{
	uint32_t x, ox, y0, y1;
	uint64_t *a;

	if (b->oy >= b->th)
		return;
	for (ox = 0; ox < b->tw; ox++) {
		a = b->acc + ox * 4;
		for (x = b->xb[ox]; x < b->xb[ox + 1]; x++) {
			a[0] += row[x * 4];
			a[1] += row[x * 4 + 1];
			a[2] += row[x * 4 + 2];
			a[3] += row[x * 4 + 3];
		}
	}
	b->y++;
	y0 = (uint32_t)((uint64_t)b->oy * b->sh / b->th);
	y1 = (uint32_t)((uint64_t)(b->oy + 1) * b->sh / b->th);
	if (b->y == y1)
		boxer_flush(b, y1 - y0);
}

static int
check_size(uint32_t w, uint32_t h, uint64_t max, char *err, size_t errlen)
{
	if (w == 0 || h == 0 || (uint64_t)w * h > max)
		return errorf(err, errlen, "image of %ux%u pixels: too large to "
		    "make a thumbnail of", w, h);
	return 0;
}

/* ---- PNG ---- */

struct png_io {
	const unsigned char *p;
	size_t len, off;
	struct buf out;
	const struct decode_in *in;  /* reading: its deadline */
	char msg[128];
};

/* Ancillary chunks libpng keeps (sPLT, text, unknown): beyond, an error. */
#define THUMB_PNG_CHUNKS_MAX 128

static void
png_read_mem(png_structp png, png_bytep dst, size_t n)
{
	struct png_io *io = png_get_io_ptr(png);

	if (n > io->len - io->off)
		png_error(png, "truncated PNG");
	if (io->in != NULL && past_deadline(io->in))
		png_error(png, "took too long to decode");
	memcpy(dst, io->p + io->off, n);
	io->off += n;
}

static void
png_on_error(png_structp png, png_const_charp msg)
{
	struct png_io *io = png_get_error_ptr(png);

	snprintf(io->msg, sizeof(io->msg), "%s", msg);
	png_longjmp(png, 1);
}

static void
png_on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

/* Transforms to 8-bit RGBA; returns the number of interlace passes. */
static int
png_to_rgba(png_structp png, png_infop info)
{
	int passes;

	png_set_expand(png);
	png_set_strip_16(png);
	png_set_gray_to_rgb(png);
	png_set_filler(png, 0xff, PNG_FILLER_AFTER);
	passes = png_set_interlace_handling(png);
	png_read_update_info(png, info);
	return passes;
}

/* Holds what a longjmp out of libpng must free. */
struct png_dec {
	struct boxer box;
	unsigned char *pixels;
	png_bytep *rows;
};

static int
png_feed(png_structp png, png_infop info, struct png_dec *d, uint32_t w,
    uint32_t h, char *err, size_t errlen)
{
	uint32_t y;
	int passes = png_to_rgba(png, info);

	if (png_get_rowbytes(png, info) != (size_t)w * 4)
		return errorf(err, errlen, "PNG: unexpected row size");
	if (passes > 1 && check_size(w, h, THUMB_MAX_WHOLE, err, errlen) == -1)
		return -1;
	if ((d->pixels = malloc((size_t)w * (passes > 1 ? h : 1) * 4)) == NULL ||
	    (d->rows = calloc(h, sizeof(*d->rows))) == NULL)
		return errorf(err, errlen, "out of memory");
	for (y = 0; y < h; y++)
		d->rows[y] = d->pixels + (passes > 1 ? (size_t)y * w * 4 : 0);
	if (passes > 1)
		png_read_image(png, d->rows);
	for (y = 0; y < h; y++) {
		if (passes == 1)
			png_read_row(png, d->rows[y], NULL);
		boxer_row(&d->box, d->rows[y]);
	}
	return 0;
}

/* Everything libpng may longjmp out of, and nothing after it. */
static int
png_run(png_structp png, png_infop info, struct png_io *io,
    struct png_dec *d, uint32_t max_side, char *err, size_t errlen)
{
	png_uint_32 w, h;
	uint32_t tw, th;
	int depth, ctype;

	if (setjmp(png_jmpbuf(png)))
		return errorf(err, errlen, "PNG: %s", io->msg);
	png_set_read_fn(png, io, png_read_mem);
	png_set_user_limits(png, 65536, 65536);
	png_set_chunk_malloc_max(png, THUMB_PNG_CHUNK_MAX);
	png_set_chunk_cache_max(png, THUMB_PNG_CHUNKS_MAX);
	png_read_info(png, info);
	png_get_IHDR(png, info, &w, &h, &depth, &ctype, NULL, NULL, NULL);
	if (check_size(w, h, THUMB_MAX_PIXELS, err, errlen) == -1)
		return -1;
	thumb_fit(w, h, max_side, &tw, &th);
	if (boxer_init(&d->box, w, h, tw, th) == -1)
		return errorf(err, errlen, "out of memory");
	return png_feed(png, info, d, w, h, err, errlen);
}

static int
decode_png(const struct decode_in *in, struct boxer *out, char *err,
    size_t errlen)
{
	struct png_io io = { .p = in->data, .len = in->len, .in = in };
	struct png_dec d;
	png_structp png;
	png_infop info = NULL;
	int rc = -1;

	memset(&d, 0, sizeof(d));
	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, png_on_error,
	    png_on_warning);
	if (png == NULL || (info = png_create_info_struct(png)) == NULL)
		errorf(err, errlen, "out of memory");
	else if ((rc = png_run(png, info, &io, &d, in->max_side, err,
	    errlen)) == 0) {
		*out = d.box;
		memset(&d.box, 0, sizeof(d.box));
	}
	png_destroy_read_struct(&png, &info, NULL);
	boxer_free(&d.box);
	free(d.pixels);
	free(d.rows);
	return rc;
}

/* ---- JPEG ---- */

struct jpeg_err {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	char msg[JMSG_LENGTH_MAX];
};

/* libjpeg's progress monitor, called for every scan and row group: the
 * scan count (as djpeg -maxscans) and the deadline. */
struct jpeg_watch {
	struct jpeg_progress_mgr pub;
	const struct decode_in *in;
	struct jpeg_err *je;
};

static void
jpeg_on_error(j_common_ptr cinfo)
{
	struct jpeg_err *e = (struct jpeg_err *)cinfo->err;

	cinfo->err->format_message(cinfo, e->msg);
	longjmp(e->jb, 1);
}

/* Warnings are corrupt or truncated data: an error here. */
static void
jpeg_on_message(j_common_ptr cinfo, int level)
{
	if (level < 0)
		jpeg_on_error(cinfo);
}

static void
jpeg_on_progress(j_common_ptr cinfo)
{
	struct jpeg_watch *w = (struct jpeg_watch *)cinfo->progress;
	j_decompress_ptr d = (j_decompress_ptr)cinfo;

	if (d->input_scan_number > w->in->lim->max_scans) {
		snprintf(w->je->msg, sizeof(w->je->msg), "more than %d scans",
		    w->in->lim->max_scans);
		longjmp(w->je->jb, 1);
	}
	if (past_deadline(w->in)) {
		snprintf(w->je->msg, sizeof(w->je->msg), "took more than %ld ms "
		    "to decode", w->in->lim->max_ms);
		longjmp(w->je->jb, 1);
	}
}

/* The largest libjpeg downscale (1/8, 1/4, 1/2) still at least tw x th. */
static unsigned
jpeg_denom(uint32_t w, uint32_t h, uint32_t tw, uint32_t th)
{
	unsigned d;

	for (d = 8; d > 1; d /= 2)
		if ((w + d - 1) / d >= tw && (h + d - 1) / d >= th)
			return d;
	return 1;
}

struct jpeg_dec {
	struct jpeg_decompress_struct ci;
	struct jpeg_err je;
	struct jpeg_watch watch;
	struct boxer box;
	unsigned char *row;
};

static int
jpeg_feed(struct jpeg_dec *d, uint32_t max_side, char *err, size_t errlen)
{
	uint32_t tw, th;
	JSAMPROW rows[1];

	thumb_fit(d->ci.image_width, d->ci.image_height, max_side, &tw, &th);
	d->ci.scale_num = 1;
	d->ci.scale_denom = jpeg_denom(d->ci.image_width, d->ci.image_height,
	    tw, th);
	d->ci.out_color_space = JCS_EXT_RGBA;
	jpeg_start_decompress(&d->ci);
	if (d->ci.output_components != 4 || d->ci.output_width < tw ||
	    d->ci.output_height < th)
		return errorf(err, errlen, "JPEG: unexpected output size");
	if (boxer_init(&d->box, d->ci.output_width, d->ci.output_height, tw,
	    th) == -1 || (d->row = malloc((size_t)d->ci.output_width * 4)) ==
	    NULL)
		return errorf(err, errlen, "out of memory");
	rows[0] = d->row;
	while (d->ci.output_scanline < d->ci.output_height) {
		if (jpeg_read_scanlines(&d->ci, rows, 1) != 1)
			return errorf(err, errlen, "JPEG: truncated");
		boxer_row(&d->box, d->row);
	}
	return 0;
}

/* Everything libjpeg may longjmp out of, and nothing after it. */
static int
jpeg_run(struct jpeg_dec *d, const struct decode_in *in, char *err,
    size_t errlen)
{
	if (setjmp(d->je.jb))
		return errorf(err, errlen, "JPEG: %s", d->je.msg);
	jpeg_create_decompress(&d->ci);
	/* beyond it libjpeg would need a backing store, which it has not:
	 * JERR_NO_BACKING_STORE, an error */
	d->ci.mem->max_memory_to_use = (long)in->lim->max_memory;
	d->watch.pub.progress_monitor = jpeg_on_progress;
	d->watch.in = in;
	d->watch.je = &d->je;
	d->ci.progress = &d->watch.pub;
	jpeg_mem_src(&d->ci, in->data, (unsigned long)in->len);
	jpeg_read_header(&d->ci, TRUE);
	if (check_size(d->ci.image_width, d->ci.image_height,
	    THUMB_MAX_PIXELS, err, errlen) == -1)
		return -1;
	return jpeg_feed(d, in->max_side, err, errlen);
}

static int
decode_jpeg(const struct decode_in *in, struct boxer *out, char *err,
    size_t errlen)
{
	struct jpeg_dec *d;
	int rc;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return errorf(err, errlen, "out of memory");
	d->ci.err = jpeg_std_error(&d->je.pub);
	d->je.pub.error_exit = jpeg_on_error;
	d->je.pub.emit_message = jpeg_on_message;
	if ((rc = jpeg_run(d, in, err, errlen)) == 0) {
		*out = d->box;
		memset(&d->box, 0, sizeof(d->box));
	}
	jpeg_destroy_decompress(&d->ci);
	boxer_free(&d->box);
	free(d->row);
	free(d);
	return rc;
}

/* ---- WebP ---- */

/* Decoded whole (bounded by THUMB_MAX_WHOLE pixels, one still image). */
static int
decode_webp(const struct decode_in *in, struct boxer *out, char *err,
    size_t errlen)
{
	WebPBitstreamFeatures feat;
	uint8_t *px;
	uint32_t tw, th, y;
	int w, h;

	if (WebPGetFeatures(in->data, in->len, &feat) != VP8_STATUS_OK)
		return errorf(err, errlen, "WebP: corrupt header");
	if (feat.has_animation)
		return errorf(err, errlen, "WebP: an animation");
	if (check_size((uint32_t)feat.width, (uint32_t)feat.height,
	    THUMB_MAX_WHOLE, err, errlen) == -1)
		return -1;
	if ((px = WebPDecodeRGBA(in->data, in->len, &w, &h)) == NULL)
		return errorf(err, errlen, "WebP: truncated or corrupt");
	thumb_fit((uint32_t)w, (uint32_t)h, in->max_side, &tw, &th);
	if (boxer_init(out, (uint32_t)w, (uint32_t)h, tw, th) == -1) {
		boxer_free(out);
		WebPFree(px);
		return errorf(err, errlen, "out of memory");
	}
	for (y = 0; y < (uint32_t)h; y++)
		boxer_row(out, px + (size_t)y * (uint32_t)w * 4);
	WebPFree(px);
	return 0;
}

/* ---- GIF: the first frame, on its screen ---- */

struct gif_mem {
	const unsigned char	*data;
	size_t			 len, off;
};

static int
gif_read_mem(GifFileType *gif, GifByteType *dst, int n)
{
	struct gif_mem *m = gif->UserData;
	size_t k = n < 0 ? 0 : (size_t)n;

	if (k > m->len - m->off)
		k = m->len - m->off;
	memcpy(dst, m->data + m->off, k);
	m->off += k;
	return (int)k;
}

/* Skips extensions up to the first image descriptor; notes the colour a
 * graphic control extension makes transparent (-1: none). */
static int
gif_to_first_image(GifFileType *gif, int *transparent)
{
	GifRecordType rt;
	GifByteType *ext;
	int code;

	*transparent = -1;
	for (;;) {
		if (DGifGetRecordType(gif, &rt) == GIF_ERROR ||
		    rt == TERMINATE_RECORD_TYPE)
			return -1;
		if (rt == IMAGE_DESC_RECORD_TYPE)
			return DGifGetImageDesc(gif) == GIF_ERROR ? -1 : 0;
		if (rt != EXTENSION_RECORD_TYPE ||
		    DGifGetExtension(gif, &code, &ext) == GIF_ERROR)
			return -1;
		if (code == GRAPHICS_EXT_FUNC_CODE && ext != NULL && ext[0] >= 4 &&
		    (ext[1] & 1))
			*transparent = ext[4];
		while (ext != NULL)
			if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR)
				return -1;
	}
}

/* The frame's rows (interlaced ones in their four passes) onto the canvas. */
static int
gif_paint(GifFileType *gif, unsigned char *canvas, int transparent)
{
	static const int start[4] = { 0, 4, 2, 1 }, step[4] = { 8, 8, 4, 2 };
	const GifImageDesc *d = &gif->Image;
	const ColorMapObject *cm = d->ColorMap ? d->ColorMap : gif->SColorMap;
	GifPixelType *line;
	int pass, y, x, passes = d->Interlace ? 4 : 1;
	unsigned char *px;

	if (cm == NULL || (line = malloc((size_t)d->Width)) == NULL)
		return -1;
	for (pass = 0; pass < passes; pass++)
		for (y = passes > 1 ? start[pass] : 0; y < d->Height;
		    y += passes > 1 ? step[pass] : 1) {
			if (DGifGetLine(gif, line, d->Width) == GIF_ERROR) {
				free(line);
				return -1;
			}
			for (x = 0; x < d->Width; x++) {
				if (d->Left + x >= gif->SWidth ||
				    d->Top + y >= gif->SHeight ||
				    line[x] == transparent || line[x] >= cm->ColorCount)
					continue;
				px = canvas + ((size_t)(d->Top + y) * gif->SWidth +
				    (size_t)(d->Left + x)) * 4;
				px[0] = cm->Colors[line[x]].Red;
				px[1] = cm->Colors[line[x]].Green;
				px[2] = cm->Colors[line[x]].Blue;
				px[3] = 255;
			}
		}
	free(line);
	return 0;
}

static int
decode_gif(const struct decode_in *in, struct boxer *out, char *err,
    size_t errlen)
{
	struct gif_mem m = { in->data, in->len, 0 };
	GifFileType *gif;
	unsigned char *canvas = NULL;
	uint32_t w, h, tw, th, y;
	int gerr = 0, transparent, rc = -1;

	if ((gif = DGifOpen(&m, gif_read_mem, &gerr)) == NULL)
		return errorf(err, errlen, "GIF: %s", GifErrorString(gerr));
	w = (uint32_t)gif->SWidth;
	h = (uint32_t)gif->SHeight;
	if (check_size(w, h, THUMB_MAX_WHOLE, err, errlen) == -1)
		goto done;
	if (gif_to_first_image(gif, &transparent) == -1 ||
	    gif->Image.Width <= 0 || gif->Image.Height <= 0) {
		errorf(err, errlen, "GIF: truncated or corrupt");
		goto done;
	}
	if (check_size((uint32_t)gif->Image.Width, (uint32_t)gif->Image.Height,
	    THUMB_MAX_WHOLE, err, errlen) == -1)
		goto done;
	if ((canvas = calloc((size_t)w * h, 4)) == NULL) {
		errorf(err, errlen, "out of memory");
		goto done;
	}
	if (gif_paint(gif, canvas, transparent) == -1) {
		errorf(err, errlen, "GIF: truncated or corrupt");
		goto done;
	}
	if (past_deadline(in)) {
		errorf(err, errlen, "GIF: took longer than %ld ms",
		    in->lim->max_ms);
		goto done;
	}
	thumb_fit(w, h, in->max_side, &tw, &th);
	if (boxer_init(out, w, h, tw, th) == -1) {
		errorf(err, errlen, "out of memory");
		goto done;
	}
	for (y = 0; y < h; y++)
		boxer_row(out, canvas + (size_t)y * w * 4);
	rc = 0;
done:
	free(canvas);
	DGifCloseFile(gif, &gerr);
	return rc;
}

/* ---- PNG out ---- */

static void
png_write_mem(png_structp png, png_bytep p, size_t n)
{
	struct png_io *io = png_get_io_ptr(png);

	if (buf_append(&io->out, p, n) == -1)
		png_error(png, "out of memory");
}

static void
png_flush_mem(png_structp png)
{
	(void)png;
}

static int
encode_png(const struct boxer *b, struct thumb *t, char *err, size_t errlen)
{
	struct png_io io;
	png_structp png;
	png_infop info = NULL;
	uint32_t y;

	memset(&io, 0, sizeof(io));
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &io, png_on_error,
	    png_on_warning);
	if (png == NULL || (info = png_create_info_struct(png)) == NULL)
		goto fail;
	if (setjmp(png_jmpbuf(png)))
		goto fail;
	png_set_write_fn(png, &io, png_write_mem, png_flush_mem);
	png_set_compression_level(png, 6);
	png_set_IHDR(png, info, b->tw, b->th, 8, PNG_COLOR_TYPE_RGBA,
	    PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	    PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < b->th; y++)
		png_write_row(png, b->out + (size_t)y * b->tw * 4);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	t->png = io.out.data;
	t->len = io.out.len;
	t->width = b->tw;
	t->height = b->th;
	return 0;
fail:
	png_destroy_write_struct(&png, &info);
	buf_free(&io.out);
	return errorf(err, errlen, "cannot write the thumbnail: %s",
	    io.msg[0] ? io.msg : "out of memory");
}

/* ---- the decoders, by format ---- */

typedef int decode_fn(const struct decode_in *in, struct boxer *out,
    char *err, size_t errlen);

static const struct {
	enum img_format format;
	decode_fn *decode;
} decoders[] = {
	{ IMG_PNG, decode_png },
	{ IMG_JPEG, decode_jpeg },
	{ IMG_WEBP, decode_webp },
	{ IMG_GIF, decode_gif },
};

static decode_fn *
decoder_of(enum img_format format)
{
	size_t i;

	for (i = 0; i < sizeof(decoders) / sizeof(decoders[0]); i++)
		if (decoders[i].format == format)
			return decoders[i].decode;
	return NULL;
}

int
thumb_make(const unsigned char *data, size_t len, uint32_t max_side,
    struct thumb *out, char *err, size_t errlen)
{
	static const struct thumb_limits lim = { THUMB_MAX_SCANS,
	    THUMB_MAX_MEMORY, THUMB_MAX_MS };

	return thumb_make_limited(data, len, max_side, &lim, out, err, errlen);
}

int
thumb_make_limited(const unsigned char *data, size_t len,
    uint32_t max_side, const struct thumb_limits *lim, struct thumb *out,
    char *err, size_t errlen)
{
	struct decode_in in = { data, len, max_side, lim,
	    mono_ms() + lim->max_ms };
	struct img_info info;
	struct boxer b;
	decode_fn *decode;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&b, 0, sizeof(b));
	if (img_probe(data, len, &info, err, errlen) == -1)
		return -1;
	if ((decode = decoder_of(info.format)) == NULL)
		return errorf(err, errlen, "no thumbnails of this format");
	rc = decode(&in, &b, err, errlen);
	if (rc == 0 && b.oy != b.th)
		rc = errorf(err, errlen, "image ended early");
	if (rc == 0)
		rc = encode_png(&b, out, err, errlen);
	if (rc == 0) {
		out->src_width = info.format == IMG_JPEG ? info.width : b.sw;
		out->src_height = info.format == IMG_JPEG ? info.height : b.sh;
	}
	boxer_free(&b);
	return rc;
}
