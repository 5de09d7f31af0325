/* copyplan.c: the tables imgeditctl copy moves, the SQL it runs on each
 * backend, batch sizes, and the checks of a row (see copyplan.h). Pure. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "copyplan.h"
#include "rows.h"
#include "util.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const struct ccol blobs_cols[] = {
	{ "id", CC_INT }, { "sha256", CC_TEXT }, { "size", CC_INT },
	{ "data", CC_BLOB },
};
static const struct ccol jobs_cols[] = {
	{ "id", CC_INT }, { "state", CC_TEXT }, { "params", CC_JSON },
	{ "stream", CC_INT }, { "priority", CC_INT }, { "not_before", CC_INT },
	{ "attempts", CC_INT }, { "max_attempts", CC_INT },
	{ "lease_owner", CC_TEXT }, { "lease_expires", CC_INT },
	{ "error_status", CC_INT }, { "error_type", CC_TEXT },
	{ "error_code", CC_TEXT }, { "error_message", CC_TEXT },
	{ "error_request_id", CC_TEXT }, { "input_tokens", CC_INT },
	{ "output_tokens", CC_INT }, { "total_tokens", CC_INT },
	{ "idempotency_key", CC_TEXT }, { "created_at", CC_INT },
	{ "updated_at", CC_INT }, { "finished_at", CC_INT },
	{ "estimate_lo_usd_micro", CC_INT }, { "estimate_hi_usd_micro", CC_INT },
};
static const struct ccol inputs_cols[] = {
	{ "job_id", CC_INT }, { "role", CC_TEXT }, { "ordinal", CC_INT },
	{ "filename", CC_TEXT }, { "content_type", CC_TEXT },
	{ "blob_id", CC_INT }, { "data", CC_BLOB },
};
static const struct ccol attempts_cols[] = {
	{ "id", CC_INT }, { "job_id", CC_INT }, { "number", CC_INT },
	{ "daemon_id", CC_TEXT }, { "started_at", CC_INT },
	{ "ended_at", CC_INT }, { "http_status", CC_INT },
	{ "request_id", CC_TEXT }, { "outcome", CC_TEXT },
	{ "error_type", CC_TEXT }, { "error_code", CC_TEXT },
	{ "error_message", CC_TEXT }, { "input_tokens", CC_INT },
	{ "output_tokens", CC_INT }, { "total_tokens", CC_INT },
	{ "usage", CC_JSON }, { "model", CC_TEXT },
	{ "cost_usd_micro", CC_INT }, { "cost_status", CC_TEXT },
	{ "reserve_usd_micro", CC_INT }, { "reserve_tokens", CC_INT },
};
static const struct ccol images_cols[] = {
	{ "id", CC_INT }, { "job_id", CC_INT }, { "attempt_id", CC_INT },
	{ "kind", CC_TEXT }, { "idx", CC_INT }, { "partial_index", CC_INT },
	{ "format", CC_TEXT }, { "width", CC_INT }, { "height", CC_INT },
	{ "size", CC_INT }, { "sha256", CC_TEXT }, { "quality", CC_TEXT },
	{ "background", CC_TEXT }, { "reported_size", CC_TEXT },
	{ "created_at", CC_INT }, { "data", CC_BLOB },
};
static const struct ccol events_cols[] = {
	{ "id", CC_INT }, { "job_id", CC_INT }, { "at", CC_INT },
	{ "from_state", CC_TEXT }, { "to_state", CC_TEXT },
	{ "detail", CC_TEXT },
};
static const struct ccol control_cols[] = {
	{ "key", CC_TEXT }, { "value", CC_TEXT },
};

const struct ctable copy_tables[] = {
	{ "blobs", blobs_cols, N(blobs_cols), 1, 3, 1, 2, 1, 0 },
	{ "jobs", jobs_cols, N(jobs_cols), 1, -1, -1, -1, 1, 0 },
	{ "inputs", inputs_cols, N(inputs_cols), 3, 6, -1, -1, 0, 0 },
	{ "attempts", attempts_cols, N(attempts_cols), 1, -1, -1, -1, 1, 0 },
	{ "images", images_cols, N(images_cols), 1, 15, 10, 9, 1, 0 },
	{ "events", events_cols, N(events_cols), 1, -1, -1, -1, 1, 0 },
	{ "control", control_cols, N(control_cols), 1, -1, -1, -1, 0, 1 },
};
const size_t copy_ntables = sizeof(copy_tables) / sizeof(copy_tables[0]);

const struct ctable *
copyplan_table(const char *name)
{
	size_t i;

	for (i = 0; i < copy_ntables; i++)
		if (strcmp(copy_tables[i].name, name) == 0)
			return &copy_tables[i];
	return NULL;
}

int
copyplan_width(const struct ctable *t, enum cq_what what)
{
	switch (what) {
	case CQ_ROWS:
		return t->ncols;
	case CQ_SIZES:
		return t->nkey + 1;
	case CQ_COUNT:
		return 1;
	case CQ_LAST:
		return t->nkey;
	}
	return 0;
}

enum ccol_type
copyplan_type(const struct ctable *t, enum cq_what what, int i)
{
	if (what == CQ_COUNT || (what == CQ_SIZES && i == t->nkey))
		return CC_INT;
	return t->cols[i].type;
}

int
copyplan_nparams(const struct ctable *t, enum cq_where where)
{
	switch (where) {
	case CW_ALL:
		return 0;
	case CW_RANGE:
		return 2 * t->nkey;
	default:
		return t->nkey;
	}
}

/* ---- building SQL ---- */

