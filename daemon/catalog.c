/* catalog.c: the SQL behind imgeditctl, once for every backend (rows.h):
 * submit's inserts, list/show/status/export documents, cancel/retry/prune. */
#define _GNU_SOURCE
#include "catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "catdoc.h"
#include "budget.h"
#include "budgetsql.h"
#include "catsql.h"
#include "jobstate.h"
#include "period.h"
#include "rows.h"
#include "util.h"

#define CAT_CACHE 64
#define PRUNE_BATCH 32 /* jobs (and their images) per delete transaction */
/* Seconds init waits for another process's migration (PostgreSQL). */
#define INIT_LOCK_TIMEOUT_MS 60000

struct catalog {
	const struct rows_methods *m;
	struct rows_conn *c;
	struct {
		const char *sql;
		struct rows_stmt *stmt;
	} cache[CAT_CACHE];
};

/* The text of a pair for this catalog's dialect. */
#define D(cat, pair) ROWS_SQL((cat)->m, pair)

_Static_assert(PERIOD_COUNT == 3, "catsql.h's CATSQL_SPENT has the columns "
    "of three periods");
_Static_assert(STORE_PARAMS_MAX == 262144, "catsql.h's CATSQL_PARAMS_MAX "
    "is the daemon's params limit");

/* ---- opening ---- */

/* have against what this build needs; err says what to do. */
static int
check_version(const char *who, const char *name, const char *init_arg,
    int have, int want, char *err, size_t errlen)
{
	if (have > want) {
		snprintf(err, errlen, "cannot use DB: %s has schema version %d, "
		    "newer than this %s (%d): upgrade imgedit", name, have, who,
		    want);
		return CATALOG_ERR;
	}
	if (have < want) {
		snprintf(err, errlen, "cannot use DB: %s has schema version %d, "
		    "this %s needs %d: run 'imgeditctl --db %s init'", name,
		    have, who, want, init_arg);
		return CATALOG_ERR;
	}
	return CATALOG_OK;
}

int
catalog_open(const char *uri, int flags, const char *who,
    struct catalog **out, char *err, size_t errlen)
{
	const struct rows_methods *m = backend_for(uri)->rows;
	struct rows_conn *c = NULL;
	struct catalog *cat;
	char why[512];
	int have, want;

