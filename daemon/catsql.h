/* catsql.h: the catalog's SQL that SQLite (catalog.c) and PostgreSQL
 * (pgcatalog.c) share, word for word, so their documents cannot drift.
 *
 * Private to those two files. Each defines P1..P6 (its spelling of
 * parameter n: SQLite "?1", PostgreSQL "$1") before including this. */
#ifndef IMGEDIT_CATSQL_H
#define IMGEDIT_CATSQL_H

/* list's columns: one row per job, params as stored (text or jsonb). */
#define CATSQL_LIST_COLS "SELECT id, state, attempts, max_attempts, " \
	"priority, stream, params, (SELECT count(*) FROM images i WHERE " \
	"i.job_id = j.id AND i.kind = 'final') AS final_images, (SELECT " \
	"count(*) FROM images i WHERE i.job_id = j.id AND i.kind = 'partial') " \
	"AS partial_images, created_at, updated_at, finished_at, not_before, " \
	"error_status, error_type, error_code, error_message, " \
	"error_request_id FROM jobs j "

/* show: the job (P1 its id), then its children. */
#define CATSQL_SHOW_JOB "SELECT id, state, attempts, max_attempts, " \
	"priority, stream, params, created_at, updated_at, finished_at, " \
	"not_before, lease_owner, lease_expires, idempotency_key, " \
	"input_tokens, output_tokens, total_tokens, error_status, error_type, " \
	"error_code, error_message, error_request_id FROM jobs WHERE id = " P1
#define CATSQL_SHOW_INPUTS "SELECT i.role AS role, i.ordinal AS ordinal, " \
	"i.filename AS filename, i.content_type AS content_type, " \
	"coalesce(b.size, length(i.data)) AS size, b.sha256 AS sha256, " \
	"i.blob_id AS blob_id FROM inputs i LEFT JOIN blobs b ON " \
	"b.id = i.blob_id WHERE i.job_id = " P1 " ORDER BY i.role, i.ordinal"
#define CATSQL_SHOW_ATTEMPTS "SELECT number, daemon_id, started_at, " \
	"ended_at, http_status, request_id, outcome, error_type, error_code, " \
	"error_message, input_tokens, output_tokens, total_tokens, usage " \
	"FROM attempts WHERE job_id = " P1 " ORDER BY number"
#define CATSQL_SHOW_IMAGES "SELECT i.id AS id, a.number AS attempt, " \
	"i.kind AS kind, i.idx AS idx, i.partial_index AS partial_index, " \
	"i.format AS format, i.width AS width, i.height AS height, " \
	"i.size AS size, i.sha256 AS sha256, i.quality AS quality, " \
	"i.background AS background, i.reported_size AS reported_size, " \
	"i.created_at AS created_at FROM images i JOIN attempts a ON " \
	"a.id = i.attempt_id WHERE i.job_id = " P1 " " \
	"ORDER BY a.number, i.kind = 'final', i.idx"
#define CATSQL_SHOW_EVENTS "SELECT at, from_state, to_state, detail " \
	"FROM events WHERE job_id = " P1 " ORDER BY id"

/* Ids of the jobs in state P1 finished (or changed) at or after P2. */
#define CATSQL_JOB_IDS "SELECT id FROM jobs WHERE state = " P1 " AND " \
	"coalesce(finished_at, updated_at) >= " P2 " ORDER BY id"

/* status */
#define CATSQL_STATE_COUNTS "SELECT state, count(*) FROM jobs GROUP BY state"
#define CATSQL_PAUSE "SELECT value FROM control WHERE key = 'pause'"
/* daemons not stopped, or whose heartbeat is at or after P1 */
#define CATSQL_DAEMONS "SELECT id, host, pid, started_at, heartbeat_at, " \
	"stopped_at, status, pause_reason FROM daemons WHERE stopped_at IS " \
	"NULL OR heartbeat_at >= " P1 " ORDER BY heartbeat_at DESC LIMIT 20"
#define CATSQL_LIVE_DAEMONS "SELECT count(*) FROM daemons WHERE " \
	"stopped_at IS NULL AND heartbeat_at >= " P1

/* State changes after event P1, at most P2. */
#define CATSQL_ACTIVITY_EVENTS "SELECT e.id AS id, e.job_id AS job_id, " \
	"e.at AS at, e.from_state AS from_state, e.to_state AS to_state, " \
	"e.detail AS detail, j.created_at AS created_at, (SELECT count(*) " \
	"FROM images i JOIN attempts a ON a.id = i.attempt_id WHERE " \
	"i.job_id = e.job_id AND i.kind = 'final' AND a.outcome = " \
	"'succeeded') AS finals FROM events e JOIN jobs j ON j.id = " \
	"e.job_id WHERE e.id > " P1 " ORDER BY e.id LIMIT " P2

/* serve's page of jobs */
#define CATSQL_PAGE_COLS "SELECT id, state, attempts, max_attempts, " \
	"params, created_at, updated_at, finished_at, error_status, " \
	"error_type, error_code, error_message, error_request_id FROM jobs "

/* prune --dry-run: jobs in state P2 finished before P1, their images'
 * bytes. */
#define CATSQL_PRUNE_PLAN "SELECT count(*), coalesce(sum((SELECT " \
	"sum(size) FROM images i WHERE i.job_id = j.id)), 0) FROM jobs j " \
	"WHERE j.state = " P2 " AND coalesce(j.finished_at, j.updated_at) < " P1

/* submit: one input row of job P1 */
#define CATSQL_INSERT_INPUT "INSERT INTO inputs (job_id, role, ordinal, " \
	"filename, content_type, blob_id) VALUES (" P1 ", " P2 ", " P3 ", " \
	P4 ", " P5 ", " P6 ")"

/* catalog_job_marks: P1 the job id. */
#define CATSQL_JOB_MARKS(P1) "SELECT (SELECT min(id) - 1 FROM events " \
	"WHERE job_id = " P1 "), coalesce((SELECT min(id) - 1 FROM images " \
	"WHERE job_id = " P1 "), (SELECT coalesce(max(id), 0) FROM images))"

#endif
