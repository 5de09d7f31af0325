/* storesql.h: the SQL text of the daemon's store that both backends share,
 * their parameters named by each (SQLite ?N, PostgreSQL $N::type). */
#ifndef IMGEDIT_STORESQL_H
#define IMGEDIT_STORESQL_H

/* What an attempt's end sets of its cost (attempt_result's model,
 * cost_usd_micro, cost_status, hold_*): the model and hold the claim wrote
 * (the budgets') are kept, else the end's are written, so neither
 * overwrites the other. */
#define STORESQL_COST_SET(model, micro, status, hold_usd, hold_tokens) \
	"model = coalesce(model, " model "), cost_usd_micro = " micro ", " \
	"cost_status = " status ", reserve_usd_micro = coalesce(" \
	"reserve_usd_micro, " hold_usd "), reserve_tokens = coalesce(" \
	"reserve_tokens, " hold_tokens ")"

/* An attempt closed because its daemon lost the lease: no usage came. */
#define STORESQL_LOST_COST "cost_status = 'no_usage'"

#endif
