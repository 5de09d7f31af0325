/* test_pgreq.c: daemon/pg/pgstore.c's writes of a run, lease rounds, beats,
 * counts, polls and NOTIFY against a real PostgreSQL (argv[1]: its URI,
 * migrated by t_pg_req.sh), each step also run on the SQLite store
 * (argv[2]: a new file) and the rows of both compared column by column. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pgschema.h"
#include "pgstore.h"
#include "store.h"
#include "util.h"
#include "testutil.h"
#include "testloop.h"

#define IMG_SIZE (1536 * 1024)   /* 1.5 MB, as a large PNG */

/* The two backends side by side: two daemons on PostgreSQL (a connection
 * each), one SQLite store standing for both. */
struct both {
	struct event_base *base;
	struct pgconn *c[2];
	const char *id[2];
	struct store *st;
	PGconn *db;
	const char *uri;
	int changed;                /* NOTIFYs heard */
};

/* What a callback saw. */
struct got {
	int done, rc, written, renewed, requeued, ok;
	int64_t ids[8], counts[PGSTORE_STATES_MAX];
	struct claimed_job *job;
	struct pgstore_poll poll;
	char err[256];
};

/* Runs the loop until *flag >= want or 10 s. Returns 0 or -1. */
static int
wait_for(struct both *b, const int *flag, int want)
{
	if (tu_run_until(b->base, flag, want, 10000) == 0)
		return 0;
	fprintf(stderr, "no answer in 10 s\n");
	return -1;
}

static void
note_err(struct got *g, const struct pgconn_reply *reply)
{
	g->ok = reply->ok;
	if (!reply->ok)
		snprintf(g->err, sizeof(g->err), "%s %s", reply->sqlstate,
		    reply->error ? reply->error : "");
}

static void
on_write(void *arg, int rc, int written, const struct pgconn_reply *reply)
{
	struct got *g = arg;

	g->rc = rc;
	g->written = written;
	note_err(g, reply);
	g->done++;
}

static void
on_claim(void *arg, int n, struct claimed_job **jobs,
    const struct pgconn_reply *reply)
{
	struct got *g = arg;

	g->rc = n;
	if (n == 1) {
		g->job = jobs[0];
		jobs[0] = NULL;
	}
	note_err(g, reply);
	g->done++;
}

static void
on_leases(void *arg, int renewed, int requeued, const int64_t *ids,
    const struct pgconn_reply *reply)
{
	struct got *g = arg;
	int i;

	g->renewed = renewed;
	g->requeued = requeued;
	for (i = 0; i < requeued && i < 8; i++)
		g->ids[i] = ids[i];
	note_err(g, reply);
	g->done++;
}

static void
on_counts(void *arg, const int64_t *counts, const struct pgconn_reply *reply)
{
	struct got *g = arg;

	if (counts != NULL)
		memcpy(g->counts, counts, sizeof(g->counts));
	note_err(g, reply);
	g->done++;
}

static void
on_poll(void *arg, struct pgstore_poll *p, const struct pgconn_reply *reply)
{
	struct got *g = arg;

	if (p != NULL) {
		g->poll = *p;           /* take the lot */
		memset(p, 0, sizeof(*p));
	}
	note_err(g, reply);
	g->done++;
}

static void
on_changed(void *arg)
{
	((struct both *)arg)->changed++;
}

static void
on_state(void *arg, int up, const char *err)
{
	(void)arg;
	if (!up)
		fprintf(stderr, "connection down: %s\n", err);
}

/* A row set as text, "a|b|NULL\n" per row, from either backend (caller
 * frees). */
static char *
dump_pg(PGconn *db, const char *sql)
{
	PGresult *r = PQexec(db, sql);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int row, col;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fprintf(f, "error: %s", PQresultErrorMessage(r));
	for (row = 0; row < PQntuples(r); row++)
		for (col = 0; col < PQnfields(r); col++)
			fprintf(f, "%s%c", PQgetisnull(r, row, col) ? "NULL" :
			    PQgetvalue(r, row, col),
			    col + 1 == PQnfields(r) ? '\n' : '|');
	PQclear(r);
	fclose(f);
	return out;
}

static char *
dump_sqlite(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int col, n;

	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(f, "error: %s", sqlite3_errmsg(store_db(st)));
		fclose(f);
		return out;
	}
	n = sqlite3_column_count(s);
	while (sqlite3_step(s) == SQLITE_ROW)
		for (col = 0; col < n; col++)
			fprintf(f, "%s%c", sqlite3_column_type(s, col) ==
			    SQLITE_NULL ? "NULL" : (const char *)
			    sqlite3_column_text(s, col), col + 1 == n ? '\n' : '|');
	sqlite3_finalize(s);
	fclose(f);
	return out;
}

/* The same query on both backends gives the same text. */
static void
same_rows(struct both *b, const char *what, const char *sql)
{
	char *pg = dump_pg(b->db, sql), *sq = dump_sqlite(b->st, sql);

	size_t rows = 0;
	const char *p;

	for (p = pg; *p != '\0'; p++)
		rows += *p == '\n';
	CHECK(rows > 0 && strncmp(pg, "error", 5) != 0);
	if (getenv("TEST_PGREQ_SHOW") != NULL)
		printf("-- %s\n%s", what, pg);
	else
		printf("%s: %zu rows on both\n", what, rows);
	tu_checked++;
	if (strcmp(pg, sq) != 0) {
		tu_failed++;
		fprintf(stderr, "%s differ:\n-- PostgreSQL\n%s-- SQLite\n%s",
		    what, pg, sq);
	}
	free(pg);
	free(sq);
}

