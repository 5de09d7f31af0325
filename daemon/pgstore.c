/* pgstore.c: store requests on PostgreSQL as one statement each on a
 * pgconn: the claim (SKIP LOCKED) and the parsing of its binary rows. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgstore.h"

#define CLAIM_STMT "imgedit_claim"

/* $1 daemon id, $2 now, $3 lease ms, $4 how many, $5 params limit,
 * $6 input size limit, $7 inputs limit. A row per input (one row with
 * NULL input columns for a job without inputs). */
static const char claim_sql[] =
    "WITH picked AS ("
    " SELECT id FROM jobs WHERE state IN ('queued','retry_wait')"
    " AND not_before <= $2::bigint ORDER BY priority DESC, id"
    " LIMIT $4::int FOR UPDATE SKIP LOCKED),"
    " spent AS ("
    " UPDATE jobs j SET state = 'failed', error_type = 'max_attempts',"
    " error_code = NULL, error_status = NULL,"
    " error_message = coalesce(j.error_message || ' (', '(') ||"
    " 'gave up after ' || j.attempts || ' attempts)',"
    " finished_at = $2, updated_at = $2"
    " FROM picked p WHERE j.id = p.id AND j.attempts >= j.max_attempts"
    " RETURNING j.id),"
    " leased AS ("
    " UPDATE jobs j SET state = 'running', lease_owner = $1::text,"
    " lease_expires = $2 + $3::bigint, attempts = j.attempts + 1,"
    " updated_at = $2"
    " FROM picked p WHERE j.id = p.id AND j.attempts < j.max_attempts"
    " RETURNING j.id, j.priority, j.attempts, j.max_attempts, j.stream,"
    " j.params),"
    " tried AS ("
    " INSERT INTO attempts (job_id, number, daemon_id, started_at)"
    " SELECT l.id, coalesce((SELECT max(a.number) FROM attempts a"
    " WHERE a.job_id = l.id), 0) + 1, $1, $2 FROM leased l"
    " RETURNING id, job_id, number),"
    " ins AS ("
    " SELECT i.job_id, i.role, i.ordinal, i.filename, i.content_type,"
    " octet_length(coalesce(i.data, b.data))::bigint AS size,"
    " coalesce(i.data, b.data) AS bytes, row_number() OVER"
    " (PARTITION BY i.job_id ORDER BY i.role = 'mask', i.ordinal) AS rank"
    " FROM inputs i LEFT JOIN blobs b ON b.id = i.blob_id"
    " WHERE i.job_id IN (SELECT id FROM leased))"
    " SELECT l.id, t.id, t.number, l.attempts, l.max_attempts,"
    " l.stream::int, octet_length(l.params::text)::bigint,"
    " CASE WHEN octet_length(l.params::text) <= $5::bigint"
    " THEN l.params::text END,"
    " s.role, s.ordinal, s.filename, s.content_type, s.size,"
    " CASE WHEN s.size <= $6::bigint AND s.rank <= $7::bigint"
    " THEN s.bytes END, s.rank"
    " FROM leased l JOIN tried t ON t.job_id = l.id"
    " LEFT JOIN ins s ON s.job_id = l.id"
    " ORDER BY l.priority DESC, l.id, s.rank";

enum { C_JOB, C_ATTEMPT, C_NUMBER, C_COUNTED, C_MAX, C_STREAM, C_PLEN,
    C_PARAMS, C_ROLE, C_ORDINAL, C_FILENAME, C_CTYPE, C_SIZE, C_DATA,
    C_RANK, C_COUNT };

struct claim_req {
	char daemon_id[128];
	char now[24], lease[24], want[12], plim[24], ilim[24], nlim[12];
	const char *values[7];
	pgstore_claim_fn done;
	void *arg;
};

int
pgstore_prepare(struct pgconn *c)
{
	return pgconn_prepare(c, CLAIM_STMT, claim_sql);
}

