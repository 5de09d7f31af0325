/* catsql.h: the catalog's SQL, written once with ?N parameters for every
 * backend; a pair (SQLite, PostgreSQL) only where the dialects differ.
 *
 * Private to catalog.c. Each statement numbers its parameters from ?1 with
 * none left out (PostgreSQL types every one it is given). A pair is indexed
 * by rows_methods.sql (ROWS_SQL_SQLITE, ROWS_SQL_PG). */
#ifndef IMGEDIT_CATSQL_H
#define IMGEDIT_CATSQL_H

#include "rows.h"

#define CATSQL_PAIR ROWS_SQL_PAIR

/* A JSON field of jobs.params as SQLite's json_extract gives it (a
 * string's text, a number; NULL for text that is not JSON). */
#define CATSQL_JSON_SQLITE(f) "CASE WHEN json_valid(j.params) THEN " \
	"json_extract(j.params, '$." f "') END"
#define CATSQL_JSON_PG(f) "(j.params -> '" f "')::json"

/* ---- submitting ---- */

CATSQL_PAIR(catsql_key_lock, NULL,
    /* the key's lock first, held to the end of the submit's transaction:
     * a second submit of the same new key waits and then finds the first's
     * job (as SQLite's one writer does) instead of failing on the unique
     * key. pg_advisory_xact_lock's first key: "imgk" */
    "SELECT pg_advisory_xact_lock(1768777579, hashtext(?1))");
#define CATSQL_FIND_KEY "SELECT id FROM jobs WHERE idempotency_key = ?1"
/* PostgreSQL takes the blob's row lock, so that a prune cannot delete it
 * before this transaction's inputs refer to it (SQLite: the write lock) */
CATSQL_PAIR(catsql_find_blob, "SELECT id FROM blobs WHERE sha256 = ?1",
    "SELECT id FROM blobs WHERE sha256 = ?1 FOR SHARE");
/* consumes no id when the bytes are there already */
#define CATSQL_PUT_BLOB "INSERT INTO blobs (sha256, size, data) VALUES " \
	"(?1, ?2, ?3) ON CONFLICT (sha256) DO NOTHING RETURNING id"
/* Job ids are AUTOINCREMENT on SQLite, so a new job never inherits rows
 * left behind by a job another program deleted with foreign keys off. */
#define CATSQL_INSERT_JOB "INSERT INTO jobs (params, stream, priority, " \
	"not_before, max_attempts, idempotency_key, created_at, updated_at, " \
	"estimate_lo_usd_micro, estimate_hi_usd_micro) " \
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9) RETURNING id"
#define CATSQL_INSERT_INPUT "INSERT INTO inputs (job_id, role, ordinal, " \
	"filename, content_type, blob_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"

/* ---- reading ---- */

/* jobs.params when it is at most CATSQL_PARAMS_MAX bytes (else NULL), and
 * its size in bytes: another program's 100 MB row is measured, never read
 * whole (catdoc_job names it). The daemon's limit, job.h STORE_PARAMS_MAX.
 * SQLite's SQL cannot measure text without loading it: its rows come back
 * with params_bytes NULL, and the catalog measures them (blob_size) and
 * reads only those within the limit (blob_read). */
#define CATSQL_PARAMS_MAX "262144"
#define CATSQL_PARAMS_SQLITE "NULL AS params, NULL AS params_bytes"
#define CATSQL_PARAMS_PG "CASE WHEN octet_length(params::text) <= " \
	CATSQL_PARAMS_MAX " THEN params END AS params, " \
	"octet_length(params::text) AS params_bytes"

/* What a job's attempts cost (of the jobs row j): the sum of those known,
 * and how many ended without a known cost. */
#define CATSQL_JOB_COST "(SELECT CAST(coalesce(sum(a.cost_usd_micro), 0) " \
	"AS bigint) FROM attempts a WHERE a.job_id = j.id) AS cost_usd_micro, " \
	"(SELECT count(*) FROM attempts a WHERE a.job_id = j.id AND " \
	"a.outcome IS NOT NULL AND a.cost_usd_micro IS NULL) AS cost_unknown"

