#!/usr/bin/env bash
# The daemon's own limits keep it under the upstream's, and when it is set
# too high it adapts to x-ratelimit headers and 429s: every job completes.
# The fake upstream allows 60 requests per window. The window is 6 s here
# (60 s with IMGEDIT_FULL_RATELIMIT_TEST=1, the real per-minute case) and
# the daemon's --rpm is scaled with it: 60/min becomes 600/min.
. "$(dirname "$0")/lib.sh"

window=6000 scale=10
if [ "${IMGEDIT_FULL_RATELIMIT_TEST:-0}" = 1 ]; then window=60000 scale=1; fi
start_fake --image-bytes 5000 --rpm 60 --rpm-window-ms "$window"
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 16 16
submit_100() {
	for i in $(seq 1 100); do echo "$T/a.png"; done |
		xargs "$IMGEDITCTL" submit --each -p "$1" --model gpt-image-2.6-flare >/dev/null
}
count_429() { grep -c '"status": *429' "$FAKE_LOG" || true; }

# 1. --rpm at the upstream's limit: at most 2 answers of 429
submit_100 "paced"
start_daemon --concurrency 16 --rpm $((60 * scale)) --retry-base 100ms
wait_jobs_done $((window * 3 / 1000 + 30))
stop_daemon
n1=$(count_429)
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded'")" 100 "jobs succeeded at --rpm $((60 * scale))"
[ "$n1" -le 2 ] || fail "$n1 answers of 429 at --rpm $((60 * scale)) (at most 2)"

# 2. --rpm ten times too high: the headers and 429s slow everyone down
sleep $((window / 1000 + 1)) # a fresh window at the fake upstream
submit_100 "eager"
start_daemon --concurrency 16 --rpm $((600 * scale)) --retry-base 100ms --retry-max 1s
wait_jobs_done $((window * 3 / 1000 + 30))
stop_daemon
n2=$(($(count_429) - n1))
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded'")" 200 "jobs succeeded at --rpm $((600 * scale))"
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='failed'")" 0 "failed jobs"
# adapted: the headers (and a 429's hold) keep it to a few 429s, where a
# daemon that ignores both meets one for most requests past the limit
[ "$n2" -le 4 ] || fail "$n2 answers of 429 at --rpm $((600 * scale)) (at most 4 once adapted)"
pass "429s: $n1 at the upstream's rate, $n2 at ten times it (all 200 jobs done)"
