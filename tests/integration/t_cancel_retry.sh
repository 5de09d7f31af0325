#!/usr/bin/env bash
# Cancel, then retry at once, while the job streams: the first transfer is
# still closed (the retry must not make it the daemon's again: on
# PostgreSQL the requeue's NOTIFY has the same daemon claim the job before
# any poll), its attempt ends canceled, and only the second attempt's final
# decides the job. Runs on both backends.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 100000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
id=$("$IMGEDITCTL" submit -p "slow [[fault:slow=2048/10]]" --model gpt-image-2.6-flare --partial-images 3 "$T/a.png")
start_daemon --concurrency 2 --poll-interval 1s
for _ in $(seq 1 200); do
	[ "$(sql "SELECT count(*) FROM images WHERE job_id=$id")" -ge 1 ] && break
	sleep 0.05
done
[ "$(sql "SELECT count(*) FROM images WHERE job_id=$id")" -ge 1 ] || fail "no partial arrived"
"$IMGEDITCTL" cancel "$id" >/dev/null
"$IMGEDITCTL" retry "$id" >/dev/null
deadline=$((SECONDS + 60))
until [ "$(sql "SELECT state FROM jobs WHERE id=$id")" = succeeded ]; do
	[ $SECONDS -lt $deadline ] || fail "the retried job did not succeed: $(sql "SELECT state FROM jobs WHERE id=$id")"
	sleep 0.1
done
# the first transfer ends before (or as) the second starts, not at some
# later poll
python3 - "$FAKE_LOG" <<'PY' || fail "the first transfer went on beside the second"
import json, sys
reqs = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("method") == "POST":
        reqs[r["seq"]] = r
first, second = reqs[1], reqs[2]
assert first["client_closed"], "the first transfer was not closed by the daemon"
late = first["t_end_ms"] - second["t_start_ms"]
assert late <= 20, "closed %d ms after the second began" % late
print("first closed %d ms after the second began" % late)
PY
stop_daemon
assert_eq "$(sql "SELECT group_concat(number || ':' || outcome, ' ') FROM (SELECT number, outcome FROM attempts WHERE job_id=$id ORDER BY number) AS s")" \
	"1:canceled 2:succeeded" "the job's attempts"
assert_eq "$(sql "SELECT count(*) FROM images i JOIN attempts a ON a.id = i.attempt_id WHERE i.job_id=$id AND i.kind='final' AND a.number = 1")" 0 "finals of the canceled attempt"
pass "cancel then retry at once: the first transfer closed, the second decides"
