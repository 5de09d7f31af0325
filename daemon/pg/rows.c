/* pg/rows.c: rows.h on PostgreSQL: blocking libpq, named prepared
 * statements, ?N written as $N, blobs sent and read in binary. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "pgconn.h"
#include "pgschema.h"
#include "rows.h"
#include "util.h"

/* Type oids of pg_type.h (server headers are not installed with libpq). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_JSON 114
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700
#define OID_JSONB 3802
#define OID_TEXT 25
#define OID_VARCHAR 1043

struct rows_conn {
	struct rows_head h;        /* the name, the last error (rows.h) */
	PGconn *pg;
	unsigned next_stmt;        /* names r1, r2, ... */
};

struct rows_stmt {
	struct rows_conn *c;
	char name[16];
	PGresult *desc;            /* parameters and columns, from describe */
	PGresult *res;             /* the rows, once stepped */
	int row, binary, nparams;
	const char **v;
	int *len, *fmt;
	char (*num)[24];
	char *scratch;             /* a column's text made here (json, ints) */
	int scratch_col;           /* of this column of the current row, or -1 */
};

/* Keeps r's (or the connection's) message, first line, and its class. */
static int
fail_with(struct rows_conn *c, const PGresult *r)
{
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) :
	    NULL, *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (msg == NULL)
		msg = PQerrorMessage(c->pg);
	return rows_fail(&c->h, pgconn_err_class(st,
	    PQstatus(c->pg) == CONNECTION_BAD), msg);
}

static int
fail_text(struct rows_conn *c, const char *msg)
{
	return rows_fail(&c->h, DBE_OTHER, msg);
}

/* pgschema's call failed, its text in the head: lost or other. */
static int
fail_schema(struct rows_conn *c)
{
	return rows_fail(&c->h, PQstatus(c->pg) == CONNECTION_BAD ? DBE_LOST :
	    DBE_OTHER, c->h.err);
}

/* Runs sql without parameters; 0 when it succeeded, with *res if asked. */
static int
run(struct rows_conn *c, const char *sql, PGresult **res)
{
	PGresult *r = PQexec(c->pg, sql);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		fail_with(c, r);
		PQclear(r);
		return -1;
	}
	rows_ok(&c->h);
	if (res != NULL)
		*res = r;
	else
		PQclear(r);
	return 0;
}

