/* test_prices.c: every row of the price table against the sources' figures
 * written here (read 2026-12-07), snapshots priced as their family, the
 * `price` setting's parser and its place in the settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "models.h"
#include "prices.h"
#include "testutil.h"

/* USD per 1M tokens as the sources print them, text in, cached, image in,
 * cached, out; NULL rates: no price known. */
static const struct {
	const char	*family;
	const char	*rates;
} expects[] = {
	{ "dall-e-2", NULL },
	{ "dall-e-3", NULL },
	{ "gpt-image-1", "5.00 1.25 10.00 2.50 40.00" },	/* ja-JP page */
	{ "gpt-image-1-mini", "2.00 0.20 2.50 0.25 8.00" },	/* de-DE page */
	{ "gpt-image-1.5", NULL },
	{ "chatgpt-image-latest", NULL },
	{ "gpt-image-2", "5.00 1.25 8.00 2.00 30.00" },
	{ "gpt-image-2.5-sunburst", "5.00 1.25 8.00 2.00 30.00" },
	{ "gpt-image-2.5-flare", "5.00 1.25 8.00 2.00 30.00" },
	{ "gpt-image-2.6-sunburst", "5.00 1.25 8.00 2.00 30.00" },
	{ "gpt-image-2.6-flare", "5.00 1.25 8.00 2.00 30.00" },
};
#define NEXPECT (sizeof(expects) / sizeof(expects[0]))

/* "5.00" as micro-dollars, by hand: cents times 10000. */
static long long
cents(const char *s)
{
	long d = 0, c = 0;

	sscanf(s, "%ld.%ld", &d, &c);
	return (long long)d * 1000000 + c * 10000;
}

static void
check_rates(const struct price *p, const char *rates, const char *what)
{
	char buf[64], *w[5], *save = NULL;
	int i;

	snprintf(buf, sizeof(buf), "%s", rates);
	for (i = 0; i < 5; i++)
		w[i] = strtok_r(i == 0 ? buf : NULL, " ", &save);
	CHECK_INT(p->text_in, cents(w[0]));
	CHECK_INT(p->text_cached, cents(w[1]));
	CHECK_INT(p->image_in, cents(w[2]));
	CHECK_INT(p->image_cached, cents(w[3]));
	CHECK_INT(p->image_out, cents(w[4]));
	if (p->image_out != cents(w[4]))
		fprintf(stderr, "  (%s)\n", what);
}

/* Every family has its expectation, and each is met, snapshots too. */
static void
test_rows(void)
{
	const struct model_family *f;
	struct price p;
	char snap[96];
	size_t i, j, nrows = 0;

	for (i = 0; (f = models_row(i)) != NULL; i++) {
		if (f->name == NULL)
			continue;
		nrows++;
		for (j = 0; j < NEXPECT; j++)
			if (strcmp(expects[j].family, f->name) == 0)
				break;
		CHECK(j < NEXPECT);
		if (j == NEXPECT)
			continue;
		snprintf(snap, sizeof(snap), "%s-2026-09-08", f->name);
		if (expects[j].rates == NULL) {
			CHECK(prices_builtin(f->name) == NULL);
			CHECK_INT(prices_lookup(NULL, f->name, &p), -1);
			CHECK_INT(prices_lookup(NULL, snap, &p), -1);
			continue;
		}
		CHECK_INT(prices_lookup(NULL, f->name, &p), 0);
		check_rates(&p, expects[j].rates, f->name);
		memset(&p, 0, sizeof(p));
		CHECK_INT(prices_lookup(NULL, snap, &p), 0);
		check_rates(&p, expects[j].rates, snap);
	}
	CHECK_INT(nrows, NEXPECT);
	/* gpt-image-2's default snapshot, by its page */
	CHECK_INT(prices_lookup(NULL, "gpt-image-2-2026-04-21", &p), 0);
	CHECK_INT(p.image_out, 30000000);
	/* unknown: no model, a stranger, a near miss of a family */
	CHECK_INT(prices_lookup(NULL, NULL, &p), -1);
	CHECK_INT(prices_lookup(NULL, "local-diffusion", &p), -1);
	CHECK_INT(prices_lookup(NULL, "gpt-image-2-mini", &p), -1);
	CHECK_INT(prices_lookup(NULL, "gpt-image-2-2026-4-21", &p), -1);
}

