/* pgschema.h: the PostgreSQL schema (schema/pg/NNN-*.sql, compiled in):
 * connecting, the version a database has, migrating under an advisory lock.
 *
 * Synchronous libpq: for imgeditctl, and for imgeditd before its loop runs.
 * Design for the asynchronous PostgreSQL store (next step of issue 19):
 * - One backend interface, two implementations: the request types of
 *   storeq.h (claim, answered, image, finish, poll, lease round, heartbeat,
 *   counts) keep their structs and completion callbacks; dispatch.c and
 *   imgeditd.c see no difference. SQLite keeps its writer thread; a pgstore
 *   runs the same requests on the daemon's libevent loop, no thread: one
 *   connection (PQconnectStart/PQconnectPoll, then PQsetnonblocking),
 *   PQsendQueryParams with prepared statements and binary format for bytea
 *   (paramFormats/resultFormat 1: image bytes are never hex text),
 *   PQconsumeInput + PQisBusy on the socket's EV_READ, PQflush on EV_WRITE.
 *   Requests queue FIFO; pipeline mode (PQenterPipelineMode) sends an
 *   image's INSERT and the job's updated_at together, one sync per image.
 * - Claim: UPDATE jobs SET state='running', lease_owner=$me, lease_expires=..
 *   WHERE id IN (SELECT id FROM jobs WHERE state IN ('queued','retry_wait')
 *   AND not_before <= $now ORDER BY priority DESC, id LIMIT $n FOR UPDATE
 *   SKIP LOCKED) RETURNING ...; READ COMMITTED, single statements, so no
 *   serialization errors; leases and requeue of expired ones as on SQLite
 *   (UPDATE ... WHERE state='running' AND lease_expires < $now, any daemon).
 * - Wake-ups: LISTEN imgedit_jobs (the trigger of 001) on the same
 *   connection, PQnotifies after each PQconsumeInput; the poll timer stays.
 * - Shared inputs: ctl's put_blob becomes INSERT ... ON CONFLICT (sha256)
 *   DO UPDATE SET sha256 = EXCLUDED.sha256 RETURNING id, which locks the
 *   blob row, so prune's DELETE of unreferenced blobs cannot race a submit.
 * - What must not change: dispatch.c's states and counting, the storeq.h
 *   request structs and callbacks, imgeditd.c's start order (migrate before
 *   the loop; pgschema_migrate already takes the lock several daemons need).
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