static int
pq_open(const char *uri, int flags, int busy_ms, struct rows_conn **out,
    char *err, size_t errlen)
{
	struct rows_conn *c;
	char sql[64];

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((c->pg = pgschema_connect(uri, err, errlen)) == NULL) {
		free(c);
		return -1;
	}
	pgschema_display(c->pg, c->h.name, sizeof(c->h.name));
	/* a lock held longer than busy_ms is DBE_LOCK, as SQLite's busy
	 * timeout gives */
	snprintf(sql, sizeof(sql), "SET lock_timeout = %d", busy_ms);
	if (run(c, sql, NULL) == -1 || ((flags & ROWS_READONLY) && run(c,
	    "SET default_transaction_read_only = on", NULL) == -1)) {
		snprintf(err, errlen, "%s: %s", c->h.name, c->h.err);
		PQfinish(c->pg);
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

static void
pq_close(struct rows_conn *c)
{
	if (c == NULL)
		return;
	PQfinish(c->pg);
	free(c);
}

static int
pq_version(struct rows_conn *c, int *have, int *want)
{
	*want = pgschema_latest();
	if (pgschema_version(c->pg, have, c->h.err, sizeof(c->h.err)) == -1) {
		*have = -1;
		return fail_schema(c);
	}
	return rows_ok(&c->h);
}

static int
pq_migrate(struct rows_conn *c, int wait_ms, int *have)
{
	if (pgschema_migrate(c->pg, wait_ms, have, c->h.err,
	    sizeof(c->h.err)) == -1)
		return fail_schema(c);
	return rows_ok(&c->h);
}

static int
pq_begin(struct rows_conn *c, int write)
{
	return run(c, write ? "BEGIN" :
	    "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", NULL);
}

/* COMMIT of a transaction that failed rolls back instead: told apart by
 * the command tag. */
static int
pq_commit(struct rows_conn *c)
{
	PGresult *r = NULL;
	int rc;

	if (run(c, "COMMIT", &r) == -1)
		return -1;
	rc = strcmp(PQcmdStatus(r), "COMMIT") == 0 ? 0 : fail_text(c,
	    "the transaction failed and was rolled back");
	PQclear(r);
	return rc;
}

/* Ends a transaction without changing the message of what failed in it. */
static void
pq_rollback(struct rows_conn *c)
{
	if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
		PQclear(PQexec(c->pg, "ROLLBACK"));
}

/* sql with ?N (and bare ?, numbered in order) as $N, outside quotes.
 * Returns a new string (caller frees) or NULL. */
static char *
dollar_params(const char *sql)
{
	size_t n = strlen(sql), o = 0;
	char *out = malloc(n * 4 + 1), quote = 0;
	int next = 1;

	if (out == NULL)
		return NULL;
	for (; *sql != '\0'; sql++) {
		if (quote != 0) {
			if (*sql == quote)
				quote = 0;
		} else if (*sql == '\'' || *sql == '"')
			quote = *sql;
		else if (*sql == '?') {
			if (sql[1] >= '0' && sql[1] <= '9') {
				out[o++] = '$';
				continue;
			}
			o += (size_t)sprintf(out + o, "$%d", next++);
			continue;
		}
		out[o++] = *sql;
	}
	out[o] = '\0';
	return out;
}

/* How a statement returning these columns is read: 1 in binary (it
 * returns bytea, and only types read here in both formats), 0 in text, -1
 * when it returns bytea beside a type not read in binary (numeric...). */
static int
binary_ok(const PGresult *desc)
{
	int i, bytea = 0, other = 0;

	for (i = 0; i < PQnfields(desc); i++) {
		switch (PQftype(desc, i)) {
		case OID_BYTEA:
			bytea = 1;
			break;
		case OID_BOOL: case OID_INT2: case OID_INT4: case OID_INT8:
		case OID_JSON: case OID_JSONB: case OID_TEXT:
		case OID_VARCHAR:
			break;
		default:
			other = 1;
		}
	}
	return bytea ? (other ? -1 : 1) : 0;
}

static void
pq_finalize(struct rows_stmt *s)
{
	char sql[32];

	if (s == NULL)
		return;
	PQclear(s->res);
	PQclear(s->desc);
	if (s->name[0] != '\0' && PQstatus(s->c->pg) == CONNECTION_OK &&
	    PQtransactionStatus(s->c->pg) != PQTRANS_INERROR) {
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
		PQclear(PQexec(s->c->pg, sql));
	}
	free(s->v);
	free(s->len);
	free(s->fmt);
	free(s->num);
	free(s->scratch);
	free(s);
}

static int
pq_prepare(struct rows_conn *c, const char *sql, struct rows_stmt **out)
{
	struct rows_stmt *s;
	PGresult *r;
	char *text;
	int n;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (text = dollar_params(sql)) == NULL) {
		free(s);
		return fail_text(c, "out of memory");
	}
	s->c = c;
	s->scratch_col = -1;
	snprintf(s->name, sizeof(s->name), "r%u", ++c->next_stmt);
	r = PQprepare(c->pg, s->name, text, 0, NULL);
	free(text);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fail_with(c, r);
		PQclear(r);
		s->name[0] = '\0';
		pq_finalize(s);
		return -1;
	}
	PQclear(r);
	s->desc = PQdescribePrepared(c->pg, s->name);
	if (PQresultStatus(s->desc) != PGRES_COMMAND_OK) {
		fail_with(c, s->desc);
		pq_finalize(s);
		return -1;
	}
	s->nparams = n = PQnparams(s->desc);
	if ((s->binary = binary_ok(s->desc)) == -1) {
		pq_finalize(s);
		return fail_text(c, "a statement reading bytea returns a type "
		    "not read in binary");
	}
	if (n > 0 && ((s->v = calloc((size_t)n, sizeof(*s->v))) == NULL ||
	    (s->len = calloc((size_t)n, sizeof(*s->len))) == NULL ||
	    (s->fmt = calloc((size_t)n, sizeof(*s->fmt))) == NULL ||
	    (s->num = calloc((size_t)n, sizeof(*s->num))) == NULL)) {
		pq_finalize(s);
		return fail_text(c, "out of memory");
	}
	rows_ok(&c->h);
	*out = s;
	return 0;
}

