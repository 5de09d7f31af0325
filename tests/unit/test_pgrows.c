/* test_pgrows.c: pgstore's row parsers (claim, counts, poll) on results
 * made without a server (PQmakeEmptyPGresult): good rows, and rows the
 * statements never return: refused; and text made UTF-8 for the server. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgstore.h"
#include "testutil.h"

enum { C_JOB, C_ATTEMPT, C_NUMBER, C_COUNTED, C_MAX, C_STREAM, C_PLEN,
    C_PARAMS, C_ROLE, C_ORDINAL, C_FILENAME, C_CTYPE, C_SIZE, C_DATA,
    C_RANK, C_COUNT };

static const int widths[C_COUNT] = { 8, 8, 4, 4, 4, 4, 8, 0, 0, 4, 0, 0, 8,
    0, 8 };

static PGresult *
result_n(int binary, int ncols)
{
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc attrs[C_COUNT];
	char names[C_COUNT][16];
	int i;

	memset(attrs, 0, sizeof(attrs));
	for (i = 0; i < ncols; i++) {
		snprintf(names[i], sizeof(names[i]), "c%d", i);
		attrs[i].name = names[i];
		attrs[i].format = binary;
	}
	PQsetResultAttrs(r, ncols, attrs);
	return r;
}

static PGresult *
result(int binary)
{
	return result_n(binary, C_COUNT);
}

static void
put_int(PGresult *r, int row, int col, int64_t v, int width)
{
	unsigned char b[8];
	int i;

	for (i = 0; i < width; i++)
		b[i] = (unsigned char)((uint64_t)v >> (8 * (width - 1 - i)));
	PQsetvalue(r, row, col, (char *)b, width);
}

static void
put_text(PGresult *r, int row, int col, const char *s, int len)
{
	PQsetvalue(r, row, col, (char *)s, s == NULL ? -1 : len);
}

/* A row of job id (attempt 10 * id, number 1) with one input, or none
 * when role is NULL. */
static void
row(PGresult *r, int n, int64_t id, const char *role, int ordinal,
    const char *data, int64_t size, int64_t rank)
{
	static const char params[] = "{\"prompt\": \"p\"}";
	int64_t ints[C_COUNT] = { id, 10 * id, 1, 1, 5, 1, sizeof(params) - 1 };
	int c;

	for (c = C_JOB; c <= C_PLEN; c++)
		put_int(r, n, c, ints[c], widths[c]);
	put_text(r, n, C_PARAMS, params, sizeof(params) - 1);
	if (role == NULL) {
		for (c = C_ROLE; c < C_COUNT; c++)
			put_text(r, n, c, NULL, 0);
		return;
	}
	put_text(r, n, C_ROLE, role, (int)strlen(role));
	put_int(r, n, C_ORDINAL, ordinal, 4);
	put_text(r, n, C_FILENAME, "in.png", 6);
	put_text(r, n, C_CTYPE, NULL, 0);
	if (size < 0)
		put_text(r, n, C_SIZE, NULL, 0);
	else
		put_int(r, n, C_SIZE, size, 8);
	put_text(r, n, C_DATA, data, data ? (int)strlen(data) : 0);
	put_int(r, n, C_RANK, rank, 8);
}

static void
test_good(void)
{
	struct claimed_job *jobs[PGSTORE_CLAIM_MAX] = { NULL };
	PGresult *r = result(1);
	int n, i;

	row(r, 0, 7, "image", 0, "abc", 3, 1);
	row(r, 1, 7, "mask", 0, "", 0, 2);
	row(r, 2, 9, NULL, 0, NULL, 0, 0);
	n = pgstore_claim_rows(r, jobs, PGSTORE_CLAIM_MAX);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(jobs[0]->id, 7);
		CHECK_INT(jobs[0]->attempt_id, 70);
		CHECK_INT(jobs[0]->max_attempts, 5);
		CHECK_STR(jobs[0]->params, "{\"prompt\": \"p\"}");
		CHECK_INT(jobs[0]->ninputs, 2);
		CHECK(jobs[0]->load_error == NULL);
		CHECK_INT(jobs[0]->inputs[0].size, 3);
		CHECK_MEM(jobs[0]->inputs[0].data, "abc", 3);
		CHECK_INT(jobs[0]->inputs[1].role, INPUT_MASK);
		CHECK_INT(jobs[0]->inputs[1].size, 0);
		CHECK(jobs[0]->inputs[1].data != NULL);
		CHECK(jobs[0]->inputs[0].content_type == NULL);
		CHECK_INT(jobs[1]->id, 9);
		CHECK_INT(jobs[1]->ninputs, 0);
	}
	for (i = 0; i < n; i++)
		claimed_job_free(jobs[i]);
	PQclear(r);
}

