/* pgcatalog.c: imgeditctl's SQL on PostgreSQL (catalog.h's twin of catalog.c,
 * blocking libpq): the same documents, read with $n parameters, bytea binary. */
#define _GNU_SOURCE
#include "pgcatalog.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catdoc.h"

#define P1 "$1"
#define P2 "$2"
#define P3 "$3"
#define P4 "$4"
#define P5 "$5"
#define P6 "$6"
#include "catsql.h"
#include "util.h"

#define PRUNE_BATCH 32 /* jobs (and their images) per delete transaction */
#define READ_CHUNK (1024 * 1024)
#define MAXP 8
/* pg_advisory_xact_lock's first key for idempotency keys: "imgk" */
#define PGCAT_KEY_LOCK "1768777579"

/* Type oids of pg_type.h (server headers are not installed with libpq). */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_JSON 114
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

struct pgcat {
	PGconn *pg;
	char err[512];
};

/* A statement's parameters: text (NULL = SQL NULL) or binary bytes. */
struct params {
	int n;
	const char *v[MAXP];
	int len[MAXP], fmt[MAXP];
	char num[MAXP][24];
};

static void
p_int(struct params *p, int64_t x)
{
	snprintf(p->num[p->n], sizeof(p->num[0]), "%" PRId64, x);
	p->v[p->n] = p->num[p->n];
	p->fmt[p->n++] = 0;
}

static void
p_text(struct params *p, const char *s)
{
	p->v[p->n] = s;
	p->fmt[p->n++] = 0;
}

static void
p_bytes(struct params *p, const void *data, size_t n)
{
	p->v[p->n] = n > 0 ? data : "";
	p->len[p->n] = (int)n;
	p->fmt[p->n++] = 1;
}

/* Keeps the message of a failed result (its primary text, as SQLite's
 * messages are one line) or of the connection. Returns the CATALOG_* code:
 * CATALOG_BUSY when a lock was not had in time or a deadlock was broken. */
static int
set_err(struct pgcat *pc, const PGresult *r)
{
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) :
	    NULL, *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	size_t n;

	if (msg == NULL)
		msg = PQerrorMessage(pc->pg);
	strlcpy_safe(pc->err, msg && *msg ? msg : "unknown error",
	    sizeof(pc->err));
	n = strcspn(pc->err, "\n");
	pc->err[n] = '\0';
	if (state != NULL && (strcmp(state, "55P03") == 0 ||
	    strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0))
		return CATALOG_BUSY;
	return CATALOG_ERR;
}

/* Runs sql with p (may be NULL), results in text or (binary) binary.
 * Returns CATALOG_OK with *res (caller clears; may be NULL to drop it),
 * or CATALOG_BUSY / CATALOG_ERR with the message kept. */
static int
run(struct pgcat *pc, const char *sql, const struct params *p, int binary,
    PGresult **res)
{
	PGresult *r = NULL;
	ExecStatusType st;
	int rc;

	r = PQexecParams(pc->pg, sql, p ? p->n : 0, NULL, p ? p->v : NULL,
	    p ? p->len : NULL, p ? p->fmt : NULL, binary);
	st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		rc = set_err(pc, r);
		PQclear(r);
		return rc;
	}
	if (res != NULL)
		*res = r;
	else
		PQclear(r);
	return CATALOG_OK;
}

/* A one-row, one-integer query: 1 with *v, 0 for no row, or an error. */
static int
run_int64(struct pgcat *pc, const char *sql, const struct params *p,
    int64_t *v)
{
	PGresult *r = NULL;
	int rc;

	if ((rc = run(pc, sql, p, 0, &r)) != CATALOG_OK)
		return rc;
	rc = PQntuples(r) > 0 && PQnfields(r) > 0;
	if (rc)
		*v = PQgetisnull(r, 0, 0) ? 0 : strtoll(PQgetvalue(r, 0, 0),
		    NULL, 10);
	PQclear(r);
	return rc;
}