/* Binary integers, big-endian; NULL or a wrong width fails. */
static int
get_int(const PGresult *r, int row, int col, int64_t *out)
{
	const unsigned char *p;
	int n = PQgetlength(r, row, col), i;
	uint64_t v = 0;

	if (PQgetisnull(r, row, col) || (n != 4 && n != 8))
		return -1;
	p = (const unsigned char *)PQgetvalue(r, row, col);
	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	*out = n == 4 ? (int64_t)(int32_t)(uint32_t)v : (int64_t)v;
	return 0;
}

/* A text column as a C string (caller frees), NULL for NULL; text with a
 * NUL inside fails. Returns 0 or -1. */
static int
get_text(const PGresult *r, int row, int col, char **out)
{
	int n = PQgetlength(r, row, col);
	const char *p = PQgetvalue(r, row, col);

	*out = NULL;
	if (PQgetisnull(r, row, col))
		return 0;
	if (memchr(p, '\0', (size_t)n) != NULL || (*out = strndup(p, n)) == NULL)
		return -1;
	return 0;
}

/* The first reason a job's rows cannot run; later ones are dropped. */
static void __attribute__((format(printf, 2, 3)))
set_load_error(struct claimed_job *job, const char *fmt, ...)
{
	va_list ap;

	if (job->load_error != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&job->load_error, fmt, ap) == -1)
		job->load_error = NULL;
	va_end(ap);
}

/* The job's own columns, from its first row. Returns 0 or -1. */
static int
parse_job(const PGresult *r, int row, struct claimed_job *job)
{
	int64_t v[C_PLEN + 1];
	int col;

	for (col = C_JOB; col <= C_PLEN; col++)
		if (get_int(r, row, col, &v[col]) == -1)
			return -1;
	job->id = v[C_JOB];
	job->attempt_id = v[C_ATTEMPT];
	job->attempt = (int)v[C_NUMBER];
	job->counted = (int)v[C_COUNTED];
	job->max_attempts = (int)v[C_MAX];
	job->stream = (int)v[C_STREAM];
	if (get_text(r, row, C_PARAMS, &job->params) == -1)
		return -1;
	if (job->params == NULL)
		set_load_error(job, "params: %lld bytes, over the %d limit",
		    (long long)v[C_PLEN], STORE_PARAMS_MAX);
	return 0;
}

/* One input row; inputs without their bytes set load_error. */
static int
parse_input(const PGresult *r, int row, struct claimed_job *job)
{
	struct job_input *in, *grown;
	int64_t ordinal, size = -1, rank;
	char *role;

	if (PQgetisnull(r, row, C_ROLE))
		return 0;                       /* a job without inputs */
	if (get_int(r, row, C_ORDINAL, &ordinal) == -1 ||
	    get_int(r, row, C_RANK, &rank) == -1 ||
	    get_text(r, row, C_ROLE, &role) == -1)
		return -1;
	if (!PQgetisnull(r, row, C_SIZE) &&
	    get_int(r, row, C_SIZE, &size) == -1) {
		free(role);
		return -1;
	}
	if (rank > STORE_INPUTS_MAX) {
		set_load_error(job, "inputs: more than %d (16 images and a "
		    "mask at most)", STORE_INPUTS_MAX);
		free(role);
		return 0;
	}
	if (size > (int64_t)STORE_INPUT_MAX) {
		set_load_error(job, "%s %lld: %lld bytes, over the %u MB limit",
		    role, (long long)ordinal, (long long)size,
		    STORE_INPUT_MAX >> 20);
		free(role);
		return 0;
	}
	grown = reallocarray(job->inputs, job->ninputs + 1, sizeof(*grown));
	if (grown == NULL) {
		free(role);
		return -1;
	}
	job->inputs = grown;
	in = &grown[job->ninputs++];
	memset(in, 0, sizeof(*in));
	in->role = strcmp(role, "mask") == 0 ? INPUT_MASK : INPUT_IMAGE;
	in->ordinal = (int)ordinal;
	if (get_text(r, row, C_FILENAME, &in->filename) == -1 ||
	    get_text(r, row, C_CTYPE, &in->content_type) == -1)
		goto fail;
	if (size < 0 || PQgetisnull(r, row, C_DATA)) {
		set_load_error(job, "%s %lld (%s): its bytes are missing "
		    "(blob_id points to no blob)", role, (long long)ordinal,
		    in->filename ? in->filename : "?");
		free(role);
		return 0;
	}
	in->size = (size_t)PQgetlength(r, row, C_DATA);
	if ((int64_t)in->size != size || (in->data = malloc(size ? size : 1))
	    == NULL)
		goto fail;
	memcpy(in->data, PQgetvalue(r, row, C_DATA), in->size);
	free(role);
	return 0;
fail:
	free(role);
	return -1;
}

