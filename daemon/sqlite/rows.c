/* sqlite/rows.c: rows.h on SQLite: the file opened as the store opens it
 * (WAL, foreign keys, busy timeout), statements, errors, the dialect. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "rows.h"
#include "store.h"
#include "util.h"

/* Pages given back per incremental_vacuum step: each is a write
 * transaction of its own, short enough not to hold the daemon's writes
 * (256 pages of 64 KiB: 16 MB). */
#define VACUUM_STEP_PAGES 256

struct rows_conn {
	struct rows_head h;     /* the name, the last error (rows.h) */
	struct store *st;
	sqlite3 *db;
	int busy_ms;
};

struct rows_stmt {
	struct rows_conn *c;
	sqlite3_stmt *s;
};

/* Keeps rc's class and, when it is a failure, SQLite's message for it;
 * -1 unless rc is a success. */
static int
note(struct rows_conn *c, int rc)
{
	enum db_err cls = store_err_class(rc);

	if (cls == DBE_OK)
		return rows_ok(&c->h);
	return rows_fail(&c->h, cls, sqlite3_errmsg(c->db));
}

/* The last call failed: the connection's code and message (a code that
 * says none is DBE_OTHER). Returns -1. */
static int
failed(struct rows_conn *c)
{
	enum db_err cls = store_err_class(sqlite3_errcode(c->db));

	return rows_fail(&c->h, cls == DBE_OK ? DBE_OTHER : cls,
	    sqlite3_errmsg(c->db));
}

/* "file:PATH?mode=ro" with PATH's URI-special bytes percent-encoded.
 * Returns 0, or -1 if it does not fit. */
static int
readonly_uri(const char *path, char *uri, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 5;

	if (n < 16)
		return -1;
	memcpy(uri, "file:", 5);
	for (; *path != '\0'; path++) {
		unsigned char ch = (unsigned char)*path;

		if (o + 4 >= n)
			return -1;
		if (ch <= ' ' || ch >= 0x7f || strchr("%?#&=", ch) != NULL) {
			uri[o++] = '%';
			uri[o++] = hex[ch >> 4];
			uri[o++] = hex[ch & 15];
		} else
			uri[o++] = (char)ch;
	}
	if (o + sizeof("?mode=ro") > n)
		return -1;
	memcpy(uri + o, "?mode=ro", sizeof("?mode=ro"));
	return 0;
}

/* Read-write; read-only when asked, or when the file is not ours to
 * write. A missing file is an error unless ROWS_CREATE. */
static struct store *
open_store(const char *path, int flags, int busy_ms, char *err, size_t errlen)
{
	struct store *st;
	struct stat sb;
	char uri[8192];

	if (flags & ROWS_CREATE)
		return store_open(path, STORE_CREATE, busy_ms, err, errlen);
	if (stat(path, &sb) == -1) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
		    errno == ENOENT ? " (create it with: imgeditctl --db PATH "
		    "init)" : "");
		return NULL;
	}
	if (flags & ROWS_READONLY) {
		if (readonly_uri(path, uri, sizeof(uri)) == -1) {
			snprintf(err, errlen, "%s: path too long", path);
			return NULL;
		}
		return store_open(uri, STORE_READONLY, busy_ms, err, errlen);
	}
	st = store_open(path, 0, busy_ms, err, errlen);
	if (st == NULL && access(path, W_OK) == -1 && errno == EACCES)
		st = store_open(path, STORE_READONLY, busy_ms, err, errlen);
	return st;
}

static int
sq_open(const char *uri, int flags, int busy_ms, struct rows_conn **out,
    char *err, size_t errlen)
{
	struct rows_conn *c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((c->st = open_store(uri, flags, busy_ms, c->h.err,
	    sizeof(c->h.err))) == NULL) {
		/* every message names the file */
		if (strncmp(c->h.err, uri, strlen(uri)) == 0)
			snprintf(err, errlen, "%s", c->h.err);
		else
			snprintf(err, errlen, "%s: %s", uri, c->h.err);
		free(c);
		return -1;
	}
	c->h.err[0] = '\0';
	c->db = store_db(c->st);
	c->busy_ms = busy_ms;
	strlcpy_safe(c->h.name, uri, sizeof(c->h.name));
	*out = c;
	return 0;
}

static void
sq_close(struct rows_conn *c)
{
	if (c == NULL)
		return;
	store_close(c->st);
	free(c);
}

static int
sq_version(struct rows_conn *c, int *have, int *want)
{
	*want = store_schema_version(c->st, have);
	return *have >= 0 ? rows_ok(&c->h) : failed(c);
}

