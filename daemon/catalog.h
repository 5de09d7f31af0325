/* catalog.h: the control utility's SQL (imgeditctl), written once over the
 * row operations of every backend: submit, JSON documents, operator actions. */
#ifndef IMGEDIT_CATALOG_H
#define IMGEDIT_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "job.h"     /* enum input_role */
#include "util.h"

#define CATALOG_OK 0
#define CATALOG_ERR (-1)          /* database error: catalog_errmsg */
#define CATALOG_BUSY (-3)         /* still locked after the busy timeout */
#define CATALOG_NOTFOUND (-4)     /* no such job */
#define CATALOG_STATE (-5)        /* the job's state forbids the action */

/* Longest state name ("retry_wait") plus NUL, rounded up. */
#define CATALOG_STATE_LEN 16

/* How long imgeditctl waits for another writer's lock. */
#define CATALOG_BUSY_TIMEOUT_MS 5000

/* A connection (rows.h, of the backend the URI names) plus the catalog's
 * prepared statements. Every function below works the same on every
 * backend, with the same documents and return codes. */
struct catalog;
struct rows_conn;
struct rows_methods;

#define CATALOG_READONLY 0x1  /* catalog_open: reads only (serve) */

/* Opens the database uri names (an SQLite path, or a postgresql:// URI)
 * and checks that its schema version is the one this build has: the one
 * open and check for every imgeditctl verb and copy; who ("imgeditctl")
 * names the program in the messages. Returns CATALOG_OK with *out (caller
 * owns: catalog_close), or CATALOG_ERR with err saying what is wrong and
 * what to do ("cannot open DB: ...", "cannot use DB: ... run ... init"). */
int catalog_open(const char *uri, int flags, const char *who,
    struct catalog **out, char *err, size_t errlen);
/* Creates (SQLite: the file) and migrates the database uri names, waiting
 * for another process's migration. Returns CATALOG_OK with its name for
 * messages in name and its schema version in *version, or CATALOG_ERR
 * with err set. */
int catalog_init(const char *uri, char *name, size_t namelen, int *version,
    char *err, size_t errlen);
void catalog_close(struct catalog *cat);
/* Last error message of the connection. */
const char *catalog_errmsg(struct catalog *cat);
/* The database's name for messages: the path, or the URI without its
 * password. Valid while cat is open. */
const char *catalog_name(struct catalog *cat);
/* The row operations under cat and its connection (copy's), valid while
 * cat is open; the catalog's own statements stay its own. */
const struct rows_methods *catalog_rows(struct catalog *cat,
    struct rows_conn **conn);

/* 1 if name is one of the six job states, else 0. */
int catalog_state_valid(const char *name);
/* 1 for succeeded, failed, canceled; else 0. */
int catalog_state_terminal(const char *name);

/* ---- submitting: catalog_submit_begin, inserts, then catalog_submit_end */

struct catalog_job {
	const char *params;          /* JSON object: API fields but files, stream */
	int stream;                  /* 0 or 1 */
	int priority;
	int max_attempts;            /* 1..100 */
	int64_t not_before;          /* epoch ms, 0 = now */
	const char *idempotency_key; /* NULL for none */
	int has_estimate;            /* 1: submit's estimate below is stored */
	int64_t estimate_lo_usd_micro, estimate_hi_usd_micro; /* hi < 0: no
	                             * upper bound (stored NULL) */
};

struct catalog_input {
	enum input_role role;
	int ordinal;                 /* images 0.., the mask 0 */
	const char *filename;
	const char *content_type;    /* NULL: left to sniffing */
	int64_t blob_id;             /* from catalog_put_blob */
};

/* BEGIN IMMEDIATE for a submit. Returns CATALOG_OK (in the transaction),
 * CATALOG_BUSY or CATALOG_ERR (no transaction). */
int catalog_submit_begin(struct catalog *cat);

/* Commits (commit = 1) or rolls back (0) the submit's transaction. Returns
 * CATALOG_OK, or CATALOG_BUSY / CATALOG_ERR (then nothing was written). */
int catalog_submit_end(struct catalog *cat, int commit);

/* Looks up the job submitted with this idempotency key. Returns 1 with
 * *job_id, 0 if there is none, or CATALOG_ERR. */
int catalog_find_key(struct catalog *cat, const char *key, int64_t *job_id);

/* Stores bytes once, keyed by their lowercase hex SHA-256 (which the caller
 * computed from exactly these bytes). Returns CATALOG_OK with the id of the
 * new or existing blob in *blob_id, or CATALOG_ERR. */
int catalog_put_blob(struct catalog *cat, const char *sha256, const void *data,
    size_t size, int64_t *blob_id);

/* Inserts a queued job and its inputs. Returns CATALOG_OK with *job_id, or
 * CATALOG_ERR (e.g. a constraint failed: the caller rolls back). */
int catalog_insert_job(struct catalog *cat, const struct catalog_job *job,
    const struct catalog_input *inputs, size_t ninputs, int64_t *job_id);

