/* test_retry.c: classification of every kind of failed attempt, backoff
 * growth, cap and jitter, and Retry-After in seconds, ms and HTTP dates. */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "retry.h"
#include "testutil.h"

static struct edit_outcome
http(long status, const char *type, const char *code)
{
	struct edit_outcome o;

	memset(&o, 0, sizeof(o));
	o.status = EDIT_HTTP_ERROR;
	o.http_status = status;
	o.error_type = type;
	o.error_code = code;
	o.retry_after_ms = -1;
	o.should_retry = -1;
	return o;
}

static void
test_classify(void)
{
	static const struct { long status; const char *type, *code; int verdict; } cases[] = {
		{ 400, "invalid_request_error", NULL, VERDICT_FAIL },
		{ 400, "image_generation_user_error", "moderation_blocked", VERDICT_FAIL },
		{ 401, "invalid_request_error", "invalid_api_key", VERDICT_PAUSE },
		{ 403, NULL, NULL, VERDICT_PAUSE },
		{ 404, NULL, NULL, VERDICT_FAIL },
		{ 408, NULL, NULL, VERDICT_RETRY },
		{ 409, NULL, NULL, VERDICT_RETRY },
		{ 413, NULL, NULL, VERDICT_FAIL },
		{ 422, NULL, NULL, VERDICT_FAIL },
		{ 429, "requests", "rate_limit_exceeded", VERDICT_RETRY },
		{ 429, "insufficient_quota", "insufficient_quota", VERDICT_PAUSE },
		{ 429, "tokens", NULL, VERDICT_RETRY },
		{ 500, "server_error", NULL, VERDICT_RETRY },
		{ 502, NULL, NULL, VERDICT_RETRY },
		{ 503, NULL, NULL, VERDICT_RETRY },
		{ 504, NULL, NULL, VERDICT_RETRY },
	};
	struct edit_outcome o;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = http(cases[i].status, cases[i].type, cases[i].code);
		if ((int)retry_classify(&o) != cases[i].verdict)
			fprintf(stderr, "case %zu: HTTP %ld\n", i, cases[i].status);
		CHECK_INT(retry_classify(&o), cases[i].verdict);
	}
	/* x-should-retry overrides both ways, but never a pause */
	o = http(500, "server_error", NULL);
	o.should_retry = 0;
	CHECK_INT(retry_classify(&o), VERDICT_FAIL);
	o = http(400, "invalid_request_error", NULL);
	o.should_retry = 1;
	CHECK_INT(retry_classify(&o), VERDICT_RETRY);
	o = http(401, NULL, NULL);
	o.should_retry = 1;
	CHECK_INT(retry_classify(&o), VERDICT_PAUSE);

	/* transport errors and broken streams */
	memset(&o, 0, sizeof(o));
	o.should_retry = -1;
	o.status = EDIT_TRANSPORT;
	o.curl_code = CURLE_COULDNT_CONNECT;
	CHECK_INT(retry_classify(&o), VERDICT_RETRY);
	o.curl_code = CURLE_OPERATION_TIMEDOUT;
	CHECK_INT(retry_classify(&o), VERDICT_RETRY);
	o.curl_code = CURLE_COULDNT_RESOLVE_HOST;
	CHECK_INT(retry_classify(&o), VERDICT_RETRY);
	o.curl_code = CURLE_SSL_CONNECT_ERROR;
	CHECK_INT(retry_classify(&o), VERDICT_RETRY);
	o.curl_code = CURLE_RECV_ERROR;
	CHECK_INT(retry_classify(&o), VERDICT_RETRY);
	o.curl_code = CURLE_URL_MALFORMAT;
	CHECK_INT(retry_classify(&o), VERDICT_FAIL);
	o.status = EDIT_TRUNCATED;
	CHECK_INT(retry_classify(&o), VERDICT_RETRY);
	o.status = EDIT_BAD_RESPONSE;
	CHECK_INT(retry_classify(&o), VERDICT_RETRY);
	o.status = EDIT_ERROR_EVENT;
	o.http_status = 200;
	o.error_type = "server_error";
	CHECK_INT(retry_classify(&o), VERDICT_RETRY);
	o.error_type = "image_generation_user_error";
	o.error_code = "moderation_blocked";
	CHECK_INT(retry_classify(&o), VERDICT_FAIL);
	o.error_type = "insufficient_quota";
	o.error_code = NULL;
	CHECK_INT(retry_classify(&o), VERDICT_PAUSE);
	o.status = EDIT_OK;
	o.finals = 1;
	CHECK_INT(retry_classify(&o), VERDICT_SUCCESS);
	o.finals = 0;
	CHECK_INT(retry_classify(&o), VERDICT_RETRY);
	CHECK_STR(retry_verdict_name(VERDICT_PAUSE), "pause");
}

