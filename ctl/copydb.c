/* copydb.c: one side of imgeditctl copy (see copydb.h), opened as every
 * verb opens its database (catalog_open) and read and written through the
 * row operations of its backend (rows.h): no side knows which backend. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "copydb.h"
#include "rows.h"
#include "util.h"

#define NTABLES 16

struct cdb {
	struct catalog *cat;
	const struct rows_methods *m;
	struct rows_conn *c;
	struct rows_stmt *ins[NTABLES];
	char err[1024];
};

#define D(db, pair) ROWS_SQL((db)->m, pair)

/* The highest job id ever given, pruned jobs' included. */
ROWS_SQL_PAIR(sql_jobs_mark, "SELECT coalesce((SELECT seq FROM sqlite_sequence "
    "WHERE name = 'jobs'), 0)", "SELECT coalesce(pg_sequence_last_value("
    "pg_get_serial_sequence('jobs', 'id')::regclass), 0)");
/* Raising it to ?1, never lowering it (two statements on SQLite). */
ROWS_SQL_PAIR(sql_raise_mark, "UPDATE sqlite_sequence SET seq = ?1 WHERE name = "
    "'jobs' AND seq < ?1", "SELECT setval(pg_get_serial_sequence('jobs', "
    "'id'), CAST(?1 AS bigint)) WHERE CAST(?1 AS bigint) > coalesce("
    "pg_sequence_last_value(pg_get_serial_sequence('jobs', 'id')"
    "::regclass), 0)");
ROWS_SQL_PAIR(sql_raise_mark2, "INSERT INTO sqlite_sequence (name, seq) SELECT "
    "'jobs', ?1 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE "
    "name = 'jobs')", NULL);
/* A table's id sequence goes on after ?1 (SQLite takes max(id) + 1 by
 * itself); the table's name (%s) is copyplan's. */
ROWS_SQL_PAIR(sql_follow, NULL, "SELECT setval(pg_get_serial_sequence('%s', 'id'), "
    "CAST(?1 AS bigint))");

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

