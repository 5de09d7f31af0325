/* copydb.c: the two sides of imgeditctl copy (see copydb.h): SQLite through
 * the store's connection, PostgreSQL through synchronous libpq, bytea in
 * binary format both ways. */
#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "copydb.h"
#include "dbkind.h"
#include "pgschema.h"
#include "store.h"
#include "util.h"

/* PostgreSQL's type oids of what copyplan's SELECTs return. */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25

#define NTABLES 16
/* Seconds a migration of DST waits for another's lock. */
#define COPY_LOCK_TIMEOUT_MS 60000
#define COPY_BUSY_TIMEOUT_MS 10000

struct cdb {
	int pg;
	struct store *st;         /* SQLite */
	sqlite3 *db;
	sqlite3_stmt *ins[NTABLES];
	PGconn *pc;               /* PostgreSQL */
	int prepared[NTABLES];
	char name[1024];
	char err[1024];
};

static int
fail(struct cdb *db, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(struct cdb *db, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(db->err, sizeof(db->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* libpq's message, its first line. */
static int
fail_pg(struct cdb *db, const char *what, const PGresult *r)
{
	const char *msg = r != NULL ? PQresultErrorMessage(r) : "";
	size_t n;

	if (msg == NULL || *msg == '\0')
		msg = PQerrorMessage(db->pc);
	n = strcspn(msg, "\n");
	return fail(db, "%s: %.*s", what, (int)n, *msg ? msg :
	    "unknown error");
}

static int
tindex(const struct ctable *t)
{
	return (int)(t - copy_tables);
}

void
crows_free(struct crows *r)
{
	size_t i;

	for (i = 0; i < r->n * (size_t)r->w; i++)
		free(r->v[i].p);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Room for one more row; returns it (zeroed) or NULL. */
static struct cval *
crows_add(struct crows *r)
{
	struct cval *v;
	size_t cap;

	if (r->n == r->cap) {
		cap = r->cap ? r->cap * 2 : 64;
		if ((v = reallocarray(r->v, cap * (size_t)r->w,
		    sizeof(*v))) == NULL)
			return NULL;
		r->v = v;
		r->cap = cap;
	}
	v = CROW(r, r->n);
	memset(v, 0, sizeof(*v) * (size_t)r->w);
	r->n++;
	return v;
}

/* Copies n bytes into v, NUL-terminated. Returns 0 or -1. */
static int
set_bytes(struct cval *v, const void *p, size_t n)
{
	if ((v->p = malloc(n + 1)) == NULL)
		return -1;
	if (n > 0)
		memcpy(v->p, p, n);
	v->p[n] = '\0';
	v->len = n;
	return 0;
}

/* ---- opening ---- */

static int
open_sqlite(struct cdb *db, const char *path, int dst, char *err,
    size_t errlen)
{
	int have, want;

	db->st = store_open(path, dst ? STORE_CREATE : STORE_READONLY,
	    COPY_BUSY_TIMEOUT_MS, err, errlen);
	if (db->st == NULL)
		return -1;
	db->db = store_db(db->st);
	strlcpy_safe(db->name, path, sizeof(db->name));
	if (dst && store_migrate(db->st, err, errlen) != STORE_OK)
		return -1;
	want = store_schema_version(db->st, &have);
	if (have != want)
		return errorf(err, errlen, "%s has schema version %d, this "
		    "imgeditctl copies version %d%s", path, have, want,
		    have < want ? ": run imgeditctl --db SRC init on it first" :
		    ": upgrade imgedit");
	return 0;
}

static int
open_pg(struct cdb *db, const char *uri, int dst, char *err, size_t errlen)
{
	char why[512];
	int have;

	if ((db->pc = pgschema_connect(uri, why, sizeof(why))) == NULL)
		return errorf(err, errlen, "%s", why);
	pgschema_display(db->pc, db->name, sizeof(db->name));
	if (dst) {
		if (pgschema_migrate(db->pc, COPY_LOCK_TIMEOUT_MS, &have, why,
		    sizeof(why)) == -1)
			return errorf(err, errlen, "%s: %s", db->name, why);
		return 0;
	}
	if (pgschema_version(db->pc, &have, why, sizeof(why)) == -1)
		return errorf(err, errlen, "%s: %s", db->name, why);
	if (have != pgschema_latest())
		return errorf(err, errlen, "%s has schema version %d, this "
		    "imgeditctl copies version %d%s", db->name, have,
		    pgschema_latest(), have < pgschema_latest() ?
		    ": run imgeditctl --db SRC init on it first" :
		    ": upgrade imgedit");
	return 0;
}

int
cdb_open(const char *where, int dst, struct cdb **out, char *err,
    size_t errlen)
{
	struct cdb *db;
	int rc;

	*out = NULL;
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return errorf(err, errlen, "out of memory");
	db->pg = db_kind_of(where) == DB_POSTGRES;
	rc = db->pg ? open_pg(db, where, dst, err, errlen) :
	    open_sqlite(db, where, dst, err, errlen);
	if (rc == -1) {
		cdb_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

void
cdb_close(struct cdb *db)
{
	int i;

	if (db == NULL)
		return;
	for (i = 0; i < NTABLES; i++)
		sqlite3_finalize(db->ins[i]);
	store_close(db->st);
	if (db->pc != NULL)
		PQfinish(db->pc);
	free(db);
}

const char *
cdb_name(const struct cdb *db)
{
	return db->name;
}

const char *
cdb_err(const struct cdb *db)
{
	return db->err;
}

/* ---- parameters ---- */

/* PostgreSQL's text form of the values vals[0..n) (a row of t, or keys)
 * into strs (ints printed into nums[i]), bytes in binary. Text with a NUL
 * byte cannot be text there. */
static int
pg_params(struct cdb *db, const struct ctable *t, const enum ccol_type *types,
    const struct cval *vals, int n, int row, const char **strs, int *lens,
    int *fmts, char (*nums)[24])
{
	int i;

	for (i = 0; i < n; i++) {
		lens[i] = 0;
		fmts[i] = 0;
		if (vals[i].null)
			strs[i] = NULL;
		else if (types[i] == CC_INT) {
			snprintf(nums[i], sizeof(nums[i]), "%lld",
			    (long long)vals[i].i);
			strs[i] = nums[i];
		} else if (types[i] == CC_BLOB) {
			strs[i] = (const char *)vals[i].p;
			lens[i] = (int)vals[i].len;
			fmts[i] = 1;
		} else if (memchr(vals[i].p, '\0', vals[i].len) != NULL) {
			char key[256];

			return fail(db, "%s %s: column %s holds a NUL byte, "
			    "which PostgreSQL's text cannot", t->name,
			    row ? copyplan_keydesc(t, vals, key, sizeof(key)) :
			    "(a key)", t->cols[row ? i : i % t->nkey].name);
		} else
			strs[i] = (const char *)vals[i].p;
	}
	return 0;
}

static int
sq_bind(sqlite3_stmt *s, int i, enum ccol_type type, const struct cval *v)
{
	if (v->null)
		return sqlite3_bind_null(s, i);
	if (type == CC_INT)
		return sqlite3_bind_int64(s, i, v->i);
	if (type == CC_BLOB)
		return sqlite3_bind_blob64(s, i, v->p, v->len, SQLITE_STATIC);
	return sqlite3_bind_text64(s, i, (const char *)v->p, v->len,
	    SQLITE_STATIC, SQLITE_UTF8);
}

/* The key types, repeated for a range's two keys. */
static void
key_types(const struct ctable *t, int n, enum ccol_type *types)
{
	int i;

	for (i = 0; i < n; i++)
		types[i] = t->cols[i % t->nkey].type;
}

/* ---- reading ---- */

/* One SQLite value of type into v. Returns 0, or -1 with why set. */
static int
sq_value(sqlite3_stmt *s, int i, enum ccol_type type, struct cval *v,
    const char **why)
{
	int ct = sqlite3_column_type(s, i);
	const void *p;

	if (ct == SQLITE_NULL) {
		v->null = 1;
		return 0;
	}
	if (type == CC_INT) {
		if (ct != SQLITE_INTEGER) {
			*why = "holds a value that is not an integer";
			return -1;
		}
		v->i = sqlite3_column_int64(s, i);
		return 0;
	}
	p = type == CC_BLOB ? sqlite3_column_blob(s, i) :
	    (const void *)sqlite3_column_text(s, i);
	if (set_bytes(v, p, (size_t)sqlite3_column_bytes(s, i)) == -1) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

/* One PostgreSQL value (binary format) of type into v. */
static int
pg_value(PGresult *r, int row, int i, enum ccol_type type, struct cval *v,
    const char **why)
{
	const char *p = PQgetvalue(r, row, i);
	int len = PQgetlength(r, row, i);
	uint64_t be;

	if (PQgetisnull(r, row, i)) {
		v->null = 1;
		return 0;
	}
	if (type == CC_INT) {
		if (PQftype(r, i) != OID_INT8 || len != 8) {
			*why = "is not a bigint";
			return -1;
		}
		memcpy(&be, p, 8);
		v->i = (int64_t)be64toh(be);
		return 0;
	}
	if (PQftype(r, i) != (type == CC_BLOB ? OID_BYTEA : OID_TEXT)) {
		*why = "has an unexpected type";
		return -1;
	}
	if (set_bytes(v, p, (size_t)len) == -1) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

/* A value that cannot be read: names the row by its key (read first). */
static int
bad_value(struct cdb *db, const struct ctable *t, const struct cval *row,
    int i, const char *why)
{
	char key[256];

	if (i < t->nkey)
		return fail(db, "%s: a key column (%s) %s", t->name,
		    t->cols[i].name, why);
	return fail(db, "%s %s: column %s %s", t->name,
	    copyplan_keydesc(t, row, key, sizeof(key)), t->cols[i].name, why);
}

static void
add_row_bytes(struct crows *out, const struct cval *row)
{
	int i;

	for (i = 0; i < out->w; i++)
		out->bytes += (int64_t)row[i].len;
}

static int
select_sqlite(struct cdb *db, const struct ctable *t, enum cq_what what,
    const char *sql, const struct cval *keys, int nkeys, int64_t limit,
    struct crows *out)
{
	enum ccol_type types[2 * COPY_KEY_MAX];
	sqlite3_stmt *s = NULL;
	const char *why = NULL;
	struct cval *row;
	int i, rc;

	if (sqlite3_prepare_v2(db->db, sql, -1, &s, NULL) != SQLITE_OK)
		return fail(db, "%s: %s", t->name, sqlite3_errmsg(db->db));
	key_types(t, nkeys, types);
	for (i = 0; i < nkeys; i++)
		sq_bind(s, i + 1, types[i], &keys[i]);
	if (sqlite3_bind_parameter_count(s) > nkeys)
		sqlite3_bind_int64(s, nkeys + 1, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((row = crows_add(out)) == NULL) {
			fail(db, "out of memory");
			goto fail;
		}
		for (i = 0; i < out->w; i++)
			if (sq_value(s, i, copyplan_type(t, what, i), &row[i],
			    &why) == -1) {
				bad_value(db, t, row, i, why);
				goto fail;
			}
		add_row_bytes(out, row);
	}
	if (rc != SQLITE_DONE) {
		fail(db, "%s: %s", t->name, sqlite3_errmsg(db->db));
		goto fail;
	}
	sqlite3_finalize(s);
	return 0;
fail:
	sqlite3_finalize(s);
	return -1;
}

static int
select_pg(struct cdb *db, const struct ctable *t, enum cq_what what,
    const char *sql, const struct cval *keys, int nkeys, int64_t limit,
    int with_limit, struct crows *out)
{
	enum ccol_type types[2 * COPY_KEY_MAX + 1];
	const char *strs[2 * COPY_KEY_MAX + 1];
	int lens[2 * COPY_KEY_MAX + 1], fmts[2 * COPY_KEY_MAX + 1];
	char nums[2 * COPY_KEY_MAX + 1][24];
	struct cval all[2 * COPY_KEY_MAX + 1];
	const char *why = NULL;
	struct cval *row;
	PGresult *r;
	int i, j, n = nkeys;

	key_types(t, nkeys, types);
	if (nkeys > 0)
		memcpy(all, keys, sizeof(*keys) * (size_t)nkeys);
	if (with_limit) {
		types[n] = CC_INT;
		memset(&all[n], 0, sizeof(all[n]));
		all[n++].i = limit;
	}
	if (pg_params(db, t, types, all, n, 0, strs, lens, fmts, nums) == -1)
		return -1;
	r = PQexecParams(db->pc, sql, n, NULL, strs, lens, fmts, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQnfields(r) != out->w) {
		fail_pg(db, t->name, r);
		PQclear(r);
		return -1;
	}
	for (j = 0; j < PQntuples(r); j++) {
		if ((row = crows_add(out)) == NULL) {
			PQclear(r);
			return fail(db, "out of memory");
		}
		for (i = 0; i < out->w; i++)
			if (pg_value(r, j, i, copyplan_type(t, what, i), &row[i],
			    &why) == -1) {
				bad_value(db, t, row, i, why);
				PQclear(r);
				return -1;
			}
		add_row_bytes(out, row);
	}
	PQclear(r);
	return 0;
}

int
cdb_select(struct cdb *db, const struct ctable *t, enum cq_what what,
    enum cq_where where, const struct cval *keys, int64_t limit,
    struct crows *out)
{
	int with_limit = what == CQ_ROWS || what == CQ_SIZES;
	int nkeys = copyplan_nparams(t, where);
	char sql[4096];

	out->w = copyplan_width(t, what);
	if (copyplan_select(sql, sizeof(sql), t, what, where, with_limit,
	    db->pg) == -1)
		return fail(db, "%s: no query for that", t->name);
	if (db->pg)
		return select_pg(db, t, what, sql, keys, nkeys, limit,
		    with_limit, out);
	return select_sqlite(db, t, what, sql, keys, nkeys, limit, out);
}

int
cdb_count(struct cdb *db, const struct ctable *t, enum cq_where where,
    const struct cval *keys, int64_t *n)
{
	struct crows r = { 0 };

	if (cdb_select(db, t, CQ_COUNT, where, keys, 0, &r) == -1)
		return -1;
	*n = r.n == 1 && !r.v[0].null ? r.v[0].i : 0;
	crows_free(&r);
	return 0;
}

/* ---- writing ---- */

/* A statement without rows, on either backend, with integer parameters
 * args[0..n). Returns 0 or -1. */
static int
exec_ints(struct cdb *db, const char *sqlite_sql, const char *pg_sql,
    const char *what, const int64_t *args, int n)
{
	char nums[4][24];
	const char *strs[4] = { NULL, NULL, NULL, NULL };
	sqlite3_stmt *s = NULL;
	PGresult *r;
	int i, rc;

	if (db->pg) {
		for (i = 0; i < n; i++) {
			snprintf(nums[i], sizeof(nums[i]), "%lld",
			    (long long)args[i]);
			strs[i] = nums[i];
		}
		r = PQexecParams(db->pc, pg_sql, n, NULL, strs, NULL, NULL, 0);
		rc = PQresultStatus(r) == PGRES_COMMAND_OK ||
		    PQresultStatus(r) == PGRES_TUPLES_OK ? 0 :
		    fail_pg(db, what, r);
		PQclear(r);
		return rc;
	}
	if (sqlite3_prepare_v2(db->db, sqlite_sql, -1, &s, NULL) != SQLITE_OK)
		return fail(db, "%s: %s", what, sqlite3_errmsg(db->db));
	for (i = 0; i < n; i++)
		sqlite3_bind_int64(s, i + 1, args[i]);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : fail(db, "%s: %s", what,
	    sqlite3_errmsg(db->db));
	sqlite3_finalize(s);
	return rc;
}

int
cdb_begin(struct cdb *db)
{
	return exec_ints(db, "BEGIN IMMEDIATE", "BEGIN", "cannot begin a "
	    "transaction", NULL, 0);
}

int
cdb_commit(struct cdb *db)
{
	return exec_ints(db, "COMMIT", "COMMIT", "cannot commit", NULL, 0);
}

void
cdb_rollback(struct cdb *db)
{
	char keep[sizeof(db->err)];

	memcpy(keep, db->err, sizeof(keep));
	exec_ints(db, "ROLLBACK", "ROLLBACK", "rollback", NULL, 0);
	memcpy(db->err, keep, sizeof(keep));
}

static int
insert_sqlite(struct cdb *db, const struct ctable *t, const struct cval *row)
{
	sqlite3_stmt **s = &db->ins[tindex(t)];
	char sql[2048], key[256];
	int i, rc;

	if (*s == NULL && (copyplan_insert(sql, sizeof(sql), t, 0) == -1 ||
	    sqlite3_prepare_v2(db->db, sql, -1, s, NULL) != SQLITE_OK))
		return fail(db, "%s: %s", t->name, sqlite3_errmsg(db->db));
	for (i = 0; i < t->ncols; i++)
		sq_bind(*s, i + 1, t->cols[i].type, &row[i]);
	rc = sqlite3_step(*s);
	sqlite3_reset(*s);
	sqlite3_clear_bindings(*s);
	if (rc != SQLITE_DONE)
		return fail(db, "%s %s: cannot write it: %s", t->name,
		    copyplan_keydesc(t, row, key, sizeof(key)),
		    sqlite3_errmsg(db->db));
	return 0;
}

static int
insert_pg(struct cdb *db, const struct ctable *t, const struct cval *row)
{
	enum { MAXC = 32 };
	enum ccol_type types[MAXC];
	const char *strs[MAXC];
	int lens[MAXC], fmts[MAXC], i, rc;
	char nums[MAXC][24], sql[2048], name[64], key[256], what[512];
	PGresult *r;

	if (t->ncols > MAXC)
		return fail(db, "%s: too many columns", t->name);
	snprintf(name, sizeof(name), "copy_%s", t->name);
	if (!db->prepared[tindex(t)]) {
		if (copyplan_insert(sql, sizeof(sql), t, 1) == -1)
			return fail(db, "%s: no insert", t->name);
		r = PQprepare(db->pc, name, sql, t->ncols, NULL);
		rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 :
		    fail_pg(db, t->name, r);
		PQclear(r);
		if (rc == -1)
			return -1;
		db->prepared[tindex(t)] = 1;
	}
	for (i = 0; i < t->ncols; i++)
		types[i] = t->cols[i].type;
	if (pg_params(db, t, types, row, t->ncols, 1, strs, lens, fmts,
	    nums) == -1)
		return -1;
	r = PQexecPrepared(db->pc, name, t->ncols, strs, lens, fmts, 0);
	snprintf(what, sizeof(what), "%s %s: cannot write it", t->name,
	    copyplan_keydesc(t, row, key, sizeof(key)));
	rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : fail_pg(db, what, r);
	PQclear(r);
	return rc;
}

int
cdb_insert(struct cdb *db, const struct ctable *t, const struct cval *row)
{
	return db->pg ? insert_pg(db, t, row) : insert_sqlite(db, t, row);
}

int
cdb_drop_events(struct cdb *db, int64_t lo, int64_t hi)
{
	int64_t args[2] = { lo, hi };

	return exec_ints(db, "DELETE FROM events WHERE job_id BETWEEN ? AND ?",
	    "DELETE FROM events WHERE job_id BETWEEN $1 AND $2",
	    "cannot drop the copied jobs' trigger events", args, 2);
}

int
cdb_follow(struct cdb *db, const struct ctable *t, int64_t id)
{
	const char *strs[2];
	char num[24];
	PGresult *r;
	int rc;

	if (!db->pg || !t->identity)
		return 0;
	snprintf(num, sizeof(num), "%lld", (long long)id);
	strs[0] = t->name;
	strs[1] = num;
	r = PQexecParams(db->pc, "SELECT setval(pg_get_serial_sequence($1, "
	    "'id'), $2::bigint)", 2, NULL, strs, NULL, NULL, 0);
	rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 :
	    fail_pg(db, "cannot set the id sequence", r);
	PQclear(r);
	return rc;
}

/* ---- job ids ---- */

int
cdb_jobs_mark(struct cdb *db, int64_t *mark)
{
	sqlite3_stmt *s = NULL;
	PGresult *res;
	int rc = -1;

	*mark = 0;
	if (db->pg) {
		res = PQexec(db->pc, "SELECT coalesce(pg_sequence_last_value("
		    "pg_get_serial_sequence('jobs', 'id')::regclass), 0)");
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
			*mark = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
			rc = 0;
		} else
			fail_pg(db, "cannot read the job id sequence", res);
		PQclear(res);
		return rc;
	}
	if (sqlite3_prepare_v2(db->db, "SELECT coalesce((SELECT seq FROM "
	    "sqlite_sequence WHERE name = 'jobs'), 0)", -1, &s, NULL) ==
	    SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
		*mark = sqlite3_column_int64(s, 0);
		rc = 0;
	} else
		fail(db, "cannot read the job id sequence: %s",
		    sqlite3_errmsg(db->db));
	sqlite3_finalize(s);
	return rc;
}

int
cdb_raise_jobs_mark(struct cdb *db, int64_t mark)
{
	if (db->pg)
		return exec_ints(db, NULL, "SELECT setval(pg_get_serial_sequence("
		    "'jobs', 'id'), $1::bigint) WHERE $1::bigint > coalesce("
		    "pg_sequence_last_value(pg_get_serial_sequence('jobs', 'id')"
		    "::regclass), 0)", "cannot set the job id sequence", &mark, 1);
	if (cdb_begin(db) == -1)
		return -1;
	if (exec_ints(db, "UPDATE sqlite_sequence SET seq = ?1 WHERE name = "
	    "'jobs' AND seq < ?1", NULL, "cannot set the job id sequence",
	    &mark, 1) == -1 ||
	    exec_ints(db, "INSERT INTO sqlite_sequence (name, seq) SELECT "
	    "'jobs', ?1 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE "
	    "name = 'jobs')", NULL, "cannot set the job id sequence", &mark,
	    1) == -1 || cdb_commit(db) == -1) {
		cdb_rollback(db);
		return -1;
	}
	return 0;
}

/* ---- in use ---- */

int
cdb_in_use(struct cdb *db, int64_t since, int64_t *running, int64_t *daemons)
{
	static const char sql[] = "SELECT (SELECT count(*) FROM jobs WHERE "
	    "state = 'running'), (SELECT count(*) FROM daemons WHERE "
	    "stopped_at IS NULL AND heartbeat_at > %s)";
	char q[256], num[24];
	const char *strs[1] = { num };
	sqlite3_stmt *s = NULL;
	PGresult *r;
	int rc = -1;

	snprintf(q, sizeof(q), sql, db->pg ? "$1" : "?");
	if (db->pg) {
		snprintf(num, sizeof(num), "%lld", (long long)since);
		r = PQexecParams(db->pc, q, 1, NULL, strs, NULL, NULL, 0);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
			*running = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
			*daemons = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
			rc = 0;
		} else
			fail_pg(db, "cannot read jobs and daemons", r);
		PQclear(r);
		return rc;
	}
	if (sqlite3_prepare_v2(db->db, q, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(s, 1, since) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		*running = sqlite3_column_int64(s, 0);
		*daemons = sqlite3_column_int64(s, 1);
		rc = 0;
	} else
		fail(db, "cannot read jobs and daemons: %s",
		    sqlite3_errmsg(db->db));
	sqlite3_finalize(s);
	return rc;
}
