#!/usr/bin/env bash
# A pause probe that is canceled while in flight does not leave the daemon
# paused forever: after a 401 the probe (the same job, again) hangs, the
# job is canceled, and the next job runs within seconds without
# `imgeditctl resume`.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
a=$("$IMGEDITCTL" submit -p "401 then a hung probe [[fault:auth;hang]]" --model gpt-image-2.6-flare "$T/a.png")
start_daemon --concurrency 1 --pause-probe 500ms --pause-probe-max 1s
fake_wait_requests 2 # the 401, then the probe, which hangs
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$a")" running "job A while its probe hangs"
"$IMGEDITCTL" cancel "$a" >/dev/null
b=$("$IMGEDITCTL" submit -p "after the canceled probe" --model gpt-image-2.6-flare "$T/a.png")
deadline=$((SECONDS + 10))
until [ "$(sql "SELECT state FROM jobs WHERE id=$b")" = succeeded ]; do
	[ $SECONDS -lt $deadline ] || fail "job B is '$(sql "SELECT state FROM jobs WHERE id=$b")' 10 s after the probe's job was canceled (daemon pause_reason: '$(sql "SELECT coalesce(pause_reason, 'none') FROM daemons WHERE stopped_at IS NULL")')"
	kill -0 "$DAEMON_PID" 2>/dev/null || fail "imgeditd died"
	sleep 0.1
done
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$a")" canceled "job A"
assert_eq "$(sql "SELECT group_concat(outcome, ',') FROM (SELECT outcome FROM attempts WHERE job_id=$a ORDER BY number) AS s")" \
	"paused,canceled" "job A's attempt outcomes"
assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$b")" "succeeded,1" "job B"
stop_daemon
pass "a canceled probe ends the pause's hold on dispatching"