struct sqlbuf {
	char *p;
	size_t len, used;
	int over;
	enum rows_sql sql;      /* the dialect */
	const char *bytewise;   /* the dialect's bytewise order for text */
};

/* A column's size in bytes (%s: its name), by dialect: text as its bytes
 * (SQLite's length() of text counts characters), jsonb as its text, every
 * one a bigint on PostgreSQL so that a row's sum cannot overflow. */
static const char *const size_text[ROWS_SQL_COUNT] = {
	"coalesce(length(CAST(%s AS BLOB)), 0)",
	"coalesce(CAST(octet_length(%s::text) AS bigint), 0)",
};
static const char *const size_blob[ROWS_SQL_COUNT] = {
	"coalesce(length(%s), 0)",
	"coalesce(CAST(octet_length(%s) AS bigint), 0)",
};

static void
add(struct sqlbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add(struct sqlbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->used, b->len - b->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->len - b->used)
		b->over = 1;
	else
		b->used += (size_t)n;
}

static void
placeholder(struct sqlbuf *b)
{
	add(b, "?");
}

/* The key as an expression list; text keys bytewise. */
static void
key_list(struct sqlbuf *b, const struct ctable *t, const char *order)
{
	int i;

	for (i = 0; i < t->nkey; i++)
		add(b, "%s%s%s%s", i ? ", " : "", t->cols[i].name,
		    t->text_key ? b->bytewise : "", order);
}

/* "(k1, k2) OP (?, ?)" */
static void
key_cmp(struct sqlbuf *b, const struct ctable *t, const char *op)
{
	int i;

	add(b, "(");
	key_list(b, t, "");
	add(b, ") %s (", op);
	for (i = 0; i < t->nkey; i++) {
		add(b, "%s", i ? ", " : "");
		placeholder(b);
	}
	add(b, ")");
}

/* ", size" where size is the bytes of every column that is not an
 * integer: what the row weighs read into memory. */
static void
row_size(struct sqlbuf *b, const struct ctable *t)
{
	int i, first = 1;

	add(b, ", ");
	for (i = 0; i < t->ncols; i++) {
		if (t->cols[i].type == CC_INT)
			continue;
		add(b, "%s", first ? "" : " + ");
		add(b, t->cols[i].type == CC_BLOB ? size_blob[b->sql] :
		    size_text[b->sql], t->cols[i].name);
		first = 0;
	}
	if (first)
		add(b, "0");
}

static void
select_list(struct sqlbuf *b, const struct ctable *t, enum cq_what what)
{
	int i, n = what == CQ_ROWS ? t->ncols : t->nkey;

	if (what == CQ_COUNT) {
		add(b, "count(*)");
		return;
	}
	for (i = 0; i < n; i++) {
		add(b, "%s", i ? ", " : "");
		add(b, "%s", t->cols[i].name);
	}
	if (what == CQ_SIZES)
		row_size(b, t);
}

static void
where_clause(struct sqlbuf *b, const struct ctable *t, enum cq_where where)
{
	switch (where) {
	case CW_ALL:
		return;
	case CW_AFTER:
		add(b, " WHERE ");
		key_cmp(b, t, ">");
		return;
	case CW_UPTO:
		add(b, " WHERE ");
		key_cmp(b, t, "<=");
		return;
	case CW_RANGE:
		add(b, " WHERE ");
		key_cmp(b, t, ">");
		add(b, " AND ");
		key_cmp(b, t, "<=");
		return;
	case CW_AT:
		add(b, " WHERE ");
		key_cmp(b, t, "=");
		return;
	}
}

int
copyplan_select(char *buf, size_t len, const struct ctable *t,
    enum cq_what what, enum cq_where where, int limit, enum rows_sql sql,
    const char *bytewise)
{
	struct sqlbuf b = { buf, len, 0, 0, sql, bytewise };

	if ((unsigned)sql >= ROWS_SQL_COUNT)
		return -1;
	add(&b, "SELECT ");
	select_list(&b, t, what);
	add(&b, " FROM %s", t->name);
	where_clause(&b, t, where);
	if (what != CQ_COUNT) {
		add(&b, " ORDER BY ");
		key_list(&b, t, what == CQ_LAST ? " DESC" : "");
	}
	if ((limit && what != CQ_COUNT) || what == CQ_LAST) {
		add(&b, " LIMIT ");
		if (what == CQ_LAST)
			add(&b, "1");
		else
			placeholder(&b);
	}
	return b.over ? -1 : 0;
}

