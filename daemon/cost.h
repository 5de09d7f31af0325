/* cost.h: what an attempt cost, from upstream's `usage` object and the price
 * table, in integer micro-dollars. Pure: no I/O. */
#ifndef IMGEDIT_COST_H
#define IMGEDIT_COST_H

#include <stddef.h>
#include <stdint.h>

#include "prices.h"

/* The tokens of one request as upstream's usage tells them. */
struct usage_tokens {
	int64_t	text_in;	/* input_tokens_details.text_tokens */
	int64_t	image_in;	/* input_tokens_details.image_tokens */
	int64_t	output;		/* output_tokens */
};

enum cost_status {
	COST_KNOWN,		/* *micro is the cost */
	COST_NO_USAGE,		/* none reported (a cut stream, an error) */
	COST_NO_PRICE,		/* the model has no price (or no model) */
	COST_BAD_USAGE,		/* usage is not what the API documents */
	COST_NOT_BILLED		/* no usage and an HTTP error (or nothing
				 * sent): *micro is 0 */
};

/* Reads usage_json, the `usage` object as the SDK (openai 7.55.0,
 * ImagesResponse.Usage and ImageEditCompletedEvent.Usage) types it:
 * input_tokens, input_tokens_details.{text_tokens,image_tokens},
 * output_tokens. The details must add up to input_tokens; every count is an
 * integer from 0 to PRICES_TOKENS_MAX. NULL, "" or "null" is no usage.
 * Returns COST_KNOWN with *u set, COST_NO_USAGE, or COST_BAD_USAGE with the
 * reason in why. */
enum cost_status cost_usage_parse(const char *usage_json,
    struct usage_tokens *u, char *why, size_t whylen);

/* The cost of u at p in micro-dollars: each kind's tokens times its rate,
 * summed exactly, then rounded once, half up, to the micro-dollar. No
 * cached rate applies: the SDK's usage has no cached count. u's counts
 * must be within PRICES_TOKENS_MAX and p's rates within
 * PRICES_RATE_MAX_USD (as cost_usage_parse and prices_parse ensure). */
int64_t cost_of(const struct price *p, const struct usage_tokens *u);

/* The cost of an attempt of model (the job's params.model, NULL when it
 * had none) that reported usage_json, at t's prices (t may be NULL: the
 * built-in ones). Returns COST_KNOWN with *micro set, or why it is not
 * known (the reason in why for COST_BAD_USAGE). */
enum cost_status cost_attempt(const struct price_table *t, const char *model,
    const char *usage_json, int64_t *micro, char *why, size_t whylen);

/* What an attempt that ended cost, by the rule of attempts.cost_status
 * (schema/README.md): usage reported decides (cost_attempt); without it,
 * an answer with an HTTP error (http_status >= 400) or a request never
 * sent (sent 0) is COST_NOT_BILLED at 0, anything else (a cut stream, no
 * answer) COST_NO_USAGE. */
enum cost_status cost_settle(const struct price_table *t, const char *model,
    const char *usage_json, int http_status, int sent, int64_t *micro,
    char *why, size_t whylen);

/* "known", "no_usage", "no_price", "bad_usage", "not_billed": the
 * attempts.cost_status values. */
const char *cost_status_name(enum cost_status s);

#endif