static int
param(struct rows_stmt *s, int i, const char *v, int len, int fmt)
{
	if (i < 1 || i > s->nparams)
		return fail_text(s->c, "parameter index out of range");
	s->v[i - 1] = v;
	s->len[i - 1] = len;
	s->fmt[i - 1] = fmt;
	return 0;
}

static int
pq_bind_int64(struct rows_stmt *s, int i, int64_t v)
{
	if (i < 1 || i > s->nparams)
		return fail_text(s->c, "parameter index out of range");
	snprintf(s->num[i - 1], sizeof(s->num[0]), "%" PRId64, v);
	return param(s, i, s->num[i - 1], 0, 0);
}

static int
pq_bind_text(struct rows_stmt *s, int i, const char *v)
{
	return param(s, i, v, 0, 0);
}

static int
pq_bind_blob(struct rows_stmt *s, int i, const void *p, size_t n)
{
	if (n > INT32_MAX)
		return fail_text(s->c, "value too large");
	return param(s, i, n > 0 ? p : "", (int)n, 1);
}

static int
pq_bind_null(struct rows_stmt *s, int i)
{
	return param(s, i, NULL, 0, 0);
}

static int
pq_step(struct rows_stmt *s)
{
	ExecStatusType st;

	if (s->res == NULL) {
		s->res = PQexecPrepared(s->c->pg, s->name, s->nparams, s->v,
		    s->len, s->fmt, s->binary);
		st = PQresultStatus(s->res);
		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
			fail_with(s->c, s->res);
			PQclear(s->res);
			s->res = NULL;
			return -1;
		}
		rows_ok(&s->c->h);
		s->row = -1;
	}
	s->scratch_col = -1;
	if (++s->row < PQntuples(s->res))
		return ROWS_ROW;
	s->row = PQntuples(s->res);
	return ROWS_DONE;
}

static int
pq_column_count(struct rows_stmt *s)
{
	return PQnfields(s->desc);
}

static const char *
pq_column_name(struct rows_stmt *s, int i)
{
	return PQfname(s->desc, i);
}

static int
cell_null(struct rows_stmt *s, int i)
{
	return s->res == NULL || s->row < 0 || s->row >= PQntuples(s->res) ||
	    i < 0 || i >= PQnfields(s->res) || PQgetisnull(s->res, s->row, i);
}

/* The cell's text: in binary results, a jsonb's version byte skipped. */
static const char *
raw(struct rows_stmt *s, int i, size_t *n)
{
	const char *v = PQgetvalue(s->res, s->row, i);

	*n = (size_t)PQgetlength(s->res, s->row, i);
	if (s->binary && PQftype(s->res, i) == OID_JSONB && *n > 0) {
		v++;
		(*n)--;
	}
	return v;
}

/* A json cell as SQLite's json_extract gives it: a string's text, a
 * number, 1 or 0 for true or false, an object or array as its text. */
static json_t *
json_value(struct rows_stmt *s, int i)
{
	size_t n;
	const char *v = raw(s, i, &n);

	return json_loadb(v, n, JSON_DECODE_ANY, NULL);
}

static enum rows_type
pq_column_type(struct rows_stmt *s, int i)
{
	enum rows_type t = ROWS_TEXT;
	json_t *j;
	char *end;

	if (cell_null(s, i))
		return ROWS_NULL;
	switch (PQftype(s->res, i)) {
	case OID_BOOL: case OID_INT2: case OID_INT4: case OID_INT8:
		return ROWS_INT;
	case OID_FLOAT4: case OID_FLOAT8:
		return ROWS_REAL;
	case OID_BYTEA:
		return ROWS_BLOB;
	case OID_NUMERIC:
		strtoll(PQgetvalue(s->res, s->row, i), &end, 10);
		return *end == '\0' ? ROWS_INT : ROWS_REAL;
	case OID_JSON:
		if ((j = json_value(s, i)) == NULL)
			return ROWS_TEXT;
		t = json_is_integer(j) || json_is_boolean(j) ? ROWS_INT :
		    json_is_real(j) ? ROWS_REAL : json_is_null(j) ? ROWS_NULL :
		    ROWS_TEXT;
		json_decref(j);
		return t;
	default:
		return ROWS_TEXT;
	}
}