static void
test_backoff(void)
{
	struct retry_policy p = { 1000, 60000, 120000 };
	int64_t d, lo, hi;
	int a;
	uint32_t r;

	for (a = 1; a <= 12; a++) {
		int64_t step = 1000LL << (a - 1);
		if (step > 60000)
			step = 60000;
		lo = hi = -1;
		for (r = 0; r < 100000; r += 997) {
			d = retry_delay_ms(&p, a, -1, r * 2654435761u);
			if (lo < 0 || d < lo) lo = d;
			if (d > hi) hi = d;
		}
		/* equal jitter: within [step/2, step], and spread */
		CHECK(lo >= step / 2);
		CHECK(hi <= step);
		CHECK(hi - lo > step / 4);
	}
	/* the server's word wins, capped */
	CHECK_INT(retry_delay_ms(&p, 1, 1500, 12345), 1500);
	CHECK_INT(retry_delay_ms(&p, 7, 0, 12345), 0);
	CHECK_INT(retry_delay_ms(&p, 1, 999999, 1), 120000);
	/* huge attempt numbers do not overflow */
	d = retry_delay_ms(&p, 1000000, -1, 0xffffffffu);
	CHECK(d >= 30000 && d <= 60000);
}

static void
test_retry_after(void)
{
	int64_t ms = -1, now = 1700000000000LL; /* 2023-11-14T22:13:20Z */

	CHECK_INT(retry_after_parse("2", 0, now, &ms), 0);
	CHECK_INT(ms, 2000);
	CHECK_INT(retry_after_parse("0.5", 0, now, &ms), 0);
	CHECK_INT(ms, 500);
	CHECK_INT(retry_after_parse("1500", 1, now, &ms), 0);
	CHECK_INT(ms, 1500);
	CHECK_INT(retry_after_parse(" 3", 0, now, &ms), 0);
	CHECK_INT(ms, 3000);
	CHECK_INT(retry_after_parse("Tue, 14 Nov 2023 22:13:50 GMT", 0, now, &ms), 0);
	CHECK_INT(ms, 30000);
	/* a date in the past means now */
	CHECK_INT(retry_after_parse("Tue, 14 Nov 2023 22:00:00 GMT", 0, now, &ms), 0);
	CHECK_INT(ms, 0);
	CHECK_INT(retry_after_parse("Tue, 14 Nov 2023 22:13:50 GMT", 1, now, &ms), -1);
	CHECK_INT(retry_after_parse("soon", 0, now, &ms), -1);
	CHECK_INT(retry_after_parse("-5", 0, now, &ms), -1);
	CHECK_INT(retry_after_parse("", 0, now, &ms), -1);
	CHECK_INT(retry_after_parse("nan", 0, now, &ms), -1);
	CHECK_INT(retry_after_parse("1e300", 0, now, &ms), -1);
	/* a date whose milliseconds overflow (fuzz_headers) is no date */
	CHECK_INT(retry_after_parse("Sun, 06 Nov 999999999 08:49:37 GMT", 0, now,
	    &ms), -1);
	CHECK_INT(retry_after_parse("Fri, 31 Dec 9999 23:59:59 GMT", 0, now, &ms),
	    0);
	CHECK(ms > 0);
}

int
main(void)
{
	test_classify();
	test_backoff();
	test_retry_after();
	return tu_finish("test_retry");
}
