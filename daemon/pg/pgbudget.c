/* pg/pgbudget.c: the claim under budgets on PostgreSQL: an advisory lock,
 * a fresh read of the ready jobs and the periods' sums, the held claim. */
#include "pgbudget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budgetsql.h"
#include "job.h"

#define LOCK_STMT "imgedit_budget_lock"
#define READY_STMT "imgedit_budget_ready"
#define SUMS_STMT "imgedit_budget_sums"
#define UNLOCK_STMT "imgedit_budget_unlock"

/* pg_advisory_lock's key for the budgets: "imgb" */
#define LOCK_KEY "1768777570"

static const char lock_sql[] = "SELECT pg_advisory_lock(" LOCK_KEY ")";
/* all of this session's: the lock is a session lock, counted per
 * pg_advisory_lock, so a count left over by any path (seen once under
 * load in t_pg_budget: one daemon kept it and the others waited) goes
 * with the next unlock; the daemon's connection holds no other session
 * lock (migrations take transaction locks) */
static const char unlock_sql[] = "SELECT pg_advisory_unlock_all()";
/* $1 now, $2 how many, $3 params limit: a row per ready job, in the
 * claim's order: id, out of attempts, stream, params (NULL over the
 * limit: refused unread), images, masks */
static const char ready_sql[] =
    "SELECT j.id, (j.attempts >= j.max_attempts)::int, j.stream::int,"
    " CASE WHEN octet_length(j.params::text) <= $3::bigint"
    " THEN j.params::text END, " BUDGETSQL_INPUTS("j.id")
    " FROM jobs j WHERE j.state IN ('queued','retry_wait')"
    " AND j.not_before <= $1::bigint ORDER BY j.priority DESC, j.id"
    " LIMIT $2::int";
static const char sums_sql[] = BUDGETSQL_SUMS("$1::bigint", "$2::bigint");

struct bclaim {
	struct pgconn *c;
	char daemon_id[128];
	int64_t now, lease_ms;
	int want;
	const struct budget_claim *bc;
	struct budget_verdict *v;
	pgstore_claim_fn done;
	void *arg;
	char p[3][24];
	const char *values[3];
	int pending;                /* statements out */
	int answered;               /* done ran */
	int n;                      /* ready jobs read */
	int64_t ids[PGSTORE_CLAIM_MAX];
	int exhausted[PGSTORE_CLAIM_MAX];
	struct budget_need needs[PGSTORE_CLAIM_MAX];
};

static const struct pgconn_reply not_sent = {
	.lost = 1, .sqlstate = PGCONN_LOST_STATE,
	.error = "the connection to PostgreSQL is down",
};

static void
bclaim_release(struct bclaim *b)
{
	if (b->answered && b->pending == 0)
		free(b);
}

/* done with n jobs (or -1 and rep). */
static void
answer(struct bclaim *b, int n, struct claimed_job **jobs,
    const struct pgconn_reply *rep)
{
	struct claimed_job *none[1] = { NULL };

	b->answered = 1;
	b->done(b->arg, n, jobs != NULL ? jobs : none, rep);
}

static int
bsend(struct bclaim *b, const char *stmt, int nparams, pgconn_done_fn fn)
{
	struct pgconn_query q = { .stmt = stmt, .nparams = nparams,
	    .values = b->values, .done = fn, .arg = b };

	if (pgconn_query(b->c, &q) == -1)
		return -1;
	b->pending++;
	return 0;
}

static void
on_unlock(void *arg, struct pgconn_reply *rep)
{
	struct bclaim *b = arg;

	b->pending--;
	/* the lock would stay held: a new session lets it go */
	if (!rep->ok && !rep->lost)
		pgconn_close(b->c, "the budget lock could not be let go");
	bclaim_release(b);
}

/* The lock is ours: let it go (closing the connection if it cannot be
 * asked). */
static void
unlock(struct bclaim *b)
{
	if (bsend(b, UNLOCK_STMT, 0, on_unlock) == -1)
		pgconn_close(b->c, "the budget lock could not be let go");
}

static void
on_claimed(void *arg, int n, struct claimed_job **jobs,
    const struct pgconn_reply *rep)
{
	struct bclaim *b = arg;

	b->pending--;
	answer(b, n, jobs, rep);
	bclaim_release(b);
}

/* The jobs that fit, in order, until one would cross a budget. */
static int
fitting(struct bclaim *b, struct budget_sums *sums, int64_t *usd,
    int64_t *tokens)
{
	int i;

	for (i = 0; i < b->n; i++) {
		usd[i] = -1;
		tokens[i] = 0;
		if (b->exhausted[i])
			continue;	/* the claim fails it: nothing is sent */
		budget_check(&b->bc->limits, sums, &b->needs[i], b->v);
		if (b->v->crossed || budget_hold(sums, &b->needs[i]) == -1)
			break;
		usd[i] = b->needs[i].usd;
		tokens[i] = b->needs[i].tokens;
	}
	return i;
}

static int
read_sums(const PGresult *res, struct budget_sums *s)
{
	int row;

	if (PQnfields(res) != 4)
		return -1;
	for (row = 0; row < PQntuples(res); row++)
		if (budget_sums_add(s, PQgetisnull(res, row, 0) ? NULL :
		    PQgetvalue(res, row, 0), strtoll(PQgetvalue(res, row, 1),
		    NULL, 10), strtoll(PQgetvalue(res, row, 2), NULL, 10),
		    strtoll(PQgetvalue(res, row, 3), NULL, 10)) == -1)
			return -1;
	return 0;
}

