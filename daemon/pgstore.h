/* pgstore.h: the daemon's store requests on PostgreSQL, as SQL sent on a
 * pgconn (one statement each, READ COMMITTED): so far the claim.
 *
 * The claim is one statement and one round trip: it picks ready jobs by
 * priority then age with FOR UPDATE SKIP LOCKED (so daemons claiming at
 * once never wait on each other and never take the same job), leases
 * them, counts the attempt, inserts the attempts rows, fails the jobs out
 * of attempts, and returns the claimed jobs with their params and inputs
 * (bytea in binary). Sizes are read with octet_length first: an input over
 * STORE_INPUT_MAX, params over STORE_PARAMS_MAX or more than
 * STORE_INPUTS_MAX inputs come back without their bytes, and the job's
 * load_error says why, as store_claim does on SQLite.
 */
#ifndef IMGEDIT_PGSTORE_H
#define IMGEDIT_PGSTORE_H

#include <stdint.h>

#include "pgconn.h"
#include "store.h"

/* Jobs one claim takes at most (storeq's SQ_CLAIM_MAX). */
#define PGSTORE_CLAIM_MAX 16

/* A claim's answer, on the loop: n jobs claimed (0: none ready) in
 * priority then age order, jobs[0..n-1] (caller takes one by setting it
 * NULL: claimed_job_free; the rest are freed after the callback); or
 * n = -1 and reply says why (reply->lost: the connection is gone, and
 * whether the claim committed is unknown: its leases expire). */
typedef void (*pgstore_claim_fn)(void *arg, int n, struct claimed_job **jobs,
    const struct pgconn_reply *reply);

/* Registers the prepared statements on c (at every connect). Call once
 * per connection before pgstore_claim. Returns 0 or -1. */
int pgstore_prepare(struct pgconn *c);

/* Claims up to want (1..PGSTORE_CLAIM_MAX) jobs ready at now (ms) for
 * daemon_id (copied) with leases until now + lease_ms. Returns 0 (done
 * will run) or -1 (not sent: closed, out of memory, want out of range). */
int pgstore_claim(struct pgconn *c, const char *daemon_id, int64_t now,
    int64_t lease_ms, int want, pgstore_claim_fn done, void *arg);

/* Parses a claim's rows (binary format; pure): jobs into out[0..], at
 * most max. Returns how many (caller owns them), or -1 for rows that are
 * not what the statement returns (then out holds nothing). */
int pgstore_claim_rows(const PGresult *res, struct claimed_job **out,
    int max);

#endif
