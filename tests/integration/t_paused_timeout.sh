#!/usr/bin/env bash
# A transfer the daemon paused for its memory budget (the database was
# locked) and that then timed out is the daemon's doing, not upstream's:
# the attempt does not count. Jobs with --max-attempts 1 time out while a
# lock holds their bytes back, and still succeed once it is gone.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 300000 --latency-ms 500
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
submit_jobs 4 "timeout" --model gpt-image-2.6-flare --partial-images 3 --max-attempts 1 \
	"$T/a.png"
start_daemon --concurrency 4 --memory-max 1048576 --total-timeout 4s
fake_wait_requests 4
lock_for 8
wait_jobs_done 60
stop_daemon
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded' AND attempts=1")" 4 "jobs succeeded, one attempt counted"
n=$(sql "SELECT count(*) FROM attempts WHERE outcome='interrupted'")
[ "$n" -ge 1 ] || fail "no transfer timed out while paused: the test proves nothing"
assert_eq "$(sql "SELECT count(*) FROM attempts WHERE outcome NOT IN ('interrupted','succeeded')")" 0 "other outcomes"
assert_eq "$(sql "SELECT count(*) FROM job_images WHERE attempt_outcome='succeeded'")" 16 \
	"images of the succeeded attempts (3 partials + final each)"
# a timed-out transfer leaves what was still in the socket unread; what
# was stored is exactly what was sent
sent=$( (fake_sent_sha partial; fake_sent_sha final) | sort)
stored=$(sql "SELECT sha256 FROM images ORDER BY sha256")
assert_eq "$(comm -13 <(echo "$sent") <(echo "$stored") | wc -l)" 0 "images stored but never sent"
pass "$n transfers timed out while paused for the database: not counted, every job succeeded"