static void
on_sums(void *arg, struct pgconn_reply *rep)
{
	struct bclaim *b = arg;
	struct budget_sums sums;
	int64_t usd[PGSTORE_CLAIM_MAX], tokens[PGSTORE_CLAIM_MAX];
	int k;

	b->pending--;
	memset(&sums, 0, sizeof(sums));
	if (!rep->ok || read_sums(rep->res, &sums) == -1) {
		if (rep->ok) {
			rep->ok = 0;
			rep->error = "the budget's sums are not what they should be";
		}
		if (!rep->lost)
			unlock(b);
		answer(b, -1, NULL, rep);
	} else if ((k = fitting(b, &sums, usd, tokens)) == 0) {
		unlock(b);
		answer(b, 0, NULL, rep);
	} else if (pgstore_claim_held(b->c, b->daemon_id, b->now, b->lease_ms,
	    b->ids, usd, tokens, k, on_claimed, b) == -1) {
		unlock(b);
		answer(b, -1, NULL, &not_sent);
	} else {
		b->pending++;
		unlock(b);
	}
	budget_sums_free(&sums);
	bclaim_release(b);
}

static int
read_ready(struct bclaim *b, const PGresult *res)
{
	int row;

	if (PQnfields(res) != 6 || PQntuples(res) > PGSTORE_CLAIM_MAX)
		return -1;
	for (row = 0; row < PQntuples(res); row++) {
		b->ids[row] = strtoll(PQgetvalue(res, row, 0), NULL, 10);
		b->exhausted[row] = strcmp(PQgetvalue(res, row, 1), "1") == 0;
		budget_need_of(&b->bc->prices, PQgetisnull(res, row, 3) ? NULL :
		    PQgetvalue(res, row, 3), strcmp(PQgetvalue(res, row, 2),
		    "1") == 0, (size_t)strtoll(PQgetvalue(res, row, 4), NULL,
		    10), (size_t)strtoll(PQgetvalue(res, row, 5), NULL, 10),
		    &b->needs[row]);
	}
	b->n = PQntuples(res);
	return 0;
}

static void
on_ready(void *arg, struct pgconn_reply *rep)
{
	struct bclaim *b = arg;

	b->pending--;
	if (!rep->ok || read_ready(b, rep->res) == -1) {
		if (rep->ok) {
			rep->ok = 0;
			rep->error = "the ready jobs are not what they should be";
		}
		if (!rep->lost)
			unlock(b);
		answer(b, -1, NULL, rep);
	} else if (b->n == 0) {
		unlock(b);
		answer(b, 0, NULL, rep);
	} else {
		snprintf(b->p[0], sizeof(b->p[0]), "%lld",
		    (long long)budget_claim_since(b->bc));
		snprintf(b->p[1], sizeof(b->p[1]), "%lld",
		    (long long)b->bc->day_start);
		if (bsend(b, SUMS_STMT, 2, on_sums) == -1) {
			unlock(b);
			answer(b, -1, NULL, &not_sent);
		}
	}
	bclaim_release(b);
}

static void
on_lock(void *arg, struct pgconn_reply *rep)
{
	struct bclaim *b = arg;

	b->pending--;
	if (!rep->ok)
		answer(b, -1, NULL, rep);	/* not ours: nothing to let go */
	else if (bsend(b, READY_STMT, 3, on_ready) == -1) {
		unlock(b);
		answer(b, -1, NULL, &not_sent);
	}
	bclaim_release(b);
}

int
pgbudget_claim(struct pgconn *c, const char *daemon_id, int64_t now,
    int64_t lease_ms, int want, const struct budget_claim *bc,
    struct budget_verdict *v, pgstore_claim_fn done, void *arg)
{
	struct bclaim *b;

	if (want < 1 || want > PGSTORE_CLAIM_MAX ||
	    (b = calloc(1, sizeof(*b))) == NULL)
		return -1;
	memset(v, 0, sizeof(*v));
	b->c = c;
	snprintf(b->daemon_id, sizeof(b->daemon_id), "%s", daemon_id);
	b->now = now;
	b->lease_ms = lease_ms;
	b->want = want;
	b->bc = bc;
	b->v = v;
	b->done = done;
	b->arg = arg;
	snprintf(b->p[0], sizeof(b->p[0]), "%lld", (long long)now);
	snprintf(b->p[1], sizeof(b->p[1]), "%d", want);
	snprintf(b->p[2], sizeof(b->p[2]), "%d", STORE_PARAMS_MAX);
	b->values[0] = b->p[0];
	b->values[1] = b->p[1];
	b->values[2] = b->p[2];
	if (bsend(b, LOCK_STMT, 0, on_lock) == -1) {
		free(b);
		return -1;
	}
	return 0;
}

int
pgbudget_prepare(struct pgconn *c)
{
	if (pgconn_prepare(c, LOCK_STMT, lock_sql) == -1 ||
	    pgconn_prepare(c, READY_STMT, ready_sql) == -1 ||
	    pgconn_prepare(c, SUMS_STMT, sums_sql) == -1 ||
	    pgconn_prepare(c, UNLOCK_STMT, unlock_sql) == -1)
		return -1;
	return 0;
}
