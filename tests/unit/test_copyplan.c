/* test_copyplan.c: imgeditctl copy's pure parts: batches bounded by rows
 * and bytes, the SQL for both backends (the SQLite one prepared against the
 * real schema, whose columns must all be copied), row checks and diffs. */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "copyplan.h"
#include "store.h"
#include "testutil.h"
#include "util.h"

static void
test_batch(void)
{
	int64_t mb[] = { 1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20 };
	int64_t big[] = { 100 << 20, 1, 1 };
	int64_t none[] = { 0, 0, 0, 0, 0, 0 };

	CHECK_INT(copyplan_batch(mb, 5, 200, 3 << 20), 3);
	CHECK_INT(copyplan_batch(mb, 5, 2, 64 << 20), 2);
	CHECK_INT(copyplan_batch(mb, 5, 200, 64 << 20), 5);
	/* one row over the budget still goes, alone */
	CHECK_INT(copyplan_batch(big, 3, 200, 3 << 20), 1);
	CHECK_INT(copyplan_batch(mb, 0, 200, 3 << 20), 0);
	CHECK_INT(copyplan_batch(none, 6, 4, 1), 4);
	CHECK_INT(copyplan_batch(mb, 5, 1, 1), 1);
}

static void
test_sql(void)
{
	const struct ctable *inputs = copyplan_table("inputs");
	const struct ctable *control = copyplan_table("control");
	const struct ctable *images = copyplan_table("images");
	char sql[2048];

	CHECK(copyplan_table("daemons") == NULL);
	CHECK_INT(copyplan_select(sql, sizeof(sql), inputs, CQ_LAST, CW_ALL,
	    0, ROWS_SQL_SQLITE, ""), 0);
	CHECK_STR(sql, "SELECT job_id, role, ordinal FROM inputs ORDER BY "
	    "job_id DESC, role DESC, ordinal DESC LIMIT 1");
	CHECK_INT(copyplan_select(sql, sizeof(sql), inputs, CQ_SIZES,
	    CW_RANGE, 1, ROWS_SQL_PG, " COLLATE \"C\""), 0);
	CHECK_STR(sql, "SELECT job_id, role, ordinal, "
	    "coalesce(CAST(octet_length(role::text) AS bigint), 0) + "
	    "coalesce(CAST(octet_length(filename::text) AS bigint), 0) + "
	    "coalesce(CAST(octet_length(content_type::text) AS bigint), 0) + "
	    "coalesce(CAST(octet_length(data) AS bigint), 0) FROM inputs WHERE "
	    "(job_id, role, ordinal) > (?, ?, ?) AND (job_id, role, ordinal) "
	    "<= (?, ?, ?) ORDER BY job_id, role, ordinal LIMIT ?");
	CHECK_INT(copyplan_nparams(inputs, CW_RANGE), 6);
	CHECK_INT(copyplan_select(sql, sizeof(sql), control, CQ_COUNT,
	    CW_UPTO, 0, ROWS_SQL_PG, " COLLATE \"C\""), 0);
	CHECK_STR(sql, "SELECT count(*) FROM control WHERE (key "
	    "COLLATE \"C\") <= (?)");
	CHECK_INT(copyplan_select(sql, sizeof(sql), control, CQ_ROWS,
	    CW_AFTER, 1, ROWS_SQL_SQLITE, ""), 0);
	CHECK_STR(sql, "SELECT key, value FROM control WHERE (key) > (?) "
	    "ORDER BY key LIMIT ?");
	CHECK_INT(copyplan_insert(sql, sizeof(sql), control), 0);
	CHECK_STR(sql, "INSERT INTO control (key, value) VALUES (?, ?)");
	/* too small a buffer is an error, not a cut statement */
	CHECK_INT(copyplan_select(sql, 40, images, CQ_ROWS, CW_ALL, 0,
	    ROWS_SQL_SQLITE, ""), -1);
	/* every table's batch is sized, text and JSON included (jobs' params
	 * has no limit of its own): in bytes on SQLite, where length() of
	 * text counts characters */
	CHECK_INT(copyplan_select(sql, sizeof(sql), copyplan_table("events"),
	    CQ_SIZES, CW_AFTER, 1, ROWS_SQL_SQLITE, ""), 0);
	CHECK_STR(sql, "SELECT id, coalesce(length(CAST(from_state AS BLOB)), "
	    "0) + coalesce(length(CAST(to_state AS BLOB)), 0) + "
	    "coalesce(length(CAST(detail AS BLOB)), 0) FROM events WHERE "
	    "(id) > (?) ORDER BY id LIMIT ?");
	CHECK_INT(copyplan_select(sql, sizeof(sql), copyplan_table("jobs"),
	    CQ_SIZES, CW_ALL, 1, ROWS_SQL_PG, ""), 0);
	CHECK(strstr(sql, "coalesce(CAST(octet_length(params::text) AS "
	    "bigint), 0)") != NULL);
	CHECK(strstr(sql, "error_message") != NULL);
	CHECK_INT(copyplan_select(sql, sizeof(sql), copyplan_table("jobs"),
	    CQ_SIZES, CW_ALL, 1, ROWS_SQL_COUNT, ""), -1);
	CHECK_INT(copyplan_width(inputs, CQ_SIZES), 4);
	CHECK_INT(copyplan_type(inputs, CQ_SIZES, 3), CC_INT);
	CHECK_INT(copyplan_type(inputs, CQ_SIZES, 1), CC_TEXT);
}

