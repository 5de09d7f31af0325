/* test_budget.c: the budget settings, a job's hold (its estimate's high
 * end, and the bounds chosen where there is none) and the check of spent
 * + held + the job against each budget, per model and for all. */
#include <stdio.h>
#include <string.h>

#include "budget.h"
#include "estimate.h"
#include "testutil.h"

static void
test_parse(void)
{
	struct budget_limit l;
	char err[256];

	CHECK_INT(budget_kind_of("budget-daily-usd"), BUDGET_DAILY_USD);
	CHECK_INT(budget_kind_of("budget-monthly-usd"), BUDGET_MONTHLY_USD);
	CHECK_INT(budget_kind_of("budget-daily-tokens"), BUDGET_DAILY_TOKENS);
	CHECK_INT(budget_kind_of("budget-weekly-usd"), -1);
	CHECK(budget_monthly(BUDGET_MONTHLY_USD) && !budget_monthly(
	    BUDGET_DAILY_USD));
	CHECK(budget_in_usd(BUDGET_DAILY_USD) && !budget_in_usd(
	    BUDGET_DAILY_TOKENS));

	CHECK_INT(budget_parse(BUDGET_DAILY_USD, "50", &l, err, sizeof(err)), 0);
	CHECK_STR(l.model, "");
	CHECK_INT(l.limit, 50000000);
	CHECK_INT(budget_parse(BUDGET_DAILY_USD, " gpt-image-2  20.125 ", &l,
	    err, sizeof(err)), 0);
	CHECK_STR(l.model, "gpt-image-2");
	CHECK_INT(l.limit, 20125000);
	CHECK_INT(l.kind, BUDGET_DAILY_USD);
	CHECK_INT(budget_parse(BUDGET_MONTHLY_USD, "0.000001", &l, err,
	    sizeof(err)), 0);
	CHECK_INT(l.limit, 1);
	CHECK_INT(budget_parse(BUDGET_DAILY_TOKENS, "5000", &l, err,
	    sizeof(err)), 0);
	CHECK_INT(l.limit, 5000);
	CHECK_INT(budget_parse(BUDGET_DAILY_TOKENS, "0", &l, err, sizeof(err)),
	    0);
	CHECK_INT(l.limit, 0);

	/* refused, naming the item */
	CHECK_INT(budget_parse(BUDGET_DAILY_TOKENS, "50.5", &l, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "budget-daily-tokens: '50.5'") != NULL);
	CHECK_INT(budget_parse(BUDGET_DAILY_USD, "1.0000001", &l, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "'1.0000001'") != NULL);
	CHECK_INT(budget_parse(BUDGET_DAILY_USD, "-5", &l, err, sizeof(err)),
	    -1);
	CHECK_INT(budget_parse(BUDGET_DAILY_USD, "5.", &l, err, sizeof(err)),
	    -1);
	CHECK_INT(budget_parse(BUDGET_DAILY_USD, "2000000000", &l, err,
	    sizeof(err)), -1);
	CHECK_INT(budget_parse(BUDGET_DAILY_USD, "", &l, err, sizeof(err)), -1);
	CHECK(strstr(err, "expected [MODEL] AMOUNT") != NULL);
	CHECK_INT(budget_parse(BUDGET_DAILY_USD, "a b 5", &l, err,
	    sizeof(err)), -1);
	CHECK_INT(budget_parse(BUDGET_DAILY_USD, "gpt image 5", &l, err,
	    sizeof(err)), -1);
	CHECK_INT(budget_parse(BUDGET_DAILY_USD, "gpt*image 5", &l, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "'gpt*image' is not a model name") != NULL);
	CHECK_INT(budget_parse(BUDGET_DAILY_USD, "gpt-image-2 five", &l, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "'five'") != NULL);
}