/* A binary integer cell of 1 (bool), 2, 4 or 8 bytes. */
static int64_t
binary_int(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	size_t k;

	for (k = 0; k < n; k++)
		v = v << 8 | p[k];
	if (n == 2)
		return (int16_t)v;
	if (n == 4)
		return (int32_t)v;
	return (int64_t)v;
}

static int64_t
pq_column_int64(struct rows_stmt *s, int i)
{
	const char *v;
	json_t *j;
	int64_t x;
	size_t n;

	if (cell_null(s, i))
		return 0;
	v = raw(s, i, &n);
	switch (PQftype(s->res, i)) {
	case OID_BOOL:
		return s->binary ? v[0] != 0 : v[0] == 't';
	case OID_JSON:
	case OID_JSONB:
		j = json_value(s, i);
		x = json_is_integer(j) ? json_integer_value(j) :
		    json_is_true(j) ? 1 : (int64_t)json_number_value(j);
		json_decref(j);
		return x;
	case OID_INT2: case OID_INT4: case OID_INT8:
		if (s->binary)
			return binary_int((const unsigned char *)v, n);
		/* FALLTHROUGH */
	default:
		return strtoll(v, NULL, 10);
	}
}

/* Keeps text made for column i until another column's is made. */
static const char *
keep(struct rows_stmt *s, int i, char *made)
{
	free(s->scratch);
	s->scratch = made;
	s->scratch_col = made != NULL ? i : -1;
	return made;
}

static const char *
pq_column_text(struct rows_stmt *s, int i)
{
	const char *v;
	json_t *j;
	char *made = NULL;
	size_t n;

	if (cell_null(s, i))
		return NULL;
	if (s->scratch_col == i)
		return s->scratch;
	v = raw(s, i, &n);
	switch (PQftype(s->res, i)) {
	case OID_JSON:
		if ((j = json_value(s, i)) != NULL && json_is_string(j))
			made = strndup(json_string_value(j),
			    json_string_length(j));
		json_decref(j);
		if (made != NULL)
			return keep(s, i, made);
		break;
	case OID_BOOL: case OID_INT2: case OID_INT4: case OID_INT8:
		if (s->binary && asprintf(&made, "%" PRId64,
		    pq_column_int64(s, i)) != -1)
			return keep(s, i, made);
		break;
	}
	if (s->binary && PQftype(s->res, i) == OID_JSONB)
		return keep(s, i, strndup(v, n));
	return v;
}

/* float8 is never in a statement read in binary (binary_ok) */
static double
pq_column_double(struct rows_stmt *s, int i)
{
	const char *t = pq_column_text(s, i);

	return t != NULL ? strtod(t, NULL) : 0;
}

static const void *
pq_column_blob(struct rows_stmt *s, int i)
{
	size_t n;

	return cell_null(s, i) ? NULL : raw(s, i, &n);
}

static size_t
pq_column_bytes(struct rows_stmt *s, int i)
{
	const char *t;
	size_t n;

	if (cell_null(s, i))
		return 0;
	if (PQftype(s->res, i) == OID_BYTEA) {
		raw(s, i, &n);
		return n;
	}
	/* text never holds a NUL byte on PostgreSQL */
	return (t = pq_column_text(s, i)) != NULL ? strlen(t) : 0;
}

static void
pq_reset(struct rows_stmt *s)
{
	int k;

	PQclear(s->res);
	s->res = NULL;
	s->row = -1;
	s->scratch_col = -1;
	for (k = 0; k < s->nparams; k++) {
		s->v[k] = NULL;
		s->len[k] = s->fmt[k] = 0;
	}
}

/* ---- the dialect ---- */

