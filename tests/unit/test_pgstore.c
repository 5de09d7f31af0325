/* test_pgstore.c: daemon/pg/pgstore.c's claim against a real PostgreSQL
 * (argv[1]: its URI, the queue filled by tests/integration/t_pg_store.sh):
 * 4 connections claiming at once take every ready job exactly once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pgstore.h"
#include "pgschema.h"
#include "testutil.h"
#include "testloop.h"
#include "util.h"

#define NJOBS 2000          /* plain jobs, ids 1..NJOBS */
#define ID_BIGPARAMS (NJOBS + 1)
#define ID_MANY (NJOBS + 2) /* 18 inputs */
#define ID_SPENT (NJOBS + 3)
#define ID_LATER (NJOBS + 4)
#define MAXID (NJOBS + 4)
#define NCLIENTS 4
#define INFLIGHT 2

struct client {
	struct pgconn *c;
	char id[16];
	int inflight, empty, claims, jobs, errors;
	int64_t last_id;
	int last_prio;
	int in_order;
};

struct run {
	struct client cl[NCLIENTS];
	int owner[MAXID + 1];       /* client + 1 that claimed it */
	int times[MAXID + 1];       /* how many claims returned it */
	int ups, bad_inputs, bad_attempts, idle;
	double lat[4096];           /* claim round trips, ms */
	int nlat;
};

struct claim_ctx {
	struct run *run;
	struct client *cl;
	double t0;
};

static int
prio_of(int64_t id)
{
	return id <= NJOBS ? (int)(id % 5) : 0;
}

/* The inputs t_pg_store.sh gave job id, as this job came back. */
static int
inputs_ok(const struct claimed_job *j)
{
	char want[3][64];
	size_t n = 0, i;

	if (j->id > NJOBS)
		return 1;
	if (j->id % 3 == 0)
		snprintf(want[n++], sizeof(want[0]), "input of job %lld", (long long)j->id);
	if (j->id % 7 == 0)
		snprintf(want[n++], sizeof(want[0]), "blob of job %lld", (long long)j->id);
	if (j->id % 11 == 0)
		snprintf(want[n++], sizeof(want[0]), "mask of job %lld", (long long)j->id);
	if (j->ninputs != n || j->load_error != NULL)
		return 0;
	for (i = 0; i < n; i++) {
		const struct job_input *in = &j->inputs[i];
		int mask = j->id % 11 == 0 && i == n - 1;

		if (in->size != strlen(want[i]) ||
		    memcmp(in->data, want[i], in->size) != 0 ||
		    in->role != (mask ? INPUT_MASK : INPUT_IMAGE) ||
		    strcmp(in->filename, mask ? "mask.png" : "in.png") != 0)
			return 0;
	}
	return 1;
}

static void send_claim(struct run *run, struct client *cl);

static void
one_job(struct run *run, struct client *cl, const struct claimed_job *j)
{
	int prio = prio_of(j->id);

	if (j->id < 1 || j->id > MAXID) {
		run->bad_inputs++;
		return;
	}
	run->times[j->id]++;
	run->owner[j->id] = (int)(cl - run->cl) + 1;
	cl->jobs++;
	/* within one connection: never a job ranked before one it had */
	if (cl->last_id != 0 && (prio > cl->last_prio ||
	    (prio == cl->last_prio && j->id < cl->last_id)))
		cl->in_order = 0;
	cl->last_id = j->id;
	cl->last_prio = prio;
	if (!inputs_ok(j))
		run->bad_inputs++;
	if (j->attempt != 1 || j->counted != 1 || j->attempt_id <= 0 ||
	    j->max_attempts != 5 || j->stream != 1)
		run->bad_attempts++;
	if (j->id == ID_BIGPARAMS && (j->params != NULL || j->load_error == NULL ||
	    strstr(j->load_error, "params") == NULL))
		run->bad_inputs++;
	if (j->id == ID_MANY && (j->load_error == NULL ||
	    strstr(j->load_error, "more than 17") == NULL || j->ninputs != 17))
		run->bad_inputs++;
	if (j->id <= NJOBS && (j->params == NULL ||
	    strstr(j->params, "\"prompt\"") == NULL))
		run->bad_inputs++;
}

static void
on_claim(void *arg, int n, struct claimed_job **jobs,
    const struct pgconn_reply *reply)
{
	struct claim_ctx *ctx = arg;
	struct run *run = ctx->run;
	struct client *cl = ctx->cl;
	int i;

	if (run->nlat < 4096)
		run->lat[run->nlat++] = tu_now_ms() - ctx->t0;
	free(ctx);
	cl->inflight--;
	if (n < 0) {
		fprintf(stderr, "%s: claim failed: %s %s\n", cl->id,
		    reply->sqlstate, reply->error);
		cl->errors++;
		n = 0;
	} else
		cl->claims++;
	for (i = 0; i < n; i++)
		one_job(run, cl, jobs[i]);
	if (n == 0)
		cl->empty = 1;
	else
		send_claim(run, cl);
	if (cl->empty && cl->inflight == 0)
		run->idle++;
}

static void
send_claim(struct run *run, struct client *cl)
{
	struct claim_ctx *ctx;

	if (cl->empty || (ctx = malloc(sizeof(*ctx))) == NULL)
		return;
	ctx->run = run;
	ctx->cl = cl;
	ctx->t0 = tu_now_ms();
	if (pgstore_claim(cl->c, cl->id, now_ms(), 60000, PGSTORE_CLAIM_MAX,
	    on_claim, ctx) == -1) {
		free(ctx);
		cl->errors++;
		return;
	}
	cl->inflight++;
}

