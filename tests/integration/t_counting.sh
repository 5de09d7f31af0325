#!/usr/bin/env bash
# Only counted attempts (jobs.attempts) decide retry or fail, and the
# backoff: paused attempts (401) and interrupted ones (SIGTERM) never
# count, so a job with --max-attempts 2 still gets its two real tries after
# any number of them, and the first counted failure waits the base delay.
. "$(dirname "$0")/lib.sh"

# outcomes JOB: the job's attempt outcomes, by number, comma-separated.
outcomes() {
	sql "SELECT group_concat(outcome, ',') FROM (SELECT outcome FROM attempts WHERE job_id=$1 ORDER BY number) AS s"
}

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
sub() { "$IMGEDITCTL" submit --model gpt-image-2.6-flare --max-attempts 2 "$@" "$T/a.png"; }

# (i) two paused attempts, then a 500 and a success: 2 counted attempts
paused=$(sub -p "paused twice [[fault:auth;auth;status=500;ok]]")
start_daemon --concurrency 1 --pause-probe 200ms --pause-probe-max 400ms \
	--retry-base 100ms --retry-max 400ms
wait_jobs_done 20
stop_daemon
assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$paused")" "succeeded,2" \
	"job after 2 paused attempts, a 500 and a success (state,attempts)"
assert_eq "$(outcomes "$paused")" "paused,paused,retry,succeeded" "its attempt outcomes"
# show marks the two that do not count, and gives durations in ms
"$IMGEDITCTL" show "$paused" >"$T/show.txt"
grep -q "attempts 2/2" "$T/show.txt" || fail "show's attempts line: $(head -1 "$T/show.txt")"
assert_eq "$(grep -cE '^ +[12] .* paused\* ' "$T/show.txt")" 2 "paused attempts marked not counted"
assert_eq "$(grep -cE '^ +[34] .* (retry|succeeded) ' "$T/show.txt")" 2 "counted attempts unmarked"
grep -q "not counted against max_attempts" "$T/show.txt" || fail "no footnote: $(cat "$T/show.txt")"
grep -qE '^ +4 .* [0-9]+ ms ' "$T/show.txt" || fail "durations not in ms: $(grep -E '^ +4 ' "$T/show.txt")"

# (ii) two requests interrupted by SIGTERM (--grace 0), then a 500 and a
# success: 2 counted attempts
before=$(grep -c '"path":"/v1/images/edits"' "$FAKE_LOG" || true)
intr=$(sub -p "interrupted twice [[fault:hang;hang;status=500;ok]]")
for k in 1 2; do
	start_daemon --concurrency 1 --grace 0 --retry-base 100ms --retry-max 400ms
	fake_wait_requests $((before + k))
	stop_daemon
	assert_eq "$(sql "SELECT state FROM jobs WHERE id=$intr")" queued \
		"job after SIGTERM $k interrupted its hung request"
done
start_daemon --concurrency 1 --grace 0 --retry-base 100ms --retry-max 400ms
wait_jobs_done 20
stop_daemon
assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$intr")" "succeeded,2" \
	"job after 2 interrupted attempts, a 500 and a success (state,attempts)"
assert_eq "$(outcomes "$intr")" "interrupted,interrupted,retry,succeeded" "its attempt outcomes"

# (iii) the first counted failure waits base * 2^0 (equal jitter: 1..2 s
# with --retry-base 2s) even after three paused attempts; counting attempt
# rows instead would wait base * 2^3, 8..16 s.  The gap not_before -
# ended_at is read from the rows; 500 ms of slack for the two stamps.
backoff=$("$IMGEDITCTL" submit --model gpt-image-2.6-flare -p "backoff [[fault:auth;auth;auth;status=500;ok]]" "$T/a.png")
start_daemon --concurrency 1 --pause-probe 200ms --pause-probe-max 400ms \
	--retry-base 2s --retry-max 60s
deadline=$((SECONDS + 15))
gap=
while [ -z "$gap" ]; do
	gap=$(sql "SELECT j.not_before - a.ended_at FROM jobs j JOIN attempts a ON a.job_id = j.id WHERE j.id=$backoff AND j.state = 'retry_wait' AND a.outcome = 'retry'")
	[ -n "$gap" ] && break
	[ $SECONDS -lt $deadline ] || fail "job $backoff never reached retry_wait after its 500 (state $(sql "SELECT state FROM jobs WHERE id=$backoff"), outcomes $(outcomes "$backoff"))"
	sleep 0.05
done
assert_eq "$(outcomes "$backoff")" "paused,paused,paused,retry" "attempt outcomes at the 500"
[ "$gap" -le 2500 ] || fail "the first counted failure waits $gap ms after 3 paused attempts (want <= 2000 + 500 slack: base 2s, exponent 0)"
[ "$gap" -ge 900 ] || fail "the first counted failure waits $gap ms (want >= 1000 - 100 slack: base 2s, equal jitter)"
wait_jobs_done 10
stop_daemon
# and the daemon kept to it: the next attempt started no earlier
waited=$(sql "SELECT b.started_at - a.ended_at FROM attempts a JOIN attempts b ON b.job_id = a.job_id AND b.number = a.number + 1 WHERE a.job_id=$backoff AND a.outcome = 'retry'")
[ "$waited" -ge $((gap - 100)) ] || fail "the retry started $waited ms after the 500, before its not_before ($gap ms)"
assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$backoff")" "succeeded,2" "backoff job"
pass "paused and interrupted attempts neither use up max_attempts nor grow the backoff"
