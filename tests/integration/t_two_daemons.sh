#!/usr/bin/env bash
# Two daemons on one database, 200 jobs: every job runs exactly once
# (counted at the fake upstream) and both daemons did work.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 8000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 16 16
for i in $(seq 1 200); do
	printf '{"prompt":"job %d","model":"gpt-image-2.6-flare","partial_images":1,"images":["a.png"]}\n' "$i"
done >"$T/jobs.jsonl"
"$IMGEDITCTL" submit --from "$T/jobs.jsonl" >/dev/null
start_daemon --concurrency 6
first=$DAEMON_PID
start_daemon --concurrency 6
second=$DAEMON_PID
DAEMON_PID=$first
wait_jobs_done 120
kill -TERM "$second"; wait "$second" || fail "second daemon exit status $?"
stop_daemon

assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded' AND attempts=1")" 200 "jobs succeeded on the first attempt"
python3 - "$FAKE_LOG" <<'PY' || fail "some job reached upstream more or less than once"
import collections, json, sys
c = collections.Counter(json.loads(l)["fields"]["prompt"] for l in open(sys.argv[1]) if '"POST"' in l)
assert len(c) == 200 and set(c.values()) == {1}, [p for p, n in c.items() if n != 1][:5]
PY
per=$(sql "SELECT count(*) FROM attempts GROUP BY daemon_id" | sort -n | tr '\n' ' ')
assert_eq "$(sql "SELECT count(DISTINCT daemon_id) FROM attempts")" 2 "daemons that did work"
pass "200 jobs, each sent once; attempts per daemon: $per"