static void
test_set(void)
{
	struct budget_set s;
	struct budget_limit l;
	char err[128], buf[256];
	int i;

	memset(&s, 0, sizeof(s));
	budget_format(&s, buf, sizeof(buf));
	CHECK_STR(buf, "");
	budget_parse(BUDGET_DAILY_USD, "50", &l, err, sizeof(err));
	CHECK_INT(budget_set_add(&s, &l), 0);
	budget_parse(BUDGET_DAILY_USD, "gpt-image-2 20", &l, err, sizeof(err));
	CHECK_INT(budget_set_add(&s, &l), 0);
	budget_parse(BUDGET_DAILY_TOKENS, "9000", &l, err, sizeof(err));
	CHECK_INT(budget_set_add(&s, &l), 0);
	/* the same kind and model again replaces it */
	budget_parse(BUDGET_DAILY_USD, "60.5", &l, err, sizeof(err));
	CHECK_INT(budget_set_add(&s, &l), 0);
	CHECK_INT(s.n, 3);
	budget_format(&s, buf, sizeof(buf));
	CHECK_STR(buf, "budget-daily-usd 60.5; budget-daily-usd gpt-image-2 "
	    "20; budget-daily-tokens 9000");
	for (i = 0; i < BUDGET_MAX; i++) {
		snprintf(buf, sizeof(buf), "m%d 1", i);
		budget_parse(BUDGET_MONTHLY_USD, buf, &l, err, sizeof(err));
		if (budget_set_add(&s, &l) == -1)
			break;
	}
	CHECK_INT(s.n, BUDGET_MAX);
	CHECK_INT(i, BUDGET_MAX - 3);
}

/* The hold is the estimate's high end, the same function submit's
 * --estimate prints. */
static void
test_need(void)
{
	struct estimate_job j = { "gpt-image-2", 2, "1024x1024", "low", 2, 30,
		NULL, 1, 1 };
	struct estimate_image img = { 0, 0 };
	struct budget_need need;
	struct estimate e;
	int64_t high_out;

	j.images = &img;
	estimate_job(NULL, &j, &e);
	budget_need_of(NULL, "{\"model\":\"gpt-image-2\",\"n\":2,\"size\":"
	    "\"1024x1024\",\"quality\":\"low\",\"partial_images\":2,"
	    "\"prompt\":\"a cat on a mat in a hat please\"}", 1, 1, 1, &need);
	CHECK_STR(need.model, "gpt-image-2");
	CHECK_INT(need.tokens, e.hi.text_in + e.hi.image_in + e.hi.output);
	CHECK_INT(need.usd, e.cost_hi);
	/* 30 prompt bytes + 32 x 3, twice; 1536 x 2 inputs, twice; (196 +
	 * 200) x 2 */
	CHECK_INT(need.tokens, 2 * (30 + 96) + 2 * 2 * 1536 + 2 * (196 + 200));
	/* not streamed: no partials */
	budget_need_of(NULL, "{\"model\":\"gpt-image-2\",\"n\":2,\"size\":"
	    "\"1024x1024\",\"quality\":\"low\",\"partial_images\":2,"
	    "\"prompt\":\"a cat on a mat in a hat please\"}", 0, 1, 1, &need);
	CHECK_INT(need.tokens, 2 * (30 + 96) + 2 * 2 * 1536 + 2 * 196);

	/* xhigh and max: twice high's output */
	high_out = estimate_output_tokens("high", 1536, 1024);
	budget_need_of(NULL, "{\"model\":\"gpt-image-2.6-flare\",\"size\":"
	    "\"1536x1024\",\"quality\":\"xhigh\",\"prompt\":\"\"}", 0, 0, 0,
	    &need);
	CHECK_INT(need.tokens, 32 + 2 * high_out);
	CHECK(need.usd > 0);
	budget_need_of(NULL, "{\"model\":\"gpt-image-2.6-flare\",\"size\":"
	    "\"1536x1024\",\"quality\":\"max\",\"partial_images\":3,"
	    "\"prompt\":\"\"}", 1, 0, 0, &need);
	CHECK_INT(need.tokens, 32 + 2 * high_out + 300);

	/* no table: gpt-image-2's tokens; a price only if one is known */
	budget_need_of(NULL, "{\"model\":\"local-diffusion\",\"size\":"
	    "\"1024x1024\",\"quality\":\"high\",\"prompt\":\"x\"}", 0, 0, 0,
	    &need);
	CHECK_STR(need.model, "local-diffusion");
	CHECK_INT(need.tokens, 1 + 32 + 7024);
	CHECK_INT(need.usd, -1);
	budget_need_of(NULL, "{\"model\":\"gpt-image-1\",\"size\":"
	    "\"1024x1024\",\"quality\":\"high\",\"prompt\":\"x\"}", 0, 0, 0,
	    &need);
	CHECK_INT(need.tokens, 1 + 32 + 7024);
	CHECK(need.usd > 0);	/* gpt-image-1 has a price */
	budget_need_of(NULL, "{\"size\":\"1024x1024\",\"quality\":\"high\","
	    "\"prompt\":\"x\"}", 0, 0, 0, &need);
	CHECK_STR(need.model, "");
	CHECK_INT(need.tokens, 1 + 32 + 7024);
	CHECK_INT(need.usd, -1);
	/* a size the table cannot read: the largest */
	budget_need_of(NULL, "{\"model\":\"gpt-image-2\",\"size\":\"huge\","
	    "\"quality\":\"high\",\"prompt\":\"\"}", 0, 0, 0, &need);
	CHECK_INT(need.tokens, 32 + estimate_output_tokens("high", 3840,
	    2160));
	/* a quality no table knows, on a model the daemon does not check
	 * (it is sent as is): held as xhigh, never as nothing */
	budget_need_of(NULL, "{\"model\":\"local-diffusion\",\"size\":"
	    "\"1536x1024\",\"quality\":\"ultra\",\"prompt\":\"\"}", 0, 0, 0,
	    &need);
	CHECK_INT(need.tokens, 32 + 2 * high_out);
	/* not an object: refused without a request, holds nothing */
	budget_need_of(NULL, "not json", 0, 0, 0, &need);
	CHECK_INT(need.tokens, 0);
	CHECK_INT(need.usd, 0);
	budget_need_of(NULL, "[1]", 0, 0, 0, &need);
	CHECK_INT(need.tokens, 0);
	budget_need_of(NULL, NULL, 0, 0, 0, &need);
	CHECK_INT(need.tokens, 0);
}

