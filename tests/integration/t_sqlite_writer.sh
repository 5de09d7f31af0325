#!/usr/bin/env bash
# A job written with the sqlite3 shell (no imgeditctl) into a running daemon's
# database is picked up within a second and succeeds.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 48 48
start_daemon --concurrency 2
sleep 0.5
before=$(date +%s%3N)
sql "BEGIN IMMEDIATE;
INSERT INTO jobs (params) VALUES ('{\"prompt\":\"from sql\",\"model\":\"gpt-image-2.6-flare\",\"partial_images\":1}');
INSERT INTO inputs (job_id, role, ordinal, filename, content_type, data)
  VALUES (last_insert_rowid(), 'image', 0, 'a.png', 'image/png', readfile('$T/a.png'));
COMMIT;"
id=$(sql "SELECT max(id) FROM jobs")
wait_jobs_done 30
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$id")" succeeded "state of the sql job"
started=$(sql "SELECT started_at FROM attempts WHERE job_id=$id AND number=1")
delay=$((started - before))
[ "$delay" -lt 1000 ] || fail "picked up after $delay ms (limit 1000)"
assert_eq "$(sql "SELECT count(*) FROM images WHERE job_id=$id")" 2 "images of the sql job"
stop_daemon
pass "sqlite3-shell job picked up after $delay ms"
