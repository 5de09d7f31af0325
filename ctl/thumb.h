/* thumb.h: thumbnails for imgeditctl serve: decodes PNG (libpng), JPEG
 * (libjpeg-turbo) or WebP (libwebp) bytes, box-filters, encodes PNG. No I/O. */
#ifndef IMGEDIT_THUMB_H
#define IMGEDIT_THUMB_H

#include <stddef.h>
#include <stdint.h>

/* Largest image decoded, in pixels (a 1536x1024 result is 1.5 M): bounded
 * from the declared header before anything is allocated. */
#define THUMB_MAX_PIXELS (40u * 1000 * 1000)

/* What one decode may take (thumb_make_limited); thumb_make uses these:
 * libjpeg's scans (a camera's progressive JPEG has 10; each scan is a pass
 * over the whole image), libjpeg's working memory, and wall time. */
#define THUMB_MAX_SCANS 32
#define THUMB_MAX_MEMORY (96u << 20)
#define THUMB_MAX_MS 2000

struct thumb_limits {
	int max_scans;        /* JPEG scans */
	size_t max_memory;    /* bytes of libjpeg's working memory */
	long max_ms;          /* wall time of the whole decode */
};

struct thumb {
	unsigned char *png;  /* the thumbnail, an 8-bit RGBA PNG; caller frees */
	size_t len;
	uint32_t width, height;         /* of the thumbnail */
	uint32_t src_width, src_height; /* of the image it was made from */
};

/* The size a w x h image is shown at to fit in a max_side square, aspect
 * kept, never enlarged, at least 1x1. */
void thumb_fit(uint32_t w, uint32_t h, uint32_t max_side, uint32_t *tw,
    uint32_t *th);

/* Makes a thumbnail of data[0..len) fitting in max_side x max_side: each
 * output pixel is the average of the source pixels its box covers. Returns 0
 * with *out filled (caller frees out->png), or -1 with a reason in err
 * (not an image, truncated or corrupt, too large). */
int thumb_make(const unsigned char *data, size_t len, uint32_t max_side,
    struct thumb *out, char *err, size_t errlen);

/* The same within lim: past any limit the image is refused ("JPEG: more
 * than 32 scans", "took more than 2000 ms to decode"). */
int thumb_make_limited(const unsigned char *data, size_t len,
    uint32_t max_side, const struct thumb_limits *lim, struct thumb *out,
    char *err, size_t errlen);

#endif