static int
sq_migrate(struct rows_conn *c, int wait_ms, int *have)
{
	(void)wait_ms;  /* the busy timeout: BEGIN IMMEDIATE waits */
	if (store_migrate(c->st, c->h.err, sizeof(c->h.err)) != STORE_OK)
		return rows_fail(&c->h, DBE_OTHER, c->h.err);
	store_schema_version(c->st, have);
	return rows_ok(&c->h);
}

static int
sq_exec(struct rows_conn *c, const char *sql)
{
	return note(c, sqlite3_exec(c->db, sql, NULL, NULL, NULL));
}

static int
sq_begin(struct rows_conn *c, int write)
{
	return sq_exec(c, write ? "BEGIN IMMEDIATE" : "BEGIN");
}

static int
sq_commit(struct rows_conn *c)
{
	int rc;

	if ((rc = sq_exec(c, "COMMIT")) == -1)
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static void
sq_rollback(struct rows_conn *c)
{
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

static int
sq_prepare(struct rows_conn *c, const char *sql, struct rows_stmt **out)
{
	struct rows_stmt *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return rows_fail(&c->h, DBE_OTHER, "out of memory");
	s->c = c;
	if (note(c, sqlite3_prepare_v3(c->db, sql, -1,
	    SQLITE_PREPARE_PERSISTENT, &s->s, NULL)) == -1) {
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

static int
sq_bind_int64(struct rows_stmt *s, int i, int64_t v)
{
	return note(s->c, sqlite3_bind_int64(s->s, i, v));
}

static int
sq_bind_text(struct rows_stmt *s, int i, const char *v)
{
	return note(s->c, v == NULL ? sqlite3_bind_null(s->s, i) :
	    sqlite3_bind_text(s->s, i, v, -1, SQLITE_STATIC));
}

static int
sq_bind_blob(struct rows_stmt *s, int i, const void *p, size_t n)
{
	return note(s->c, sqlite3_bind_blob64(s->s, i, n ? p : "", n,
	    SQLITE_STATIC));
}

static int
sq_bind_null(struct rows_stmt *s, int i)
{
	return note(s->c, sqlite3_bind_null(s->s, i));
}

static int
sq_step(struct rows_stmt *s)
{
	int rc = sqlite3_step(s->s);

	if (rc == SQLITE_ROW)
		return ROWS_ROW;
	if (rc == SQLITE_DONE)
		return ROWS_DONE;
	return failed(s->c);
}

static int
sq_column_count(struct rows_stmt *s)
{
	return sqlite3_column_count(s->s);
}

static const char *
sq_column_name(struct rows_stmt *s, int i)
{
	return sqlite3_column_name(s->s, i);
}

static enum rows_type
sq_column_type(struct rows_stmt *s, int i)
{
	switch (sqlite3_column_type(s->s, i)) {
	case SQLITE_INTEGER:
		return ROWS_INT;
	case SQLITE_FLOAT:
		return ROWS_REAL;
	case SQLITE_NULL:
		return ROWS_NULL;
	case SQLITE_BLOB:
		return ROWS_BLOB;
	default:
		return ROWS_TEXT;
	}
}

static int64_t
sq_column_int64(struct rows_stmt *s, int i)
{
	return sqlite3_column_int64(s->s, i);
}

static double
sq_column_double(struct rows_stmt *s, int i)
{
	return sqlite3_column_double(s->s, i);
}

static const char *
sq_column_text(struct rows_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s->s, i);
}

static const void *
sq_column_blob(struct rows_stmt *s, int i)
{
	return sqlite3_column_blob(s->s, i);
}

static size_t
sq_column_bytes(struct rows_stmt *s, int i)
{
	return (size_t)sqlite3_column_bytes(s->s, i);
}

static void
sq_reset(struct rows_stmt *s)
{
	sqlite3_reset(s->s);
	sqlite3_clear_bindings(s->s);
}

static void
sq_finalize(struct rows_stmt *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->s);
	free(s);
}

/* ---- the dialect ---- */

static int
pragma(struct rows_conn *c, const char *sql, int64_t *v)
{
	sqlite3_stmt *s;
	int rc;

	*v = 0;
	if (note(c, sqlite3_prepare_v2(c->db, sql, -1, &s, NULL)) == -1)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : note(c, rc);
}

static int
sq_db_size(struct rows_conn *c, int64_t *size, int64_t *free_bytes)
{
	int64_t pages, page, nfree;

	if (pragma(c, "PRAGMA page_count", &pages) == -1 ||
	    pragma(c, "PRAGMA page_size", &page) == -1 ||
	    pragma(c, "PRAGMA freelist_count", &nfree) == -1)
		return -1;
	*size = pages * page;
	*free_bytes = nfree * page;
	return 0;
}

/* A try at the write lock without waiting, rolled back at once. */
static int
sq_write_locked(struct rows_conn *c)
{
	int rc;

	sqlite3_busy_timeout(c->db, 0);
	rc = sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_busy_timeout(c->db, c->busy_ms);
	return (rc & 0xff) == SQLITE_BUSY ? 1 : rc == SQLITE_OK ? 0 : -1;
}

/* Gives free pages back to the file system, in steps, when the file
 * allows it (auto_vacuum = INCREMENTAL, as new files are made); then a
 * checkpoint, so that the database file itself shrinks. */
static int
sq_reclaim(struct rows_conn *c, int64_t deleted_bytes, struct rows_reclaim *r)
{
	char step[64];
	int64_t av, nfree, before, page;

	(void)deleted_bytes;
	memset(r, 0, sizeof(*r));
	if (pragma(c, "PRAGMA auto_vacuum", &av) == -1 ||
	    pragma(c, "PRAGMA freelist_count", &before) == -1 ||
	    pragma(c, "PRAGMA page_size", &page) == -1)
		return -1;
	nfree = before;
	if (av == 2) {
		r->incremental = 1;
		snprintf(step, sizeof(step), "PRAGMA incremental_vacuum(%d)",
		    VACUUM_STEP_PAGES);
		while (nfree > 0)
			if (sq_exec(c, step) == -1 ||
			    pragma(c, "PRAGMA freelist_count", &nfree) == -1)
				return -1;
		sqlite3_exec(c->db, "PRAGMA wal_checkpoint(PASSIVE)", NULL,
		    NULL, NULL);
	}
	r->freed_bytes = (before - nfree) * page;
	r->free_bytes = nfree * page;
	return 0;
}

static int
sq_data_version(struct rows_conn *c, int64_t *v)
{
	return pragma(c, "PRAGMA data_version", v);
}

/* Opens column of row id of table for reading: 0 with *blob (caller
 * closes), 1 when there is no such row or the value is not a blob, or -1. */
static int
open_blob(struct rows_conn *c, const char *table, const char *column,
    int64_t id, sqlite3_blob **blob)
{
	int rc;

	*blob = NULL;
	if (sqlite3_blob_open(c->db, "main", table, column, id, 0, blob) ==
	    SQLITE_OK)
		return 0;
	rc = sqlite3_errcode(c->db);
	sqlite3_blob_close(*blob);
	*blob = NULL;
	return (rc & 0xff) == SQLITE_ERROR ? 1 : note(c, rc);
}

/* Incremental blob I/O's handle: only its header is read. */
static int
sq_blob_size(struct rows_conn *c, const char *table, const char *column,
    int64_t id, int64_t *size)
{
	sqlite3_blob *blob;
	int rc;

	if ((rc = open_blob(c, table, column, id, &blob)) != 0)
		return rc;
	*size = sqlite3_blob_bytes(blob);
	sqlite3_blob_close(blob);
	return 0;
}

/* An open blob read chunk by chunk into one buffer (rows_chunk_fn). */
struct blob_reader {
	struct rows_conn *c;
	sqlite3_blob *blob;
	unsigned char *buf;     /* ROWS_READ_CHUNK, or the whole when less */
};

static int
read_blob_chunk(void *ctx, int64_t off, size_t n, const void **p)
{
	struct blob_reader *br = ctx;

	if (note(br->c, sqlite3_blob_read(br->blob, br->buf, (int)n,
	    (int)off)) == -1)
		return -1;
	*p = br->buf;
	return 0;
}

/* Incremental blob I/O: only the chunk asked for is read. */
static int
sq_blob_read(struct rows_conn *c, const char *table, const char *column,
    int64_t id, int (*sink)(void *arg, const void *p, size_t n), void *arg)
{
	struct blob_reader br = { c, NULL, NULL };
	int size, rc;

	if ((rc = open_blob(c, table, column, id, &br.blob)) != 0)
		return rc;
	size = sqlite3_blob_bytes(br.blob);
	if ((br.buf = malloc(size < ROWS_READ_CHUNK ? (size ? size : 1) :
	    ROWS_READ_CHUNK)) == NULL)
		rc = rows_fail(&c->h, DBE_OTHER, "out of memory");
	else
		rc = rows_read_chunks(size, read_blob_chunk, &br, sink, arg);
	free(br.buf);
	sqlite3_blob_close(br.blob);
	return rc;
}

const struct rows_methods sqlite_rows = {
	ROWS_METHODS(sq),
	.sql = ROWS_SQL_SQLITE,
	.bytewise = "",
	.data_version = sq_data_version,
};
