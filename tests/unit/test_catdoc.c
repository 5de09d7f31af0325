/* test_catdoc.c: the catalog documents both backends build: params in one
 * key order whatever the writer's (or jsonb's), rows fixed up the same,
 * the status parts, the SHA-256 check, the growing id arrays. */
#include <stdlib.h>
#include <string.h>

#include "catdoc.h"
#include "testutil.h"

/* j as compact JSON, in the document's own key order. */
static char *
dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

static void
check_dump(const json_t *j, const char *want)
{
	char *got = dump(j);

	CHECK_STR(got, want);
	free(got);
}

static void
test_sorted(void)
{
	/* SQLite keeps the writer's order, jsonb its own (length first) */
	json_t *a = json_loads("{\"size\":\"1024x1024\",\"n\":2,\"prompt\":\"p\","
	    "\"x\":{\"z\":[{\"b\":1,\"a\":2}],\"a\":null}}", 0, NULL);
	json_t *b = json_loads("{\"n\": 2, \"x\": {\"a\": null, \"z\": [{\"a\": 2, "
	    "\"b\": 1}]}, \"size\": \"1024x1024\", \"prompt\": \"p\"}", 0, NULL);
	json_t *sa = catdoc_sorted(a), *sb = catdoc_sorted(b), *s;

	check_dump(sa, "{\"n\":2,\"prompt\":\"p\",\"size\":\"1024x1024\","
	    "\"x\":{\"a\":null,\"z\":[{\"a\":2,\"b\":1}]}}");
	check_dump(sb, "{\"n\":2,\"prompt\":\"p\",\"size\":\"1024x1024\","
	    "\"x\":{\"a\":null,\"z\":[{\"a\":2,\"b\":1}]}}");
	s = catdoc_sorted(json_array_get(json_object_get(json_object_get(a, "x"),
	    "z"), 0));
	check_dump(s, "{\"a\":2,\"b\":1}");
	json_decref(s);
	s = catdoc_sorted(json_object_get(a, "n"));  /* a scalar: itself */
	CHECK(s == json_object_get(a, "n"));
	json_decref(s);
	json_decref(a);
	json_decref(b);
	json_decref(sa);
	json_decref(sb);
}

static void
test_job(void)
{
	json_t *o;

	o = json_loads("{\"id\":7,\"params\":\"{\\\"prompt\\\":\\\"p\\\","
	    "\\\"model\\\":\\\"gpt-image-1\\\",\\\"b\\\":1}\",\"error_status\":"
	    "null,\"error_type\":\"invalid_request_error\",\"error_code\":"
	    "\"moderation_blocked\",\"error_message\":\"no\",\"error_request_id\":"
	    "null,\"input_tokens\":3,\"output_tokens\":4,\"total_tokens\":7}", 0,
	    NULL);
	catdoc_job_usage(o);
	check_dump(o, "{\"id\":7,\"params\":{\"b\":1,\"model\":\"gpt-image-1\","
	    "\"prompt\":\"p\"},\"model\":\"gpt-image-1\",\"error\":{\"status\":null,"
	    "\"type\":\"invalid_request_error\",\"code\":\"moderation_blocked\","
	    "\"message\":\"no\",\"request_id\":null},\"usage\":{\"input_tokens\":3,"
	    "\"output_tokens\":4,\"total_tokens\":7}}");
	json_decref(o);

	/* params a row from another program left: not an object, not JSON */
	o = json_loads("{\"params\":\"[1,2]\",\"error_status\":null}", 0, NULL);
	catdoc_job(o);
	check_dump(o, "{\"params\":[1,2],\"model\":null,\"error\":null}");
	json_decref(o);
	o = json_loads("{\"params\":\"not json\"}", 0, NULL);
	catdoc_job(o);
	check_dump(o, "{\"params\":\"not json\",\"model\":null,\"error\":null}");
	json_decref(o);
}

static void
test_attempt_and_page(void)
{
	json_t *o = json_loads("{\"number\":1,\"usage\":\"{\\\"total_tokens\\\": 3, "
	    "\\\"input_tokens\\\": 1}\",\"error_type\":null,\"error_code\":null,"
	    "\"error_message\":null}", 0, NULL);
	json_t *jobs = json_loads("[{\"id\":2},{\"id\":1}]", 0, NULL);
	json_t *imgs = json_loads("[{\"id\":5,\"job_id\":1},{\"id\":6,\"job_id\":"
	    "1},{\"id\":7,\"job_id\":9}]", 0, NULL);

	catdoc_attempt(o);
	check_dump(o, "{\"number\":1,\"usage\":{\"input_tokens\":1,"
	    "\"total_tokens\":3},\"error\":null}");
	catdoc_page_attach(jobs, imgs);
	check_dump(jobs, "[{\"id\":2,\"images\":[]},{\"id\":1,\"images\":"
	    "[{\"id\":5},{\"id\":6}]}]");
	json_decref(o);
	json_decref(jobs);
	json_decref(imgs);
}

