/* image.h: recognises image bytes (PNG via libpng, JPEG, WebP by signature)
 * and reads their dimensions with every declared size bounded first. No I/O. */
#ifndef IMGEDIT_IMAGE_H
#define IMGEDIT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

enum img_format { IMG_UNKNOWN = 0, IMG_PNG, IMG_JPEG, IMG_WEBP };

struct img_info {
	enum img_format format;
	uint32_t width, height;
	int has_alpha; /* PNG: colour type with alpha, or a tRNS chunk; WebP: alpha flag */
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
/* IMG_* from "png"/"jpeg"/"jpg"/"webp" or a MIME type; IMG_UNKNOWN otherwise. */
enum img_format img_format_from_name(const char *name);

#endif