static void
test_check(void)
{
	struct budget_set b;
	struct budget_limit l;
	struct budget_sums s;
	struct budget_need need;
	struct budget_verdict v;
	char err[128], buf[320];

	memset(&b, 0, sizeof(b));
	memset(&s, 0, sizeof(s));
	memset(&need, 0, sizeof(need));
	snprintf(need.model, sizeof(need.model), "gpt-image-2-2026-04-21");
	need.tokens = 1000;
	need.usd = 2000000;

	/* no budget: anything fits */
	budget_check(&b, &s, &need, &v);
	CHECK(!v.crossed);

	budget_parse(BUDGET_DAILY_TOKENS, "5000", &l, err, sizeof(err));
	budget_set_add(&b, &l);
	budget_parse(BUDGET_DAILY_USD, "gpt-image-2 7", &l, err, sizeof(err));
	budget_set_add(&b, &l);
	budget_parse(BUDGET_MONTHLY_USD, "100", &l, err, sizeof(err));
	budget_set_add(&b, &l);

	/* spent by other models counts for the all-models budget only */
	CHECK_INT(budget_sums_add(&s, "gpt-image-2.6-flare", 9000000, 3000,
	    50000000), 0);
	CHECK_INT(budget_sums_add(&s, NULL, 0, 1000, 0), 0);
	budget_check(&b, &s, &need, &v);
	CHECK(!v.crossed);	/* 4000 + 1000 of 5000 tokens: it fits */
	CHECK_INT(budget_spent_under(&b.rows[0], &s), 4000);
	CHECK_INT(budget_spent_under(&b.rows[1], &s), 0);
	CHECK_INT(budget_spent_under(&b.rows[2], &s), 50000000);

	/* held: the next one crosses the tokens */
	CHECK_INT(budget_hold(&s, &need), 0);
	CHECK_INT(budget_spent_under(&b.rows[0], &s), 5000);
	/* a snapshot counts under its family's budget */
	CHECK_INT(budget_spent_under(&b.rows[1], &s), 2000000);
	budget_check(&b, &s, &need, &v);
	CHECK(v.crossed);
	CHECK_INT(v.limit.kind, BUDGET_DAILY_TOKENS);
	CHECK_INT(v.spent, 5000);
	CHECK_INT(v.need, 1000);
	budget_reason(&v, "2026-12-08 00:00 UTC", buf, sizeof(buf));
	CHECK_STR(buf, "budget: daily tokens 5000 of 5000 (all models), the "
	    "next job needs 1000, until 2026-12-08 00:00 UTC");

	/* a smaller job fits exactly up to the limit, not one token over */
	need.tokens = 0;
	budget_check(&b, &s, &need, &v);
	CHECK(!v.crossed);

	/* the per-model dollars: 2 + 2 + 2 of 7 fit, the fourth does not */
	b.rows[0].limit = 1000000;
	CHECK_INT(budget_hold(&s, &need), 0);
	CHECK_INT(budget_hold(&s, &need), 0);
	budget_check(&b, &s, &need, &v);
	CHECK(v.crossed);
	CHECK_INT(v.limit.kind, BUDGET_DAILY_USD);
	CHECK_STR(v.limit.model, "gpt-image-2");
	CHECK_INT(v.spent, 6000000);
	budget_reason(&v, "tomorrow", buf, sizeof(buf));
	CHECK_STR(buf, "budget: daily USD 6 of 7 (gpt-image-2), the next job "
	    "needs 2, until tomorrow");
	/* ... which holds no other model, and no job without a price */
	snprintf(need.model, sizeof(need.model), "gpt-image-2.6-flare");
	budget_check(&b, &s, &need, &v);
	CHECK(!v.crossed);
	snprintf(need.model, sizeof(need.model), "gpt-image-2");
	need.usd = -1;
	budget_check(&b, &s, &need, &v);
	CHECK(!v.crossed);

	/* the month: 50 + 6 spent; a job of 45 crosses 100 */
	snprintf(need.model, sizeof(need.model), "other");
	need.usd = 45000000;
	budget_check(&b, &s, &need, &v);
	CHECK(v.crossed);
	CHECK_INT(v.limit.kind, BUDGET_MONTHLY_USD);
	CHECK_INT(v.spent, 56000000);
	need.usd = 44000000;
	budget_check(&b, &s, &need, &v);
	CHECK(!v.crossed);

	/* spent already past a limit (in-flight jobs ended over it) */
	budget_sums_add(&s, "other", 0, 0, 60000000);
	need.usd = 0;
	budget_check(&b, &s, &need, &v);
	CHECK(v.crossed);
	CHECK_INT(v.spent, 116000000);
	budget_sums_free(&s);
	CHECK_INT(s.n, 0);
}

