/* prices.h: what upstream charges per token, one row per model family of
 * models.c (snapshots priced as their family), overridable by the settings. */
#ifndef IMGEDIT_PRICES_H
#define IMGEDIT_PRICES_H

#include <stddef.h>
#include <stdint.h>

/* When the built-in prices were read (prices.c says where). */
#define PRICES_READ	"2026-12-07"

/* The largest rate accepted, USD per 1M tokens: keeps tokens x rate within
 * int64_t for up to PRICES_TOKENS_MAX tokens of each kind. */
#define PRICES_RATE_MAX_USD	1000
#define PRICES_TOKENS_MAX	1000000000LL

/* USD per 1M tokens, in integer micro-dollars: $5.00 is 5000000. */
struct price {
	int64_t	text_in, text_cached;
	int64_t	image_in, image_cached;
	int64_t	image_out;
};

/* A price from the settings: MODEL is a family name of models.c (its
 * snapshots follow it) or, for a model the table does not know, the exact
 * name upstream is sent. */
struct price_override {
	char		model[65];
	struct price	price;
};

/* The overrides in force; zeroed is empty. */
struct price_table {
	struct price_override	*rows;
	size_t			 n;
};

/* The built-in price of the family named family (a models.c row name), or
 * NULL when none is known. The result is static. */
const struct price *prices_builtin(const char *family);

/* The price of model (any name upstream is sent, snapshots included):
 * t's override for its family (or for the exact name of a model the table
 * does not know), else the built-in one. Returns 0 with *out set, or -1:
 * no price known (model NULL, unknown, or a family with no price). */
int prices_lookup(const struct price_table *t, const char *model,
    struct price *out);

/* Parses "MODEL TEXT_IN IMAGE_IN IMAGE_OUT [TEXT_CACHED IMAGE_CACHED]", the
 * value of a `price` setting: USD per 1M tokens, plain decimals with at most
 * six places (5, 1.25, 0.000001). Without the cached rates they equal the
 * uncached ones. A dated snapshot is refused: prices are per family.
 * Returns 0, or -1 with the reason (naming the offending item) in err. */
int prices_parse(const char *value, struct price_override *out, char *err,
    size_t errlen);

/* "D[.DDDDDD]", the len bytes at s: dollars as a plain decimal with at
 * most six places, at most max_usd (< 9e12), into micro-dollars. Returns
 * 0, or -1 when it is not one. */
int prices_parse_usd(const char *s, size_t len, int64_t max_usd,
    int64_t *out);

/* The next whitespace-separated word of *s: its start into *word, its
 * length returned (0: none left); *s moves past it. */
size_t prices_next_word(const char **s, const char **word);

/* Adds o to t, replacing t's row for the same model. Returns 0 or -1 (no
 * memory). */
int prices_set(struct price_table *t, const struct price_override *o);

/* Copies src into dst (empty first). Returns 0 or -1 (no memory). */
int prices_copy(struct price_table *dst, const struct price_table *src);
void prices_free(struct price_table *t);

/* t's rows as the settings spell them, "; " between, into buf (truncated to
 * n); "" when t is empty. */
void prices_format(const struct price_table *t, char *buf, size_t n);

/* Micro-dollars as a decimal number of dollars, "0.21072" ("0" for 0),
 * into buf of at least 24 bytes. */
void prices_usd(int64_t micro, char *buf, size_t n);

/* A cost for people: "$0.21072"; with lower_bound (some of it is not
 * known), "\u2265$0.21072", or "?" when nothing of it is known (micro 0).
 * buf of at least 32 bytes. */
void prices_cost_text(int64_t micro, int lower_bound, char *buf, size_t n);

#endif
