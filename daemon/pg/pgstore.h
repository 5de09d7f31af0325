/* pgstore.h: the daemon's store requests on PostgreSQL, as SQL sent on a
 * pgconn (one statement each, READ COMMITTED): the claim, the attempt's
 * answer, images, the finish, lease rounds, heartbeats, counts, the poll.
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
#include "job.h"
#include "jobstate.h"

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
 * per connection before any pgstore request. Returns 0 or -1. */
int pgstore_prepare(struct pgconn *c);

/* Claims up to want (1..PGSTORE_CLAIM_MAX) jobs ready at now (ms) for
 * daemon_id (copied) with leases until now + lease_ms. Returns 0 (done
 * will run) or -1 (not sent: closed, out of memory, want out of range). */
int pgstore_claim(struct pgconn *c, const char *daemon_id, int64_t now,
    int64_t lease_ms, int want, pgstore_claim_fn done, void *arg);

/* The claim under budgets (pgbudget.c decides what fits): claims those
 * of ids[0..n-1] (1..PGSTORE_CLAIM_MAX) still ready, as pgstore_claim
 * does, each attempt row holding usd[i] (< 0: none) and tokens[i] and the
 * params' model. Arrays copied. Returns 0 (done will run) or -1. */
int pgstore_claim_held(struct pgconn *c, const char *daemon_id, int64_t now,
    int64_t lease_ms, const int64_t *ids, const int64_t *usd,
    const int64_t *tokens, int n, pgstore_claim_fn done, void *arg);

/* Parses a claim's rows (binary format; pure): jobs into out[0..], at
 * most max. Returns how many (caller owns them), or -1 for rows that are
 * not what the statement returns (then out holds nothing). */
int pgstore_claim_rows(const PGresult *res, struct claimed_job **out,
    int max);

/* ---- the rest of the daemon's requests, as store.c does them ----
 *
 * Each queues one statement (its own transaction) and returns 0 (done
 * will run, on the loop) or -1 (not sent: closed, out of memory). Rows
 * that must not change under a write are locked jobs row first, then
 * attempts row, as the claim and the lease round do: no deadlock. */

/* s as PostgreSQL accepts text (caller frees; NULL when out of memory):
 * each byte that does not begin a well-formed UTF-8 character becomes
 * '?'. Upstream's text (a header's raw bytes, a message cut inside a
 * character) would otherwise fail its write on every try; SQLite keeps
 * the bytes as they came. Every text parameter goes through it. Pure. */
char *pgstore_utf8(const char *s);

/* A write's answer: rc STORE_OK, STORE_LOST (the job is no longer ours,
 * see each call) or STORE_ERR (reply says why; reply->lost: whether it
 * committed is unknown); written as store_last_written (1: the image row
 * or the attempt's closing was written). */
typedef void (*pgstore_write_fn)(void *arg, int rc, int written,
    const struct pgconn_reply *reply);

/* Records upstream's answer (status, request_id may be NULL) on the
 * attempt while it is daemon_id's and open; STORE_LOST when it is not
 * (nothing written). Strings copied. */
int pgstore_answered(struct pgconn *c, const char *daemon_id,
    int64_t attempt_id, int http_status, const char *request_id,
    pgstore_write_fn done, void *arg);

/* Inserts img (img->sha256 the caller's hex; strings copied, img->data
 * NOT: it must stay valid until done runs; sent as binary bytea) into an
 * attempt of daemon_id's. STORE_OK; STORE_LOST with written = 1 when the
 * job no longer runs under daemon_id's lease with that attempt open (what
 * upstream sent is kept); STORE_LOST with written = 0 when the attempt is
 * not daemon_id's (nothing written). */
int pgstore_commit_image(struct pgconn *c, const char *daemon_id,
    const struct store_image *img, pgstore_write_fn done, void *arg);

/* Closes the attempt if still open (written = 1) and moves the job to
 * next (not_before for NEXT_RETRY, or when > 0) if it still runs under
 * daemon_id's lease with that attempt open; otherwise STORE_LOST and the
 * job is left alone. res's strings copied. */