/* list's columns: one row per job, params as stored (text or jsonb). */
#define CATSQL_LIST_COLS(P) "SELECT id, state, attempts, max_attempts, " \
	"priority, stream, " P ", (SELECT count(*) FROM images i WHERE " \
	"i.job_id = j.id AND i.kind = 'final') AS final_images, (SELECT " \
	"count(*) FROM images i WHERE i.job_id = j.id AND i.kind = 'partial') " \
	"AS partial_images, created_at, updated_at, finished_at, not_before, " \
	"error_status, error_type, error_code, error_message, " \
	"error_request_id, " CATSQL_JOB_COST " FROM jobs j "
/* ?1 since, ?2 limit, ?3 the state or ",a,b," */
#define CATSQL_LIST_ANY(P) CATSQL_LIST_COLS(P) \
	"WHERE created_at >= ?1 ORDER BY id DESC LIMIT ?2"
#define CATSQL_LIST_ONE(P) CATSQL_LIST_COLS(P) \
	"WHERE created_at >= ?1 AND state = ?3 ORDER BY id DESC LIMIT ?2"
#define CATSQL_LIST_SOME(P) CATSQL_LIST_COLS(P) "WHERE created_at >= ?1 " \
	"AND ?3 LIKE '%,' || state || ',%' ORDER BY id DESC LIMIT ?2"
CATSQL_PAIR(catsql_list_any, CATSQL_LIST_ANY(CATSQL_PARAMS_SQLITE),
    CATSQL_LIST_ANY(CATSQL_PARAMS_PG));
CATSQL_PAIR(catsql_list_one, CATSQL_LIST_ONE(CATSQL_PARAMS_SQLITE),
    CATSQL_LIST_ONE(CATSQL_PARAMS_PG));
CATSQL_PAIR(catsql_list_some, CATSQL_LIST_SOME(CATSQL_PARAMS_SQLITE),
    CATSQL_LIST_SOME(CATSQL_PARAMS_PG));

/* show: the job (?1 its id), then its children. */
#define CATSQL_SHOW_JOB(P) "SELECT id, state, attempts, max_attempts, " \
	"priority, stream, " P ", created_at, updated_at, finished_at, " \
	"not_before, lease_owner, lease_expires, idempotency_key, " \
	"input_tokens, output_tokens, total_tokens, error_status, error_type, " \
	"error_code, error_message, error_request_id, estimate_lo_usd_micro, " \
	"estimate_hi_usd_micro, " CATSQL_JOB_COST " FROM jobs j WHERE id = ?1"
CATSQL_PAIR(catsql_show_job, CATSQL_SHOW_JOB(CATSQL_PARAMS_SQLITE),
    CATSQL_SHOW_JOB(CATSQL_PARAMS_PG));
#define CATSQL_SHOW_INPUTS "SELECT i.role AS role, i.ordinal AS ordinal, " \
	"i.filename AS filename, i.content_type AS content_type, " \
	"coalesce(b.size, length(i.data)) AS size, b.sha256 AS sha256, " \
	"i.blob_id AS blob_id FROM inputs i LEFT JOIN blobs b ON " \
	"b.id = i.blob_id WHERE i.job_id = ?1 ORDER BY i.role, i.ordinal"
#define CATSQL_SHOW_ATTEMPTS "SELECT number, daemon_id, started_at, " \
	"ended_at, http_status, request_id, outcome, error_type, error_code, " \
	"error_message, input_tokens, output_tokens, total_tokens, usage, " \
	"model, cost_usd_micro, cost_status, reserve_usd_micro, " \
	"reserve_tokens FROM attempts WHERE job_id = ?1 ORDER BY number"
#define CATSQL_SHOW_IMAGES "SELECT i.id AS id, a.number AS attempt, " \
	"i.kind AS kind, i.idx AS idx, i.partial_index AS partial_index, " \
	"i.format AS format, i.width AS width, i.height AS height, " \
	"i.size AS size, i.sha256 AS sha256, i.quality AS quality, " \
	"i.background AS background, i.reported_size AS reported_size, " \
	"i.created_at AS created_at FROM images i JOIN attempts a ON " \
	"a.id = i.attempt_id WHERE i.job_id = ?1 " \
	"ORDER BY a.number, i.kind = 'final', i.idx"
#define CATSQL_SHOW_EVENTS "SELECT at, from_state, to_state, detail " \
	"FROM events WHERE job_id = ?1 ORDER BY id"

/* Ids of the jobs in state ?1 finished (or changed) at or after ?2. */
#define CATSQL_JOB_IDS "SELECT id FROM jobs WHERE state = ?1 AND " \
	"coalesce(finished_at, updated_at) >= ?2 ORDER BY id"
