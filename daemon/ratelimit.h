/* ratelimit.h: token buckets for requests and images per minute, and the
 * global block a 429 or an exhausted x-ratelimit header imposes. Pure logic. */
#ifndef IMGEDIT_RATELIMIT_H
#define IMGEDIT_RATELIMIT_H

#include <stdint.h>

struct bucket {
	double tokens, capacity;
	double per_ms;               /* refill rate; 0 = unlimited */
};

struct ratelimit {
	struct bucket requests, images;
	int64_t last_ms;             /* time of the last refill */
	int64_t blocked_until;       /* no request starts before this */
};

/* x-ratelimit-* response headers; -1 where absent. */
struct ratelimit_headers {
	int64_t limit_requests, remaining_requests, reset_requests_ms;
	int64_t limit_tokens, remaining_tokens, reset_tokens_ms;
};

/* rpm / ipm of 0 mean no limit. Bursts hold one second's worth (at least 1). */
void ratelimit_init(struct ratelimit *rl, double rpm, double ipm, int64_t now);

/* New rates (SIGHUP); the block and what was spent of the buckets stay. */
void ratelimit_set_rates(struct ratelimit *rl, double rpm, double ipm,
    int64_t now);

/* How long until a request for `images` images may start: 0 = now. */
int64_t ratelimit_wait_ms(struct ratelimit *rl, int images, int64_t now);
/* Takes the tokens of a request that starts now. */
void ratelimit_take(struct ratelimit *rl, int images, int64_t now);

/* No request starts before until (a 429's retry-after: everyone waits). */
void ratelimit_block_until(struct ratelimit *rl, int64_t until);

/* Adapts to what the server said: an exhausted budget blocks until its
 * reset; a remaining budget below ours lowers ours. */
void ratelimit_observe(struct ratelimit *rl, const struct ratelimit_headers *h,
    int64_t now);

/* Parses a reset duration as OpenAI sends it: "1s", "6m0s", "850ms",
 * "1h2m3.5s". Returns 0 or -1. */
int ratelimit_parse_reset(const char *s, int64_t *ms);

/* Marks every field absent. */
void ratelimit_headers_clear(struct ratelimit_headers *h);

#endif
