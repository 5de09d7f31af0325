#!/usr/bin/env bash
# SIGTERM: claiming stops; an attempt that ends within --grace is stored; one
# that does not is aborted and its job returns to queued without counting the
# attempt; imgeditd exits 0 either way.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32

# 1. finishes within the grace period
id=$("$IMGEDITCTL" submit -p "slow one [[fault:delay=2500]]" --model gpt-image-2.6-flare "$T/a.png")
start_daemon --grace 10s
until [ "$(sql "SELECT state FROM jobs WHERE id=$id")" = running ]; do sleep 0.05; done
# SIGTERM first, then submit while the daemon drains: it must not claim it
kill -TERM "$DAEMON_PID"
until grep -q 'info stopping' "$DAEMON_LOG"; do sleep 0.02; done
queued=$("$IMGEDITCTL" submit -p "never claimed" --model gpt-image-2.6-flare "$T/a.png")
rc=0
wait "$DAEMON_PID" || rc=$? # job 1 (2.5 s) outlasts the 1 s pickup
DAEMON_PID=
assert_eq "$rc" 0 "imgeditd exit status after SIGTERM"
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$id")" succeeded "job finished within grace"
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$queued")" queued "job submitted after SIGTERM"
assert_eq "$(sql "SELECT count(*) FROM attempts WHERE job_id=$queued")" 0 "attempts of unclaimed job"

# 2. hangs past the grace period
sql "DELETE FROM jobs WHERE id=$queued"
id=$("$IMGEDITCTL" submit -p "hangs [[fault:hang]]" --model gpt-image-2.6-flare "$T/a.png")
start_daemon --grace 1s
until [ "$(sql "SELECT state FROM jobs WHERE id=$id")" = running ]; do sleep 0.05; done
sleep 0.3
t0=$SECONDS
stop_daemon
[ $((SECONDS - t0)) -le 4 ] || fail "shutdown took $((SECONDS - t0)) s with --grace 1s"
assert_eq "$(sql "SELECT state || ',' || attempts || ',' || CASE WHEN lease_owner IS NULL THEN 1 ELSE 0 END FROM jobs WHERE id=$id")" "queued,0,1" "hung job after shutdown"
assert_eq "$(sql "SELECT outcome FROM attempts WHERE job_id=$id")" interrupted "attempt outcome"
sleep 0.3
grep '"hangs' "$FAKE_LOG" | grep -q '"client_closed": *true' || fail "fake upstream did not see the connection closed"
assert_eq "$(sql "SELECT status FROM daemons WHERE stopped_at IS NOT NULL" | sort -u)" stopped "daemon rows after exit"
pass "grace honoured, hung attempt returned to the queue"
