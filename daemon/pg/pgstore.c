/* pgstore.c: store requests on PostgreSQL as one statement each on a
 * pgconn: the claim (SKIP LOCKED), the writes of a run, leases, beats and
 * polls, and the parsing of their binary rows. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgstore.h"
#include "storesql.h"

#define CLAIM_STMT "imgedit_claim"
#define CLAIM_HELD_STMT "imgedit_claim_held"

/* The claim after its `picked` (the jobs to take, row-locked): $1 daemon
 * id, $2 now, $3 lease ms, $5 params limit, $6 input size limit, $7 inputs
 * limit; the attempt rows take COLS from VALS over `leased l` joined with
 * JOIN. A row per input (one row with NULL input columns for a job
 * without inputs). */
#define CLAIM_SQL_AFTER_PICKED(COLS, VALS, JOIN) \
    " spent AS (" \
    " UPDATE jobs j SET state = 'failed', error_type = 'max_attempts'," \
    " error_code = NULL, error_status = NULL," \
    " error_message = coalesce(j.error_message || ' (', '(') ||" \
    " 'gave up after ' || j.attempts || ' attempts)'," \
    " finished_at = $2, updated_at = $2" \
    " FROM picked p WHERE j.id = p.id AND j.attempts >= j.max_attempts" \
    " RETURNING j.id)," \
    " leased AS (" \
    " UPDATE jobs j SET state = 'running', lease_owner = $1::text," \
    " lease_expires = $2 + $3::bigint, attempts = j.attempts + 1," \
    " updated_at = $2" \
    " FROM picked p WHERE j.id = p.id AND j.attempts < j.max_attempts" \
    " RETURNING j.id, j.priority, j.attempts, j.max_attempts, j.stream," \
    " j.params)," \
    " stale AS (" \
    " UPDATE attempts a SET outcome = 'canceled', ended_at = $2," \
    " error_type = coalesce(a.error_type, 'canceled')," \
    " error_message = coalesce(a.error_message, 'the job was claimed" \
    " again while this attempt ran')" \
    " FROM leased l WHERE a.job_id = l.id AND a.outcome IS NULL" \
    " RETURNING a.id)," \
    " tried AS (" \
    " INSERT INTO attempts (job_id, number, daemon_id, started_at" COLS ")" \
    " SELECT l.id, coalesce((SELECT max(a.number) FROM attempts a" \
    " WHERE a.job_id = l.id), 0) + 1, $1, $2" VALS " FROM leased l" JOIN \
    " RETURNING id, job_id, number)," \
    " ins AS (" \
    " SELECT i.job_id, i.role, i.ordinal, i.filename, i.content_type," \
    " octet_length(coalesce(i.data, b.data))::bigint AS size," \
    " coalesce(i.data, b.data) AS bytes, row_number() OVER" \
    " (PARTITION BY i.job_id ORDER BY i.role <> 'image', i.ordinal) AS rank" \
    " FROM inputs i LEFT JOIN blobs b ON b.id = i.blob_id" \
    " WHERE i.job_id IN (SELECT id FROM leased))" \
    " SELECT l.id, t.id, t.number, l.attempts, l.max_attempts," \
    " l.stream::int, octet_length(l.params::text)::bigint," \
    " CASE WHEN octet_length(l.params::text) <= $5::bigint" \
    " THEN l.params::text END," \
    " s.role, s.ordinal, s.filename, s.content_type, s.size," \
    " CASE WHEN s.size <= $6::bigint AND s.rank <= $7::bigint" \
    " THEN s.bytes END, s.rank" \
    " FROM leased l JOIN tried t ON t.job_id = l.id" \
    " LEFT JOIN ins s ON s.job_id = l.id" \
    " ORDER BY l.priority DESC, l.id, s.rank"

/* $4 how many: the next ready jobs by priority then age. */
static const char claim_sql[] =
    "WITH picked AS ("
    " SELECT id FROM jobs WHERE state IN ('queued','retry_wait')"
    " AND not_before <= $2::bigint ORDER BY priority DESC, id"
    " LIMIT $4::int FOR UPDATE SKIP LOCKED),"
    CLAIM_SQL_AFTER_PICKED("", "", "");

/* Under budgets: $4 the job ids (bigint[]) still ready, each attempt
 * holding $8's dollars (bigint[], NULL: none) and $9's tokens (bigint[]),
 * its model the params' own. */
