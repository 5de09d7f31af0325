/* budget.c: the budget settings' parser, a job's hold from its estimate,
 * and the check of spent + held + the job against each budget. */
#include "budget.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "estimate.h"
#include "job.h"
#include "jobspec.h"
#include "models.h"

static const struct {
	const char *key, *name;
	int monthly, usd;
} kinds[BUDGET_KINDS] = {
	[BUDGET_DAILY_USD] = { "budget-daily-usd", "daily USD", 0, 1 },
	[BUDGET_MONTHLY_USD] = { "budget-monthly-usd", "monthly USD", 1, 1 },
	[BUDGET_DAILY_TOKENS] = { "budget-daily-tokens", "daily tokens", 0, 0 },
};

int
budget_kind_of(const char *key)
{
	int k;

	for (k = 0; key != NULL && k < BUDGET_KINDS; k++)
		if (strcmp(kinds[k].key, key) == 0)
			return k;
	return -1;
}

const char *
budget_key(enum budget_kind k)
{
	return kinds[k].key;
}

int
budget_monthly(enum budget_kind k)
{
	return kinds[k].monthly;
}

int
budget_in_usd(enum budget_kind k)
{
	return kinds[k].usd;
}

/* ---- the settings ---- */

/* "D[.DDDDDD]" dollars up to BUDGET_USD_MAX, or digits up to
 * BUDGET_TOKENS_MAX, into *out. */
static int
parse_amount(int usd, const char *s, size_t len, int64_t *out)
{
	int64_t whole = 0;
	size_t i;

	if (usd)
		return prices_parse_usd(s, len, BUDGET_USD_MAX, out);
	if (len == 0)
		return -1;
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]) ||
		    (whole = whole * 10 + (s[i] - '0')) > BUDGET_TOKENS_MAX)
			return -1;
	*out = whole;
	return 0;
}

static int
model_name_ok(const char *w, size_t len)
{
	size_t i;

	if (len == 0 || len > 64)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)w[i]) && strchr(".-_:/", w[i]) ==
		    NULL)
			return 0;
	return 1;
}

int
budget_parse(enum budget_kind k, const char *value, struct budget_limit *out,
    char *err, size_t errlen)
{
	const char *s = value, *w[3], *unit = kinds[k].usd ? "dollars (a "
	    "plain decimal, at most 6 places)" : "tokens (an integer)";
	size_t len[3], n;

	memset(out, 0, sizeof(*out));
	out->kind = k;
	for (n = 0; n < 3 && (len[n] = prices_next_word(&s, &w[n])) != 0; n++)
		;
	if (n == 0 || n == 3)
		return snprintf(err, errlen, "%s: expected [MODEL] AMOUNT in "
		    "%s", kinds[k].key, unit), -1;
	if (n == 2) {
		if (!model_name_ok(w[0], len[0]))
			return snprintf(err, errlen, "%s: '%.*s' is not a model "
			    "name (letters, digits, '.', '-', '_', at most 64)",
			    kinds[k].key, (int)(len[0] > 64 ? 64 : len[0]),
			    w[0]), -1;
		memcpy(out->model, w[0], len[0]);
	}
	if (parse_amount(kinds[k].usd, w[n - 1], len[n - 1], &out->limit) ==
	    -1)
		return snprintf(err, errlen, "%s: '%.*s' is not an amount in "
		    "%s, from 0 to %lld", kinds[k].key, (int)(len[n - 1] > 40 ?
		    40 : len[n - 1]), w[n - 1], unit, (long long)(kinds[k].usd ?
		    BUDGET_USD_MAX : BUDGET_TOKENS_MAX)), -1;
	return 0;
}

int
budget_set_add(struct budget_set *s, const struct budget_limit *l)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->rows[i].kind == l->kind &&
		    strcmp(s->rows[i].model, l->model) == 0) {
			s->rows[i] = *l;
			return 0;
		}
	if (s->n == BUDGET_MAX)
		return -1;
	s->rows[s->n++] = *l;
	return 0;
}

