/* test_rules.c: the same cases on every backend named on the command line
 * (an SQLite file, a PostgreSQL URI), through the daemon's store queue: the
 * params limit counts bytes, an over-size input is refused in the same
 * words naming its file, an attempt's end moves its job by jobstate.h's
 * table. With two databases the answers must also be equal, word for word.
 * The unit run takes an SQLite file; it.t_pg_rules adds a PostgreSQL. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "backend.h"
#include "jobstate.h"
#include "storeq.h"
#include "testutil.h"
#include "util.h"

#define BIG_INPUT (STORE_INPUT_MAX + 1)

/* A second connection of the test's own, to set up rows and read them. */
struct db {
	const struct backend *be;
	sqlite3 *lite;
	PGconn *pg;
};

/* One statement per dialect: the rows the cases start from. */
struct fixture {
	const char *lite, *pg;
};

/* Runs sql; with out, the first column of the first row (caller frees;
 * NULL for SQL NULL). Returns 0 or -1. */
static int
db_query(struct db *d, const char *sql, char **out)
{
	sqlite3_stmt *s;
	PGresult *r;
	int rc = -1;

	if (out != NULL)
		*out = NULL;
	if (d->lite != NULL) {
		if (sqlite3_prepare_v2(d->lite, sql, -1, &s, NULL) != SQLITE_OK) {
			fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(d->lite));
			return -1;
		}
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW && out != NULL &&
		    sqlite3_column_type(s, 0) != SQLITE_NULL)
			*out = strdup((const char *)sqlite3_column_text(s, 0));
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
		sqlite3_finalize(s);
		return rc;
	}
	r = PQexec(d->pg, sql);
	if (PQresultStatus(r) == PGRES_TUPLES_OK ||
	    PQresultStatus(r) == PGRES_COMMAND_OK) {
		rc = 0;
		if (out != NULL && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
			*out = strdup(PQgetvalue(r, 0, 0));
	} else
		fprintf(stderr, "pg: %s\n", PQerrorMessage(d->pg));
	PQclear(r);
	return rc;
}

static int
db_fixture(struct db *d, const struct fixture *f)
{
	return db_query(d, d->lite != NULL ? f->lite : f->pg, NULL);
}

static char *
db_text(struct db *d, const char *fmt, long long id)
{
	char sql[256], *v;

	snprintf(sql, sizeof(sql), fmt, id);
	CHECK(db_query(d, sql, &v) == 0);
	return v;
}

/* ---- the queue, driven as the dispatcher drives it ---- */

struct wait {
	int done;
	struct sq_req *r;
};

static void
on_done(void *arg, struct sq_req *r)
{
	struct wait *w = arg;

	w->done = 1;
	w->r = r;
}

/* Submits r and runs the loop until it is back (10 s at most). */
static struct sq_req *
run(struct event_base *base, struct storeq *q, struct sq_req *r,
    struct wait *w)
{
	int64_t end = mono_ms() + 10000;

	w->done = 0;
	storeq_submit(q, r);
	while (!w->done && mono_ms() < end)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
		    usleep(1000);
	CHECK(w->done);
	return w->done ? w->r : NULL;
}

/* Claims the one job ready now. Returns it (caller owns) or NULL. */
static struct claimed_job *
claim(struct event_base *base, struct storeq *q)
{
	struct wait w;
	struct sq_req *r = sq_req_new(SQ_CLAIM, on_done, &w);
	struct claimed_job *job = NULL;

	r->u.claim.lease_ms = 60000;
	r->u.claim.want = 1;
	if ((r = run(base, q, r, &w)) == NULL)
		return NULL;
	CHECK_INT(r->rc, 1);
	if (r->rc == 1) {
		job = r->u.claim.jobs[0];
		r->u.claim.jobs[0] = NULL;
	}
	sq_req_free(r);
	return job;
}

/* ---- the cases: what one backend answered, to hold against the next ---- */

#define NCASES 7

struct answers {
	char *text[NCASES];
};

/* A prompt of n 'é' (two bytes each in UTF-8), as the JSON the store
 * keeps: spaced as PostgreSQL's jsonb prints it, so both count the same
 * bytes. */
static char *
prompt_sql(long long id, int n)
{
	char *sql, *p;
	size_t len = 2 * (size_t)n + 128;
	int i;

	sql = malloc(len);
	p = sql + snprintf(sql, len, "INSERT INTO jobs (id, params) VALUES "
	    "(%lld, '{\"prompt\": \"", id);
	for (i = 0; i < n; i++) {
		*p++ = (char)0xc3;
		*p++ = (char)0xa9;
	}
	strcpy(p, "\"}')");
	return sql;
}

/* The params limit: bytes, whatever the characters. 120,000 'é' are
 * 240,000 bytes, under the limit; 140,000 are 280,000 bytes, over it,
 * though 140,000 characters are under (SQLite counted those once). */
static void
case_params(struct db *d, struct event_base *base, struct storeq *q,
    struct answers *a)
{
	static const struct { long long id; int n, runs; } cases[] = {
		{ 1, 120000, 1 }, { 2, 140000, 0 },
	};
	struct claimed_job *job;
	char *sql;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sql = prompt_sql(cases[i].id, cases[i].n);
		CHECK(db_query(d, sql, NULL) == 0);
		free(sql);
		if ((job = claim(base, q)) == NULL)
			continue;
		CHECK_INT(job->id, cases[i].id);
		CHECK_INT(job->load_error == NULL, cases[i].runs);
		CHECK_INT(job->params != NULL, cases[i].runs);
		if (cases[i].runs && job->params != NULL)
			CHECK(strlen(job->params) > 240000);
		a->text[i] = strdup(job->load_error ? job->load_error : "runs");
		claimed_job_free(job);
	}
	CHECK_STR(a->text[1], "params: 280014 bytes, over the 262144-byte "
	    "limit");
}

