/* testutil.h: the unit tests' assertion macros; each failure prints where
 * and what, and main() returns tu_finish() so ctest sees the verdict. */
#ifndef IMGEDIT_TESTUTIL_H
#define IMGEDIT_TESTUTIL_H

#include <stdio.h>
#include <string.h>
#include <time.h>

static int tu_failed, tu_checked;

#define CHECK(cond) do { tu_checked++; if (!(cond)) { tu_failed++; \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_INT(a, b) do { long long tu_a = (long long)(a), tu_b = (long long)(b); tu_checked++; \
	if (tu_a != tu_b) { tu_failed++; fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", \
	__FILE__, __LINE__, #a, tu_a, #b, tu_b); } } while (0)
#define CHECK_STR(a, b) do { const char *tu_a = (a), *tu_b = (b); tu_checked++; \
	if (!tu_a || !tu_b || strcmp(tu_a, tu_b) != 0) { tu_failed++; fprintf(stderr, \
	"%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, tu_a ? tu_a : "(null)", \
	tu_b ? tu_b : "(null)"); } } while (0)
#define CHECK_MEM(a, b, n) do { tu_checked++; if (memcmp((a), (b), (n)) != 0) { tu_failed++; \
	fprintf(stderr, "%s:%d: %s differs from %s over %zu bytes\n", __FILE__, __LINE__, #a, #b, \
	(size_t)(n)); } } while (0)

/* Monotonic milliseconds, fractional: for timing inside a test. */
static inline double tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Returns main()'s exit status; a test that checked nothing fails. */
static inline int tu_finish(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, tu_checked, tu_failed);
	return (tu_failed || tu_checked == 0) ? 1 : 0;
}

#endif