#define CATSQL_JOB_STATE "SELECT state FROM jobs WHERE id = ?1"
#define CATSQL_IMAGE_EXISTS "SELECT id FROM images WHERE id = ?1"

/* status */
#define CATSQL_STATE_COUNTS "SELECT state, count(*) FROM jobs GROUP BY state"
/* ?1 a minute ago, ?2 an hour ago */
#define CATSQL_TOTALS "SELECT coalesce(sum(input_tokens), 0), " \
	"coalesce(sum(output_tokens), 0), coalesce(sum(total_tokens), 0), " \
	"count(*) FILTER (WHERE finished_at >= ?1), " \
	"count(*) FILTER (WHERE finished_at >= ?2), " \
	"(SELECT count(*) FROM images WHERE kind = 'final'), " \
	"(SELECT count(*) FROM images WHERE kind = 'partial') FROM jobs"
/* What the attempts that started in each period cost, per model (ordered
 * bytewise, no model first), in one pass over the attempts of the three:
 * columns pN_... for period N (enum period) in [?2N+1, ?2N+2), all of
 * them in [?7, ?8). An attempt ended without a known cost is "unknown",
 * counted at its reserve when it has one (the budgets'). */
#define CATSQL_UNKNOWN "outcome IS NOT NULL AND cost_usd_micro IS NULL"
#define CATSQL_SUM(X, IN) "CAST(coalesce(sum(" X ") FILTER (WHERE " IN \
	"), 0) AS bigint)"
#define CATSQL_SPENT_COLS(P, LO, HI) \
	"count(*) FILTER (WHERE " CATSQL_IN(LO, HI) ") AS " P "attempts, " \
	"count(*) FILTER (WHERE " CATSQL_IN(LO, HI) " AND outcome IS NULL) " \
	"AS " P "running, " \
	CATSQL_SUM("input_tokens", CATSQL_IN(LO, HI)) " AS " P "input_tokens, " \
	CATSQL_SUM("output_tokens", CATSQL_IN(LO, HI)) " AS " P \
	"output_tokens, " \
	CATSQL_SUM("total_tokens", CATSQL_IN(LO, HI)) " AS " P "total_tokens, " \
	CATSQL_SUM("cost_usd_micro", CATSQL_IN(LO, HI)) " AS " P \
	"known_usd_micro, " \
	"count(*) FILTER (WHERE " CATSQL_IN(LO, HI) " AND " CATSQL_UNKNOWN \
	") AS " P "unknown, " \
	CATSQL_SUM("reserve_usd_micro", CATSQL_IN(LO, HI) " AND " \
	CATSQL_UNKNOWN) " AS " P "unknown_reserved_usd_micro, " \
	"count(*) FILTER (WHERE " CATSQL_IN(LO, HI) " AND " CATSQL_UNKNOWN \
	" AND reserve_usd_micro IS NULL) AS " P "unknown_unreserved"
#define CATSQL_IN(LO, HI) "started_at >= " LO " AND started_at < " HI
#define CATSQL_SPENT(BYTEWISE) "SELECT model, " \
	CATSQL_SPENT_COLS("p0_", "?1", "?2") ", " \
	CATSQL_SPENT_COLS("p1_", "?3", "?4") ", " \
	CATSQL_SPENT_COLS("p2_", "?5", "?6") " FROM attempts WHERE " \
	CATSQL_IN("?7", "?8") " GROUP BY model ORDER BY model IS NOT NULL, " \
	"model" BYTEWISE
CATSQL_PAIR(catsql_spent, CATSQL_SPENT(""), CATSQL_SPENT(" COLLATE \"C\""));
/* The finished jobs submit estimated that ran: their estimates and what
 * their attempts cost (a job with an attempt of unknown cost is
 * "unknown"). One join, grouped: not two lookups per job. */