static const char claim_held_sql[] =
    "WITH held AS (SELECT * FROM unnest($4::bigint[], $8::bigint[],"
    " $9::bigint[]) AS h(id, usd, tokens)),"
    " picked AS ("
    " SELECT id FROM jobs WHERE id IN (SELECT id FROM held)"
    " AND state IN ('queued','retry_wait') AND not_before <= $2::bigint"
    " ORDER BY priority DESC, id FOR UPDATE SKIP LOCKED),"
    CLAIM_SQL_AFTER_PICKED(", model, reserve_usd_micro, reserve_tokens",
    ", CASE WHEN jsonb_typeof(l.params -> 'model') = 'string'"
    " THEN nullif(l.params ->> 'model', '') END, h.usd, h.tokens",
    " JOIN held h ON h.id = l.id");


enum { C_JOB, C_ATTEMPT, C_NUMBER, C_COUNTED, C_MAX, C_STREAM, C_PLEN,
    C_PARAMS, C_ROLE, C_ORDINAL, C_FILENAME, C_CTYPE, C_SIZE, C_DATA,
    C_RANK, C_COUNT };

struct claim_req {
	char daemon_id[128];
	char now[24], lease[24], want[12], plim[24], ilim[24], nlim[12];
	char *held[3];              /* ids, dollars, tokens: array literals */
	const char *values[9];
	pgstore_claim_fn done;
	void *arg;
};