static void
on_state(void *arg, int up, const char *err)
{
	struct run *run = arg;

	if (up)
		run->ups++;
	else
		fprintf(stderr, "connection down: %s\n", err);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static char *
one_value(PGconn *db, const char *sql)
{
	static char buf[256];
	PGresult *r = PQexec(db, sql);

	snprintf(buf, sizeof(buf), "%s", PQresultStatus(r) == PGRES_TUPLES_OK &&
	    PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : PQresultErrorMessage(r));
	PQclear(r);
	return buf;
}

/* The database agrees: each job running under the client that got it. */
static void
check_database(PGconn *db, const struct run *run)
{
	PGresult *r;
	int i, wrong = 0;
	int64_t id;
	const char *owner;

	CHECK_STR(one_value(db, "SELECT count(*) FROM jobs WHERE state = 'running'"),
	    "2002");
	CHECK_STR(one_value(db, "SELECT count(*) || ' ' || count(DISTINCT job_id) "
	    "|| ' ' || max(number) FROM attempts"), "2002 2002 1");
	CHECK_STR(one_value(db, "SELECT state || ' ' || error_type || ' ' || attempts "
	    "FROM jobs WHERE id = 2003"), "failed max_attempts 5");
	CHECK_STR(one_value(db, "SELECT state FROM jobs WHERE id = 2004"), "queued");
	CHECK_STR(one_value(db, "SELECT count(*) FROM attempts a JOIN jobs j "
	    "ON j.id = a.job_id WHERE a.daemon_id <> j.lease_owner"), "0");
	r = PQexec(db, "SELECT id, lease_owner FROM jobs WHERE state = 'running'");
	CHECK_INT(PQresultStatus(r), PGRES_TUPLES_OK);
	for (i = 0; i < PQntuples(r); i++) {
		id = atoll(PQgetvalue(r, i, 0));
		owner = PQgetvalue(r, i, 1);
		if (id < 1 || id > MAXID || run->owner[id] == 0 ||
		    strcmp(owner, run->cl[run->owner[id] - 1].id) != 0)
			wrong++;
	}
	PQclear(r);
	CHECK_INT(wrong, 0);
}

int
main(int argc, char **argv)
{
	struct event_base *base = event_base_new();
	static struct run run;
	PGconn *db;
	char err[256];
	int i, once = 0, twice = 0;
	double t0, wall;

	if (argc != 2) {
		fprintf(stderr, "usage: test_pgstore URI\n");
		return 2;
	}
	if ((db = pgschema_connect(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (i = 0; i < NCLIENTS; i++) {
		struct client *cl = &run.cl[i];

		snprintf(cl->id, sizeof(cl->id), "daemon-%d", i + 1);
		cl->in_order = 1;
		cl->c = pgconn_new(base, argv[1]);
		pgconn_set_state_cb(cl->c, on_state, &run);
		CHECK_INT(pgstore_prepare(cl->c), 0);
		CHECK_INT(pgconn_open(cl->c), 0);
	}
	CHECK_INT(tu_run_until(base, &run.ups, NCLIENTS, 10000), 0);
	CHECK_INT(pgstore_claim(run.cl[0].c, "x", 0, 1, 0, on_claim, NULL), -1);
	CHECK_INT(pgstore_claim(run.cl[0].c, "x", 0, 1, 17, on_claim, NULL), -1);
	/* another session holds the first job in line: claims pass it by */
	CHECK_STR(one_value(db, "BEGIN; SELECT id FROM jobs WHERE id = 4 FOR UPDATE"),
	    "4");
	t0 = tu_now_ms();
	for (i = 0; i < NCLIENTS * INFLIGHT; i++)
		send_claim(&run, &run.cl[i % NCLIENTS]);
	if (tu_run_until(base, &run.idle, NCLIENTS, 20000) == -1) {
		fprintf(stderr, "claims did not finish in 20 s: waiting on a lock?\n");
		tu_failed++;
		exit(tu_finish("test_pgstore"));
	}
	wall = tu_now_ms() - t0;
	CHECK_INT(run.times[4], 0);
	CHECK_STR(one_value(db, "COMMIT; SELECT 1"), "1");
	run.cl[0].empty = 0;
	run.cl[0].last_id = 0;  /* it ranks first: order starts again */
	send_claim(&run, &run.cl[0]);
	CHECK_INT(tu_run_until(base, &run.idle, NCLIENTS + 1, 10000), 0);
	CHECK_INT(run.times[4], 1);

	for (i = 1; i <= MAXID; i++) {
		once += run.times[i] == 1;
		twice += run.times[i] > 1;
	}
	CHECK_INT(once, NJOBS + 2);
	CHECK_INT(twice, 0);
	CHECK_INT(run.times[ID_SPENT], 0);
	CHECK_INT(run.times[ID_LATER], 0);
	CHECK_INT(run.bad_inputs, 0);
	CHECK_INT(run.bad_attempts, 0);
	for (i = 0; i < NCLIENTS; i++) {
		printf("%s: %d claims, %d jobs\n", run.cl[i].id, run.cl[i].claims,
		    run.cl[i].jobs);
		CHECK_INT(run.cl[i].errors, 0);
		CHECK(run.cl[i].jobs > 0);
		CHECK(run.cl[i].in_order);
	}
	qsort(run.lat, run.nlat, sizeof(run.lat[0]), cmp_double);
	if (run.nlat > 0)
		printf("%d jobs by %d connections in %.0f ms; claim of %d: "
		    "p50 %.2f ms, p99 %.2f ms\n", once, NCLIENTS, wall,
		    PGSTORE_CLAIM_MAX, run.lat[run.nlat / 2],
		    run.lat[run.nlat * 99 / 100]);
	check_database(db, &run);

	for (i = 0; i < NCLIENTS; i++)
		pgconn_free(run.cl[i].c);
	PQfinish(db);
	event_base_free(base);
	return tu_finish("test_pgstore");
}
