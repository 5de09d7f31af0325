-- scripts/lib/bench_pg_fill.sql: scripts/bench's full queue on PostgreSQL:
-- the one job there copied :n times by generate_series, sharing its input
-- blob; then ANALYZE, as autovacuum soon would after such an insert.
BEGIN;
INSERT INTO jobs (params, stream, priority)
SELECT (SELECT params FROM jobs ORDER BY id LIMIT 1), 1, 0 FROM generate_series(1, :n);
INSERT INTO inputs (job_id, role, ordinal, filename, content_type, blob_id)
SELECT j.id, i.role, i.ordinal, i.filename, i.content_type, i.blob_id
FROM jobs j, inputs i WHERE i.job_id = (SELECT min(id) FROM jobs) AND j.id <> i.job_id;
COMMIT;
ANALYZE;
