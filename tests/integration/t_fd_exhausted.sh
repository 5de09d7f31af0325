#!/usr/bin/env bash
# Out of descriptors while running (the limit lowered under the daemon with
# prlimit): the log says fd_exhausted, not "couldn't connect"; the attempt
# is the daemon's trouble and does not count; once descriptors are back,
# the job (max attempts 1) succeeds.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
start_daemon --concurrency 1
# no descriptor number free below the limit: the next socket() fails
free=$(python3 -c 'import os, sys; used = {int(f) for f in os.listdir("/proc/%s/fd" % sys.argv[1])}; print(next(i for i in range(100000) if i not in used))' "$DAEMON_PID")
prlimit --pid "$DAEMON_PID" --nofile="$free:"  # the soft limit only
id=$("$IMGEDITCTL" submit -p "no fd" --model gpt-image-2.6-flare --max-attempts 1 "$T/a.png")
for _ in $(seq 1 100); do grep -q 'fd_exhausted' "$DAEMON_LOG" && break; sleep 0.05; done
grep -q "error fd_exhausted job=$id error=\"Too many open files\"" "$DAEMON_LOG" ||
	fail "no fd_exhausted line: $(tail -3 "$DAEMON_LOG")"
prlimit --pid "$DAEMON_PID" --nofile=1024:
wait_jobs_done 20
stop_daemon
assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$id")" "succeeded,1" "the job"
sql "SELECT group_concat(outcome) FROM attempts WHERE job_id=$id" | grep -qE '^(interrupted,)+succeeded$' ||
	fail "attempt outcomes: $(sql "SELECT group_concat(outcome) FROM attempts WHERE job_id=$id")"
assert_eq "$(sql "SELECT count(*) FROM attempts WHERE job_id=$id AND outcome='interrupted' AND error_type='fd_exhausted' AND error_message LIKE 'no file descriptor%'")" \
	"$(sql "SELECT count(*) FROM attempts WHERE job_id=$id AND outcome='interrupted'")" "interrupted attempts named fd_exhausted"
pass "EMFILE named as such, not counted, and the job done once descriptors came back"
