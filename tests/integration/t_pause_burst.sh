#!/usr/bin/env bash
# A 401 that hits 7 streams in flight (the key was revoked: each answer
# comes after 800 ms) pauses the dispatcher once: the probe schedule steps
# per probe, not per failure, so the first probe goes out after
# --pause-probe (500 ms), not after 500 ms x 2^6.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
for i in $(seq 1 7); do
	"$IMGEDITCTL" submit -p "burst $i [[fault:delay=800,auth;auth;auth;auth]]" \
		--model gpt-image-2.6-flare "$T/a.png" >/dev/null
done
start_daemon --concurrency 7 --pause-probe 500ms --pause-probe-max 60s
sleep 3
stop_daemon
n=$(edit_requests)
# 7 at once, answered at 0.8 s, then probes at about 1.3 and 2.3 s
[ "$n" -ge 9 ] && [ "$n" -le 10 ] || fail "$n requests in 3 s: want the 7 first and 2 or 3 probes"
assert_eq "$(grep -c 'paused reason=' "$DAEMON_LOG")" "$((n - 6))" "pause lines (one per probe, plus the first)"
assert_eq "$(grep -m1 'paused reason=' "$DAEMON_LOG" | sed 's/.*probe_in_ms=//')" 500 "first probe delay"
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='queued' AND attempts=0")" 7 "jobs queued, no attempt counted"
pass "7 streams refused at once: first probe after 500 ms, $n requests in 3 s"
