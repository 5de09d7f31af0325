/* test_storeq.c: the SQLite queue backend on a real file, through the
 * front: a write that meets another connection's lock waits (the loop does
 * not), side requests run meanwhile, results come back in order, permanent
 * errors come back; opening writes the daemons row, freeing stops it. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "backend.h"
#include "store.h"
#include "storeq.h"
#include "testutil.h"
#include "util.h"

static char dbpath[256];

struct seen {
	int n;
	int rc[8];
	enum sq_op op[8];
	uint64_t seq[8];
	int written[8];
	int64_t counts[2];
};

static void
on_done(void *arg, struct sq_req *req)
{
	struct seen *s = arg;

	if (s->n < 8) {
		s->rc[s->n] = req->rc;
		s->op[s->n] = req->op;
		s->seq[s->n] = req->seq;
		s->written[s->n] = req->written;
	}
	if (req->op == SQ_COUNTS) {
		s->counts[0] = req->u.counts.counts[0];
		s->counts[1] = req->u.counts.counts[1];
	}
	s->n++;
	if (req->op == SQ_CLAIM && req->rc == 1) {
		claimed_job_free(req->u.claim.jobs[0]);
		req->u.claim.jobs[0] = NULL;
	}
	sq_req_free(req);
}

/* Runs the loop for ms, or until *n reaches want. */
static void
run_loop(struct event_base *base, const int *n, int want, int64_t ms)
{
	int64_t end = mono_ms() + ms;
	struct timeval tick = { 0, 10000 };

	while (mono_ms() < end && *n < want)
		event_base_loopexit(base, &tick), event_base_dispatch(base);
}

static sqlite3 *
other_connection(void)
{
	sqlite3 *db = NULL;

	CHECK_INT(sqlite3_open(dbpath, &db), SQLITE_OK);
	return db;
}

static void
fill_image(struct sq_req *r, int64_t job, int64_t attempt, int idx)
{
	r->u.image.job_id = job;
	r->u.image.attempt_id = attempt;
	r->u.image.kind = IMAGE_PARTIAL;
	r->u.image.idx = idx;
	r->u.image.partial_index = -1;
	r->u.image.format = "png";
	r->u.image.data = (const unsigned char *)"abc";
	r->u.image.size = 3;
}