	*out = NULL;
	if (m->open(uri, (flags & CATALOG_READONLY) ? ROWS_READONLY : 0,
	    CATALOG_BUSY_TIMEOUT_MS, &c, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "cannot open DB: %s", why);
		return CATALOG_ERR;
	}
	if (m->version(c, &have, &want) == -1) {
		snprintf(err, errlen, "cannot open DB: %s: %s", m->display(c),
		    m->errmsg(c));
		goto fail;
	}
	/* the advice names uri only when the name shown is it: a URI may
	 * hold a password */
	if (check_version(who, m->display(c), strcmp(m->display(c), uri) == 0 ?
	    uri : "URI", have, want, err, errlen) != CATALOG_OK)
		goto fail;
	if ((cat = calloc(1, sizeof(*cat))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	cat->m = m;
	cat->c = c;
	*out = cat;
	return CATALOG_OK;
fail:
	m->close(c);
	return CATALOG_ERR;
}

int
catalog_init(const char *uri, char *name, size_t namelen, int *version,
    char *err, size_t errlen)
{
	const struct rows_methods *m = backend_for(uri)->rows;
	struct rows_conn *c = NULL;
	char why[512];

	if (m->open(uri, ROWS_CREATE, CATALOG_BUSY_TIMEOUT_MS, &c, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "cannot open DB: %s", why);
		return CATALOG_ERR;
	}
	strlcpy_safe(name, m->display(c), namelen);
	if (m->migrate(c, INIT_LOCK_TIMEOUT_MS, version) == -1) {
		snprintf(err, errlen, "cannot migrate DB: %s: %s", name,
		    m->errmsg(c));
		m->close(c);
		return CATALOG_ERR;
	}
	m->close(c);
	return CATALOG_OK;
}

void
catalog_close(struct catalog *cat)
{
	int i;

	if (cat == NULL)
		return;
	for (i = 0; i < CAT_CACHE; i++)
		cat->m->finalize(cat->cache[i].stmt);
	cat->m->close(cat->c);
	free(cat);
}

const char *
catalog_errmsg(struct catalog *cat)
{
	return cat->m->errmsg(cat->c);
}

const char *
catalog_name(struct catalog *cat)
{
	return cat->m->display(cat->c);
}

const struct rows_methods *
catalog_rows(struct catalog *cat, struct rows_conn **conn)
{
	*conn = cat->c;
	return cat->m;
}

int
catalog_state_valid(const char *name)
{
	enum job_state s;

	return job_state_parse(name, &s) == 0;
}

int
catalog_state_terminal(const char *name)
{
	return job_state_name_terminal(name);
}

/* ---- statements ---- */

/* The error of the last call as a CATALOG_* code. */
static int
failed(struct catalog *cat)
{
	return cat->m->error(cat->c) == DBE_LOCK ? CATALOG_BUSY : CATALOG_ERR;
}

/* Returns the prepared statement for the literal sql, reset and unbound; the
 * catalog owns it. Statements are cached by the address of their literal. */
static struct rows_stmt *
prep(struct catalog *cat, const char *sql)
{
	int i;

	for (i = 0; i < CAT_CACHE && cat->cache[i].sql != NULL; i++) {
		if (cat->cache[i].sql == sql) {
			cat->m->reset(cat->cache[i].stmt);
			return cat->cache[i].stmt;
		}
	}
	if (i == CAT_CACHE || cat->m->prepare(cat->c, sql,
	    &cat->cache[i].stmt) == -1)
		return NULL;
	cat->cache[i].sql = sql;
	return cat->cache[i].stmt;
}

static void
bind_i(struct catalog *cat, struct rows_stmt *s, int i, int64_t v)
{
	cat->m->bind_int64(s, i, v);
}

static void
bind_t(struct catalog *cat, struct rows_stmt *s, int i, const char *v)
{
	cat->m->bind_text(s, i, v);
}

/* Steps a statement that returns no rows (or rows not read), then resets
 * it. */
static int
step_done(struct catalog *cat, struct rows_stmt *s)
{
	int rc;

	while ((rc = cat->m->step(s)) == ROWS_ROW)
		;
	cat->m->reset(s);
	return rc == ROWS_DONE ? CATALOG_OK : failed(cat);
}

/* Steps a one-row, one-integer query; 1 with *v, 0 for no row, or error. */
static int
step_int64(struct catalog *cat, struct rows_stmt *s, int64_t *v)
{
	int rc = cat->m->step(s);

	if (rc == ROWS_ROW)
		*v = cat->m->column_int64(s, 0);
	cat->m->reset(s);
	if (rc == ROWS_ROW)
		return 1;
	return rc == ROWS_DONE ? 0 : failed(cat);
}

/* A query bound to args[0..nargs) of one row of integers into v[0..n):
 * CATALOG_OK, CATALOG_ERR for no row, or another error. */
static int
one_row(struct catalog *cat, const char *sql, const int64_t *args,
    int nargs, int64_t *v, int n)
{
	struct rows_stmt *s;
	int rc, i;

	if ((s = prep(cat, sql)) == NULL)
		return failed(cat);
	for (i = 0; i < nargs; i++)
		bind_i(cat, s, i + 1, args[i]);
	if ((rc = cat->m->step(s)) == ROWS_ROW)
		for (i = 0; i < n; i++)
			v[i] = cat->m->column_int64(s, i);
	cat->m->reset(s);
	if (rc == ROWS_ROW)
		return CATALOG_OK;
	return rc == ROWS_DONE ? CATALOG_ERR : failed(cat);
}

static int
begin(struct catalog *cat, int write)
{
	return cat->m->begin(cat->c, write) == 0 ? CATALOG_OK : failed(cat);
}

static int
commit(struct catalog *cat)
{
	return cat->m->commit(cat->c) == 0 ? CATALOG_OK : failed(cat);
}

/* Ends a transaction (a read's, or one that failed), keeping rc. */
static int
end(struct catalog *cat, int rc)
{
	cat->m->rollback(cat->c);
	return rc;
}

/* ---- JSON helpers ---- */

static json_t *
col_json(struct catalog *cat, struct rows_stmt *s, int i)
{
	const char *t;

	switch (cat->m->column_type(s, i)) {
	case ROWS_INT:
		return json_integer(cat->m->column_int64(s, i));
	case ROWS_REAL:
		return json_real(cat->m->column_double(s, i));
	case ROWS_NULL:
		return json_null();
	default:
		t = cat->m->column_text(s, i);
		return catdoc_text((const unsigned char *)t,
		    cat->m->column_bytes(s, i));
	}
}

/* The current row as an object keyed by the column names. */
static json_t *
row_object(struct catalog *cat, struct rows_stmt *s)
{
	json_t *o;
	int i, n = cat->m->column_count(s);

	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (json_object_set_new(o, cat->m->column_name(s, i),
		    col_json(cat, s, i)) == -1) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* Runs s (bound by the caller) and collects its rows as objects, each passed
 * through fix (may be NULL). Resets s. */
static int
collect_rows(struct catalog *cat, struct rows_stmt *s, void (*fix)(json_t *),
    json_t **out)
{
	json_t *arr = json_array(), *row;
	int rc;

	if (arr == NULL)
		goto fail;
	while ((rc = cat->m->step(s)) == ROWS_ROW) {
		if ((row = row_object(cat, s)) == NULL)
			goto fail;
		if (fix != NULL)
			fix(row);
		if (json_array_append_new(arr, row) == -1)
			goto fail;
	}
	cat->m->reset(s);
	if (rc != ROWS_DONE) {
		json_decref(arr);
		return failed(cat);
	}
	*out = arr;
	return CATALOG_OK;
fail:
	cat->m->reset(s);
	json_decref(arr);
	return CATALOG_ERR;
}

/* ---- params, bounded ---- */

/* blob_read's sink for a params value known to fit: keeps it. */
static int
params_sink(void *arg, const void *p, size_t n)
{
	return buf_append(arg, p, n);
}

/* row's params read as stored, and its params_bytes 0 (a value with no
 * bytes to measure). */
static int
params_as_stored(struct catalog *cat, json_t *row)
{
	static const char sql[] = "SELECT params FROM jobs WHERE id = ?1";
	struct rows_stmt *s;
	json_t *got;
	int rc;

	if ((s = prep(cat, sql)) == NULL)
		return failed(cat);
	bind_i(cat, s, 1, json_integer_value(json_object_get(row, "id")));
	if ((rc = collect_rows(cat, s, NULL, &got)) != CATALOG_OK)
		return rc;
	json_object_set(row, "params", json_object_get(json_array_get(got, 0),
	    "params") ? json_object_get(json_array_get(got, 0), "params") :
	    json_null());
	json_object_set_new(row, "params_bytes", json_integer(0));
	json_decref(got);
	return CATALOG_OK;
}

/* Rows whose backend could not measure params in SQL (params_bytes null)
 * get it measured here without reading it, and read in chunks only when
 * it is within the limit. Returns CATALOG_OK or CATALOG_ERR. */
static int
measure_params(struct catalog *cat, json_t *rows)
{
	struct buf kept;
	json_t *row;
	int64_t id, bytes;
	size_t i;
	int rc;

	json_array_foreach(rows, i, row) {
		if (!json_is_null(json_object_get(row, "params_bytes")))
			continue;
		id = json_integer_value(json_object_get(row, "id"));
		rc = cat->m->blob_size(cat->c, "jobs", "params", id, &bytes);
		if (rc == -1)
			return failed(cat);
		if (rc == 1) {	/* not text or a blob: a number, small */
			if ((rc = params_as_stored(cat, row)) != CATALOG_OK)
				return rc;
			continue;
		}
		json_object_set_new(row, "params_bytes", json_integer(bytes));
		if (bytes > STORE_PARAMS_MAX)
			continue;	/* catdoc names it; never read */
		memset(&kept, 0, sizeof(kept));
		if ((rc = cat->m->blob_read(cat->c, "jobs", "params", id,
		    params_sink, &kept)) != 0) {
			buf_free(&kept);
			return rc == -1 ? failed(cat) : CATALOG_ERR;
		}
		json_object_set_new(row, "params", json_stringn(kept.len ?
		    (const char *)kept.data : "", kept.len));
		buf_free(&kept);
	}
	return CATALOG_OK;
}

/* collect_rows, then params measured and fix applied to each row. */
static int
collect_jobs(struct catalog *cat, struct rows_stmt *s, void (*fix)(json_t *),
    json_t **out)
{
	json_t *rows, *row;
	size_t i;
	int rc;

	if ((rc = collect_rows(cat, s, NULL, &rows)) != CATALOG_OK)
		return rc;
	if ((rc = measure_params(cat, rows)) != CATALOG_OK) {
		json_decref(rows);
		return rc;
	}
	json_array_foreach(rows, i, row)
		fix(row);
	*out = rows;
	return CATALOG_OK;
}

/* Runs sql bound to ?1 id (and ?2 limit, unless it is -1) and stores its
 * rows, each passed through fix (may be NULL), at key in doc. */
static int
add_rows(struct catalog *cat, json_t *doc, const char *key, const char *sql,
    int64_t id, int limit, void (*fix)(json_t *))
{
	struct rows_stmt *s;
	json_t *arr = NULL;
	int rc;

	if ((s = prep(cat, sql)) == NULL)
		return failed(cat);
	bind_i(cat, s, 1, id);
	if (limit != -1)
		bind_i(cat, s, 2, limit);
	if ((rc = collect_rows(cat, s, fix, &arr)) == CATALOG_OK)
		json_object_set_new(doc, key, arr);
	return rc;
}

/* Hands doc to *out when rc is CATALOG_OK, else frees it. Returns rc. */
static int
give(json_t *doc, int rc, json_t **out)
{
	if (rc == CATALOG_OK)
		*out = doc;
	else
		json_decref(doc);
	return rc;
}

/* ---- submitting ---- */

int
catalog_submit_begin(struct catalog *cat)
{
	return begin(cat, 1);
}

int
catalog_submit_end(struct catalog *cat, int commit_it)
{
	if (commit_it)
		return commit(cat);
	return end(cat, CATALOG_OK);
}

int
catalog_find_key(struct catalog *cat, const char *key, int64_t *job_id)
{
	static const char find[] = CATSQL_FIND_KEY;
	struct rows_stmt *s;
	int rc;

	if (D(cat, catsql_key_lock) != NULL) {
		if ((s = prep(cat, D(cat, catsql_key_lock))) == NULL)
			return failed(cat);
		bind_t(cat, s, 1, key);
		if ((rc = step_done(cat, s)) != CATALOG_OK)
			return rc;
	}
	if ((s = prep(cat, find)) == NULL)
		return failed(cat);
	bind_t(cat, s, 1, key);
	return step_int64(cat, s, job_id);
}

int
catalog_put_blob(struct catalog *cat, const char *sha256, const void *data,
    size_t size, int64_t *blob_id)
{
	static const char put[] = CATSQL_PUT_BLOB;
	struct rows_stmt *s;
	int rc, tries;

	for (tries = 0; tries < 2; tries++) {
		if ((s = prep(cat, D(cat, catsql_find_blob))) == NULL)
			return failed(cat);
		bind_t(cat, s, 1, sha256);
		if ((rc = step_int64(cat, s, blob_id)) != 0)
			return rc == 1 ? CATALOG_OK : rc;
		if (tries > 0 || (s = prep(cat, put)) == NULL)
			break;
		bind_t(cat, s, 1, sha256);
		bind_i(cat, s, 2, (int64_t)size);
		cat->m->bind_blob(s, 3, data, size);
		if ((rc = step_int64(cat, s, blob_id)) != 0)
			return rc == 1 ? CATALOG_OK : rc;
		/* another's, just now: found on the second look */
	}
	return CATALOG_ERR;
}

int
catalog_insert_job(struct catalog *cat, const struct catalog_job *job,
    const struct catalog_input *inputs, size_t ninputs, int64_t *job_id)
{
	static const char sql[] = CATSQL_INSERT_JOB;
	static const char input[] = CATSQL_INSERT_INPUT;
	const struct catalog_input *in;
	struct rows_stmt *s;
	size_t i;
	int rc;

	if ((s = prep(cat, sql)) == NULL)
		return failed(cat);
	bind_t(cat, s, 1, job->params);
	bind_i(cat, s, 2, job->stream ? 1 : 0);
	bind_i(cat, s, 3, job->priority);
	bind_i(cat, s, 4, job->not_before);
	bind_i(cat, s, 5, job->max_attempts);
	bind_t(cat, s, 6, job->idempotency_key);
	bind_i(cat, s, 7, now_ms());
	if (job->has_estimate)
		bind_i(cat, s, 8, job->estimate_lo_usd_micro);
	else
		cat->m->bind_null(s, 8);
	if (job->has_estimate && job->estimate_hi_usd_micro >= 0)
		bind_i(cat, s, 9, job->estimate_hi_usd_micro);
	else
		cat->m->bind_null(s, 9);
	if ((rc = step_int64(cat, s, job_id)) != 1)
		return rc == 0 ? CATALOG_ERR : rc;
	for (i = 0; i < ninputs; i++) {
		in = &inputs[i];
		if ((s = prep(cat, input)) == NULL)
			return failed(cat);
		bind_i(cat, s, 1, *job_id);
		bind_t(cat, s, 2, input_role_name(in->role));
		bind_i(cat, s, 3, in->ordinal);
		bind_t(cat, s, 4, in->filename);
		bind_t(cat, s, 5, in->content_type);
		bind_i(cat, s, 6, in->blob_id);
		if ((rc = step_done(cat, s)) != CATALOG_OK)
			return rc;
	}
	return CATALOG_OK;
}

/* ---- reading ---- */

int
catalog_list(struct catalog *cat, const char *states, int64_t since_ms,
    int limit, json_t **out)
{
	char set[128];
	struct rows_stmt *s;
	int many = states != NULL && strchr(states, ',') != NULL, rc;

	/* one snapshot: the rows, then the params measured beside them */
	if ((rc = begin(cat, 0)) != CATALOG_OK)
		return rc;
	if ((s = prep(cat, D(cat, states == NULL ? catsql_list_any : many ?
	    catsql_list_some : catsql_list_one))) == NULL)
		return end(cat, failed(cat));
	bind_i(cat, s, 1, since_ms);
	bind_i(cat, s, 2, limit > 0 ? limit : INT64_MAX);
	if (many) {
		snprintf(set, sizeof(set), ",%s,", states);
		bind_t(cat, s, 3, set);
	} else if (states != NULL)
		bind_t(cat, s, 3, states);
	return end(cat, collect_jobs(cat, s, catdoc_job, out));
}

int
catalog_show(struct catalog *cat, int64_t id, json_t **out)
{
	static const char inputs[] = CATSQL_SHOW_INPUTS;
	static const char attempts[] = CATSQL_SHOW_ATTEMPTS;
	static const char images[] = CATSQL_SHOW_IMAGES;
	static const char events[] = CATSQL_SHOW_EVENTS;
	struct rows_stmt *s;
	json_t *rows = NULL, *doc;
	int rc;

	/* One read transaction: the job and its children from one snapshot. */
	if ((rc = begin(cat, 0)) != CATALOG_OK)
		return rc;
	if ((s = prep(cat, D(cat, catsql_show_job))) == NULL)
		return end(cat, failed(cat));
	bind_i(cat, s, 1, id);
	if ((rc = collect_jobs(cat, s, catdoc_job_usage, &rows)) != CATALOG_OK)
		return end(cat, rc);
	doc = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	if (doc == NULL)
		return end(cat, CATALOG_NOTFOUND);
	if ((rc = add_rows(cat, doc, "inputs", inputs, id, -1, NULL)) ==
	    CATALOG_OK && (rc = add_rows(cat, doc, "attempt_log", attempts, id,
	    -1, catdoc_attempt)) == CATALOG_OK && (rc = add_rows(cat, doc,
	    "images", images, id, -1, NULL)) == CATALOG_OK)
		rc = add_rows(cat, doc, "events", events, id, -1, NULL);
	return end(cat, give(doc, rc, out));
}

int
catalog_job_ids(struct catalog *cat, const char *state, int64_t since_ms,
    int64_t **ids, size_t *n)
{
	static const char sql[] = CATSQL_JOB_IDS;
	struct rows_stmt *s;
	int64_t *v = NULL;
	size_t cap = 0, len = 0;
	int rc;

	if ((s = prep(cat, sql)) == NULL)
		return failed(cat);
	bind_t(cat, s, 1, state);
	bind_i(cat, s, 2, since_ms);
	while ((rc = cat->m->step(s)) == ROWS_ROW)
		if (catdoc_push(&v, &len, &cap, cat->m->column_int64(s, 0)) ==
		    -1)
			break;
	cat->m->reset(s);
	if (rc != ROWS_DONE) {
		free(v);
		return rc == ROWS_ROW ? CATALOG_ERR : failed(cat);
	}
	*ids = v;
	*n = len;
	return CATALOG_OK;
}

int
catalog_image_read(struct catalog *cat, int64_t image_id,
    int (*sink)(void *arg, const void *p, size_t n), void *arg)
{
	static const char exists[] = CATSQL_IMAGE_EXISTS;
	struct rows_stmt *s;
	int64_t dummy;

	switch (cat->m->blob_read(cat->c, "images", "data", image_id, sink,
	    arg)) {
	case 0:
		return CATALOG_OK;
	case -2:
		return -1;
	case 1:
		/* no row, or (SQLite) a value that is no blob */
		if ((s = prep(cat, exists)) == NULL)
			return failed(cat);
		bind_i(cat, s, 1, image_id);
		return step_int64(cat, s, &dummy) == 0 ? CATALOG_NOTFOUND :
		    CATALOG_ERR;
	default:
		return failed(cat);
	}
}

/* ---- status ---- */

static int
status_database(struct catalog *cat, json_t *doc)
{
	int64_t size, free_bytes;
	int have, want;

	if (cat->m->version(cat->c, &have, &want) == -1 ||
	    cat->m->db_size(cat->c, &size, &free_bytes) == -1)
		return failed(cat);
	json_object_set_new(doc, "database", catdoc_database(have, size,
	    free_bytes));
	return CATALOG_OK;
}

static int
status_jobs(struct catalog *cat, json_t *doc)
{
	static const char sql[] = CATSQL_STATE_COUNTS;
	struct rows_stmt *s;
	json_t *jobs;
	int rc;

	if ((s = prep(cat, sql)) == NULL)
		return failed(cat);
	if ((jobs = catdoc_state_counts()) == NULL)
		return CATALOG_ERR;
	while ((rc = cat->m->step(s)) == ROWS_ROW)
		catdoc_count_state(jobs, cat->m->column_text(s, 0),
		    cat->m->column_int64(s, 1));
	cat->m->reset(s);
	json_object_set_new(doc, "jobs", jobs);
	return rc == ROWS_DONE ? CATALOG_OK : failed(cat);
}

static int
status_totals(struct catalog *cat, json_t *doc, int64_t now)
{
	static const char sql[] = CATSQL_TOTALS;
	int64_t args[2] = { now - 60 * 1000, now - 3600 * 1000 }, v[7];
	int rc;

	if ((rc = one_row(cat, sql, args, 2, v, 7)) == CATALOG_OK)
		catdoc_totals(doc, v, v[3], v[4], v[5], v[6]);
	return rc;
}

/* "spent": what the attempts that started in the day, the week and the
 * month around now cost, per model and in all: one pass over them. */
static int
status_spent(struct catalog *cat, json_t *doc, int64_t now)
{
	struct rows_stmt *s;
	json_t *spent, *rows, *one;
	int64_t start[PERIOD_COUNT], end[PERIOD_COUNT], lo = 0, hi = 0;
	char prefix[8];
	int p, rc;

	for (p = 0; p < PERIOD_COUNT; p++) {
		if (period_bounds((enum period)p, now, &start[p], &end[p]) == -1)
			start[p] = end[p] = 0;	/* a clock outside time_t */
		lo = p == 0 || start[p] < lo ? start[p] : lo;
		hi = p == 0 || end[p] > hi ? end[p] : hi;
	}
	if ((s = prep(cat, D(cat, catsql_spent))) == NULL)
		return failed(cat);
	for (p = 0; p < PERIOD_COUNT; p++) {
		bind_i(cat, s, 2 * p + 1, start[p]);
		bind_i(cat, s, 2 * p + 2, end[p]);
	}
	bind_i(cat, s, 7, lo);
	bind_i(cat, s, 8, hi);
	if ((rc = collect_rows(cat, s, NULL, &rows)) != CATALOG_OK)
		return rc;
	if ((spent = json_object()) == NULL) {
		json_decref(rows);
		return CATALOG_ERR;
	}
	json_object_set_new(doc, "spent", spent);
	for (p = 0, rc = CATALOG_OK; p < PERIOD_COUNT && rc == CATALOG_OK;
	    p++) {
		snprintf(prefix, sizeof(prefix), "p%d_", p);
		if (end[p] == 0)
			continue;
		if ((one = catdoc_spent(start[p], end[p], rows, prefix)) == NULL)
			rc = CATALOG_ERR;
		json_object_set_new(spent, period_name((enum period)p), one);
	}
	json_decref(rows);
	return rc;
}

static int
status_estimates(struct catalog *cat, json_t *doc)
{
	static const char sql[] = CATSQL_ESTIMATES;
	int64_t v[9];
	int rc;

	if ((rc = one_row(cat, sql, NULL, 0, v, 9)) == CATALOG_OK)
		json_object_set_new(doc, "estimate_vs_actual",
		    catdoc_estimates(v));
	return rc;
}

static int
status_control(struct catalog *cat, json_t *doc, int64_t now)
{
	static const char pause[] = CATSQL_PAUSE;
	static const char daemons[] = CATSQL_DAEMONS;
	struct rows_stmt *s;
	json_t *arr;
	int rc;

	if ((s = prep(cat, pause)) == NULL)
		return failed(cat);
	rc = cat->m->step(s);
	catdoc_pause(doc, rc == ROWS_ROW ? col_json(cat, s, 0) : NULL);
	cat->m->reset(s);
	if (rc != ROWS_ROW && rc != ROWS_DONE)
		return failed(cat);
	if ((s = prep(cat, daemons)) == NULL)
		return failed(cat);
	bind_i(cat, s, 1, now - 3600 * 1000);
	if ((rc = collect_rows(cat, s, NULL, &arr)) != CATALOG_OK)
		return rc;
	json_object_set_new(doc, "daemons", arr);
	return CATALOG_OK;
}

/* The status parts in one read transaction: all of them, or (overview)
 * those without a scan of every job and image. Returns a new document
 * (caller owns) in *out. */
static int
status_read(struct catalog *cat, int64_t now, int overview, json_t **out)
{
	json_t *doc;
	int rc;

	if ((doc = json_object()) == NULL)
		return CATALOG_ERR;
	if ((rc = begin(cat, 0)) != CATALOG_OK) {
		json_decref(doc);
		return rc;
	}
	if ((overview || (rc = status_database(cat, doc)) == CATALOG_OK) &&
	    (rc = status_jobs(cat, doc)) == CATALOG_OK &&
	    (overview || (rc = status_totals(cat, doc, now)) == CATALOG_OK) &&
	    (rc = status_spent(cat, doc, now)) == CATALOG_OK &&
	    (overview || (rc = status_estimates(cat, doc)) == CATALOG_OK))
		rc = status_control(cat, doc, now);
	return give(doc, end(cat, rc), out);
}

int
catalog_status(struct catalog *cat, int64_t now, json_t **out)
{
	int rc, locked;

	if ((rc = status_read(cat, now, 0, out)) != CATALOG_OK)
		return rc;
	/* after the snapshot: a try at the write lock, without waiting */
	locked = cat->m->write_locked(cat->c);
	json_object_set_new(json_object_get(*out, "database"), "write_locked",
	    locked == 1 ? json_true() : locked == 0 ? json_false() :
	    json_null());
	return CATALOG_OK;
}

int
catalog_overview(struct catalog *cat, int64_t now, json_t **out)
{
	return status_read(cat, now, 1, out);
}

int
catalog_budget_sums(struct catalog *cat, int64_t since, int64_t day,
    struct budget_sums *out)
{
	static const char sql[] = BUDGETSQL_SUMS("?1", "?2");
	struct rows_stmt *s;
	int rc;

	if ((s = prep(cat, sql)) == NULL)
		return failed(cat);
	bind_i(cat, s, 1, since);
	bind_i(cat, s, 2, day);
	while ((rc = cat->m->step(s)) == ROWS_ROW)
		if (budget_sums_add(out, cat->m->column_text(s, 0),
		    cat->m->column_int64(s, 1), cat->m->column_int64(s, 2),
		    cat->m->column_int64(s, 3)) == -1) {
			cat->m->reset(s);
			return CATALOG_ERR;
		}
	cat->m->reset(s);
	return rc == ROWS_DONE ? CATALOG_OK : failed(cat);
}

/* ---- watching ---- */

int
catalog_activity(struct catalog *cat, int64_t after_event, int64_t after_image,
    int limit, json_t **out)
{
	static const char events[] = CATSQL_ACTIVITY_EVENTS;
	json_t *doc;
	int rc;

	if ((doc = json_object()) == NULL)
		return CATALOG_ERR;
	if ((rc = begin(cat, 0)) == CATALOG_OK) {
		if ((rc = add_rows(cat, doc, "events", events, after_event,
		    limit, NULL)) == CATALOG_OK)
			rc = add_rows(cat, doc, "images", D(cat,
			    catsql_activity_images), after_image, limit, NULL);
		end(cat, rc);
	}
	return give(doc, rc, out);
}

int
catalog_activity_marks(struct catalog *cat, int64_t *event, int64_t *image)
{
	static const char sql[] = CATSQL_MARKS;
	int64_t v[2];
	int rc;

	if ((rc = one_row(cat, sql, NULL, 0, v, 2)) == CATALOG_OK) {
		*event = v[0];
		*image = v[1];
	}
	return rc;
}

int
catalog_job_marks(struct catalog *cat, int64_t id, int64_t *event,
    int64_t *image)
{
	static const char sql[] = CATSQL_JOB_MARKS;
	struct rows_stmt *s;
	int rc;

	if ((s = prep(cat, sql)) == NULL)
		return failed(cat);
	bind_i(cat, s, 1, id);
	rc = cat->m->step(s);
	if (rc == ROWS_ROW && cat->m->column_type(s, 0) == ROWS_NULL)
		rc = ROWS_DONE;
	if (rc == ROWS_ROW) {
		*event = cat->m->column_int64(s, 0);
		*image = cat->m->column_int64(s, 1);
	}
	cat->m->reset(s);
	if (rc == ROWS_ROW)
		return CATALOG_OK;
	return rc == ROWS_DONE ? CATALOG_NOTFOUND : failed(cat);
}

int
catalog_running(struct catalog *cat, json_t **out)
{
	struct rows_stmt *s;

	if ((s = prep(cat, D(cat, catsql_running))) == NULL)
		return failed(cat);
	return collect_rows(cat, s, NULL, out);
}

int
catalog_live_daemons(struct catalog *cat, int64_t now, int64_t fresh_ms, int *n)
{
	static const char sql[] = CATSQL_LIVE_DAEMONS;
	int64_t since = now - fresh_ms, v = 0;
	int rc;

	if ((rc = one_row(cat, sql, &since, 1, &v, 1)) == CATALOG_OK)
		*n = (int)v;
	return rc;
}

/* The backend's own (SQLite's data_version), else what changes when a job
 * moves or an image arrives: the newest ids of events and images. */
int
catalog_data_version(struct catalog *cat, int64_t *version)
{
	int64_t e, i;
	int rc;

	if (cat->m->data_version != NULL)
		return cat->m->data_version(cat->c, version) == 0 ?
		    CATALOG_OK : failed(cat);
	if ((rc = catalog_activity_marks(cat, &e, &i)) == CATALOG_OK)
		*version = e + i;
	return rc;
}

/* The job's state; with lock, on the sql of catsql_lock_job. */
static int
job_state(struct catalog *cat, const char *sql, int64_t id, char *state)
{
	struct rows_stmt *s;
	int rc;

	if ((s = prep(cat, sql)) == NULL)
		return failed(cat);
	bind_i(cat, s, 1, id);
	if ((rc = cat->m->step(s)) == ROWS_ROW)
		strlcpy_safe(state, cat->m->column_text(s, 0) ?
		    cat->m->column_text(s, 0) : "", CATALOG_STATE_LEN);
	cat->m->reset(s);
	if (rc == ROWS_ROW)
		return CATALOG_OK;
	return rc == ROWS_DONE ? CATALOG_NOTFOUND : failed(cat);
}

int
catalog_job_state(struct catalog *cat, int64_t id, char *state)
{
	static const char sql[] = CATSQL_JOB_STATE;

	return job_state(cat, sql, id, state);
}

/* ---- the web view ---- */

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
	json_t *ids = json_array(), *job, *imgs = NULL;
	struct rows_stmt *s;
	char *text = NULL;
	size_t i;
	int rc = CATALOG_ERR;

	json_array_foreach(jobs, i, job)
		json_array_append(ids, json_object_get(job, "id"));
	if ((text = json_dumps(ids, JSON_COMPACT)) == NULL)
		goto done;
	if ((s = prep(cat, D(cat, catsql_page_images))) == NULL) {
		rc = failed(cat);
		goto done;
	}
	bind_t(cat, s, 1, text);
	if ((rc = collect_rows(cat, s, NULL, &imgs)) == CATALOG_OK)
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
	const char *word = q->word != NULL && *q->word != '\0' ? q->word : NULL;
	struct rows_stmt *s;
	json_t *jobs = NULL;
	int rc;

	if ((rc = begin(cat, 0)) != CATALOG_OK)
		return rc;
	if ((s = prep(cat, q->only > 0 ? D(cat, catsql_page_job) : q->state ? D(cat,
	    catsql_page_state) : D(cat, catsql_page_any))) == NULL)
		return end(cat, failed(cat));
	if (q->only > 0)
		bind_i(cat, s, 1, q->only);
	else {
		bind_i(cat, s, 1, q->before > 0 ? q->before : INT64_MAX);
		bind_t(cat, s, 2, word);
		bind_i(cat, s, 3, word != NULL && plain_word(word));
		bind_i(cat, s, 4, q->limit);
		if (q->state != NULL)
			bind_t(cat, s, 5, q->state);
	}
	if ((rc = collect_jobs(cat, s, catdoc_job, &jobs)) == CATALOG_OK &&
	    (rc = page_images(cat, jobs)) == CATALOG_OK) {
		*out = jobs;
		jobs = NULL;
	}
	json_decref(jobs);
	return end(cat, rc);
}

int
catalog_finals_since(struct catalog *cat, int64_t since_ms, size_t max,
    int64_t **at, int64_t **finals, size_t *n)
{
	static const char sql[] = CATSQL_FINALS;
	struct rows_stmt *s;
	int64_t t, *a = NULL, *f = NULL;
	size_t len = 0, cap = 0, flen = 0, fcap = 0;
	int rc = CATALOG_ERR, step;

	if ((step = begin(cat, 0)) != CATALOG_OK)
		return step;
	if ((s = prep(cat, sql)) == NULL) {
		rc = failed(cat);
		goto done;
	}
	bind_i(cat, s, 1, (int64_t)max);
	while ((step = cat->m->step(s)) == ROWS_ROW) {
		if ((t = cat->m->column_int64(s, 0)) < since_ms - 60000)
			break;
		if (catdoc_push(&a, &len, &cap, t) == -1 || catdoc_push(&f,
		    &flen, &fcap, cat->m->column_int64(s, 1)) == -1)
			break;
	}
	if (step == ROWS_ROW && t >= since_ms - 60000)
		goto done;       /* out of memory */
	if (step != ROWS_ROW && step != ROWS_DONE) {
		rc = failed(cat);
		goto done;
	}
	*at = a;
	*finals = f;
	*n = len;
	a = f = NULL;
	rc = CATALOG_OK;
done:
	if (s != NULL)
		cat->m->reset(s);
	free(a);
	free(f);
	return end(cat, rc);
}

/* Copies a 64-digit lowercase hex SHA-256 from column i, else "". */
static void
col_sha256(struct catalog *cat, struct rows_stmt *s, int i,
    char out[SHA256_HEX_LEN + 1])
{
	catdoc_sha256(cat->m->column_text(s, i), cat->m->column_bytes(s, i),
	    out);
}

int
catalog_image_meta(struct catalog *cat, int64_t image_id,
    struct catalog_bytes_meta *m)
{
	static const char sql[] = CATSQL_IMAGE_META;
	struct rows_stmt *s;
	int rc;

	memset(m, 0, sizeof(*m));
	if ((s = prep(cat, sql)) == NULL)
		return failed(cat);
	bind_i(cat, s, 1, image_id);
	if ((rc = cat->m->step(s)) == ROWS_ROW) {
		m->job_id = cat->m->column_int64(s, 0);
		m->size = cat->m->column_int64(s, 1);
		col_sha256(cat, s, 2, m->sha256);
	}
	cat->m->reset(s);
	if (rc == ROWS_ROW)
		return CATALOG_OK;
	return rc == ROWS_DONE ? CATALOG_NOTFOUND : failed(cat);
}

/* Binds (?1 job, ?2 role, ?3 ordinal) of an input. */
static struct rows_stmt *
prep_input(struct catalog *cat, const char *sql, int64_t job_id,
    enum input_role role, int ordinal)
{
	struct rows_stmt *s;

	if ((s = prep(cat, sql)) == NULL)
		return NULL;
	bind_i(cat, s, 1, job_id);
	bind_t(cat, s, 2, input_role_name(role));
	bind_i(cat, s, 3, ordinal);
	return s;
}

/* The input's size, sha256 and content type into m. */
static int
input_meta(struct catalog *cat, int64_t job_id, enum input_role role,
    int ordinal, struct catalog_bytes_meta *m)
{
	static const char sql[] = CATSQL_INPUT_META;
	struct rows_stmt *s;
	const char *ct;
	int rc;

	if ((s = prep_input(cat, sql, job_id, role, ordinal)) == NULL)
		return failed(cat);
	if ((rc = cat->m->step(s)) == ROWS_ROW) {
		m->job_id = job_id;
		m->size = cat->m->column_int64(s, 0);
		col_sha256(cat, s, 1, m->sha256);
		if ((ct = cat->m->column_text(s, 2)) != NULL)
			strlcpy_safe(m->content_type, ct,
			    sizeof(m->content_type));
	}
	cat->m->reset(s);
	if (rc == ROWS_ROW)
		return CATALOG_OK;
	return rc == ROWS_DONE ? CATALOG_NOTFOUND : failed(cat);
}

int
catalog_input_get(struct catalog *cat, int64_t job_id, enum input_role role,
    int ordinal, size_t max, unsigned char **data, size_t *len,
    struct catalog_bytes_meta *m)
{
	static const char bytes[] = CATSQL_INPUT_BYTES;
	struct rows_stmt *s;
	size_t n;
	int rc;

	memset(m, 0, sizeof(*m));
	*data = NULL;
	if ((rc = begin(cat, 0)) != CATALOG_OK)
		return rc;
	if ((rc = input_meta(cat, job_id, role, ordinal, m)) != CATALOG_OK)
		return end(cat, rc);
	if (m->size < 0 || (uint64_t)m->size > max || (s = prep_input(cat,
	    bytes, job_id, role, ordinal)) == NULL)
		return end(cat, CATALOG_ERR);
	rc = CATALOG_ERR;
	if (cat->m->step(s) == ROWS_ROW &&
	    (n = cat->m->column_bytes(s, 0)) == (size_t)m->size &&
	    (*data = malloc(n ? n : 1)) != NULL) {
		if (n > 0)
			memcpy(*data, cat->m->column_blob(s, 0), n);
		*len = n;
		rc = CATALOG_OK;
	}
	cat->m->reset(s);
	return end(cat, rc);
}

/* ---- operator actions ---- */

/* The job's row read (locked where the backend locks rows), then changed
 * by sql (?1 id, ?2 now) if act may take it out of its state: jobstate's
 * rule, the same on every backend. */
static int
transition(struct catalog *cat, enum job_action act, const char *sql,
    int64_t id, int64_t now, char *state)
{
	struct rows_stmt *s;
	enum job_state from;
	int rc;

	if ((rc = begin(cat, 1)) != CATALOG_OK)
		return rc;
	if ((rc = job_state(cat, D(cat, catsql_lock_job), id, state)) !=
	    CATALOG_OK)
		return end(cat, rc);
	if (job_state_parse(state, &from) == -1 ||
	    !job_action_allowed(act, from))
		return end(cat, CATALOG_STATE);
	if ((s = prep(cat, sql)) == NULL)
		return end(cat, failed(cat));
	bind_i(cat, s, 1, id);
	bind_i(cat, s, 2, now);
	if ((rc = step_done(cat, s)) != CATALOG_OK)
		return end(cat, rc);
	return commit(cat);
}

int
catalog_cancel(struct catalog *cat, int64_t id, int64_t now, char *state)
{
	static const char sql[] = CATSQL_CANCEL;

	return transition(cat, ACTION_CANCEL, sql, id, now, state);
}

int
catalog_retry(struct catalog *cat, int64_t id, int64_t now, char *state)
{
	static const char sql[] = CATSQL_RETRY;

	return transition(cat, ACTION_RETRY, sql, id, now, state);
}

int
catalog_retry_force(struct catalog *cat, int64_t id, int64_t now, char *state)
{
	static const char sql[] = CATSQL_RETRY;

	return transition(cat, ACTION_RETRY_FORCE, sql, id, now, state);
}

int
catalog_set_pause(struct catalog *cat, const char *reason, int *was_paused)
{
	static const char set[] = CATSQL_PAUSE_SET;
	static const char del[] = CATSQL_PAUSE_DEL;
	struct rows_stmt *s;
	char now[24];
	int64_t one;
	int rc;

	if ((rc = begin(cat, 1)) != CATALOG_OK)
		return rc;
	if ((s = prep(cat, D(cat, catsql_pause_get))) == NULL)
		return end(cat, failed(cat));
	if ((rc = step_int64(cat, s, &one)) < 0)
		return end(cat, rc);
	if (was_paused != NULL)
		*was_paused = rc == 1;
	if (reason == NULL) {
		if ((s = prep(cat, del)) == NULL)
			return end(cat, failed(cat));
		if ((rc = step_done(cat, s)) != CATALOG_OK)
			return end(cat, rc);
	}
	/* clearing also stamps 'resume': it tells daemons paused by upstream
	 * (401, quota) to try again now */
	snprintf(now, sizeof(now), "%lld", (long long)now_ms());
	if ((s = prep(cat, set)) == NULL)
		return end(cat, failed(cat));
	bind_t(cat, s, 1, reason != NULL ? "pause" : "resume");
	bind_t(cat, s, 2, reason != NULL ? reason : now);
	if ((rc = step_done(cat, s)) != CATALOG_OK)
		return end(cat, rc);
	return commit(cat);
}

/* One batch of a prune in its own transaction: bytes (may be NULL: not
 * counted) answers what the batch holds, del deletes it, answering (id,
 * bytes) per row. Binds ?1..?nb from b. Adds to *n, *bytes_out; moves
 * *last to the largest id deleted. */
static int
prune_batch(struct catalog *cat, const char *bytes, const char *del,
    const int64_t *b, const char *state, int64_t *last, int64_t *n,
    int64_t *bytes_out)
{
	struct rows_stmt *s;
	int64_t v = 0;
	int rc, k;

	*n = 0;
	if ((rc = begin(cat, 1)) != CATALOG_OK)
		return rc;
	for (k = bytes != NULL ? 0 : 1; k < 2; k++) {
		if ((s = prep(cat, k == 0 ? bytes : del)) == NULL)
			return end(cat, failed(cat));
		if (state != NULL) {  /* jobs: ?1 state ?2 before ?3 after ?4 n */
			bind_t(cat, s, 1, state);
			bind_i(cat, s, 2, b[0]);
			bind_i(cat, s, 3, *last);
			bind_i(cat, s, 4, PRUNE_BATCH);
		} else {              /* blobs: ?1 after ?2 n */
			bind_i(cat, s, 1, *last);
			bind_i(cat, s, 2, PRUNE_BATCH);
		}
		if (k == 0) {
			if ((rc = step_int64(cat, s, &v)) < 0)
				return end(cat, rc);
			*bytes_out += v;
			continue;
		}
		while ((rc = cat->m->step(s)) == ROWS_ROW) {
			(*n)++;
			if (cat->m->column_int64(s, 0) > *last)
				*last = cat->m->column_int64(s, 0);
			*bytes_out += cat->m->column_int64(s, 1);
		}
		cat->m->reset(s);
		if (rc != ROWS_DONE)
			return end(cat, failed(cat));
	}
	return commit(cat);
}

/* Deletes in batches, walking ids upwards so rows kept are not scanned
 * again, until one deletes nothing (on PostgreSQL a short batch is not the
 * end: FOR UPDATE in READ COMMITTED drops rows that changed under it). */
static int
prune_all(struct catalog *cat, const char *bytes, const char *del,
    const char *state, int64_t before_ms, int64_t *count, int64_t *nbytes)
{
	int64_t last = 0, n;
	int rc;

	do {
		if ((rc = prune_batch(cat, bytes, del, &before_ms, state, &last,
		    &n, nbytes)) != CATALOG_OK)
			return rc;
		*count += n;
	} while (n > 0);
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
	struct rows_stmt *s;
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	if (!all_terminal(states, nstates))
		return CATALOG_STATE;
	for (i = 0; i < nstates; i++) {
		if ((s = prep(cat, sql)) == NULL)
			return failed(cat);
		bind_i(cat, s, 1, before_ms);
		bind_t(cat, s, 2, states[i]);
		if ((rc = cat->m->step(s)) == ROWS_ROW) {
			res->jobs += cat->m->column_int64(s, 0);
			res->image_bytes += cat->m->column_int64(s, 1);
		}
		cat->m->reset(s);
		if (rc != ROWS_ROW)
			return failed(cat);
	}
	return CATALOG_OK;
}

int
catalog_prune(struct catalog *cat, const char *const *states, size_t nstates,
    int64_t before_ms, struct catalog_prune_result *res)
{
	struct rows_reclaim r;
	int64_t deleted = 0;
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	if (nstates == 0 || nstates > 3 || !all_terminal(states, nstates))
		return CATALOG_STATE;
	for (i = 0; i < nstates; i++)  /* one state at a time: index order */
		if ((rc = prune_all(cat, D(cat, catsql_prune_bytes), D(cat,
		    catsql_prune_jobs), states[i], before_ms, &res->jobs,
		    &deleted)) != CATALOG_OK)
			return rc;
	if ((rc = prune_all(cat, NULL, D(cat, catsql_prune_blobs), NULL, 0,
	    &res->blobs, &deleted)) != CATALOG_OK)
		return rc;
	if (cat->m->reclaim(cat->c, deleted, &r) == -1)
		return failed(cat);
	res->incremental = r.incremental;
	res->autovacuum = r.autovacuum;
	res->freed_bytes = r.freed_bytes;
	res->free_bytes = r.free_bytes;
	return CATALOG_OK;
}
