/* test_estimate.c: the output-token table against the figures OpenAI's
 * calculator gives (as quoted, with their dates), three per family in
 * dollars, and the ranges the estimate chooses where nothing is published. */
#include <stdio.h>
#include <string.h>

#include "estimate.h"
#include "testutil.h"

/* OpenAI's calculator for gpt-image-2, as quoted on OpenAI's community
 * forum ("Livestream starting now: ChatGPT Images 2.0", 2026-04-21: high
 * quality 1024x1024 7024, 1536x1024 5488, 1792x1024 5063, 3584x2048 12329)
 * and the per-image dollars of OpenAI's guide below. */
static void
test_table(void)
{
	static const struct { const char *q; uint32_t w, h; long long t; } rows[] = {
		{ "high", 1024, 1024, 7024 },
		{ "high", 1536, 1024, 5488 },
		{ "high", 1024, 1536, 5488 },
		{ "high", 1792, 1024, 5063 },
		{ "high", 3584, 2048, 12329 },
		{ "medium", 1024, 1024, 1756 },
		{ "medium", 1536, 1024, 1372 },
		{ "low", 1024, 1024, 196 },
		{ "low", 1536, 1024, 158 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECK_INT(estimate_output_tokens(rows[i].q, rows[i].w, rows[i].h),
		    rows[i].t);
	CHECK_INT(estimate_output_tokens("auto", 1024, 1024), -1);
	CHECK_INT(estimate_output_tokens("xhigh", 1024, 1024), -1);
	CHECK_INT(estimate_output_tokens(NULL, 1024, 1024), -1);
	CHECK_INT(estimate_output_tokens("high", 0, 1024), -1);
}

static void
one(const char *model, const char *size, const char *quality,
    struct estimate *e)
{
	struct estimate_job j = { model, 1, size, quality, 0, 0, NULL, 0, 0 };

	estimate_job(NULL, &j, e);
}

/* Three figures per family: a 1024x1024 image at low, medium and high is
 * $0.006, $0.053 and $0.211 (OpenAI's image generation guide and pricing
 * page, quoted by yingtu.ai on 2026-05-06 for gpt-image-2; the 2.5 and 2.6
 * families bill the same rates, their pages read 2026-12-07). With no
 * prompt and no input the low end is the output alone. */
static void
test_families(void)
{
	static const char *const families[] = { "gpt-image-2",
		"gpt-image-2-2026-04-21", "gpt-image-2.5-sunburst",
		"gpt-image-2.5-flare-2026-09-08", "gpt-image-2.6-sunburst",
		"gpt-image-2.6-flare" };
	static const struct { const char *q; long long mills; } figures[] = {
		{ "low", 6 }, { "medium", 53 }, { "high", 211 } };
	struct estimate e;
	size_t i, k;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		for (k = 0; k < 3; k++) {
			one(families[i], "1024x1024", figures[k].q, &e);
			CHECK(e.known && e.priced);
			CHECK_INT((e.cost_lo + 500) / 1000, figures[k].mills);
			CHECK(e.cost_hi >= e.cost_lo);
			/* the high end adds at most 32 text tokens: $0.00016 */
			CHECK_INT(e.cost_hi - e.cost_lo, 32 * 5);
		}
	/* no published table, or no model: not known, never zero-priced */
	one("gpt-image-1", "1024x1024", "high", &e);
	CHECK(!e.known && !e.priced);
	one("gpt-image-1-mini", "1024x1024", "high", &e);
	CHECK(!e.known);
	one("dall-e-2", "1024x1024", NULL, &e);
	CHECK(!e.known);
	one("local-diffusion", "1024x1024", "high", &e);
	CHECK(!e.known);
	one(NULL, "1024x1024", "high", &e);
	CHECK(!e.known);
}

/* What is not published: auto, xhigh and max, inputs, n, partials. */
static void
test_choices(void)
{
	static const struct estimate_image imgs[] = { { 1024, 1024 },
		{ 512, 512 }, { 4000, 3000 }, { 100, 30 } };
	struct estimate_job j = { "gpt-image-2.6-flare", 1, NULL, NULL, 0, 0,
		NULL, 0, 0 };
	struct estimate e;

	/* size and quality auto: low of the cheapest size to high of the dearest */
	estimate_job(NULL, &j, &e);
	CHECK_INT(e.lo.output, 158);
	CHECK_INT(e.hi.output, 7024);
	j.size = "auto";
	j.quality = "auto";
	estimate_job(NULL, &j, &e);
	CHECK_INT(e.lo.output, 158);
	CHECK_INT(e.hi.output, 7024);
	/* xhigh, max: at least high, no upper bound */
	j.size = "1536x1024";
	j.quality = "xhigh";
	estimate_job(NULL, &j, &e);
	CHECK_INT(e.lo.output, 5488);
	CHECK_INT(e.hi.output, -1);
	CHECK_INT(e.cost_hi, -1);
	CHECK(e.cost_lo >= 164640);
	j.quality = "max";
	estimate_job(NULL, &j, &e);
	CHECK_INT(e.hi.output, -1);
	/* a flexible size */
	j.size = "3584x2048";
	j.quality = "high";
	estimate_job(NULL, &j, &e);
	CHECK_INT(e.lo.output, 12329);
	CHECK_INT(e.hi.output, 12329);
	/* n and partial images: 100 output tokens each, per image */
	j.size = "1024x1024";
	j.n = 2;
	j.partial_images = 3;
	estimate_job(NULL, &j, &e);
	CHECK_INT(e.lo.output, 2 * (7024 + 300));
	CHECK_INT(e.hi.output, 2 * (7024 + 300));
	/* inputs: patches (at most 1024 counted low) to the budget; the
	 * prompt's bytes / 8 to its bytes plus 32 a request and an image;
	 * with n = 2 the high end bills the inputs twice */
	j.images = imgs;
	j.nimages = 4;
	j.nmasks = 1;
	j.prompt_bytes = 801;
	estimate_job(NULL, &j, &e);
	CHECK_INT(e.lo.image_in, 1024 + 256 + 1024 + 4);
	CHECK_INT(e.hi.image_in, 2 * 5 * 1536);
	CHECK_INT(e.lo.text_in, 100);
	CHECK_INT(e.hi.text_in, 2 * (801 + 32 * 6));
	/* the cost is the table's price of those tokens, exactly */
	CHECK_INT(e.cost_lo, (100LL * 5000000 + 2308LL * 8000000 +
	    14648LL * 30000000 + 500000) / 1000000);
	/* a size that is not WxH: not known */
	j.size = "big";
	estimate_job(NULL, &j, &e);
	CHECK(!e.known);
	j.size = "1024x1024";
	j.quality = "ultra";
	estimate_job(NULL, &j, &e);
	CHECK(!e.known);
}

/* Sums: unknown and unpriced jobs counted apart, an open end stays open. */
static void
test_total(void)
{
	struct estimate_total t;
	struct estimate e;

	memset(&t, 0, sizeof(t));
	one("gpt-image-2", "1024x1024", "high", &e);
	estimate_total_add(&t, &e);
	estimate_total_add(&t, &e);
	CHECK_INT(t.jobs, 2);
	CHECK_INT(t.lo.output, 2 * 7024);
	CHECK_INT(t.hi.output, 2 * 7024);
	CHECK_INT(t.cost_lo, 2 * 210720);
	CHECK_INT(t.cost_hi, 2 * (210720 + 160));
	one("local-diffusion", "1024x1024", "high", &e);
	estimate_total_add(&t, &e);
	CHECK_INT(t.jobs, 3);
	CHECK_INT(t.unknown, 1);
	CHECK_INT(t.cost_lo, 2 * 210720);
	one("gpt-image-2.6-flare", "1024x1024", "max", &e);
	estimate_total_add(&t, &e);
	CHECK_INT(t.hi.output, -1);
	CHECK_INT(t.cost_hi, -1);
	CHECK_INT(t.cost_lo, 3 * 210720);
	one("gpt-image-2", "1024x1024", "low", &e);
	estimate_total_add(&t, &e);
	CHECK_INT(t.hi.output, -1);	/* stays open */
	CHECK_INT(t.cost_hi, -1);
	CHECK_INT(t.unpriced, 0);
}

int
main(void)
{
	test_table();
	test_families();
	test_choices();
	test_total();
	return tu_finish("test_estimate");
}
