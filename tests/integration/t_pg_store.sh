#!/usr/bin/env bash
# daemon/pg/pgstore.c's claim on a real PostgreSQL 15: 4 connections claim at
# once from 2,000 queued jobs (with inputs inline, in blobs, masks) plus a
# job with params too long, one with 18 inputs, one out of attempts and one
# scheduled later: tests/unit/test_pgstore.c checks every ready job is
# claimed exactly once, in priority order per connection, with its inputs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
[ -x "${TEST_PGSTORE:-}" ] || fail "TEST_PGSTORE is not set to the test_pgstore binary"
pg_start
"$IMGEDITCTL" --db "$PG_URI" init >/dev/null || fail "imgeditctl init failed"
pgsql >/dev/null <<'SQL' || fail "cannot fill the queue"
INSERT INTO jobs (id, params, priority)
SELECT i, jsonb_build_object('prompt', 'job ' || i), i % 5 FROM generate_series(1, 2000) i;
INSERT INTO inputs (job_id, role, ordinal, filename, data)
SELECT i, 'image', 0, 'in.png', convert_to('input of job ' || i, 'UTF8')
FROM generate_series(3, 2000, 3) i;
INSERT INTO blobs (sha256, size, data)
SELECT encode(sha256(d), 'hex'), length(d), d FROM
(SELECT convert_to('blob of job ' || i, 'UTF8') d FROM generate_series(7, 2000, 7) i) b;
INSERT INTO inputs (job_id, role, ordinal, filename, blob_id)
SELECT i, 'image', 1, 'in.png', b.id FROM generate_series(7, 2000, 7) i
JOIN blobs b ON b.data = convert_to('blob of job ' || i, 'UTF8');
INSERT INTO inputs (job_id, role, ordinal, filename, data)
SELECT i, 'mask', 0, 'mask.png', convert_to('mask of job ' || i, 'UTF8')
FROM generate_series(11, 2000, 11) i;
INSERT INTO jobs (id, params) VALUES (2001, jsonb_build_object('prompt', repeat('p', 300000)));
INSERT INTO jobs (id, params) VALUES (2002, '{"prompt":"many"}');
INSERT INTO inputs (job_id, role, ordinal, filename, data)
SELECT 2002, 'image', i, 'in.png', '\x78' FROM generate_series(0, 17) i;
INSERT INTO jobs (id, params, attempts, max_attempts) VALUES (2003, '{}', 5, 5);
INSERT INTO jobs (id, params, not_before) VALUES (2004, '{}', 4000000000000);
SQL
"$TEST_PGSTORE" "$PG_URI" >"$T/out" 2>&1 || { cat "$T/out" >&2; fail "test_pgstore failed"; }
cat "$T/out"
grep -q 'test_pgstore: [0-9]* checks, 0 failed' "$T/out" || fail "no verdict from test_pgstore"
pass "4 connections claimed 2,002 ready jobs exactly once (SKIP LOCKED), inputs intact"
