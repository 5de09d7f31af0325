/* test_pgrows.c: pgstore_claim_rows on results made without a server
 * (PQmakeEmptyPGresult): good rows, and rows no claim returns: refused. */
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
result(int binary)
{
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc attrs[C_COUNT];
	char names[C_COUNT][8];
	int i;

	memset(attrs, 0, sizeof(attrs));
	for (i = 0; i < C_COUNT; i++) {
		snprintf(names[i], sizeof(names[i]), "c%d", i);
		attrs[i].name = names[i];
		attrs[i].format = binary;
	}
	PQsetResultAttrs(r, C_COUNT, attrs);
	return r;
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

int
main(void)
{
	test_good();
	test_load_errors();
	test_refused();
	return tu_finish("test_pgrows");
}
