/* thumbpool.h: thumbnails made beside the event loop: a few worker threads
 * and a bounded queue; results come back on the loop's thread. */
#ifndef IMGEDIT_THUMBPOOL_H
#define IMGEDIT_THUMBPOOL_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "thumb.h"

struct thumbpool;

#define THUMBPOOL_KEY_MAX 64

/* One thumbnail's outcome: ok with t (the callee owns t.png), or err. */
struct thumbpool_result {
	char key[THUMBPOOL_KEY_MAX + 1]; /* as submitted */
	int ok;
	struct thumb t;
	char err[256];
};

/* Called on the loop's thread for each finished job, with its arg. */
typedef void thumbpool_done_fn(void *arg, struct thumbpool_result *res);

/* A pool of threads decoding on base's behalf, at most queue_max jobs
 * waiting. Returns it (caller owns: thumbpool_free) or NULL. */
struct thumbpool *thumbpool_new(struct event_base *base, int threads,
    int queue_max, thumbpool_done_fn *done);

/* Queues a thumbnail of data[0..len) (taken on success: freed by the
 * pool) fitting max_side, reported with key (at most THUMBPOOL_KEY_MAX
 * bytes, e.g. the image's SHA-256) and arg. Returns 0, or -1 when the
 * queue is full, the key too long or out of memory (data stays the
 * caller's). */
int thumbpool_submit(struct thumbpool *tp, const char *key,
    unsigned char *data, size_t len, uint32_t max_side, void *arg);

/* Jobs queued or being decoded. */
size_t thumbpool_pending(const struct thumbpool *tp);

/* Stops the threads (a decode under way ends within THUMB_MAX_MS) and
 * frees the pool; jobs not yet reported are dropped without a call. */
void thumbpool_free(struct thumbpool *tp);

#endif