int pgstore_finish(struct pgconn *c, const char *daemon_id, int64_t job_id,
    int64_t attempt_id, const struct attempt_result *res, enum job_next next,
    int64_t not_before, pgstore_write_fn done, void *arg);

/* A lease round's answer: renewed of the runs given still ours, requeued
 * jobs of any daemon whose lease had expired (ids[0..requeued-1], valid
 * during the call); or requeued = -1 and reply says why. */
typedef void (*pgstore_leases_fn)(void *arg, int renewed, int requeued,
    const int64_t *ids, const struct pgconn_reply *reply);

/* One lease round in one statement: renews runs[0..nruns-1] (copied) still
 * running under daemon_id's lease until now + lease_ms, then requeues the
 * other running jobs whose lease expired before now (skipping those
 * another session holds: the next round sees them), closing their open
 * attempt as 'interrupted' and uncounting it if upstream never answered. */
int pgstore_lease_round(struct pgconn *c, const char *daemon_id, int64_t now,
    int64_t lease_ms, const struct store_run_ref *runs, size_t nruns,
    pgstore_leases_fn done, void *arg);

/* The daemons row: inserted at the first beat (host, pid, started_at =
 * now), then heartbeat_at, status and pause_reason (NULL: none) updated.
 * Strings copied. rc STORE_OK or STORE_ERR. */
int pgstore_heartbeat(struct pgconn *c, const char *daemon_id,
    const char *host, int pid, int64_t now, const char *status,
    const char *pause_reason, pgstore_write_fn done, void *arg);

/* The daemons row at a clean exit: stopped_at and heartbeat_at = now,
 * status 'stopped' (as store_daemon_stopped). rc STORE_OK or STORE_ERR. */
int pgstore_daemon_stopped(struct pgconn *c, const char *daemon_id,
    int64_t now, pgstore_write_fn done, void *arg);

/* Job counts: counts[i] for states[i] (n at most PGSTORE_STATES_MAX, the
 * names the caller's and valid until done runs), or counts NULL and reply
 * says why. */
#define PGSTORE_STATES_MAX 8
typedef void (*pgstore_counts_fn)(void *arg, const int64_t *counts,
    const struct pgconn_reply *reply);
int pgstore_counts(struct pgconn *c, const char *const *states, int n,
    pgstore_counts_fn done, void *arg);

/* Parses the counts' rows (state, count; binary; pure) into counts[0..n-1]
 * (0 for a state absent). Returns 0 or -1 for rows it does not expect. */
int pgstore_count_rows(const PGresult *res, const char *const *states,
    int n, int64_t *counts);

/* What a poll read: whether a job is ready at now, the earliest not_before
 * of waiting jobs (0: none), the control table's 'pause' and 'resume'
 * (NULL when absent, "" for NULL values, as store_control_get), and the
 * runs under daemon_id's lease with their open attempt. */
struct pgstore_poll {
	int ready;
	int64_t next_wake;
	char *pause, *resume;
	struct store_run_ref *owned;
	size_t nowned;
};
void pgstore_poll_clear(struct pgstore_poll *p);

/* p NULL and reply says why on failure; p and its contents are freed
 * after the call (take a string by setting it NULL). */
typedef void (*pgstore_poll_fn)(void *arg, struct pgstore_poll *p,
    const struct pgconn_reply *reply);
int pgstore_poll(struct pgconn *c, const char *daemon_id, int64_t now,
    pgstore_poll_fn done, void *arg);

/* Parses a poll's rows (binary; pure) into p (zeroed first; caller owns:
 * pgstore_poll_clear). Returns 0 or -1 (then p holds nothing). */
int pgstore_poll_rows(const PGresult *res, struct pgstore_poll *p);

/* Who hears that jobs were inserted or requeued (the caller's; it must
 * outlive the connection). */
struct pgstore_listener {
	void (*changed)(void *arg);
	void *arg;
};

/* LISTENs to imgedit_jobs on c (at every connect) and calls l->changed on
 * each notification there. The poll stays the fallback: a notification
 * sent while the connection was down is not heard. Sets c's notify
 * callback. Returns 0 or -1. */
int pgstore_listen(struct pgconn *c, const struct pgstore_listener *l);

#endif
