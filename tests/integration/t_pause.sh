#!/usr/bin/env bash
# 401 and insufficient_quota pause all dispatching without burning attempts;
# imgeditctl status shows why; a fixed key (SIGHUP) plus `imgeditctl resume`
# finishes every job; a quota pause ends by itself when a probe succeeds.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
for i in 1 2 3 4; do
	"$IMGEDITCTL" submit -p "job $i" --model gpt-image-2.6-flare "$T/a.png" >/dev/null
done
echo sk-wrong >"$T/key"
start_daemon --api-key-file "$T/key" --concurrency 1 --pause-probe 400ms --pause-probe-max 800ms

for _ in $(seq 1 100); do
	[ -n "$(sql "SELECT pause_reason FROM daemons WHERE stopped_at IS NULL")" ] && break
	sleep 0.1
done
reason=$(sql "SELECT pause_reason FROM daemons WHERE stopped_at IS NULL")
echo "$reason" | grep -q 'invalid_api_key' || fail "pause reason '$reason'"
"$IMGEDITCTL" status | grep -q 'invalid_api_key' || fail "imgeditctl status does not show the pause reason"
"$IMGEDITCTL" status | grep -q '^paused    by the daemon: HTTP 401' ||
	fail "status's top line does not say the daemon is paused: $("$IMGEDITCTL" status | grep '^paused')"
sleep 2
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='queued' AND attempts=0")" 4 "jobs queued with no attempt burned"
n401=$(grep -c '"status": *401' "$FAKE_LOG" || true)
[ "$n401" -ge 2 ] && [ "$n401" -le 8 ] || fail "$n401 requests got 401 in 2 s of pause (want a few probes, not a storm)"
assert_eq "$(sql "SELECT count(*) FROM attempts WHERE outcome <> 'paused'")" 0 "attempt outcomes while paused"

echo sk-test >"$T/key"
kill -HUP "$DAEMON_PID"
sleep 0.2
"$IMGEDITCTL" resume >/dev/null
t0=$SECONDS
wait_jobs_done 20
[ $((SECONDS - t0)) -le 5 ] || fail "resume took $((SECONDS - t0)) s"
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded' AND attempts=1")" 4 "jobs after resume"
sleep 2.5 # one heartbeat
assert_eq "$(sql "SELECT coalesce(pause_reason, 'none') FROM daemons WHERE stopped_at IS NULL")" none "pause reason after resume"

# quota: paused, then a probe succeeds and everything resumes by itself
q=$("$IMGEDITCTL" submit -p "quota [[fault:quota]]" --model gpt-image-2.6-flare "$T/a.png")
"$IMGEDITCTL" submit -p "after quota" --model gpt-image-2.6-flare "$T/a.png" >/dev/null
wait_jobs_done 20
assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$q")" "succeeded,1" "quota job"
assert_eq "$(sql "SELECT group_concat(outcome, ',') FROM (SELECT outcome FROM attempts WHERE job_id=$q ORDER BY number) AS s")" "paused,succeeded" "quota job attempts"
grep -q 'insufficient_quota' "$DAEMON_LOG" || fail "the quota pause was not logged"
stop_daemon
# a stopped daemon pauses nothing, whatever its row still says
sql "UPDATE daemons SET pause_reason = 'stale reason'"
"$IMGEDITCTL" status >"$T/status.txt"
grep -q '^paused    no$' "$T/status.txt" || fail "a stopped daemon's pause on the top line: $(cat "$T/status.txt")"
grep -q 'stale reason' "$T/status.txt" && fail "a stopped daemon shown paused: $(cat "$T/status.txt")"
pass "401 and quota pauses burn no attempt and end on resume / probe"
