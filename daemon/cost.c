/* cost.c: an attempt's cost from its usage object: the count's checks and
 * the exact integer arithmetic (micro-dollars, rounded half up once). */
#include "cost.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

/* obj.key as a count: an integer from 0 to PRICES_TOKENS_MAX. */
static int
count(json_t *obj, const char *path, const char *key, int64_t *out,
    char *why, size_t whylen)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > PRICES_TOKENS_MAX)
		return snprintf(why, whylen, "usage: %s%s is %s", path, key,
		    v == NULL ? "missing" : "not a count from 0 to 1e9"), -1;
	*out = (int64_t)json_integer_value(v);
	return 0;
}

enum cost_status
cost_usage_parse(const char *usage_json, struct usage_tokens *u, char *why,
    size_t whylen)
{
	json_t *root, *details;
	json_error_t jerr;
	int64_t input;
	enum cost_status rc = COST_BAD_USAGE;

	memset(u, 0, sizeof(*u));
	if (usage_json == NULL || usage_json[0] == '\0')
		return COST_NO_USAGE;
	if ((root = json_loads(usage_json, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &jerr)) ==
	    NULL) {
		snprintf(why, whylen, "usage: not JSON: %s", jerr.text);
		return COST_BAD_USAGE;
	}
	if (json_is_null(root)) {
		rc = COST_NO_USAGE;
		goto done;
	}
	if (!json_is_object(root)) {
		snprintf(why, whylen, "usage: not an object");
		goto done;
	}
	details = json_object_get(root, "input_tokens_details");
	if (!json_is_object(details)) {
		snprintf(why, whylen, "usage: input_tokens_details is %s",
		    details == NULL ? "missing" : "not an object");
		goto done;
	}
	if (count(root, "", "input_tokens", &input, why, whylen) == -1 ||
	    count(root, "", "output_tokens", &u->output, why, whylen) == -1 ||
	    count(details, "input_tokens_details.", "text_tokens", &u->text_in,
	    why, whylen) == -1 ||
	    count(details, "input_tokens_details.", "image_tokens",
	    &u->image_in, why, whylen) == -1)
		goto done;
	if (u->text_in + u->image_in != input) {
		snprintf(why, whylen, "usage: text_tokens %lld + image_tokens "
		    "%lld is not input_tokens %lld", (long long)u->text_in,
		    (long long)u->image_in, (long long)input);
		goto done;
	}
	rc = COST_KNOWN;
done:
	json_decref(root);
	if (rc != COST_KNOWN)
		memset(u, 0, sizeof(*u));
	return rc;
}

int64_t
cost_of(const struct price *p, const struct usage_tokens *u)
{
	/* tokens x micro-dollars per 1M tokens: millionths of a micro-dollar,
	 * each product at most 1e9 x 1e9, the sum below 2^63 */
	int64_t sum = u->text_in * p->text_in + u->image_in * p->image_in +
	    u->output * p->image_out;

	return (sum + 500000) / 1000000;
}

enum cost_status
cost_attempt(const struct price_table *t, const char *model,
    const char *usage_json, int64_t *micro, char *why, size_t whylen)
{
	struct usage_tokens u;
	struct price p;
	enum cost_status rc;

	*micro = 0;
	if ((rc = cost_usage_parse(usage_json, &u, why, whylen)) != COST_KNOWN)
		return rc;
	if (prices_lookup(t, model, &p) == -1)
		return COST_NO_PRICE;
	*micro = cost_of(&p, &u);
	return COST_KNOWN;
}

enum cost_status
cost_settle(const struct price_table *t, const char *model,
    const char *usage_json, int http_status, int sent, int64_t *micro,
    char *why, size_t whylen)
{
	enum cost_status rc;

	rc = cost_attempt(t, model, usage_json, micro, why, whylen);
	if (rc == COST_NO_USAGE && (http_status >= 400 || !sent))
		return COST_NOT_BILLED;	/* *micro is 0 */
	return rc;
}

const char *
cost_status_name(enum cost_status s)
{
	switch (s) {
	case COST_NOT_BILLED:
		return "not_billed";
	case COST_KNOWN:
		return "known";
	case COST_NO_USAGE:
		return "no_usage";
	case COST_NO_PRICE:
		return "no_price";
	case COST_BAD_USAGE:
		break;
	}
	return "bad_usage";
}
