/* bench_stats.h: what the claim benchmarks (claim_bench.c on SQLite,
 * claim_bench_pg.c on PostgreSQL) share: a clock in ms and percentiles. */
#ifndef IMGEDIT_BENCH_STATS_H
#define IMGEDIT_BENCH_STATS_H

#include <time.h>

static inline double
now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* qsort's comparison of doubles, ascending. */
static inline int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n-1], p in (0, 100]. */
static inline double
pct(const double *v, int n, double p)
{
	int k = (int)((p / 100.0) * n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

#endif