/* what, then the backend's message. */
static int
fail_db(struct cdb *db, const char *what)
{
	return fail(db, "%s: %s", what, db->m->errmsg(db->c));
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

int
cdb_open(const char *where, int dst, struct cdb **out, char *err,
    size_t errlen)
{
	struct cdb *db;
	char name[1024];
	int have;

	*out = NULL;
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return errorf(err, errlen, "out of memory");
	/* DST is created if missing and migrated, as init does */
	if ((dst && catalog_init(where, name, sizeof(name), &have, err,
	    errlen) != CATALOG_OK) || catalog_open(where, dst ? 0 :
	    CATALOG_READONLY, "imgeditctl", &db->cat, err, errlen) !=
	    CATALOG_OK) {
		free(db);
		return -1;
	}
	db->m = catalog_rows(db->cat, &db->c);
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
		db->m->finalize(db->ins[i]);
	catalog_close(db->cat);
	free(db);
}

const char *
cdb_name(const struct cdb *db)
{
	return catalog_name(db->cat);
}

const char *
cdb_err(const struct cdb *db)
{
	return db->err;
}

/* ---- parameters ---- */

/* Binds v as parameter i of type. Text with a NUL byte is refused: it
 * cannot be text on PostgreSQL (nor be bound whole as text). */
static int
bind_val(struct cdb *db, struct rows_stmt *s, int i, enum ccol_type type,
    const struct cval *v, const struct ctable *t, const struct cval *row,
    int col)
{
	char key[256];

	if (v->null)
		return db->m->bind_null(s, i);
	if (type == CC_INT)
		return db->m->bind_int64(s, i, v->i);
	if (type == CC_BLOB)
		return db->m->bind_blob(s, i, v->p, v->len);
	if (memchr(v->p, '\0', v->len) != NULL)
		return fail(db, "%s %s: column %s holds a NUL byte, which "
		    "PostgreSQL's text cannot", t->name, row ?
		    copyplan_keydesc(t, row, key, sizeof(key)) : "(a key)",
		    t->cols[col].name);
	return db->m->bind_text(s, i, (const char *)v->p);
}

/* ---- reading ---- */

/* One value of type into v. Returns 0, or -1 with why set. */
static int
get_value(struct cdb *db, struct rows_stmt *s, int i, enum ccol_type type,
    struct cval *v, const char **why)
{
	enum rows_type ct = db->m->column_type(s, i);
	const void *p;

	if (ct == ROWS_NULL) {
		v->null = 1;
		return 0;
	}
	if (type == CC_INT) {
		if (ct != ROWS_INT) {
			*why = "holds a value that is not an integer";
			return -1;
		}
		v->i = db->m->column_int64(s, i);
		return 0;
	}
	p = type == CC_BLOB ? db->m->column_blob(s, i) :
	    (const void *)db->m->column_text(s, i);
	if (set_bytes(v, p, db->m->column_bytes(s, i)) == -1) {
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

/* Steps s, appending its rows of what to out. Returns 0 or -1. */
static int
read_rows(struct cdb *db, struct rows_stmt *s, const struct ctable *t,
    enum cq_what what, struct crows *out)
{
	const char *why = NULL;
	struct cval *row;
	int i, rc;

	while ((rc = db->m->step(s)) == ROWS_ROW) {
		if (db->m->column_count(s) != out->w)
			return fail(db, "%s: unexpected columns", t->name);
		if ((row = crows_add(out)) == NULL)
			return fail(db, "out of memory");
		for (i = 0; i < out->w; i++) {
			if (get_value(db, s, i, copyplan_type(t, what, i),
			    &row[i], &why) == -1)
				return bad_value(db, t, row, i, why);
			out->bytes += (int64_t)row[i].len;
		}
	}
	return rc == ROWS_DONE ? 0 : fail_db(db, t->name);
}

int
cdb_select(struct cdb *db, const struct ctable *t, enum cq_what what,
    enum cq_where where, const struct cval *keys, int64_t limit,
    struct crows *out)
{
	int with_limit = what == CQ_ROWS || what == CQ_SIZES;
	int nkeys = copyplan_nparams(t, where), i, rc = -1;
	struct rows_stmt *s = NULL;
	char sql[4096];

	out->w = copyplan_width(t, what);
	if (copyplan_select(sql, sizeof(sql), t, what, where, with_limit,
	    db->m->sql, db->m->bytewise) == -1)
		return fail(db, "%s: no query for that", t->name);
	if (db->m->prepare(db->c, sql, &s) == -1)
		return fail_db(db, t->name);
	for (i = 0; i < nkeys; i++)
		if (bind_val(db, s, i + 1, t->cols[i % t->nkey].type, &keys[i],
		    t, NULL, i % t->nkey) == -1)
			goto done;
	if (with_limit && db->m->bind_int64(s, nkeys + 1, limit) == -1) {
		fail_db(db, t->name);
		goto done;
	}
	rc = read_rows(db, s, t, what, out);
done:
	db->m->finalize(s);
	return rc;
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

/* Runs sql (NULL: nothing to do) with integer parameters args[0..n),
 * reading the first integer of its row (if any) into *out. */
static int
exec_ints(struct cdb *db, const char *sql, const char *what,
    const int64_t *args, int n, int64_t *out)
{
	struct rows_stmt *s = NULL;
	int i, rc;

	if (sql == NULL)
		return 0;
	if (db->m->prepare(db->c, sql, &s) == -1)
		return fail_db(db, what);
	for (i = 0; i < n; i++)
		db->m->bind_int64(s, i + 1, args[i]);
	while ((rc = db->m->step(s)) == ROWS_ROW)
		if (out != NULL)
			*out = db->m->column_int64(s, 0);
	rc = rc == ROWS_DONE ? 0 : fail_db(db, what);
	db->m->finalize(s);
	return rc;
}

int
cdb_begin(struct cdb *db)
{
	return db->m->begin(db->c, 1) == 0 ? 0 :
	    fail_db(db, "cannot begin a transaction");
}

int
cdb_commit(struct cdb *db)
{
	return db->m->commit(db->c) == 0 ? 0 : fail_db(db, "cannot commit");
}

void
cdb_rollback(struct cdb *db)
{
	db->m->rollback(db->c);
}

int
cdb_insert(struct cdb *db, const struct ctable *t, const struct cval *row)
{
	struct rows_stmt **s = &db->ins[tindex(t)];
	char sql[2048], key[256], what[512];
	int i, rc;

	if (*s == NULL && (copyplan_insert(sql, sizeof(sql), t) == -1 ||
	    db->m->prepare(db->c, sql, s) == -1))
		return fail_db(db, t->name);
	for (i = 0; i < t->ncols; i++)
		if (bind_val(db, *s, i + 1, t->cols[i].type, &row[i], t, row,
		    i) == -1) {
			db->m->reset(*s);
			return -1;
		}
	rc = db->m->step(*s);
	if (rc != ROWS_DONE) {
		snprintf(what, sizeof(what), "%s %s: cannot write it", t->name,
		    copyplan_keydesc(t, row, key, sizeof(key)));
		fail_db(db, what);
	}
	db->m->reset(*s);
	return rc == ROWS_DONE ? 0 : -1;
}

int
cdb_drop_events(struct cdb *db, int64_t lo, int64_t hi)
{
	int64_t args[2] = { lo, hi };

	return exec_ints(db, "DELETE FROM events WHERE job_id BETWEEN ?1 AND "
	    "?2", "cannot drop the copied jobs' trigger events", args, 2, NULL);
}

int
cdb_follow(struct cdb *db, const struct ctable *t, int64_t id)
{
	char sql[256];

	if (!t->identity || D(db, sql_follow) == NULL)
		return 0;
	snprintf(sql, sizeof(sql), D(db, sql_follow), t->name);
	return exec_ints(db, sql, "cannot set the id sequence", &id, 1, NULL);
}

/* ---- job ids ---- */

int
cdb_jobs_mark(struct cdb *db, int64_t *mark)
{
	*mark = 0;
	return exec_ints(db, D(db, sql_jobs_mark), "cannot read the job id "
	    "sequence", NULL, 0, mark);
}

int
cdb_raise_jobs_mark(struct cdb *db, int64_t mark)
{
	static const char what[] = "cannot set the job id sequence";

	if (cdb_begin(db) == -1)
		return -1;
	if (exec_ints(db, D(db, sql_raise_mark), what, &mark, 1, NULL) == -1 ||
	    exec_ints(db, D(db, sql_raise_mark2), what, &mark, 1, NULL) == -1 ||
	    cdb_commit(db) == -1) {
		cdb_rollback(db);
		return -1;
	}
	return 0;
}

/* ---- in use ---- */

int
cdb_in_use(struct cdb *db, int64_t now, int64_t fresh_ms, int64_t *running,
    int *daemons)
{
	static const char sql[] = "SELECT count(*) FROM jobs WHERE state = "
	    "'running'";
	int rc;

	if (exec_ints(db, sql, "cannot read jobs", NULL, 0, running) == -1)
		return -1;
	rc = catalog_live_daemons(db->cat, now, fresh_ms, daemons);
	return rc == CATALOG_OK ? 0 : fail_db(db, "cannot read daemons");
}
