/* rows.h: synchronous row operations, one table of methods per backend (in
 * the manner of sqlite3_io_methods): what imgeditctl's catalog and copy use. */
#ifndef IMGEDIT_ROWS_H
#define IMGEDIT_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "dberr.h"

/*
 * A connection (struct rows_conn) is opened through backend_for(uri)->rows
 * and used from one thread. Statements are written once for every backend
 * with SQLite's numbered parameters ?1, ?2, ... (PostgreSQL's backend
 * rewrites them as $1, $2, ...). Where the dialects really differ, the
 * caller picks its text by rows_methods.sql (an index: ROWS_SQL_SQLITE
 * or ROWS_SQL_PG) or calls one of the dialect's methods below.
 *
 * Every method returning int returns 0 (or a count, or ROWS_ROW/ROWS_DONE
 * for step) on success and -1 on failure; then error() gives the neutral
 * class and errmsg() the backend's own text (one line).
 */
struct rows_conn;
struct rows_stmt;

#define ROWS_CREATE   0x1   /* open: create the database file if missing */
#define ROWS_READONLY 0x2   /* open: read only (and never migrate) */

#define ROWS_ROW  1         /* step: a row is there */
#define ROWS_DONE 0         /* step: no (more) rows */

enum rows_type { ROWS_NULL, ROWS_INT, ROWS_REAL, ROWS_TEXT, ROWS_BLOB };

enum rows_sql { ROWS_SQL_SQLITE, ROWS_SQL_PG, ROWS_SQL_COUNT };

/* SQL text where the dialects differ: name[] = { SQLite's, PostgreSQL's }
 * (NULL: nothing to run there), and the one for the methods m. */
#define ROWS_SQL_PAIR(name, sqlite, pg) \
	static const char *const name[ROWS_SQL_COUNT] = { sqlite, pg }
#define ROWS_SQL(m, pair) ((pair)[(m)->sql])

/* What prune's reclaim did: pages given back, or bytes left to autovacuum. */
struct rows_reclaim {
	int incremental;        /* 1: SQLite's incremental_vacuum ran */
	int autovacuum;         /* 1: space is reusable once autovacuum ran */
	int64_t freed_bytes;    /* given back to the file system */
	int64_t free_bytes;     /* free inside the database afterwards */
};

struct rows_methods {
	enum rows_sql sql;          /* which text of a per-dialect pair */

	/* Opens uri (an SQLite path, or a postgresql:// URI) with flags;
	 * waits up to busy_ms for another writer's lock. Returns 0 with *out
	 * (caller owns: close) or -1 with err set (*out NULL). */
	int (*open)(const char *uri, int flags, int busy_ms,
	    struct rows_conn **out, char *err, size_t errlen);
	void (*close)(struct rows_conn *c);          /* NULL is fine */
	/* The database's name for messages: the path, or the URI without its
	 * password. Static to the connection. */
	const char *(*display)(struct rows_conn *c);

	/* Schema: the version the database has (0: none yet) and the one
	 * this build ends at; migrating to it (waiting up to wait_ms for
	 * another migrator), *have the version after. Both return 0 or -1. */
	int (*version)(struct rows_conn *c, int *have, int *want);
	int (*migrate)(struct rows_conn *c, int wait_ms, int *have);

	/* Transactions. begin(write = 1): a write transaction that takes the
	 * write lock at once (SQLite BEGIN IMMEDIATE); write = 0: one snapshot
	 * for several reads. commit fails (-1) when the transaction had failed
	 * and was rolled back instead. rollback keeps the last error. */
	int (*begin)(struct rows_conn *c, int write);
	int (*commit)(struct rows_conn *c);
	void (*rollback)(struct rows_conn *c);

	/* Statements. prepare: 0 with *out (caller owns: finalize). Values
	 * bound (index from 1) must stay valid until the statement is reset,
	 * finalized or stepped to its end. reset also clears the bindings. */
	int (*prepare)(struct rows_conn *c, const char *sql,
	    struct rows_stmt **out);
	int (*bind_int64)(struct rows_stmt *s, int i, int64_t v);
	int (*bind_text)(struct rows_stmt *s, int i, const char *v);
	int (*bind_blob)(struct rows_stmt *s, int i, const void *p, size_t n);
	int (*bind_null)(struct rows_stmt *s, int i);
	/* ROWS_ROW, ROWS_DONE, or -1 */
	int (*step)(struct rows_stmt *s);
	int (*column_count)(struct rows_stmt *s);
	const char *(*column_name)(struct rows_stmt *s, int i);
	enum rows_type (*column_type)(struct rows_stmt *s, int i);
	int64_t (*column_int64)(struct rows_stmt *s, int i);
	double (*column_double)(struct rows_stmt *s, int i);
	/* text (NUL-terminated) or blob bytes, valid until the next step,
	 * reset or column call on the statement; NULL for SQL NULL */
	const char *(*column_text)(struct rows_stmt *s, int i);
	const void *(*column_blob)(struct rows_stmt *s, int i);
	size_t (*column_bytes)(struct rows_stmt *s, int i);
	void (*reset)(struct rows_stmt *s);
	void (*finalize)(struct rows_stmt *s);        /* NULL is fine */

