/* image.c: recognises PNG (header read by libpng from memory), JPEG, WebP
 * and GIF bytes and reports format, dimensions and alpha; bounded, no I/O. */
#include "image.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <png.h>

#include "util.h"

/* Largest width or height accepted from any format, checked before use. */
#define IMG_MAX_DIM		(1U << 16)
/* libpng never allocates more than this for one chunk. */
#define IMG_PNG_CHUNK_MAX	(1U << 20)

static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

struct png_src {
	const unsigned char	*data;
	size_t			 len, off;
	char			 msg[128];
};

struct img_type {
	enum img_format	 format;
	const char	*mime, *name, *ext;
};

static const struct img_type img_types[] = {
	{ IMG_PNG, "image/png", "png", "png" },
	{ IMG_JPEG, "image/jpeg", "jpeg", "jpg" },
	{ IMG_WEBP, "image/webp", "webp", "webp" },
	{ IMG_GIF, "image/gif", "gif", "gif" },
};

/* Formats known by name only (upstream may name them; not decoded here). */
static const struct img_type named_types[] = {
	{ IMG_UNKNOWN, "image/svg+xml", "svg", "svg" },
	{ IMG_UNKNOWN, "image/avif", "avif", "avif" },
	{ IMG_UNKNOWN, "image/heic", "heic", "heic" },
	{ IMG_UNKNOWN, "image/bmp", "bmp", "bmp" },
	{ IMG_UNKNOWN, "image/tiff", "tiff", "tiff" },
};

/* Other spellings img_format_from_name accepts. */
static const struct img_type img_aliases[] = {
	{ IMG_JPEG, "image/jpg", "jpg", "jpeg" },
	{ IMG_JPEG, "image/pjpeg", "jpe", "jpe" },
};

static uint32_t
be16(const unsigned char *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
le16(const unsigned char *p)
{
	return (uint32_t)p[1] << 8 | p[0];
}

static uint32_t
le24(const unsigned char *p)
{
	return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | le24(p);
}

static int
check_dims(const char *fmt, uint32_t w, uint32_t h, char *err, size_t errlen)
{
	if (w == 0 || h == 0)
		return errorf(err, errlen, "%s dimensions %ux%u", fmt, w, h);
	if (w > IMG_MAX_DIM || h > IMG_MAX_DIM)
		return errorf(err, errlen, "%s dimensions %ux%u exceed the limit of %u",
		    fmt, w, h, IMG_MAX_DIM);
	return 0;
}

/* PNG */

static void
png_on_error(png_structp png, png_const_charp msg)
{
	struct png_src *src = png_get_error_ptr(png);

	if (src->msg[0] == '\0')
		snprintf(src->msg, sizeof(src->msg), "invalid PNG: %s", msg);
	png_longjmp(png, 1);
}

static void
png_on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

/* libpng's read callback: serves data[off..len) and never past it. */
static void
png_reader(png_structp png, png_bytep out, png_size_t n)
{
	struct png_src *src = png_get_io_ptr(png);

	if (n > src->len - src->off) {
		snprintf(src->msg, sizeof(src->msg), "truncated PNG header");
		png_error(png, "truncated");
	}
	memcpy(out, src->data + src->off, n);
	src->off += n;
}

/* The only code under setjmp: everything libpng may longjmp out of. */
static int
png_read_header(png_structp png, png_infop info, struct png_src *src)
{
	if (setjmp(png_jmpbuf(png)))
		return -1;
	png_set_read_fn(png, src, png_reader);
	png_set_user_limits(png, IMG_MAX_DIM, IMG_MAX_DIM);
	png_set_chunk_malloc_max(png, IMG_PNG_CHUNK_MAX);
	/* Skip every ancillary chunk but tRNS without allocating for it. */
	png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
	png_set_benign_errors(png, 1);
	png_read_info(png, info);
	return 0;
}

/* Walks the chunk lengths (no CRCs, no inflate) to IEND: catches a file cut
 * short after its header, which png_read_info alone cannot see. */
static int
png_check_chunks(const unsigned char *data, size_t len, char *err, size_t errlen)
{
	size_t off = sizeof(png_sig);
	uint32_t clen;

	while (len - off >= 8) {
		clen = be32(data + off);
		if (clen > 0x7fffffffU)
			return errorf(err, errlen, "invalid PNG: chunk length %u", clen);
		if ((size_t)clen + 12 > len - off)
			break;
		if (memcmp(data + off + 4, "IEND", 4) == 0)
			return 0;
		off += (size_t)clen + 12;
	}
	return errorf(err, errlen, "truncated PNG (ends before IEND)");
}

static int
png_probe(const unsigned char *data, size_t len, struct img_info *out,
    char *err, size_t errlen)
{
	struct png_src src = { data, len, 0, "" };
	png_structp png;
	png_infop info = NULL;
	int ctype, rc = -1;

	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_on_error,
	    png_on_warning);
	if (png == NULL || (info = png_create_info_struct(png)) == NULL) {
		errorf(err, errlen, "out of memory reading PNG header");
		goto fail;
	}
	if (png_read_header(png, info, &src) == -1) {
		errorf(err, errlen, "%s", src.msg[0] ? src.msg : "invalid PNG");
		goto fail;
	}
	out->width = png_get_image_width(png, info);
	out->height = png_get_image_height(png, info);
	ctype = png_get_color_type(png, info);
	out->has_alpha = (ctype & PNG_COLOR_MASK_ALPHA) != 0 ||
	    png_get_valid(png, info, PNG_INFO_tRNS) != 0;
	if (check_dims("PNG", out->width, out->height, err, errlen) == -1)
		goto fail;
	if (png_check_chunks(data, len, err, errlen) == -1)
		goto fail;
	out->format = IMG_PNG;
	rc = 0;
fail:
	if (png != NULL)
		png_destroy_read_struct(&png, info != NULL ? &info : NULL, NULL);
	return rc;
}

