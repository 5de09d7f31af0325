/* catalog.c: the SQL behind imgeditctl: job and blob inserts for submit, JSON
 * documents for list/show/status/export, cancel/retry/pause/prune writes. */
#define _GNU_SOURCE
#include "catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catdoc.h"

#define P1 "?1"
#define P2 "?2"
#define P3 "?3"
#define P4 "?4"
#define P5 "?5"
#define P6 "?6"
#include "catsql.h"
#include "pgcatalog.h"
#include "util.h"

#define CAT_CACHE 48
#define PRUNE_BATCH 32 /* jobs (and their images) per delete transaction */
#define READ_CHUNK (1024 * 1024)

struct catalog {
	struct pgcat *pg;          /* PostgreSQL: everything goes there */
	struct store *st;
	sqlite3 *db;
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} cache[CAT_CACHE];
};

struct catalog *
catalog_open(struct store *st)
{
	struct catalog *cat;

	if ((cat = calloc(1, sizeof(*cat))) == NULL)
		return NULL;
	cat->st = st;
	cat->db = store_db(st);
	return cat;
}

struct catalog *
catalog_open_pg(PGconn *pg, char *err, size_t errlen)
{
	struct catalog *cat;

	if ((cat = calloc(1, sizeof(*cat))) == NULL) {
		PQfinish(pg);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((cat->pg = pgcat_open(pg, err, errlen)) == NULL) {
		free(cat);
		return NULL;
	}
	return cat;
}

void
catalog_close(struct catalog *cat)
{
	int i;

	if (cat == NULL)
		return;
	pgcat_close(cat->pg);
	for (i = 0; i < CAT_CACHE; i++)
		sqlite3_finalize(cat->cache[i].stmt);
	free(cat);
}

const char *
catalog_errmsg(struct catalog *cat)
{
	if (cat->pg != NULL)
		return pgcat_errmsg(cat->pg);
	return sqlite3_errmsg(cat->db);
}

int
catalog_state_valid(const char *name)
{
	size_t i;

	for (i = 0; i < 6; i++)
		if (name != NULL && strcmp(name, catdoc_states[i]) == 0)
			return 1;
	return 0;
}

int
catalog_state_terminal(const char *name)
{
	return name != NULL && (strcmp(name, "succeeded") == 0 ||
	    strcmp(name, "failed") == 0 || strcmp(name, "canceled") == 0);
}

/* Returns the prepared statement for the literal sql, reset and unbound; the
 * catalog owns it. Statements are cached by the address of their literal. */
static sqlite3_stmt *
prep(struct catalog *cat, const char *sql)
{
	int i;

	for (i = 0; i < CAT_CACHE && cat->cache[i].sql != NULL; i++) {
		if (cat->cache[i].sql == sql) {
			sqlite3_reset(cat->cache[i].stmt);
			sqlite3_clear_bindings(cat->cache[i].stmt);
			return cat->cache[i].stmt;
		}
	}
	if (i == CAT_CACHE)
		return NULL;
	if (sqlite3_prepare_v3(cat->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &cat->cache[i].stmt, NULL) != SQLITE_OK)
		return NULL;
	cat->cache[i].sql = sql;
	return cat->cache[i].stmt;
}

static int
rc_to_cat(int rc)
{
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return CATALOG_BUSY;
	return rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW ?
	    CATALOG_OK : CATALOG_ERR;
}

/* Steps a statement that returns no rows, then resets it. */
static int
step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return CATALOG_ERR;
	return rc_to_cat(rc);
}

/* Steps a one-row, one-integer query; 1 with *v, 0 for no row, or error. */
static int
step_int64(sqlite3_stmt *s, int64_t *v)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : rc_to_cat(rc);
}

/* ---- JSON helpers ---- */

static json_t *
col_json(sqlite3_stmt *s, int i)
{
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(s, i));
	case SQLITE_FLOAT:
		return json_real(sqlite3_column_double(s, i));
	case SQLITE_NULL:
		return json_null();
	default:
		return catdoc_text(sqlite3_column_text(s, i),
		    (size_t)sqlite3_column_bytes(s, i));
	}
}

/* The current row as an object keyed by the column names. */
static json_t *
row_object(sqlite3_stmt *s)
{
	json_t *o;
	int i, n = sqlite3_column_count(s);

	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (json_object_set_new(o, sqlite3_column_name(s, i),
		    col_json(s, i)) == -1) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* Runs s (bound by the caller) and collects its rows as objects, each passed
 * through fix (may be NULL). Resets s. */
static int
collect_rows(sqlite3_stmt *s, void (*fix)(json_t *), json_t **out)
{
	json_t *arr = json_array(), *row;
	int rc;

	if (arr == NULL)
		goto fail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((row = row_object(s)) == NULL)
			goto fail;
		if (fix != NULL)
			fix(row);
		if (json_array_append_new(arr, row) == -1)
			goto fail;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return rc_to_cat(rc) == CATALOG_BUSY ? CATALOG_BUSY : CATALOG_ERR;
	}
	*out = arr;
	return CATALOG_OK;
fail:
	sqlite3_reset(s);
	json_decref(arr);
	return CATALOG_ERR;
}

/* ---- submitting ---- */

/* Job ids are AUTOINCREMENT, so a new job never inherits rows left behind
 * by a job another program deleted with foreign keys off. */
int
catalog_submit_begin(struct catalog *cat)
{
	if (cat->pg != NULL)
		return pgcat_begin(cat->pg);
	return store_begin(cat->st);
}

int
catalog_submit_end(struct catalog *cat, int commit)
{
	if (cat->pg != NULL) {
		if (commit)
			return pgcat_commit(cat->pg);
		pgcat_rollback(cat->pg);
		return CATALOG_OK;
	}
	if (commit)
		return store_commit(cat->st);
	store_rollback(cat->st);
	return CATALOG_OK;
}

int
catalog_find_key(struct catalog *cat, const char *key, int64_t *job_id)
{
	static const char sql[] = "SELECT id FROM jobs WHERE idempotency_key = ?";
	sqlite3_stmt *s;

	if (cat->pg != NULL)
		return pgcat_find_key(cat->pg, key, job_id);
	if ((s = prep(cat, sql)) == NULL)
		return CATALOG_ERR;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	return step_int64(s, job_id);
}

