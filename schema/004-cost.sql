-- imgedit schema version 4: what each attempt cost and what it held against
-- a budget while it ran, and what submit estimated a job would cost. Money is
-- in integer micro-dollars (1 USD = 1,000,000), never floating point.
ALTER TABLE attempts ADD COLUMN model TEXT;              -- params.model as sent; NULL: none
ALTER TABLE attempts ADD COLUMN cost_usd_micro INTEGER CHECK (cost_usd_micro >= 0);  -- usage x the prices in force when it ended; NULL: not known
ALTER TABLE attempts ADD COLUMN cost_status TEXT CHECK (cost_status IN
    ('known','not_billed','no_usage','no_price','bad_usage'));  -- NULL while it runs
ALTER TABLE attempts ADD COLUMN reserve_usd_micro INTEGER CHECK (reserve_usd_micro >= 0); -- the estimate held under a budget while it runs,
ALTER TABLE attempts ADD COLUMN reserve_tokens INTEGER CHECK (reserve_tokens >= 0);    -- and counted when what it cost is not known
ALTER TABLE jobs ADD COLUMN estimate_lo_usd_micro INTEGER CHECK (estimate_lo_usd_micro >= 0); -- submit's estimate; NULL: none (or no bound)
ALTER TABLE jobs ADD COLUMN estimate_hi_usd_micro INTEGER CHECK (estimate_hi_usd_micro >= 0);
CREATE INDEX attempts_started ON attempts (started_at);