/* An input over STORE_INPUT_MAX: refused from its size, unread, in words
 * that name the file. */
static void
case_input(struct db *d, struct event_base *base, struct storeq *q,
    struct answers *a)
{
	static const struct fixture rows[] = {
		{ "INSERT INTO jobs (id, params) VALUES (3, '{}')",
		  "INSERT INTO jobs (id, params) VALUES (3, '{}')" },
		{ "INSERT INTO inputs (job_id, role, ordinal, filename, data) "
		  "VALUES (3, 'image', 0, 'big.png', zeroblob(52428801))",
		  "INSERT INTO inputs (job_id, role, ordinal, filename, data) "
		  "VALUES (3, 'image', 0, 'big.png', "
		  "convert_to(repeat('x', 52428801), 'UTF8'))" },
	};
	struct claimed_job *job;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECK(db_fixture(d, &rows[i]) == 0);
	if ((job = claim(base, q)) == NULL)
		return;
	CHECK_INT(job->id, 3);
	CHECK_INT(job->ninputs, 0);
	a->text[2] = strdup(job->load_error ? job->load_error : "runs");
	CHECK_STR(a->text[2], "image 0 (big.png): 52428801 bytes, over the "
	    "50 MB limit");
	claimed_job_free(job);
}

/* Each row of the next-state table, written by the backend's finish. */
static void
case_next(struct db *d, struct event_base *base, struct storeq *q,
    struct answers *a)
{
	struct attempt_result res = {
		.outcome = "failed", .http_status = 500,
		.error_type = "server_error", .error_message = "boom",
	};
	struct claimed_job *job;
	struct sq_req *r;
	struct wait w;
	char sql[128], *state, *attempts, *type;
	int next;
	long long id;

	for (next = 0; next < NEXT_COUNT; next++) {
		id = 10 + next;
		snprintf(sql, sizeof(sql), "INSERT INTO jobs (id, params) "
		    "VALUES (%lld, '{}')", id);
		CHECK(db_query(d, sql, NULL) == 0);
		if ((job = claim(base, q)) == NULL)
			continue;
		CHECK_INT(job->id, id);
		r = sq_req_new(SQ_FINISH, on_done, &w);
		r->u.finish.job_id = job->id;
		r->u.finish.attempt_id = job->attempt_id;
		r->u.finish.res = res;
		r->u.finish.next = (enum job_next)next;
		r->u.finish.not_before = now_ms() + 3600000;
		claimed_job_free(job);
		if ((r = run(base, q, r, &w)) == NULL)
			continue;
		CHECK_INT(r->rc, STORE_OK);
		sq_req_free(r);
		state = db_text(d, "SELECT state FROM jobs WHERE id = %lld", id);
		attempts = db_text(d, "SELECT attempts FROM jobs WHERE id = "
		    "%lld", id);
		type = db_text(d, "SELECT error_type FROM jobs WHERE id = %lld",
		    id);
		CHECK_STR(state, job_state_name(job_next_state(next)));
		CHECK_STR(attempts, job_next_uncounts(next) ? "0" : "1");
		CHECK_INT(type != NULL, job_next_keeps_error(next));
		if (asprintf(&a->text[3 + next], "%s %s %s", state, attempts,
		    type ? type : "-") == -1)
			a->text[3 + next] = NULL;
		free(state);
		free(attempts);
		free(type);
	}
}

static int
open_db(struct db *d, const char *uri)
{
	memset(d, 0, sizeof(*d));
	d->be = backend_for(uri);
	if (d->be == &backend_postgres) {
		d->pg = PQconnectdb(uri);
		return PQstatus(d->pg) == CONNECTION_OK ? 0 : -1;
	}
	return sqlite3_open(uri, &d->lite) == SQLITE_OK ? 0 : -1;
}

static void
close_db(struct db *d)
{
	sqlite3_close(d->lite);
	if (d->pg != NULL)
		PQfinish(d->pg);
}

/* Runs every case on uri; its answers in a. */
static void
run_cases(const char *uri, struct answers *a)
{
	struct storeq_params p = { .uri = uri, .daemon_id = "rules",
	    .host = "test", .pid = 1 };
	struct event_base *base = event_base_new();
	struct storeq *q;
	struct db d;

	memset(a, 0, sizeof(*a));
	q = storeq_new(base, backend_for(uri), &p); /* creates, migrates */
	CHECK(q != NULL);
	if (q == NULL || open_db(&d, uri) == -1) {
		CHECK(!"cannot open the database");
		storeq_free(q);
		event_base_free(base);
		return;
	}
	case_params(&d, base, q, a);
	case_input(&d, base, q, a);
	case_next(&d, base, q, a);
	storeq_free(q);
	close_db(&d);
	event_base_free(base);
}

int
main(int argc, char **argv)
{
	struct answers first, next;
	char path[256];
	int i, k;

	if (argc < 2) {
		/* the unit run: an SQLite file of its own */
		snprintf(path, sizeof(path), "/tmp/imgedit-test-rules-%d.db",
		    (int)getpid());
		unlink(path);
		run_cases(path, &first);
		unlink(path);
	}
	for (i = 1; i < argc; i++) {
		run_cases(argv[i], i == 1 ? &first : &next);
		if (i == 1)
			continue;
		for (k = 0; k < NCASES; k++) {
			CHECK_STR(next.text[k], first.text[k]);
			free(next.text[k]);
		}
	}
	for (k = 0; k < NCASES; k++) {
		if (first.text[k] != NULL)
			printf("case %d: %s\n", k, first.text[k]);
		free(first.text[k]);
	}
	return tu_finish("test_rules");
}