void
budget_amount(const struct budget_limit *l, int64_t amount, char *buf,
    size_t n)
{
	if (kinds[l->kind].usd)
		prices_usd(amount, buf, n);
	else
		snprintf(buf, n, "%lld", (long long)amount);
}

void
budget_format(const struct budget_set *s, char *buf, size_t n)
{
	char a[32];
	size_t i, used = 0;

	if (n > 0)
		buf[0] = '\0';
	for (i = 0; i < s->n && used < n; i++) {
		budget_amount(&s->rows[i], s->rows[i].limit, a, sizeof(a));
		used += (size_t)snprintf(buf + used, n - used, "%s%s %s%s%s",
		    i > 0 ? "; " : "", kinds[s->rows[i].kind].key,
		    s->rows[i].model, s->rows[i].model[0] ? " " : "", a);
	}
}

/* ---- what the periods hold ---- */

/* a + b for sums of rows another program may have written: a negative
 * amount adds nothing, a sum past INT64_MAX stays there. a >= 0. */
static int64_t
add_spent(int64_t a, int64_t b)
{
	if (b <= 0)
		return a;
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

int
budget_sums_add(struct budget_sums *s, const char *model, int64_t day_usd,
    int64_t day_tokens, int64_t month_usd)
{
	struct budget_spent *row = NULL, *grown;
	char name[65];
	size_t i;

	snprintf(name, sizeof(name), "%s", model != NULL ? model : "");
	for (i = 0; i < s->n && row == NULL; i++)
		if (strcmp(s->rows[i].model, name) == 0)
			row = &s->rows[i];
	if (row == NULL) {
		if (s->n == s->cap) {
			grown = reallocarray(s->rows, s->cap ? s->cap * 2 : 8,
			    sizeof(*grown));
			if (grown == NULL)
				return -1;
			s->rows = grown;
			s->cap = s->cap ? s->cap * 2 : 8;
		}
		row = &s->rows[s->n++];
		memset(row, 0, sizeof(*row));
		memcpy(row->model, name, sizeof(name));
	}
	row->day_usd = add_spent(row->day_usd, day_usd);
	row->day_tokens = add_spent(row->day_tokens, day_tokens);
	row->month_usd = add_spent(row->month_usd, month_usd);
	return 0;
}

void
budget_sums_free(struct budget_sums *s)
{
	free(s->rows);
	memset(s, 0, sizeof(*s));
}

/* The name a model is budgeted under: its family's, or its own. */
static const char *
budget_name(const char *model)
{
	const struct model_family *f = models_find(model);

	return f->name == NULL ? model : f->name;
}

int
budget_applies(const struct budget_limit *l, const char *model)
{
	if (l->model[0] == '\0')
		return 1;
	if (model == NULL || model[0] == '\0')
		return 0;
	return strcmp(budget_name(l->model), budget_name(model)) == 0;
}

int64_t
budget_spent_under(const struct budget_limit *l, const struct budget_sums *s)
{
	const struct budget_spent *r;
	int64_t sum = 0;
	size_t i;

	for (i = 0; i < s->n; i++) {
		r = &s->rows[i];
		if (!budget_applies(l, r->model))
			continue;
		sum = add_spent(sum, l->kind == BUDGET_DAILY_USD ? r->day_usd :
		    l->kind == BUDGET_MONTHLY_USD ? r->month_usd :
		    r->day_tokens);
	}
	return sum;
}

/* ---- a job's hold ---- */

static int64_t
tokens_of(const struct usage_tokens *u)
{
	return u->text_in + u->image_in + u->output;
}

void
budget_need_of(const struct price_table *t, const char *params_json,
    int stream, size_t nimages, size_t nmasks, struct budget_need *need)
{
	static const struct estimate_image sizeless[STORE_INPUTS_MAX];
	struct estimate_job j;
	struct estimate e;
	struct price p;
	json_t *params, *v;
	const char *model;
	int unbounded;

	memset(need, 0, sizeof(*need));
	params = params_json != NULL ? json_loads(params_json, 0, NULL) : NULL;
	if (!json_is_object(params)) {
		json_decref(params);
		return;
	}
	memset(&j, 0, sizeof(j));
	model = jobspec_model(params);
	snprintf(need->model, sizeof(need->model), "%s", model ? model : "");
	j.model = model;
	j.n = jobspec_n(params);
	j.size = json_string_value(json_object_get(params, "size"));
	j.quality = json_string_value(json_object_get(params, "quality"));
	/* xhigh, max and any quality no table knows (a model the daemon
	 * does not check sends it as is): twice high, never nothing */
	unbounded = j.quality != NULL && strcmp(j.quality, "low") != 0 &&
	    strcmp(j.quality, "medium") != 0 && strcmp(j.quality, "high") != 0 &&
	    strcmp(j.quality, "auto") != 0;
	if (unbounded)
		j.quality = "high";
	if (stream)
		j.partial_images = jobspec_partial_images(params);
	if ((v = json_object_get(params, "prompt")) != NULL)
		j.prompt_bytes = json_string_length(v);
	/* images of no size: the high end needs none; more than a job may
	 * have are refused without a request */
	j.images = sizeless;
	j.nimages = nimages < STORE_INPUTS_MAX ? nimages : STORE_INPUTS_MAX;
	j.nmasks = nmasks < 2 ? nmasks : 2;
	estimate_job(t, &j, &e);
	if (!e.known) {		/* tokens as gpt-image-2's table has them */
		j.model = "gpt-image-2";
		estimate_job(t, &j, &e);
	}
	if (!e.known) {		/* a size the table cannot read */
		j.size = "3840x2160";
		estimate_job(t, &j, &e);
	}
	if (unbounded)
		e.hi.output += e.hi.output - j.partial_images *
		    ESTIMATE_PARTIAL_TOKENS * (j.n < 1 ? 1 : j.n);
	need->tokens = tokens_of(&e.hi);
	need->usd = model != NULL && prices_lookup(t, model, &p) == 0 ?
	    cost_of(&p, &e.hi) : -1;
	json_decref(params);
}

/* ---- the check ---- */

void
budget_check(const struct budget_set *b, const struct budget_sums *s,
    const struct budget_need *need, struct budget_verdict *v)
{
	const struct budget_limit *l;
	int64_t spent, add;
	size_t i;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < b->n; i++) {
		l = &b->rows[i];
		if (!budget_applies(l, need->model))
			continue;
		add = kinds[l->kind].usd ? need->usd : need->tokens;
		if (add < 0)
			continue;	/* no price: not held in dollars */
		spent = budget_spent_under(l, s);
		if (spent <= l->limit && add <= l->limit - spent)
			continue;
		v->crossed = 1;
		v->limit = *l;
		v->spent = spent;
		v->need = add;
		return;
	}
}

