-- imgedit schema version 1. Applied by `imgeditctl init` and by imgeditd at
-- start; see schema/README.md for the contract other programs rely on.
-- Times are Unix epoch milliseconds (INTEGER).

CREATE TABLE blobs (
    id          INTEGER PRIMARY KEY,
    sha256      TEXT NOT NULL UNIQUE,          -- hex, lowercase
    size        INTEGER NOT NULL CHECK (size >= 0),
    data        BLOB NOT NULL
);

CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, even after prune
    state           TEXT NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued','running','retry_wait','succeeded','failed','canceled')),
    params          TEXT NOT NULL,                 -- JSON object: API fields except files and stream
    stream          INTEGER NOT NULL DEFAULT 1 CHECK (stream IN (0,1)),
    priority        INTEGER NOT NULL DEFAULT 0,    -- higher runs first
    not_before      INTEGER NOT NULL DEFAULT 0,    -- do not start before (ms)
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts    INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts BETWEEN 1 AND 100),
    lease_owner     TEXT,                          -- daemons.id while running
    lease_expires   INTEGER,
    error_status    INTEGER,                       -- last error: HTTP status (NULL if none)
    error_type      TEXT,
    error_code      TEXT,
    error_message   TEXT,
    error_request_id TEXT,
    input_tokens    INTEGER NOT NULL DEFAULT 0,
    output_tokens   INTEGER NOT NULL DEFAULT 0,
    total_tokens    INTEGER NOT NULL DEFAULT 0,
    idempotency_key TEXT UNIQUE,
    created_at      INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
    updated_at      INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
    finished_at     INTEGER,
    CHECK ((state = 'running') = (lease_owner IS NOT NULL))
);
-- Claiming: walk ready jobs by priority, then age, in index order.
CREATE INDEX jobs_claim ON jobs (priority DESC, id) WHERE state IN ('queued','retry_wait');
-- Next wake-up for scheduled / retrying jobs.
CREATE INDEX jobs_wake ON jobs (not_before) WHERE state IN ('queued','retry_wait');
-- Expired leases.
CREATE INDEX jobs_lease ON jobs (lease_expires) WHERE state = 'running';
CREATE INDEX jobs_state ON jobs (state, id);

CREATE TABLE inputs (
    job_id        INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('image','mask')),
    ordinal       INTEGER NOT NULL DEFAULT 0 CHECK (ordinal >= 0),
    filename      TEXT NOT NULL,
    content_type  TEXT,                 -- NULL: sniffed from the bytes
    blob_id       INTEGER REFERENCES blobs(id),
    data          BLOB,                 -- plain SQL writers may put bytes here instead
    PRIMARY KEY (job_id, role, ordinal),
    CHECK ((blob_id IS NULL) <> (data IS NULL))
) WITHOUT ROWID;
CREATE INDEX inputs_blob ON inputs (blob_id) WHERE blob_id IS NOT NULL;

CREATE TABLE attempts (
    id            INTEGER PRIMARY KEY,
    job_id        INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    number        INTEGER NOT NULL CHECK (number >= 1),
    daemon_id     TEXT,
    started_at    INTEGER NOT NULL,
    ended_at      INTEGER,
    http_status   INTEGER,
    request_id    TEXT,
    outcome       TEXT CHECK (outcome IN ('succeeded','retry','failed','canceled','interrupted','paused')),
    error_type    TEXT,
    error_code    TEXT,
    error_message TEXT,
    input_tokens  INTEGER,
    output_tokens INTEGER,
    total_tokens  INTEGER,
    usage         TEXT,                 -- upstream's usage object, JSON
    UNIQUE (job_id, number)
);

CREATE TABLE images (
    id            INTEGER PRIMARY KEY,
    job_id        INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    attempt_id    INTEGER NOT NULL REFERENCES attempts(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('partial','final')),
    idx           INTEGER NOT NULL CHECK (idx >= 0), -- final: output index; partial: arrival order in the attempt
    partial_index INTEGER,              -- partial_image_index as reported
    format        TEXT NOT NULL,        -- png, jpeg, webp
    width         INTEGER,
    height        INTEGER,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    quality       TEXT,                 -- as reported by upstream
    background    TEXT,
    reported_size TEXT,
    created_at    INTEGER NOT NULL,
    data          BLOB NOT NULL,        -- last, so metadata reads never touch it
    UNIQUE (attempt_id, kind, idx)
);
CREATE INDEX images_job ON images (job_id, kind, idx);

CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    job_id    INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    at        INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
    from_state TEXT,
    to_state  TEXT NOT NULL,
    detail    TEXT
);
CREATE INDEX events_job ON events (job_id, id);

-- History is written by triggers, so state changes made by any program are recorded.
CREATE TRIGGER jobs_created AFTER INSERT ON jobs BEGIN
    INSERT INTO events (job_id, from_state, to_state) VALUES (new.id, NULL, new.state);
END;
CREATE TRIGGER jobs_state_changed AFTER UPDATE OF state ON jobs
WHEN old.state IS NOT new.state BEGIN
    INSERT INTO events (job_id, from_state, to_state, detail)
    VALUES (new.id, old.state, new.state,
            CASE WHEN new.state IN ('failed','retry_wait') THEN new.error_message END);
END;

CREATE TABLE daemons (
    id            TEXT PRIMARY KEY,     -- random, fresh per start
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    heartbeat_at  INTEGER NOT NULL,
    stopped_at    INTEGER,
    status        TEXT,                 -- one-line summary, as sent to systemd
    pause_reason  TEXT                  -- why this daemon is not dispatching, NULL if it is
);

-- Operator switches: key 'pause' = reason set by `imgeditctl pause`;
-- key 'resume' = epoch ms of the last `imgeditctl resume` (ends an automatic pause).
CREATE TABLE control (
    key    TEXT PRIMARY KEY,
    value  TEXT
);

-- Every image of every job, without the bytes' column being read unless asked.
-- The result of a succeeded job: kind = 'final' AND attempt_outcome = 'succeeded'.
CREATE VIEW job_images AS
SELECT i.job_id, a.number AS attempt, a.outcome AS attempt_outcome, i.kind,
       i.idx, i.partial_index, i.format, i.width, i.height, i.size, i.sha256,
       i.created_at, i.id AS image_id
FROM images i JOIN attempts a ON a.id = i.attempt_id;
