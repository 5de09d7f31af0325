/* pgconn.h: one PostgreSQL connection driven by a libevent loop, no thread:
 * a FIFO of queries in pipeline mode, LISTEN callbacks, loss and reopen.
 *
 * Nothing here blocks: connecting is PQconnectStart + PQconnectPoll on the
 * socket's events, the connection is non-blocking, reads are PQconsumeInput
 * on EV_READ and writes PQflush on EV_WRITE. Every query is sent at once
 * (or when the connection is up) followed by its own PQpipelineSync, so
 * many are in flight and each one that fails fails alone: its own implicit
 * transaction rolls back, the next ones run. Answers come back in the order
 * the queries were sent.
 *
 * All callbacks run on the loop, from within event_base_loop.
 */
#ifndef IMGEDIT_PGCONN_H
#define IMGEDIT_PGCONN_H

#include <stdint.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "dberr.h"

struct pgconn;

/* SQLSTATE reported for queries the connection could not answer. */
#define PGCONN_LOST_STATE "08006"   /* connection_failure */

/* What a query came back with. */
struct pgconn_reply {
	PGresult *res;      /* the result (also for an SQL error), or NULL when
	                     * the connection was lost; pgconn clears it after
	                     * the callback returns unless the callback takes it
	                     * (sets res = NULL: it then owns it, PQclear) */
	int ok;             /* PGRES_COMMAND_OK or PGRES_TUPLES_OK */
	int lost;           /* no answer: the connection went (or the server
	                     * ended the session: SQLSTATE class 08, 57P01..03)
	                     * and is closed already; res is NULL, sqlstate
	                     * PGCONN_LOST_STATE. The callback may reopen and
	                     * send again; whether the query ran is unknown */
	char sqlstate[6];   /* "" when ok */
	const char *error;  /* when !ok: the server's or libpq's message,
	                     * without a trailing newline; valid during the
	                     * callback */
};

/* A query's completion: runs on the loop exactly once per accepted query,
 * in the order the queries were accepted. It may send more queries, and
 * call pgconn_open or pgconn_close, but not pgconn_free. */
typedef void (*pgconn_done_fn)(void *arg, struct pgconn_reply *reply);

/* A NOTIFY on a channel this connection LISTENs to; strings valid during
 * the callback. Runs on the loop. */
typedef void (*pgconn_notify_fn)(void *arg, const char *channel,
    const char *payload, int be_pid);

/* The connection came up (up = 1) or went down (up = 0, err says why:
 * a failed connect, a lost connection, pgconn_close). Runs on the loop,
 * after the queries that were pending have completed. */
typedef void (*pgconn_state_fn)(void *arg, int up, const char *err);

/* A query. values, lengths and formats are the caller's and must stay
 * valid until done runs (they are sent once the connection is up); a
 * format of 1 is binary (bytea: the raw bytes, lengths[i] of them), 0 is
 * text (lengths ignored, NUL-terminated). */
struct pgconn_query {
	const char *sql;        /* one statement, $1..$n; or NULL and: */
	const char *stmt;       /* the name of a statement from pgconn_prepare */
	int nparams;
	const char *const *values;
	const int *lengths;     /* NULL: all text */
	const int *formats;     /* NULL: all text */
	int binary_result;      /* 1: results in binary (bytea as bytes) */
	pgconn_done_fn done;
	void *arg;
};

/* A connection on base to a libpq URI (copied), closed until pgconn_open.
 * Returns it (caller owns: pgconn_free) or NULL when out of memory. */
struct pgconn *pgconn_new(struct event_base *base, const char *uri);

/* Frees c: pending queries complete with lost = 1 first, then the state
 * callback is not called. Not from a pgconn callback. NULL is a no-op. */
void pgconn_free(struct pgconn *c);

void pgconn_set_state_cb(struct pgconn *c, pgconn_state_fn fn, void *arg);
void pgconn_set_notify_cb(struct pgconn *c, pgconn_notify_fn fn, void *arg);

/* The neutral class (dberr.h) of an error with SQLSTATE sqlstate ("" or
 * NULL when none), lost when the connection went: one mapping for the
 * daemon's queue and imgeditctl's rows. Pure. */
enum db_err pgconn_err_class(const char *sqlstate, int lost);

/* 1 when an error with SQLSTATE sqlstate (NULL: none) is one trying again
 * mends only in a new session (pgconn_err_class calls it DBE_IO), else 0.
 * Pure. */
int pgconn_new_session_mends(const char *sqlstate);

/* Gives up a connect that takes longer than ms (default 10,000). */
void pgconn_set_connect_timeout(struct pgconn *c, int ms);

/* Starts connecting (no-op when connecting or up). The state callback
 * says how it went, on the loop, also for a URI libpq refuses or a socket
 * that is not there; queries may be sent meanwhile and wait. Returns 0,
 * or -1 when out of memory (then the state callback will not run). */
int pgconn_open(struct pgconn *c);

/* Closes the connection: pending queries complete with lost = 1, then the
 * state callback runs with up = 0. No-op when closed. */
void pgconn_close(struct pgconn *c, const char *why);

/* 1 when the connection is up, 0 otherwise. */
int pgconn_is_up(const struct pgconn *c);

/* The server process's pid, or 0 when not up. */
int pgconn_backend_pid(const struct pgconn *c);

/* Sends q (struct copied; its buffers see struct pgconn_query). Returns
 * 0: q.done will run; or -1 when the connection is closed (pgconn_open
 * first) or out of memory: q.done will not run. */
int pgconn_query(struct pgconn *c, const struct pgconn_query *q);

/* Statements sent on every connect, before any query, in the order
 * registered: a prepared statement (name, sql with nparams text or binary
 * parameters whose types the server infers or the SQL casts), or a LISTEN
 * on channel (lowercase letters, digits, '_'). Sent now too when up.
 * Strings copied. Returns 0, or -1 (bad channel name, out of memory). A
 * prepare that fails makes the queries that use it fail (SQLSTATE 26000). */
int pgconn_prepare(struct pgconn *c, const char *name, const char *sql);
int pgconn_listen(struct pgconn *c, const char *channel);
/* A session setting sent on every connect, as the statements above:
 * SET name = 'value' (name: lowercase letters and '_'; value: letters,
 * digits, '.', '_'). Returns 0, or -1 for other characters. */
int pgconn_set(struct pgconn *c, const char *name, const char *value);

/* The URI's host when it is one name libpq would look up while
 * connecting, which blocks: pgconn_open looks it up first with libevent's
 * resolver (on the loop) and connects to the address (hostaddr), the name
 * kept for TLS. 1 with the name in out, or 0. Pure. */
int pgconn_host_to_resolve(const char *uri, char *out, size_t len);

/* The address pgconn_open looked the host up to (the last open), or "". */
const char *pgconn_address(const struct pgconn *c);

/* Queries sent and not yet completed (waiting for the connection or in
 * the pipeline). */
int pgconn_pending(const struct pgconn *c);

#endif