/* Every statement prepares on the real SQLite schema, and each table's
 * columns are exactly the schema's: a column added by a migration and
 * not copied fails here. */
static void
test_schema(void)
{
	static const enum cq_what whats[] = { CQ_ROWS, CQ_SIZES, CQ_COUNT,
	    CQ_LAST };
	char err[256], sql[2048], cols[1024];
	struct store *st = store_open(":memory:", STORE_CREATE, 1000, err,
	    sizeof(err));
	sqlite3_stmt *s;
	size_t i, w, where;
	int c;

	CHECK(st != NULL && store_migrate(st, err, sizeof(err)) == STORE_OK);
	if (st == NULL)
		return;
	for (i = 0; i < copy_ntables; i++) {
		const struct ctable *t = &copy_tables[i];

		for (w = 0; w < 4; w++)
			for (where = CW_ALL; where <= CW_AT; where++) {
				if (copyplan_select(sql, sizeof(sql), t,
				    whats[w], (enum cq_where)where, 1,
				    ROWS_SQL_SQLITE, "") == -1)
					continue;
				s = NULL;
				CHECK_INT(sqlite3_prepare_v2(store_db(st), sql,
				    -1, &s, NULL), SQLITE_OK);
				CHECK_INT(sqlite3_bind_parameter_count(s),
				    copyplan_nparams(t, (enum cq_where)where) +
				    (whats[w] == CQ_ROWS || whats[w] == CQ_SIZES));
				sqlite3_finalize(s);
			}
		CHECK_INT(copyplan_insert(sql, sizeof(sql), t), 0);
		CHECK_INT(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL),
		    SQLITE_OK);
		sqlite3_finalize(s);
		snprintf(sql, sizeof(sql), "SELECT group_concat(name, ',') FROM "
		    "(SELECT name FROM pragma_table_info('%s') ORDER BY name)",
		    t->name);
		CHECK_INT(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL),
		    SQLITE_OK);
		CHECK_INT(sqlite3_step(s), SQLITE_ROW);
		strlcpy_safe(cols, (const char *)sqlite3_column_text(s, 0),
		    sizeof(cols));
		sqlite3_finalize(s);
		for (c = 0; c < t->ncols; c++) {
			char *at = strstr(cols, t->cols[c].name);
			size_t n = strlen(t->cols[c].name);

			/* crossed out, so what is left names the forgotten */
			while (at != NULL && !((at == cols || at[-1] == ',') &&
			    (at[n] == ',' || at[n] == '\0')))
				at = strstr(at + 1, t->cols[c].name);
			CHECK(at != NULL);
			if (at != NULL)
				memset(at, '-', n);
		}
		CHECK_INT(strspn(cols, "-,"), strlen(cols));
		if (strspn(cols, "-,") != strlen(cols))
			fprintf(stderr, "%s: not copied: %s\n", t->name, cols);
	}
	store_close(st);
}

