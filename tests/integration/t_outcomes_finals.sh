#!/usr/bin/env bash
# An attempt succeeds only when its stream ended as a stream should: a
# connection dropped right after the first of two finals is retried (that
# final is kept, the retry brings both), while a stream that ends cleanly
# with one final of two is a success, one attempt, marked fewer_finals
# "1 of 2" in the attempt row and in `imgeditctl show`.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
sub() { "$IMGEDITCTL" submit --model gpt-image-2.6-flare --n 2 --partial-images 0 --max-attempts 3 "$@" "$T/a.png"; }
p_cut="dropped after one final [[fault:cut-after=1;ok]]"
p_short="one final of two [[fault:finals=1]]"
cut=$(sub -p "$p_cut")
short=$(sub -p "$p_short")
start_daemon --concurrency 2 --retry-base 100ms --retry-max 400ms
wait_jobs_done 30

# (i) the dropped connection is a failed attempt, whatever it delivered
assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$cut")" "succeeded,2" \
	"job whose stream was dropped after 1 of 2 finals (state,attempts)"
assert_eq "$(edit_requests "$p_cut")" 2 "upstream requests for the dropped stream's job"
assert_eq "$(sql "SELECT group_concat(number || ':' || outcome, ' ') FROM (SELECT * FROM attempts WHERE job_id=$cut ORDER BY number) AS s")" \
	"1:retry 2:succeeded" "attempts of the dropped stream's job"
assert_eq "$(sql "SELECT group_concat(n, ' ') FROM (SELECT a.number, count(i.id) AS n FROM attempts a LEFT JOIN images i ON i.attempt_id = a.id AND i.kind = 'final' WHERE a.job_id=$cut GROUP BY a.number ORDER BY a.number) AS s")" \
	"1 2" "finals per attempt (the dropped one's first final kept)"
sent=$(fake_sent_sha final "$p_cut")
assert_eq "$(echo "$sent" | grep -c .)" 3 "finals the fake upstream sent for the dropped stream's job"
assert_eq "$(stored_sha "$cut" final)" "$sent" "sha256 of the stored finals vs sent (dropped stream's job)"

# (ii) a clean end with fewer finals than n: a success, noted, not retried
assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$short")" "succeeded,1" \
	"job whose stream ended cleanly with 1 of 2 finals (state,attempts)"
assert_eq "$(edit_requests "$p_short")" 1 "upstream requests for the short stream's job"
assert_eq "$(sql "SELECT count(*) || ':' || group_concat(outcome || ':' || coalesce(error_type, 'NULL')) FROM attempts WHERE job_id=$short")" \
	"1:succeeded:fewer_finals" "the short stream's attempt (count:outcome:error_type)"
msg=$(sql "SELECT coalesce(error_message, '') FROM attempts WHERE job_id=$short")
case $msg in *"1 of 2"*) ;; *) fail "the short attempt's error_message '$msg' does not say '1 of 2'" ;; esac
"$IMGEDITCTL" show "$short" >"$T/show.out" || fail "imgeditctl show $short exited $?"
grep -q "1 of 2" "$T/show.out" || fail "imgeditctl show $short does not say '1 of 2': $(cat "$T/show.out")"
sent=$(fake_sent_sha final "$p_short")
assert_eq "$(echo "$sent" | grep -c .)" 1 "finals the fake upstream sent for the short stream's job"
assert_eq "$(stored_sha "$short" final)" "$sent" "sha256 of the stored final vs sent (short stream's job)"
stop_daemon
pass "a dropped stream is retried with its final kept; a clean short one is a noted success"
