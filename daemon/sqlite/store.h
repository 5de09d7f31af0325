/* store.h: the SQLite queue (schema/, WAL): opening and migrating the file,
 * and the daemon's small API — claim, commit image, finish attempt, leases. */
#ifndef IMGEDIT_STORE_H
#define IMGEDIT_STORE_H

#include <string.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "budget.h"
#include "dberr.h"
#include "job.h"
#include "jobstate.h"


#define STORE_CREATE 0x1   /* create the file if missing */
#define STORE_READONLY 0x2 /* open read-only (no migration) */

struct store;

/* Opens path with WAL, foreign keys, a busy timeout, and the prepared
 * statements. With STORE_CREATE a missing file is created. Returns a store
 * (caller owns: store_close) or NULL with a reason in err. */
struct store *store_open(const char *path, int flags, int busy_timeout_ms,
    char *err, size_t errlen);
void store_close(struct store *st);

/* Applies missing migrations (PRAGMA user_version) in one transaction.
 * Returns STORE_OK, or STORE_ERR with a reason in err (e.g. the file is from
 * a newer imgedit). */
int store_migrate(struct store *st, char *err, size_t errlen);
/* Schema version this build writes; the file's version via *file_version. */
int store_schema_version(struct store *st, int *file_version);

/* How long a statement waits for another's lock (sqlite3_busy_timeout). */
void store_set_busy_timeout(struct store *st, int ms);

/* The connection, for the core's other SQL modules (catalog.c). */
sqlite3 *store_db(struct store *st);
/* Last SQLite error message of this connection. */
const char *store_errmsg(struct store *st);

/* SQLite's primary result code of the last failed call on this connection
 * (SQLITE_BUSY, SQLITE_FULL, SQLITE_IOERR, ...), 0 if none. */
int store_errcode(struct store *st);

/* The neutral class (dberr.h) of an SQLite result code: BUSY and LOCKED
 * a lock, FULL full, IOERR, NOMEM, CANTOPEN, PROTOCOL and READONLY io,
 * CONSTRAINT constraint, the rest other. */
enum db_err store_err_class(int errcode);

/* Whether an error with that code may pass by itself (a lock, a full disk,
 * an I/O error), so the same write is worth trying again; a constraint or
 * a corrupt file is not. */
int store_error_transient(int errcode);

/* ---- fault injection, for tests (as SQLite and beanstalkd test themselves) */

/* Kinds of write transaction, as counted by the fault seam. */
enum store_op {
	STORE_OP_CLAIM, STORE_OP_IMAGE, STORE_OP_FINISH, STORE_OP_ANSWERED,
	STORE_OP_LEASES, STORE_OP_HEARTBEAT, STORE_OP_COUNT
};

#define STORE_FAULTS_MAX 8

struct store_fault {
	enum store_op op;
	int nth;        /* the nth write of that kind (1-based, tries count) */
	int count;      /* fails this many tries from the nth on */
	int errcode;    /* SQLITE_BUSY, _IOERR, _FULL (pass) or _CORRUPT (not) */
};

/* Arms faults from spec: "KIND:N:CODE[:COUNT],..." with KIND one of claim,
 * image, finish, answered, leases, heartbeat and CODE busy, ioerr, full
 * (errors that pass) or corrupt (one that does not):
 * the Nth write transaction of that kind and the COUNT-1 tries after it
 * (default 1) are rolled back at COMMIT and fail with CODE. Returns 0, or -1
 * with the offending item named in err. */
int store_set_faults(struct store *st, const char *spec, char *err,
    size_t errlen);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. begin returns STORE_BUSY when the
 * lock could not be had within the busy timeout. */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* Checkpoints as a step of their own. By default SQLite checkpoints inside
 * the commit that grows the WAL past 1000 pages, so one claim or image
 * commit in ~100 also copies 64 MB into the database file. After this call
 * a commit that leaves the WAL at wal_pages or more only calls due(arg)
 * (once, until store_checkpoint runs); the caller then checkpoints as soon
 * as it can, e.g. in the next turn of its event loop. */
void store_defer_checkpoints(struct store *st, int wal_pages,
    void (*due)(void *arg), void *arg);

/* The threshold imgeditd defers at: SQLite's own default (64 MB of WAL). */
#define STORE_CHECKPOINT_WAL_PAGES 1000

/* due == NULL gives the checkpoints back to SQLite. */

/* A PASSIVE checkpoint now (never waits for readers or writers). Returns
 * STORE_OK (also when readers kept part of the WAL), STORE_BUSY, or
 * STORE_ERR. *frames_left, if not NULL: WAL frames not yet copied. */
int store_checkpoint(struct store *st, int *frames_left);

/* The WAL's size bound (PRAGMA journal_size_limit on every writable
 * connection): SQLite's 64 MB checkpoint mark, just above the 1000 frames of
 * 64 KiB pages a busy daemon's WAL reaches between checkpoints, so that a
 * steady writer's WAL is never cut and regrown; only what a long reader
 * held back is given back. */
#define STORE_WAL_LIMIT_BYTES 67108864 /* 64 MiB */

/* A TRUNCATE checkpoint, tried once without waiting (the busy timeout is
 * put back after): on STORE_OK the WAL file is empty; STORE_BUSY when a
 * reader or writer holds it (what could be copied was). */
int store_truncate_wal(struct store *st);

/* *bytes: the size of the WAL file now (0 if there is none). Returns
 * STORE_OK or STORE_ERR (errno). */
int store_wal_size(struct store *st, int64_t *bytes);

/* PRAGMA data_version: changes when another connection commits. */
int store_data_version(struct store *st, int64_t *version);