int
pgstore_claim_rows(const PGresult *res, struct claimed_job **out, int max)
{
	int n = 0, row, rows = PQntuples(res);
	int64_t id;

	if (PQnfields(res) != C_COUNT || PQbinaryTuples(res) != 1)
		return -1;
	for (row = 0; row < rows; row++) {
		if (get_int(res, row, C_JOB, &id) == -1)
			goto fail;
		if (n == 0 || out[n - 1]->id != id) {
			if (n == max || (out[n] = calloc(1, sizeof(**out))) ==
			    NULL)
				goto fail;
			if (parse_job(res, row, out[n++]) == -1)
				goto fail;
		}
		if (parse_input(res, row, out[n - 1]) == -1)
			goto fail;
	}
	return n;
fail:
	while (n > 0)
		claimed_job_free(out[--n]);
	return -1;
}

static void
claim_done(void *arg, struct pgconn_reply *reply)
{
	struct claim_req *req = arg;
	struct claimed_job *jobs[PGSTORE_CLAIM_MAX] = { NULL };
	int n = -1, i;

	if (reply->ok && (n = pgstore_claim_rows(reply->res, jobs,
	    PGSTORE_CLAIM_MAX)) == -1) {
		reply->ok = 0;
		reply->error = "the claim returned rows it should not";
	}
	req->done(req->arg, n, jobs, reply);
	for (i = 0; i < n; i++)
		claimed_job_free(jobs[i]);
	free(req);
}

int
pgstore_claim(struct pgconn *c, const char *daemon_id, int64_t now,
    int64_t lease_ms, int want, pgstore_claim_fn done, void *arg)
{
	struct claim_req *req;
	struct pgconn_query q = { .stmt = CLAIM_STMT, .nparams = 7,
	    .binary_result = 1, .done = claim_done };

	if (want < 1 || want > PGSTORE_CLAIM_MAX ||
	    (req = calloc(1, sizeof(*req))) == NULL)
		return -1;
	snprintf(req->daemon_id, sizeof(req->daemon_id), "%s", daemon_id);
	snprintf(req->now, sizeof(req->now), "%lld", (long long)now);
	snprintf(req->lease, sizeof(req->lease), "%lld", (long long)lease_ms);
	snprintf(req->want, sizeof(req->want), "%d", want);
	snprintf(req->plim, sizeof(req->plim), "%d", STORE_PARAMS_MAX);
	snprintf(req->ilim, sizeof(req->ilim), "%u", STORE_INPUT_MAX);
	snprintf(req->nlim, sizeof(req->nlim), "%d", STORE_INPUTS_MAX);
	req->values[0] = req->daemon_id;
	req->values[1] = req->now;
	req->values[2] = req->lease;
	req->values[3] = req->want;
	req->values[4] = req->plim;
	req->values[5] = req->ilim;
	req->values[6] = req->nlim;
	req->done = done;
	req->arg = arg;
	q.values = req->values;
	q.arg = req;
	if (pgconn_query(c, &q) == -1) {
		free(req);
		return -1;
	}
	return 0;
}
