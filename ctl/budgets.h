/* budgets.h: what the settings' budgets leave now, from the attempts in the
 * database: one document for submit --estimate and status, and its text. */
#ifndef IMGEDIT_CTL_BUDGETS_H
#define IMGEDIT_CTL_BUDGETS_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "budget.h"
#include "catalog.h"

/* The periods of now (in the process's time zone: period_set_zone first)
 * and what the attempts in them spent and hold, as the daemons count
 * them. Returns CATALOG_OK with *bc set (its limits b's, no prices) and s
 * filled (caller frees: budget_sums_free), or a catalog error. */
int ctl_budgets_read(struct catalog *cat, const struct budget_set *b,
    int64_t now, struct budget_claim *bc, struct budget_sums *s);

/* One object per budget of b: "setting", "model" (null: all), "period"
 * ("day", "month"), "unit" ("micro_usd" or "tokens"), "limit", "spent"
 * (spent and held), "left" (limit - spent, at least 0), "over" (spent -
 * limit, at least 0: what transfers in flight ended past it), "until"
 * (the period's end as local time) and "until_ms"; USD ones also as
 * dollars in "limit_usd", "spent_usd", "left_usd", "over_usd". Caller
 * owns the array; NULL when out of memory. */
json_t *ctl_budgets_doc(const struct budget_set *b, const struct budget_sums *s,
    int64_t now);

/* doc's rows as lines "PREFIX daily tokens: ..." on f. */
void ctl_budgets_print(FILE *f, const char *prefix, const json_t *doc);

#endif