/* ---- daemons ---- */

int store_daemon_register(struct store *st, const char *daemon_id,
    const char *host, int pid);
/* Heartbeat: updates heartbeat_at, status line, pause reason (NULL = none). */
int store_daemon_heartbeat(struct store *st, const char *daemon_id,
    const char *status, const char *pause_reason);
int store_daemon_stopped(struct store *st, const char *daemon_id);
/* The control table's value for key ('pause': the operator's reason;
 * 'resume': time of the last `imgeditctl resume`), or NULL when the key is
 * absent. Caller frees *value. */
int store_control_get(struct store *st, const char *key, char **value);

/* ---- claiming ---- */

/* A claim closes what is left open of the job's earlier attempts (P1 the
 * job, P2 now): a run of it that goes on (canceled and retried before its
 * daemon could tell) is then no longer the job's: its images are kept,
 * its end changes nothing. pgstore.c's claim does the same. */
#define CLAIM_CLOSE_STALE_SQL(P1, P2) "UPDATE attempts SET outcome = " \
	"'canceled', ended_at = " P2 ", error_type = coalesce(error_type, " \
	"'canceled'), error_message = coalesce(error_message, 'the job was " \
	"claimed again while this attempt ran') WHERE job_id = " P1 \
	" AND outcome IS NULL"

/* Claims the next ready job (state queued/retry_wait, not_before <= now,
 * highest priority then oldest): marks it running with a lease until
 * now + lease_ms, counts the attempt and inserts its attempts row, all in one
 * transaction; then loads params and inputs (params over STORE_PARAMS_MAX,
 * an input over STORE_INPUT_MAX, or too many, set load_error instead). Returns 1 with *out set (caller
 * owns), 0 when nothing is ready, or STORE_ERR / STORE_BUSY. */
int store_claim(struct store *st, const char *daemon_id, int64_t now,
    int64_t lease_ms, struct claimed_job **out);

/* store_claim under the budgets of bc (NULL: none): in the same
 * transaction, the picked job's hold (budget.h) is checked against what
 * the attempts of bc's periods spent and hold, and written on its new
 * attempt row (model, reserve_usd_micro, reserve_tokens). A job that
 * would cross a budget is not claimed: 0 with v->crossed set (v is set
 * whenever bc is given). */
int store_claim_held(struct store *st, const char *daemon_id, int64_t now,
    int64_t lease_ms, const struct budget_claim *bc, struct budget_verdict *v,
    struct claimed_job **out);

/* Counts the jobs in each of the n states named (jobs.state values) into
 * counts[0..n-1], in one read. Returns STORE_OK or an error. */
int store_job_counts(struct store *st, const char *const *states, int n,
    int64_t *counts);

/* When the next waiting job becomes ready: earliest not_before among
 * queued/retry_wait jobs. Returns 1 with *when, 0 if none, or STORE_ERR. */
int store_next_wake(struct store *st, int64_t *when);


/* Extends the lease of the listed jobs, those still running under this
 * daemon's lease, until expires (the jobs of attempts no longer running
 * are left to expire). */
int store_renew_leases(struct store *st, const char *daemon_id, int64_t expires,
    const struct store_run_ref *runs, size_t nruns);

/* One lease round in one transaction: renews the listed runs' leases until
 * now + lease_ms, then returns expired ones to the queue (as
 * store_requeue_expired). Renewing first means this daemon never requeues
 * a job it still runs, however late the round comes. */
int store_lease_round(struct store *st, const char *daemon_id, int64_t now,
    int64_t lease_ms, const struct store_run_ref *runs, size_t nruns,
    int *requeued);

/* Returns running jobs whose lease expired before now to queued, closing
 * their open attempt as 'interrupted'. The attempt counts against
 * max_attempts only if upstream had answered it (store_attempt_answered).
 * *count = jobs requeued. */
int store_requeue_expired(struct store *st, int64_t now, int *count);

/* The jobs running under this daemon's lease with their open attempt:
 * *out (caller frees) gets *n of them. */
int store_owned_runs(struct store *st, const char *daemon_id,
    struct store_run_ref **out, size_t *n);

/* Records that upstream answered the attempt (HTTP status, x-request-id or
 * NULL), so a crash after this point counts the attempt and its images can
 * be traced to the request. */
int store_attempt_answered(struct store *st, int64_t attempt_id,
    int http_status, const char *request_id);

/* ---- results ---- */

/* Stores one image in its own transaction, into an attempt of this daemon's
 * (what upstream sent for an attempt is kept, even when the job was
 * canceled or its lease taken meanwhile). Returns STORE_OK; STORE_LOST when
 * the image was stored but the job no longer runs under this daemon's lease
 * (or when the attempt is not this daemon's: then nothing is written);
 * STORE_BUSY or STORE_ERR (nothing written). */
int store_commit_image(struct store *st, const char *daemon_id,
    const struct store_image *img);

/* Rows the last store_commit_image or store_finish_attempt committed: 1
 * when it inserted the image or closed the attempt row, 0 when it wrote
 * nothing (failed, not this daemon's attempt, or the row was closed
 * before, e.g. by a lease round). For counters that must match the
 * tables. */
int store_last_written(const struct store *st);


/* Closes the attempt row, if it is still open (an ended attempt is never
 * rewritten), and moves the job, in one transaction, if the job is still
 * ours under that attempt; otherwise STORE_LOST. not_before is used by
 * NEXT_RETRY. */
int store_finish_attempt(struct store *st, const char *daemon_id,
    int64_t job_id, int64_t attempt_id, const struct attempt_result *res,
    enum job_next next, int64_t not_before);

#endif
