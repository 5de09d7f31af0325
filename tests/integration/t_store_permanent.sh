#!/usr/bin/env bash
# Errors that trying again does not mend (the seam's "corrupt"): an image
# the store refuses for good makes the attempt count (store_error), so
# max_attempts bounds what is paid for again; an attempt's end refused for
# good is tried 3 times, then the run lets go and the job comes back when
# its lease expires. No job is stuck, the daemon goes on.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32

# 1. the 2nd image write (job a's final) is refused for good
a=$("$IMGEDITCTL" submit -p "refused image" --model gpt-image-2.6-flare --partial-images 1 \
	--max-attempts 3 "$T/a.png")
IMGEDIT_STORE_FAULTS="image:2:corrupt" start_daemon --concurrency 1 --retry-base 100ms
wait_jobs_done 30
stop_daemon
assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$a")" "succeeded,2" "job a"
assert_eq "$(sql "SELECT group_concat(outcome || ':' || coalesce(error_type, '-'), ' ') FROM (SELECT * FROM attempts WHERE job_id=$a ORDER BY number) AS s")" \
	"retry:store_error succeeded:-" "job a's attempts"
assert_eq "$(edit_requests)" 2 "requests for job a"
grep -q 'store_error op=commit_image job=1 class=other' "$DAEMON_LOG" || fail "the refused image was not logged"

# 2. the first attempt's end is refused for good, 3 times
b=$("$IMGEDITCTL" submit -p "refused end" --model gpt-image-2.6-flare --partial-images 1 \
	--max-attempts 3 "$T/a.png")
IMGEDIT_STORE_FAULTS="finish:1:corrupt:3" start_daemon --concurrency 1 --lease 2s
wait_jobs_done 30
stop_daemon
grep -q "finish_abandoned job=$b attempt=1 tries=3" "$DAEMON_LOG" || fail "the run did not let go"
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$b")" succeeded "job b"
assert_eq "$(sql "SELECT group_concat(outcome, ' ') FROM (SELECT * FROM attempts WHERE job_id=$b ORDER BY number) AS s")" \
	"interrupted succeeded" "job b's attempts (the first closed by its lease's expiry)"
assert_eq "$(sql "SELECT count(*) FROM images WHERE job_id=$b")" 4 "job b's images (both attempts)"
assert_eq "$(edit_requests)" 4 "requests in all"
sent=$( (fake_sent_sha partial; fake_sent_sha final) | sort)
stored=$(sql "SELECT sha256 FROM images ORDER BY sha256")
# the refused final of job a is the one image sent and not stored
assert_eq "$(comm -23 <(echo "$sent") <(echo "$stored") | wc -l)" 1 "images sent but not stored"
assert_eq "$(comm -13 <(echo "$sent") <(echo "$stored") | wc -l)" 0 "images stored but never sent"
pass "a refused image counts the attempt; a refused end lets go after 3 tries and the lease brings the job back"