static struct cval
text(const char *s)
{
	struct cval v = { 0, 0, (unsigned char *)s, strlen(s) };

	return v;
}

static struct cval
num(int64_t i)
{
	struct cval v = { 0, i, NULL, 0 };

	return v;
}

static void
test_rows(void)
{
	const struct ctable *blobs = copyplan_table("blobs");
	const struct ctable *jobs = copyplan_table("jobs");
	const struct ctable *inputs = copyplan_table("inputs");
	char hex[SHA256_HEX_LEN + 1], why[256], key[128];
	struct cval row[4], other[4], a[24], b[24];
	int i;

	sha256_hex("bytes", 5, hex);
	row[0] = num(7);
	row[1] = text(hex);
	row[2] = num(5);
	row[3] = text("bytes");
	CHECK_INT(copyplan_verify(blobs, row, why, sizeof(why)), 0);
	row[3] = text("bytez");
	CHECK_INT(copyplan_verify(blobs, row, why, sizeof(why)), -1);
	CHECK(strstr(why, "sha256") != NULL && strstr(why, hex) != NULL);
	row[3] = text("bytes");
	row[2] = num(6);
	CHECK_INT(copyplan_verify(blobs, row, why, sizeof(why)), -1);
	CHECK(strstr(why, "size") != NULL);
	row[2] = num(5);
	row[1].null = 1;
	CHECK_INT(copyplan_verify(blobs, row, why, sizeof(why)), -1);

	/* an input with a blob instead of bytes, or bytes and no hash */
	memset(a, 0, sizeof(a));
	a[0] = num(1), a[1] = text("image"), a[2] = num(0);
	a[6].null = 1;
	CHECK_INT(copyplan_verify(inputs, a, why, sizeof(why)), 0);
	a[6] = text("inline bytes");
	CHECK_INT(copyplan_verify(inputs, a, why, sizeof(why)), 0);
	CHECK_STR(copyplan_keydesc(inputs, a, key, sizeof(key)),
	    "job_id 1, role 'image', ordinal 0");

	memcpy(other, row, sizeof(row));
	CHECK_INT(copyplan_diff(blobs, row, other), -1);
	other[2] = num(4);
	CHECK_INT(copyplan_diff(blobs, row, other), 2);

	/* JSON compares as JSON: jsonb's spacing and key order are the same */
	for (i = 0; i < 24; i++)
		a[i] = b[i] = num(i);
	a[1] = b[1] = text("queued");
	a[2] = text("{\"prompt\":\"x\",\"n\":1}");
	b[2] = text("{\"n\": 1, \"prompt\": \"x\"}");
	CHECK_INT(copyplan_diff(jobs, a, b), -1);
	b[2] = text("{\"n\": 2, \"prompt\": \"x\"}");
	CHECK_INT(copyplan_diff(jobs, a, b), 2);
	b[2] = a[2];
	b[8].null = 1;
	CHECK_INT(copyplan_diff(jobs, a, b), 8);
	CHECK_STR(copyplan_keydesc(jobs, a, key, sizeof(key)), "id 0");
}

static void
test_stop(void)
{
	size_t t = 99;
	long n = 0;

	CHECK_INT(copyplan_parse_stop("images:5", &t, &n), 0);
	CHECK_STR(copy_tables[t].name, "images");
	CHECK_INT(n, 5);
	CHECK_INT(copyplan_parse_stop("images:0", &t, &n), -1);
	CHECK_INT(copyplan_parse_stop("images:", &t, &n), -1);
	CHECK_INT(copyplan_parse_stop("daemons:1", &t, &n), -1);
	CHECK_INT(copyplan_parse_stop("images", &t, &n), -1);
	CHECK_INT(copyplan_parse_stop("images:5x", &t, &n), -1);
}

int
main(void)
{
	test_batch();
	test_sql();
	test_schema();
	test_rows();
	test_stop();
	return tu_finish("test_copyplan");
}
