#!/usr/bin/env bash
# A stream paused for the memory budget goes on as soon as the budget has
# room, whatever gave the room back: here another stream broken in the
# middle of an image (its buffer freed with its transfer), not an image
# committed. Job A streams slowly and is cut halfway through its first
# image (~1 MB held against a 1 MiB --memory-max); job B answers after
# 1.3 s, finds the budget full and pauses. When A breaks, B must go on at
# once: before, it waited for --total-timeout (20 s here), was counted as
# interrupted and sent upstream a second time.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 1500000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
a=$("$IMGEDITCTL" submit -p "broken [[fault:cut,slow=65536/100;status=400]]" \
	--model gpt-image-2.6-flare --partial-images 1 "$T/a.png")
b=$("$IMGEDITCTL" submit -p "held back [[fault:delay=1300]]" \
	--model gpt-image-2.6-flare --partial-images 1 "$T/a.png")
start_daemon --concurrency 2 --memory-max 1048576 --total-timeout 20s \
	--retry-base 100ms --retry-max 200ms --log-level debug
t0=$SECONDS
wait_jobs_done 40
took=$((SECONDS - t0))
stop_daemon
grep -q "transfer_paused job=$b " "$DAEMON_LOG" ||
	fail "job $b never paused: the test did not make the case it is about"
assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$b")" "succeeded,1" \
	"the held-back job (state,attempts)"
assert_eq "$(edit_requests "held back [[fault:delay=1300]]")" 1 "upstream requests of the held-back job"
assert_eq "$(sql "SELECT group_concat(outcome) FROM attempts WHERE job_id=$b")" "succeeded" \
	"the held-back job's attempts"
[ "$took" -lt 12 ] || fail "the jobs took $took s: the paused stream waited for a timeout"
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$a")" "failed" "the broken job (cut, then a 400)"
pass "a paused stream went on when another broke mid-image: one request, $took s"