static char *
one(struct both *b, const char *sql)
{
	static char buf[512];
	char *s = dump_pg(b->db, sql);
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '\n')
		s[n - 1] = '\0';
	snprintf(buf, sizeof(buf), "%s", s);
	free(s);
	return buf;
}

/* SQL on both backends (test setup, or another program's write). */
static void
exec_both(struct both *b, const char *sql)
{
	PGresult *r = PQexec(b->db, sql);
	char *err = NULL;

	CHECK_INT(PQresultStatus(r), PGRES_COMMAND_OK);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	CHECK_INT(sqlite3_exec(store_db(b->st), sql, NULL, NULL, &err),
	    SQLITE_OK);
	if (err != NULL)
		fprintf(stderr, "%s: %s\n", sql, err);
	sqlite3_free(err);
}

/* ---- each step on both backends, answers compared ---- */

static struct claimed_job *
claim(struct both *b, int who, int64_t now, int64_t lease_ms)
{
	struct got g = { 0 };
	struct claimed_job *sq = NULL;
	int n;

	CHECK_INT(pgstore_claim(b->c[who], b->id[who], now, lease_ms, 1,
	    on_claim, &g), 0);
	CHECK_INT(wait_for(b, &g.done, 1), 0);
	n = store_claim(b->st, b->id[who], now, lease_ms, &sq);
	CHECK_INT(g.rc, 1);
	CHECK_INT(n, 1);
	if (g.job == NULL || sq == NULL) {
		claimed_job_free(sq);
		return g.job;
	}
	CHECK_INT(g.job->id, sq->id);
	CHECK_INT(g.job->attempt_id, sq->attempt_id);
	claimed_job_free(sq);
	return g.job;
}

static void
answered(struct both *b, int who, int64_t attempt_id, int status,
    const char *request_id, int want_rc)
{
	struct got g = { 0 };

	CHECK_INT(pgstore_answered(b->c[who], b->id[who], attempt_id, status,
	    request_id, on_write, &g), 0);
	CHECK_INT(wait_for(b, &g.done, 1), 0);
	CHECK_INT(g.rc, want_rc);
	CHECK_INT(store_attempt_answered(b->st, attempt_id, status,
	    request_id), STORE_OK);
}

/* Commits img on both; returns PostgreSQL's round trip in ms. */
static double
image(struct both *b, int who, const struct store_image *img, int want_rc,
    int want_written)
{
	struct got g = { 0 };
	double t0 = tu_now_ms(), ms;

	CHECK_INT(pgstore_commit_image(b->c[who], b->id[who], img, on_write,
	    &g), 0);
	CHECK_INT(wait_for(b, &g.done, 1), 0);
	ms = tu_now_ms() - t0;
	if (!g.ok)
		fprintf(stderr, "image: %s\n", g.err);
	CHECK_INT(g.rc, want_rc);
	CHECK_INT(g.written, want_written);
	CHECK_INT(store_commit_image(b->st, b->id[who], img), want_rc);
	CHECK_INT(store_last_written(b->st), want_written);
	return ms;
}

static double
finish(struct both *b, int who, const struct claimed_job *j,
    const struct attempt_result *res, enum job_next next, int64_t not_before,
    int want_rc, int want_written)
{
	struct got g = { 0 };
	double t0 = tu_now_ms(), ms;

	CHECK_INT(pgstore_finish(b->c[who], b->id[who], j->id, j->attempt_id,
	    res, next, not_before, on_write, &g), 0);
	CHECK_INT(wait_for(b, &g.done, 1), 0);
	ms = tu_now_ms() - t0;
	if (!g.ok)
		fprintf(stderr, "finish: %s\n", g.err);
	CHECK_INT(g.rc, want_rc);
	CHECK_INT(g.written, want_written);
	CHECK_INT(store_finish_attempt(b->st, b->id[who], j->id, j->attempt_id,
	    res, next, not_before), want_rc);
	CHECK_INT(store_last_written(b->st), want_written);
	return ms;
}

/* A lease round on both; returns how many PostgreSQL requeued. */
static int
leases(struct both *b, int who, int64_t now, const struct store_run_ref *runs,
    size_t nruns, int want_renewed, struct got *g)
{
	int requeued = -1;

	memset(g, 0, sizeof(*g));
	CHECK_INT(pgstore_lease_round(b->c[who], b->id[who], now, 60000, runs,
	    nruns, on_leases, g), 0);
	CHECK_INT(wait_for(b, &g->done, 1), 0);
	if (!g->ok)
		fprintf(stderr, "leases: %s\n", g->err);
	CHECK_INT(g->renewed, want_renewed);
	CHECK_INT(store_lease_round(b->st, b->id[who], now, 60000, runs, nruns,
	    &requeued), STORE_OK);
	CHECK_INT(g->requeued, requeued);
	return g->requeued;
}

/* ---- the sequences ---- */

static void
fill(unsigned char *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
}

/* Every image of the job read back in binary: the bytes sent, and the
 * stored sha256 is theirs. */
