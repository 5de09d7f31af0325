/* pgschema.h: the PostgreSQL schema (schema/pg/NNN-*.sql, compiled in):
 * connecting, the version a database has, migrating under an advisory lock.
 *
 * Synchronous libpq: for imgeditctl, and for imgeditd before its loop runs.
 *
 * Next (issue 19): the daemon's asynchronous store on PostgreSQL. Built:
 * pgconn.h (libpq on the loop, pipelined, LISTEN, reconnect) and pgstore.h
 * (every sq_op's statement and row parser, tested row for row against
 * store.c); to do: storeq choosing the backend, the retry policy on a lost
 * connection.
 * - storeq.h stays the daemon's only store API: the sq_req types, their
 *   structs and done callbacks on the loop. storeq_new picks the backend by
 *   db_kind_of (dbkind.h): SQLite keeps its writer thread; PostgreSQL runs
 *   the same requests on the loop, no thread: one connection (PQconnectStart
 *   + PQconnectPoll, PQsetnonblocking), prepared statements sent with
 *   PQsendQueryPrepared, bytea params and results in binary (format 1,
 *   never hex), PQconsumeInput + PQisBusy on the socket's EV_READ, PQflush
 *   on EV_WRITE. Requests go FIFO; pipeline mode (PQenterPipelineMode)
 *   keeps several image INSERTs in flight, one PQpipelineSync each, so a
 *   failure rolls back one image only. SHA-256 is computed where the
 *   writer thread computed it today: on the loop for PG, or incrementally
 *   while base64 decodes (1.5 MB is ~3 ms: measure).
 * - SQ_CLAIM: UPDATE jobs SET state = 'running', lease_owner = $1, ...
 *   WHERE id IN (SELECT id FROM jobs WHERE state IN ('queued','retry_wait')
 *   AND not_before <= $now ORDER BY priority DESC, id LIMIT $n FOR UPDATE
 *   SKIP LOCKED) RETURNING ... (index jobs_ready; measured: 16 jobs from
 *   100,000 queued in ~3 ms, most of it the history trigger). Pass $now as
 *   a parameter, not imgedit_now_ms(): then not_before is an index bound.
 *   READ COMMITTED and one statement per write, so no serialization
 *   failures; SQ_LEASES requeues expired leases with one UPDATE, any daemon.
 * - SQ_POLL: SQLite's data_version becomes "a notification arrived": LISTEN
 *   imgedit_jobs on the same connection, PQnotifies after PQconsumeInput;
 *   the poll timer stays as the fallback. A cancel does not notify: the
 *   poll reads the daemon's own running jobs every second, or migration
 *   003 notifies on running -> canceled. sq_req.err holds the SQLSTATE's
 *   neutral class (dberr.h: lock_not_available a lock, disk_full full, a
 *   lost connection lost: all retried; a lost connection reconnects and
 *   resends).
 * - Shared inputs: ctl's put_blob becomes INSERT ... ON CONFLICT (sha256)
 *   DO UPDATE SET sha256 = EXCLUDED.sha256 RETURNING id: it locks the blob
 *   row, so prune's delete of unreferenced blobs cannot race a submit.
 * - Unchanged: dispatch.c (states, counting, retries, what a result is),
 *   imgeditd.c's order (migrate before the loop: pgschema_migrate already
 *   takes the lock several daemons need; then storeq_new), the log keys.
 *   catalog.c (ctl's SQL) is one file for both backends, over rows.h
 *   (daemon/pg/rows.c here); t_pg_ctl.sh and t_pg_catalog hold them equal.
 */
#ifndef IMGEDIT_PGSCHEMA_H
#define IMGEDIT_PGSCHEMA_H

#include <stddef.h>

#include <libpq-fe.h>

/* pg_advisory_xact_lock's key for migrations: "imgedit" in ASCII. */
#define PGSCHEMA_LOCK_KEY 29675163404757364LL

/* Connects to a libpq URI (postgresql://...), with a 10 s connect timeout
 * unless the URI sets one, and server notices discarded. Returns the
 * connection (caller owns: PQfinish), or NULL with err set. */
PGconn *pgschema_connect(const char *uri, char *err, size_t errlen);
/* The same within timeout_ms (libpq counts whole seconds, 2 at least). */
PGconn *pgschema_connect_within(const char *uri, int64_t timeout_ms,
    char *err, size_t errlen);

/* The schema version this build ends at (the number of migrations). */
int pgschema_latest(void);

/* The database's schema version into *have: 0 for a database without
 * imgedit's tables. Returns 0, or -1 with err set. */
int pgschema_version(PGconn *c, int *have, char *err, size_t errlen);

/* Applies the missing migrations, each in its own transaction that first
 * takes the advisory lock PGSCHEMA_LOCK_KEY and then reads the version, so
 * processes starting at once apply each migration exactly once. Waits at
 * most lock_timeout_ms for a lock (0: no limit). Returns 0 with *have the
 * version now, or -1 with err set (also for a database newer than this
 * build). Nothing is applied on a database at the latest version. */
int pgschema_migrate(PGconn *c, int lock_timeout_ms, int *have, char *err,
    size_t errlen);

/* A name for messages, without the password: postgresql://USER@HOST:PORT/DB
 * (host=DIR as a query for a Unix socket). Returns buf. */
const char *pgschema_display(PGconn *c, char *buf, size_t len);

#endif
