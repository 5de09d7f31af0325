/* ratelimit.c: requests/min and images/min token buckets shared by every job,
 * plus the global block after a 429 or an exhausted header budget. */
#include "ratelimit.h"

#include <stdlib.h>
#include <string.h>

static void
bucket_init(struct bucket *b, double per_minute)
{
	b->per_ms = per_minute > 0 ? per_minute / 60000.0 : 0;
	b->capacity = per_minute / 60.0 < 1 ? 1 : per_minute / 60.0;
	b->tokens = b->capacity;
}

void
ratelimit_init(struct ratelimit *rl, double rpm, double ipm, int64_t now)
{
	memset(rl, 0, sizeof(*rl));
	bucket_init(&rl->requests, rpm);
	bucket_init(&rl->images, ipm);
	rl->last_ms = now;
}

static void refill(struct ratelimit *rl, int64_t now);

void
ratelimit_set_rates(struct ratelimit *rl, double rpm, double ipm, int64_t now)
{
	struct bucket req, img;

	refill(rl, now);
	req = rl->requests;
	img = rl->images;
	bucket_init(&rl->requests, rpm);
	bucket_init(&rl->images, ipm);
	/* what was spent stays spent: no fresh burst from a reload */
	if (req.per_ms > 0 && rl->requests.per_ms > 0 &&
	    req.tokens < rl->requests.tokens)
		rl->requests.tokens = req.tokens;
	if (img.per_ms > 0 && rl->images.per_ms > 0 &&
	    img.tokens < rl->images.tokens)
		rl->images.tokens = img.tokens;
}

static void
refill(struct ratelimit *rl, int64_t now)
{
	struct bucket *b[2] = { &rl->requests, &rl->images };
	double dt = (double)(now - rl->last_ms);
	int i;

	if (dt <= 0)
		return;
	for (i = 0; i < 2; i++) {
		b[i]->tokens += dt * b[i]->per_ms;
		if (b[i]->tokens > b[i]->capacity)
			b[i]->tokens = b[i]->capacity;
	}
	rl->last_ms = now;
}

/* A request waits for at most a full bucket, or a request larger than the
 * bucket would never start; it then takes its whole cost, going into debt,
 * so the long-run rate stays exact. */
static double
threshold(const struct bucket *b, double want)
{
	return want > b->capacity ? b->capacity : want;
}

static int64_t
bucket_wait(const struct bucket *b, double want)
{
	double missing = threshold(b, want) - b->tokens;

	if (b->per_ms == 0 || missing <= 0)
		return 0;
	return (int64_t)(missing / b->per_ms) + 1;
}

int64_t
ratelimit_wait_ms(struct ratelimit *rl, int images, int64_t now)
{
	int64_t w, wi;

	refill(rl, now);
	w = bucket_wait(&rl->requests, 1);
	wi = bucket_wait(&rl->images, images > 0 ? images : 1);
	if (wi > w)
		w = wi;
	if (rl->blocked_until - now > w)
		w = rl->blocked_until - now;
	return w;
}

void
ratelimit_take(struct ratelimit *rl, int images, int64_t now)
{
	refill(rl, now);
	if (rl->requests.per_ms > 0)
		rl->requests.tokens -= 1;
	if (rl->images.per_ms > 0)
		rl->images.tokens -= images > 0 ? images : 1;
}

void
ratelimit_block_until(struct ratelimit *rl, int64_t until)
{
	if (until > rl->blocked_until)
		rl->blocked_until = until;
}

void
ratelimit_observe(struct ratelimit *rl, const struct ratelimit_headers *h,
    int64_t now)
{
	refill(rl, now);
	if (h->remaining_requests == 0 && h->reset_requests_ms >= 0)
		ratelimit_block_until(rl, now + h->reset_requests_ms);
	if (h->remaining_tokens == 0 && h->reset_tokens_ms >= 0)
		ratelimit_block_until(rl, now + h->reset_tokens_ms);
	/* The server's budget is smaller than our bucket: spend no more. */
	if (h->remaining_requests >= 0 && rl->requests.per_ms > 0 &&
	    (double)h->remaining_requests < rl->requests.tokens)
		rl->requests.tokens = (double)h->remaining_requests;
}

int
ratelimit_parse_reset(const char *s, int64_t *ms)
{
	double total = 0, v;
	char *end;
	int parts = 0;

	while (*s != '\0') {
		v = strtod(s, &end);
		if (end == s || !(v >= 0))
			return -1;
		s = end;
		if (strncmp(s, "ms", 2) == 0) {
			s += 2;
		} else if (*s == 'h') {
			v *= 3600000.0;
			s++;
		} else if (*s == 'm') {
			v *= 60000.0;
			s++;
		} else if (*s == 's') {
			v *= 1000.0;
			s++;
		} else {
			return -1;
		}
		total += v;
		parts++;
	}
	if (parts == 0 || total > 86400000.0 * 7)
		return -1;
	*ms = (int64_t)(total + 0.5);
	return 0;
}

void
ratelimit_headers_clear(struct ratelimit_headers *h)
{
	h->limit_requests = h->remaining_requests = h->reset_requests_ms = -1;
	h->limit_tokens = h->remaining_tokens = h->reset_tokens_ms = -1;
}
