/* prices.c: the built-in token prices (one row per models.c family, read on
 * PRICES_READ), the `price` setting's parser and the lookup with overrides.
 *
 * Read on 2026-12-07, USD per 1M tokens (text in / cached, image in /
 * cached, image out):
 *  - gpt-image-2.6-sunburst: 5.00 / 1.25, 8.00 / 2.00, 30.00: OpenAI's
 *    model page, developers.openai.com/api/docs/models/gpt-image-2.6-sunburst
 *    (the de-DE, ja-JP, ko-KR, es-419 and pt-BR copies agree);
 *  - gpt-image-2 (snapshot gpt-image-2-2026-04-21): the same rates: its
 *    model page, developers.openai.com/api/docs/models/gpt-image-2, and the
 *    per-image figures of OpenAI's guide ($0.006 / $0.053 / $0.211 for a
 *    1024x1024 low / medium / high image, quoted by yingtu.ai, 2026-05-06);
 *  - gpt-image-2.5-sunburst, gpt-image-2.5-flare (snapshots -2026-09-08):
 *    "the same token rates as gpt-image-2", a guide of 2026-09-09 citing
 *    OpenAI's docs;
 *  - gpt-image-2.6-flare: OpenAI's own page for it was not found (searched
 *    twice); two resellers forwarding OpenAI state its token prices match
 *    OpenAI's and 2.6 Sunburst's, $5 / $8 / $30 (docs.apiyi.com and
 *    docs.laozhang.ai, both 2026-11-05). Taken as 2.6 Sunburst's, cached
 *    rates included: delete the row to make it unknown;
 *  - gpt-image-1 (retired 2026-10-23, priced for old attempts): 5.00 / 1.25,
 *    10.00 / 2.50, 40.00: its OpenAI model page (ja-JP copy);
 *  - gpt-image-1-mini (retired 2026-12-01): 2.00 / 0.20, 2.50 / 0.25, 8.00:
 *    developers.openai.com/de-DE/api/docs/models/gpt-image-1-mini;
 *  - gpt-image-1.5, chatgpt-image-latest, dall-e-2, dall-e-3: not read, so
 *    unknown (the DALL-E models were priced per image, not per token). */
#include "prices.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models.h"

#define USD(d, c)	((int64_t)(d) * 1000000 + (int64_t)(c) * 10000)

static const struct {
	const char	*family;
	struct price	 price;
} builtin[] = {
	/* text in, cached; image in, cached; image out */
	{ "gpt-image-1", { USD(5, 0), USD(1, 25), USD(10, 0), USD(2, 50),
	    USD(40, 0) } },
	{ "gpt-image-1-mini", { USD(2, 0), USD(0, 20), USD(2, 50), USD(0, 25),
	    USD(8, 0) } },
	{ "gpt-image-2", { USD(5, 0), USD(1, 25), USD(8, 0), USD(2, 0),
	    USD(30, 0) } },
	{ "gpt-image-2.5-sunburst", { USD(5, 0), USD(1, 25), USD(8, 0),
	    USD(2, 0), USD(30, 0) } },
	{ "gpt-image-2.5-flare", { USD(5, 0), USD(1, 25), USD(8, 0), USD(2, 0),
	    USD(30, 0) } },
	{ "gpt-image-2.6-sunburst", { USD(5, 0), USD(1, 25), USD(8, 0),
	    USD(2, 0), USD(30, 0) } },
	{ "gpt-image-2.6-flare", { USD(5, 0), USD(1, 25), USD(8, 0), USD(2, 0),
	    USD(30, 0) } },
};
#define NBUILTIN	(sizeof(builtin) / sizeof(builtin[0]))

const struct price *
prices_builtin(const char *family)
{
	size_t i;

	for (i = 0; family != NULL && i < NBUILTIN; i++)
		if (strcmp(builtin[i].family, family) == 0)
			return &builtin[i].price;
	return NULL;
}

/* The name prices are kept under: the family's for a known model, the
 * model's own otherwise. */
static const char *
price_key(const char *model)
{
	const struct model_family *f = models_find(model);

	return f->name == NULL ? model : f->name;
}

int
prices_lookup(const struct price_table *t, const char *model,
    struct price *out)
{
	const struct price *p;
	const char *key;
	size_t i;

	if (model == NULL)
		return -1;
	key = price_key(model);
	for (i = 0; t != NULL && i < t->n; i++)
		if (strcmp(t->rows[i].model, key) == 0) {
			*out = t->rows[i].price;
			return 0;
		}
	if ((p = prices_builtin(key)) == NULL)
		return -1;
	*out = *p;
	return 0;
}

int
prices_parse_usd(const char *s, size_t len, int64_t max_usd, int64_t *out)
{
	int64_t whole = 0, frac = 0;
	size_t i = 0, places = 0;

	if (len == 0 || !isdigit((unsigned char)s[0]))
		return -1;
	for (; i < len && isdigit((unsigned char)s[i]); i++)
		if ((whole = whole * 10 + (s[i] - '0')) > max_usd)
			return -1;
	if (i < len && s[i] == '.') {
		for (i++; i < len && isdigit((unsigned char)s[i]); i++, places++)
			if (places == 6)
				return -1;
			else
				frac = frac * 10 + (s[i] - '0');
		if (places == 0)
			return -1;
	}
	if (i != len)
		return -1;
	for (; places < 6; places++)
		frac *= 10;
	*out = whole * 1000000 + frac;
	return *out > max_usd * 1000000 ? -1 : 0;
}

