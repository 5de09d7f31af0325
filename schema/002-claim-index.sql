-- imgedit schema version 2: the claim index carries not_before, so skipping
-- jobs scheduled for later reads only the index, never the table rows.
-- (Claiming names this index with INDEXED BY: with 100,000 queued jobs the
-- planner otherwise preferred jobs_state and sorted every queued row.)
DROP INDEX jobs_claim;
CREATE INDEX jobs_ready ON jobs (priority DESC, id, not_before)
    WHERE state IN ('queued','retry_wait');
