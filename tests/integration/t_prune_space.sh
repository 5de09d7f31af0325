#!/usr/bin/env bash
# prune gives the space back: a database with 300 MB of images, once
# pruned, is under 30 MB on disk; --dry-run says what would go and deletes
# nothing. (New databases are made with auto_vacuum = INCREMENTAL; prune
# runs incremental_vacuum in short steps, then a checkpoint.)
. "$(dirname "$0")/lib.sh"

"$IMGEDITCTL" init >/dev/null
assert_eq "$(sql "PRAGMA auto_vacuum")" 2 "auto_vacuum of a new database (2 = incremental)"
sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
INSERT INTO jobs (id, params, state, finished_at) SELECT i, '{\"prompt\":\"p\"}', 'succeeded', 1 FROM n;
INSERT INTO attempts (job_id, number, started_at, outcome) SELECT id, 1, 0, 'succeeded' FROM jobs;
INSERT INTO images (job_id, attempt_id, kind, idx, format, size, sha256, created_at, data)
SELECT job_id, id, 'final', 0, 'png', 1048576, 'x', 0, randomblob(1048576) FROM attempts;
PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
before=$(stat -c %s "$DB")
[ "$before" -gt 300000000 ] || fail "the database holds only $before bytes"
"$IMGEDITCTL" prune --older-than 0s --state succeeded --dry-run >"$T/dry.txt"
grep -q "would prune 300 jobs, with 314.6 MB of images" "$T/dry.txt" || fail "dry run: $(cat "$T/dry.txt")"
assert_eq "$(sql "SELECT count(*) FROM jobs")" 300 "jobs after --dry-run"
"$IMGEDITCTL" prune --older-than 0s --state succeeded >"$T/prune.txt"
grep -q "pruned 300 jobs" "$T/prune.txt" || fail "prune: $(cat "$T/prune.txt")"
grep -qE "^3[0-9][0-9]\.[0-9] MB freed" "$T/prune.txt" || fail "no MB freed line: $(cat "$T/prune.txt")"
after=$(stat -c %s "$DB")
[ "$after" -lt 30000000 ] || fail "the database is still $after bytes after prune (was $before)"
assert_eq "$(sql "SELECT count(*) FROM jobs")" 0 "jobs after prune"
assert_eq "$(sql "PRAGMA integrity_check")" ok "integrity"
pass "prune: $before bytes down to $after"