static void
claim_req_free(struct claim_req *req)
{
	int i;

	for (i = 0; i < 3; i++)
		free(req->held[i]);
	free(req);
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
		job_refuse_params(job, v[C_PLEN]);
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
		job_refuse_inputs(job);
		free(role);
		return 0;
	}
	if (size > (int64_t)STORE_INPUT_MAX) {
		job_refuse_input(job, role, ordinal, PQgetisnull(r, row,
		    C_FILENAME) ? NULL : PQgetvalue(r, row, C_FILENAME), size);
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
	in->role = input_role_of(role);
	in->ordinal = (int)ordinal;
	if (get_text(r, row, C_FILENAME, &in->filename) == -1 ||
	    get_text(r, row, C_CTYPE, &in->content_type) == -1)
		goto fail;
	if (size < 0 || PQgetisnull(r, row, C_DATA)) {
		job_refuse_missing(job, role, ordinal, in->filename);
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
	claim_req_free(req);
}

/* "{a,b,...}": n values as PostgreSQL's array literal, NULL for a
 * negative one when nulls. Caller frees; NULL when out of memory. */
static char *
array_literal(const int64_t *v, int n, int nulls)
{
	char *out, *p;
	int i;

	if ((out = malloc((size_t)n * 21 + 3)) == NULL)
		return NULL;
	p = out;
	*p++ = '{';
	for (i = 0; i < n; i++)
		p += nulls && v[i] < 0 ? sprintf(p, "%sNULL", i ? "," : "") :
		    sprintf(p, "%s%lld", i ? "," : "", (long long)v[i]);
	*p++ = '}';
	*p = '\0';
	return out;
}

static int send_claim(struct pgconn *c, const char *daemon_id, int64_t now,
    int64_t lease_ms, int want, struct claim_req *req,
    pgstore_claim_fn done, void *arg);

int
pgstore_claim(struct pgconn *c, const char *daemon_id, int64_t now,
    int64_t lease_ms, int want, pgstore_claim_fn done, void *arg)
{
	struct claim_req *req;

	if (want < 1 || want > PGSTORE_CLAIM_MAX ||
	    (req = calloc(1, sizeof(*req))) == NULL)
		return -1;
	return send_claim(c, daemon_id, now, lease_ms, want, req, done, arg);
}

int
pgstore_claim_held(struct pgconn *c, const char *daemon_id, int64_t now,
    int64_t lease_ms, const int64_t *ids, const int64_t *usd,
    const int64_t *tokens, int n, pgstore_claim_fn done, void *arg)
{
	struct claim_req *req;

	if (n < 1 || n > PGSTORE_CLAIM_MAX ||
	    (req = calloc(1, sizeof(*req))) == NULL)
		return -1;
	if ((req->held[0] = array_literal(ids, n, 0)) == NULL ||
	    (req->held[1] = array_literal(usd, n, 1)) == NULL ||
	    (req->held[2] = array_literal(tokens, n, 0)) == NULL) {
		claim_req_free(req);
		return -1;
	}
	return send_claim(c, daemon_id, now, lease_ms, n, req, done, arg);
}

/* Sends req (the plain claim, or the held one when req->held is set);
 * frees it when it could not. */
static int
send_claim(struct pgconn *c, const char *daemon_id, int64_t now,
    int64_t lease_ms, int want, struct claim_req *req,
    pgstore_claim_fn done, void *arg)
{
	struct pgconn_query q = { .stmt = CLAIM_STMT, .nparams = 7,
	    .binary_result = 1, .done = claim_done };

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
	if (req->held[0] != NULL) {
		q.stmt = CLAIM_HELD_STMT;
		q.nparams = 9;
		req->values[3] = req->held[0];
		req->values[7] = req->held[1];
		req->values[8] = req->held[2];
	}
	req->done = done;
	req->arg = arg;
	q.values = req->values;
	q.arg = req;
	if (pgconn_query(c, &q) == -1) {
		claim_req_free(req);
		return -1;
	}
	return 0;
}

/* ---- the rest of a run's requests ---- */

#define ANSWERED_STMT "imgedit_answered"
#define IMAGE_STMT "imgedit_image"
#define FINISH_STMT "imgedit_finish"
#define LEASES_STMT "imgedit_leases"
#define BEAT_STMT "imgedit_beat"
#define STOPPED_STMT "imgedit_stopped"
#define COUNTS_STMT "imgedit_counts"
#define POLL_STMT "imgedit_poll"

/* $1 attempt, $2 daemon, $3 status, $4 request id */
static const char answered_sql[] =
    "UPDATE attempts SET http_status = $3::int, request_id = $4::text"
    " WHERE id = $1::bigint AND daemon_id = $2::text AND outcome IS NULL";

/* $1 job, $2 attempt, $3 daemon, $4 kind, $5 idx, $6 partial index,
 * $7 format, $8 width, $9 height, $10 size, $11 sha256, $12 quality,
 * $13 background, $14 reported size, $15 bytes (binary). Answers
 * (inserted, still ours). */
static const char image_sql[] =
    "WITH mine AS (SELECT 1 FROM attempts WHERE id = $2::bigint"
    " AND job_id = $1::bigint AND daemon_id = $3::text),"
    " ins AS (INSERT INTO images (job_id, attempt_id, kind, idx,"
    " partial_index, format, width, height, size, sha256, quality,"
    " background, reported_size, created_at, data)"
    " SELECT $1, $2, $4::text, $5::int, $6::int, $7::text, $8::int,"
    " $9::int, $10::bigint, $11::text, $12::text, $13::text, $14::text,"
    " imgedit_now_ms(), $15::bytea FROM mine RETURNING 1)"
    " SELECT (SELECT count(*) FROM ins)::int, EXISTS (SELECT 1 FROM jobs j"
    " JOIN attempts a ON a.job_id = j.id WHERE j.id = $1"
    " AND j.state = 'running' AND j.lease_owner = $3 AND a.id = $2"
    " AND a.outcome IS NULL)::int";

/* $1 job, $2 attempt, $3 daemon, $4 next state, $5 not_before,
 * $6 uncount (0/1), $7 the job takes the error (bool), $8 http status,
 * $9 error type, $10 code, $11 message, $12 request id, $13..$15 tokens
 * in, out, total, $16 outcome, $17 usage, $18 model, $19 cost (NULL: not
 * known), $20 cost status. The job row is locked (moved)
 * before the attempt's (closed), as in the lease round. Answers (moved,
 * closed). */
static const char finish_sql[] =
    "WITH t AS MATERIALIZED (SELECT imgedit_now_ms() AS ms),"
    " moved AS (UPDATE jobs j SET state = $4::text, lease_owner = NULL,"
    " lease_expires = NULL, not_before = CASE WHEN $4::text = 'retry_wait'"
    " OR $5::bigint > 0 THEN $5::bigint ELSE j.not_before END,"
    " attempts = j.attempts - $6::int,"
    " error_status = CASE WHEN $7::bool THEN $8::int END,"
    " error_type = CASE WHEN $7::bool THEN $9::text END,"
    " error_code = CASE WHEN $7::bool THEN $10::text END,"
    " error_message = CASE WHEN $7::bool THEN $11::text END,"
    " error_request_id = CASE WHEN $7::bool THEN $12::text END,"
    " input_tokens = j.input_tokens + $13::bigint,"
    " output_tokens = j.output_tokens + $14::bigint,"
    " total_tokens = j.total_tokens + $15::bigint, updated_at = t.ms,"
    " finished_at = CASE WHEN $4::text IN ('succeeded','failed')"
    " THEN t.ms END"
    " FROM attempts a, t WHERE j.id = $1::bigint AND j.state = 'running'"
    " AND j.lease_owner = $3::text AND a.id = $2::bigint"
    " AND a.job_id = j.id AND a.outcome IS NULL RETURNING j.id),"
    " closed AS (UPDATE attempts SET ended_at = t.ms,"
    " http_status = coalesce($8::int, http_status),"
    " request_id = coalesce($12::text, request_id), outcome = $16::text,"
    " error_type = $9::text, error_code = $10::text,"
    " error_message = $11::text, input_tokens = $13::bigint,"
    " output_tokens = $14::bigint, total_tokens = $15::bigint,"
    " usage = $17::jsonb, " STORESQL_COST_SET("$18::text", "$19::bigint",
    "$20::text", "$21::bigint", "$22::bigint") " FROM t WHERE id = $2::bigint AND outcome IS NULL"
    " AND (SELECT count(*) FROM moved) >= 0 RETURNING 1)"
    " SELECT (SELECT count(*) FROM moved)::int,"
    " (SELECT count(*) FROM closed)::int";

/* $1 daemon, $2 now, $3 lease ms, $4 the runs' job ids (bigint[]). Renews
 * first (expired reads renewed, so it runs after: a round waiting to
 * renew holds no other row, and two late rounds cannot deadlock) and
 * leaves what it renewed alone (one snapshot: the renewed rows' new
 * leases are not visible to the rest). Rows another session holds are
 * skipped (its finish or round decides them). A row: (renewed, requeued
 * id or NULL). */
static const char leases_sql[] =
    "WITH renewed AS (UPDATE jobs SET lease_expires = $2::bigint +"
    " $3::bigint WHERE id = ANY($4::bigint[]) AND state = 'running'"
    " AND lease_owner = $1::text RETURNING id),"
    " expired AS (SELECT id FROM jobs WHERE state = 'running'"
    " AND lease_expires < $2::bigint AND NOT (lease_owner = $1::text"
    " AND id = ANY($4::bigint[])) AND (SELECT count(*) FROM renewed) >= 0"
    " ORDER BY id FOR UPDATE SKIP LOCKED),"
    " requeued AS (UPDATE jobs j SET state = 'queued', lease_owner = NULL,"
    " lease_expires = NULL, updated_at = $2::bigint, attempts = j.attempts"
    " - CASE WHEN j.attempts > 0 AND EXISTS (SELECT 1 FROM attempts a"
    " WHERE a.job_id = j.id AND a.outcome IS NULL AND a.http_status IS"
    " NULL) THEN 1 ELSE 0 END FROM expired e WHERE j.id = e.id"
    " RETURNING j.id),"
    " closed AS (UPDATE attempts SET outcome = 'interrupted',"
    " ended_at = $2::bigint, error_message = 'daemon lost its lease"
    " (crashed or stopped)', " STORESQL_LOST_COST " WHERE outcome IS NULL"
    " AND job_id IN (SELECT id FROM requeued) RETURNING 1)"
    " SELECT (SELECT count(*) FROM renewed)::int, r.id"
    " FROM (SELECT count(*) FROM closed) c LEFT JOIN requeued r ON true"
    " ORDER BY r.id";

/* $1 daemon, $2 host, $3 pid, $4 now, $5 status, $6 pause reason */
static const char beat_sql[] =
    "INSERT INTO daemons (id, host, pid, started_at, heartbeat_at, status,"
    " pause_reason) VALUES ($1::text, $2::text, $3::int, $4::bigint,"
    " $4::bigint, $5::text, $6::text) ON CONFLICT (id) DO UPDATE SET"
    " heartbeat_at = EXCLUDED.heartbeat_at, status = EXCLUDED.status,"
    " pause_reason = EXCLUDED.pause_reason";

/* $1 daemon, $2 now */
static const char stopped_sql[] =
    "UPDATE daemons SET stopped_at = $2::bigint, heartbeat_at = $2::bigint,"
    " status = 'stopped' WHERE id = $1::text";

static const char counts_sql[] =
    "SELECT state, count(*) FROM jobs GROUP BY state";

/* $1 daemon, $2 now. A row per owned run (one with NULLs when none). */
static const char poll_sql[] =
    "SELECT (SELECT coalesce(value, '') FROM control WHERE key = 'pause'),"
    " (SELECT coalesce(value, '') FROM control WHERE key = 'resume'),"
    " EXISTS (SELECT 1 FROM jobs WHERE state IN ('queued','retry_wait')"
    " AND not_before <= $2::bigint)::int,"
    " (SELECT min(not_before) FROM jobs"
    " WHERE state IN ('queued','retry_wait')), o.jid, o.aid"
    " FROM (SELECT 1) one LEFT JOIN (SELECT j.id AS jid, a.id AS aid"
    " FROM jobs j JOIN attempts a ON a.job_id = j.id AND a.outcome IS NULL"
    " WHERE j.state = 'running' AND j.lease_owner = $1::text) o ON true"
    " ORDER BY o.jid";

static const char *const stmts[][2] = {
	{ CLAIM_STMT, claim_sql }, { CLAIM_HELD_STMT, claim_held_sql },
	{ ANSWERED_STMT, answered_sql }, { IMAGE_STMT, image_sql },
	{ FINISH_STMT, finish_sql }, { LEASES_STMT, leases_sql },
	{ BEAT_STMT, beat_sql }, { STOPPED_STMT, stopped_sql },
	{ COUNTS_STMT, counts_sql },
	{ POLL_STMT, poll_sql },
};

int
pgstore_prepare(struct pgconn *c)
{
	size_t i;

	for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++)
		if (pgconn_prepare(c, stmts[i][0], stmts[i][1]) == -1)
			return -1;
	return 0;
}