#define CATSQL_ESTIMATES "SELECT count(*), " \
	"CAST(coalesce(sum(lo), 0) AS bigint), " \
	"count(*) FILTER (WHERE hi IS NULL), " \
	"CAST(coalesce(sum(hi), 0) AS bigint), " \
	"CAST(coalesce(sum(cost), 0) AS bigint), " \
	"count(*) FILTER (WHERE unknown > 0), " \
	"count(*) FILTER (WHERE unknown = 0 AND cost < lo), " \
	"count(*) FILTER (WHERE unknown = 0 AND cost >= lo AND " \
	"(hi IS NULL OR cost <= hi)), " \
	"count(*) FILTER (WHERE unknown = 0 AND cost > hi) FROM (SELECT " \
	"j.estimate_lo_usd_micro AS lo, j.estimate_hi_usd_micro AS hi, " \
	"coalesce(sum(a.cost_usd_micro), 0) AS cost, count(*) FILTER (WHERE " \
	"a.cost_usd_micro IS NULL) AS unknown FROM jobs j JOIN attempts a ON " \
	"a.job_id = j.id WHERE j.estimate_lo_usd_micro IS NOT NULL AND " \
	"j.state IN ('succeeded','failed','canceled') GROUP BY j.id, " \
	"j.estimate_lo_usd_micro, j.estimate_hi_usd_micro) t"
#define CATSQL_PAUSE "SELECT value FROM control WHERE key = 'pause'"
/* daemons not stopped, or whose heartbeat is at or after ?1 */
#define CATSQL_DAEMONS "SELECT id, host, pid, started_at, heartbeat_at, " \
	"stopped_at, status, pause_reason FROM daemons WHERE stopped_at IS " \
	"NULL OR heartbeat_at >= ?1 ORDER BY heartbeat_at DESC LIMIT 20"
#define CATSQL_LIVE_DAEMONS "SELECT count(*) FROM daemons WHERE " \
	"stopped_at IS NULL AND heartbeat_at >= ?1"

/* ---- watching ---- */

/* State changes after event ?1, at most ?2. */
#define CATSQL_ACTIVITY_EVENTS "SELECT e.id AS id, e.job_id AS job_id, " \
	"e.at AS at, e.from_state AS from_state, e.to_state AS to_state, " \
	"e.detail AS detail, j.created_at AS created_at, (SELECT count(*) " \
	"FROM images i JOIN attempts a ON a.id = i.attempt_id WHERE " \
	"i.job_id = e.job_id AND i.kind = 'final' AND a.outcome = " \
	"'succeeded') AS finals FROM events e JOIN jobs j ON j.id = " \
	"e.job_id WHERE e.id > ?1 ORDER BY e.id LIMIT ?2"
/* Images stored after image ?1, at most ?2. */
#define CATSQL_ACTIVITY_IMAGES(JSON) "SELECT i.id AS id, i.job_id AS " \
	"job_id, i.kind AS kind, i.idx AS idx, i.created_at AS at, " \
	"a.number AS attempt, " JSON("partial_images") " AS partials, " \
	JSON("n") " AS n FROM images i JOIN attempts a ON " \
	"a.id = i.attempt_id JOIN jobs j ON j.id = i.job_id WHERE i.id > ?1 " \
	"ORDER BY i.id LIMIT ?2"
CATSQL_PAIR(catsql_activity_images, CATSQL_ACTIVITY_IMAGES(CATSQL_JSON_SQLITE),
    CATSQL_ACTIVITY_IMAGES(CATSQL_JSON_PG));
#define CATSQL_MARKS "SELECT (SELECT coalesce(max(id), 0) FROM events), " \
	"(SELECT coalesce(max(id), 0) FROM images)"
/* Where job ?1's history begins. */
#define CATSQL_JOB_MARKS "SELECT (SELECT min(id) - 1 FROM events " \
	"WHERE job_id = ?1), coalesce((SELECT min(id) - 1 FROM images " \
	"WHERE job_id = ?1), (SELECT coalesce(max(id), 0) FROM images))"
#define CATSQL_RUNNING(JSON) "SELECT j.id AS id, a.number AS attempt, " \
	"(SELECT count(*) FROM images i WHERE i.attempt_id = a.id AND " \
	"i.kind = 'partial') AS partials, (SELECT count(*) FROM images i " \
	"WHERE i.attempt_id = a.id AND i.kind = 'final') AS finals, " \
	"(SELECT max(created_at) FROM images i WHERE i.attempt_id = a.id) " \
	"AS last_image_at, a.started_at AS started_at, " \
	JSON("partial_images") " AS want_partials, " JSON("n") " AS " \
	"want_finals, " JSON("prompt") " AS prompt FROM jobs j JOIN " \
	"attempts a ON a.job_id = j.id AND a.outcome IS NULL WHERE " \
	"j.state = 'running' ORDER BY j.id"
CATSQL_PAIR(catsql_running, CATSQL_RUNNING(CATSQL_JSON_SQLITE),
    CATSQL_RUNNING(CATSQL_JSON_PG));

/* ---- the web view ---- */

