/* budgets.c: the budgets of the settings beside what the attempts of their
 * periods spent and hold, for submit --estimate and status. */
#include "budgets.h"

#include <string.h>

#include "period.h"
#include "prices.h"

int
ctl_budgets_read(struct catalog *cat, const struct budget_set *b,
    int64_t now, struct budget_claim *bc, struct budget_sums *s)
{
	int64_t end;

	memset(bc, 0, sizeof(*bc));
	bc->limits = *b;
	if (period_bounds(PERIOD_DAY, now, &bc->day_start, &end) == -1 ||
	    period_bounds(PERIOD_MONTH, now, &bc->month_start, &end) == -1)
		return CATALOG_ERR;
	return catalog_budget_sums(cat, budget_claim_since(bc), bc->day_start,
	    s);
}

/* amount as dollars, a JSON string */
static json_t *
usd(int64_t micro)
{
	char buf[32];

	prices_usd(micro, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *
budget_row(const struct budget_limit *l, const struct budget_sums *s,
    int64_t now)
{
	int64_t spent = budget_spent_under(l, s), start, end = 0;
	int64_t left = spent < l->limit ? l->limit - spent : 0;
	int64_t over = spent > l->limit ? spent - l->limit : 0;
	char until[64] = "";
	json_t *o;

	if (period_bounds(budget_monthly(l->kind) ? PERIOD_MONTH : PERIOD_DAY,
	    now, &start, &end) == 0)
		period_format(end, until, sizeof(until));
	o = json_pack("{s:s,s:o,s:s,s:s,s:I,s:I,s:I,s:I,s:s,s:I}",
	    "setting", budget_key(l->kind),
	    "model", l->model[0] ? json_string(l->model) : json_null(),
	    "period", budget_monthly(l->kind) ? "month" : "day",
	    "unit", budget_in_usd(l->kind) ? "micro_usd" : "tokens",
	    "limit", (json_int_t)l->limit, "spent", (json_int_t)spent,
	    "left", (json_int_t)left, "over", (json_int_t)over,
	    "until", until, "until_ms", (json_int_t)end);
	if (o != NULL && budget_in_usd(l->kind) &&
	    (json_object_set_new(o, "limit_usd", usd(l->limit)) == -1 ||
	    json_object_set_new(o, "spent_usd", usd(spent)) == -1 ||
	    json_object_set_new(o, "left_usd", usd(left)) == -1 ||
	    json_object_set_new(o, "over_usd", usd(over)) == -1)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
ctl_budgets_doc(const struct budget_set *b, const struct budget_sums *s,
    int64_t now)
{
	json_t *arr = json_array(), *o;
	size_t i;

	for (i = 0; arr != NULL && i < b->n; i++)
		if ((o = budget_row(&b->rows[i], s, now)) == NULL ||
		    json_array_append_new(arr, o) == -1) {
			json_decref(arr);
			arr = NULL;
		}
	return arr;
}

/* a row's amount: "$12.5" or "5000 tokens" */
static void
amount(const json_t *row, const char *key, char *buf, size_t n)
{
	int64_t v = json_integer_value(json_object_get(row, key));
	char usd[32];

	if (strcmp(json_string_value(json_object_get(row, "unit")),
	    "tokens") == 0) {
		snprintf(buf, n, "%lld tokens", (long long)v);
		return;
	}
	prices_usd(v, usd, sizeof(usd));
	snprintf(buf, n, "$%s", usd);
}

void
ctl_budgets_print(FILE *f, const char *prefix, const json_t *doc)
{
	const json_t *row;
	char limit[48], spent[48], left[48], over[48];
	const char *setting, *model;
	size_t i;

	json_array_foreach(doc, i, row) {
		setting = json_string_value(json_object_get(row, "setting"));
		model = json_string_value(json_object_get(row, "model"));
		amount(row, "limit", limit, sizeof(limit));
		amount(row, "spent", spent, sizeof(spent));
		amount(row, "left", left, sizeof(left));
		amount(row, "over", over, sizeof(over));
		fprintf(f, "%s%s (%s): %s of %s spent or held, %s left until "
		    "%s", prefix, setting + strlen("budget-"), model ? model :
		    "all models", spent, limit, left,
		    json_string_value(json_object_get(row, "until")));
		if (json_integer_value(json_object_get(row, "over")) > 0)
			fprintf(f, "; %s over: transfers in flight ended past "
			    "it", over);
		fprintf(f, "\n");
	}
}