static void
check_images(struct both *b, int64_t job_id, unsigned char *const *sent,
    int n)
{
	char sql[160], hex[SHA256_HEX_LEN + 1];
	PGresult *r;
	int i;

	snprintf(sql, sizeof(sql), "SELECT data, sha256, size FROM images "
	    "WHERE job_id = %lld ORDER BY id", (long long)job_id);
	r = PQexecParams(b->db, sql, 0, NULL, NULL, NULL, NULL, 1);
	CHECK_INT(PQresultStatus(r), PGRES_TUPLES_OK);
	CHECK_INT(PQntuples(r), n);
	for (i = 0; i < PQntuples(r) && i < n; i++) {
		CHECK_INT(PQgetlength(r, i, 0), IMG_SIZE);
		if (PQgetlength(r, i, 0) != IMG_SIZE)
			continue;
		CHECK_MEM(PQgetvalue(r, i, 0), sent[i], IMG_SIZE);
		sha256_hex(PQgetvalue(r, i, 0), IMG_SIZE, hex);
		CHECK_INT(PQgetlength(r, i, 1), SHA256_HEX_LEN);
		CHECK_MEM(PQgetvalue(r, i, 1), hex, SHA256_HEX_LEN);
	}
	PQclear(r);
}

/* Job 1: claimed, answered, 3 partials and a final, succeeded. */
static void
happy_path(struct both *b)
{
	static unsigned char *bytes[4];
	char hex[4][SHA256_HEX_LEN + 1];
	struct claimed_job *j;
	struct store_image img = { 0 };
	struct attempt_result res = { .outcome = "succeeded",
	    .http_status = 200, .request_id = "req_happy", .input_tokens = 10,
	    .output_tokens = 20, .total_tokens = 30,
	    .usage_json = "{\"total_tokens\":30}" };
	double ms, img_max = 0;
	int i;

	if ((j = claim(b, 0, now_ms(), 60000)) == NULL)
		return;
	CHECK_INT(j->id, 1);
	answered(b, 0, j->attempt_id, 200, "req_happy", STORE_OK);
	for (i = 0; i < 4; i++) {
		bytes[i] = malloc(IMG_SIZE);
		fill(bytes[i], IMG_SIZE, 7 + i);
		sha256_hex(bytes[i], IMG_SIZE, hex[i]);
		img.job_id = j->id;
		img.attempt_id = j->attempt_id;
		img.kind = i < 3 ? IMAGE_PARTIAL : IMAGE_FINAL;
		img.idx = i < 3 ? i : 0;
		img.partial_index = i < 3 ? i : -1;
		img.format = "png";
		img.width = i < 3 ? 0 : 1024;
		img.height = i < 3 ? 0 : 1536;
		img.sha256 = hex[i];
		img.quality = i < 3 ? NULL : "high";
		img.background = "opaque";
		img.reported_size = i < 3 ? NULL : "1024x1536";
		img.data = bytes[i];
		img.size = IMG_SIZE;
		ms = image(b, 0, &img, STORE_OK, 1);
		img_max = ms > img_max ? ms : img_max;
	}
	ms = finish(b, 0, j, &res, NEXT_SUCCEEDED, 0, STORE_OK, 1);
	printf("image commit of 1.5 MB: at most %.1f ms; finish: %.1f ms\n",
	    img_max, ms);
	check_images(b, j->id, bytes, 4);
	CHECK_STR(one(b, "SELECT state || ' ' || attempts || ' ' || "
	    "total_tokens || ' ' || (finished_at = updated_at) FROM jobs "
	    "WHERE id = 1"), "succeeded 1 30 true");
	CHECK_STR(one(b, "SELECT string_agg(coalesce(from_state, '-') || '>' "
	    "|| to_state, ' ' ORDER BY id) FROM events WHERE job_id = 1"),
	    "->queued queued>running running>succeeded");
	CHECK_STR(one(b, "SELECT usage->>'total_tokens' FROM attempts "
	    "WHERE job_id = 1"), "30");
	for (i = 0; i < 4; i++)
		free(bytes[i]);
	claimed_job_free(j);
}

/* Job 2 claimed by daemon 2 whose lease ran out; daemon 1 runs job 3
 * and requeues job 2 once, uncounted; daemon 2's late writes are LOST. */
