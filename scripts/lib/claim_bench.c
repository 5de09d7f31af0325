/* claim_bench.c: times the daemon's claim (store_claim: pick the next ready
 * job, lease it, insert its attempt row, load its params and inputs) on an
 * existing imgedit database. Built ad hoc by scripts/bench against the core
 * library (not part of the CMake build):
 *
 *   cc -O2 -I daemon scripts/lib/claim_bench.c build/bench/libimgedit_core.a \
 *      $(pkg-config --libs sqlite3 libcurl libevent jansson libpng libcrypto)
 *
 *   claim_bench DB [CLAIMS]   (default 1000)
 *
 * Checkpoints are deferred as in imgeditd (store_defer_checkpoints): one
 * runs after the claim whose commit made it due, timed on its own.
 * Prints one JSON line: {"queued_before":N,"claims":K,"median_ms":..,
 * "p90_ms":..,"p99_ms":..,"max_ms":..,"mean_ms":..,"checkpoints":C,
 * "checkpoint_max_ms":..}. The claimed jobs are
 * left running under the lease of daemon id "claim-bench": use a scratch
 * database. Exit 1 on any store error or when fewer than CLAIMS jobs were
 * ready. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sqlite3.h>

#include "store.h"
#include "bench_stats.h"

static void
note_due(void *arg)
{
	*(int *)arg = 1;
}

static long long
count_queued(struct store *st)
{
	sqlite3_stmt *s;
	long long n = -1;

	if (sqlite3_prepare_v2(store_db(st), "SELECT count(*) FROM jobs WHERE "
	    "state IN ('queued','retry_wait')", -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

int
main(int argc, char **argv)
{
	char err[512];
	struct store *st;
	struct claimed_job *job;
	double *lat, sum = 0, t0, ckpt_max = 0, t;
	long long queued;
	int i, n, rc, due = 0, ckpts = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: claim_bench DB [CLAIMS]\n");
		return 2;
	}
	n = argc == 3 ? atoi(argv[2]) : 1000;
	if (n < 1 || (lat = calloc((size_t)n, sizeof(*lat))) == NULL) {
		fprintf(stderr, "claim_bench: bad claim count '%s'\n", argv[2]);
		return 2;
	}
	if ((st = store_open(argv[1], 0, 5000, err, sizeof(err))) == NULL) {
		fprintf(stderr, "claim_bench: %s: %s\n", argv[1], err);
		return 1;
	}
	if (store_migrate(st, err, sizeof(err)) != STORE_OK) {
		fprintf(stderr, "claim_bench: %s: %s\n", argv[1], err);
		return 1;
	}
	queued = count_queued(st);
	store_defer_checkpoints(st, STORE_CHECKPOINT_WAL_PAGES, note_due, &due);
	for (i = 0; i < n; i++) {
		t0 = now_ms(CLOCK_MONOTONIC);
		rc = store_claim(st, "claim-bench",
		    (int64_t)now_ms(CLOCK_REALTIME), 3600 * 1000, &job);
		lat[i] = now_ms(CLOCK_MONOTONIC) - t0;
		if (rc != 1) {
			fprintf(stderr, "claim_bench: claim %d returned %d: %s\n",
			    i + 1, rc, rc == 0 ? "nothing ready" :
			    store_errmsg(st));
			return 1;
		}
		if (job->load_error != NULL || job->ninputs == 0) {
			fprintf(stderr, "claim_bench: job %lld: inputs not "
			    "loaded: %s\n", (long long)job->id,
			    job->load_error ? job->load_error : "none");
			return 1;
		}
		claimed_job_free(job);
		sum += lat[i];
		if (due) {
			due = 0;
			t0 = now_ms(CLOCK_MONOTONIC);
			if (store_checkpoint(st, NULL) == STORE_ERR) {
				fprintf(stderr, "claim_bench: checkpoint: %s\n",
				    store_errmsg(st));
				return 1;
			}
			t = now_ms(CLOCK_MONOTONIC) - t0;
			ckpt_max = t > ckpt_max ? t : ckpt_max;
			ckpts++;
		}
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	printf("{\"queued_before\":%lld,\"claims\":%d,\"median_ms\":%.4f,"
	    "\"p90_ms\":%.4f,\"p99_ms\":%.4f,\"max_ms\":%.4f,\"mean_ms\":%.4f,"
	    "\"checkpoints\":%d,\"checkpoint_max_ms\":%.4f}\n",
	    queued, n, pct(lat, n, 50), pct(lat, n, 90), pct(lat, n, 99),
	    lat[n - 1], sum / n, ckpts, ckpt_max);
	store_close(st);
	free(lat);
	return 0;
}