static void
test_parse(void)
{
	struct price_override o;
	char err[256];

	CHECK_INT(prices_parse("gpt-image-2 5 8 30", &o, err, sizeof(err)), 0);
	CHECK_STR(o.model, "gpt-image-2");
	CHECK_INT(o.price.text_in, 5000000);
	CHECK_INT(o.price.image_in, 8000000);
	CHECK_INT(o.price.image_out, 30000000);
	CHECK_INT(o.price.text_cached, 5000000);	/* no discount given */
	CHECK_INT(o.price.image_cached, 8000000);
	CHECK_INT(prices_parse("  my-model\t0.000001 1000 2.5 0 0.25 ", &o, err,
	    sizeof(err)), 0);
	CHECK_STR(o.model, "my-model");
	CHECK_INT(o.price.text_in, 1);
	CHECK_INT(o.price.image_in, 1000000000);
	CHECK_INT(o.price.image_out, 2500000);
	CHECK_INT(o.price.text_cached, 0);
	CHECK_INT(o.price.image_cached, 250000);

	CHECK_INT(prices_parse("", &o, err, sizeof(err)), -1);
	CHECK(strstr(err, "expected MODEL") != NULL);
	CHECK_INT(prices_parse("gpt-image-2 5 8", &o, err, sizeof(err)), -1);
	CHECK(strstr(err, "got 2") != NULL);
	CHECK_INT(prices_parse("gpt-image-2 5 8 30 1", &o, err, sizeof(err)), -1);
	CHECK(strstr(err, "got 4") != NULL);
	CHECK_INT(prices_parse("gpt-image-2 5 8 30 1 2 3", &o, err, sizeof(err)),
	    -1);
	CHECK(strstr(err, "'3' is one value too many") != NULL);
	CHECK_INT(prices_parse("gpt-image-2 5 8 $30", &o, err, sizeof(err)), -1);
	CHECK(strstr(err, "IMAGE_OUT '$30'") != NULL);
	CHECK_INT(prices_parse("gpt-image-2 5 -8 30", &o, err, sizeof(err)), -1);
	CHECK(strstr(err, "IMAGE_IN '-8'") != NULL);
	CHECK_INT(prices_parse("gpt-image-2 5.1234567 8 30", &o, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "TEXT_IN") != NULL);
	CHECK_INT(prices_parse("gpt-image-2 5. 8 30", &o, err, sizeof(err)), -1);
	CHECK_INT(prices_parse("gpt-image-2 1000.000001 8 30", &o, err,
	    sizeof(err)), -1);
	CHECK_INT(prices_parse("gpt-image-2 5 8 30 1e3 2", &o, err, sizeof(err)),
	    -1);
	CHECK(strstr(err, "TEXT_CACHED '1e3'") != NULL);
	CHECK_INT(prices_parse("gpt-image-2-2026-04-21 5 8 30", &o, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "snapshot of gpt-image-2") != NULL);
}

static void
test_overrides(void)
{
	struct price_table t = { NULL, 0 }, c = { NULL, 0 };
	struct price_override o;
	struct price p;
	char err[256], buf[256];

	CHECK_INT(prices_parse("gpt-image-2.6-flare 4 7 25.5", &o, err,
	    sizeof(err)), 0);
	CHECK_INT(prices_set(&t, &o), 0);
	CHECK_INT(prices_parse("local-diffusion 0 0 0.1", &o, err, sizeof(err)),
	    0);
	CHECK_INT(prices_set(&t, &o), 0);
	CHECK_INT(prices_lookup(&t, "gpt-image-2.6-flare-2026-11-04", &p), 0);
	CHECK_INT(p.image_out, 25500000);
	CHECK_INT(prices_lookup(&t, "gpt-image-2.6-sunburst", &p), 0);
	CHECK_INT(p.image_out, 30000000);	/* built-in, untouched */
	CHECK_INT(prices_lookup(&t, "local-diffusion", &p), 0);
	CHECK_INT(p.image_out, 100000);
	CHECK_INT(prices_lookup(&t, "local-diffusion-2", &p), -1);
	/* a later line for the same model wins */
	CHECK_INT(prices_parse("gpt-image-2.6-flare 5 8 30 1.25 2", &o, err,
	    sizeof(err)), 0);
	CHECK_INT(prices_set(&t, &o), 0);
	CHECK_INT(t.n, 2);
	CHECK_INT(prices_copy(&c, &t), 0);
	prices_format(&c, buf, sizeof(buf));
	CHECK_STR(buf, "gpt-image-2.6-flare 5 8 30 1.25 2; local-diffusion 0 0 "
	    "0.1 0 0");
	prices_free(&t);
	prices_free(&c);
	CHECK_INT(t.n, 0);
}

static void
test_usd(void)
{
	char b[32];

	prices_usd(210720, b, sizeof(b));
	CHECK_STR(b, "0.21072");
	prices_usd(0, b, sizeof(b));
	CHECK_STR(b, "0");
	prices_usd(2000000000, b, sizeof(b));
	CHECK_STR(b, "2000");
	prices_usd(-1, b, sizeof(b));
	CHECK_STR(b, "-0.000001");
}

/* The settings take `price` lines: validated, repeated, read back. */
static void
test_config(void)
{
	struct config cfg;
	struct price p;
	char err[256], buf[512];

	config_defaults(&cfg);
	CHECK_INT(config_set(&cfg, "price", "gpt-image-2 4 7 20", err,
	    sizeof(err)), 0);
	CHECK_INT(config_set(&cfg, "price", "other-model 1 1 1", err,
	    sizeof(err)), 0);
	CHECK_INT(config_set(&cfg, "price", "gpt-image-2 5 x 30", err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "price: gpt-image-2: IMAGE_IN 'x'") != NULL);
	CHECK_INT(prices_lookup(&cfg.prices, "gpt-image-2", &p), 0);
	CHECK_INT(p.image_out, 20000000);	/* the refused line changed nothing */
	CHECK_INT(config_value(&cfg, "price", buf, sizeof(buf)), 1);
	CHECK_STR(buf, "gpt-image-2 4 7 20 4 7; other-model 1 1 1 1 1");
	config_free(&cfg);
	CHECK_INT(cfg.prices.n, 0);
}

/* A cost for people: exact, a lower bound, or not known at all. */
static void
test_cost_text(void)
{
	char b[32];

	prices_cost_text(210720, 0, b, sizeof(b));
	CHECK_STR(b, "$0.21072");
	prices_cost_text(0, 0, b, sizeof(b));
	CHECK_STR(b, "$0");
	prices_cost_text(1000001, 1, b, sizeof(b));
	CHECK_STR(b, "\xe2\x89\xa5$1.000001");
	prices_cost_text(0, 1, b, sizeof(b));
	CHECK_STR(b, "?");
}

int
main(void)
{
	test_rows();
	test_parse();
	test_overrides();
	test_usd();
	test_cost_text();
	test_config();
	return tu_finish("test_prices");
}