static void
lease_lost(struct both *b)
{
	unsigned char bytes[64];
	char hex[SHA256_HEX_LEN + 1];
	struct claimed_job *j2, *j3;
	struct store_image img = { .kind = IMAGE_PARTIAL, .partial_index = 0,
	    .format = "png", .sha256 = hex, .data = bytes, .size = 64 };
	struct attempt_result res = { .outcome = "succeeded",
	    .http_status = 200 };
	struct store_run_ref run;
	struct got g;
	int64_t now = now_ms();

	if ((j2 = claim(b, 1, now - 10000, 1000)) == NULL)
		return;
	if ((j3 = claim(b, 0, now, 60000)) == NULL) {
		claimed_job_free(j2);
		return;
	}
	CHECK_INT(j2->id, 2);
	CHECK_INT(j3->id, 3);
	run.job_id = j3->id;
	run.attempt_id = j3->attempt_id;
	CHECK_INT(leases(b, 0, now, &run, 1, 1, &g), 1);
	CHECK_INT(g.ids[0], 2);
	CHECK_INT(leases(b, 0, now, &run, 1, 1, &g), 0);
	/* a round late enough that job 3's own lease ran out: renewed, kept */
	CHECK_INT(leases(b, 0, now + 120000, &run, 1, 1, &g), 0);
	CHECK_STR(one(b, "SELECT state FROM jobs WHERE id = 3"), "running");
	/* answers to an attempt closed, or not the daemon's: nothing */
	answered(b, 1, j2->attempt_id, 200, "req_late", STORE_LOST);
	memset(&g, 0, sizeof(g));
	CHECK_INT(pgstore_answered(b->c[1], b->id[1], j3->attempt_id, 200,
	    "req_other", on_write, &g), 0);
	CHECK_INT(wait_for(b, &g.done, 1), 0);
	CHECK_INT(g.rc, STORE_LOST);
	CHECK_STR(one(b, "SELECT count(*) FROM attempts WHERE job_id IN (2, 3) "
	    "AND http_status IS NOT NULL"), "0");
	CHECK_STR(one(b, "SELECT state || ' ' || attempts || ' ' || "
	    "coalesce(lease_owner, '-') FROM jobs WHERE id = 2"), "queued 0 -");
	CHECK_STR(one(b, "SELECT outcome FROM attempts WHERE job_id = 2"),
	    "interrupted");
	CHECK_STR(one(b, "SELECT (lease_expires > " "extract(epoch from now())"
	    " * 1000 + 50000)::text FROM jobs WHERE id = 3"), "true");
	fill(bytes, sizeof(bytes), 99);
	sha256_hex(bytes, sizeof(bytes), hex);
	/* daemon 1 into daemon 2's attempt: not its own, nothing written */
	img.job_id = j2->id;
	img.attempt_id = j2->attempt_id;
	image(b, 0, &img, STORE_LOST, 0);
	/* daemon 2's own attempt: kept (what upstream sent), but LOST */
	img.idx = 0;
	image(b, 1, &img, STORE_LOST, 1);
	finish(b, 1, j2, &res, NEXT_SUCCEEDED, 0, STORE_LOST, 0);
	CHECK_STR(one(b, "SELECT state || ' ' || attempts FROM jobs "
	    "WHERE id = 2"), "queued 0");
	CHECK_STR(one(b, "SELECT count(*) FROM images WHERE job_id = 2"), "1");
	/* job 2 waits behind the rest from now on */
	exec_both(b, "UPDATE jobs SET priority = -1 WHERE id = 2");
	claimed_job_free(j2);
	claimed_job_free(j3);
}

/* Job 4 canceled by another program while daemon 1 runs it. */
static void
canceled(struct both *b)
{
	unsigned char bytes[32] = { 1, 2, 3 };
	char hex[SHA256_HEX_LEN + 1];
	struct claimed_job *j;
	struct store_image img = { .kind = IMAGE_FINAL, .partial_index = -1,
	    .format = "png", .sha256 = hex, .data = bytes, .size = 32 };
	struct attempt_result res = { .outcome = "canceled" };

	if ((j = claim(b, 0, now_ms(), 60000)) == NULL)
		return;
	CHECK_INT(j->id, 4);
	exec_both(b, "UPDATE jobs SET state = 'canceled', lease_owner = NULL, "
	    "lease_expires = NULL WHERE id = 4");
	sha256_hex(bytes, sizeof(bytes), hex);
	img.job_id = j->id;
	img.attempt_id = j->attempt_id;
	image(b, 0, &img, STORE_LOST, 1);
	finish(b, 0, j, &res, NEXT_SUCCEEDED, 0, STORE_LOST, 1);
	CHECK_STR(one(b, "SELECT j.state || ' ' || a.outcome FROM jobs j JOIN "
	    "attempts a ON a.job_id = j.id WHERE j.id = 4"), "canceled canceled");
	claimed_job_free(j);
}

/* Jobs 5 and 6: a retry after a 500, a failure after a 400, a requeue. */
static void
retry_fail(struct both *b)
{
	struct claimed_job *j;
	struct attempt_result e500 = { .outcome = "retry", .http_status = 500,
	    .request_id = "req_500", .error_type = "server_error",
	    .error_message = "upstream broke" };
	struct attempt_result e400 = { .outcome = "failed", .http_status = 400,
	    .error_type = "invalid_request_error", .error_code = "bad",
	    .error_message = "no" };
	struct attempt_result paused = { .outcome = "paused" };

	if ((j = claim(b, 0, now_ms(), 60000)) == NULL)
		return;
	answered(b, 0, j->attempt_id, 500, "req_500", STORE_OK);
	finish(b, 0, j, &e500, NEXT_RETRY, 4000000000000LL, STORE_OK, 1);
	claimed_job_free(j);
	if ((j = claim(b, 0, now_ms(), 60000)) == NULL)
		return;
	CHECK_INT(j->id, 6);
	finish(b, 0, j, &paused, NEXT_REQUEUE, 0, STORE_OK, 1);
	claimed_job_free(j);
	if ((j = claim(b, 0, now_ms(), 60000)) == NULL)
		return;
	CHECK_INT(j->id, 6);
	CHECK_INT(j->counted, 1);
	finish(b, 0, j, &e400, NEXT_FAILED, 0, STORE_OK, 1);
	/* twice: the attempt is closed and the job not ours, nothing moves */
	finish(b, 0, j, &e400, NEXT_FAILED, 0, STORE_LOST, 0);
	CHECK_STR(one(b, "SELECT state || ' ' || attempts || ' ' || "
	    "error_status || ' ' || error_message FROM jobs WHERE id = 5"),
	    "retry_wait 1 500 upstream broke");
	CHECK_STR(one(b, "SELECT state || ' ' || attempts || ' ' || "
	    "error_code FROM jobs WHERE id = 6"), "failed 1 bad");
	claimed_job_free(j);
}