	enum db_err (*error)(struct rows_conn *c);
	const char *(*errmsg)(struct rows_conn *c);

	/* ---- the dialect: what the SQL text cannot say the same way ---- */

	/* Appended to a text column to order it bytewise, as SQLite's
	 * BINARY does ("" or " COLLATE \"C\""). */
	const char *bytewise;

	/* Size of the database and bytes free inside it (PostgreSQL: 0). */
	int (*db_size)(struct rows_conn *c, int64_t *size, int64_t *free);
	/* 1 when another connection holds the write lock now, 0 when not,
	 * -1 when it cannot tell (PostgreSQL has no database-wide lock: 0). */
	int (*write_locked)(struct rows_conn *c);
	/* After rows holding deleted_bytes were deleted: gives space back
	 * where the backend can without blocking writers, says what it did. */
	int (*reclaim)(struct rows_conn *c, int64_t deleted_bytes,
	    struct rows_reclaim *r);
	/* A number that changes when another connection commits (SQLite's
	 * data_version); NULL where the backend has none. */
	int (*data_version)(struct rows_conn *c, int64_t *v);
	/* Streams column of row id of table (names from the caller's code,
	 * never from input) to sink in chunks of at most 1 MiB, without
	 * loading the whole value. Returns 0, 1 when there is no such row,
	 * -2 when sink stopped (returned non-zero), or -1. */
	int (*blob_read)(struct rows_conn *c, const char *table,
	    const char *column, int64_t id,
	    int (*sink)(void *arg, const void *p, size_t n), void *arg);
	/* The same value's size in bytes into *size, without reading it.
	 * Returns 0, 1 when there is no such row (or, on SQLite, the value is
	 * neither text nor a blob), or -1. */
	int (*blob_size)(struct rows_conn *c, const char *table,
	    const char *column, int64_t id, int64_t *size);
};

#define ROWS_READ_CHUNK (1024 * 1024)

/* How a backend's blob_read gets one chunk of a value: [off, off + n) into
 * *p (valid until the next call), 0; or -1 with the error in its head. */
typedef int (*rows_chunk_fn)(void *ctx, int64_t off, size_t n,
    const void **p);

/* blob_read's loop, for every backend: a value of total bytes to sink in
 * chunks of at most ROWS_READ_CHUNK, in order, each got by read(ctx, ...).
 * Returns 0, -2 when sink stopped (returned non-zero), or -1 when a read
 * failed. */
int rows_read_chunks(int64_t total, rows_chunk_fn read, void *ctx,
    int (*sink)(void *arg, const void *p, size_t n), void *arg);

/* What every backend's struct rows_conn begins with: the name shown and
 * the last error, filled by rows_ok and rows_fail, read by rows.c. */
struct rows_head {
	char name[4096];        /* a path, or a URI without its password */
	char err[512];          /* the last failure's text, one line */
	enum db_err cls;        /* the last call's class: DBE_OK after success */
};

/* display, error and errmsg of every backend: c's head. */
const char *rows_display(struct rows_conn *c);
enum db_err rows_error(struct rows_conn *c);
const char *rows_errmsg(struct rows_conn *c);

/* The call succeeded: class DBE_OK (the last failure's text stays).
 * Returns 0. */
int rows_ok(struct rows_head *h);
/* The call failed with cls; msg's first line ("unknown error" when NULL
 * or empty) is the text. msg may be h->err. Returns -1. */
int rows_fail(struct rows_head *h, enum db_err cls, const char *msg);

/* A backend's methods are PREFIX_open, PREFIX_close... after the fields
 * above; its table is ROWS_METHODS(PREFIX) (display, error and errmsg from
 * rows.c among them) plus .sql, .bytewise and .data_version. */
#define ROWS_METHODS(p) \
	.open = p##_open, .close = p##_close, .display = rows_display, \
	.version = p##_version, .migrate = p##_migrate, .begin = p##_begin, \
	.commit = p##_commit, .rollback = p##_rollback, \
	.prepare = p##_prepare, .bind_int64 = p##_bind_int64, \
	.bind_text = p##_bind_text, .bind_blob = p##_bind_blob, \
	.bind_null = p##_bind_null, .step = p##_step, \
	.column_count = p##_column_count, .column_name = p##_column_name, \
	.column_type = p##_column_type, .column_int64 = p##_column_int64, \
	.column_double = p##_column_double, .column_text = p##_column_text, \
	.column_blob = p##_column_blob, .column_bytes = p##_column_bytes, \
	.reset = p##_reset, .finalize = p##_finalize, .error = rows_error, \
	.errmsg = rows_errmsg, .db_size = p##_db_size, \
	.write_locked = p##_write_locked, .reclaim = p##_reclaim, \
	.blob_read = p##_blob_read, .blob_size = p##_blob_size

#endif
