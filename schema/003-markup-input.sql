-- imgedit schema version 3: an input may be the edit's markup (a transparent
-- PNG overlaid on the first image, the API's `markup` part, never with a
-- mask): role 'markup', ordinal 0. SQLite cannot change a CHECK in place, so
-- the table is rebuilt with the same rows.
CREATE TABLE inputs_v3 (
    job_id        INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('image','mask','markup')),
    ordinal       INTEGER NOT NULL DEFAULT 0 CHECK (ordinal >= 0),
    filename      TEXT NOT NULL,
    content_type  TEXT,                 -- NULL: sniffed from the bytes
    blob_id       INTEGER REFERENCES blobs(id),
    data          BLOB,                 -- plain SQL writers may put bytes here instead
    PRIMARY KEY (job_id, role, ordinal),
    CHECK ((blob_id IS NULL) <> (data IS NULL))
) WITHOUT ROWID;
INSERT INTO inputs_v3 (job_id, role, ordinal, filename, content_type, blob_id, data)
    SELECT job_id, role, ordinal, filename, content_type, blob_id, data FROM inputs;
DROP TABLE inputs;
ALTER TABLE inputs_v3 RENAME TO inputs;
CREATE INDEX inputs_blob ON inputs (blob_id) WHERE blob_id IS NOT NULL;
