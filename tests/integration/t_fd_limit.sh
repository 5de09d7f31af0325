#!/usr/bin/env bash
# With fewer descriptors than --concurrency needs (ulimit -n 48 against
# --concurrency 100), the daemon says so at start and runs what fits: no
# job fails for want of a descriptor.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000 --latency-ms 50
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
submit_jobs 40 "fds" --model gpt-image-2.6-flare --partial-images 1 "$T/a.png"
(
	ulimit -n 48
	start_daemon --concurrency 100
	echo "$DAEMON_PID" >"$T/pid"
	wait "$DAEMON_PID"
) &
sub=$!
for _ in $(seq 1 100); do [ -s "$T/pid" ] && break; sleep 0.05; done
DAEMON_PID=$(cat "$T/pid")
wait_jobs_done 60
kill -TERM "$DAEMON_PID"
wait "$sub" || fail "imgeditd did not exit 0"
DAEMON_PID=
grep -q 'warn fd_limit nofile=48 need=264 concurrency=100 lowered_to=1' "$DAEMON_LOG" ||
	fail "no fd_limit warning: $(head -3 "$DAEMON_LOG")"
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded' AND attempts=1")" 40 "jobs succeeded, one attempt each"
pass "ulimit -n 48 with --concurrency 100: warned, lowered to 1, 40 jobs succeeded"