/* Every table's rows, times left out (the clocks differ). */
static void
compare_tables(struct both *b)
{
	same_rows(b, "jobs", "SELECT id, state, attempts, max_attempts, "
	    "lease_owner, CASE WHEN lease_expires IS NULL THEN 0 ELSE 1 END, "
	    "not_before, error_status, "
	    "error_type, error_code, error_message, error_request_id, "
	    "input_tokens, output_tokens, total_tokens, "
	    "CASE WHEN finished_at IS NULL THEN 0 ELSE 1 END, "
	    "CASE WHEN finished_at = updated_at THEN 1 ELSE 0 END "
	    "FROM jobs ORDER BY id");
	same_rows(b, "attempts", "SELECT id, job_id, number, daemon_id, "
	    "CASE WHEN ended_at IS NULL THEN 0 ELSE 1 END, http_status, "
	    "request_id, outcome, error_type, error_code, error_message, "
	    "input_tokens, output_tokens, total_tokens, "
	    "CASE WHEN usage IS NULL THEN 0 ELSE 1 END FROM attempts "
	    "ORDER BY id");
	same_rows(b, "images", "SELECT id, job_id, attempt_id, kind, idx, "
	    "partial_index, format, width, height, size, sha256, quality, "
	    "background, reported_size, length(data) FROM images ORDER BY id");
	same_rows(b, "events", "SELECT id, job_id, from_state, to_state, detail "
	    "FROM events ORDER BY id");
}

