/* budgetsql.h: the budgets' SQL, written once for every backend: what the
 * attempts of a period spent and hold, per model. */
#ifndef IMGEDIT_BUDGETSQL_H
#define IMGEDIT_BUDGETSQL_H

/* An attempt under a USD budget: what it cost, else its reserve (running,
 * cut, no price); 0 when upstream did not bill it. */
#define BUDGETSQL_USD "CASE WHEN cost_status = 'not_billed' THEN 0 " \
	"ELSE coalesce(cost_usd_micro, reserve_usd_micro) END"
/* ... under a token budget: its usage's total, else its reserve (an
 * attempt without usage has total_tokens NULL while it runs, 0 after:
 * usage itself is not read, it may be a long text off the row). */
#define BUDGETSQL_TOKENS "CASE WHEN cost_status = 'not_billed' THEN 0 " \
	"ELSE coalesce(nullif(total_tokens, 0), reserve_tokens) END"

/* Per model (NULL: none): the day's dollars and tokens and the month's
 * dollars, over the attempts started from SINCE (the month's start, or
 * the day's when no monthly budget is set), DAY the day's start. Both
 * parameters are epoch ms; the attempts_started index finds the rows. */
#define BUDGETSQL_SUMS(SINCE, DAY) "SELECT model, " \
	"CAST(coalesce(sum(CASE WHEN started_at >= " DAY " THEN " \
	BUDGETSQL_USD " END), 0) AS bigint), " \
	"CAST(coalesce(sum(CASE WHEN started_at >= " DAY " THEN " \
	BUDGETSQL_TOKENS " END), 0) AS bigint), " \
	"CAST(coalesce(sum(" BUDGETSQL_USD "), 0) AS bigint) " \
	"FROM attempts WHERE started_at >= " SINCE " GROUP BY model"

/* A job's inputs as its hold counts them (P: the job id). */
#define BUDGETSQL_INPUTS(P) "(SELECT count(*) FROM inputs WHERE job_id = " \
	P " AND role = 'image'), (SELECT count(*) FROM inputs WHERE " \
	"job_id = " P " AND role <> 'image')"

#endif