#define NPARAMS 22

/* A request's parameters and completion: everything pgconn must find
 * until done runs. Text values are copied in; a binary one is not. */
struct req {
	int n;
	const char *values[NPARAMS];
	int lengths[NPARAMS], formats[NPARAMS];
	char *owned[NPARAMS];
	union {
		pgstore_write_fn write;
		pgstore_leases_fn leases;
		pgstore_counts_fn counts;
		pgstore_poll_fn poll;
	} done;
	void *arg;
	const char *const *states;  /* counts */
	int nstates;
	int oom;
};

static void
req_free(struct req *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		free(r->owned[i]);
	free(r);
}

/* Length of the well-formed UTF-8 character at p (as PostgreSQL checks
 * it: no overlong forms, surrogates or code points past U+10FFFF), or 0. */
static size_t
utf8_char(const unsigned char *p)
{
	/* lead bytes C2..F4: length, and the second byte's range */
	unsigned c = p[0], lo = 0x80, hi = 0xbf, len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	} else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

char *
pgstore_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out, *o;
	size_t n;

	if ((out = o = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	while (*p != '\0') {
		if ((n = utf8_char(p)) == 0) {
			*o++ = '?';
			p++;
			continue;
		}
		memcpy(o, p, n);
		o += n;
		p += n;
	}
	*o = '\0';
	return out;
}

/* Adds a text parameter (copied, made UTF-8: see pgstore_utf8); NULL is
 * SQL NULL. */
static void
add_text(struct req *r, const char *s)
{
	if (r->n == NPARAMS) {
		r->oom = 1;
		return;
	}
	if (s != NULL && (r->owned[r->n] = pgstore_utf8(s)) == NULL)
		r->oom = 1;
	r->values[r->n] = r->owned[r->n];
	r->n++;
}

static void
add_int(struct req *r, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	add_text(r, buf);
}

/* v, or SQL NULL when it is negative (not known). */
static void
add_int_or_null(struct req *r, int64_t v)
{
	if (v >= 0)
		add_int(r, v);
	else
		add_text(r, NULL);
}

/* Bytes as a binary parameter (bytea), the caller's. */
static void
add_bytes(struct req *r, const unsigned char *p, size_t n)
{
	if (r->n == NPARAMS || n > INT32_MAX) {
		r->oom = 1;
		return;
	}
	r->values[r->n] = (const char *)(p != NULL ? p : (const void *)"");
	r->lengths[r->n] = (int)n;
	r->formats[r->n++] = 1;
}

/* Sends r's statement; r is freed by the completion (or here on -1). */
static int
send_req(struct pgconn *c, const char *stmt, struct req *r, int binary,
    pgconn_done_fn done)
{
	struct pgconn_query q = { .stmt = stmt, .nparams = r->n,
	    .values = r->values, .lengths = r->lengths, .formats = r->formats,
	    .binary_result = binary, .done = done, .arg = r };

	if (r->oom || pgconn_query(c, &q) == -1) {
		req_free(r);
		return -1;
	}
	return 0;
}

/* The first row's integer columns col0.., all of them present. */
static int
first_ints(const PGresult *res, int ncols, int64_t *v)
{
	int col;

	if (PQbinaryTuples(res) != 1 || PQnfields(res) != ncols ||
	    PQntuples(res) != 1)
		return -1;
	for (col = 0; col < ncols; col++)
		if (get_int(res, 0, col, &v[col]) == -1)
			return -1;
	return 0;
}

/* Marks a reply with rows the statement cannot return as failed. */
static void
bad_rows(struct pgconn_reply *reply, const char *what)
{
	reply->ok = 0;
	reply->error = what;
}

static void
answered_done(void *arg, struct pgconn_reply *reply)
{
	struct req *r = arg;
	int rc = STORE_ERR, n = 0;

	if (reply->ok) {
		n = atoi(PQcmdTuples(reply->res));
		rc = n > 0 ? STORE_OK : STORE_LOST;
	}
	r->done.write(r->arg, rc, n > 0, reply);
	req_free(r);
}

int
pgstore_answered(struct pgconn *c, const char *daemon_id,
    int64_t attempt_id, int http_status, const char *request_id,
    pgstore_write_fn done, void *arg)
{
	struct req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	r->done.write = done;
	r->arg = arg;
	add_int(r, attempt_id);
	add_text(r, daemon_id);
	add_int(r, http_status);
	add_text(r, request_id);
	return send_req(c, ANSWERED_STMT, r, 0, answered_done);
}

/* A write whose answer is one row of two counts: whether it was still
 * ours (column ours) and whether it wrote (the other one). */
static void
two_counts_done(struct req *r, struct pgconn_reply *reply, int ours,
    const char *what)
{
	int64_t v[2] = { 0, 0 };
	int rc = STORE_ERR;

	if (reply->ok && first_ints(reply->res, 2, v) == -1)
		bad_rows(reply, what);
	if (reply->ok)
		rc = v[ours] > 0 ? STORE_OK : STORE_LOST;
	r->done.write(r->arg, rc, reply->ok && v[!ours] > 0, reply);
	req_free(r);
}

/* An image's answer is one row (inserted, ours). */
static void
image_done(void *arg, struct pgconn_reply *reply)
{
	two_counts_done(arg, reply, 1, "the write returned rows it should not");
}

/* A finish's answer is one row (moved, closed). */
static void
finish_done(void *arg, struct pgconn_reply *reply)
{
	two_counts_done(arg, reply, 0, "the finish returned rows it should not");
}

int
pgstore_commit_image(struct pgconn *c, const char *daemon_id,
    const struct store_image *img, pgstore_write_fn done, void *arg)
{
	struct req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	r->done.write = done;
	r->arg = arg;
	add_int(r, img->job_id);
	add_int(r, img->attempt_id);
	add_text(r, daemon_id);
	add_text(r, img->kind == IMAGE_FINAL ? "final" : "partial");
	add_int(r, img->idx);
	if (img->partial_index >= 0)
		add_int(r, img->partial_index);
	else
		add_text(r, NULL);
	add_text(r, img->format);
	if (img->width > 0) {
		add_int(r, img->width);
		add_int(r, img->height);
	} else {
		add_text(r, NULL);
		add_text(r, NULL);
	}
	add_int(r, (int64_t)img->size);
	add_text(r, img->sha256);
	add_text(r, img->quality);
	add_text(r, img->background);
	add_text(r, img->reported_size);
	add_bytes(r, img->data, img->size);
	return send_req(c, IMAGE_STMT, r, 1, image_done);
}

int
pgstore_finish(struct pgconn *c, const char *daemon_id, int64_t job_id,
    int64_t attempt_id, const struct attempt_result *res, enum job_next next,
    int64_t not_before, pgstore_write_fn done, void *arg)
{
	const char *state = job_state_name(job_next_state(next));
	struct req *r;

	if (state == NULL || (r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	r->done.write = done;
	r->arg = arg;
	add_int(r, job_id);
	add_int(r, attempt_id);
	add_text(r, daemon_id);
	add_text(r, state);
	add_int(r, not_before);
	add_int(r, job_next_uncounts(next));
	add_text(r, job_next_keeps_error(next) ? "t" : "f");
	if (res->http_status > 0)
		add_int(r, res->http_status);
	else
		add_text(r, NULL);
	add_text(r, res->error_type);
	add_text(r, res->error_code);
	add_text(r, res->error_message);
	add_text(r, res->request_id);
	add_int(r, res->input_tokens);
	add_int(r, res->output_tokens);
	add_int(r, res->total_tokens);
	add_text(r, res->outcome);
	add_text(r, res->usage_json);
	add_text(r, res->model);
	add_int_or_null(r, res->cost_status != NULL ? res->cost_usd_micro :
	    -1);
	add_text(r, res->cost_status);
	add_int_or_null(r, res->hold_usd_micro > 0 ? res->hold_usd_micro : -1);
	add_int_or_null(r, res->hold_tokens > 0 ? res->hold_tokens : -1);
	return send_req(c, FINISH_STMT, r, 1, finish_done);
}

/* ---- leases, beats, counts, polls ---- */

/* "{1,2,3}": the runs' job ids as a bigint[] in text (caller frees). */
static char *
id_array(const struct store_run_ref *runs, size_t n)
{
	char *s;
	size_t i, len = 0, cap = 3 + n * 21;

	if ((s = malloc(cap)) == NULL)
		return NULL;
	s[len++] = '{';
	for (i = 0; i < n; i++)
		len += snprintf(s + len, cap - len, "%s%lld", i ? "," : "",
		    (long long)runs[i].job_id);
	snprintf(s + len, cap - len, "}");
	return s;
}

static void
leases_done(void *arg, struct pgconn_reply *reply)
{
	struct req *r = arg;
	const PGresult *res = reply->res;
	int64_t *ids = NULL, renewed = 0;
	int n = -1, row;

	if (reply->ok && (PQbinaryTuples(res) != 1 || PQnfields(res) != 2 ||
	    PQntuples(res) < 1 || get_int(res, 0, 0, &renewed) == -1 ||
	    (ids = calloc(PQntuples(res), sizeof(*ids))) == NULL))
		bad_rows(reply, "the lease round returned rows it should not");
	for (row = 0, n = 0; reply->ok && row < PQntuples(res); row++) {
		if (PQgetisnull(res, row, 1))
			continue;               /* nothing requeued */
		if (get_int(res, row, 1, &ids[n++]) == -1)
			bad_rows(reply, "a requeued id is not one");
	}
	if (!reply->ok)
		n = -1;
	r->done.leases(r->arg, (int)renewed, n, ids, reply);
	free(ids);
	req_free(r);
}

int
pgstore_lease_round(struct pgconn *c, const char *daemon_id, int64_t now,
    int64_t lease_ms, const struct store_run_ref *runs, size_t nruns,
    pgstore_leases_fn done, void *arg)
{
	struct req *r;
	char *ids;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	if ((ids = id_array(runs, nruns)) == NULL) {
		free(r);
		return -1;
	}
	r->done.leases = done;
	r->arg = arg;
	add_text(r, daemon_id);
	add_int(r, now);
	add_int(r, lease_ms);
	add_text(r, NULL);
	r->values[3] = r->owned[3] = ids;
	return send_req(c, LEASES_STMT, r, 1, leases_done);
}

static void
beat_done(void *arg, struct pgconn_reply *reply)
{
	struct req *r = arg;

	r->done.write(r->arg, reply->ok ? STORE_OK : STORE_ERR, reply->ok,
	    reply);
	req_free(r);
}

int
pgstore_heartbeat(struct pgconn *c, const char *daemon_id,
    const char *host, int pid, int64_t now, const char *status,
    const char *pause_reason, pgstore_write_fn done, void *arg)
{
	struct req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	r->done.write = done;
	r->arg = arg;
	add_text(r, daemon_id);
	add_text(r, host);
	add_int(r, pid);
	add_int(r, now);
	add_text(r, status);
	add_text(r, pause_reason);
	return send_req(c, BEAT_STMT, r, 0, beat_done);
}

int
pgstore_daemon_stopped(struct pgconn *c, const char *daemon_id, int64_t now,
    pgstore_write_fn done, void *arg)
{
	struct req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	r->done.write = done;
	r->arg = arg;
	add_text(r, daemon_id);
	add_int(r, now);
	return send_req(c, STOPPED_STMT, r, 0, beat_done);
}

int
pgstore_count_rows(const PGresult *res, const char *const *states, int n,
    int64_t *counts)
{
	int64_t v;
	char *state;
	int row, i;

	for (i = 0; i < n; i++)
		counts[i] = 0;
	if (PQbinaryTuples(res) != 1 || PQnfields(res) != 2)
		return -1;
	for (row = 0; row < PQntuples(res); row++) {
		if (get_text(res, row, 0, &state) == -1 || state == NULL ||
		    get_int(res, row, 1, &v) == -1) {
			free(state);
			return -1;
		}
		for (i = 0; i < n; i++)
			if (strcmp(state, states[i]) == 0)
				counts[i] = v;
		free(state);
	}
	return 0;
}

static void
counts_done(void *arg, struct pgconn_reply *reply)
{
	struct req *r = arg;
	int64_t counts[PGSTORE_STATES_MAX];

	if (reply->ok && pgstore_count_rows(reply->res, r->states, r->nstates,
	    counts) == -1)
		bad_rows(reply, "the counts returned rows they should not");
	r->done.counts(r->arg, reply->ok ? counts : NULL, reply);
	req_free(r);
}

int
pgstore_counts(struct pgconn *c, const char *const *states, int n,
    pgstore_counts_fn done, void *arg)
{
	struct req *r;

	if (n < 0 || n > PGSTORE_STATES_MAX ||
	    (r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	r->done.counts = done;
	r->arg = arg;
	r->states = states;
	r->nstates = n;
	return send_req(c, COUNTS_STMT, r, 1, counts_done);
}

void
pgstore_poll_clear(struct pgstore_poll *p)
{
	free(p->pause);
	free(p->resume);
	free(p->owned);
	memset(p, 0, sizeof(*p));
}

enum { P_PAUSE, P_RESUME, P_READY, P_WAKE, P_JOB, P_ATTEMPT, P_COUNT };

int
pgstore_poll_rows(const PGresult *res, struct pgstore_poll *p)
{
	int64_t ready, job, attempt;
	int row, rows = PQntuples(res);

	memset(p, 0, sizeof(*p));
	if (PQbinaryTuples(res) != 1 || PQnfields(res) != P_COUNT || rows < 1 ||
	    get_text(res, 0, P_PAUSE, &p->pause) == -1 ||
	    get_text(res, 0, P_RESUME, &p->resume) == -1 ||
	    get_int(res, 0, P_READY, &ready) == -1 ||
	    (!PQgetisnull(res, 0, P_WAKE) &&
	    get_int(res, 0, P_WAKE, &p->next_wake) == -1) ||
	    (p->owned = calloc(rows, sizeof(*p->owned))) == NULL)
		goto fail;
	p->ready = ready != 0;
	for (row = 0; row < rows; row++) {
		if (PQgetisnull(res, row, P_JOB) && rows == 1)
			break;                  /* no runs of ours */
		if (get_int(res, row, P_JOB, &job) == -1 ||
		    get_int(res, row, P_ATTEMPT, &attempt) == -1)
			goto fail;
		p->owned[p->nowned].job_id = job;
		p->owned[p->nowned++].attempt_id = attempt;
	}
	return 0;
fail:
	pgstore_poll_clear(p);
	return -1;
}

static void
poll_done(void *arg, struct pgconn_reply *reply)
{
	struct req *r = arg;
	struct pgstore_poll p;

	memset(&p, 0, sizeof(p));
	if (reply->ok && pgstore_poll_rows(reply->res, &p) == -1)
		bad_rows(reply, "the poll returned rows it should not");
	r->done.poll(r->arg, reply->ok ? &p : NULL, reply);
	pgstore_poll_clear(&p);
	req_free(r);
}

int
pgstore_poll(struct pgconn *c, const char *daemon_id, int64_t now,
    pgstore_poll_fn done, void *arg)
{
	struct req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	r->done.poll = done;
	r->arg = arg;
	add_text(r, daemon_id);
	add_int(r, now);
	return send_req(c, POLL_STMT, r, 1, poll_done);
}

static void
on_notify(void *arg, const char *channel, const char *payload, int be_pid)
{
	const struct pgstore_listener *l = arg;

	(void)payload;
	(void)be_pid;
	if (strcmp(channel, "imgedit_jobs") == 0)
		l->changed(l->arg);
}

int
pgstore_listen(struct pgconn *c, const struct pgstore_listener *l)
{
	if (pgconn_listen(c, "imgedit_jobs") == -1)
		return -1;
	pgconn_set_notify_cb(c, on_notify, (void *)l);
	return 0;
}
