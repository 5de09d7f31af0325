/* budget.h: the budgets: their settings, what a job holds against them, and
 * whether it fits beside what the period spent and holds. Pure: no I/O. */
#ifndef IMGEDIT_BUDGET_H
#define IMGEDIT_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#include "prices.h"

enum budget_kind {
	BUDGET_DAILY_USD,	/* micro-dollars a day */
	BUDGET_MONTHLY_USD,	/* micro-dollars a month */
	BUDGET_DAILY_TOKENS,	/* tokens a day */
	BUDGET_KINDS
};

/* Budget lines at most (each kind, for all models or one). */
#define BUDGET_MAX 32
/* The largest limit: $1,000,000,000 or 10^15 tokens. */
#define BUDGET_USD_MAX		1000000000LL
#define BUDGET_TOKENS_MAX	1000000000000000LL

struct budget_limit {
	enum budget_kind kind;
	char	model[65];	/* "" all models; else a models.c family (its
				 * snapshots follow it) or an exact name */
	int64_t	limit;		/* micro-dollars or tokens */
};

/* The budgets in force; zeroed is none. A plain value: copy it whole. */
struct budget_set {
	struct budget_limit rows[BUDGET_MAX];
	size_t n;
};

/* The kind a setting's name names ("budget-daily-usd", ...), or -1. */
int budget_kind_of(const char *key);
/* The setting's name of kind k. */
const char *budget_key(enum budget_kind k);
/* 1 when k's period is the month, 0 the day. */
int budget_monthly(enum budget_kind k);
/* 1 when k counts micro-dollars, 0 tokens. */
int budget_in_usd(enum budget_kind k);

/* Parses a budget setting's value, "[MODEL] AMOUNT": dollars (plain
 * decimal, at most six places) for the USD kinds, an integer for tokens;
 * without MODEL the budget holds all models together. Returns 0, or -1
 * with "KEY: reason" (naming the offending item) in err. */
int budget_parse(enum budget_kind k, const char *value,
    struct budget_limit *out, char *err, size_t errlen);

/* Adds l to s, replacing s's row of the same kind and model. Returns 0,
 * or -1 when s is full (BUDGET_MAX). */
int budget_set_add(struct budget_set *s, const struct budget_limit *l);

/* s's rows as the settings spell them, "; " between, into buf (truncated
 * to n); "" when s is empty. */
void budget_format(const struct budget_set *s, char *buf, size_t n);

/* What one model's attempts spent and hold in the periods of a check:
 * each attempt at what it cost, or at its reserve while that is not known
 * (running, cut, no price); an attempt upstream did not bill at 0. */
struct budget_spent {
	char	model[65];	/* attempts.model; "" none */
	int64_t	day_usd, day_tokens, month_usd;
};

/* The periods' sums, one row per model. Zeroed is empty. */
struct budget_sums {
	struct budget_spent *rows;
	size_t n, cap;
};

/* Adds the amounts to model's row (model NULL: none; a name longer than
 * 64 bytes is cut). A negative amount adds nothing; sums stop at
 * INT64_MAX. Returns 0 or -1 (no memory). */
int budget_sums_add(struct budget_sums *s, const char *model,
    int64_t day_usd, int64_t day_tokens, int64_t month_usd);
void budget_sums_free(struct budget_sums *s);

/* What l's budget has spent and holds in its period, by s. */
int64_t budget_spent_under(const struct budget_limit *l,
    const struct budget_sums *s);

/* Whether an attempt of model counts under l: l is for all models, or
 * for model's family (or its exact name). */
int budget_applies(const struct budget_limit *l, const char *model);

/* What a job holds against the budgets while it runs: its estimate's high
 * end (estimate.h). Where the estimate has no bound, chosen here:
 *  - quality xhigh, max or one no table knows: twice high's output tokens;
 *  - a model with no token table (none, retired, unknown): the tokens of
 *    gpt-image-2's table; its price if one is known, else usd = -1;
 *  - a size the table cannot read: the largest size, 3840x2160;
 *  - params that are not a JSON object: nothing (the daemon refuses the
 *    job without a request). */
struct budget_need {
	char	model[65];	/* params.model; "" none */
	int64_t	usd;		/* micro-dollars; -1: no price known, not
				 * held by the USD budgets */
	int64_t	tokens;
};

/* The need of a job whose params are params_json (the stored text), that
 * streams or not, with nimages images and nmasks masks or markups, at t's
 * prices (NULL: the built-in ones). */
void budget_need_of(const struct price_table *t, const char *params_json,
    int stream, size_t nimages, size_t nmasks, struct budget_need *need);

/* The answer of a check. */
struct budget_verdict {
	int	crossed;		/* 0: the job fits every budget */
	struct budget_limit limit;	/* else the first it would cross, */
	int64_t	spent;			/* what that one spent and holds, */
	int64_t	need;			/* and what the job would add */
};

/* Whether need fits each budget of b beside what s holds: spent + held +
 * need <= limit, for each budget that applies to need's model (a USD
 * budget holds no job without a price). Pure. */
void budget_check(const struct budget_set *b, const struct budget_sums *s,
    const struct budget_need *need, struct budget_verdict *v);

/* need's amounts added to s (after it fitted: the next job of the same
 * claim sees them). Returns 0 or -1 (no memory). */
int budget_hold(struct budget_sums *s, const struct budget_need *need);

/* The pause reason of a crossed verdict, "budget: daily tokens 4800 of
 * 5000 (all models), the next job needs 1806, until UNTIL". */
void budget_reason(const struct budget_verdict *v, const char *until,
    char *buf, size_t n);

/* l's amount as text: "12.5" (dollars) or "5000" (tokens). */
void budget_amount(const struct budget_limit *l, int64_t amount, char *buf,
    size_t n);

/* What a claim needs to hold jobs under the budgets: a copy of the
 * settings of the moment and the periods that hold now. */
struct budget_claim {
	struct budget_set limits;
	struct price_table prices;	/* owned: budget_claim_free */
	int64_t day_start, month_start;	/* epoch ms */
};

/* Where the sums of a claim begin: the month's start when a monthly
 * budget is set, else the day's. */
int64_t budget_claim_since(const struct budget_claim *c);

/* Frees what c owns and c; NULL is nothing. */
void budget_claim_free(struct budget_claim *c);

#endif