#define CATSQL_PAGE_COLS(P) "SELECT id, state, attempts, max_attempts, " \
	P ", created_at, updated_at, finished_at, error_status, " \
	"error_type, error_code, error_message, error_request_id, " \
	CATSQL_JOB_COST " FROM jobs j "
/* A word (?2) of the prompt, ASCII case folded; params may be invalid
 * JSON on SQLite. ?3 = 1 when the word has no byte JSON may escape: then
 * SQLite searches the raw text first, which spares parsing most rows. */
#define CATSQL_WORD_SQLITE "(?2 IS NULL OR ((?3 = 0 OR " \
	"instr(lower(params), lower(?2)) > 0) AND instr(lower(" \
	CATSQL_JSON_SQLITE("prompt") "), lower(?2)) > 0)) "
#define CATSQL_WORD_PG "(CAST(?2 AS text) IS NULL OR (?3 >= 0 AND " \
	"strpos(lower(params ->> 'prompt'), lower(?2)) > 0)) "
/* ?1 below this id, ?4 at most, ?5 the state */
#define CATSQL_PAGE_ANY(P, WORD) CATSQL_PAGE_COLS(P) "WHERE id < ?1 AND " WORD \
	"ORDER BY id DESC LIMIT ?4"
#define CATSQL_PAGE_STATE(P, WORD) CATSQL_PAGE_COLS(P) "WHERE id < ?1 AND " WORD \
	"AND state = ?5 ORDER BY id DESC LIMIT ?4"
CATSQL_PAIR(catsql_page_any,
    CATSQL_PAGE_ANY(CATSQL_PARAMS_SQLITE, CATSQL_WORD_SQLITE),
    CATSQL_PAGE_ANY(CATSQL_PARAMS_PG, CATSQL_WORD_PG));
CATSQL_PAIR(catsql_page_state,
    CATSQL_PAGE_STATE(CATSQL_PARAMS_SQLITE, CATSQL_WORD_SQLITE),
    CATSQL_PAGE_STATE(CATSQL_PARAMS_PG, CATSQL_WORD_PG));
CATSQL_PAIR(catsql_page_job, CATSQL_PAGE_COLS(CATSQL_PARAMS_SQLITE)
    "WHERE id = ?1", CATSQL_PAGE_COLS(CATSQL_PARAMS_PG) "WHERE id = ?1");
/* the images of the jobs whose ids are in the JSON array ?1 */
#define CATSQL_PAGE_IMAGES(IDS) "SELECT i.id AS id, i.job_id AS job_id, " \
	"a.number AS attempt, a.outcome AS outcome, i.kind AS kind, " \
	"i.idx AS idx, i.width AS width, i.height AS height, " \
	"i.sha256 AS sha256, i.created_at AS created_at FROM images i " \
	"JOIN attempts a ON a.id = i.attempt_id WHERE i.job_id IN (" IDS \
	") ORDER BY i.job_id, a.number, i.kind = 'final', i.idx LIMIT 5000"
CATSQL_PAIR(catsql_page_images,
    CATSQL_PAGE_IMAGES("SELECT value FROM json_each(?1)"),
    CATSQL_PAGE_IMAGES("SELECT jsonb_array_elements_text(?1::jsonb)::bigint"));
/* Events are appended as they happen: walked newest first (the newest ?1)
 * until a minute before the time asked (clocks of writers may disagree). */
#define CATSQL_FINALS "SELECT e.at, (SELECT count(*) FROM images i " \
	"WHERE i.job_id = e.job_id AND i.kind = 'final') FROM events e " \
	"WHERE e.to_state = 'succeeded' AND e.id > (SELECT coalesce(max(id), " \
	"0) FROM events) - ?1 ORDER BY e.id DESC"
#define CATSQL_IMAGE_META "SELECT job_id, length(data), sha256 FROM " \
	"images WHERE id = ?1"
/* the bytes' own length, not a column another program wrote: bounded
 * before anything is read */
#define CATSQL_INPUT_META "SELECT length(coalesce(b.data, i.data)), " \
	"b.sha256, i.content_type FROM inputs i LEFT JOIN blobs b ON " \
	"b.id = i.blob_id WHERE i.job_id = ?1 AND i.role = ?2 AND " \
	"i.ordinal = ?3"
#define CATSQL_INPUT_BYTES "SELECT coalesce(b.data, i.data) FROM inputs i " \
	"LEFT JOIN blobs b ON b.id = i.blob_id WHERE i.job_id = ?1 AND " \
	"i.role = ?2 AND i.ordinal = ?3"

