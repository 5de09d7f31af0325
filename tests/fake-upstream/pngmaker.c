/* pngmaker.c: the one base PNG built at start (libpng, stored deflate, so its
 * size follows --image-bytes), each image's unique tEXt tail, base64, SHA-256. */
#include "fake_upstream.h"

#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <zlib.h>

#define IEND_LEN	12

struct membuf {
	unsigned char	*p;
	size_t		 len, cap;
};

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
b64_encode(const unsigned char *in, size_t len, char *out)
{
	char		*o = out;
	uint32_t	 v;

	for (; len >= 3; in += 3, len -= 3) {
		v = (uint32_t)in[0] << 16 | (uint32_t)in[1] << 8 | in[2];
		*o++ = b64chars[v >> 18];
		*o++ = b64chars[(v >> 12) & 63];
		*o++ = b64chars[(v >> 6) & 63];
		*o++ = b64chars[v & 63];
	}
	if (len > 0) {
		v = (uint32_t)in[0] << 16 | (len > 1 ? (uint32_t)in[1] << 8 : 0);
		*o++ = b64chars[v >> 18];
		*o++ = b64chars[(v >> 12) & 63];
		*o++ = len > 1 ? b64chars[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	return o - out;
}

static void
md_hex(EVP_MD_CTX *md, char hex[65])
{
	unsigned char	 d[32];
	unsigned int	 dlen = 0;
	int		 i;

	EVP_DigestFinal_ex(md, d, &dlen);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

void
sha256_hex(const void *p, size_t len, char hex[65])
{
	EVP_MD_CTX	*md;

	if ((md = EVP_MD_CTX_new()) == NULL)
		abort();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, p, len);
	md_hex(md, hex);
	EVP_MD_CTX_free(md);
}

static void
membuf_write(png_structp png, png_bytep data, size_t len)
{
	struct membuf	*mb = png_get_io_ptr(png);

	if (mb->len + len > mb->cap) {
		mb->cap = (mb->len + len) * 2;
		mb->p = xreallocarray(mb->p, mb->cap, 1);
	}
	memcpy(mb->p + mb->len, data, len);
	mb->len += len;
}

static void
membuf_flush(png_structp png)
{
	(void)png;
}

/* A gradient with noise in blue: something to look at, stored uncompressed. */
static void
fill_row(unsigned char *row, uint32_t w, uint32_t y, uint32_t h, uint64_t *rng)
{
	uint32_t	 x;

	for (x = 0; x < w; x++) {
		*rng ^= *rng << 13;
		*rng ^= *rng >> 7;
		*rng ^= *rng << 17;
		row[3 * x] = (unsigned char)(x * 255 / (w > 1 ? w - 1 : 1));
		row[3 * x + 1] = (unsigned char)(y * 255 / (h > 1 ? h - 1 : 1));
		row[3 * x + 2] = (unsigned char)(*rng >> 56);
	}
}

/* RGB 8-bit, no filter, deflate level 0: the file is about w*h*3 bytes. */
static void
write_image(png_structp png, png_infop info, uint32_t w, uint32_t h,
    unsigned char *row)
{
	uint64_t	 rng = 0x9e3779b97f4a7c15ULL;
	uint32_t	 y;

	png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_set_filter(png, 0, PNG_FILTER_NONE);
	png_set_compression_level(png, 0);
	png_write_info(png, info);
	for (y = 0; y < h; y++) {
		fill_row(row, w, y, h, &rng);
		png_write_row(png, row);
	}
	png_write_end(png, info);
}

static int
write_png(struct membuf *mb, uint32_t w, uint32_t h, char *err, size_t errlen)
{
	png_structp	 png;
	png_infop	 info = NULL;
	unsigned char	*row;

	row = xcalloc(w, 3);
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	if (png == NULL || (info = png_create_info_struct(png)) == NULL)
		goto fail;
	if (setjmp(png_jmpbuf(png)))
		goto fail;
	png_set_write_fn(png, mb, membuf_write, membuf_flush);
	write_image(png, info, w, h, row);
	png_destroy_write_struct(&png, &info);
	free(row);
	return 0;
fail:
	snprintf(err, errlen, "libpng could not write a %ux%u image", w, h);
	png_destroy_write_struct(&png, &info);
	free(row);
	return -1;
}

int
pngbase_init(struct pngbase *pb, size_t bytes, char *err, size_t errlen)
{
	struct membuf	 mb = { NULL, 0, 0 };
	uint32_t	 w = 1, h;

	memset(pb, 0, sizeof(*pb));
	while ((uint64_t)(w + 1) * (w + 1) * 3 <= bytes && w < 100000)
		w++;
	h = bytes / (3 * (size_t)w + 1);
	if (h == 0)
		h = 1;
	if (write_png(&mb, w, h, err, errlen) == -1)
		goto fail;
	if (mb.len < 8 + 25 + IEND_LEN ||
	    memcmp(mb.p + mb.len - IEND_LEN + 4, "IEND", 4) != 0) {
		snprintf(err, errlen, "libpng wrote no IEND last");
		goto fail;
	}
	pb->data = mb.p;
	pb->len = mb.len;
	pb->body_len = mb.len - IEND_LEN;
	pb->b64_head = pb->body_len / 3 * 3;
	pb->b64 = xcalloc(pb->b64_head / 3 * 4 + 1, 1);
	pb->b64_len = b64_encode(pb->data, pb->b64_head, pb->b64);
	if ((pb->md = EVP_MD_CTX_new()) == NULL)
		abort();
	EVP_DigestInit_ex(pb->md, EVP_sha256(), NULL);
	EVP_DigestUpdate(pb->md, pb->data, pb->body_len);
	return 0;
fail:
	free(mb.p);
	return -1;
}

void
pngbase_free(struct pngbase *pb)
{
	free(pb->data);
	free(pb->b64);
	EVP_MD_CTX_free(pb->md);
	memset(pb, 0, sizeof(*pb));
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/*
 * The image is the base PNG with a tEXt chunk "imgedit-fake" = "<seq>-<kind>-
 * <index>" before IEND: everything before it is shared, so an image costs a
 * hundred bytes of work however big it is.
 */
int
image_make(const struct pngbase *pb, const char *tag, const char *kind,
    int index, struct image *img)
{
	static const char	 key[] = "imgedit-fake";
	unsigned char		 joined[2 + IMG_TAIL_MAX];
	unsigned char		*t = img->tail;
	size_t			 taglen = strlen(tag), dlen, head;
	uint32_t		 crc;
	EVP_MD_CTX		*md;

	if (taglen >= IMG_TAG_MAX)
		return -1;
	dlen = sizeof(key) + taglen;		/* key, NUL, text */
	put32(t, (uint32_t)dlen);
	memcpy(t + 4, "tEXt", 4);
	memcpy(t + 8, key, sizeof(key));
	memcpy(t + 8 + sizeof(key), tag, taglen);
	crc = crc32(0L, t + 4, (uInt)(dlen + 4));
	put32(t + 8 + dlen, crc);
	memcpy(t + 12 + dlen, pb->data + pb->body_len, IEND_LEN);
	img->tail_len = 12 + dlen + IEND_LEN;
	img->kind = kind;
	img->index = index;
	img->size = pb->body_len + img->tail_len;

	if ((md = EVP_MD_CTX_new()) == NULL)
		abort();
	EVP_MD_CTX_copy_ex(md, pb->md);
	EVP_DigestUpdate(md, img->tail, img->tail_len);
	md_hex(md, img->sha256);
	EVP_MD_CTX_free(md);

	head = pb->body_len - pb->b64_head;	/* 0..2 body bytes left over */
	memcpy(joined, pb->data + pb->b64_head, head);
	memcpy(joined + head, img->tail, img->tail_len);
	img->b64tail_len = b64_encode(joined, head + img->tail_len, img->b64tail);
	return 0;
}

/* The image's bytes are buf (taken): its size, sha256 and base64 follow. */
void
image_own(struct image *img, unsigned char *buf, size_t len)
{
	free(img->own);
	free(img->own_b64);
	img->own = buf;
	img->own_len = img->size = len;
	sha256_hex(buf, len, img->sha256);
	img->own_b64 = xcalloc(4 * (len / 3 + 2), 1);
	img->own_b64_len = b64_encode(buf, len, img->own_b64);
}

void
image_free(struct image *img)
{
	free(img->own);
	free(img->own_b64);
	img->own = NULL;
	img->own_b64 = NULL;
}