/* ---- reading: JSON documents; times are epoch ms, params parsed ---- */

/* Jobs newest first: all, or those in states ("failed" or "failed,canceled";
 * NULL = any), created at or after since_ms (0 = any), at most limit (0 =
 * no limit). Each element: id, state, attempts,
 * max_attempts, priority, stream, model, params, final_images,
 * partial_images, created_at, updated_at, finished_at, not_before, error
 * (object or null). Returns CATALOG_OK with *out (caller owns: json_decref). */
int catalog_list(struct catalog *cat, const char *states, int64_t since_ms,
    int limit, json_t **out);

/* One job, read in one snapshot: the list fields plus lease, usage,
 * idempotency_key and the arrays inputs, attempt_log (the attempts rows),
 * images (each with its image id, no bytes) and events. Returns CATALOG_OK
 * with *out (caller owns), CATALOG_NOTFOUND or CATALOG_ERR. */
int catalog_show(struct catalog *cat, int64_t id, json_t **out);

/* Ids of every job in state that finished (or last changed) at or after
 * since_ms (0: all), oldest first. Returns CATALOG_OK with *ids (caller
 * frees; NULL when *n is 0) or CATALOG_ERR. */
int catalog_job_ids(struct catalog *cat, const char *state, int64_t since_ms,
    int64_t **ids,
    size_t *n);

/* Streams the bytes of image image_id to sink in chunks of at most 1 MiB,
 * without loading the whole image. sink returns 0 to go on, -1 to stop.
 * Returns CATALOG_OK, CATALOG_NOTFOUND, CATALOG_ERR, or -1 if sink stopped. */
int catalog_image_read(struct catalog *cat, int64_t image_id,
    int (*sink)(void *arg, const void *p, size_t n), void *arg);

/* The queue at a glance: database (schema_version, size_bytes, free_bytes,
 * write_locked; PostgreSQL: pg_database_size, 0 free, never locked),
 * jobs (count per state, total), images (final, partial), tokens (input,
 * output, total), finished (last_minute, last_hour), pause (paused, reason),
 * daemons (alive or seen in the last hour, newest heartbeat first),
 * spent (day, week, month: what the attempts that started in the period
 * around now, in the process's time zone (period.h), cost: start, end,
 * "all" and "models", catdoc_spent), estimate_vs_actual (the finished
 * jobs submit estimated, catdoc_estimates).
 * Returns CATALOG_OK with *out (caller owns) or CATALOG_ERR. */
int catalog_status(struct catalog *cat, int64_t now, json_t **out);

/* The part of catalog_status a page shown often needs, without its scans of
 * every job and image row: jobs (count per state, total), pause, daemons,
 * spent (the attempts of this month, by their index on started_at).
 * Returns CATALOG_OK with *out (caller owns) or CATALOG_ERR. */
int catalog_overview(struct catalog *cat, int64_t now, json_t **out);

struct budget_sums;
/* What the attempts started from since spent and hold, per model (the
 * daemons' own sums, budgetsql.h): the day's from day on, the month's
 * from since on. Returns CATALOG_OK with s filled (caller frees:
 * budget_sums_free) or an error. */
int catalog_budget_sums(struct catalog *cat, int64_t since, int64_t day,
    struct budget_sums *s);

/* What happened since: {"events": [state changes with id > after_event:
 * id, job_id, at, from_state, to_state, detail, created_at, finals],
 * "images": [images with id > after_image: id, job_id, kind, idx, at,
 * attempt, partials, n (asked for)]}, at most limit of each, in one
 * snapshot, without reading image bytes. Caller owns *out. */
int catalog_activity(struct catalog *cat, int64_t after_event,
    int64_t after_image, int limit, json_t **out);

/* The newest event and image ids, where catalog_activity starts from. */
int catalog_activity_marks(struct catalog *cat, int64_t *event,
    int64_t *image);

/* Where job id's history begins, as marks for catalog_activity: the event
 * and image ids just before its first (the latest image id when it has
 * none yet). CATALOG_NOTFOUND when it has no event. */
int catalog_job_marks(struct catalog *cat, int64_t id, int64_t *event,
    int64_t *image);

/* The running jobs with their open attempt: id, attempt, partials and
 * finals stored, last_image_at, started_at, want_partials, want_finals,
 * prompt. Caller owns *out. */
int catalog_running(struct catalog *cat, json_t **out);

/* Daemons not stopped whose heartbeat is at most fresh_ms old, into *n. */
int catalog_live_daemons(struct catalog *cat, int64_t now, int64_t fresh_ms,
    int *n);

/* PRAGMA data_version of the connection (changes when others commit). On
 * PostgreSQL: the newest event id plus the newest image id (changes when a
 * job changes state or an image is stored). */
int catalog_data_version(struct catalog *cat, int64_t *version);

/* The job's state into state[CATALOG_STATE_LEN]. Returns CATALOG_OK,
 * CATALOG_NOTFOUND or CATALOG_ERR. */