/* Inputs without their bytes: the job comes back with load_error. */
static void
test_load_errors(void)
{
	struct claimed_job *jobs[PGSTORE_CLAIM_MAX] = { NULL };
	PGresult *r = result(1);
	int n, i;

	row(r, 0, 1, "image", 0, NULL, (int64_t)STORE_INPUT_MAX + 1, 1);
	row(r, 1, 2, "image", 3, NULL, -1, 1);
	for (i = 0; i < 18; i++)
		row(r, 2 + i, 3, "image", i, i < 17 ? "x" : NULL, 1, i + 1);
	n = pgstore_claim_rows(r, jobs, PGSTORE_CLAIM_MAX);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK(jobs[0]->load_error && strstr(jobs[0]->load_error, "over the 50 MB"));
		CHECK_INT(jobs[0]->ninputs, 0);
		CHECK(jobs[1]->load_error && strstr(jobs[1]->load_error, "missing"));
		CHECK(jobs[2]->load_error && strstr(jobs[2]->load_error, "more than 17"));
		CHECK_INT(jobs[2]->ninputs, 17);
	}
	for (i = 0; i < n; i++)
		claimed_job_free(jobs[i]);
	PQclear(r);
}

/* Each kind of wrong row fails the whole result, leaking nothing. */
static void
test_refused(void)
{
	struct claimed_job *jobs[PGSTORE_CLAIM_MAX + 1] = { NULL };
	PGresult *r;
	int i;

	r = result(0);          /* text format */
	row(r, 0, 1, NULL, 0, NULL, 0, 0);
	CHECK_INT(pgstore_claim_rows(r, jobs, PGSTORE_CLAIM_MAX), -1);
	PQclear(r);

	r = result(1);          /* an integer 3 bytes wide */
	row(r, 0, 1, "image", 0, "ab", 2, 1);
	row(r, 1, 2, NULL, 0, NULL, 0, 0);
	PQsetvalue(r, 1, C_NUMBER, "\0\0\1", 3);
	CHECK_INT(pgstore_claim_rows(r, jobs, PGSTORE_CLAIM_MAX), -1);
	PQclear(r);

	r = result(1);          /* a NUL inside params */
	row(r, 0, 1, NULL, 0, NULL, 0, 0);
	PQsetvalue(r, 0, C_PARAMS, "{}\0{}", 5);
	CHECK_INT(pgstore_claim_rows(r, jobs, PGSTORE_CLAIM_MAX), -1);
	PQclear(r);

	r = result(1);          /* bytes that are not the size said */
	row(r, 0, 1, "image", 0, "abcd", 3, 1);
	CHECK_INT(pgstore_claim_rows(r, jobs, PGSTORE_CLAIM_MAX), -1);
	PQclear(r);

	r = result(1);          /* more jobs than asked for */
	for (i = 0; i < PGSTORE_CLAIM_MAX + 1; i++)
		row(r, i, i + 1, NULL, 0, NULL, 0, 0);
	CHECK_INT(pgstore_claim_rows(r, jobs, PGSTORE_CLAIM_MAX), -1);
	CHECK_INT(pgstore_claim_rows(r, jobs, PGSTORE_CLAIM_MAX + 1), PGSTORE_CLAIM_MAX + 1);
	for (i = 0; i < PGSTORE_CLAIM_MAX + 1; i++)
		claimed_job_free(jobs[i]);
	PQclear(r);

	r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK); /* no columns */
	CHECK_INT(pgstore_claim_rows(r, jobs, PGSTORE_CLAIM_MAX), -1);
	PQclear(r);
}

/* A counts row: state, count (8 bytes unless width says). */
static void
count_row(PGresult *r, int n, const char *state, int64_t count, int width)
{
	put_text(r, n, 0, state, state ? (int)strlen(state) : 0);
	put_int(r, n, 1, count, width);
}

static void
test_counts(void)
{
	static const char *const states[] = { "queued", "running", "failed" };
	int64_t counts[3];
	PGresult *r = result_n(1, 2);

	count_row(r, 0, "running", 2, 8);
	count_row(r, 1, "queued", 5000000000LL, 8);
	count_row(r, 2, "succeeded", 9, 8);
	CHECK_INT(pgstore_count_rows(r, states, 3, counts), 0);
	CHECK_INT(counts[0], 5000000000LL);
	CHECK_INT(counts[1], 2);
	CHECK_INT(counts[2], 0);
	count_row(r, 3, NULL, 1, 8);            /* a NULL state */
	CHECK_INT(pgstore_count_rows(r, states, 3, counts), -1);
	PQclear(r);

	r = result_n(1, 2);
	count_row(r, 0, "queued", 1, 3);        /* a count 3 bytes wide */
	CHECK_INT(pgstore_count_rows(r, states, 3, counts), -1);
	PQclear(r);
	r = result_n(1, 2);
	put_text(r, 0, 0, "que\0ued", 7);       /* a NUL inside */
	put_int(r, 0, 1, 1, 8);
	CHECK_INT(pgstore_count_rows(r, states, 3, counts), -1);
	PQclear(r);
	r = result_n(0, 2);                     /* text format */
	CHECK_INT(pgstore_count_rows(r, states, 3, counts), -1);
	PQclear(r);
	r = result_n(1, 3);
	CHECK_INT(pgstore_count_rows(r, states, 3, counts), -1);
	PQclear(r);
}

