#!/usr/bin/env bash
# An upstream error message built to overflow the log line's quoting (146
# double quotes, a newline, one more byte: escapes of 2 and 4 bytes right at
# the end of the 300-byte buffer, then the cut) is logged cut and escaped; the job fails with the message
# as sent and the daemon, built with ASan in ./scripts/check, goes on.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
quotes=$(printf '"%.0s' $(seq 1 146))
bad=$("$IMGEDITCTL" submit -p "log [[fault:status=400,message=$quotes
x]]" --model gpt-image-2.6-flare "$T/a.png")
good=$("$IMGEDITCTL" submit -p "after it" --model gpt-image-2.6-flare "$T/a.png")
start_daemon --concurrency 1
wait_jobs_done 30
kill -0 "$DAEMON_PID" || fail "imgeditd died logging the message"
stop_daemon
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$bad")" failed "the refused job"
assert_eq "$(sql "SELECT error_message = '$(echo "$quotes" | sed "s/'/''/g")' || char(10) || 'x' FROM jobs WHERE id=$bad")" 1 "the message as sent"
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$good")" succeeded "the next job"
line=$(grep "attempt_end job=$bad " "$DAEMON_LOG")
case $line in *'error="\"\"\"'*'..."') ;; *) fail "the log line is not quoted and cut: $line" ;; esac
assert_eq "$(grep -c "attempt_end job=$bad " "$DAEMON_LOG")" 1 "one log line (the newline escaped)"
pass "a message of 146 quotes, a newline and one byte is logged quoted and cut"