int
copyplan_insert(char *buf, size_t len, const struct ctable *t)
{
	struct sqlbuf b = { buf, len, 0, 0, ROWS_SQL_SQLITE, "" };
	int i;

	add(&b, "INSERT INTO %s (", t->name);
	for (i = 0; i < t->ncols; i++)
		add(&b, "%s%s", i ? ", " : "", t->cols[i].name);
	add(&b, ") VALUES (");
	for (i = 0; i < t->ncols; i++) {
		add(&b, "%s", i ? ", " : "");
		placeholder(&b);
	}
	add(&b, ")");
	return b.over ? -1 : 0;
}

/* ---- batches and rows ---- */

size_t
copyplan_batch(const int64_t *sizes, size_t n, size_t max_rows,
    int64_t max_bytes)
{
	int64_t bytes = 0;
	size_t i;

	if (n > max_rows)
		n = max_rows;
	for (i = 0; i < n; i++) {
		if (i > 0 && bytes + (sizes[i] > 0 ? sizes[i] : 0) > max_bytes)
			break;
		bytes += sizes[i] > 0 ? sizes[i] : 0;
	}
	return i;
}

int
copyplan_verify(const struct ctable *t, const struct cval *row, char *why,
    size_t whylen)
{
	char hex[SHA256_HEX_LEN + 1];
	const struct cval *data;

	if (t->bytes < 0 || row[t->bytes].null)
		return 0;
	data = &row[t->bytes];
	if (t->sha >= 0) {
		sha256_hex(data->p, data->len, hex);
		if (row[t->sha].null || strcmp((char *)row[t->sha].p, hex) != 0)
			return errorf(why, whylen, "the sha256 of its %zu bytes "
			    "is %s, the row says %.64s", data->len, hex,
			    row[t->sha].null ? "NULL" : (char *)row[t->sha].p);
	}
	if (t->size >= 0 && (row[t->size].null ||
	    row[t->size].i != (int64_t)data->len))
		return errorf(why, whylen, "it holds %zu bytes, its size "
		    "column says %lld", data->len, row[t->size].null ? -1LL :
		    (long long)row[t->size].i);
	return 0;
}

/* Whether two JSON texts hold the same value (texts that are not JSON:
 * whether they are the same bytes). */
static int
json_same(const struct cval *a, const struct cval *b)
{
	json_t *ja = json_loadb((char *)a->p, a->len, JSON_DECODE_ANY, NULL);
	json_t *jb = json_loadb((char *)b->p, b->len, JSON_DECODE_ANY, NULL);
	int same;

	if (ja != NULL && jb != NULL)
		same = json_equal(ja, jb);
	else
		same = a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
	json_decref(ja);
	json_decref(jb);
	return same;
}

static int
same_value(enum ccol_type type, const struct cval *a, const struct cval *b)
{
	if (a->null || b->null)
		return a->null == b->null;
	if (type == CC_INT)
		return a->i == b->i;
	if (type == CC_JSON)
		return json_same(a, b);
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p,
	    a->len) == 0);
}

int
copyplan_diff(const struct ctable *t, const struct cval *a,
    const struct cval *b)
{
	int i;

	for (i = 0; i < t->ncols; i++)
		if (!same_value(t->cols[i].type, &a[i], &b[i]))
			return i;
	return -1;
}

const char *
copyplan_keydesc(const struct ctable *t, const struct cval *row, char *buf,
    size_t len)
{
	size_t used = 0;
	int i, n;

	buf[0] = '\0';
	for (i = 0; i < t->nkey && used < len; i++) {
		if (row[i].null)
			n = snprintf(buf + used, len - used, "%s%s NULL",
			    i ? ", " : "", t->cols[i].name);
		else if (t->cols[i].type == CC_INT)
			n = snprintf(buf + used, len - used, "%s%s %lld",
			    i ? ", " : "", t->cols[i].name,
			    (long long)row[i].i);
		else
			n = snprintf(buf + used, len - used, "%s%s '%.64s'",
			    i ? ", " : "", t->cols[i].name, (char *)row[i].p);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

int
copyplan_parse_stop(const char *s, size_t *table, long *nth)
{
	const char *colon = strchr(s, ':');
	char name[32], *end;
	size_t i;
	long n;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(name))
		return -1;
	memcpy(name, s, (size_t)(colon - s));
	name[colon - s] = '\0';
	n = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end != '\0' || n < 1)
		return -1;
	for (i = 0; i < copy_ntables; i++)
		if (strcmp(copy_tables[i].name, name) == 0) {
			*table = i;
			*nth = n;
			return 0;
		}
	return -1;
}