/* Sums from rows another program wrote: huge ones stop at INT64_MAX, not
 * past it into the negative; a negative one is 0, it gives nothing back. */
static void
test_hostile_sums(void)
{
	struct budget_set b;
	struct budget_limit l;
	struct budget_sums s;
	struct budget_need need;
	struct budget_verdict v;
	char err[64];

	memset(&b, 0, sizeof(b));
	memset(&s, 0, sizeof(s));
	memset(&need, 0, sizeof(need));
	need.tokens = 1000;
	budget_parse(BUDGET_DAILY_TOKENS, "5000", &l, err, sizeof(err));
	budget_set_add(&b, &l);

	budget_sums_add(&s, "a", 0, 4500, 0);
	budget_sums_add(&s, "b", 0, -1000000000000LL, 0);
	CHECK_INT(budget_spent_under(&b.rows[0], &s), 4500);
	budget_check(&b, &s, &need, &v);
	CHECK(v.crossed);

	budget_sums_add(&s, "c", INT64_MAX - 1, INT64_MAX - 1, INT64_MAX);
	budget_sums_add(&s, "d", INT64_MAX, INT64_MAX, INT64_MAX);
	budget_sums_add(&s, "d", INT64_MAX, INT64_MAX, INT64_MAX);
	CHECK(budget_spent_under(&b.rows[0], &s) == INT64_MAX);
	budget_check(&b, &s, &need, &v);
	CHECK(v.crossed);
	CHECK(v.spent == INT64_MAX);
	need.tokens = 0;
	budget_check(&b, &s, &need, &v);
	CHECK(v.crossed);
	budget_sums_free(&s);
}

static void
test_applies(void)
{
	struct budget_limit l;
	char err[64];

	budget_parse(BUDGET_DAILY_USD, "gpt-image-2 1", &l, err, sizeof(err));
	CHECK(budget_applies(&l, "gpt-image-2"));
	CHECK(budget_applies(&l, "gpt-image-2-2026-04-21"));
	CHECK(!budget_applies(&l, "gpt-image-2.5-flare"));
	CHECK(!budget_applies(&l, ""));
	CHECK(!budget_applies(&l, NULL));
	budget_parse(BUDGET_DAILY_USD, "local-model 1", &l, err, sizeof(err));
	CHECK(budget_applies(&l, "local-model"));
	CHECK(!budget_applies(&l, "local-model-2"));
	budget_parse(BUDGET_DAILY_USD, "1", &l, err, sizeof(err));
	CHECK(budget_applies(&l, NULL));
	CHECK(budget_applies(&l, "anything"));
}

int
main(void)
{
	test_parse();
	test_set();
	test_need();
	test_check();
	test_hostile_sums();
	test_applies();
	return tu_finish("test_budget");
}
