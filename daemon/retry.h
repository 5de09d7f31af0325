/* retry.h: what to do after a failed attempt (retry, fail, pause everything)
 * and how long to wait: backoff with jitter, Retry-After. Pure logic. */
#ifndef IMGEDIT_RETRY_H
#define IMGEDIT_RETRY_H

#include <stdint.h>

#include "upstream.h"

enum retry_verdict {
	VERDICT_SUCCESS,    /* the attempt delivered its images */
	VERDICT_RETRY,      /* transient: try again after a delay */
	VERDICT_FAIL,       /* permanent: the job fails with this error */
	VERDICT_PAUSE,      /* the account cannot work (key, quota): pause all */
};

struct retry_policy {
	int64_t base_ms;          /* first backoff step */
	int64_t cap_ms;           /* largest computed backoff */
	int64_t retry_after_cap_ms; /* largest delay a server may ask for */
};

/* Classifies an attempt's outcome (SPEC §3). x-should-retry overrides the
 * class of transient and permanent errors, never a pause. */
enum retry_verdict retry_classify(const struct edit_outcome *out);

/* Human name of a verdict: "success", "retry", "fail", "pause". */
const char *retry_verdict_name(enum retry_verdict v);

/* Delay before attempt number `attempt` + 1, after `attempt` failed ones:
 * min(cap, base * 2^(attempt-1)) with equal jitter from rnd (any 32-bit
 * random value). A server's Retry-After (retry_after_ms >= 0) replaces it,
 * capped by retry_after_cap_ms. */
int64_t retry_delay_ms(const struct retry_policy *p, int attempt,
    int64_t retry_after_ms, uint32_t rnd);

/* Parses a Retry-After value: seconds (fractions allowed) or an HTTP date
 * (relative to now_ms), or with in_ms a retry-after-ms value. Returns 0 with
 * *out_ms >= 0, or -1 when it is neither. */
int retry_after_parse(const char *value, int in_ms, int64_t now_ms,
    int64_t *out_ms);

#endif