static int
pq_db_size(struct rows_conn *c, int64_t *size, int64_t *free_bytes)
{
	PGresult *r = NULL;

	if (run(c, "SELECT pg_database_size(current_database())", &r) == -1)
		return -1;
	*size = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	*free_bytes = 0;
	PQclear(r);
	return 0;
}

/* No database-wide write lock: rows are locked one by one. */
static int
pq_write_locked(struct rows_conn *c)
{
	(void)c;
	return 0;
}

/* Rows deleted are reusable once autovacuum has seen them: nothing is
 * given back to the file system (VACUUM FULL would, holding an exclusive
 * lock: an operator's decision, not prune's). */
static int
pq_reclaim(struct rows_conn *c, int64_t deleted_bytes, struct rows_reclaim *r)
{
	(void)c;
	memset(r, 0, sizeof(*r));
	r->autovacuum = 1;
	r->free_bytes = deleted_bytes;
	return 0;
}

/* A value read chunk by chunk with one statement (rows_chunk_fn); the
 * last chunk's result is kept until the next read. */
struct chunk_reader {
	struct rows_conn *c;
	const char *sql;        /* $1 the row's id, $2 from (1-based), $3 length */
	const char *id;
	PGresult *r;
};

static int
read_chunk(void *ctx, int64_t off, size_t n, const void **p)
{
	struct chunk_reader *cr = ctx;
	char o[24], len[24];
	const char *v[3] = { cr->id, o, len };

	PQclear(cr->r);
	snprintf(o, sizeof(o), "%" PRId64, off + 1);
	snprintf(len, sizeof(len), "%zu", n);
	cr->r = PQexecParams(cr->c->pg, cr->sql, 3, NULL, v, NULL, NULL, 1);
	if (PQresultStatus(cr->r) != PGRES_TUPLES_OK)
		return fail_with(cr->c, cr->r);
	if (PQntuples(cr->r) != 1 || (size_t)PQgetlength(cr->r, 0, 0) != n)
		return fail_text(cr->c, "the value changed while read");
	*p = PQgetvalue(cr->r, 0, 0);
	return 0;
}

/* The server measures it: octet_length of a bytea reads no content. */
static int
pq_blob_size(struct rows_conn *c, const char *table, const char *column,
    int64_t rowid, int64_t *size)
{
	char sql[256], id[24];
	const char *v[1] = { id };
	PGresult *r;
	int rc;

	snprintf(id, sizeof(id), "%" PRId64, rowid);
	snprintf(sql, sizeof(sql), "SELECT octet_length(%s) FROM %s WHERE "
	    "id = $1", column, table);
	r = PQexecParams(c->pg, sql, 1, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = fail_with(c, r);
		PQclear(r);
		return rc;
	}
	rc = PQntuples(r) == 1 ? 0 : 1;
	*size = rc == 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	return rc;
}

/* In chunks (substring of an uncompressed, out-of-line bytea fetches
 * only its chunk), in one snapshot. */
static int
pq_blob_read(struct rows_conn *c, const char *table, const char *column,
    int64_t rowid, int (*sink)(void *arg, const void *p, size_t n), void *arg)
{
	char chunk[256], id[24];
	struct chunk_reader cr = { c, chunk, id, NULL };
	int64_t total = 0;
	int own = PQtransactionStatus(c->pg) == PQTRANS_IDLE, rc;

	snprintf(id, sizeof(id), "%" PRId64, rowid);
	snprintf(chunk, sizeof(chunk), "SELECT substring(%s FROM $2 FOR $3) "
	    "FROM %s WHERE id = $1", column, table);
	if (own && pq_begin(c, 0) == -1)
		return -1;
	if ((rc = pq_blob_size(c, table, column, rowid, &total)) == 0)
		rc = rows_read_chunks(total, read_chunk, &cr, sink, arg);
	PQclear(cr.r);
	if (own)
		pq_rollback(c);
	return rc;
}

const struct rows_methods pg_rows = {
	ROWS_METHODS(pq),
	.sql = ROWS_SQL_PG,
	.bytewise = " COLLATE \"C\"",
	.data_version = NULL,
};