int catalog_job_state(struct catalog *cat, int64_t id, char *state);

/* ---- the web view (imgeditctl serve): reads only ---- */

struct catalog_page_query {
	const char *state;  /* one state, or NULL: any */
	const char *word;   /* NULL, or only prompts containing it (ASCII case
	                     * folded) */
	int64_t before;     /* only ids below it; 0: from the newest */
	int64_t only;       /* > 0: that job alone, the fields above ignored */
	int limit;          /* 1..500 */
};

/* A page of jobs, newest first, in one snapshot: the list fields (model,
 * params parsed, error) plus "images", every image of the job (id,
 * attempt, outcome of its attempt, kind, idx, width, height, sha256,
 * created_at)
 * by attempt, partials before finals, without their bytes. Returns
 * CATALOG_OK with the array in *out (caller owns) or CATALOG_ERR. */
int catalog_page(struct catalog *cat, const struct catalog_page_query *q,
    json_t **out);

/* When each job that succeeded at or after since_ms did so, with its count
 * of final images, newest first, reading at most max events (a bound on
 * the work: the events table has no index on time). Fills *at and *finals
 * (caller frees both) and *n. Returns CATALOG_OK or CATALOG_ERR. */
int catalog_finals_since(struct catalog *cat, int64_t since_ms, size_t max,
    int64_t **at, int64_t **finals, size_t *n);

struct catalog_bytes_meta {
	int64_t job_id;
	int64_t size;
	char sha256[SHA256_HEX_LEN + 1]; /* "" unless the row has 64 hex digits */
	char content_type[64];           /* inputs: as written, "" if none */
};

/* An image's job, size and SHA-256 as stored (no bytes). Returns
 * CATALOG_OK, CATALOG_NOTFOUND or CATALOG_ERR. */
int catalog_image_meta(struct catalog *cat, int64_t image_id,
    struct catalog_bytes_meta *m);

/* The bytes of a job's input (role, ordinal), from its blob or its row,
 * at most max bytes (a larger one is CATALOG_ERR, read before allocating).
 * Returns CATALOG_OK with *data (caller frees) and *len, CATALOG_NOTFOUND
 * or CATALOG_ERR. */
int catalog_input_get(struct catalog *cat, int64_t job_id,
    enum input_role role, int ordinal, size_t max, unsigned char **data,
    size_t *len, struct catalog_bytes_meta *m);

/* ---- operator actions: each its own short transaction ---- */

/* queued/retry_wait/running -> canceled, lease cleared. Returns CATALOG_OK;
 * CATALOG_STATE with the current state in state[CATALOG_STATE_LEN] when the
 * job already finished; CATALOG_NOTFOUND, CATALOG_BUSY or CATALOG_ERR. */
int catalog_cancel(struct catalog *cat, int64_t id, int64_t now, char *state);

/* failed/canceled -> queued now, error cleared, attempts kept, max_attempts
 * raised to attempts + 1 if exhausted (at most 100). Returns as cancel. */
int catalog_retry(struct catalog *cat, int64_t id, int64_t now, char *state);
/* The same from succeeded too (imgeditctl retry --force): the job runs
 * again, its next succeeded attempt being its result. */
int catalog_retry_force(struct catalog *cat, int64_t id, int64_t now,
    char *state);

/* Sets (reason non-NULL) or clears (NULL) the operator pause in `control`.
 * *was_paused (may be NULL) tells whether a pause was set before. Clearing
 * also stamps key 'resume', which ends a daemon's pause on upstream errors. */
int catalog_set_pause(struct catalog *cat, const char *reason, int *was_paused);

struct catalog_prune_result {
	int64_t jobs, blobs;       /* rows deleted (plan: jobs that would be) */
	int incremental;           /* 1: PRAGMA incremental_vacuum ran */
	int autovacuum;            /* 1: PostgreSQL: free_bytes is what the
	                            * rows deleted held, reusable once
	                            * autovacuum has run; freed_bytes 0 */
	int64_t freed_bytes;       /* given back to the file system */
	int64_t free_bytes;        /* in the file's free list afterwards */
	int64_t image_bytes;       /* plan: image bytes of those jobs */
};

/* Deletes jobs whose state is in states[0..nstates) (terminal states only)
 * and that finished before before_ms, with their inputs, attempts, images and
 * events, in short batches; then blobs no input references; then runs
 * incremental_vacuum when the file allows it. Returns CATALOG_OK (counts in
 * *res, also partial ones on error), CATALOG_STATE for a non-terminal state,
 * CATALOG_BUSY or CATALOG_ERR. */
int catalog_prune(struct catalog *cat, const char *const *states,
    size_t nstates, int64_t before_ms, struct catalog_prune_result *res);

/* What catalog_prune would delete (jobs, and their image bytes in
 * res->image_bytes), deleting nothing. */
int catalog_prune_plan(struct catalog *cat, const char *const *states,
    size_t nstates, int64_t before_ms, struct catalog_prune_result *res);

#endif
