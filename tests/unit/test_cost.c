/* test_cost.c: an attempt's cost from usage, every priced family by hand,
 * OpenAI's per-image figures (read 2026-12-07), the rounding, and every way
 * a usage object can be missing or wrong. */
#include <stdio.h>
#include <string.h>

#include "cost.h"
#include "prices.h"
#include "testutil.h"

/* A usage object of t text, i image and o output tokens. */
static const char *
usage_of(long long t, long long i, long long o)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "{\"input_tokens\":%lld,\"input_tokens_"
	    "details\":{\"text_tokens\":%lld,\"image_tokens\":%lld},"
	    "\"output_tokens\":%lld}", t + i, t, i, o);
	return buf;
}
#define USAGE(t, i, o) usage_of(t, i, o)

static enum cost_status
cost(const struct price_table *t, const char *model, const char *usage,
    long long *micro)
{
	char why[256] = "";
	int64_t m = -1;
	enum cost_status s = cost_attempt(t, model, usage, &m, why, sizeof(why));

	*micro = m;
	return s;
}

/* 50 text, 1536 image in, 7024 out, by hand at each family's page rates. */
static void
test_rows(void)
{
	static const char usage[] = "{\"input_tokens\":1586,\"input_tokens_"
	    "details\":{\"text_tokens\":50,\"image_tokens\":1536},"
	    "\"output_tokens\":7024,\"total_tokens\":8610,"
	    "\"output_tokens_details\":{\"image_tokens\":7024,\"text_tokens\":0}}";
	static const struct { const char *model; long long micro; int known; }
	    rows[] = {
		/* 50 x 5 + 1536 x 10 + 7024 x 40 */
		{ "gpt-image-1", 250 + 15360 + 280960, 1 },
		/* 50 x 2 + 1536 x 2.5 + 7024 x 8 */
		{ "gpt-image-1-mini", 100 + 3840 + 56192, 1 },
		/* 50 x 5 + 1536 x 8 + 7024 x 30 */
		{ "gpt-image-2", 250 + 12288 + 210720, 1 },
		{ "gpt-image-2-2026-04-21", 223258, 1 },
		{ "gpt-image-2.5-sunburst", 223258, 1 },
		{ "gpt-image-2.5-sunburst-2026-09-08", 223258, 1 },
		{ "gpt-image-2.5-flare", 223258, 1 },
		{ "gpt-image-2.6-sunburst", 223258, 1 },
		{ "gpt-image-2.6-flare", 223258, 1 },
		{ "gpt-image-1.5", 0, 0 },
		{ "chatgpt-image-latest", 0, 0 },
		{ "dall-e-2", 0, 0 },
		{ "dall-e-3", 0, 0 },
		{ "local-diffusion", 0, 0 },
		{ NULL, 0, 0 },
	};
	long long m;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CHECK_INT(cost(NULL, rows[i].model, usage, &m),
		    rows[i].known ? COST_KNOWN : COST_NO_PRICE);
		CHECK_INT(m, rows[i].micro);
		if (m != rows[i].micro)
			fprintf(stderr, "  (%s)\n", rows[i].model ?
			    rows[i].model : "no model");
	}
}

/* OpenAI's per-image figures for gpt-image-2's 1024x1024 output, low,
 * medium, high: $0.006, $0.053, $0.211 (OpenAI's image generation guide
 * and pricing page, as quoted by yingtu.ai on 2026-05-06; the 2.5 and 2.6
 * families bill the same token rates: their pages, read 2026-12-07), from
 * the calculator's 196, 1756 and 7024 output tokens; and 1536x1024 at
 * $0.005, $0.041, $0.165 from 158, 1372 and 5488. Each cost rounds to the
 * figure at three decimals. */
static void
test_openai_figures(void)
{
	static const char *const families[] = { "gpt-image-2",
		"gpt-image-2.5-sunburst", "gpt-image-2.5-flare",
		"gpt-image-2.6-sunburst", "gpt-image-2.6-flare" };
	static const struct { long long tokens, exact, mills; } figures[] = {
		{ 196, 5880, 6 }, { 1756, 52680, 53 }, { 7024, 210720, 211 },
		{ 158, 4740, 5 }, { 1372, 41160, 41 }, { 5488, 164640, 165 },
	};
	char usage[256];
	long long m;
	size_t i, j;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		for (j = 0; j < sizeof(figures) / sizeof(figures[0]); j++) {
			snprintf(usage, sizeof(usage), "{\"input_tokens\":0,"
			    "\"input_tokens_details\":{\"text_tokens\":0,"
			    "\"image_tokens\":0},\"output_tokens\":%lld}",
			    figures[j].tokens);
			CHECK_INT(cost(NULL, families[i], usage, &m), COST_KNOWN);
			CHECK_INT(m, figures[j].exact);
			CHECK_INT((m + 500) / 1000, figures[j].mills);
		}
}