/* ---- operator actions ---- */

/* The job's row, locked on PostgreSQL (a daemon's claim, lease renewal or
 * finish of it waits for this transaction, or this for theirs). */
CATSQL_PAIR(catsql_lock_job, CATSQL_JOB_STATE, CATSQL_JOB_STATE " FOR UPDATE");
/* ?1 the job, ?2 now */
#define CATSQL_CANCEL "UPDATE jobs SET state = 'canceled', " \
	"finished_at = ?2, updated_at = ?2, lease_owner = NULL, " \
	"lease_expires = NULL WHERE id = ?1"
/* back to the queue, now, error cleared, attempts kept, max_attempts
 * raised if exhausted (at most 100) */
#define CATSQL_RETRY "UPDATE jobs SET state = 'queued', not_before = 0, " \
	"finished_at = NULL, updated_at = ?2, max_attempts = CASE WHEN " \
	"attempts < max_attempts THEN max_attempts WHEN attempts >= 100 " \
	"THEN 100 ELSE attempts + 1 END, error_status = NULL, " \
	"error_type = NULL, error_code = NULL, error_message = NULL, " \
	"error_request_id = NULL WHERE id = ?1"

CATSQL_PAIR(catsql_pause_get, "SELECT 1 FROM control WHERE key = 'pause'",
    "SELECT 1 FROM control WHERE key = 'pause' FOR UPDATE");
#define CATSQL_PAUSE_SET "INSERT INTO control (key, value) VALUES (?1, ?2) " \
	"ON CONFLICT (key) DO UPDATE SET value = excluded.value"
#define CATSQL_PAUSE_DEL "DELETE FROM control WHERE key = 'pause'"

/* prune --dry-run: jobs in state ?2 finished before ?1, their images'
 * bytes. */
#define CATSQL_PRUNE_PLAN "SELECT count(*), coalesce(sum((SELECT " \
	"sum(size) FROM images i WHERE i.job_id = j.id)), 0) FROM jobs j " \
	"WHERE j.state = ?2 AND coalesce(j.finished_at, j.updated_at) < ?1"
/* a batch of prune: jobs in state ?1 finished before ?2, after id ?3, at
 * most ?4 of them; PostgreSQL locks their rows, so a retry cannot revive
 * one */
#define CATSQL_DOOMED(LOCK) "SELECT id FROM jobs WHERE state = ?1 AND " \
	"id > ?3 AND coalesce(finished_at, updated_at) < ?2 ORDER BY id " \
	"LIMIT ?4" LOCK
/* the bytes the batch holds, read before it goes */
#define CATSQL_DOOMED_BYTES(LOCK) "SELECT (SELECT coalesce(sum(length(" \
	"data)), 0) FROM images WHERE job_id IN (" CATSQL_DOOMED(LOCK) ")) + " \
	"(SELECT coalesce(sum(length(data)), 0) FROM inputs WHERE job_id IN (" \
	CATSQL_DOOMED(LOCK) "))"
#define CATSQL_PRUNE_JOBS(LOCK) "DELETE FROM jobs WHERE id IN (" \
	CATSQL_DOOMED(LOCK) ") RETURNING id, 0"
CATSQL_PAIR(catsql_prune_bytes, CATSQL_DOOMED_BYTES(""),
    CATSQL_DOOMED_BYTES(" FOR UPDATE"));
CATSQL_PAIR(catsql_prune_jobs, CATSQL_PRUNE_JOBS(""),
    CATSQL_PRUNE_JOBS(" FOR UPDATE"));
/* blobs no input refers to, after id ?1, at most ?2; PostgreSQL skips a
 * blob a submit is using (locked FOR SHARE) */
#define CATSQL_PRUNE_BLOBS(LOCK) "DELETE FROM blobs WHERE id IN (SELECT " \
	"b.id FROM blobs b WHERE b.id > ?1 AND NOT EXISTS (SELECT 1 FROM " \
	"inputs i WHERE i.blob_id = b.id) ORDER BY b.id LIMIT ?2" LOCK ") " \
	"RETURNING id, length(data)"
CATSQL_PAIR(catsql_prune_blobs, CATSQL_PRUNE_BLOBS(""),
    CATSQL_PRUNE_BLOBS(" FOR UPDATE SKIP LOCKED"));

#endif