/* A poll row: pause, resume, ready, wake (-1: NULL), job and attempt
 * (0: NULL). */
static void
poll_row(PGresult *r, int n, const char *pause, int64_t wake, int64_t job,
    int64_t attempt)
{
	put_text(r, n, 0, pause, pause ? (int)strlen(pause) : 0);
	put_text(r, n, 1, NULL, 0);
	put_int(r, n, 2, 1, 4);
	if (wake < 0)
		put_text(r, n, 3, NULL, 0);
	else
		put_int(r, n, 3, wake, 8);
	if (job == 0) {
		put_text(r, n, 4, NULL, 0);
		put_text(r, n, 5, NULL, 0);
	} else {
		put_int(r, n, 4, job, 8);
		put_int(r, n, 5, attempt, 8);
	}
}

static void
test_poll(void)
{
	struct pgstore_poll p;
	PGresult *r = result_n(1, 6);

	poll_row(r, 0, "maintenance", 1234, 7, 70);
	poll_row(r, 1, "maintenance", 1234, 9, 90);
	CHECK_INT(pgstore_poll_rows(r, &p), 0);
	CHECK_INT(p.ready, 1);
	CHECK_INT(p.next_wake, 1234);
	CHECK_STR(p.pause, "maintenance");
	CHECK(p.resume == NULL);
	CHECK_INT(p.nowned, 2);
	CHECK_INT(p.owned[1].job_id, 9);
	CHECK_INT(p.owned[1].attempt_id, 90);
	pgstore_poll_clear(&p);
	poll_row(r, 2, NULL, -1, 0, 0);         /* a NULL run among runs */
	CHECK_INT(pgstore_poll_rows(r, &p), -1);
	CHECK(p.pause == NULL && p.owned == NULL && p.nowned == 0);
	PQclear(r);

	r = result_n(1, 6);                     /* no runs, nothing waiting */
	poll_row(r, 0, NULL, -1, 0, 0);
	CHECK_INT(pgstore_poll_rows(r, &p), 0);
	CHECK_INT(p.nowned, 0);
	CHECK_INT(p.next_wake, 0);
	CHECK(p.pause == NULL);
	pgstore_poll_clear(&p);
	PQclear(r);

	r = result_n(1, 6);                     /* no row at all */
	CHECK_INT(pgstore_poll_rows(r, &p), -1);
	poll_row(r, 0, NULL, -1, 0, 0);
	put_text(r, 0, 2, NULL, 0);             /* ready NULL */
	CHECK_INT(pgstore_poll_rows(r, &p), -1);
	PQclear(r);
	r = result_n(1, 6);
	poll_row(r, 0, NULL, -1, 5, 50);
	put_int(r, 0, 5, 50, 2);                /* attempt 2 bytes wide */
	CHECK_INT(pgstore_poll_rows(r, &p), -1);
	PQclear(r);
	r = result_n(1, 5);
	CHECK_INT(pgstore_poll_rows(r, &p), -1);
	PQclear(r);
}

static void
utf8_is(const char *in, const char *want)
{
	char *got = pgstore_utf8(in);

	CHECK_STR(got, want);
	free(got);
}

static void
test_utf8(void)
{
	utf8_is("", "");
	utf8_is("req_abc 123", "req_abc 123");
	utf8_is("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
	    "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80");
	utf8_is("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");       /* U+10FFFF */
	utf8_is("cut \xe6\x97", "cut ??");
	utf8_is("\xe6\x97x", "??x");
	utf8_is("\xc0\xaf \xe0\x80\xaf", "?? ???");            /* overlong */
	utf8_is("\xed\xa0\x80", "???");                         /* surrogate */
	utf8_is("\xf4\x90\x80\x80 \xf5\x80", "???? ??");       /* past U+10FFFF */
	utf8_is("\x80\xbf\xff\xfe", "????");
}

int
main(void)
{
	test_utf8();
	test_good();
	test_load_errors();
	test_refused();
	test_counts();
	test_poll();
	return tu_finish("test_pgrows");
}