size_t
prices_next_word(const char **s, const char **word)
{
	size_t len;

	while (isspace((unsigned char)**s))
		(*s)++;
	*word = *s;
	len = strcspn(*s, " \t\r\n\f\v");
	*s += len;
	return len;
}

static const char *const rate_names[] = { "TEXT_IN", "IMAGE_IN", "IMAGE_OUT",
	"TEXT_CACHED", "IMAGE_CACHED" };

int
prices_parse(const char *value, struct price_override *out, char *err,
    size_t errlen)
{
	const struct model_family *f;
	int64_t rates[5];
	const char *s = value, *w;
	size_t len, n;

	memset(out, 0, sizeof(*out));
	if ((len = prices_next_word(&s, &w)) == 0 || len >= sizeof(out->model))
		return snprintf(err, errlen, "price: expected MODEL TEXT_IN "
		    "IMAGE_IN IMAGE_OUT [TEXT_CACHED IMAGE_CACHED] (USD per 1M "
		    "tokens)"), -1;
	memcpy(out->model, w, len);
	f = models_find(out->model);
	if (f->name != NULL && strcmp(f->name, out->model) != 0)
		return snprintf(err, errlen, "price: '%s' is a snapshot of %s: "
		    "prices are per family, give %s", out->model, f->name,
		    f->name), -1;
	for (n = 0; (len = prices_next_word(&s, &w)) != 0; n++) {
		if (n == 5)
			return snprintf(err, errlen, "price: %s: '%.*s' is one "
			    "value too many", out->model, (int)len, w), -1;
		if (prices_parse_usd(w, len, PRICES_RATE_MAX_USD,
		    &rates[n]) == -1)
			return snprintf(err, errlen, "price: %s: %s '%.*s' is "
			    "not a number of dollars from 0 to %d with at most "
			    "6 decimals", out->model, rate_names[n],
			    (int)(len > 40 ? 40 : len), w,
			    PRICES_RATE_MAX_USD), -1;
	}
	if (n != 3 && n != 5)
		return snprintf(err, errlen, "price: %s: expected 3 rates "
		    "(TEXT_IN IMAGE_IN IMAGE_OUT) or 5 (and TEXT_CACHED "
		    "IMAGE_CACHED), got %zu", out->model, n), -1;
	out->price.text_in = rates[0];
	out->price.image_in = rates[1];
	out->price.image_out = rates[2];
	out->price.text_cached = n == 5 ? rates[3] : rates[0];
	out->price.image_cached = n == 5 ? rates[4] : rates[1];
	return 0;
}

int
prices_set(struct price_table *t, const struct price_override *o)
{
	struct price_override *rows;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->rows[i].model, o->model) == 0) {
			t->rows[i] = *o;
			return 0;
		}
	if ((rows = realloc(t->rows, (t->n + 1) * sizeof(*rows))) == NULL)
		return -1;
	t->rows = rows;
	t->rows[t->n++] = *o;
	return 0;
}

int
prices_copy(struct price_table *dst, const struct price_table *src)
{
	dst->rows = NULL;
	dst->n = 0;
	if (src->n == 0)
		return 0;
	if ((dst->rows = calloc(src->n, sizeof(*dst->rows))) == NULL)
		return -1;
	memcpy(dst->rows, src->rows, src->n * sizeof(*dst->rows));
	dst->n = src->n;
	return 0;
}

void
prices_free(struct price_table *t)
{
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
}

void
prices_usd(int64_t micro, char *buf, size_t n)
{
	const char *sign = micro < 0 ? "-" : "";
	uint64_t m = micro < 0 ? (uint64_t)0 - (uint64_t)micro : (uint64_t)micro;
	char frac[8];
	int len;

	len = snprintf(frac, sizeof(frac), "%06" PRIu64, m % 1000000);
	while (len > 0 && frac[len - 1] == '0')
		frac[--len] = '\0';
	snprintf(buf, n, "%s%" PRIu64 "%s%s", sign, m / 1000000,
	    len > 0 ? "." : "", frac);
}

void
prices_cost_text(int64_t micro, int lower_bound, char *buf, size_t n)
{
	char usd[24];

	if (lower_bound && micro == 0) {
		snprintf(buf, n, "?");
		return;
	}
	prices_usd(micro, usd, sizeof(usd));
	snprintf(buf, n, "%s$%s", lower_bound ? "\xe2\x89\xa5" : "", usd);
}

void
prices_format(const struct price_table *t, char *buf, size_t n)
{
	char r[5][24];
	size_t i, used = 0;
	const struct price *p;

	if (n > 0)
		buf[0] = '\0';
	for (i = 0; i < t->n && used < n; i++) {
		p = &t->rows[i].price;
		prices_usd(p->text_in, r[0], sizeof(r[0]));
		prices_usd(p->image_in, r[1], sizeof(r[1]));
		prices_usd(p->image_out, r[2], sizeof(r[2]));
		prices_usd(p->text_cached, r[3], sizeof(r[3]));
		prices_usd(p->image_cached, r[4], sizeof(r[4]));
		used += (size_t)snprintf(buf + used, n - used, "%s%s %s %s %s "
		    "%s %s", i > 0 ? "; " : "", t->rows[i].model, r[0], r[1],
		    r[2], r[3], r[4]);
	}
}
