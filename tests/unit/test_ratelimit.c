/* test_ratelimit.c: the token buckets on an injected clock: pacing, bursts,
 * image costs, the global block and adaptation to x-ratelimit headers. */
#include <stdio.h>

#include "ratelimit.h"
#include "testutil.h"

/* Starts as many requests as the limiter allows over span ms. */
static int
run(struct ratelimit *rl, int images, int64_t start, int64_t span)
{
	int64_t t = start, w;
	int n = 0;

	while (t < start + span) {
		w = ratelimit_wait_ms(rl, images, t);
		if (w == 0) {
			ratelimit_take(rl, images, t);
			n++;
		} else
			t += w;
	}
	return n;
}

static void
test_pacing(void)
{
	struct ratelimit rl;
	int n;

	ratelimit_init(&rl, 60, 0, 0);
	/* one per second, burst of one: 60 in a minute, 61 counting t=0 */
	n = run(&rl, 1, 0, 60000);
	CHECK(n >= 60 && n <= 61);
	CHECK_INT(ratelimit_wait_ms(&rl, 1, 60000) > 0, 1);

	ratelimit_init(&rl, 600, 0, 0);
	n = run(&rl, 1, 0, 60000);
	CHECK(n >= 600 && n <= 611);

	/* unlimited */
	ratelimit_init(&rl, 0, 0, 0);
	CHECK_INT(ratelimit_wait_ms(&rl, 10, 0), 0);
	ratelimit_take(&rl, 10, 0);
	CHECK_INT(ratelimit_wait_ms(&rl, 10, 0), 0);
}

static void
test_images(void)
{
	struct ratelimit rl;
	int n;

	/* 120 images/min, jobs of 4 images: 30 jobs a minute */
	ratelimit_init(&rl, 0, 120, 0);
	n = run(&rl, 4, 0, 60000);
	CHECK(n >= 29 && n <= 31);
	/* a job larger than the bucket still runs, and pays its full cost */
	ratelimit_init(&rl, 0, 60, 0);
	n = run(&rl, 10, 0, 60000);
	CHECK(n >= 6 && n <= 7);
}

static void
test_block_and_headers(void)
{
	struct ratelimit rl;
	struct ratelimit_headers h;
	int64_t ms = 0;

	ratelimit_init(&rl, 6000, 0, 0);
	ratelimit_block_until(&rl, 1500);
	CHECK_INT(ratelimit_wait_ms(&rl, 1, 0), 1500);
	CHECK_INT(ratelimit_wait_ms(&rl, 1, 1000), 500);
	CHECK_INT(ratelimit_wait_ms(&rl, 1, 1500), 0);
	/* an earlier block never shortens a later one */
	ratelimit_block_until(&rl, 3000);
	ratelimit_block_until(&rl, 2000);
	CHECK_INT(ratelimit_wait_ms(&rl, 1, 1500), 1500);

	ratelimit_init(&rl, 6000, 0, 0);
	ratelimit_headers_clear(&h);
	ratelimit_observe(&rl, &h, 0);
	CHECK_INT(ratelimit_wait_ms(&rl, 1, 0), 0);
	h.remaining_requests = 0;
	h.reset_requests_ms = 850;
	ratelimit_observe(&rl, &h, 100);
	CHECK_INT(ratelimit_wait_ms(&rl, 1, 100), 850);
	CHECK_INT(ratelimit_wait_ms(&rl, 1, 950), 0);
	/* remaining lower than our burst: we spend only that */
	ratelimit_init(&rl, 6000, 0, 0); /* burst 100 */
	ratelimit_headers_clear(&h);
	h.remaining_requests = 2;
	h.reset_requests_ms = 1000;
	ratelimit_observe(&rl, &h, 0);
	CHECK_INT(run(&rl, 1, 0, 1), 2);
	/* token budget exhausted */
	ratelimit_init(&rl, 0, 0, 0);
	ratelimit_headers_clear(&h);
	h.remaining_tokens = 0;
	h.reset_tokens_ms = 6000;
	ratelimit_observe(&rl, &h, 0);
	CHECK_INT(ratelimit_wait_ms(&rl, 1, 0), 6000);

	CHECK_INT(ratelimit_parse_reset("1s", &ms), 0);
	CHECK_INT(ms, 1000);
	CHECK_INT(ratelimit_parse_reset("6m0s", &ms), 0);
	CHECK_INT(ms, 360000);
	CHECK_INT(ratelimit_parse_reset("850ms", &ms), 0);
	CHECK_INT(ms, 850);
	CHECK_INT(ratelimit_parse_reset("1h2m3.5s", &ms), 0);
	CHECK_INT(ms, 3723500);
	CHECK_INT(ratelimit_parse_reset("0.25s", &ms), 0);
	CHECK_INT(ms, 250);
	CHECK_INT(ratelimit_parse_reset("", &ms), -1);
	CHECK_INT(ratelimit_parse_reset("5", &ms), -1);
	CHECK_INT(ratelimit_parse_reset("5x", &ms), -1);
	CHECK_INT(ratelimit_parse_reset("-1s", &ms), -1);
	CHECK_INT(ratelimit_parse_reset("nans", &ms), -1);
	CHECK_INT(ratelimit_parse_reset("999999h", &ms), -1);
}

int
main(void)
{
	test_pacing();
	test_images();
	test_block_and_headers();
	return tu_finish("test_ratelimit");
}