static void
test_status_parts(void)
{
	const int64_t tokens[3] = { 1, 2, 3 };
	json_t *c = catdoc_state_counts(), *doc = json_object();

	catdoc_count_state(c, "failed", 2);
	catdoc_count_state(c, "queued", 5);
	check_dump(c, "{\"queued\":5,\"running\":0,\"retry_wait\":0,"
	    "\"succeeded\":0,\"failed\":2,\"canceled\":0,\"total\":7}");
	catdoc_totals(doc, tokens, 4, 5, 6, 7);
	catdoc_pause(doc, json_string("disk swap"));
	check_dump(doc, "{\"tokens\":{\"input\":1,\"output\":2,\"total\":3},"
	    "\"finished\":{\"last_minute\":4,\"last_hour\":5},\"images\":"
	    "{\"final\":6,\"partial\":7},\"pause\":{\"paused\":true,\"reason\":"
	    "\"disk swap\"}}");
	catdoc_pause(doc, NULL);
	check_dump(json_object_get(doc, "pause"), "{\"paused\":false,"
	    "\"reason\":null}");
	json_decref(c);
	json_decref(doc);
}

static void
test_small(void)
{
	const char *hex = "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef";
	char out[65];
	int64_t *v = NULL;
	size_t len = 0, cap = 0, i;
	json_t *t;
	unsigned char bad[] = { 'a', 0xff, 'b' };

	catdoc_sha256(hex, 64, out);
	CHECK_STR(out, hex);
	catdoc_sha256("0123456789ABCDEF0123456789abcdef0123456789abcdef"
	    "0123456789abcdef", 64, out);
	CHECK_STR(out, "");
	catdoc_sha256(hex, 63, out);
	CHECK_STR(out, "");
	catdoc_sha256(NULL, 0, out);
	CHECK_STR(out, "");
	for (i = 0; i < 1000; i++)
		CHECK_INT(catdoc_push(&v, &len, &cap, (int64_t)i * 3), 0);
	CHECK_INT(len, 1000);
	CHECK_INT(v[999], 2997);
	free(v);
	t = catdoc_text(bad, sizeof(bad));
	CHECK_STR(json_string_value(t), "a?b");
	json_decref(t);
}

/* A period of spending: each model's cost is its known costs plus the
 * reserves of its attempts of unknown cost; "all" sums the models; a
 * model without attempts in the period is left out. */
static void
test_spent(void)
{
	json_t *rows = json_pack("[{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
	    "s:I},{s:n,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}]",
	    "model", "gpt-image-2", "p1_attempts", 3, "p1_running", 1,
	    "p1_input_tokens", 100, "p1_output_tokens", 1000,
	    "p1_total_tokens", 1100, "p1_known_usd_micro", 21072,
	    "p1_unknown", 2, "p1_unknown_reserved_usd_micro", 500,
	    "p1_unknown_unreserved", 1, "p0_attempts", 0,
	    "model", "p1_attempts", 1, "p1_running", 0, "p1_input_tokens", 5,
	    "p1_output_tokens", 7, "p1_total_tokens", 12,
	    "p1_known_usd_micro", 3, "p1_unknown", 0,
	    "p1_unknown_reserved_usd_micro", 0, "p1_unknown_unreserved", 0,
	    "p0_attempts", 1);
	json_t *p = catdoc_spent(1000, 2000, rows, "p1_"), *all, *m;
	int64_t v[9] = { 4, 100, 1, 50, 120, 1, 1, 1, 1 };

	CHECK(p != NULL);
	CHECK_INT(json_integer_value(json_object_get(p, "start")), 1000);
	CHECK_INT(json_integer_value(json_object_get(p, "end")), 2000);
	m = json_array_get(json_object_get(p, "models"), 0);
	CHECK_STR(json_string_value(json_object_get(m, "model")), "gpt-image-2");
	CHECK_INT(json_integer_value(json_object_get(m, "cost_usd_micro")),
	    21572);
	CHECK_INT(json_integer_value(json_object_get(m, "running")), 1);
	all = json_object_get(p, "all");
	CHECK_INT(json_integer_value(json_object_get(all, "cost_usd_micro")),
	    21575);
	CHECK_INT(json_integer_value(json_object_get(all, "attempts")), 4);
	CHECK_INT(json_integer_value(json_object_get(all, "total_tokens")),
	    1112);
	CHECK_INT(json_integer_value(json_object_get(all,
	    "unknown_unreserved")), 1);
	json_decref(p);
	/* the other period: only the model with attempts in it */
	p = catdoc_spent(0, 1000, rows, "p0_");
	CHECK_INT(json_array_size(json_object_get(p, "models")), 1);
	CHECK(json_is_null(json_object_get(json_array_get(json_object_get(p,
	    "models"), 0), "model")));
	CHECK_INT(json_integer_value(json_object_get(json_object_get(p, "all"),
	    "attempts")), 1);
	json_decref(p);
	json_decref(rows);
	/* a job without an upper bound: no upper bound in all */
	p = catdoc_estimates(v);
	CHECK(json_is_null(json_object_get(p, "estimate_hi_usd_micro")));
	CHECK_INT(json_integer_value(json_object_get(p, "actual_usd_micro")),
	    120);
	json_decref(p);
	v[2] = 0;
	p = catdoc_estimates(v);
	CHECK_INT(json_integer_value(json_object_get(p,
	    "estimate_hi_usd_micro")), 50);
	json_decref(p);
}

int
main(void)
{
	test_sorted();
	test_job();
	test_attempt_and_page();
	test_status_parts();
	test_small();
	test_spent();
	return tu_finish("test_catdoc");
}
