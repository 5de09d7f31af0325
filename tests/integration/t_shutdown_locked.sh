#!/usr/bin/env bash
# A daemon told to stop while another program holds the database lock for
# good cannot store its jobs' ends, and waits for the lock (nothing is
# lost by waiting). The operator still has the last word: a third SIGTERM
# makes it exit at once, without storing; the jobs it held go back to the
# queue when their leases expire, and a daemon started later runs them.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
id=$("$IMGEDITCTL" submit -p "held up [[fault:hang;ok]]" --model gpt-image-2.6-flare "$T/a.png")
start_daemon --grace 1s --lease 3s --heartbeat 200ms
until [ "$(sql "SELECT state FROM jobs WHERE id=$id")" = running ]; do sleep 0.05; done
fake_wait_requests 1
hold_lock 60
kill -TERM "$DAEMON_PID"
sleep 2.5 # past the grace: the abort's write waits for the lock
kill -0 "$DAEMON_PID" 2>/dev/null || fail "imgeditd exited without storing, on one SIGTERM"
kill -TERM "$DAEMON_PID"
sleep 1
kill -0 "$DAEMON_PID" 2>/dev/null || fail "imgeditd exited without storing, on two SIGTERMs"
t0=$(date +%s%N)
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
DAEMON_PID=
[ "$ms" -lt 2000 ] || fail "the third SIGTERM took $ms ms to end imgeditd"
assert_eq "$rc" 1 "imgeditd exit status on the third SIGTERM"
grep -q 'signal name=TERM action=exit' "$DAEMON_LOG" || fail "no log line for the exit: $(tail -3 "$DAEMON_LOG")"
kill "$HOLDER_PID" 2>/dev/null; wait "$HOLDER_PID" 2>/dev/null || true
HOLDER_PID=
# the lease (3 s) runs out; a new daemon takes the job up again
start_daemon --lease 3s --heartbeat 200ms
wait_jobs_done 30
stop_daemon
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$id")" succeeded "the held job, after its lease ran out"
assert_eq "$(edit_requests "held up [[fault:hang;ok]]")" 2 "upstream requests"
pass "the third SIGTERM ended a daemon stuck on a lock in $ms ms; the job ran after its lease"