/* Heartbeats, counts, the poll and a NOTIFY (PostgreSQL only). */
static void
beats_polls(struct both *b)
{
	static const char *const states[] = { "queued", "running",
	    "retry_wait", "succeeded", "failed", "canceled" };
	struct got g = { 0 };
	PGresult *r;

	CHECK_INT(pgstore_heartbeat(b->c[0], b->id[0], "host-a", 42, 1000,
	    "starting", NULL, on_write, &g), 0);
	CHECK_INT(pgstore_heartbeat(b->c[0], b->id[0], "host-b", 43, 2000,
	    "running 1 job", "paused: upstream 429", on_write, &g), 0);
	CHECK_INT(wait_for(b, &g.done, 2), 0);
	CHECK_INT(g.rc, STORE_OK);
	CHECK_STR(one(b, "SELECT host || ' ' || pid || ' ' || started_at || ' '"
	    " || heartbeat_at || ' ' || status || ' ' || pause_reason "
	    "FROM daemons"), "host-a 42 1000 2000 running 1 job paused: "
	    "upstream 429");
	memset(&g, 0, sizeof(g));
	CHECK_INT(pgstore_daemon_stopped(b->c[1], b->id[1], 3000, on_write, &g),
	    0);
	CHECK_INT(pgstore_heartbeat(b->c[1], b->id[1], "host-c", 44, 2500,
	    "starting", NULL, on_write, &g), 0);
	CHECK_INT(pgstore_daemon_stopped(b->c[1], b->id[1], 3000, on_write, &g),
	    0);
	CHECK_INT(wait_for(b, &g.done, 3), 0);
	CHECK_INT(g.rc, STORE_OK);
	CHECK_STR(one(b, "SELECT string_agg(id || ' ' || status || ' ' || "
	    "coalesce(stopped_at::text, '-') || ' ' || heartbeat_at, ', ' "
	    "ORDER BY id) FROM daemons"), "daemon-1 running 1 job - 2000, "
	    "daemon-2 stopped 3000 3000");

	memset(&g, 0, sizeof(g));
	CHECK_INT(pgstore_counts(b->c[0], states, 6, on_counts, &g), 0);
	CHECK_INT(wait_for(b, &g.done, 1), 0);
	/* 1 succeeded, 2 queued, 3 running, 4 canceled, 5 retry_wait,
	 * 6 failed */
	CHECK_INT(g.counts[0], 1);
	CHECK_INT(g.counts[1], 1);
	CHECK_INT(g.counts[2], 1);
	CHECK_INT(g.counts[3], 1);
	CHECK_INT(g.counts[4], 1);
	CHECK_INT(g.counts[5], 1);

	r = PQexec(b->db, "INSERT INTO control VALUES ('pause', 'maintenance')");
	CHECK_INT(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	memset(&g, 0, sizeof(g));
	CHECK_INT(pgstore_poll(b->c[0], b->id[0], now_ms(), on_poll, &g), 0);
	CHECK_INT(wait_for(b, &g.done, 1), 0);
	CHECK_INT(g.poll.ready, 1);                 /* job 2 */
	CHECK_INT(g.poll.next_wake, 0);             /* job 2's not_before */
	CHECK_STR(g.poll.pause, "maintenance");
	CHECK(g.poll.resume == NULL);
	CHECK_INT(g.poll.nowned, 1);
	if (g.poll.nowned == 1)
		CHECK_INT(g.poll.owned[0].job_id, 3);
	pgstore_poll_clear(&g.poll);
	memset(&g, 0, sizeof(g));
	CHECK_INT(pgstore_poll(b->c[1], b->id[1], now_ms(), on_poll, &g), 0);
	CHECK_INT(wait_for(b, &g.done, 1), 0);
	CHECK_INT(g.poll.nowned, 0);
	pgstore_poll_clear(&g.poll);

	/* another program enqueues: the LISTEN hears it */
	CHECK_INT(b->changed, 0);
	r = PQexec(b->db, "INSERT INTO jobs (id, params) VALUES (7, '{}')");
	CHECK_INT(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	CHECK_INT(wait_for(b, &b->changed, 1), 0);
}

/* ---- finishes racing lease rounds (PostgreSQL only) ---- */

#define RACE_FIRST 100
#define RACE_JOBS 300

struct race {
	struct both *b;
	struct claimed_job *jobs[RACE_JOBS];
	int njobs, claims, finished, rounds, sent, errors;
	int64_t base;                   /* job i's lease ends at base + i */
	int fin_rc[RACE_JOBS], requeued[RACE_JOBS];
};

static void
race_claimed(void *arg, int n, struct claimed_job **jobs,
    const struct pgconn_reply *reply)
{
	struct race *rc = arg;
	int i;

	if (n < 0) {
		fprintf(stderr, "race claim: %s\n", reply->error);
		rc->errors++;
	}
	for (i = 0; i < n && rc->njobs < RACE_JOBS; i++) {
		rc->jobs[rc->njobs++] = jobs[i];
		jobs[i] = NULL;
	}
	rc->claims++;
}

struct race_fin {
	struct race *rc;
	int i;
};

static void race_round(void *arg, int renewed, int requeued,
    const int64_t *ids, const struct pgconn_reply *reply);

static void
race_finished(void *arg, int code, int written, const struct pgconn_reply *reply)
{
	struct race_fin *f = arg;

	(void)written;
	if (!reply->ok) {
		fprintf(stderr, "race finish: %s %s\n", reply->sqlstate,
		    reply->error);
		f->rc->errors++;
	}
	f->rc->fin_rc[f->i] = code;
	/* every 15 finishes, a round of the other daemon reaches 30 jobs
	 * ahead: into the finishes still in flight */
	if (++f->rc->finished % 15 == 0) {
		if (pgstore_lease_round(f->rc->b->c[1], f->rc->b->id[1],
		    f->rc->base + f->rc->finished + 30, 60000, NULL, 0,
		    race_round, f->rc) == 0)
			f->rc->sent++;
		else
			f->rc->errors++;
	}
	free(f);
}

static void
race_round(void *arg, int renewed, int requeued, const int64_t *ids,
    const struct pgconn_reply *reply)
{
	struct race *rc = arg;
	int i;

	(void)renewed;
	if (requeued < 0) {
		fprintf(stderr, "race round: %s %s\n", reply->sqlstate,
		    reply->error);
		rc->errors++;
	}
	for (i = 0; i < requeued; i++)
		if (ids[i] >= RACE_FIRST && ids[i] < RACE_FIRST + RACE_JOBS)
			rc->requeued[ids[i] - RACE_FIRST]++;
	if (getenv("TEST_PGREQ_SHOW"))
		printf("round %d: %d requeued, %d finished\n", rc->rounds, requeued, rc->finished);
	rc->rounds++;
}

/* Daemon 1 finishes 300 jobs whose leases run out one after the other
 * while daemon 2's lease rounds requeue them: each job is either finished (OK) or requeued once
 * (its finish LOST), never both, and no statement fails (no deadlock). */
static void
race(struct both *b)
{
	static struct race rc;
	struct attempt_result ok = { .outcome = "succeeded",
	    .http_status = 200 };
	struct race_fin *f;
	char sql[384], want[32];
	int i, won = 0, lost = 0, bad = 0;
	int64_t now = now_ms();
	PGresult *r;

	rc.b = b;
	snprintf(sql, sizeof(sql), "INSERT INTO jobs (id, params, priority) "
	    "SELECT i, '{}', 10 FROM generate_series(%d, %d) i", RACE_FIRST,
	    RACE_FIRST + RACE_JOBS - 1);
	r = PQexec(b->db, sql);
	CHECK_INT(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	for (i = 0; i < RACE_JOBS / PGSTORE_CLAIM_MAX + 1; i++)
		CHECK_INT(pgstore_claim(b->c[0], b->id[0], now - 10000, 1000,
		    PGSTORE_CLAIM_MAX, race_claimed, &rc), 0);
	CHECK_INT(wait_for(b, &rc.claims, i), 0);
	CHECK_INT(rc.njobs, RACE_JOBS);
	/* leases run out one job per ms from base on: each round below
	 * requeues the next 15 or so while the finishes go by */
	now -= 10000;
	rc.base = now;
	snprintf(sql, sizeof(sql), "UPDATE jobs SET lease_expires = %lld + id "
	    "- %d WHERE id >= %d AND state = 'running'", (long long)now,
	    RACE_FIRST, RACE_FIRST);
	r = PQexec(b->db, sql);
	CHECK_INT(PQresultStatus(r), PGRES_COMMAND_OK);
	CHECK_STR(PQcmdTuples(r), "300");
	PQclear(r);
	for (i = 0; i < rc.njobs; i++) {
		if ((f = malloc(sizeof(*f))) == NULL)
			abort();
		f->rc = &rc;
		f->i = (int)(rc.jobs[i]->id - RACE_FIRST);
		CHECK_INT(pgstore_finish(b->c[0], b->id[0], rc.jobs[i]->id,
		    rc.jobs[i]->attempt_id, &ok, NEXT_SUCCEEDED, 0,
		    race_finished, f), 0);
	}
	CHECK_INT(wait_for(b, &rc.finished, RACE_JOBS), 0);
	CHECK_INT(wait_for(b, &rc.rounds, rc.sent), 0);
	CHECK_INT(rc.sent, RACE_JOBS / 15);
	CHECK_INT(rc.errors, 0);
	for (i = 0; i < RACE_JOBS; i++) {
		won += rc.fin_rc[i] == STORE_OK && rc.requeued[i] == 0;
		lost += rc.fin_rc[i] == STORE_LOST && rc.requeued[i] == 1;
		bad += !(rc.fin_rc[i] == STORE_OK && rc.requeued[i] == 0) &&
		    !(rc.fin_rc[i] == STORE_LOST && rc.requeued[i] == 1);
	}
	printf("race: %d finished, %d requeued by the other daemon, %d both "
	    "or neither\n", won, lost, bad);
	CHECK_INT(bad, 0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FILTER (WHERE j.state = "
	    "'succeeded' AND a.outcome = 'succeeded' AND j.attempts = 1) || ' ' "
	    "|| count(*) FILTER (WHERE j.state = 'queued' AND a.outcome = "
	    "'interrupted' AND j.attempts = 0) FROM jobs j JOIN attempts a ON "
	    "a.job_id = j.id WHERE j.id >= %d", RACE_FIRST);
	snprintf(want, sizeof(want), "%d %d", won, lost);
	CHECK_STR(one(b, sql), want);
	for (i = 0; i < rc.njobs; i++)
		claimed_job_free(rc.jobs[i]);
}

/* Upstream's text is not always UTF-8 (a header's raw bytes, a message
 * cut at 1 KB inside a character): PostgreSQL refuses such text, so a
 * finish carrying it would fail on every try. It is stored with '?'. */
static void
not_utf8(struct both *b)
{
	struct attempt_result bad = { .outcome = "failed", .http_status = 400,
	    .request_id = "req\xff\xfe", .error_type = "invalid_request_error",
	    .error_message = "half a character: \xe3\x81" };
	struct got g = { 0 };
	PGresult *r;
	int64_t now = now_ms();

	r = PQexec(b->db, "INSERT INTO jobs (id, params, priority) "
	    "VALUES (500, '{}', 20)");
	CHECK_INT(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	CHECK_INT(pgstore_claim(b->c[0], b->id[0], now, 60000, 1, on_claim,
	    &g), 0);
	CHECK_INT(wait_for(b, &g.done, 1), 0);
	if (g.job == NULL || g.job->id != 500) {
		CHECK(0);
		claimed_job_free(g.job);
		return;
	}
	g.done = 0;
	CHECK_INT(pgstore_answered(b->c[0], b->id[0], g.job->attempt_id, 400,
	    bad.request_id, on_write, &g), 0);
	CHECK_INT(pgstore_finish(b->c[0], b->id[0], g.job->id,
	    g.job->attempt_id, &bad, NEXT_FAILED, 0, on_write, &g), 0);
	CHECK_INT(wait_for(b, &g.done, 2), 0);
	if (!g.ok)
		fprintf(stderr, "not UTF-8: %s\n", g.err);
	CHECK_INT(g.rc, STORE_OK);
	CHECK_STR(one(b, "SELECT j.state || ' ' || j.error_request_id || ' ' || "
	    "a.request_id || ' ' || a.error_message FROM jobs j JOIN attempts a "
	    "ON a.job_id = j.id WHERE j.id = 500"),
	    "failed req?? req?? half a character: ??");
	claimed_job_free(g.job);
}

/* Runs the loop until daemon who's server process waits for a lock. */
static int
wait_blocked(struct both *b, int who)
{
	PGconn *watch = pgschema_connect(b->uri, NULL, 0);
	char sql[128];
	int i, blocked = 0;

	snprintf(sql, sizeof(sql), "SELECT wait_event_type FROM "
	    "pg_stat_activity WHERE pid = %d", pgconn_backend_pid(b->c[who]));
	for (i = 0; i < 2000 && !blocked && watch != NULL; i++) {
		PGresult *r;

		event_base_loop(b->base, EVLOOP_NONBLOCK);
		r = PQexec(watch, sql);
		blocked = PQntuples(r) == 1 &&
		    strcmp(PQgetvalue(r, 0, 0), "Lock") == 0;
		PQclear(r);
	}
	PQfinish(watch);
	return blocked ? 0 : -1;
}

/* Two daemons late on their own jobs run lease rounds at once. Daemon 1's
 * round waits to renew job 600 (another session holds it): it must hold
 * no other row meanwhile, or daemon 2's round, renewing job 601, would
 * wait on it (and with the roles crossed, deadlock). So daemon 2 renews
 * 601 at once and keeps it. */
static void
late_rounds(struct both *b)
{
	struct claimed_job *x = NULL, *y = NULL;
	struct store_run_ref rx, ry;
	struct got g = { 0 }, ga = { 0 }, gb = { 0 };
	PGresult *r;
	int64_t now = now_ms();

	r = PQexec(b->db, "INSERT INTO jobs (id, params, priority) VALUES "
	    "(600, '{}', 31), (601, '{}', 30)");
	CHECK_INT(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	CHECK_INT(pgstore_claim(b->c[0], b->id[0], now - 10000, 1000, 1,
	    on_claim, &g), 0);
	CHECK_INT(wait_for(b, &g.done, 1), 0);
	x = g.job;
	memset(&g, 0, sizeof(g));
	CHECK_INT(pgstore_claim(b->c[1], b->id[1], now - 10000, 1000, 1,
	    on_claim, &g), 0);
	CHECK_INT(wait_for(b, &g.done, 1), 0);
	y = g.job;
	if (x == NULL || y == NULL || x->id != 600 || y->id != 601) {
		CHECK(0);
		goto out;
	}
	rx.job_id = x->id;
	rx.attempt_id = x->attempt_id;
	ry.job_id = y->id;
	ry.attempt_id = y->attempt_id;
	CHECK_STR(one(b, "BEGIN; SELECT id FROM jobs WHERE id = 600 FOR UPDATE"),
	    "600");
	CHECK_INT(pgstore_lease_round(b->c[0], b->id[0], now, 60000, &rx, 1,
	    on_leases, &ga), 0);
	CHECK_INT(wait_blocked(b, 0), 0);
	CHECK_INT(pgstore_lease_round(b->c[1], b->id[1], now, 60000, &ry, 1,
	    on_leases, &gb), 0);
	CHECK_INT(wait_for(b, &gb.done, 1), 0); /* not behind daemon 1 */
	CHECK_INT(gb.renewed, 1);
	CHECK_STR(one(b, "COMMIT; SELECT 1"), "1");
	CHECK_INT(wait_for(b, &ga.done, 1), 0);
	CHECK_INT(ga.renewed, 1);
	CHECK_INT(ga.requeued, 0);
	CHECK_STR(one(b, "SELECT string_agg(id || ' ' || state || ' ' || "
	    "lease_owner, ', ' ORDER BY id) FROM jobs WHERE id IN (600, 601)"),
	    "600 running daemon-1, 601 running daemon-2");
out:
	claimed_job_free(x);
	claimed_job_free(y);
}

/* A finish waiting for its job's row (another session holds it) holds
 * not the attempt's row yet: a lease round locks jobs then attempts too,
 * so the other order would deadlock with it. */
static void
finish_waits_first(struct both *b)
{
	struct attempt_result ok = { .outcome = "succeeded",
	    .http_status = 200 };
	PGconn *watch = pgschema_connect(b->uri, NULL, 0);
	struct got g = { 0 };
	PGresult *r;

	r = PQexec(b->db, "INSERT INTO jobs (id, params, priority) VALUES "
	    "(700, '{}', 40)");
	CHECK_INT(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	CHECK_INT(pgstore_claim(b->c[0], b->id[0], now_ms(), 60000, 1,
	    on_claim, &g), 0);
	CHECK_INT(wait_for(b, &g.done, 1), 0);
	if (g.job == NULL || g.job->id != 700 || watch == NULL) {
		CHECK(0);
		goto out;
	}
	CHECK_STR(one(b, "BEGIN; SELECT id FROM jobs WHERE id = 700 FOR UPDATE"),
	    "700");
	g.done = 0;
	CHECK_INT(pgstore_finish(b->c[0], b->id[0], g.job->id,
	    g.job->attempt_id, &ok, NEXT_SUCCEEDED, 0, on_write, &g), 0);
	CHECK_INT(wait_blocked(b, 0), 0);
	r = PQexec(watch, "SELECT id FROM attempts WHERE job_id = 700 "
	    "FOR UPDATE NOWAIT");
	CHECK_INT(PQresultStatus(r), PGRES_TUPLES_OK);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fprintf(stderr, "attempt row: %s", PQresultErrorMessage(r));
	PQclear(r);
	CHECK_STR(one(b, "COMMIT; SELECT 1"), "1");
	CHECK_INT(wait_for(b, &g.done, 1), 0);
	CHECK_INT(g.rc, STORE_OK);
	CHECK_STR(one(b, "SELECT j.state || ' ' || a.outcome FROM jobs j JOIN "
	    "attempts a ON a.job_id = j.id WHERE j.id = 700"),
	    "succeeded succeeded");
out:
	PQfinish(watch);
	claimed_job_free(g.job);
}

int
main(int argc, char **argv)
{
	struct pgstore_listener l;
	struct both b = { 0 };
	char err[256];
	int i;

	if (argc != 3) {
		fprintf(stderr, "usage: test_pgreq URI SQLITE-FILE\n");
		return 2;
	}
	b.base = event_base_new();
	b.id[0] = "daemon-1";
	b.id[1] = "daemon-2";
	b.uri = argv[1];
	if ((b.db = pgschema_connect(argv[1], err, sizeof(err))) == NULL ||
	    (b.st = store_open(argv[2], STORE_CREATE, 1000, err,
	    sizeof(err))) == NULL || store_migrate(b.st, err, sizeof(err)) !=
	    STORE_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	l.changed = on_changed;
	l.arg = &b;
	for (i = 0; i < 2; i++) {
		b.c[i] = pgconn_new(b.base, argv[1]);
		pgconn_set_state_cb(b.c[i], on_state, NULL);
		CHECK_INT(pgstore_prepare(b.c[i]), 0);
		CHECK_INT(pgconn_open(b.c[i]), 0);
	}
	CHECK_INT(pgstore_listen(b.c[0], &l), 0);
	for (i = 1; i <= 6; i++) {
		char sql[128];

		snprintf(sql, sizeof(sql), "INSERT INTO jobs (id, params) "
		    "VALUES (%d, '{\"prompt\":\"job %d\"}')", i, i);
		exec_both(&b, sql);
	}
	happy_path(&b);
	lease_lost(&b);
	canceled(&b);
	retry_fail(&b);
	compare_tables(&b);
	b.changed = 0;          /* the inserts and requeues above notified */
	beats_polls(&b);
	race(&b);
	not_utf8(&b);
	late_rounds(&b);
	finish_waits_first(&b);

	for (i = 0; i < 2; i++)
		pgconn_free(b.c[i]);
	PQfinish(b.db);
	store_close(b.st);
	event_base_free(b.base);
	return tu_finish("test_pgreq");
}
