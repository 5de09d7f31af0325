/* thumbcache.h: the serve process's thumbnails in memory, keyed by the
 * SHA-256 of the image they were made from, least recently used dropped. */
#ifndef IMGEDIT_THUMBCACHE_H
#define IMGEDIT_THUMBCACHE_H

#include <stddef.h>

struct thumbcache;

/* A cache holding at most max_bytes of thumbnails. Returns it (caller
 * owns: thumbcache_free) or NULL when out of memory. */
struct thumbcache *thumbcache_new(size_t max_bytes);
void thumbcache_free(struct thumbcache *tc);

/* The thumbnail of the image with this SHA-256 (hex), made it most recently
 * used; NULL if absent or failed. The cache owns the bytes: valid until the
 * next put. */
const unsigned char *thumbcache_get(struct thumbcache *tc, const char *sha256,
    size_t *len);

/* Stores a copy of png under sha256 (replacing one there), then drops the
 * least recently used until the total fits. A thumbnail larger than the
 * whole cache is not kept. Returns 0, or -1 when out of memory. */
int thumbcache_put(struct thumbcache *tc, const char *sha256,
    const unsigned char *png, size_t len);

/* Why no thumbnail could be made of the image with this SHA-256, made it
 * most recently used; NULL if no failure is kept. Valid until the next put. */
const char *thumbcache_failure(struct thumbcache *tc, const char *sha256);

/* Keeps that the image with this SHA-256 makes no thumbnail, and why
 * (replacing what is there), so that it is not decoded again; it counts as
 * at least THUMBCACHE_FAILURE_BYTES. Returns 0, or -1 out of memory. */
#define THUMBCACHE_FAILURE_BYTES 256
int thumbcache_put_failure(struct thumbcache *tc, const char *sha256,
    const char *reason);

/* Entries and bytes held. */
size_t thumbcache_count(const struct thumbcache *tc);
size_t thumbcache_bytes(const struct thumbcache *tc);

#endif