int
budget_hold(struct budget_sums *s, const struct budget_need *need)
{
	int64_t usd = need->usd < 0 ? 0 : need->usd;

	return budget_sums_add(s, need->model, usd, need->tokens, usd);
}

void
budget_reason(const struct budget_verdict *v, const char *until, char *buf,
    size_t n)
{
	char spent[32], limit[32], need[32];

	budget_amount(&v->limit, v->spent, spent, sizeof(spent));
	budget_amount(&v->limit, v->limit.limit, limit, sizeof(limit));
	budget_amount(&v->limit, v->need, need, sizeof(need));
	snprintf(buf, n, "budget: %s %s of %s (%s), the next job needs %s, "
	    "until %s", kinds[v->limit.kind].name, spent, limit,
	    v->limit.model[0] ? v->limit.model : "all models", need, until);
}

/* ---- a claim ---- */

int64_t
budget_claim_since(const struct budget_claim *c)
{
	size_t i;

	for (i = 0; i < c->limits.n; i++)
		if (kinds[c->limits.rows[i].kind].monthly &&
		    c->month_start < c->day_start)
			return c->month_start;
	return c->day_start;
}

void
budget_claim_free(struct budget_claim *c)
{
	if (c == NULL)
		return;
	prices_free(&c->prices);
	free(c);
}