/* Exact sums, one rounding, half up. */
static void
test_rounding(void)
{
	struct price_table t = { NULL, 0 };
	struct price_override o;
	char err[128];
	long long m;

	CHECK_INT(prices_parse("half 0.5 0.5 0.5", &o, err, sizeof(err)), 0);
	CHECK_INT(prices_set(&t, &o), 0);
	CHECK_INT(prices_parse("under 0.499999 0.000001 0.000001", &o, err,
	    sizeof(err)), 0);
	CHECK_INT(prices_set(&t, &o), 0);
	CHECK_INT(prices_parse("dear 1000 1000 1000", &o, err, sizeof(err)), 0);
	CHECK_INT(prices_set(&t, &o), 0);
	/* 1 token at 0.5 micro-dollars: half, up */
	CHECK_INT(cost(&t, "half", USAGE(1, 0, 0), &m), COST_KNOWN);
	CHECK_INT(m, 1);
	/* 0.5 + 0.5 + 0.5: rounded once (2), not each (3) */
	CHECK_INT(cost(&t, "half", USAGE(1, 1, 1), &m), COST_KNOWN);
	CHECK_INT(m, 2);
	CHECK_INT(cost(&t, "under", USAGE(1, 0, 0), &m), COST_KNOWN);
	CHECK_INT(m, 0);
	/* 0.499999 + 0.000001 = 0.5: up */
	CHECK_INT(cost(&t, "under", USAGE(1, 1, 0), &m), COST_KNOWN);
	CHECK_INT(m, 1);
	/* the most: 1e9 tokens in and out at $1000 per 1M, no overflow */
	CHECK_INT(cost(&t, "dear", "{\"input_tokens\":1000000000,\"input_"
	    "tokens_details\":{\"text_tokens\":400000000,\"image_tokens\":"
	    "600000000},\"output_tokens\":1000000000}", &m), COST_KNOWN);
	CHECK_INT(m, 2000000000000LL);	/* $2,000,000 */
	prices_free(&t);
}

static void
test_no_usage(void)
{
	long long m;

	CHECK_INT(cost(NULL, "gpt-image-2", NULL, &m), COST_NO_USAGE);
	CHECK_INT(m, 0);
	CHECK_INT(cost(NULL, "gpt-image-2", "", &m), COST_NO_USAGE);
	CHECK_INT(cost(NULL, "gpt-image-2", "null", &m), COST_NO_USAGE);
	/* no usage wins over no price: the attempt reported nothing */
	CHECK_INT(cost(NULL, "local-diffusion", NULL, &m), COST_NO_USAGE);
	CHECK_STR(cost_status_name(COST_NO_USAGE), "no_usage");
	CHECK_STR(cost_status_name(COST_NO_PRICE), "no_price");
	CHECK_STR(cost_status_name(COST_KNOWN), "known");
	CHECK_STR(cost_status_name(COST_BAD_USAGE), "bad_usage");
}

static void
test_bad_usage(void)
{
	static const struct { const char *usage, *why; } bad[] = {
		{ "{", "usage: not JSON" },
		{ "[]", "usage: not an object" },
		{ "7", "usage: not an object" },
		{ "{\"input_tokens\":1,\"output_tokens\":1}",
		  "input_tokens_details is missing" },
		{ "{\"input_tokens\":1,\"input_tokens_details\":[],"
		  "\"output_tokens\":1}", "input_tokens_details is not an object" },
		{ "{\"input_tokens_details\":{\"text_tokens\":1,\"image_tokens\":0},"
		  "\"output_tokens\":1}", "input_tokens is missing" },
		{ "{\"input_tokens\":1,\"input_tokens_details\":{\"text_tokens\":1,"
		  "\"image_tokens\":0}}", "output_tokens is missing" },
		{ "{\"input_tokens\":1,\"input_tokens_details\":{\"text_tokens\":1,"
		  "\"image_tokens\":0},\"output_tokens\":-1}",
		  "output_tokens is not a count" },
		{ "{\"input_tokens\":1,\"input_tokens_details\":{\"text_tokens\":1,"
		  "\"image_tokens\":0},\"output_tokens\":1.5}",
		  "output_tokens is not a count" },
		{ "{\"input_tokens\":1,\"input_tokens_details\":{\"text_tokens\":\"1\","
		  "\"image_tokens\":0},\"output_tokens\":1}",
		  "input_tokens_details.text_tokens is not a count" },
		{ "{\"input_tokens\":1,\"input_tokens_details\":{\"text_tokens\":1},"
		  "\"output_tokens\":1}", "input_tokens_details.image_tokens is "
		  "missing" },
		{ "{\"input_tokens\":1,\"input_tokens_details\":{\"text_tokens\":1,"
		  "\"image_tokens\":0},\"output_tokens\":1000000001}",
		  "output_tokens is not a count" },
		{ "{\"input_tokens\":5,\"input_tokens_details\":{\"text_tokens\":1,"
		  "\"image_tokens\":2},\"output_tokens\":1}",
		  "text_tokens 1 + image_tokens 2 is not input_tokens 5" },
		{ "{\"input_tokens\":1,\"input_tokens\":1,\"input_tokens_details\":"
		  "{\"text_tokens\":1,\"image_tokens\":0},\"output_tokens\":1}",
		  "usage: not JSON" },
	};
	char why[256];
	int64_t m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		CHECK_INT(cost_attempt(NULL, "gpt-image-2", bad[i].usage, &m, why,
		    sizeof(why)), COST_BAD_USAGE);
		CHECK_INT(m, 0);
		CHECK(strstr(why, bad[i].why) != NULL);
		if (strstr(why, bad[i].why) == NULL)
			fprintf(stderr, "  %s: got '%s'\n", bad[i].usage, why);
	}
}

