#!/usr/bin/env bash
# A job whose daemon was SIGKILLed runs again within its lease after another
# daemon starts; the old daemon's attempt is closed as interrupted and,
# since upstream never answered it, is not counted.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 8000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 16 16
id=$("$IMGEDITCTL" submit -p "stuck [[fault:delay=60000;ok]]" --model gpt-image-2.6-flare "$T/a.png")
start_daemon --lease 3s
until [ "$(sql "SELECT state FROM jobs WHERE id=$id")" = running ]; do sleep 0.05; done
fake_wait_requests 1 # else attempt 2 would be the fake's first, and delayed
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true
killed=$(date +%s%3N)
# the lease as the dead daemon left it: nobody may take the job before
expires=$(sql "SELECT lease_expires FROM jobs WHERE id=$id")
[ -n "$expires" ] || fail "the running job has no lease"
start_daemon --lease 3s
wait_jobs_done 30
again=$(sql "SELECT started_at FROM attempts WHERE job_id=$id AND number=2")
lag=$((again - killed))
[ "$lag" -le 4500 ] || fail "job ran again $lag ms after the kill (lease 3 s)"
[ "$again" -ge "$expires" ] || fail "job ran again $((expires - again)) ms before its lease expired"
assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$id")" "succeeded,1" "job after takeover"
assert_eq "$(sql "SELECT outcome FROM attempts WHERE job_id=$id AND number=1")" interrupted "first attempt"
stop_daemon
pass "running again $lag ms after SIGKILL with a 3 s lease"