int
catalog_put_blob(struct catalog *cat, const char *sha256, const void *data,
    size_t size, int64_t *blob_id)
{
	static const char find[] = "SELECT id FROM blobs WHERE sha256 = ?";
	static const char put[] = "INSERT INTO blobs (sha256, size, data) "
	    "VALUES (?, ?, ?)";
	sqlite3_stmt *s;
	int rc;

	if (cat->pg != NULL)
		return pgcat_put_blob(cat->pg, sha256, data, size, blob_id);
	if ((s = prep(cat, find)) == NULL)
		return CATALOG_ERR;
	sqlite3_bind_text(s, 1, sha256, -1, SQLITE_STATIC);
	if ((rc = step_int64(s, blob_id)) != 0)
		return rc == 1 ? CATALOG_OK : rc;
	if ((s = prep(cat, put)) == NULL)
		return CATALOG_ERR;
	sqlite3_bind_text(s, 1, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)size);
	sqlite3_bind_blob64(s, 3, size ? data : "", size, SQLITE_STATIC);
	if ((rc = step_done(s)) != CATALOG_OK)
		return rc;
	*blob_id = sqlite3_last_insert_rowid(cat->db);
	return CATALOG_OK;
}

static int
insert_input(struct catalog *cat, int64_t job_id,
    const struct catalog_input *in)
{
	static const char sql[] = CATSQL_INSERT_INPUT;
	sqlite3_stmt *s;

	if ((s = prep(cat, sql)) == NULL)
		return CATALOG_ERR;
	sqlite3_bind_int64(s, 1, job_id);
	sqlite3_bind_text(s, 2, input_role_name(in->role), -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(s, 3, in->ordinal);
	sqlite3_bind_text(s, 4, in->filename, -1, SQLITE_STATIC);
	if (in->content_type != NULL)
		sqlite3_bind_text(s, 5, in->content_type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, in->blob_id);
	return step_done(s);
}

int
catalog_insert_job(struct catalog *cat, const struct catalog_job *job,
    const struct catalog_input *inputs, size_t ninputs, int64_t *job_id)
{
	static const char sql[] = "INSERT INTO jobs (params, stream, priority, "
	    "not_before, max_attempts, idempotency_key, created_at, updated_at) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?7, ?7)";
	sqlite3_stmt *s;
	size_t i;
	int rc;

	if (cat->pg != NULL)
		return pgcat_insert_job(cat->pg, job, inputs, ninputs, job_id);
	if ((s = prep(cat, sql)) == NULL)
		return CATALOG_ERR;
	sqlite3_bind_text(s, 1, job->params, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, job->stream ? 1 : 0);
	sqlite3_bind_int(s, 3, job->priority);
	sqlite3_bind_int64(s, 4, job->not_before);
	sqlite3_bind_int(s, 5, job->max_attempts);
	if (job->idempotency_key != NULL)
		sqlite3_bind_text(s, 6, job->idempotency_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, now_ms());
	if ((rc = step_done(s)) != CATALOG_OK)
		return rc;
	*job_id = sqlite3_last_insert_rowid(cat->db);
	for (i = 0; i < ninputs; i++)
		if ((rc = insert_input(cat, *job_id, &inputs[i])) != CATALOG_OK)
			return rc;
	return CATALOG_OK;
}

/* ---- reading ---- */

#define LIST_COLS CATSQL_LIST_COLS

int
catalog_list(struct catalog *cat, const char *states, int64_t since_ms,
    int limit, json_t **out)
{
	static const char any[] = LIST_COLS
	    "WHERE created_at >= ?1 ORDER BY id DESC LIMIT ?2";
	static const char one[] = LIST_COLS
	    "WHERE state = ?3 AND created_at >= ?1 ORDER BY id DESC LIMIT ?2";
	/* several: newest first, in id order, stopping at the limit */
	static const char some[] = LIST_COLS
	    "WHERE instr(?3, ',' || state || ',') > 0 AND created_at >= ?1 "
	    "ORDER BY id DESC LIMIT ?2";
	char set[128];
	sqlite3_stmt *s;
	int many = states != NULL && strchr(states, ',') != NULL;

	if (cat->pg != NULL)
		return pgcat_list(cat->pg, states, since_ms, limit, out);
	if ((s = prep(cat, states == NULL ? any : many ? some : one)) == NULL)
		return CATALOG_ERR;
	sqlite3_bind_int64(s, 1, since_ms);
	sqlite3_bind_int(s, 2, limit > 0 ? limit : -1);
	if (many) {
		snprintf(set, sizeof(set), ",%s,", states);
		sqlite3_bind_text(s, 3, set, -1, SQLITE_TRANSIENT);
	} else if (states != NULL)
		sqlite3_bind_text(s, 3, states, -1, SQLITE_STATIC);
	return collect_rows(s, catdoc_job, out);
}

/* Runs a query bound to one job id; stores its rows at key in doc. */
static int
add_rows(struct catalog *cat, json_t *doc, const char *key, const char *sql,
    int64_t id, void (*fix)(json_t *))
{
	sqlite3_stmt *s;
	json_t *arr = NULL;
	int rc;

	if ((s = prep(cat, sql)) == NULL)
		return CATALOG_ERR;
	sqlite3_bind_int64(s, 1, id);
	if ((rc = collect_rows(s, fix, &arr)) != CATALOG_OK)
		return rc;
	json_object_set_new(doc, key, arr);
	return CATALOG_OK;
}

static int
show_children(struct catalog *cat, json_t *doc, int64_t id)
{
	static const char inputs[] = CATSQL_SHOW_INPUTS;
	static const char attempts[] = CATSQL_SHOW_ATTEMPTS;
	static const char images[] = CATSQL_SHOW_IMAGES;
	static const char events[] = CATSQL_SHOW_EVENTS;
	int rc;

	if ((rc = add_rows(cat, doc, "inputs", inputs, id, NULL)) != CATALOG_OK ||
	    (rc = add_rows(cat, doc, "attempt_log", attempts, id,
	    catdoc_attempt)) != CATALOG_OK ||
	    (rc = add_rows(cat, doc, "images", images, id, NULL)) != CATALOG_OK ||
	    (rc = add_rows(cat, doc, "events", events, id, NULL)) != CATALOG_OK)
		return rc;
	return CATALOG_OK;
}

int
catalog_show(struct catalog *cat, int64_t id, json_t **out)
{
	static const char sql[] = CATSQL_SHOW_JOB;
	sqlite3_stmt *s;
	json_t *doc = NULL;
	int rc;

	if (cat->pg != NULL)
		return pgcat_show(cat->pg, id, out);
	/* One read transaction: the job and its children from one snapshot. */
	if (sqlite3_exec(cat->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return CATALOG_ERR;
	if ((s = prep(cat, sql)) == NULL) {
		rc = CATALOG_ERR;
		goto done;
	}
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		doc = row_object(s);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? CATALOG_NOTFOUND : rc_to_cat(rc);
		goto done;
	}
	if (doc == NULL) {
		rc = CATALOG_ERR;
		goto done;
	}
	catdoc_job_usage(doc);
	if ((rc = show_children(cat, doc, id)) != CATALOG_OK)
		goto done;
	*out = doc;
	doc = NULL;
done:
	json_decref(doc);
	sqlite3_exec(cat->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

int
catalog_job_ids(struct catalog *cat, const char *state, int64_t since_ms,
    int64_t **ids, size_t *n)
{
	static const char sql[] = CATSQL_JOB_IDS;
	sqlite3_stmt *s;
	int64_t *v = NULL;
	size_t cap = 0, len = 0;
	int rc;

	if (cat->pg != NULL)
		return pgcat_job_ids(cat->pg, state, since_ms, ids, n);
	if ((s = prep(cat, sql)) == NULL)
		return CATALOG_ERR;
	sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, since_ms);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (catdoc_push(&v, &len, &cap, sqlite3_column_int64(s, 0)) == -1)
			goto fail;
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		free(v);
		return rc_to_cat(rc);
	}
	*ids = v;
	*n = len;
	return CATALOG_OK;
fail:
	sqlite3_reset(s);
	free(v);
	return CATALOG_ERR;
}

int
catalog_image_read(struct catalog *cat, int64_t image_id,
    int (*sink)(void *arg, const void *p, size_t n), void *arg)
{
	static const char exists[] = "SELECT id FROM images WHERE id = ?";
	sqlite3_stmt *s;
	sqlite3_blob *blob = NULL;
	unsigned char *chunk = NULL;
	int64_t dummy;
	int size, off, n, rc = CATALOG_ERR;

	if (cat->pg != NULL)
		return pgcat_image_read(cat->pg, image_id, sink, arg);
	if (sqlite3_blob_open(cat->db, "main", "images", "data", image_id, 0,
	    &blob) != SQLITE_OK) {
		sqlite3_blob_close(blob);
		if ((s = prep(cat, exists)) == NULL)
			return CATALOG_ERR;
		sqlite3_bind_int64(s, 1, image_id);
		return step_int64(s, &dummy) == 0 ? CATALOG_NOTFOUND : CATALOG_ERR;
	}
	size = sqlite3_blob_bytes(blob);
	if ((chunk = malloc(size < READ_CHUNK ? (size ? size : 1) :
	    READ_CHUNK)) == NULL)
		goto done;
	for (off = 0; off < size; off += n) {
		n = size - off < READ_CHUNK ? size - off : READ_CHUNK;
		if (sqlite3_blob_read(blob, chunk, n, off) != SQLITE_OK)
			goto done;
		if (sink(arg, chunk, (size_t)n) != 0) {
			rc = -1;
			goto done;
		}
	}
	rc = CATALOG_OK;
done:
	free(chunk);
	sqlite3_blob_close(blob);
	return rc;
}

/* ---- status ---- */

static int
pragma_int(struct catalog *cat, const char *sql, int64_t *v)
{
	sqlite3_stmt *s;

	*v = 0;
	if ((s = prep(cat, sql)) == NULL)
		return CATALOG_ERR;
	return step_int64(s, v) < 0 ? CATALOG_ERR : CATALOG_OK;
}

static int
status_database(struct catalog *cat, json_t *doc)
{
	static const char version[] = "PRAGMA user_version";
	static const char pages[] = "PRAGMA page_count";
	static const char psize[] = "PRAGMA page_size";
	static const char freel[] = "PRAGMA freelist_count";
	int64_t v, npages, page, nfree;

	if (pragma_int(cat, version, &v) != CATALOG_OK ||
	    pragma_int(cat, pages, &npages) != CATALOG_OK ||
	    pragma_int(cat, psize, &page) != CATALOG_OK ||
	    pragma_int(cat, freel, &nfree) != CATALOG_OK)
		return CATALOG_ERR;
	json_object_set_new(doc, "database", catdoc_database(v, npages * page,
	    nfree * page));
	return CATALOG_OK;
}

static int
status_jobs(struct catalog *cat, json_t *doc)
{
	static const char sql[] = CATSQL_STATE_COUNTS;
	sqlite3_stmt *s;
	json_t *jobs;
	int rc;

	if ((s = prep(cat, sql)) == NULL || (jobs = catdoc_state_counts()) ==
	    NULL)
		return CATALOG_ERR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		catdoc_count_state(jobs, (const char *)sqlite3_column_text(s, 0),
		    sqlite3_column_int64(s, 1));
	sqlite3_reset(s);
	json_object_set_new(doc, "jobs", jobs);
	return rc_to_cat(rc);
}

static int
status_totals(struct catalog *cat, json_t *doc, int64_t now)
{
	static const char sums[] = "SELECT coalesce(sum(input_tokens), 0), "
	    "coalesce(sum(output_tokens), 0), coalesce(sum(total_tokens), 0), "
	    "count(*) FILTER (WHERE finished_at >= ?1), "
	    "count(*) FILTER (WHERE finished_at >= ?2) FROM jobs";
	static const char finals[] = "SELECT count(*) FROM images "
	    "WHERE kind = 'final'";
	static const char partials[] = "SELECT count(*) FROM images "
	    "WHERE kind = 'partial'";
	sqlite3_stmt *s;
	int64_t tokens[3], minute = 0, hour = 0, nfinal = 0, npartial = 0;
	int rc, i;

	if ((s = prep(cat, sums)) == NULL)
		return CATALOG_ERR;
	sqlite3_bind_int64(s, 1, now - 60 * 1000);
	sqlite3_bind_int64(s, 2, now - 3600 * 1000);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (i = 0; i < 3; i++)
			tokens[i] = sqlite3_column_int64(s, i);
		minute = sqlite3_column_int64(s, 3);
		hour = sqlite3_column_int64(s, 4);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return rc_to_cat(rc);
	if (pragma_int(cat, finals, &nfinal) != CATALOG_OK ||
	    pragma_int(cat, partials, &npartial) != CATALOG_OK)
		return CATALOG_ERR;
	catdoc_totals(doc, tokens, minute, hour, nfinal, npartial);
	return CATALOG_OK;
}

static int
status_control(struct catalog *cat, json_t *doc, int64_t now)
{
	static const char pause[] = CATSQL_PAUSE;
	static const char daemons[] = CATSQL_DAEMONS;
	sqlite3_stmt *s;
	json_t *arr;
	int rc;

	if ((s = prep(cat, pause)) == NULL)
		return CATALOG_ERR;
	rc = sqlite3_step(s);
	catdoc_pause(doc, rc == SQLITE_ROW ? col_json(s, 0) : NULL);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return rc_to_cat(rc);
	if ((s = prep(cat, daemons)) == NULL)
		return CATALOG_ERR;
	sqlite3_bind_int64(s, 1, now - 3600 * 1000);
	if ((rc = collect_rows(s, NULL, &arr)) != CATALOG_OK)
		return rc;
	json_object_set_new(doc, "daemons", arr);
	return CATALOG_OK;
}

/* Whether another connection holds the write lock right now: a try
 * without waiting, rolled back at once. */
static void
status_write_lock(struct catalog *cat, json_t *doc, int busy_timeout_ms)
{
	json_t *db = json_object_get(doc, "database");
	int rc;

	sqlite3_busy_timeout(cat->db, 0);
	rc = sqlite3_exec(cat->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_busy_timeout(cat->db, busy_timeout_ms);
	if (json_is_object(db))
		json_object_set_new(db, "write_locked", (rc & 0xff) == SQLITE_BUSY ?
		    json_true() : rc == SQLITE_OK ? json_false() : json_null());
}

/* The status parts in one read transaction: all of them, or (overview)
 * those without a scan of every job and image. Returns a new document
 * (caller owns) in *out. */
static int
status_read(struct catalog *cat, int64_t now, int overview, json_t **out)
{
	json_t *doc;
	int rc = CATALOG_ERR;

	if ((doc = json_object()) == NULL)
		return CATALOG_ERR;
	if (sqlite3_exec(cat->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		json_decref(doc);
		return CATALOG_ERR;
	}
	if ((overview || (rc = status_database(cat, doc)) == CATALOG_OK) &&
	    (rc = status_jobs(cat, doc)) == CATALOG_OK &&
	    (overview || (rc = status_totals(cat, doc, now)) == CATALOG_OK))
		rc = status_control(cat, doc, now);
	sqlite3_exec(cat->db, "COMMIT", NULL, NULL, NULL);
	if (rc != CATALOG_OK) {
		json_decref(doc);
		return rc;
	}
	*out = doc;
	return CATALOG_OK;
}

int
catalog_status(struct catalog *cat, int64_t now, json_t **out)
{
	int rc;

	if (cat->pg != NULL)
		return pgcat_status(cat->pg, now, 0, out);
	if ((rc = status_read(cat, now, 0, out)) == CATALOG_OK)
		status_write_lock(cat, *out, CATALOG_BUSY_TIMEOUT_MS);
	return rc;
}

int
catalog_overview(struct catalog *cat, int64_t now, json_t **out)
{
	if (cat->pg != NULL)
		return pgcat_status(cat->pg, now, 1, out);
	return status_read(cat, now, 1, out);
}

int
catalog_activity(struct catalog *cat, int64_t after_event, int64_t after_image,
    int limit, json_t **out)
{
	static const char events[] = CATSQL_ACTIVITY_EVENTS;
	static const char images[] = "SELECT i.id AS id, i.job_id AS job_id, "
	    "i.kind AS kind, i.idx AS idx, i.created_at AS at, a.number AS "
	    "attempt, CASE WHEN json_valid(j.params) THEN "
	    "json_extract(j.params, '$.partial_images') END AS partials, "
	    "CASE WHEN json_valid(j.params) THEN json_extract(j.params, '$.n') "
	    "END AS n FROM images i JOIN attempts a ON a.id = i.attempt_id "
	    "JOIN jobs j ON j.id = i.job_id WHERE i.id > ?1 ORDER BY i.id "
	    "LIMIT ?2";
	sqlite3_stmt *s;
	json_t *doc, *arr;
	int rc = CATALOG_ERR;

	if (cat->pg != NULL)
		return pgcat_activity(cat->pg, after_event, after_image, limit, out);
	if ((doc = json_object()) == NULL || sqlite3_exec(cat->db, "BEGIN", NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto out;
	if ((s = prep(cat, events)) == NULL)
		goto end;
	sqlite3_bind_int64(s, 1, after_event);
	sqlite3_bind_int(s, 2, limit);
	if ((rc = collect_rows(s, NULL, &arr)) != CATALOG_OK)
		goto end;
	json_object_set_new(doc, "events", arr);
	rc = CATALOG_ERR;
	if ((s = prep(cat, images)) == NULL)
		goto end;
	sqlite3_bind_int64(s, 1, after_image);
	sqlite3_bind_int(s, 2, limit);
	if ((rc = collect_rows(s, NULL, &arr)) == CATALOG_OK)
		json_object_set_new(doc, "images", arr);
end:
	sqlite3_exec(cat->db, "COMMIT", NULL, NULL, NULL);
out:
	if (rc == CATALOG_OK)
		*out = doc;
	else
		json_decref(doc);
	return rc;
}

int
catalog_activity_marks(struct catalog *cat, int64_t *event, int64_t *image)
{
	if (cat->pg != NULL)
		return pgcat_activity_marks(cat->pg, event, image);
	if (pragma_int(cat, "SELECT coalesce(max(id), 0) FROM events", event) !=
	    CATALOG_OK || pragma_int(cat, "SELECT coalesce(max(id), 0) FROM "
	    "images", image) != CATALOG_OK)
		return CATALOG_ERR;
	return CATALOG_OK;
}

int
catalog_job_marks(struct catalog *cat, int64_t id, int64_t *event,
    int64_t *image)
{
	sqlite3_stmt *s;
	int rc;

	if (cat->pg != NULL)
		return pgcat_job_marks(cat->pg, id, event, image);
	if ((s = prep(cat, CATSQL_JOB_MARKS("?1"))) == NULL)
		return CATALOG_ERR;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_NULL)
		rc = SQLITE_DONE;
	if (rc == SQLITE_ROW) {
		*event = sqlite3_column_int64(s, 0);
		*image = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return CATALOG_OK;
	return rc == SQLITE_DONE ? CATALOG_NOTFOUND : rc_to_cat(rc);
}

int
catalog_running(struct catalog *cat, json_t **out)
{
	static const char sql[] = "SELECT j.id AS id, a.number AS attempt, "
	    "(SELECT count(*) FROM images i WHERE i.attempt_id = a.id AND "
	    "i.kind = 'partial') AS partials, (SELECT count(*) FROM images i "
	    "WHERE i.attempt_id = a.id AND i.kind = 'final') AS finals, "
	    "(SELECT max(created_at) FROM images i WHERE i.attempt_id = a.id) "
	    "AS last_image_at, a.started_at AS started_at, CASE WHEN "
	    "json_valid(j.params) THEN json_extract(j.params, "
	    "'$.partial_images') END AS want_partials, CASE WHEN "
	    "json_valid(j.params) THEN json_extract(j.params, '$.n') END AS "
	    "want_finals, CASE WHEN json_valid(j.params) THEN "
	    "json_extract(j.params, '$.prompt') END AS prompt FROM jobs j JOIN "
	    "attempts a ON a.job_id = j.id AND a.outcome IS NULL WHERE "
	    "j.state = 'running' ORDER BY j.id";
	sqlite3_stmt *s;

	if (cat->pg != NULL)
		return pgcat_running(cat->pg, out);
	if ((s = prep(cat, sql)) == NULL)
		return CATALOG_ERR;
	return collect_rows(s, NULL, out);
}

int
catalog_live_daemons(struct catalog *cat, int64_t now, int64_t fresh_ms, int *n)
{
	static const char sql[] = CATSQL_LIVE_DAEMONS;
	sqlite3_stmt *s;
	int rc;

	if (cat->pg != NULL)
		return pgcat_live_daemons(cat->pg, now, fresh_ms, n);
	if ((s = prep(cat, sql)) == NULL)
		return CATALOG_ERR;
	sqlite3_bind_int64(s, 1, now - fresh_ms);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*n = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? CATALOG_OK : rc_to_cat(rc);
}

int
catalog_data_version(struct catalog *cat, int64_t *version)
{
	if (cat->pg != NULL)
		return pgcat_data_version(cat->pg, version);
	return store_data_version(cat->st, version) == STORE_OK ?
	    CATALOG_OK : CATALOG_ERR;
}

int
catalog_job_state(struct catalog *cat, int64_t id, char *state)
{
	static const char sql[] = "SELECT state FROM jobs WHERE id = ?";
	sqlite3_stmt *s;
	int rc;

	if (cat->pg != NULL)
		return pgcat_job_state(cat->pg, id, state);
	if ((s = prep(cat, sql)) == NULL)
		return CATALOG_ERR;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		strlcpy_safe(state, (const char *)sqlite3_column_text(s, 0),
		    CATALOG_STATE_LEN);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return CATALOG_OK;
	return rc == SQLITE_DONE ? CATALOG_NOTFOUND : rc_to_cat(rc);
}

/* ---- the web view ---- */

#define PAGE_COLS CATSQL_PAGE_COLS
/* A word of the prompt, ASCII case folded; params may be invalid JSON.
 * ?6 = 1 when the word has no byte JSON may escape: then the raw text is
 * searched first, which spares parsing the JSON of most rows. */
#define PAGE_WORD "(?3 IS NULL OR ((?6 = 0 OR instr(lower(params), " \
	"lower(?3)) > 0) AND instr(lower(CASE WHEN json_valid(params) THEN " \
	"json_extract(params, '$.prompt') END), lower(?3)) > 0)) "

/* Whether every byte of word stands for itself in any JSON text. */
static int
plain_word(const char *word)
{
	for (; *word != '\0'; word++)
		if (!((*word >= 'a' && *word <= 'z') || (*word >= 'A' &&
		    *word <= 'Z') || (*word >= '0' && *word <= '9') ||
		    strchr(" ,.-_:;!?'()", *word) != NULL))
			return 0;
	return 1;
}

static int
page_images(struct catalog *cat, json_t *jobs)
{
	static const char sql[] = "SELECT i.id AS id, i.job_id AS job_id, "
	    "a.number AS attempt, a.outcome AS outcome, i.kind AS kind, "
	    "i.idx AS idx, i.width AS width, i.height AS height, "
	    "i.sha256 AS sha256, i.created_at AS created_at FROM images i "
	    "JOIN attempts a ON a.id = i.attempt_id WHERE i.job_id IN (SELECT value FROM "
	    "json_each(?1)) ORDER BY i.job_id, a.number, i.kind = 'final', "
	    "i.idx LIMIT 5000";
	json_t *ids = json_array(), *job, *imgs = NULL;
	sqlite3_stmt *s;
	char *text;
	size_t i;
	int rc = CATALOG_ERR;

	json_array_foreach(jobs, i, job)
		json_array_append(ids, json_object_get(job, "id"));
	if ((text = json_dumps(ids, JSON_COMPACT)) == NULL ||
	    (s = prep(cat, sql)) == NULL)
		goto done;
	sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	if ((rc = collect_rows(s, NULL, &imgs)) == CATALOG_OK)
		catdoc_page_attach(jobs, imgs);
done:
	free(text);
	json_decref(ids);
	json_decref(imgs);
	return rc;
}

int
catalog_page(struct catalog *cat, const struct catalog_page_query *q,
    json_t **out)
{
	static const char any[] = PAGE_COLS "WHERE id < ?1 AND " PAGE_WORD
	    "ORDER BY id DESC LIMIT ?4";
	static const char one_state[] = PAGE_COLS "WHERE state = ?2 AND "
	    "id < ?1 AND " PAGE_WORD "ORDER BY id DESC LIMIT ?4";
	static const char one_job[] = PAGE_COLS "WHERE id = ?5";
	sqlite3_stmt *s;
	json_t *jobs = NULL;
	int rc = CATALOG_ERR;

	if (cat->pg != NULL)
		return pgcat_page(cat->pg, q, out);
	if (sqlite3_exec(cat->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return CATALOG_ERR;
	if ((s = prep(cat, q->only > 0 ? one_job : q->state ? one_state :
	    any)) == NULL)
		goto done;
	sqlite3_bind_int64(s, 1, q->before > 0 ? q->before : INT64_MAX);
	if (q->state != NULL)
		sqlite3_bind_text(s, 2, q->state, -1, SQLITE_STATIC);
	if (q->word != NULL && *q->word != '\0') {
		sqlite3_bind_text(s, 3, q->word, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 6, plain_word(q->word));
	}
	sqlite3_bind_int(s, 4, q->limit);
	sqlite3_bind_int64(s, 5, q->only);
	if ((rc = collect_rows(s, catdoc_job, &jobs)) != CATALOG_OK ||
	    (rc = page_images(cat, jobs)) != CATALOG_OK)
		goto done;
	*out = jobs;
	jobs = NULL;
done:
	json_decref(jobs);
	sqlite3_exec(cat->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

int
catalog_finals_since(struct catalog *cat, int64_t since_ms, size_t max,
    int64_t **at, int64_t **finals, size_t *n)
{
	/* Events are appended as they happen: walked newest first until a
	 * minute before since_ms (clocks of several writers may disagree). */
	static const char walk[] = "SELECT at, job_id FROM events WHERE "
	    "to_state = 'succeeded' AND id > (SELECT coalesce(max(id), 0) "
	    "FROM events) - ?1 ORDER BY id DESC";
	static const char count[] = "SELECT count(*) FROM images WHERE "
	    "job_id = ? AND kind = 'final'";
	sqlite3_stmt *s, *c;
	int64_t t, nf, *a = NULL, *f = NULL;
	size_t len = 0, cap = 0, flen = 0, fcap = 0;
	int rc = CATALOG_ERR, step;

	if (cat->pg != NULL)
		return pgcat_finals_since(cat->pg, since_ms, max, at, finals, n);
	if (sqlite3_exec(cat->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return CATALOG_ERR;
	if ((s = prep(cat, walk)) == NULL || (c = prep(cat, count)) == NULL)
		goto done;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)max);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if ((t = sqlite3_column_int64(s, 0)) < since_ms - 60000)
			break;
		sqlite3_bind_int64(c, 1, sqlite3_column_int64(s, 1));
		if (step_int64(c, &nf) != 1 || catdoc_push(&a, &len, &cap, t) ==
		    -1 || catdoc_push(&f, &flen, &fcap, nf) == -1)
			goto done;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		goto done;
	*at = a;
	*finals = f;
	*n = len;
	a = f = NULL;
	rc = CATALOG_OK;
done:
	sqlite3_reset(s);
	free(a);
	free(f);
	sqlite3_exec(cat->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

/* Copies a 64-digit lowercase hex SHA-256 from column i, else "". */
static void
col_sha256(sqlite3_stmt *s, int i, char out[SHA256_HEX_LEN + 1])
{
	catdoc_sha256((const char *)sqlite3_column_text(s, i),
	    (size_t)sqlite3_column_bytes(s, i), out);
}

int
catalog_image_meta(struct catalog *cat, int64_t image_id,
    struct catalog_bytes_meta *m)
{
	static const char sql[] = "SELECT job_id, length(data), sha256 FROM "
	    "images WHERE id = ?";
	sqlite3_stmt *s;
	int rc;

	if (cat->pg != NULL)
		return pgcat_image_meta(cat->pg, image_id, m);
	memset(m, 0, sizeof(*m));
	if ((s = prep(cat, sql)) == NULL)
		return CATALOG_ERR;
	sqlite3_bind_int64(s, 1, image_id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		m->job_id = sqlite3_column_int64(s, 0);
		m->size = sqlite3_column_int64(s, 1);
		col_sha256(s, 2, m->sha256);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return CATALOG_OK;
	return rc == SQLITE_DONE ? CATALOG_NOTFOUND : rc_to_cat(rc);
}

int
catalog_input_get(struct catalog *cat, int64_t job_id, enum input_role role,
    int ordinal, size_t max, unsigned char **data, size_t *len,
    struct catalog_bytes_meta *m)
{
	static const char meta[] = "SELECT length(coalesce(b.data, i.data)), "
	    "b.sha256, i.content_type FROM inputs i LEFT JOIN blobs b ON "
	    "b.id = i.blob_id WHERE i.job_id = ?1 AND i.role = ?2 AND "
	    "i.ordinal = ?3";
	static const char bytes[] = "SELECT coalesce(b.data, i.data) FROM "
	    "inputs i LEFT JOIN blobs b ON b.id = i.blob_id WHERE "
	    "i.job_id = ?1 AND i.role = ?2 AND i.ordinal = ?3";
	sqlite3_stmt *s;
	const unsigned char *ct;
	int rc, n;

	if (cat->pg != NULL)
		return pgcat_input_get(cat->pg, job_id, role, ordinal, max, data, len, m);
	memset(m, 0, sizeof(*m));
	*data = NULL;
	if (sqlite3_exec(cat->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return CATALOG_ERR;
	rc = CATALOG_ERR;
	if ((s = prep(cat, meta)) == NULL)
		goto done;
	sqlite3_bind_int64(s, 1, job_id);
	sqlite3_bind_text(s, 2, input_role_name(role), -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(s, 3, ordinal);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		m->job_id = job_id;
		m->size = sqlite3_column_int64(s, 0);
		col_sha256(s, 1, m->sha256);
		if ((ct = sqlite3_column_text(s, 2)) != NULL)
			strlcpy_safe(m->content_type, (const char *)ct,
			    sizeof(m->content_type));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? CATALOG_NOTFOUND : rc_to_cat(rc);
		goto done;
	}
	rc = CATALOG_ERR;
	if (m->size < 0 || (uint64_t)m->size > max || (s = prep(cat, bytes)) ==
	    NULL)
		goto done;
	sqlite3_bind_int64(s, 1, job_id);
	sqlite3_bind_text(s, 2, input_role_name(role), -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(s, 3, ordinal);
	if (sqlite3_step(s) == SQLITE_ROW &&
	    (n = sqlite3_column_bytes(s, 0)) == m->size &&
	    (*data = malloc(n ? (size_t)n : 1)) != NULL) {
		if (n > 0)
			memcpy(*data, sqlite3_column_blob(s, 0), (size_t)n);
		*len = (size_t)n;
		rc = CATALOG_OK;
	}
	sqlite3_reset(s);
done:
	sqlite3_exec(cat->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

/* ---- operator actions ---- */

/* Runs an UPDATE bound to (?1 id, ?2 now) in its own transaction. When it
 * changes nothing, tells why: CATALOG_NOTFOUND or CATALOG_STATE + state. */
static int
transition(struct catalog *cat, const char *sql, int64_t id, int64_t now,
    char *state)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = store_begin(cat->st)) != STORE_OK)
		return rc;
	if ((s = prep(cat, sql)) == NULL) {
		rc = CATALOG_ERR;
		goto fail;
	}
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	if ((rc = step_done(s)) != CATALOG_OK)
		goto fail;
	if (sqlite3_changes(cat->db) == 0) {
		rc = catalog_job_state(cat, id, state);
		if (rc == CATALOG_OK)
			rc = CATALOG_STATE;
		goto fail;
	}
	return store_commit(cat->st);
fail:
	store_rollback(cat->st);
	return rc;
}

int
catalog_cancel(struct catalog *cat, int64_t id, int64_t now, char *state)
{
	static const char sql[] = "UPDATE jobs SET state = 'canceled', "
	    "finished_at = ?2, updated_at = ?2, lease_owner = NULL, "
	    "lease_expires = NULL WHERE id = ?1 AND "
	    "state IN ('queued','retry_wait','running')";

	if (cat->pg != NULL)
		return pgcat_transition(cat->pg, PGCAT_CANCEL, id, now, state);
	return transition(cat, sql, id, now, state);
}

/* Back to the queue, now, error cleared, attempts kept, max_attempts
 * raised if exhausted: from the states given. */
#define RETRY_SQL(states) "UPDATE jobs SET state = 'queued', " \
	"not_before = 0, finished_at = NULL, updated_at = ?2, " \
	"max_attempts = CASE WHEN attempts >= max_attempts " \
	"THEN min(100, attempts + 1) ELSE max_attempts END, " \
	"error_status = NULL, error_type = NULL, error_code = NULL, " \
	"error_message = NULL, error_request_id = NULL " \
	"WHERE id = ?1 AND state IN " states

int
catalog_retry(struct catalog *cat, int64_t id, int64_t now, char *state)
{
	static const char sql[] = RETRY_SQL("('failed','canceled')");

	if (cat->pg != NULL)
		return pgcat_transition(cat->pg, PGCAT_RETRY, id, now, state);
	return transition(cat, sql, id, now, state);
}

int
catalog_retry_force(struct catalog *cat, int64_t id, int64_t now, char *state)
{
	static const char sql[] = RETRY_SQL("('failed','canceled','succeeded')");

	if (cat->pg != NULL)
		return pgcat_transition(cat->pg, PGCAT_RETRY_FORCE, id, now, state);
	return transition(cat, sql, id, now, state);
}

int
catalog_set_pause(struct catalog *cat, const char *reason, int *was_paused)
{
	static const char get[] = "SELECT 1 FROM control WHERE key = 'pause'";
	static const char set[] = "INSERT INTO control (key, value) "
	    "VALUES ('pause', ?) ON CONFLICT (key) DO UPDATE SET "
	    "value = excluded.value";
	static const char del[] = "DELETE FROM control WHERE key = 'pause'";
	/* tells daemons paused by upstream (401, quota) to try again now */
	static const char mark[] = "INSERT INTO control (key, value) "
	    "VALUES ('resume', ?) ON CONFLICT (key) DO UPDATE SET "
	    "value = excluded.value";
	sqlite3_stmt *s;
	int64_t one;
	int rc;

	if (cat->pg != NULL)
		return pgcat_set_pause(cat->pg, reason, was_paused);
	if ((rc = store_begin(cat->st)) != STORE_OK)
		return rc;
	if ((s = prep(cat, get)) == NULL || (rc = step_int64(s, &one)) < 0)
		goto fail;
	if (was_paused != NULL)
		*was_paused = rc == 1;
	if ((s = prep(cat, reason ? set : del)) == NULL)
		goto fail;
	if (reason != NULL)
		sqlite3_bind_text(s, 1, reason, -1, SQLITE_STATIC);
	if (step_done(s) != CATALOG_OK)
		goto fail;
	if (reason == NULL) {
		if ((s = prep(cat, mark)) == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, now_ms());
		if (step_done(s) != CATALOG_OK)
			goto fail;
	}
	return store_commit(cat->st);
fail:
	store_rollback(cat->st);
	return CATALOG_ERR;
}

/* Steps a DELETE ... RETURNING id: counts the rows, keeps the largest id. */
static int
step_deleted(sqlite3_stmt *s, int *n, int64_t *last)
{
	int rc;

	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		(*n)++;
		if (sqlite3_column_int64(s, 0) > *last)
			*last = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? CATALOG_OK : rc_to_cat(rc) == CATALOG_BUSY ?
	    CATALOG_BUSY : CATALOG_ERR;
}

/* Runs a DELETE of at most PRUNE_BATCH rows per transaction until it deletes
 * fewer, walking ids upwards so rows kept are not scanned again; adds the
 * rows deleted to *count. Parameters: ?1 before_ms, ?2.. the states, ?5
 * the batch size, ?6 the id to start after (a statement may use only some). */
static int
delete_batches(struct catalog *cat, const char *sql,
    const char *const *states, size_t nstates, int64_t before_ms,
    int64_t *count)
{
	sqlite3_stmt *s;
	int64_t last = 0;
	size_t i;
	int rc, n;

	do {
		if ((rc = store_begin(cat->st)) != STORE_OK)
			return rc;
		if ((s = prep(cat, sql)) == NULL) {
			store_rollback(cat->st);
			return CATALOG_ERR;
		}
		sqlite3_bind_int64(s, 1, before_ms);
		for (i = 0; i < nstates && i < 3; i++)
			sqlite3_bind_text(s, (int)i + 2, states[i], -1,
			    SQLITE_STATIC);
		sqlite3_bind_int(s, 5, PRUNE_BATCH);
		sqlite3_bind_int64(s, 6, last);
		if ((rc = step_deleted(s, &n, &last)) != CATALOG_OK) {
			store_rollback(cat->st);
			return rc;
		}
		if ((rc = store_commit(cat->st)) != STORE_OK)
			return rc;
		*count += n;
	} while (n == PRUNE_BATCH);
	return CATALOG_OK;
}

/* Pages given back per incremental_vacuum step: each is a write
 * transaction of its own, short enough not to hold the daemon's writes
 * (256 pages of 64 KiB: 16 MB). */
#define VACUUM_STEP_PAGES 256

/* Gives free pages back to the file system, in steps, when the file
 * allows it (auto_vacuum = INCREMENTAL, as new files are made); then a
 * checkpoint, so that the database file itself shrinks. */
static int
reclaim(struct catalog *cat, struct catalog_prune_result *res)
{
	static const char mode[] = "PRAGMA auto_vacuum";
	static const char freel[] = "PRAGMA freelist_count";
	static const char psize[] = "PRAGMA page_size";
	char step[64];
	int64_t av, nfree, before, page;

	if (pragma_int(cat, mode, &av) != CATALOG_OK ||
	    pragma_int(cat, freel, &before) != CATALOG_OK ||
	    pragma_int(cat, psize, &page) != CATALOG_OK)
		return CATALOG_ERR;
	nfree = before;
	if (av == 2) {
		res->incremental = 1;
		snprintf(step, sizeof(step), "PRAGMA incremental_vacuum(%d)",
		    VACUUM_STEP_PAGES);
		while (nfree > 0) {
			if (sqlite3_exec(cat->db, step, NULL, NULL, NULL) !=
			    SQLITE_OK || pragma_int(cat, freel, &nfree) !=
			    CATALOG_OK)
				return rc_to_cat(sqlite3_errcode(cat->db));
		}
		sqlite3_exec(cat->db, "PRAGMA wal_checkpoint(PASSIVE)", NULL,
		    NULL, NULL);
	}
	res->freed_bytes = (before - nfree) * page;
	res->free_bytes = nfree * page;
	return CATALOG_OK;
}

/* Whether every state of states[0..n) is terminal (prune's only). */
static int
all_terminal(const char *const *states, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!catalog_state_terminal(states[i]))
			return 0;
	return 1;
}

int
catalog_prune_plan(struct catalog *cat, const char *const *states,
    size_t nstates, int64_t before_ms, struct catalog_prune_result *res)
{
	static const char sql[] = CATSQL_PRUNE_PLAN;
	sqlite3_stmt *s;
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	if (!all_terminal(states, nstates))
		return CATALOG_STATE;
	if (cat->pg != NULL)
		return pgcat_prune_plan(cat->pg, states, nstates, before_ms, res);
	for (i = 0; i < nstates; i++) {
		if ((s = prep(cat, sql)) == NULL)
			return CATALOG_ERR;
		sqlite3_bind_int64(s, 1, before_ms);
		sqlite3_bind_text(s, 2, states[i], -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			res->jobs += sqlite3_column_int64(s, 0);
			res->image_bytes += sqlite3_column_int64(s, 1);
		}
		sqlite3_reset(s);
		if (rc != SQLITE_ROW)
			return rc_to_cat(rc);
	}
	return CATALOG_OK;
}

int
catalog_prune(struct catalog *cat, const char *const *states, size_t nstates,
    int64_t before_ms, struct catalog_prune_result *res)
{
	static const char jobs[] = "DELETE FROM jobs WHERE id IN (SELECT id "
	    "FROM jobs WHERE state = ?2 AND id > ?6 AND "
	    "coalesce(finished_at, updated_at) < ?1 ORDER BY id LIMIT ?5) "
	    "RETURNING id";
	static const char blobs[] = "DELETE FROM blobs WHERE id IN (SELECT b.id "
	    "FROM blobs b WHERE b.id > ?6 AND NOT EXISTS (SELECT 1 FROM inputs i "
	    "WHERE i.blob_id = b.id) ORDER BY b.id LIMIT ?5) RETURNING id";
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	if (nstates == 0 || nstates > 3 || !all_terminal(states, nstates))
		return CATALOG_STATE;
	if (cat->pg != NULL)
		return pgcat_prune(cat->pg, states, nstates, before_ms, res);
	for (i = 0; i < nstates; i++)  /* one state at a time: index order */
		if ((rc = delete_batches(cat, jobs, &states[i], 1, before_ms,
		    &res->jobs)) != CATALOG_OK)
			return rc;
	if ((rc = delete_batches(cat, blobs, NULL, 0, 0, &res->blobs)) !=
	    CATALOG_OK)
		return rc;
	return reclaim(cat, res);
}