/* The fake upstream's usage (tests/fake-upstream/edits.c) is the SDK's. */
static void
test_fake_shape(void)
{
	struct usage_tokens u;
	char why[128];

	CHECK_INT(cost_usage_parse("{\"total_tokens\":1070,\"input_tokens\":70,"
	    "\"output_tokens\":1000,\"input_tokens_details\":{\"text_tokens\":50,"
	    "\"image_tokens\":20}}", &u, why, sizeof(why)), COST_KNOWN);
	CHECK_INT(u.text_in, 50);
	CHECK_INT(u.image_in, 20);
	CHECK_INT(u.output, 1000);
}

/* The rule at an attempt's end: usage decides; without it, an HTTP error
 * (or nothing sent) is not billed, anything else is not known. */
static void
test_settle(void)
{
	static const struct {
		const char *model;
		long long t, i, o;	/* usage; t < 0: the text below */
		const char *text;
		int http, sent;
		enum cost_status want;
		long long micro;	/* -1: not looked at */
	} cases[] = {
		/* 50 x 5 + 1536 x 8 + 7024 x 30 */
		{ "gpt-image-2", 50, 1536, 7024, NULL, 200, 1, COST_KNOWN, 223258 },
		/* usage wins over an error status: billed is billed */
		{ "gpt-image-2", 1, 0, 0, NULL, 500, 1, COST_KNOWN, 5 },
		{ "gpt-image-2", -1, 0, 0, NULL, 500, 1, COST_NOT_BILLED, 0 },
		{ "gpt-image-2", -1, 0, 0, "null", 400, 1, COST_NOT_BILLED, 0 },
		{ "no-such-model", -1, 0, 0, NULL, 429, 1, COST_NOT_BILLED, 0 },
		/* a cut stream, no answer: not known */
		{ "gpt-image-2", -1, 0, 0, NULL, 200, 1, COST_NO_USAGE, -1 },
		{ "gpt-image-2", -1, 0, 0, "", 0, 1, COST_NO_USAGE, -1 },
		{ "gpt-image-2", -1, 0, 0, NULL, 399, 1, COST_NO_USAGE, -1 },
		/* never sent: nothing billed */
		{ "gpt-image-2", -1, 0, 0, NULL, 0, 0, COST_NOT_BILLED, 0 },
		{ NULL, 1, 2, 3, NULL, 200, 1, COST_NO_PRICE, -1 },
		{ "gpt-image-2", -1, 0, 0, "{\"input_tokens\":1}", 200, 1,
		    COST_BAD_USAGE, -1 },
	};
	struct price_table t = { 0 };
	char why[128];
	int64_t m;
	size_t k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		m = -1;
		CHECK_INT(cost_settle(&t, cases[k].model, cases[k].t >= 0 ?
		    USAGE(cases[k].t, cases[k].i, cases[k].o) : cases[k].text,
		    cases[k].http, cases[k].sent, &m, why, sizeof(why)),
		    cases[k].want);
		if (cases[k].micro >= 0)
			CHECK_INT(m, cases[k].micro);
	}
	CHECK_STR(cost_status_name(COST_NOT_BILLED), "not_billed");
}

int
main(void)
{
	test_rows();
	test_openai_figures();
	test_rounding();
	test_no_usage();
	test_bad_usage();
	test_fake_shape();
	test_settle();
	return tu_finish("test_cost");
}
