/* thumbcache.c: a hash table of thumbnails by SHA-256 threaded on a list in
 * order of use; the tail (least recently used) goes first when over budget. */
#include "thumbcache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define TC_BUCKETS 1024
#define TC_KEY_MAX 64

struct tc_entry {
	TAILQ_ENTRY(tc_entry) lru;        /* most recently used first */
	struct tc_entry *next;            /* in its bucket */
	char key[TC_KEY_MAX + 1];
	size_t len;                       /* counted against max_bytes */
	int failed;                       /* png holds the reason, a string */
	unsigned char png[];
};

TAILQ_HEAD(tc_list, tc_entry);

struct thumbcache {
	struct tc_list lru;
	struct tc_entry *bucket[TC_BUCKETS];
	size_t max_bytes, bytes, count;
};

struct thumbcache *
thumbcache_new(size_t max_bytes)
{
	struct thumbcache *tc;

	if ((tc = calloc(1, sizeof(*tc))) == NULL)
		return NULL;
	TAILQ_INIT(&tc->lru);
	tc->max_bytes = max_bytes;
	return tc;
}

void
thumbcache_free(struct thumbcache *tc)
{
	struct tc_entry *e;

	if (tc == NULL)
		return;
	while ((e = TAILQ_FIRST(&tc->lru)) != NULL) {
		TAILQ_REMOVE(&tc->lru, e, lru);
		free(e);
	}
	free(tc);
}

static struct tc_entry **
slot(struct thumbcache *tc, const char *key)
{
	uint32_t h = 2166136261u;
	struct tc_entry **p;
	const char *s;

	for (s = key; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	for (p = &tc->bucket[h % TC_BUCKETS]; *p != NULL; p = &(*p)->next)
		if (strcmp((*p)->key, key) == 0)
			break;
	return p;
}

/* Unlinks the entry at *p from its bucket and the list, and frees it. */
static void
drop(struct thumbcache *tc, struct tc_entry **p)
{
	struct tc_entry *e = *p;

	*p = e->next;
	TAILQ_REMOVE(&tc->lru, e, lru);
	tc->bytes -= e->len;
	tc->count--;
	free(e);
}

/* The entry of sha256, made most recently used, or NULL. */
static struct tc_entry *
find(struct thumbcache *tc, const char *sha256)
{
	struct tc_entry *e;

	if (strlen(sha256) > TC_KEY_MAX || (e = *slot(tc, sha256)) == NULL)
		return NULL;
	TAILQ_REMOVE(&tc->lru, e, lru);
	TAILQ_INSERT_HEAD(&tc->lru, e, lru);
	return e;
}

const unsigned char *
thumbcache_get(struct thumbcache *tc, const char *sha256, size_t *len)
{
	struct tc_entry *e = find(tc, sha256);

	if (e == NULL || e->failed)
		return NULL;
	*len = e->len;
	return e->png;
}

const char *
thumbcache_failure(struct thumbcache *tc, const char *sha256)
{
	struct tc_entry *e = find(tc, sha256);

	return e != NULL && e->failed ? (const char *)e->png : NULL;
}

/* Stores size bytes of data under sha256, counted as len. */
static int
put(struct thumbcache *tc, const char *sha256, const void *data,
    size_t size, size_t len, int failed)
{
	struct tc_entry **p, *e;

	if (strlen(sha256) > TC_KEY_MAX)
		return -1;
	if (*(p = slot(tc, sha256)) != NULL)
		drop(tc, p);
	if (len > tc->max_bytes)
		return 0;
	while (tc->bytes + len > tc->max_bytes &&
	    (e = TAILQ_LAST(&tc->lru, tc_list)) != NULL)
		drop(tc, slot(tc, e->key));
	if ((e = malloc(sizeof(*e) + size)) == NULL)
		return -1;
	memcpy(e->key, sha256, strlen(sha256) + 1);
	memcpy(e->png, data, size);
	e->len = len;
	e->failed = failed;
	p = slot(tc, sha256);
	e->next = NULL;
	*p = e;
	TAILQ_INSERT_HEAD(&tc->lru, e, lru);
	tc->bytes += len;
	tc->count++;
	return 0;
}

int
thumbcache_put(struct thumbcache *tc, const char *sha256,
    const unsigned char *png, size_t len)
{
	return put(tc, sha256, png, len, len, 0);
}

int
thumbcache_put_failure(struct thumbcache *tc, const char *sha256,
    const char *reason)
{
	size_t size = strlen(reason) + 1;

	return put(tc, sha256, reason, size, size > THUMBCACHE_FAILURE_BYTES ?
	    size : THUMBCACHE_FAILURE_BYTES, 1);
}

size_t
thumbcache_count(const struct thumbcache *tc)
{
	return tc->count;
}

size_t
thumbcache_bytes(const struct thumbcache *tc)
{
	return tc->bytes;
}