static int64_t
cell_int(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 :
	    strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* A json column holds what SQLite's json_extract gives: a string's text,
 * a number, 1 or 0 for true or false, an object or array as its text. */
static json_t *
json_cell(const char *v, size_t n)
{
	json_t *j = json_loadb(v, n, JSON_DECODE_ANY, NULL);

	if (j == NULL || json_is_object(j) || json_is_array(j)) {
		json_decref(j);
		return catdoc_text((const unsigned char *)v, n);
	}
	if (json_is_boolean(j)) {
		json_decref(j);
		return json_integer(json_is_true(j));
	}
	return j;
}

/* A number's text as SQLite would give it: an integer when it is one. */
static json_t *
number_cell(const char *v)
{
	char *end;
	long long x = strtoll(v, &end, 10);

	if (*end == '\0')
		return json_integer(x);
	return json_real(strtod(v, NULL));
}

/* A text-format cell as JSON. Text, jsonb (as SQLite stores JSON: text)
 * and everything else become strings. */
static json_t *
cell_json(const PGresult *r, int row, int col)
{
	const char *v = PQgetvalue(r, row, col);

	if (PQgetisnull(r, row, col))
		return json_null();
	switch (PQftype(r, col)) {
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
		return json_integer(strtoll(v, NULL, 10));
	case OID_NUMERIC:
		return number_cell(v);
	case OID_FLOAT4:
	case OID_FLOAT8:
		return json_real(strtod(v, NULL));
	case OID_BOOL:
		return json_integer(v[0] == 't');
	case OID_JSON:
		return json_cell(v, (size_t)PQgetlength(r, row, col));
	default:
		return catdoc_text((const unsigned char *)v,
		    (size_t)PQgetlength(r, row, col));
	}
}

/* Row row as an object keyed by the column names. */
static json_t *
row_object(const PGresult *r, int row)
{
	json_t *o;
	int i;

	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < PQnfields(r); i++) {
		if (json_object_set_new(o, PQfname(r, i), cell_json(r, row,
		    i)) == -1) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* Runs sql and collects its rows as objects, each passed through fix
 * (may be NULL). Returns CATALOG_OK with *out (caller owns) or an error. */
static int
collect_rows(struct pgcat *pc, const char *sql, const struct params *p,
    void (*fix)(json_t *), json_t **out)
{
	PGresult *r = NULL;
	json_t *arr, *row;
	int rc, i;

	if ((rc = run(pc, sql, p, 0, &r)) != CATALOG_OK)
		return rc;
	if ((arr = json_array()) == NULL)
		goto fail;
	for (i = 0; i < PQntuples(r); i++) {
		if ((row = row_object(r, i)) == NULL)
			goto fail;
		if (fix != NULL)
			fix(row);
		if (json_array_append_new(arr, row) == -1)
			goto fail;
	}
	PQclear(r);
	*out = arr;
	return CATALOG_OK;
fail:
	PQclear(r);
	json_decref(arr);
	strlcpy_safe(pc->err, "out of memory", sizeof(pc->err));
	return CATALOG_ERR;
}

/* Runs sql and stores its rows at key in doc. */
static int
add_rows(struct pgcat *pc, json_t *doc, const char *key, const char *sql,
    const struct params *p, void (*fix)(json_t *))
{
	json_t *arr;
	int rc;

	if ((rc = collect_rows(pc, sql, p, fix, &arr)) == CATALOG_OK)
		json_object_set_new(doc, key, arr);
	return rc;
}

/* ---- the session, transactions ---- */

struct pgcat *
pgcat_open(PGconn *pg, char *err, size_t errlen)
{
	struct pgcat *pc;
	char sql[64];

	if ((pc = calloc(1, sizeof(*pc))) == NULL) {
		PQfinish(pg);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pc->pg = pg;
	snprintf(sql, sizeof(sql), "SET lock_timeout = %d",
	    CATALOG_BUSY_TIMEOUT_MS);
	if (run(pc, sql, NULL, 0, NULL) != CATALOG_OK) {
		snprintf(err, errlen, "%s", pc->err);
		pgcat_close(pc);
		return NULL;
	}
	return pc;
}

void
pgcat_close(struct pgcat *pc)
{
	if (pc == NULL)
		return;
	PQfinish(pc->pg);
	free(pc);
}

const char *
pgcat_errmsg(struct pgcat *pc)
{
	return pc->err;
}

int
pgcat_begin(struct pgcat *pc)
{
	return run(pc, "BEGIN", NULL, 0, NULL);
}

/* A snapshot for reads made of several queries, as SQLite's BEGIN. */
static int
begin_snapshot(struct pgcat *pc)
{
	return run(pc, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", NULL,
	    0, NULL);
}

/* COMMIT of a transaction that failed rolls back instead: told apart by
 * the command tag. */
int
pgcat_commit(struct pgcat *pc)
{
	PGresult *r = NULL;
	int rc;

	if ((rc = run(pc, "COMMIT", NULL, 0, &r)) != CATALOG_OK)
		return rc;
	if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		strlcpy_safe(pc->err, "the transaction failed and was rolled "
		    "back", sizeof(pc->err));
		rc = CATALOG_ERR;
	}
	PQclear(r);
	return rc;
}

/* Ends a transaction without changing the message of what failed in it. */
void
pgcat_rollback(struct pgcat *pc)
{
	PQclear(PQexec(pc->pg, "ROLLBACK"));
}

/* Ends a read-only snapshot, keeping rc. */
static int
end_read(struct pgcat *pc, int rc)
{
	pgcat_rollback(pc);
	return rc;
}

/* ---- submitting ---- */

/* The key's lock first, held to the end of the submit's transaction: a
 * second submit of the same new key waits and then finds the first's job
 * (as SQLite's one writer does) instead of failing on the unique key. */
int
pgcat_find_key(struct pgcat *pc, const char *key, int64_t *job_id)
{
	static const char lock[] = "SELECT pg_advisory_xact_lock("
	    PGCAT_KEY_LOCK ", hashtext($1))";
	struct params p = { 0 };
	int rc;

	p_text(&p, key);
	if ((rc = run(pc, lock, &p, 0, NULL)) != CATALOG_OK)
		return rc;
	return run_int64(pc, "SELECT id FROM jobs WHERE idempotency_key = $1",
	    &p, job_id);
}

/* Takes the blob's row lock (FOR SHARE) when it exists, so that a prune
 * cannot delete it before this transaction's inputs refer to it; the
 * insert consumes no id when the bytes are there already. */
int
pgcat_put_blob(struct pgcat *pc, const char *sha256, const void *data,
    size_t size, int64_t *blob_id)
{
	static const char find[] = "SELECT id FROM blobs WHERE sha256 = $1 "
	    "FOR SHARE";
	static const char put[] = "INSERT INTO blobs (sha256, size, data) "
	    "VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING RETURNING id";
	struct params f = { 0 }, p = { 0 };
	int rc;

	p_text(&f, sha256);
	if ((rc = run_int64(pc, find, &f, blob_id)) != 0)
		return rc == 1 ? CATALOG_OK : rc;
	p_text(&p, sha256);
	p_int(&p, (int64_t)size);
	p_bytes(&p, data, size);
	if ((rc = run_int64(pc, put, &p, blob_id)) == 0)
		rc = run_int64(pc, find, &f, blob_id); /* another's, just now */
	if (rc == 0)
		strlcpy_safe(pc->err, "blob vanished", sizeof(pc->err));
	return rc == 1 ? CATALOG_OK : rc == 0 ? CATALOG_ERR : rc;
}

static int
insert_input(struct pgcat *pc, int64_t job_id, const struct catalog_input *in)
{
	static const char sql[] = CATSQL_INSERT_INPUT;
	struct params p = { 0 };

	p_int(&p, job_id);
	p_text(&p, input_role_name(in->role));
	p_int(&p, in->ordinal);
	p_text(&p, in->filename);
	p_text(&p, in->content_type);
	p_int(&p, in->blob_id);
	return run(pc, sql, &p, 0, NULL);
}

int
pgcat_insert_job(struct pgcat *pc, const struct catalog_job *job,
    const struct catalog_input *inputs, size_t ninputs, int64_t *job_id)
{
	static const char sql[] = "INSERT INTO jobs (params, stream, priority, "
	    "not_before, max_attempts, idempotency_key, created_at, updated_at) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id";
	struct params p = { 0 };
	size_t i;
	int rc;

	p_text(&p, job->params);
	p_int(&p, job->stream ? 1 : 0);
	p_int(&p, job->priority);
	p_int(&p, job->not_before);
	p_int(&p, job->max_attempts);
	p_text(&p, job->idempotency_key);
	p_int(&p, now_ms());
	if ((rc = run_int64(pc, sql, &p, job_id)) != 1)
		return rc == 0 ? CATALOG_ERR : rc;
	for (i = 0; i < ninputs; i++)
		if ((rc = insert_input(pc, *job_id, &inputs[i])) != CATALOG_OK)
			return rc;
	return CATALOG_OK;
}

/* ---- reading ---- */

#define LIST_COLS CATSQL_LIST_COLS

int
pgcat_list(struct pgcat *pc, const char *states, int64_t since_ms, int limit,
    json_t **out)
{
	/* LIMIT NULL: all; $3 NULL: any state */
	static const char sql[] = LIST_COLS "WHERE created_at >= $1 AND "
	    "($3::text IS NULL OR state = ANY (string_to_array($3, ','))) "
	    "ORDER BY id DESC LIMIT $2";
	struct params p = { 0 };

	p_int(&p, since_ms);
	if (limit > 0)
		p_int(&p, limit);
	else
		p_text(&p, NULL);
	p_text(&p, states);
	return collect_rows(pc, sql, &p, catdoc_job, out);
}

static int
show_children(struct pgcat *pc, json_t *doc, const struct params *p)
{
	static const char inputs[] = CATSQL_SHOW_INPUTS;
	static const char attempts[] = CATSQL_SHOW_ATTEMPTS;
	static const char images[] = CATSQL_SHOW_IMAGES;
	static const char events[] = CATSQL_SHOW_EVENTS;
	int rc;

	if ((rc = add_rows(pc, doc, "inputs", inputs, p, NULL)) != CATALOG_OK ||
	    (rc = add_rows(pc, doc, "attempt_log", attempts, p,
	    catdoc_attempt)) != CATALOG_OK ||
	    (rc = add_rows(pc, doc, "images", images, p, NULL)) != CATALOG_OK)
		return rc;
	return add_rows(pc, doc, "events", events, p, NULL);
}

int
pgcat_show(struct pgcat *pc, int64_t id, json_t **out)
{
	static const char sql[] = CATSQL_SHOW_JOB;
	struct params p = { 0 };
	json_t *rows = NULL, *doc;
	int rc;

	p_int(&p, id);
	if ((rc = begin_snapshot(pc)) != CATALOG_OK)
		return rc;
	if ((rc = collect_rows(pc, sql, &p, catdoc_job_usage, &rows)) !=
	    CATALOG_OK)
		return end_read(pc, rc);
	doc = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	if (doc == NULL)
		return end_read(pc, CATALOG_NOTFOUND);
	if ((rc = show_children(pc, doc, &p)) != CATALOG_OK) {
		json_decref(doc);
		return end_read(pc, rc);
	}
	*out = doc;
	return end_read(pc, CATALOG_OK);
}

int
pgcat_job_ids(struct pgcat *pc, const char *state, int64_t since_ms,
    int64_t **ids, size_t *n)
{
	static const char sql[] = CATSQL_JOB_IDS;
	struct params p = { 0 };
	PGresult *r = NULL;
	int64_t *v = NULL;
	size_t cap = 0, len = 0;
	int rc, i;

	p_text(&p, state);
	p_int(&p, since_ms);
	if ((rc = run(pc, sql, &p, 0, &r)) != CATALOG_OK)
		return rc;
	for (i = 0; i < PQntuples(r); i++) {
		if (catdoc_push(&v, &len, &cap, cell_int(r, i, 0)) == -1) {
			PQclear(r);
			free(v);
			return CATALOG_ERR;
		}
	}
	PQclear(r);
	*ids = v;
	*n = len;
	return CATALOG_OK;
}

/* Sends bytes [off, off + n) of the image to sink. Returns CATALOG_OK,
 * -1 if sink stopped, or an error. */
static int
read_chunk(struct pgcat *pc, const struct params *id, int64_t off,
    int64_t n, int (*sink)(void *arg, const void *p, size_t n), void *arg)
{
	static const char sql[] = "SELECT substring(data FROM $2 FOR $3) FROM "
	    "images WHERE id = $1";
	struct params p = *id;
	PGresult *r = NULL;
	int rc;

	p_int(&p, off + 1);
	p_int(&p, n);
	if ((rc = run(pc, sql, &p, 1, &r)) != CATALOG_OK)
		return rc;
	rc = CATALOG_ERR;
	if (PQntuples(r) == 1 && PQgetlength(r, 0, 0) == n)
		rc = sink(arg, PQgetvalue(r, 0, 0), (size_t)n) != 0 ? -1 :
		    CATALOG_OK;
	else
		strlcpy_safe(pc->err, "the image changed while read",
		    sizeof(pc->err));
	PQclear(r);
	return rc;
}

/* In chunks of at most 1 MiB (substring of an uncompressed, out-of-line
 * bytea fetches only its chunk), in one snapshot. */
int
pgcat_image_read(struct pgcat *pc, int64_t image_id,
    int (*sink)(void *arg, const void *p, size_t n), void *arg)
{
	static const char size[] = "SELECT octet_length(data) FROM images "
	    "WHERE id = $1";
	struct params p = { 0 };
	int64_t total, off, n;
	int rc;

	p_int(&p, image_id);
	if ((rc = begin_snapshot(pc)) != CATALOG_OK)
		return rc;
	if ((rc = run_int64(pc, size, &p, &total)) != 1)
		return end_read(pc, rc == 0 ? CATALOG_NOTFOUND : rc);
	for (off = 0, rc = CATALOG_OK; off < total && rc == CATALOG_OK;
	    off += n) {
		n = total - off < READ_CHUNK ? total - off : READ_CHUNK;
		rc = read_chunk(pc, &p, off, n, sink, arg);
	}
	return end_read(pc, rc);
}

/* ---- status ---- */

static int
status_database(struct pgcat *pc, json_t *doc)
{
	static const char sql[] = "SELECT (SELECT version FROM schema_version), "
	    "pg_database_size(current_database())";
	PGresult *r = NULL;
	int rc;

	if ((rc = run(pc, sql, NULL, 0, &r)) != CATALOG_OK)
		return rc;
	json_object_set_new(doc, "database", catdoc_database(cell_int(r, 0, 0),
	    cell_int(r, 0, 1), 0));
	PQclear(r);
	return CATALOG_OK;
}

static int
status_jobs(struct pgcat *pc, json_t *doc)
{
	static const char sql[] = CATSQL_STATE_COUNTS;
	PGresult *r = NULL;
	json_t *jobs;
	int rc, i;

	if ((rc = run(pc, sql, NULL, 0, &r)) != CATALOG_OK)
		return rc;
	if ((jobs = catdoc_state_counts()) == NULL) {
		PQclear(r);
		return CATALOG_ERR;
	}
	for (i = 0; i < PQntuples(r); i++)
		catdoc_count_state(jobs, PQgetvalue(r, i, 0), cell_int(r, i, 1));
	PQclear(r);
	json_object_set_new(doc, "jobs", jobs);
	return CATALOG_OK;
}

static int
status_totals(struct pgcat *pc, json_t *doc, int64_t now)
{
	static const char sql[] = "SELECT coalesce(sum(input_tokens), 0), "
	    "coalesce(sum(output_tokens), 0), coalesce(sum(total_tokens), 0), "
	    "count(*) FILTER (WHERE finished_at >= $1), "
	    "count(*) FILTER (WHERE finished_at >= $2), "
	    "(SELECT count(*) FROM images WHERE kind = 'final'), "
	    "(SELECT count(*) FROM images WHERE kind = 'partial') FROM jobs";
	struct params p = { 0 };
	PGresult *r = NULL;
	int64_t tokens[3];
	int rc, i;

	p_int(&p, now - 60 * 1000);
	p_int(&p, now - 3600 * 1000);
	if ((rc = run(pc, sql, &p, 0, &r)) != CATALOG_OK)
		return rc;
	for (i = 0; i < 3; i++)
		tokens[i] = cell_int(r, 0, i);
	catdoc_totals(doc, tokens, cell_int(r, 0, 3), cell_int(r, 0, 4),
	    cell_int(r, 0, 5), cell_int(r, 0, 6));
	PQclear(r);
	return CATALOG_OK;
}

static int
status_control(struct pgcat *pc, json_t *doc, int64_t now)
{
	static const char pause[] = CATSQL_PAUSE;
	static const char daemons[] = CATSQL_DAEMONS;
	struct params p = { 0 };
	PGresult *r = NULL;
	int rc;

	if ((rc = run(pc, pause, NULL, 0, &r)) != CATALOG_OK)
		return rc;
	catdoc_pause(doc, PQntuples(r) > 0 ? cell_json(r, 0, 0) : NULL);
	PQclear(r);
	p_int(&p, now - 3600 * 1000);
	return add_rows(pc, doc, "daemons", daemons, &p, NULL);
}

/* status in one snapshot; PostgreSQL has no database-wide write lock:
 * write_locked is always false. */
int
pgcat_status(struct pgcat *pc, int64_t now, int overview, json_t **out)
{
	json_t *doc;
	int rc;

	if ((doc = json_object()) == NULL)
		return CATALOG_ERR;
	if ((rc = begin_snapshot(pc)) != CATALOG_OK) {
		json_decref(doc);
		return rc;
	}
	if ((overview || (rc = status_database(pc, doc)) == CATALOG_OK) &&
	    (rc = status_jobs(pc, doc)) == CATALOG_OK &&
	    (overview || (rc = status_totals(pc, doc, now)) == CATALOG_OK))
		rc = status_control(pc, doc, now);
	end_read(pc, rc);
	if (rc != CATALOG_OK) {
		json_decref(doc);
		return rc;
	}
	if (!overview)
		json_object_set_new(json_object_get(doc, "database"),
		    "write_locked", json_false());
	*out = doc;
	return CATALOG_OK;
}

/* ---- watching ---- */

int
pgcat_activity(struct pgcat *pc, int64_t after_event, int64_t after_image,
    int limit, json_t **out)
{
	static const char events[] = CATSQL_ACTIVITY_EVENTS;
	static const char images[] = "SELECT i.id AS id, i.job_id AS job_id, "
	    "i.kind AS kind, i.idx AS idx, i.created_at AS at, a.number AS "
	    "attempt, (j.params -> 'partial_images')::json AS partials, "
	    "(j.params -> 'n')::json AS n FROM images i JOIN attempts a ON "
	    "a.id = i.attempt_id JOIN jobs j ON j.id = i.job_id WHERE i.id > $1 "
	    "ORDER BY i.id LIMIT $2";
	struct params pe = { 0 }, pi = { 0 };
	json_t *doc;
	int rc;

	p_int(&pe, after_event);
	p_int(&pe, limit);
	p_int(&pi, after_image);
	p_int(&pi, limit);
	if ((doc = json_object()) == NULL)
		return CATALOG_ERR;
	if ((rc = begin_snapshot(pc)) == CATALOG_OK) {
		if ((rc = add_rows(pc, doc, "events", events, &pe, NULL)) ==
		    CATALOG_OK)
			rc = add_rows(pc, doc, "images", images, &pi, NULL);
		end_read(pc, rc);
	}
	if (rc != CATALOG_OK) {
		json_decref(doc);
		return rc;
	}
	*out = doc;
	return CATALOG_OK;
}

static int
two_ints(struct pgcat *pc, const char *sql, int64_t *a, int64_t *b)
{
	PGresult *r = NULL;
	int rc;

	if ((rc = run(pc, sql, NULL, 0, &r)) != CATALOG_OK)
		return rc;
	*a = cell_int(r, 0, 0);
	*b = cell_int(r, 0, 1);
	PQclear(r);
	return CATALOG_OK;
}

#define MARKS_SQL "SELECT (SELECT coalesce(max(id), 0) FROM events), " \
	"(SELECT coalesce(max(id), 0) FROM images)"

int
pgcat_activity_marks(struct pgcat *pc, int64_t *event, int64_t *image)
{
	return two_ints(pc, MARKS_SQL, event, image);
}

/* What SQLite's data_version tells its readers, from what changes when a
 * job moves or an image arrives: the newest ids of events and images. */
int
pgcat_data_version(struct pgcat *pc, int64_t *version)
{
	int64_t e, i;
	int rc;

	if ((rc = two_ints(pc, MARKS_SQL, &e, &i)) == CATALOG_OK)
		*version = e + i;
	return rc;
}

int
pgcat_running(struct pgcat *pc, json_t **out)
{
	static const char sql[] = "SELECT j.id AS id, a.number AS attempt, "
	    "(SELECT count(*) FROM images i WHERE i.attempt_id = a.id AND "
	    "i.kind = 'partial') AS partials, (SELECT count(*) FROM images i "
	    "WHERE i.attempt_id = a.id AND i.kind = 'final') AS finals, "
	    "(SELECT max(created_at) FROM images i WHERE i.attempt_id = a.id) "
	    "AS last_image_at, a.started_at AS started_at, "
	    "(j.params -> 'partial_images')::json AS want_partials, "
	    "(j.params -> 'n')::json AS want_finals, "
	    "(j.params -> 'prompt')::json AS prompt FROM jobs j JOIN "
	    "attempts a ON a.job_id = j.id AND a.outcome IS NULL WHERE "
	    "j.state = 'running' ORDER BY j.id";

	return collect_rows(pc, sql, NULL, NULL, out);
}

int
pgcat_live_daemons(struct pgcat *pc, int64_t now, int64_t fresh_ms, int *n)
{
	static const char sql[] = CATSQL_LIVE_DAEMONS;
	struct params p = { 0 };
	int64_t v = 0;
	int rc;

	p_int(&p, now - fresh_ms);
	if ((rc = run_int64(pc, sql, &p, &v)) < 0)
		return rc;
	*n = (int)v;
	return CATALOG_OK;
}

int
pgcat_job_state(struct pgcat *pc, int64_t id, char *state)
{
	struct params p = { 0 };
	PGresult *r = NULL;
	int rc;

	p_int(&p, id);
	if ((rc = run(pc, "SELECT state FROM jobs WHERE id = $1", &p, 0, &r)) !=
	    CATALOG_OK)
		return rc;
	rc = PQntuples(r) == 1 ? CATALOG_OK : CATALOG_NOTFOUND;
	if (rc == CATALOG_OK)
		strlcpy_safe(state, PQgetvalue(r, 0, 0), CATALOG_STATE_LEN);
	PQclear(r);
	return rc;
}

int
pgcat_job_marks(struct pgcat *pc, int64_t id, int64_t *event, int64_t *image)
{
	struct params p = { 0 };
	PGresult *r = NULL;
	int rc;

	p_int(&p, id);
	if ((rc = run(pc, CATSQL_JOB_MARKS("$1::bigint"), &p, 0, &r)) !=
	    CATALOG_OK)
		return rc;
	rc = PQntuples(r) == 1 && !PQgetisnull(r, 0, 0) ? CATALOG_OK :
	    CATALOG_NOTFOUND;
	if (rc == CATALOG_OK) {
		*event = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		*image = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	}
	PQclear(r);
	return rc;
}

/* ---- the web view ---- */

static int
page_images(struct pgcat *pc, json_t *jobs)
{
	static const char sql[] = "SELECT i.id AS id, i.job_id AS job_id, "
	    "a.number AS attempt, a.outcome AS outcome, i.kind AS kind, "
	    "i.idx AS idx, i.width AS width, i.height AS height, "
	    "i.sha256 AS sha256, i.created_at AS created_at FROM images i "
	    "JOIN attempts a ON a.id = i.attempt_id WHERE i.job_id = ANY "
	    "(string_to_array($1, ',')::bigint[]) ORDER BY i.job_id, a.number, "
	    "i.kind = 'final', i.idx LIMIT 5000";
	struct params p = { 0 };
	json_t *job, *imgs = NULL;
	char *ids = NULL, *grown;
	size_t i, len = 0;
	int rc = CATALOG_ERR;

	json_array_foreach(jobs, i, job) {
		if ((grown = realloc(ids, len + 24)) == NULL)
			goto done;
		ids = grown;
		len += (size_t)snprintf(ids + len, 24, "%s%" JSON_INTEGER_FORMAT,
		    len ? "," : "", json_integer_value(json_object_get(job, "id")));
	}
	p_text(&p, ids ? ids : "");
	if ((rc = collect_rows(pc, sql, &p, NULL, &imgs)) == CATALOG_OK)
		catdoc_page_attach(jobs, imgs);
done:
	free(ids);
	json_decref(imgs);
	return rc;
}

#define PAGE_COLS CATSQL_PAGE_COLS

int
pgcat_page(struct pgcat *pc, const struct catalog_page_query *q,
    json_t **out)
{
	static const char some[] = PAGE_COLS "WHERE id < $1 AND "
	    "($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR "
	    "strpos(lower(params ->> 'prompt'), lower($3)) > 0) "
	    "ORDER BY id DESC LIMIT $4";
	static const char one_job[] = PAGE_COLS "WHERE id = $1";
	struct params p = { 0 };
	json_t *jobs = NULL;
	int rc;

	p_int(&p, q->only > 0 ? q->only : q->before > 0 ? q->before :
	    INT64_MAX);
	if (q->only <= 0) {
		p_text(&p, q->state);
		p_text(&p, q->word != NULL && *q->word != '\0' ? q->word : NULL);
		p_int(&p, q->limit);
	}
	if ((rc = begin_snapshot(pc)) != CATALOG_OK)
		return rc;
	if ((rc = collect_rows(pc, q->only > 0 ? one_job : some, &p,
	    catdoc_job, &jobs)) == CATALOG_OK &&
	    (rc = page_images(pc, jobs)) == CATALOG_OK) {
		*out = jobs;
		jobs = NULL;
	}
	json_decref(jobs);
	return end_read(pc, rc);
}

int
pgcat_finals_since(struct pgcat *pc, int64_t since_ms, size_t max,
    int64_t **at, int64_t **finals, size_t *n)
{
	/* newest first, until a minute before since_ms (clocks differ) */
	static const char sql[] = "SELECT e.at, (SELECT count(*) FROM images i "
	    "WHERE i.job_id = e.job_id AND i.kind = 'final') FROM events e "
	    "WHERE e.to_state = 'succeeded' AND e.id > (SELECT coalesce(max(id), "
	    "0) FROM events) - $1 ORDER BY e.id DESC";
	struct params p = { 0 };
	PGresult *r = NULL;
	int64_t *a = NULL, *f = NULL;
	size_t len = 0, cap = 0, flen = 0, fcap = 0;
	int rc, i;

	p_int(&p, (int64_t)max);
	if ((rc = run(pc, sql, &p, 0, &r)) != CATALOG_OK)
		return rc;
	for (i = 0; i < PQntuples(r); i++) {
		if (cell_int(r, i, 0) < since_ms - 60000)
			break;
		if (catdoc_push(&a, &len, &cap, cell_int(r, i, 0)) == -1 ||
		    catdoc_push(&f, &flen, &fcap, cell_int(r, i, 1)) == -1) {
			PQclear(r);
			free(a);
			free(f);
			return CATALOG_ERR;
		}
	}
	PQclear(r);
	*at = a;
	*finals = f;
	*n = len;
	return CATALOG_OK;
}

int
pgcat_image_meta(struct pgcat *pc, int64_t image_id,
    struct catalog_bytes_meta *m)
{
	static const char sql[] = "SELECT job_id, octet_length(data), sha256 "
	    "FROM images WHERE id = $1";
	struct params p = { 0 };
	PGresult *r = NULL;
	int rc;

	memset(m, 0, sizeof(*m));
	p_int(&p, image_id);
	if ((rc = run(pc, sql, &p, 0, &r)) != CATALOG_OK)
		return rc;
	rc = PQntuples(r) == 1 ? CATALOG_OK : CATALOG_NOTFOUND;
	if (rc == CATALOG_OK) {
		m->job_id = cell_int(r, 0, 0);
		m->size = cell_int(r, 0, 1);
		catdoc_sha256(PQgetvalue(r, 0, 2), (size_t)PQgetlength(r, 0, 2),
		    m->sha256);
	}
	PQclear(r);
	return rc;
}

/* The input's size, sha256 and content type into m. */
static int
input_meta(struct pgcat *pc, const struct params *p,
    struct catalog_bytes_meta *m)
{
	/* the bytes' own length, not a column another program wrote:
	 * bounded before anything is read (TOAST knows it unread) */
	static const char sql[] = "SELECT octet_length(coalesce(b.data, "
	    "i.data)), b.sha256, i.content_type FROM inputs i "
	    "LEFT JOIN blobs b ON b.id = i.blob_id WHERE i.job_id = $1 AND "
	    "i.role = $2 AND i.ordinal = $3";
	PGresult *r = NULL;
	int rc;

	if ((rc = run(pc, sql, p, 0, &r)) != CATALOG_OK)
		return rc;
	rc = PQntuples(r) == 1 ? CATALOG_OK : CATALOG_NOTFOUND;
	if (rc == CATALOG_OK) {
		m->size = cell_int(r, 0, 0);
		catdoc_sha256(PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1),
		    m->sha256);
		if (!PQgetisnull(r, 0, 2))
			strlcpy_safe(m->content_type, PQgetvalue(r, 0, 2),
			    sizeof(m->content_type));
	}
	PQclear(r);
	return rc;
}

int
pgcat_input_get(struct pgcat *pc, int64_t job_id, enum input_role role,
    int ordinal, size_t max, unsigned char **data, size_t *len,
    struct catalog_bytes_meta *m)
{
	static const char bytes[] = "SELECT coalesce(b.data, i.data) FROM "
	    "inputs i LEFT JOIN blobs b ON b.id = i.blob_id WHERE "
	    "i.job_id = $1 AND i.role = $2 AND i.ordinal = $3";
	struct params p = { 0 };
	PGresult *r = NULL;
	int rc, n;

	memset(m, 0, sizeof(*m));
	*data = NULL;
	p_int(&p, job_id);
	p_text(&p, input_role_name(role));
	p_int(&p, ordinal);
	if ((rc = begin_snapshot(pc)) != CATALOG_OK)
		return rc;
	if ((rc = input_meta(pc, &p, m)) != CATALOG_OK)
		return end_read(pc, rc);
	m->job_id = job_id;
	if (m->size < 0 || (uint64_t)m->size > max ||
	    run(pc, bytes, &p, 1, &r) != CATALOG_OK)
		return end_read(pc, CATALOG_ERR);
	rc = CATALOG_ERR;
	if (PQntuples(r) == 1 && (n = PQgetlength(r, 0, 0)) == m->size &&
	    (*data = malloc(n ? (size_t)n : 1)) != NULL) {
		memcpy(*data, PQgetvalue(r, 0, 0), (size_t)n);
		*len = (size_t)n;
		rc = CATALOG_OK;
	}
	PQclear(r);
	return end_read(pc, rc);
}

/* ---- operator actions ---- */

/* The states each action takes a job from. */
static int
may_leave(enum pgcat_action act, const char *state)
{
	if (act == PGCAT_CANCEL)
		return strcmp(state, "queued") == 0 ||
		    strcmp(state, "retry_wait") == 0 ||
		    strcmp(state, "running") == 0;
	return strcmp(state, "failed") == 0 || strcmp(state, "canceled") == 0 ||
	    (act == PGCAT_RETRY_FORCE && strcmp(state, "succeeded") == 0);
}

/* The job's row locked (FOR UPDATE: a daemon's claim, lease renewal or
 * finish of it waits for this transaction, or this for theirs), then
 * changed if its state allows. */
int
pgcat_transition(struct pgcat *pc, enum pgcat_action act, int64_t id,
    int64_t now, char *state)
{
	static const char lock[] = "SELECT state FROM jobs WHERE id = $1 "
	    "FOR UPDATE";
	static const char cancel[] = "UPDATE jobs SET state = 'canceled', "
	    "finished_at = $2, updated_at = $2, lease_owner = NULL, "
	    "lease_expires = NULL WHERE id = $1";
	static const char retry[] = "UPDATE jobs SET state = 'queued', "
	    "not_before = 0, finished_at = NULL, updated_at = $2, "
	    "max_attempts = CASE WHEN attempts >= max_attempts "
	    "THEN least(100, attempts + 1) ELSE max_attempts END, "
	    "error_status = NULL, error_type = NULL, error_code = NULL, "
	    "error_message = NULL, error_request_id = NULL WHERE id = $1";
	struct params p = { 0 };
	PGresult *r = NULL;
	int rc;

	p_int(&p, id);
	if ((rc = pgcat_begin(pc)) != CATALOG_OK)
		return rc;
	if ((rc = run(pc, lock, &p, 0, &r)) != CATALOG_OK)
		goto fail;
	rc = PQntuples(r) == 1 ? CATALOG_OK : CATALOG_NOTFOUND;
	if (rc == CATALOG_OK) {
		strlcpy_safe(state, PQgetvalue(r, 0, 0), CATALOG_STATE_LEN);
		if (!may_leave(act, state))
			rc = CATALOG_STATE;
	}
	PQclear(r);
	if (rc != CATALOG_OK)
		goto fail;
	p_int(&p, now);
	if ((rc = run(pc, act == PGCAT_CANCEL ? cancel : retry, &p, 0, NULL)) !=
	    CATALOG_OK)
		goto fail;
	return pgcat_commit(pc);
fail:
	pgcat_rollback(pc);
	return rc;
}

int
pgcat_set_pause(struct pgcat *pc, const char *reason, int *was_paused)
{
	static const char get[] = "SELECT 1 FROM control WHERE key = 'pause' "
	    "FOR UPDATE";
	static const char set[] = "INSERT INTO control (key, value) "
	    "VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET "
	    "value = excluded.value";
	static const char del[] = "DELETE FROM control WHERE key = 'pause'";
	struct params p = { 0 };
	char now[24];
	int64_t one;
	int rc;

	if ((rc = pgcat_begin(pc)) != CATALOG_OK)
		return rc;
	if ((rc = run_int64(pc, get, NULL, &one)) < 0)
		goto fail;
	if (was_paused != NULL)
		*was_paused = rc == 1;
	/* clearing also tells daemons paused by upstream (401, quota) to
	 * try again now */
	snprintf(now, sizeof(now), "%" PRId64, now_ms());
	p_text(&p, reason != NULL ? "pause" : "resume");
	p_text(&p, reason != NULL ? reason : now);
	if ((reason == NULL && (rc = run(pc, del, NULL, 0, NULL)) !=
	    CATALOG_OK) || (rc = run(pc, set, &p, 0, NULL)) != CATALOG_OK)
		goto fail;
	return pgcat_commit(pc);
fail:
	pgcat_rollback(pc);
	return rc < 0 ? rc : CATALOG_ERR;
}

/* One batch of a prune: sql deletes at most PRUNE_BATCH rows after id
 * *last ($1, and its own parameters after), and answers (rows deleted,
 * the largest id, the bytes they held). Its own transaction. */
static int
delete_batch(struct pgcat *pc, const char *sql, const struct params *extra,
    int64_t *last, int64_t *n, int64_t *bytes)
{
	struct params p = { 0 };
	PGresult *r = NULL;
	int rc, i;

	p_int(&p, *last);
	p_int(&p, PRUNE_BATCH);
	for (i = 0; extra != NULL && i < extra->n; i++)
		p_text(&p, extra->v[i]);
	if ((rc = run(pc, sql, &p, 0, &r)) != CATALOG_OK)
		return rc;
	*n = cell_int(r, 0, 0);
	if (*n > 0)
		*last = cell_int(r, 0, 1);
	*bytes += cell_int(r, 0, 2);
	PQclear(r);
	return CATALOG_OK;
}

/* Deletes in batches until one deletes fewer than PRUNE_BATCH, adding the
 * rows to *count and their bytes to *bytes. */
static int
delete_batches(struct pgcat *pc, const char *sql, const struct params *extra,
    int64_t *count, int64_t *bytes)
{
	int64_t last = 0, n;
	int rc;

	do {
		if ((rc = delete_batch(pc, sql, extra, &last, &n, bytes)) !=
		    CATALOG_OK)
			return rc;
		*count += n;
		/* a short batch is not the end: FOR UPDATE in READ
		 * COMMITTED drops rows that changed under it (a retry) */
	} while (n > 0);
	return CATALOG_OK;
}

/* Rows deleted are reusable once autovacuum has seen them: nothing is
 * given back to the file system (VACUUM FULL would, holding an exclusive
 * lock: an operator's decision, not prune's). */
int
pgcat_prune(struct pgcat *pc, const char *const *states, size_t nstates,
    int64_t before_ms, struct catalog_prune_result *res)
{
	/* the images' and inputs' bytes read before the delete, in its
	 * snapshot; the job rows locked, so a retry cannot revive one */
	static const char jobs[] = "WITH doomed AS (SELECT id FROM jobs "
	    "WHERE state = $3 AND id > $1 AND coalesce(finished_at, "
	    "updated_at) < $4::bigint ORDER BY id LIMIT $2 FOR UPDATE), "
	    "gone AS (DELETE FROM jobs j USING doomed d WHERE j.id = d.id "
	    "RETURNING j.id) SELECT count(*), max(id), (SELECT "
	    "coalesce(sum(octet_length(data)), 0) FROM images WHERE job_id IN "
	    "(SELECT id FROM doomed)) + (SELECT coalesce(sum(octet_length(data)), "
	    "0) FROM inputs WHERE job_id IN (SELECT id FROM doomed)) FROM gone";
	/* a blob a submit is using is locked (FOR SHARE): skipped */
	static const char blobs[] = "WITH gone AS (DELETE FROM blobs WHERE id "
	    "IN (SELECT b.id FROM blobs b WHERE b.id > $1 AND NOT EXISTS "
	    "(SELECT 1 FROM inputs i WHERE i.blob_id = b.id) ORDER BY b.id "
	    "LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id, octet_length(data) "
	    "AS n) SELECT count(*), max(id), coalesce(sum(n), 0) FROM gone";
	struct params p;
	char before[24];
	size_t i;
	int rc;

	res->autovacuum = 1;
	snprintf(before, sizeof(before), "%" PRId64, before_ms);
	for (i = 0; i < nstates; i++) {
		memset(&p, 0, sizeof(p));
		p_text(&p, states[i]);
		p_text(&p, before);
		if ((rc = delete_batches(pc, jobs, &p, &res->jobs,
		    &res->free_bytes)) != CATALOG_OK)
			return rc;
	}
	return delete_batches(pc, blobs, NULL, &res->blobs, &res->free_bytes);
}

int
pgcat_prune_plan(struct pgcat *pc, const char *const *states, size_t nstates,
    int64_t before_ms, struct catalog_prune_result *res)
{
	static const char sql[] = CATSQL_PRUNE_PLAN;
	struct params p;
	PGresult *r = NULL;
	size_t i;
	int rc;

	for (i = 0; i < nstates; i++) {
		memset(&p, 0, sizeof(p));
		p_int(&p, before_ms);
		p_text(&p, states[i]);
		if ((rc = run(pc, sql, &p, 0, &r)) != CATALOG_OK)
			return rc;
		res->jobs += cell_int(r, 0, 0);
		res->image_bytes += cell_int(r, 0, 1);
		PQclear(r);
	}
	return CATALOG_OK;
}
