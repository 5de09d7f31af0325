-- imgedit schema version 2 on PostgreSQL: the claim index, as schema/002 on
-- SQLite (so both backends' version N has the same tables and columns).
-- A claim walks ready jobs by priority, then age, in index order, skipping
-- scheduled ones from the index alone:
--   SELECT id FROM jobs WHERE state IN ('queued','retry_wait')
--   AND not_before <= $now ORDER BY priority DESC, id
--   LIMIT $n FOR UPDATE SKIP LOCKED
CREATE INDEX jobs_ready ON jobs (priority DESC, id, not_before)
    WHERE state IN ('queued','retry_wait');
