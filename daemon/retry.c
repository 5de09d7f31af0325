/* retry.c: classification of failed attempts (transient, permanent, pause)
 * and the delay before the next one. No I/O, no clock: callers pass time in. */
#include "retry.h"

#include <math.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

const char *
retry_verdict_name(enum retry_verdict v)
{
	static const char *const names[] = { "success", "retry", "fail", "pause" };

	return names[v];
}

static int
is(const char *s, const char *want)
{
	return s != NULL && strcmp(s, want) == 0;
}

/* 401/403 and an exhausted quota stop the whole account, not one job. */
static int
is_pause(const struct edit_outcome *out)
{
	if (out->status != EDIT_HTTP_ERROR && out->status != EDIT_ERROR_EVENT)
		return 0;
	if (out->http_status == 401 || out->http_status == 403)
		return 1;
	return is(out->error_code, "insufficient_quota") ||
	    is(out->error_type, "insufficient_quota");
}

static enum retry_verdict
classify_http(long status)
{
	if (status == 408 || status == 409 || status == 429 || status >= 500)
		return VERDICT_RETRY;
	return VERDICT_FAIL; /* 400 (incl. moderation), 404, 413, 422, ... */
}

/* An error frame inside a 200 stream: the client's fault or the server's. */
static enum retry_verdict
classify_error_event(const struct edit_outcome *out)
{
	static const char *const client[] = { "invalid_request_error",
	    "image_generation_user_error", "moderation_blocked",
	    "content_policy_violation", NULL };
	int i;

	for (i = 0; client[i] != NULL; i++)
		if (is(out->error_type, client[i]) || is(out->error_code, client[i]))
			return VERDICT_FAIL;
	return VERDICT_RETRY;
}

static enum retry_verdict
classify_transport(int curl_code)
{
	switch (curl_code) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_OUT_OF_MEMORY:
		return VERDICT_FAIL;
	default:
		return VERDICT_RETRY; /* connect, DNS, TLS, read, timeouts */
	}
}

enum retry_verdict
retry_classify(const struct edit_outcome *out)
{
	enum retry_verdict v;

	if (out->status == EDIT_OK)
		return out->finals > 0 ? VERDICT_SUCCESS : VERDICT_RETRY;
	if (out->status == EDIT_TOO_LARGE || out->status == EDIT_REFUSED)
		return VERDICT_FAIL; /* the same answer would come again */
	if (is_pause(out))
		return VERDICT_PAUSE;
	switch (out->status) {
	case EDIT_HTTP_ERROR: v = classify_http(out->http_status); break;
	case EDIT_ERROR_EVENT: v = classify_error_event(out); break;
	case EDIT_TRANSPORT: v = classify_transport(out->curl_code); break;
	case EDIT_TRUNCATED: case EDIT_BAD_RESPONSE: v = VERDICT_RETRY; break;
	default: v = VERDICT_FAIL; break;
	}
	if (out->should_retry == 1)
		v = VERDICT_RETRY;
	else if (out->should_retry == 0)
		v = VERDICT_FAIL;
	return v;
}

int64_t
retry_delay_ms(const struct retry_policy *p, int attempt, int64_t retry_after_ms,
    uint32_t rnd)
{
	int64_t d = p->base_ms;
	int i;

	if (retry_after_ms >= 0)
		return retry_after_ms < p->retry_after_cap_ms ? retry_after_ms :
		    p->retry_after_cap_ms;
	for (i = 1; i < attempt && d < p->cap_ms; i++)
		d *= 2;
	if (d > p->cap_ms)
		d = p->cap_ms;
	/* equal jitter: half fixed, half random, so retries spread out */
	return d / 2 + (d > 1 ? (int64_t)(rnd % (uint64_t)(d / 2 + 1)) : 0);
}

int
retry_after_parse(const char *value, int in_ms, int64_t now_ms, int64_t *out_ms)
{
	char *end;
	double d;
	time_t t;

	while (*value == ' ' || *value == '\t')
		value++;
	d = strtod(value, &end);
	if (end != value && (*end == '\0' || *end == ' ') && d >= 0 &&
	    isfinite(d) && d < 1e12) {
		*out_ms = (int64_t)(in_ms ? d : d * 1000);
		return 0;
	}
	/* a date past 9999 is no date a server means (and its milliseconds
	 * overflow: found by fuzz_headers) */
	if (in_ms || (t = curl_getdate(value, NULL)) == -1 || t < 0 ||
	    t > 253402300799)
		return -1;
	*out_ms = (int64_t)t * 1000 - now_ms;
	if (*out_ms < 0)
		*out_ms = 0;
	return 0;
}
