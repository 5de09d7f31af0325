/* claim_bench_pg.c: times the daemon's claim on PostgreSQL (pgstore_claim:
 * pick the next ready job FOR UPDATE SKIP LOCKED, lease it, insert its
 * attempt row, return its params and inputs) on an existing imgedit
 * database, one job per claim, sent on a pgconn driven by a libevent loop
 * as imgeditd does. Built ad hoc by scripts/bench against the core library
 * (not part of the CMake build):
 *
 *   cc -O2 -I daemon scripts/lib/claim_bench_pg.c build/bench/libimgedit_core.a \
 *      $(pkg-config --libs sqlite3 libcurl libevent jansson libpng libcrypto libpq)
 *
 *   claim_bench_pg URI [CLAIMS [SYNCHRONOUS_COMMIT]]   (default 1000, and
 *                                                    the server's setting)
 *
 * Each claim is timed from pgstore_claim to its callback (one round trip,
 * one transaction, committed as the server is configured, or with the
 * session's synchronous_commit set to SYNCHRONOUS_COMMIT). Prints one JSON
 * line: {"queued_before":N,"claims":K,"median_ms":..,"p90_ms":..,
 * "p99_ms":..,"max_ms":..,"mean_ms":..}, the shape of claim_bench. The
 * claimed jobs are left running under the lease of daemon id
 * "claim-bench": use a scratch database. Exit 1 on any error or when
 * fewer than CLAIMS jobs were ready. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "pgconn.h"
#include "pgschema.h"
#include "pgstore.h"
#include "bench_stats.h"

#define WAIT_MS 30000   /* for the connection, and for each claim */

/* One claim's outcome, filled by on_claim. */
struct claim {
	int done;       /* the callback ran */
	int n;          /* jobs claimed, or -1 */
	int bad;        /* the job came back without its inputs */
	char why[256];
};

struct conn_state {
	int done, up;
	char why[256];
};

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(int *)arg = 1;
}

/* Runs base until *flag is set or ms pass. Returns 0, or -1 on the
 * deadline. */
static int
run_until(struct event_base *base, const int *flag, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	struct event *t;
	int late = 0;

	if ((t = evtimer_new(base, on_deadline, &late)) == NULL)
		return -1;
	evtimer_add(t, &tv);
	while (!*flag && !late)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
	return *flag ? 0 : -1;
}

static void
on_state(void *arg, int up, const char *err)
{
	struct conn_state *cs = arg;

	cs->done = 1;
	cs->up = up;
	if (!up)
		snprintf(cs->why, sizeof(cs->why), "%s", err ? err : "down");
}

static void
on_claim(void *arg, int n, struct claimed_job **jobs,
    const struct pgconn_reply *reply)
{
	struct claim *cl = arg;

	cl->done = 1;
	cl->n = n;
	if (n < 0)
		snprintf(cl->why, sizeof(cl->why), "%s %s", reply->sqlstate,
		    reply->error ? reply->error : "");
	else if (n == 1 && (jobs[0]->load_error != NULL ||
	    jobs[0]->ninputs == 0)) {
		cl->bad = 1;
		snprintf(cl->why, sizeof(cl->why), "job %lld: inputs not "
		    "loaded: %s", (long long)jobs[0]->id, jobs[0]->load_error ?
		    jobs[0]->load_error : "none");
	}
}

/* Jobs ready to claim, by a plain synchronous query; -1 on error. */
static long long
count_queued(const char *uri)
{
	char err[256];
	PGconn *db;
	PGresult *r;
	long long n = -1;

	if ((db = pgschema_connect(uri, err, sizeof(err))) == NULL) {
		fprintf(stderr, "claim_bench_pg: %s\n", err);
		return -1;
	}
	r = PQexec(db, "SELECT count(*) FROM jobs WHERE "
	    "state IN ('queued','retry_wait')");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		n = atoll(PQgetvalue(r, 0, 0));
	else
		fprintf(stderr, "claim_bench_pg: count: %s",
		    PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(db);
	return n;
}

/* Times n claims of one job each into lat[]. Returns 0 or -1. */
static int
time_claims(struct event_base *base, struct pgconn *c, double *lat, int n)
{
	struct claim cl;
	double t0;
	int i;

	for (i = 0; i < n; i++) {
		cl = (struct claim){ 0 };
		t0 = now_ms(CLOCK_MONOTONIC);
		if (pgstore_claim(c, "claim-bench",
		    (int64_t)now_ms(CLOCK_REALTIME), 3600 * 1000, 1, on_claim,
		    &cl) == -1) {
			fprintf(stderr, "claim_bench_pg: claim %d not sent\n",
			    i + 1);
			return -1;
		}
		if (run_until(base, &cl.done, WAIT_MS) == -1) {
			fprintf(stderr, "claim_bench_pg: claim %d: no answer in "
			    "%d ms\n", i + 1, WAIT_MS);
			return -1;
		}
		lat[i] = now_ms(CLOCK_MONOTONIC) - t0;
		if (cl.n != 1 || cl.bad) {
			fprintf(stderr, "claim_bench_pg: claim %d returned %d: "
			    "%s\n", i + 1, cl.n, cl.n == 0 ? "nothing ready" :
			    cl.why);
			return -1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct event_base *base = NULL;
	struct pgconn *c = NULL;
	struct conn_state cs = { 0 };
	double *lat = NULL, sum = 0;
	long long queued;
	int i, n, rc = 1;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: claim_bench_pg URI [CLAIMS "
		    "[SYNCHRONOUS_COMMIT]]\n");
		return 2;
	}
	n = argc >= 3 ? atoi(argv[2]) : 1000;
	if (n < 1 || (lat = calloc((size_t)n, sizeof(*lat))) == NULL) {
		fprintf(stderr, "claim_bench_pg: bad claim count '%s'\n",
		    argv[2]);
		return 2;
	}
	if ((queued = count_queued(argv[1])) < 0)
		goto fail;
	if ((base = event_base_new()) == NULL ||
	    (c = pgconn_new(base, argv[1])) == NULL) {
		fprintf(stderr, "claim_bench_pg: out of memory\n");
		goto fail;
	}
	pgconn_set_state_cb(c, on_state, &cs);
	if (argc == 4 && pgconn_set(c, "synchronous_commit", argv[3]) == -1) {
		fprintf(stderr, "claim_bench_pg: bad synchronous_commit '%s'\n",
		    argv[3]);
		rc = 2;
		goto fail;
	}
	if (pgstore_prepare(c) == -1 || pgconn_open(c) == -1) {
		fprintf(stderr, "claim_bench_pg: cannot start the connection\n");
		goto fail;
	}
	if (run_until(base, &cs.done, WAIT_MS) == -1 || !cs.up) {
		fprintf(stderr, "claim_bench_pg: connect: %s\n",
		    cs.done ? cs.why : "timed out");
		goto fail;
	}
	if (time_claims(base, c, lat, n) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		sum += lat[i];
	qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	printf("{\"queued_before\":%lld,\"claims\":%d,\"median_ms\":%.4f,"
	    "\"p90_ms\":%.4f,\"p99_ms\":%.4f,\"max_ms\":%.4f,\"mean_ms\":%.4f}\n",
	    queued, n, pct(lat, n, 50), pct(lat, n, 90), pct(lat, n, 99),
	    lat[n - 1], sum / n);
	rc = 0;
fail:
	pgconn_free(c);
	if (base != NULL)
		event_base_free(base);
	free(lat);
	return rc;
}
