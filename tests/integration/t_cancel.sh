#!/usr/bin/env bash
# Cancel: a running job's transfer is closed within a second, its partials
# kept; a queued job that is canceled never reaches upstream; retry
# requeues a canceled job and it then succeeds.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 100000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
slow=$("$IMGEDITCTL" submit -p "slow [[fault:slow=2048/10]]" --model gpt-image-2.6-flare --partial-images 3 "$T/a.png")
start_daemon --concurrency 1
# wait for the first partial to be stored, then cancel while it streams
for _ in $(seq 1 200); do
	[ "$(sql "SELECT count(*) FROM images WHERE job_id=$slow")" -ge 1 ] && break
	sleep 0.05
done
[ "$(sql "SELECT count(*) FROM images WHERE job_id=$slow")" -ge 1 ] || fail "no partial arrived"
queued=$("$IMGEDITCTL" submit -p "never sent" --model gpt-image-2.6-flare "$T/a.png")
"$IMGEDITCTL" cancel "$queued" >/dev/null
t_cancel=$(date +%s%3N)
"$IMGEDITCTL" cancel "$slow" >/dev/null
sleep 1.5
closed=$(python3 - "$FAKE_LOG" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("fields", {}).get("prompt", "").startswith("slow"):
        print(r["t_end_ms"] if r["client_closed"] else "open")
PY
)
[ -n "$closed" ] && [ "$closed" != open ] || fail "the fake upstream did not see the connection closed"
lag=$((closed - t_cancel))
[ "$lag" -lt 1000 ] || fail "transfer closed $lag ms after cancel (limit 1000)"
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$slow")" canceled "running job after cancel"
assert_eq "$(sql "SELECT outcome FROM attempts WHERE job_id=$slow")" canceled "attempt outcome"
kept=$(sql "SELECT count(*) FROM images WHERE job_id=$slow AND kind='partial'")
[ "$kept" -ge 1 ] || fail "partials of the canceled job were not kept"
assert_eq "$(sql "SELECT count(*) FROM attempts WHERE job_id=$queued")" 0 "attempts of the canceled queued job"
grep -q '"never sent' "$FAKE_LOG" && fail "a canceled queued job reached upstream"

"$IMGEDITCTL" retry "$queued" >/dev/null
wait_jobs_done 20
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$queued")" succeeded "retried job"
stop_daemon
pass "transfer closed $lag ms after cancel, $kept partials kept"