/* JPEG */

static int
jpeg_is_sof(unsigned char m)
{
	return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

/* Markers without a length field: TEM, RSTn, SOI, EOI. */
static int
jpeg_is_standalone(unsigned char m)
{
	return m == 0x01 || (m >= 0xd0 && m <= 0xd9);
}

static int
jpeg_sof(const unsigned char *seg, size_t seglen, struct img_info *out,
    char *err, size_t errlen)
{
	if (seglen < 8)
		return errorf(err, errlen, "invalid JPEG: frame header too short");
	out->height = be16(seg + 3);
	out->width = be16(seg + 5);
	out->has_alpha = 0;
	if (check_dims("JPEG", out->width, out->height, err, errlen) == -1)
		return -1;
	out->format = IMG_JPEG;
	return 0;
}

/* Walks the marker segments from SOI to the first frame header (SOFn). */
static int
jpeg_probe(const unsigned char *data, size_t len, struct img_info *out,
    char *err, size_t errlen)
{
	size_t off = 2, seglen;
	unsigned char m;

	for (;;) {
		if (off >= len)
			break;
		if (data[off] != 0xff)
			return errorf(err, errlen, "invalid JPEG: no marker at offset %zu", off);
		while (off < len && data[off] == 0xff)
			off++;
		if (off >= len)
			break;
		m = data[off++];
		if (m == 0xd9 || m == 0xda || m == 0xd8 || m == 0x00)
			return errorf(err, errlen, "invalid JPEG: no frame header before "
			    "marker 0x%02x", m);
		if (jpeg_is_standalone(m))
			continue;
		if (len - off < 2)
			break;
		seglen = be16(data + off);
		if (seglen < 2)
			return errorf(err, errlen, "invalid JPEG: segment length %zu", seglen);
		if (seglen > len - off)
			break;
		if (jpeg_is_sof(m))
			return jpeg_sof(data + off, seglen, out, err, errlen);
		off += seglen;
	}
	return errorf(err, errlen, "truncated JPEG (ends before the frame header)");
}

/* WebP */

static int
webp_vp8(const unsigned char *p, size_t n, struct img_info *out,
    char *err, size_t errlen)
{
	uint32_t tag;

	if (n < 10)
		return errorf(err, errlen, "invalid WebP: VP8 frame header too short");
	tag = le24(p);
	if ((tag & 1) != 0 || ((tag >> 4) & 1) == 0)
		return errorf(err, errlen, "invalid WebP: VP8 data is not a shown key frame");
	if (((tag >> 1) & 7) > 3 || (tag >> 5) >= n)
		return errorf(err, errlen, "invalid WebP: bad VP8 frame tag");
	if (p[3] != 0x9d || p[4] != 0x01 || p[5] != 0x2a)
		return errorf(err, errlen, "invalid WebP: bad VP8 start code");
	out->width = le16(p + 6) & 0x3fff;
	out->height = le16(p + 8) & 0x3fff;
	out->has_alpha = 0;
	return 0;
}

static int
webp_vp8l(const unsigned char *p, size_t n, struct img_info *out,
    char *err, size_t errlen)
{
	uint32_t bits;

	if (n < 5 || p[0] != 0x2f)
		return errorf(err, errlen, "invalid WebP: bad VP8L header");
	bits = le32(p + 1);
	if ((bits >> 29) != 0)
		return errorf(err, errlen, "invalid WebP: unknown VP8L version %u",
		    bits >> 29);
	out->width = (bits & 0x3fff) + 1;
	out->height = ((bits >> 14) & 0x3fff) + 1;
	out->has_alpha = (bits >> 28) & 1;
	return 0;
}

static int
webp_vp8x(const unsigned char *p, size_t n, struct img_info *out,
    char *err, size_t errlen)
{
	if (n < 10)
		return errorf(err, errlen, "invalid WebP: VP8X header too short");
	out->has_alpha = (p[0] & 0x10) != 0;
	out->width = le24(p + 4) + 1;
	out->height = le24(p + 7) + 1;
	return 0;
}

/* Every chunk inside the RIFF payload must fit in it. */
static int
webp_check_chunks(const unsigned char *p, size_t n, char *err, size_t errlen)
{
	size_t off = 0, clen;

	while (off < n) {
		if (n - off < 8)
			return errorf(err, errlen, "invalid WebP: partial chunk header");
		clen = le32(p + off + 4);
		if (clen > n - off - 8)
			return errorf(err, errlen, "invalid WebP: chunk overruns the file");
		off += 8 + clen + (clen & 1);
	}
	return 0;
}

static int
webp_probe(const unsigned char *data, size_t len, struct img_info *out,
    char *err, size_t errlen)
{
	const unsigned char *c;
	size_t riff, clen;
	int rc;

	if (len < 20)
		return errorf(err, errlen, "truncated WebP header");
	riff = le32(data + 4);
	if (riff < 12)
		return errorf(err, errlen, "invalid WebP: RIFF size %zu", riff);
	if (riff > len - 8)
		return errorf(err, errlen, "truncated WebP (RIFF declares %zu bytes, "
		    "%zu present)", riff + 8, len);
	if (webp_check_chunks(data + 12, riff - 4, err, errlen) == -1)
		return -1;
	c = data + 12;
	clen = le32(c + 4);
	if (memcmp(c, "VP8 ", 4) == 0)
		rc = webp_vp8(c + 8, clen, out, err, errlen);
	else if (memcmp(c, "VP8L", 4) == 0)
		rc = webp_vp8l(c + 8, clen, out, err, errlen);
	else if (memcmp(c, "VP8X", 4) == 0)
		rc = webp_vp8x(c + 8, clen, out, err, errlen);
	else
		return errorf(err, errlen, "invalid WebP: unknown first chunk '%.4s'",
		    (const char *)c);
	if (rc == -1 || check_dims("WebP", out->width, out->height, err, errlen) == -1)
		return -1;
	out->format = IMG_WEBP;
	return 0;
}

/* Skips GIF data sub-blocks from *off to past their 0 terminator. */
static int
gif_skip_blocks(const unsigned char *p, size_t len, size_t *off)
{
	while (*off < len && p[*off] != 0)
		*off += (size_t)p[*off] + 1;
	if (*off >= len)
		return -1;
	(*off)++;
	return 0;
}

/* GIF87a/GIF89a: the screen's size from the header, then every block
 * walked (never decoded) to count the frames, each bounded. */
static int
gif_probe(const unsigned char *p, size_t len, struct img_info *out, char *err,
    size_t errlen)
{
	size_t off = 13, frames = 0;

	if (len < 13)
		return errorf(err, errlen, "truncated GIF header");
	out->width = le16(p + 6);
	out->height = le16(p + 8);
	if (check_dims("GIF", out->width, out->height, err, errlen) == -1)
		return -1;
	if (p[10] & 0x80)
		off += (size_t)3 << ((p[10] & 7) + 1);
	while (off < len && p[off] != 0x3b) {
		if (p[off] == 0x21 && off + 2 < len) {
			if (p[off + 1] == 0xf9 && off + 3 < len && (p[off + 3] & 1))
				out->has_alpha = 1;
			off += 2;
		} else if (p[off] == 0x2c && off + 10 < len) {
			if (++frames > IMG_GIF_FRAMES_MAX)
				return errorf(err, errlen, "GIF of more than %u "
				    "frames", IMG_GIF_FRAMES_MAX);
			if (check_dims("GIF frame", le16(p + off + 5),
			    le16(p + off + 7), err, errlen) == -1)
				return -1;
			if (p[off + 9] & 0x80)
				off += (size_t)3 << ((p[off + 9] & 7) + 1);
			off += 11;	/* descriptor and the LZW code size */
		} else
			return errorf(err, errlen, "GIF: bad block at byte %zu", off);
		if (gif_skip_blocks(p, len, &off) == -1)
			return errorf(err, errlen, "truncated GIF");
	}
	if (off >= len)
		return errorf(err, errlen, "truncated GIF (no trailer)");
	if (frames == 0)
		return errorf(err, errlen, "GIF without a frame");
	out->frames = (uint32_t)frames;
	out->format = IMG_GIF;
	return 0;
}

/* A file shorter than a signature it starts with is truncated, not unknown. */
static int
sig_prefix(const unsigned char *data, size_t len)
{
	if (len < sizeof(png_sig) && memcmp(data, png_sig, len) == 0)
		return 1;
	if (len < 3 && memcmp(data, "\xff\xd8\xff", len) == 0)
		return 1;
	if (len < 6 && (memcmp(data, "GIF87a", len) == 0 ||
	    memcmp(data, "GIF89a", len) == 0))
		return 1;
	if (len < 12 && memcmp(data, "RIFF", len < 4 ? len : 4) == 0)
		return len <= 8 || memcmp(data + 8, "WEBP", len - 8) == 0;
	return 0;
}

int
img_probe(const unsigned char *data, size_t len, struct img_info *out,
    char *err, size_t errlen)
{
	struct img_info info;
	int rc;

	memset(&info, 0, sizeof(info));
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (data == NULL || len == 0)
		return errorf(err, errlen, "empty file, not an image");
	if (len >= 8 && memcmp(data, png_sig, 8) == 0)
		rc = png_probe(data, len, &info, err, errlen);
	else if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
		rc = jpeg_probe(data, len, &info, err, errlen);
	else if (len >= 12 && memcmp(data, "RIFF", 4) == 0 &&
	    memcmp(data + 8, "WEBP", 4) == 0)
		rc = webp_probe(data, len, &info, err, errlen);
	else if (len >= 6 && (memcmp(data, "GIF87a", 6) == 0 ||
	    memcmp(data, "GIF89a", 6) == 0))
		rc = gif_probe(data, len, &info, err, errlen);
	else if (sig_prefix(data, len))
		rc = errorf(err, errlen, "truncated image header (%zu bytes)", len);
	else
		rc = errorf(err, errlen, "not a PNG, JPEG, WebP or GIF image");
	if (rc == 0 && out != NULL)
		*out = info;
	return rc;
}

/* f's row of img_types, or NULL. */
static const struct img_type *
type_of(enum img_format f)
{
	size_t i;

	for (i = 0; i < sizeof(img_types) / sizeof(img_types[0]); i++)
		if (img_types[i].format == f)
			return &img_types[i];
	return NULL;
}

const char *
img_mime(enum img_format f)
{
	return type_of(f) != NULL ? type_of(f)->mime : NULL;
}

const char *
img_name(enum img_format f)
{
	return type_of(f) != NULL ? type_of(f)->name : NULL;
}

const char *
img_ext(enum img_format f)
{
	return type_of(f) != NULL ? type_of(f)->ext : "bin";
}

/* Compares a name (a MIME type may carry "; parameters") case-insensitively. */
static int
name_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

static enum img_format
lookup_name(const struct img_type *t, size_t nt, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < nt; i++)
		if (name_is(name, n, t[i].mime) || name_is(name, n, t[i].name) ||
		    name_is(name, n, t[i].ext))
			return t[i].format;
	return IMG_UNKNOWN;
}

