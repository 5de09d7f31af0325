#!/usr/bin/env bash
# Writers: while imgeditd runs 100 jobs, another process holds BEGIN
# IMMEDIATE for 2.5 s at random moments and four processes keep submitting
# (two with imgeditctl, two with the sqlite3 shell). Nothing fails with
# "database is locked", no image is lost, every job ends. The gaps between
# holds are 1 to 1.5 s: SQLite's busy handler polls every 100 ms with no
# queue, so an imgeditctl (5 s timeout) that waited through one hold needs
# a gap long enough to get its turn among the daemon and three submitters.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000 --latency-ms 50
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 16 16
for i in $(seq 1 100); do echo "$T/a.png"; done |
	xargs "$IMGEDITCTL" submit --each -p "bulk" --model gpt-image-2.6-flare --partial-images 1 >/dev/null
start_daemon --concurrency 8

python3 - "$DB" >"$T/holder.log" 2>&1 <<'PY' &
import random, sqlite3, sys, time
random.seed(7)
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
for _ in range(3):
    time.sleep(random.uniform(1.0, 1.5))
    db.execute("BEGIN IMMEDIATE")
    time.sleep(2.5)
    db.execute("COMMIT")
print("held 3 times")
PY
holder=$!
writers=()
for w in 1 2; do
	( for i in $(seq 1 10); do
		"$IMGEDITCTL" submit -p "ctl $w.$i" --model gpt-image-2.6-flare --partial-images 1 "$T/a.png" >/dev/null || echo "ctl submit failed"
		sleep 0.2
	done ) >"$T/ctl$w.log" 2>&1 &
	writers+=($!)
done
for w in 1 2; do
	( for i in $(seq 1 10); do
		sqlite3 -bail -cmd '.timeout 20000' "$DB" "BEGIN IMMEDIATE;
INSERT INTO jobs (params) VALUES ('{\"prompt\":\"sql $w.$i\",\"model\":\"gpt-image-2.6-flare\",\"partial_images\":1}');
INSERT INTO inputs (job_id, role, ordinal, filename, data) VALUES (last_insert_rowid(), 'image', 0, 'a.png', readfile('$T/a.png'));
COMMIT;" || echo "sql submit failed"
		sleep 0.2
	done ) >"$T/sql$w.log" 2>&1 &
	writers+=($!)
done
wait "$holder" || fail "the lock holder failed: $(cat "$T/holder.log")"
for p in "${writers[@]}"; do wait "$p"; done
wait_jobs_done 120
stop_daemon

# the daemon says when a write waits for a lock (store_waiting), and that
# is no failure; anything else about a lock or a failure is
if grep -ih 'locked\|failed' "$T"/ctl*.log "$T"/sql*.log "$DAEMON_LOG" |
	grep -v 'store_waiting\|store_resumed' >"$T/bad.log"; then
	fail "a writer or the daemon failed: $(head -3 "$T/bad.log")"
fi
assert_eq "$(sql "SELECT count(*) FROM jobs")" 140 "jobs written"
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded'")" 140 "jobs succeeded"
assert_eq "$(sql "SELECT count(*) FROM images")" 280 "images stored (one partial and one final each)"
sent=$( (fake_sent_sha partial; fake_sent_sha final) | sort)
assert_eq "$(sql "SELECT sha256 FROM images ORDER BY sha256")" "$sent" "stored vs sent"
pass "140 jobs, 280 images, no lock errors with a 2.5 s writer and 4 submitters"