int
main(void)
{
	struct event_base *base = event_base_new();
	struct store *st;
	struct storeq *q;
	struct storeq_health h;
	struct seen seen = { 0 };
	struct sq_req *r;
	struct storeq_params p = { .daemon_id = "dq", .host = "h", .pid = 7 };
	sqlite3 *other;
	char err[256];
	int64_t attempt, t0, lag = 0, t;

	snprintf(dbpath, sizeof(dbpath), "/tmp/imgedit-test-storeq-%d.db",
	    (int)getpid());
	unlink(dbpath);
	st = store_open(dbpath, STORE_CREATE, 2000, err, sizeof(err));
	CHECK(st != NULL && base != NULL);
	if (st == NULL || base == NULL)
		return 1;
	CHECK_INT(store_migrate(st, err, sizeof(err)), STORE_OK);
	CHECK_INT(sqlite3_exec(store_db(st), "INSERT INTO jobs (id, params) "
	    "VALUES (1, '{}')", NULL, NULL, NULL), SQLITE_OK);
	store_close(st);
	p.uri = dbpath;
	q = storeq_new(base, backend_for(dbpath), &p);
	CHECK(q != NULL);
	if (q == NULL)
		return 1;
	CHECK_STR(storeq_db_name(q), dbpath);

	/* claim */
	r = sq_req_new(SQ_CLAIM, on_done, &seen);
	r->u.claim.lease_ms = 60000;
	r->u.claim.want = 4; /* one job is ready: one claimed */
	storeq_submit(q, r);
	run_loop(base, &seen.n, 1, 5000);
	CHECK_INT(seen.n, 1);
	CHECK_INT(seen.rc[0], 1);

	/* another program holds the write lock: the image waits, the loop
	 * does not, a poll (a read) goes through meanwhile */
	other = other_connection();
	attempt = 0;
	{
		sqlite3_stmt *s;
		sqlite3_prepare_v2(other, "SELECT id FROM attempts WHERE job_id=1", -1, &s, NULL);
		if (sqlite3_step(s) == SQLITE_ROW)
			attempt = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	CHECK(attempt > 0);
	CHECK_INT(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	r = sq_req_new(SQ_IMAGE, on_done, &seen);
	fill_image(r, 1, attempt, 0);
	storeq_submit(q, r);
	r = sq_req_new(SQ_POLL, on_done, &seen);
	r->u.poll.data_version = -1;
	storeq_submit(q, r);
	t0 = mono_ms();
	while (mono_ms() - t0 < 1500) { /* the loop turns at its pace */
		t = mono_ms();
		run_loop(base, &seen.n, 99, 20);
		if (mono_ms() - t > lag)
			lag = mono_ms() - t;
	}
	CHECK(lag < 200);
	CHECK_INT(seen.n, 2); /* the poll, not the image */
	CHECK_INT(seen.op[1], SQ_POLL);
	CHECK_INT(seen.rc[1], STORE_OK);
	storeq_health(q, &h);
	CHECK(h.locked_ms >= 1000);
	CHECK_INT(h.fault_ms, 0);
	CHECK_INT(h.lock_waits, 1); /* one write, however many tries */
	CHECK(h.lock_wait_ms >= 1000);
	CHECK_INT(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	run_loop(base, &seen.n, 3, 5000);
	CHECK_INT(seen.n, 3);
	CHECK_INT(seen.op[2], SQ_IMAGE);
	CHECK_INT(seen.rc[2], STORE_OK);
	CHECK(seen.seq[2] > seen.seq[1]);
	storeq_health(q, &h);
	CHECK_INT(h.locked_ms, 0);
	CHECK_INT(h.lock_waits, 1);
	CHECK(h.lock_wait_ms >= 1500 && h.lock_wait_ms < 5000); /* it ended */
	CHECK_INT(seen.written[2], 1);

	/* in order: an image, then the same image again (UNIQUE: a permanent
	 * error, returned at once, not retried), then the finish */
	r = sq_req_new(SQ_IMAGE, on_done, &seen);
	fill_image(r, 1, attempt, 1);
	storeq_submit(q, r);
	r = sq_req_new(SQ_IMAGE, on_done, &seen);
	fill_image(r, 1, attempt, 1);
	storeq_submit(q, r);
	r = sq_req_new(SQ_FINISH, on_done, &seen);
	r->u.finish.job_id = 1;
	r->u.finish.attempt_id = attempt;
	r->u.finish.res.outcome = "succeeded";
	r->u.finish.next = NEXT_SUCCEEDED;
	storeq_submit(q, r);
	run_loop(base, &seen.n, 6, 5000);
	CHECK_INT(seen.n, 6);
	CHECK_INT(seen.rc[3], STORE_OK);
	CHECK_INT(seen.rc[4], STORE_ERR);
	CHECK_INT(seen.op[5], SQ_FINISH);
	CHECK_INT(seen.rc[5], STORE_OK);
	CHECK_INT(seen.written[3], 1);
	CHECK_INT(seen.written[4], 0);
	CHECK_INT(seen.written[5], 1);

	/* the job counts, a side request */
	{
		static const char *const states[] = { "queued", "succeeded" };

		r = sq_req_new(SQ_COUNTS, on_done, &seen);
		r->u.counts.states = states;
		r->u.counts.nstates = 2;
		storeq_submit(q, r);
		run_loop(base, &seen.n, 7, 5000);
		CHECK_INT(seen.n, 7);
		CHECK_INT(seen.counts[0], 0);
		CHECK_INT(seen.counts[1], 1);
	}
	storeq_free(q);
	{
		sqlite3_stmt *s;
		sqlite3_prepare_v2(other, "SELECT (SELECT count(*) FROM images WHERE job_id=1), "
		    "(SELECT state FROM jobs WHERE id=1), "
		    "(SELECT sha256 FROM images WHERE idx=0), "
		    "(SELECT count(*) FROM daemons WHERE id='dq' AND host='h' "
		    "AND pid=7 AND stopped_at IS NOT NULL)", -1, &s, NULL);
		CHECK_INT(sqlite3_step(s), SQLITE_ROW);
		CHECK_INT(sqlite3_column_int(s, 0), 2);
		CHECK_STR((const char *)sqlite3_column_text(s, 1), "succeeded");
		/* the writer hashed the bytes */
		CHECK_STR((const char *)sqlite3_column_text(s, 2),
		    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
		/* opening wrote this daemon's row, freeing marked it stopped */
		CHECK_INT(sqlite3_column_int(s, 3), 1);
		sqlite3_finalize(s);
	}
	sqlite3_close(other);
	event_base_free(base);
	unlink(dbpath);
	return tu_finish("test_storeq");
}