/* The table row a format name (or MIME type) names, decoded or not. */
static const struct img_type *
named_type(const char *name)
{
	enum img_format f = img_format_from_name(name);
	size_t i, n;

	for (i = 0; f != IMG_UNKNOWN && i < sizeof(img_types) / sizeof(img_types[0]); i++)
		if (img_types[i].format == f)
			return &img_types[i];
	if (name == NULL)
		return NULL;
	n = strcspn(name, "; \t");
	for (i = 0; i < sizeof(named_types) / sizeof(named_types[0]); i++)
		if (name_is(name, n, named_types[i].mime) ||
		    name_is(name, n, named_types[i].name))
			return &named_types[i];
	return NULL;
}

const char *
img_ext_by_name(const char *name)
{
	const struct img_type *t = named_type(name);

	return t != NULL ? t->ext : "bin";
}

const char *
img_mime_by_name(const char *name)
{
	const struct img_type *t = named_type(name);

	return t != NULL ? t->mime : NULL;
}

enum img_format
img_format_from_name(const char *name)
{
	enum img_format f;
	size_t n;

	if (name == NULL)
		return IMG_UNKNOWN;
	while (*name == ' ' || *name == '\t')
		name++;
	n = strcspn(name, "; \t");
	f = lookup_name(img_types, sizeof(img_types) / sizeof(img_types[0]), name, n);
	if (f == IMG_UNKNOWN)
		f = lookup_name(img_aliases, sizeof(img_aliases) / sizeof(img_aliases[0]),
		    name, n);
	return f;
}
