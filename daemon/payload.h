/* payload.h: pulls the base64 images out of an upstream JSON text (an SSE
 * event or a whole response) as it streams in, without buffering the base64. */
#ifndef IMGEDIT_PAYLOAD_H
#define IMGEDIT_PAYLOAD_H

#include <stddef.h>

struct payload_image {
	unsigned char *data; /* decoded bytes, in pages of their own (mmap) */
	size_t size;
	size_t mapped;       /* bytes mapped at data: payload.c's business */
};

/* A streaming extractor for one JSON document at a time. Every member
 * named "b64_json" whose value is a string, at any depth, is base64-decoded
 * as its bytes arrive into an image buffer; the rest of the text is kept
 * with those values blanked (`"b64_json":""`), small enough for jansson.
 * Buffers are reused from one document to the next. */
struct payload_stream;

/* Spare image buffers handed from finished streams to new ones, so that a
 * new stream does not fault its ~2 MB of pages in (and have the kernel zero
 * them) again. Holds at most max_spares buffers of up to 8 MB each. */
struct payload_pool;

/* Returns a new, empty pool (caller owns it: payload_pool_free), or NULL. */
struct payload_pool *payload_pool_new(int max_spares);

/* Returns every spare buffer to the system (call when idle). */
void payload_pool_trim(struct payload_pool *pool);

/* Number of spare buffers held. */
int payload_pool_count(const struct payload_pool *pool);

/* Bytes mapped by the pool's buffers that are out of it: in streams
 * decoding an image, or taken and not yet put back. The memory that
 * imgeditd's --memory-max bounds (spares are not counted: they are only
 * there because lent buffers came back). */
size_t payload_pool_lent(const struct payload_pool *pool);

/* Counts img, a buffer made without the pool (payload_extract's), as lent
 * from it: from now on it goes back with payload_pool_put like the pool's
 * own. pool may be NULL. */
void payload_pool_adopt(struct payload_pool *pool,
    const struct payload_image *img);

/* The largest payload_pool_lent so far. */
size_t payload_pool_lent_peak(const struct payload_pool *pool);

/* Trims and frees the pool; no stream may still use it. */
void payload_pool_free(struct payload_pool *pool);

/* Returns a new extractor (caller owns it: payload_stream_free), or NULL.
 * max_bytes bounds one document: kept text plus decoded bytes. pool, if
 * not NULL, supplies and takes back its image buffers; it must outlive
 * the stream. */
struct payload_stream *payload_stream_new(size_t max_bytes,
    struct payload_pool *pool);

#define PAYLOAD_TOO_BIG (-2)

/* Nonzero while the document being fed has begun an image: its buffer is
 * held until the document ends, so pausing the stream now frees nothing. */
int payload_stream_busy(const struct payload_stream *ps);

/* Feeds the next n bytes of the document (any split point). Returns 0;
 * PAYLOAD_TOO_BIG when the document passed max_bytes; or -1 with a reason
 * in err (invalid base64 and its offset in the value, out of memory).
 * After an error only payload_stream_reset is allowed. */
int payload_stream_feed(struct payload_stream *ps, const char *s, size_t n,
    char *err, size_t errlen);

/* The document is complete. Sets *text (NUL-terminated, *text_len bytes)
 * and *imgs, both owned by ps and valid until the next feed or reset, and
 * returns the number of images; or -1 with a reason in err (unterminated
 * string, truncated base64). */
int payload_stream_end(struct payload_stream *ps, char **text,
    size_t *text_len, const struct payload_image **imgs, char *err,
    size_t errlen);

/* Moves image i of the document just ended out of the stream: *out owns
 * its buffer from now on (give it back with payload_pool_put); the stream
 * takes a spare from its pool for the next document. */
void payload_stream_take(struct payload_stream *ps, int i,
    struct payload_image *out);

/* Gives a buffer taken with payload_stream_take or payload_image_copy
 * back: kept as a spare if the pool has room, else unmapped. pool may be
 * NULL. img is left empty. */
void payload_pool_put(struct payload_pool *pool, struct payload_image *img);

/* Copies size bytes into a buffer of the pool's (a spare if there is one).
 * Returns 0, or -1 when out of memory. */
int payload_image_copy(struct payload_pool *pool, const void *data,
    size_t size, struct payload_image *out);

/* Starts the next document. Image buffers not taken go back to the pool
 * (a stream without a pool keeps them for the next document). */
void payload_stream_reset(struct payload_stream *ps);

void payload_stream_free(struct payload_stream *ps);

/* The same for a document already in memory: buf[0..*len) is compacted in
 * place to the blanked text (NUL-terminated, *len updated). Returns the
 * number of images (*imgs, caller owns: payload_free), or -1 with a reason
 * in err. */
int payload_extract(char *buf, size_t *len, struct payload_image **imgs,
    char *err, size_t errlen);

void payload_free(struct payload_image *imgs, int n);

#endif
