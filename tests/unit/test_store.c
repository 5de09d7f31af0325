/* test_store.c: the store's API on a real SQLite file: migration, claim
 * order, image commits, finishing attempts, leases, cancel while running. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "budget.h"
#include "store.h"
#include "testutil.h"

static char dbpath[256];

static void
exec(struct store *st, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(store_db(st), sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		fprintf(stderr, "SQL failed: %s: %s\n", sql, msg);
	CHECK_INT(rc, SQLITE_OK);
	sqlite3_free(msg);
}

static long long
q_int(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	long long v = -999;

	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(store_db(st)));
		return v;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* The first column of the first row, in a buffer valid until the next call. */
static const char *
q_text(struct store *st, const char *sql)
{
	static char v[256];
	sqlite3_stmt *s;

	v[0] = '\0';
	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(v, sizeof(v), "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return v;
}

static struct store *
fresh_store(void)
{
	char err[256];
	struct store *st;
	int v = -1;

	snprintf(dbpath, sizeof(dbpath), "/tmp/imgedit-test-store-%d.db",
	    (int)getpid());
	unlink(dbpath);
	st = store_open(dbpath, STORE_CREATE, 2000, err, sizeof(err));
	CHECK(st != NULL);
	if (st == NULL)
		exit(1);
	CHECK_INT(store_migrate(st, err, sizeof(err)), STORE_OK);
	CHECK(store_schema_version(st, &v) >= 1);
	CHECK_INT(v, store_schema_version(st, &v));
	/* idempotent */
	CHECK_INT(store_migrate(st, err, sizeof(err)), STORE_OK);
	CHECK_STR(q_text(st, "PRAGMA journal_mode"), "wal");
	return st;
}

static void
test_claim_order(struct store *st)
{
	struct claimed_job *job = NULL;
	int64_t when = 0;

	exec(st, "INSERT INTO blobs (sha256, size, data) VALUES ('ab', 3, X'010203');"
	    "INSERT INTO jobs (id, params, priority) VALUES (1, '{\"prompt\":\"a\"}', 0);"
	    "INSERT INTO jobs (id, params, priority) VALUES (2, '{\"prompt\":\"b\"}', 5);"
	    "INSERT INTO jobs (id, params, not_before) VALUES (3, '{\"prompt\":\"c\"}', 9000000000000);"
	    "INSERT INTO inputs (job_id, role, ordinal, filename, data) VALUES (1, 'image', 1, 'b.png', X'0405');"
	    "INSERT INTO inputs (job_id, role, ordinal, filename, blob_id) VALUES (1, 'image', 0, 'a.png', 1);"
	    "INSERT INTO inputs (job_id, role, ordinal, filename, data) VALUES (1, 'mask', 0, 'm.png', X'06');");
	/* priority first */
	CHECK_INT(store_claim(st, "d1", 1000, 60000, &job), 1);
	CHECK_INT(job->id, 2);
	CHECK_INT(job->attempt, 1);
	claimed_job_free(job);
	/* then age, with inputs in order (blob and inline), mask last */
	CHECK_INT(store_claim(st, "d1", 1000, 60000, &job), 1);
	CHECK_INT(job->id, 1);
	CHECK_STR(job->params, "{\"prompt\":\"a\"}");
	CHECK_INT(job->ninputs, 3);
	if (job->ninputs == 3) {
		CHECK_STR(job->inputs[0].filename, "a.png");
		CHECK_INT(job->inputs[0].size, 3);
		CHECK_MEM(job->inputs[0].data, "\x01\x02\x03", 3);
		CHECK_STR(job->inputs[1].filename, "b.png");
		CHECK_INT(job->inputs[2].role, INPUT_MASK);
	}
	CHECK(job->load_error == NULL);
	claimed_job_free(job);
	/* job 3 is scheduled in the future */
	CHECK_INT(store_claim(st, "d1", 1000, 60000, &job), 0);
	CHECK(job == NULL);
	CHECK_INT(store_next_wake(st, &when), 1);
	CHECK_INT(when, 9000000000000LL);
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs WHERE state='running' AND lease_owner='d1' AND lease_expires=61000"), 2);
	CHECK_INT(q_int(st, "SELECT count(*) FROM attempts WHERE ended_at IS NULL"), 2);
}

static void
test_commit_and_finish(struct store *st)
{
	struct store_image img = { 0 };
	struct attempt_result res = { 0 };
	int64_t attempt_id = q_int(st, "SELECT id FROM attempts WHERE job_id=1");

	img.job_id = 1;
	img.attempt_id = attempt_id;
	img.kind = IMAGE_PARTIAL;
	img.idx = 0;
	img.partial_index = 0;
	img.format = "png";
	img.sha256 = "00ff";
	img.data = (const unsigned char *)"PNGDATA";
	img.size = 7;
	CHECK_INT(store_commit_image(st, "d1", &img), STORE_OK);
	CHECK_INT(store_last_written(st), 1);
	img.kind = IMAGE_FINAL;
	img.partial_index = -1;
	CHECK_INT(store_commit_image(st, "d1", &img), STORE_OK);
	/* another daemon cannot write into our job */
	img.idx = 1;
	CHECK_INT(store_commit_image(st, "d2", &img), STORE_LOST);
	CHECK_INT(store_last_written(st), 0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM images WHERE job_id=1"), 2);
	CHECK_INT(q_int(st, "SELECT length(data) FROM images WHERE job_id=1 AND kind='final'"), 7);

	res.outcome = "succeeded";
	res.http_status = 200;
	res.request_id = "req_1";
	res.input_tokens = 10;
	res.output_tokens = 20;
	res.total_tokens = 30;
	res.usage_json = "{\"total_tokens\":30}";
	CHECK_INT(store_finish_attempt(st, "d1", 1, attempt_id, &res,
	    NEXT_SUCCEEDED, 0), STORE_OK);
	CHECK_INT(store_last_written(st), 1);
	/* an ended attempt is not closed again: nothing written */
	CHECK_INT(store_finish_attempt(st, "d1", 1, attempt_id, &res,
	    NEXT_SUCCEEDED, 0), STORE_LOST);
	CHECK_INT(store_last_written(st), 0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs WHERE id=1 AND state='succeeded' AND lease_owner IS NULL AND finished_at IS NOT NULL AND total_tokens=30"), 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM attempts WHERE id=(SELECT id FROM attempts WHERE job_id=1) AND outcome='succeeded' AND http_status=200 AND request_id='req_1' AND ended_at IS NOT NULL"), 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM events WHERE job_id=1"), 3);
}

static void
test_cancel_and_leases(struct store *st)
{
	struct store_image img = { 0 };
	struct attempt_result res = { 0 };
	int64_t attempt_id = q_int(st, "SELECT id FROM attempts WHERE job_id=2");
	int n = -1;

	/* another program cancels job 2 while it runs */
	exec(st, "UPDATE jobs SET state='canceled', lease_owner=NULL, lease_expires=NULL WHERE id=2");
	img.job_id = 2;
	img.attempt_id = attempt_id;
	img.kind = IMAGE_PARTIAL;
	img.format = "png";
	img.sha256 = "aa";
	img.data = (const unsigned char *)"x";
	img.size = 1;
	CHECK_INT(store_commit_image(st, "d1", &img), STORE_LOST);
	CHECK_INT(store_last_written(st), 1); /* kept: it was sent for us */
	res.outcome = "canceled";
	CHECK_INT(store_finish_attempt(st, "d1", 2, attempt_id, &res, NEXT_FAILED, 0),
	    STORE_LOST);
	CHECK_INT(store_last_written(st), 1);
	CHECK_STR(q_text(st, "SELECT state FROM jobs WHERE id=2"), "canceled");
	CHECK_STR(q_text(st, "SELECT outcome FROM attempts WHERE job_id=2"), "canceled");

	/* an expired lease returns the job to the queue */
	exec(st, "UPDATE jobs SET not_before=0 WHERE id=3");
	{
		struct claimed_job *job = NULL;
		CHECK_INT(store_claim(st, "d9", 5000, 1000, &job), 1);
		CHECK_INT(job ? job->id : 0, 3);
		claimed_job_free(job);
	}
	CHECK_INT(store_requeue_expired(st, 5500, &n), STORE_OK);
	CHECK_INT(n, 0);
	{
		struct store_run_ref ref = { 3, q_int(st, "SELECT id FROM attempts WHERE job_id=3") };
		CHECK_INT(store_renew_leases(st, "d9", 7000, &ref, 1), STORE_OK);
	}
	CHECK_INT(store_requeue_expired(st, 6500, &n), STORE_OK);
	CHECK_INT(n, 0);
	CHECK_INT(store_requeue_expired(st, 7001, &n), STORE_OK);
	CHECK_INT(n, 1);
	CHECK_STR(q_text(st, "SELECT state FROM jobs WHERE id=3"), "queued");
	CHECK_STR(q_text(st, "SELECT outcome FROM attempts WHERE job_id=3"), "interrupted");
	/* it never had an answer: not counted */
	CHECK_INT(q_int(st, "SELECT attempts FROM jobs WHERE id=3"), 0);
}

static void
test_answered_attempt_counts(struct store *st)
{
	struct claimed_job *job = NULL;
	int n = -1;

	exec(st, "INSERT INTO jobs (id, params, priority) VALUES (20, '{}', 99)");
	CHECK_INT(store_claim(st, "d7", 8000, 1000, &job), 1);
	CHECK_INT(job ? job->id : 0, 20);
	CHECK_INT(store_attempt_answered(st, job->attempt_id, 200, "req_9"), STORE_OK);
	CHECK_INT(store_requeue_expired(st, 9500, &n), STORE_OK);
	CHECK_INT(n, 1);
	CHECK_INT(q_int(st, "SELECT attempts FROM jobs WHERE id=20"), 1);
	CHECK_INT(q_int(st, "SELECT http_status FROM attempts WHERE job_id=20"), 200);
	CHECK_STR(q_text(st, "SELECT request_id FROM attempts WHERE job_id=20"), "req_9");
	claimed_job_free(job);
	exec(st, "DELETE FROM jobs WHERE id=20");
}

static void
test_requeue_and_exhaust(struct store *st)
{
	struct claimed_job *job = NULL;
	struct attempt_result res = { 0 };
	int i;

	exec(st, "INSERT INTO jobs (id, params, max_attempts) VALUES (10, '{}', 2)");
	/* an interrupted attempt (shutdown) does not count */
	CHECK_INT(store_claim(st, "d1", 10000, 60000, &job), 1);
	CHECK_INT(job ? job->id : 0, 3); /* older job 3 first */
	res.outcome = "interrupted";
	CHECK_INT(store_finish_attempt(st, "d1", job->id, job->attempt_id, &res,
	    NEXT_REQUEUE, 0), STORE_OK);
	CHECK_INT(q_int(st, "SELECT attempts FROM jobs WHERE id=3"), 0);
	claimed_job_free(job);
	exec(st, "UPDATE jobs SET state='canceled' WHERE id=3");
	/* job 10: two failed attempts, then it is failed for good */
	for (i = 0; i < 2; i++) {
		CHECK_INT(store_claim(st, "d1", 10000, 60000, &job), 1);
		CHECK_INT(job ? job->id : 0, 10);
		CHECK_INT(job ? job->attempt : 0, i + 1);
		res.outcome = "retry";
		res.error_type = "server_error";
		res.error_message = "boom";
		CHECK_INT(store_finish_attempt(st, "d1", 10, job->attempt_id, &res,
		    NEXT_RETRY, 10000), STORE_OK);
		CHECK_STR(q_text(st, "SELECT state FROM jobs WHERE id=10"), "retry_wait");
		claimed_job_free(job);
	}
	CHECK_INT(store_claim(st, "d1", 10000, 60000, &job), 0);
	CHECK_STR(q_text(st, "SELECT state || ' ' || error_type FROM jobs WHERE id=10"),
	    "failed max_attempts");
}

static void
test_invalid_rows(struct store *st)
{
	char *msg = NULL;

	/* the CHECK constraints refuse impossible rows */
	CHECK(sqlite3_exec(store_db(st), "INSERT INTO jobs (params, state) VALUES ('{}', 'bogus')", NULL, NULL, &msg) != SQLITE_OK);
	sqlite3_free(msg);
	CHECK(sqlite3_exec(store_db(st), "INSERT INTO jobs (params, state) VALUES ('{}', 'running')", NULL, NULL, &msg) != SQLITE_OK);
	sqlite3_free(msg);
	CHECK(sqlite3_exec(store_db(st), "INSERT INTO inputs (job_id, role, ordinal, filename) VALUES (1, 'image', 5, 'x')", NULL, NULL, &msg) != SQLITE_OK);
	sqlite3_free(msg);
}

static void
count_due(void *arg)
{
	(*(int *)arg)++;
}

/* Deferred checkpoints: a commit past the threshold calls due() once, however
 * many commits follow; store_checkpoint then empties the WAL. */
static void
test_deferred_checkpoint(struct store *st)
{
	int due = 0, left = -1, i;

	CHECK_INT(store_checkpoint(st, &left), STORE_OK);
	CHECK_INT(left, 0);
	store_defer_checkpoints(st, 4, count_due, &due);
	for (i = 0; i < 6; i++)
		exec(st, "INSERT INTO events (job_id, to_state, at) "
		    "SELECT 1, 'queued', 0 FROM (SELECT 1 UNION SELECT 2)");
	CHECK_INT(due, 1);
	CHECK_INT(store_checkpoint(st, &left), STORE_OK);
	CHECK_INT(left, 0);
	for (i = 0; i < 6; i++) /* the WAL restarts and fills again */
		exec(st, "UPDATE events SET at=at+1 WHERE at<6");
	CHECK_INT(due, 2);
	CHECK_INT(store_checkpoint(st, &left), STORE_OK);
	exec(st, "DELETE FROM events WHERE at<=6");
	store_defer_checkpoints(st, 0, NULL, NULL); /* &due goes out of scope */
}

static int64_t
elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The WAL's bound: journal_size_limit is set, and a TRUNCATE checkpoint
 * waits for nobody: BUSY at once while another connection reads an older
 * snapshot (however long the busy timeout), an empty WAL once it let go. */
static void
test_truncate_wal(struct store *st)
{
	sqlite3 *reader = NULL;
	struct timespec t0;
	int64_t size = -1;
	int i;

	CHECK_INT(q_int(st, "PRAGMA journal_size_limit"), STORE_WAL_LIMIT_BYTES);
	CHECK_INT(sqlite3_open_v2(dbpath, &reader, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	CHECK_INT(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM events;",
	    NULL, NULL, NULL), SQLITE_OK);
	for (i = 0; i < 3; i++)
		exec(st, "INSERT INTO events (job_id, to_state, at) "
		    "VALUES (1, 'queued', 100)");
	CHECK_INT(store_wal_size(st, &size), STORE_OK);
	CHECK(size > 0);
	store_set_busy_timeout(st, 2000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(store_truncate_wal(st), STORE_BUSY);
	CHECK(elapsed_ms(&t0) < 1000);
	CHECK_INT(store_wal_size(st, &size), STORE_OK);
	CHECK(size > 0);
	CHECK_INT(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(reader);
	CHECK_INT(store_truncate_wal(st), STORE_OK);
	CHECK_INT(store_wal_size(st, &size), STORE_OK);
	CHECK_INT(size, 0);
	exec(st, "DELETE FROM events WHERE at=100");
}

/* A claimed job 30 with one attempt, run by daemon d; returns the job. */
static struct claimed_job *
claim_30(struct store *st, const char *d, int64_t now)
{
	struct claimed_job *job = NULL;

	exec(st, "INSERT INTO jobs (id, params, priority, max_attempts) "
	    "VALUES (30, '{\"prompt\":\"x\"}', 1000, 3)");
	CHECK_INT(store_claim(st, d, now, 1000, &job), 1);
	CHECK_INT(job ? job->id : 0, 30);
	return job;
}

static void
test_image(struct store_image *img, const struct claimed_job *job, int idx)
{
	memset(img, 0, sizeof(*img));
	img->job_id = job->id;
	img->attempt_id = job->attempt_id;
	img->kind = IMAGE_PARTIAL;
	img->idx = idx;
	img->partial_index = -1;
	img->format = "png";
	img->sha256 = "cd";
	img->data = (const unsigned char *)"img";
	img->size = 3;
}

/* An ended attempt is never rewritten; a finish for an attempt that is not
 * the job's open one only closes nothing and reports LOST; an image for an
 * attempt of ours is kept even after the job was canceled. */
static void
test_attempt_guards(struct store *st)
{
	struct claimed_job *job = claim_30(st, "d3", 20000);
	struct attempt_result res = { 0 };
	struct store_image img;

	CHECK_INT(job->counted, 1);
	res.outcome = "interrupted";
	/* another daemon requeued it (lease expired) and ended our attempt */
	exec(st, "UPDATE attempts SET outcome='interrupted', ended_at=1 WHERE job_id=30");
	exec(st, "UPDATE jobs SET state='queued', lease_owner=NULL, lease_expires=NULL WHERE id=30");
	res.outcome = "succeeded";
	CHECK_INT(store_finish_attempt(st, "d3", 30, job->attempt_id, &res,
	    NEXT_SUCCEEDED, 0), STORE_LOST);
	CHECK_STR(q_text(st, "SELECT outcome FROM attempts WHERE job_id=30"), "interrupted");
	CHECK_STR(q_text(st, "SELECT state FROM jobs WHERE id=30"), "queued");
	/* its images still go in: upstream sent them for our attempt */
	test_image(&img, job, 0);
	CHECK_INT(store_commit_image(st, "d3", &img), STORE_LOST);
	CHECK_INT(q_int(st, "SELECT count(*) FROM images WHERE job_id=30"), 1);
	/* but never into another daemon's attempt */
	img.idx = 1;
	CHECK_INT(store_commit_image(st, "d4", &img), STORE_LOST);
	CHECK_INT(q_int(st, "SELECT count(*) FROM images WHERE job_id=30"), 1);
	/* the same daemon claims the job again: the old attempt is not it */
	{
		struct claimed_job *again = NULL;
		CHECK_INT(store_claim(st, "d3", 20001, 1000, &again), 1);
		CHECK_INT(again ? again->attempt : 0, 2);
		CHECK_INT(again ? again->counted : 0, 2);
		CHECK_INT(store_finish_attempt(st, "d3", 30, job->attempt_id,
		    &res, NEXT_SUCCEEDED, 0), STORE_LOST);
		CHECK_STR(q_text(st, "SELECT state FROM jobs WHERE id=30"), "running");
		CHECK_INT(store_finish_attempt(st, "d3", 30, again->attempt_id,
		    &res, NEXT_SUCCEEDED, 0), STORE_OK);
		CHECK_STR(q_text(st, "SELECT group_concat(outcome) FROM (SELECT outcome FROM attempts WHERE job_id=30 ORDER BY number)"),
		    "interrupted,succeeded");
		/* and closing it twice changes nothing */
		res.outcome = "canceled";
		CHECK_INT(store_finish_attempt(st, "d3", 30, again->attempt_id,
		    &res, NEXT_FAILED, 0), STORE_LOST);
		CHECK_STR(q_text(st, "SELECT outcome FROM attempts WHERE number=2 AND job_id=30"), "succeeded");
		CHECK_STR(q_text(st, "SELECT state FROM jobs WHERE id=30"), "succeeded");
		claimed_job_free(again);
	}
	claimed_job_free(job);
	exec(st, "DELETE FROM jobs WHERE id=30");
}

/* A lease round renews the listed runs before it requeues: a daemon late
 * with its round never requeues what it still runs; unlisted jobs of its
 * own (no run left) expire. */
static void
test_lease_round(struct store *st)
{
	struct claimed_job *a = NULL, *b = NULL;
	struct store_run_ref ref, *owned = NULL;
	size_t n = 0;
	int requeued = -1;

	exec(st, "INSERT INTO jobs (id, params, priority) VALUES (40, '{}', 900), (41, '{}', 899)");
	CHECK_INT(store_claim(st, "d5", 30000, 1000, &a), 1);
	CHECK_INT(store_claim(st, "d5", 30000, 1000, &b), 1);
	CHECK_INT(store_owned_runs(st, "d5", &owned, &n), STORE_OK);
	CHECK_INT(n, 2);
	CHECK(n == 2 && owned[0].attempt_id != owned[1].attempt_id);
	free(owned);
	ref.job_id = a->id;
	ref.attempt_id = a->attempt_id;
	/* 5 s late: both leases expired; only a is still run */
	CHECK_INT(store_lease_round(st, "d5", 36000, 1000, &ref, 1, &requeued),
	    STORE_OK);
	CHECK_INT(requeued, 1);
	CHECK_STR(q_text(st, "SELECT state FROM jobs WHERE id=40"), "running");
	CHECK_INT(q_int(st, "SELECT lease_expires FROM jobs WHERE id=40"), 37000);
	CHECK_STR(q_text(st, "SELECT state FROM jobs WHERE id=41"), "queued");
	CHECK_INT(store_owned_runs(st, "d5", &owned, &n), STORE_OK);
	CHECK_INT(n, 1);
	CHECK(n == 1 && owned[0].job_id == 40 && owned[0].attempt_id == a->attempt_id);
	free(owned);
	claimed_job_free(a);
	claimed_job_free(b);
	exec(st, "DELETE FROM jobs WHERE id IN (40, 41)");
}

/* Inputs over the limit are refused from their length(), unread. */
static void
test_input_limits(struct store *st)
{
	struct claimed_job *job = NULL;

	exec(st, "INSERT INTO jobs (id, params, priority) VALUES (50, '{}', 950);"
	    "INSERT INTO inputs (job_id, role, ordinal, filename, data) VALUES "
	    "(50, 'image', 0, 'ok.png', X'01'), "
	    "(50, 'image', 1, 'huge.png', zeroblob(52428801))");
	CHECK_INT(store_claim(st, "d6", 40000, 1000, &job), 1);
	CHECK(job != NULL && job->load_error != NULL &&
	    strstr(job->load_error, "image 1 (huge.png): 52428801 bytes") != NULL);
	CHECK_INT(job ? job->ninputs : 9, 1);
	CHECK_INT(job ? job->load_transient : 9, 0);
	claimed_job_free(job);
	exec(st, "DELETE FROM jobs WHERE id=50");
}

/* The seam: the Nth write of a kind fails COUNT times with the code asked,
 * rolled back (nothing of it stays); then the same write goes through. */
/* The daemon's gauges: one read, every state, the same as counting. */
static void
test_job_counts(struct store *st)
{
	static const char *const states[] = { "queued", "running",
	    "retry_wait", "succeeded", "failed", "canceled", "no_such" };
	int64_t counts[7], total = 0;
	char sql[128];
	int i;

	CHECK_INT(store_job_counts(st, states, 7, counts), STORE_OK);
	for (i = 0; i < 6; i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM jobs WHERE "
		    "state = '%s'", states[i]);
		CHECK_INT(counts[i], q_int(st, sql));
		total += counts[i];
	}
	CHECK_INT(counts[6], 0);
	CHECK_INT(total, q_int(st, "SELECT count(*) FROM jobs"));
	CHECK(total > 0 && counts[3] > 0 && counts[5] > 0);
}

static void
test_fault_seam(struct store *st)
{
	struct claimed_job *job = NULL;
	struct store_image img;
	char err[256];

	CHECK_INT(store_set_faults(st, "image:2:full:2,claim:1:busy", err,
	    sizeof(err)), 0);
	CHECK_INT(store_set_faults(st, "image:0:full", err, sizeof(err)), -1);
	CHECK(strstr(err, "image:0:full") != NULL);
	CHECK_INT(store_set_faults(st, "pictures:1:full", err, sizeof(err)), -1);
	CHECK_INT(store_set_faults(st, "image:1:melt", err, sizeof(err)), -1);
	/* counts start where the store's did: take fresh counts */
	store_close(st);
	st = store_open(dbpath, 0, 2000, err, sizeof(err));
	CHECK(st != NULL);
	if (st == NULL)
		return;
	CHECK_INT(store_set_faults(st, "image:2:full:2,claim:1:busy", err,
	    sizeof(err)), 0);
	exec(st, "INSERT INTO jobs (id, params, priority) VALUES (60, '{}', 990)");
	CHECK_INT(store_claim(st, "d8", 50000, 1000, &job), STORE_BUSY);
	CHECK_INT(store_errcode(st), SQLITE_BUSY);
	CHECK_STR(q_text(st, "SELECT state FROM jobs WHERE id=60"), "queued");
	CHECK_INT(q_int(st, "SELECT count(*) FROM attempts WHERE job_id=60"), 0);
	CHECK_INT(store_claim(st, "d8", 50000, 1000, &job), 1);
	if (job == NULL)
		goto out;
	test_image(&img, job, 0);
	CHECK_INT(store_commit_image(st, "d8", &img), STORE_OK);
	img.idx = 1;
	CHECK_INT(store_commit_image(st, "d8", &img), STORE_ERR);
	CHECK_INT(store_errcode(st), SQLITE_FULL);
	CHECK(store_error_transient(store_errcode(st)));
	CHECK_INT(store_commit_image(st, "d8", &img), STORE_ERR);
	CHECK_INT(q_int(st, "SELECT count(*) FROM images WHERE job_id=60"), 1);
	CHECK_INT(store_commit_image(st, "d8", &img), STORE_OK);
	CHECK_INT(q_int(st, "SELECT count(*) FROM images WHERE job_id=60"), 2);
	/* a real, permanent error: the same image twice (UNIQUE) */
	CHECK_INT(store_commit_image(st, "d8", &img), STORE_ERR);
	CHECK_INT(store_errcode(st), SQLITE_CONSTRAINT);
	CHECK(!store_error_transient(store_errcode(st)));
out:
	claimed_job_free(job);
	exec(st, "DELETE FROM jobs WHERE id=60");
	store_close(st);
}

/* A claim under a budget holds each job's estimate on its attempt and
 * stops at the first job that would cross it; what an attempt cost (or
 * that it was not billed) replaces its hold in the sums. */
static void
test_budget_claim(struct store *st)
{
	struct budget_claim bc;
	struct budget_limit l;
	struct budget_verdict v;
	struct claimed_job *job = NULL;
	char err[128];
	int64_t now = 5000100;

	exec(st, "INSERT INTO jobs (id, params, priority) VALUES "
	    "(900, '{\"prompt\":\"abcd\",\"model\":\"gpt-image-2\",\"quality\":\"low\",\"size\":\"1024x1024\"}', 100), "
	    "(901, '{\"prompt\":\"abcd\",\"model\":\"gpt-image-2\",\"quality\":\"low\",\"size\":\"1024x1024\"}', 100), "
	    "(902, '{\"prompt\":\"abcd\",\"model\":\"gpt-image-2\",\"quality\":\"low\",\"size\":\"1024x1024\"}', 100)");
	memset(&bc, 0, sizeof(bc));
	bc.day_start = bc.month_start = 5000000; /* earlier attempts: before */
	/* 4 + 32 text tokens, 196 output: 232 a job; two fit */
	CHECK_INT(budget_parse(BUDGET_DAILY_TOKENS, "464", &l, err, sizeof(err)),
	    0);
	budget_set_add(&bc.limits, &l);
	CHECK_INT(store_claim_held(st, "d1", now, 60000, &bc, &v, &job), 1);
	CHECK(!v.crossed);
	CHECK_INT(job->id, 900);
	claimed_job_free(job);
	CHECK_INT(q_int(st, "SELECT reserve_tokens FROM attempts WHERE job_id = 900"), 232);
	CHECK_STR(q_text(st, "SELECT model FROM attempts WHERE job_id = 900"), "gpt-image-2");
	CHECK(q_int(st, "SELECT reserve_usd_micro FROM attempts WHERE job_id = 900") > 0);
	CHECK_INT(store_claim_held(st, "d1", now, 60000, &bc, &v, &job), 1);
	claimed_job_free(job);
	/* the third would cross: left queued, no attempt */
	CHECK_INT(store_claim_held(st, "d1", now, 60000, &bc, &v, &job), 0);
	CHECK(job == NULL);
	CHECK(v.crossed);
	CHECK_INT(v.limit.kind, BUDGET_DAILY_TOKENS);
	CHECK_INT(v.spent, 464);
	CHECK_INT(v.need, 232);
	CHECK_STR(q_text(st, "SELECT state FROM jobs WHERE id = 902"), "queued");
	CHECK_INT(q_int(st, "SELECT count(*) FROM attempts WHERE job_id = 902"), 0);
	/* 901 reported usage: its 100 tokens count, not its hold (a cut
	 * stream's 0 would leave the hold) */
	exec(st, "UPDATE attempts SET total_tokens = 100, usage = '{}' WHERE job_id = 901");
	CHECK_INT(store_claim_held(st, "d1", now, 60000, &bc, &v, &job), 0);
	CHECK_INT(v.spent, 332);
	exec(st, "UPDATE attempts SET total_tokens = 0 WHERE job_id = 901");
	CHECK_INT(store_claim_held(st, "d1", now, 60000, &bc, &v, &job), 0);
	CHECK_INT(v.spent, 464);
	/* 900 was not billed: it counts nothing, and 902 fits */
	exec(st, "UPDATE attempts SET cost_status = 'not_billed' WHERE job_id = 900");
	CHECK_INT(store_claim_held(st, "d1", now, 60000, &bc, &v, &job), 1);
	CHECK(!v.crossed);
	CHECK_INT(job != NULL ? job->id : 0, 902);
	claimed_job_free(job);
	/* sums another program's rows overflow: the claim fails whole,
	 * nothing leased, no attempt, the job queued, and the next claim
	 * (the rows gone) goes through */
	exec(st, "INSERT INTO jobs (id, params, priority) VALUES "
	    "(903, '{\"prompt\":\"abcd\",\"model\":\"gpt-image-2\",\"quality\":\"low\",\"size\":\"1024x1024\"}', 100);"
	    "INSERT INTO attempts (job_id, number, daemon_id, started_at, "
	    "outcome, ended_at, model, cost_usd_micro, cost_status) VALUES "
	    "(900, 2, 'other', 5000050, 'failed', 5000060, 'x', 9000000000000000000, 'known'), "
	    "(900, 3, 'other', 5000050, 'failed', 5000060, 'x', 9000000000000000000, 'known')");
	bc.limits.rows[0].limit = 1000000;
	CHECK(store_claim_held(st, "d1", now, 60000, &bc, &v, &job) < 0);
	CHECK(job == NULL);
	CHECK_STR(q_text(st, "SELECT state FROM jobs WHERE id = 903"), "queued");
	CHECK_INT(q_int(st, "SELECT attempts FROM jobs WHERE id = 903"), 0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs WHERE id = 903 AND lease_owner IS NULL"), 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM attempts WHERE job_id = 903"), 0);
	exec(st, "DELETE FROM attempts WHERE daemon_id = 'other'");
	bc.limits.rows[0].limit = 1000000000;
	CHECK_INT(store_claim_held(st, "d1", now, 60000, &bc, &v, &job), 1);
	CHECK_INT(job != NULL ? job->id : 0, 903);
	claimed_job_free(job);
	/* the model held is the params' own, whole: not cut at 64 bytes
	 * (here inside a two-byte character, which is no text at all) */
	exec(st, "INSERT INTO jobs (id, params, priority) VALUES "
	    "(904, '{\"prompt\":\"abcd\",\"model\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\u00e9-local\",\"quality\":\"low\",\"size\":\"1024x1024\"}', 100)");
	CHECK_INT(store_claim_held(st, "d1", now, 60000, &bc, &v, &job), 1);
	CHECK_INT(job != NULL ? job->id : 0, 904);
	claimed_job_free(job);
	CHECK_STR(q_text(st, "SELECT model FROM attempts WHERE job_id = 904"),
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\xc3\xa9-local");
	/* without budgets the claim holds nothing */
	CHECK_INT(q_int(st, "SELECT count(*) FROM attempts WHERE job_id < 900 AND (reserve_tokens IS NOT NULL OR model IS NOT NULL)"), 0);
	exec(st, "UPDATE attempts SET outcome = 'canceled', ended_at = 1 WHERE job_id >= 900;"
	    "UPDATE jobs SET state = 'canceled', lease_owner = NULL, lease_expires = NULL WHERE id >= 900");
}

int
main(void)
{
	struct store *st = fresh_store();

	test_claim_order(st);
	test_commit_and_finish(st);
	test_cancel_and_leases(st);
	test_answered_attempt_counts(st);
	test_requeue_and_exhaust(st);
	test_invalid_rows(st);
	test_deferred_checkpoint(st);
	test_truncate_wal(st);
	test_attempt_guards(st);
	test_lease_round(st);
	test_input_limits(st);
	test_job_counts(st);
	test_budget_claim(st);
	test_fault_seam(st); /* closes st */
	unlink(dbpath);
	return tu_finish("test_store");
}
