/* pgbudget.h: the claim under budgets on PostgreSQL: several daemons share
 * one budget, so no two may check it at once against the same sums. */
#ifndef IMGEDIT_PGBUDGET_H
#define IMGEDIT_PGBUDGET_H

#include <stdint.h>

#include "budget.h"
#include "pgconn.h"
#include "pgstore.h"

/*
 * One claim, four statements in a row on c:
 *   1. pg_advisory_lock (a session lock, one key for every daemon of the
 *      database): the others' budget claims wait here (lock_timeout);
 *   2. the next ready jobs (params, stream, inputs counted), and
 *   3. what the attempts of bc's periods spent and hold: each a snapshot
 *      taken after the lock, so every hold another daemon committed is
 *      in it;
 *   4. the jobs that fit (budget_check, in order, stopping at the first
 *      that would cross a budget) claimed with their holds
 *      (pgstore_claim_held), then pg_advisory_unlock, always: after an
 *      error too; an unlock that fails closes the connection, which
 *      frees the lock as a lost connection does.
 */

/* Registers the statements on c (at every connect, with pgstore_prepare).
 * Returns 0 or -1. */
int pgbudget_prepare(struct pgconn *c);

/* Claims up to want (1..PGSTORE_CLAIM_MAX) jobs for daemon_id (copied)
 * under bc's budgets (bc and v must stay valid until done runs). v says
 * which budget stopped it (crossed), else is zeroed. done as for
 * pgstore_claim. Returns 0 (done will run) or -1 (not sent). */
int pgbudget_claim(struct pgconn *c, const char *daemon_id, int64_t now,
    int64_t lease_ms, int want, const struct budget_claim *bc,
    struct budget_verdict *v, pgstore_claim_fn done, void *arg);

#endif
