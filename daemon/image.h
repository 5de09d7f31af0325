/* image.h: recognises image bytes (PNG via libpng, JPEG, WebP, GIF by
 * signature) and reads their dimensions with every declared size bounded
 * first. No I/O. */
#ifndef IMGEDIT_IMAGE_H
#define IMGEDIT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

enum img_format { IMG_UNKNOWN = 0, IMG_PNG, IMG_JPEG, IMG_WEBP, IMG_GIF };

/* Most frames a GIF may have (the API makes at most 16). */
#define IMG_GIF_FRAMES_MAX	256

struct img_info {
	enum img_format format;
	uint32_t width, height;
	int has_alpha; /* PNG: colour type with alpha, or a tRNS chunk; WebP: alpha
			* flag; GIF: a transparent colour */
	uint32_t frames; /* GIF: frames counted; 0 for the others */
};

/* Reads the header of data[0..len). Returns 0 and fills *out, or -1 with a
 * human-readable reason in err (e.g. "not a PNG, JPEG or WebP image",
 * "truncated PNG header", "PNG dimensions 0x0"). Never reads past len and
 * never allocates by a size the data declares. */
int img_probe(const unsigned char *data, size_t len, struct img_info *out,
    char *err, size_t errlen);

/* "image/png", "image/jpeg", "image/webp", or NULL for IMG_UNKNOWN. */
const char *img_mime(enum img_format f);
/* "png", "jpeg", "webp" (the API's output_format names), or NULL. */
const char *img_name(enum img_format f);
/* File extension without dot: "png", "jpg", "webp", or "bin". */
const char *img_ext(enum img_format f);
/* IMG_* from "png"/"jpeg"/"jpg"/"webp"/"gif" or a MIME type; IMG_UNKNOWN
 * otherwise. */
enum img_format img_format_from_name(const char *name);

/* The file extension and MIME type of a format named (an output_format or
 * a MIME type), decoded here or only known by name (svg, avif, heic, bmp,
 * tiff): "bin" and NULL when nobody knows the name. Static strings. */
const char *img_ext_by_name(const char *name);
const char *img_mime_by_name(const char *name);

#endif
