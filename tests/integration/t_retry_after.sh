#!/usr/bin/env bash
# A 429 with retry-after-ms: 1500 holds back every request, of any job, for
# 1.5 s and no longer, measured at the fake upstream; exhausted attempts fail the job.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
limited=$("$IMGEDITCTL" submit -p "limited [[fault:status=429,retry-after-ms=1500]]" --model gpt-image-2.6-flare "$T/a.png")
for i in $(seq 1 8); do
	"$IMGEDITCTL" submit -p "steady $i [[fault:delay=300]]" --model gpt-image-2.6-flare "$T/a.png" >/dev/null
done
doomed=$("$IMGEDITCTL" submit -p "doomed [[fault:status=503;status=503;status=503]]" --max-attempts 3 --model gpt-image-2.6-flare "$T/a.png")
start_daemon --concurrency 2 --retry-base 50ms --retry-max 100ms
wait_jobs_done 60
stop_daemon

# Requests the daemon started after it had the 429, matched to the fake
# upstream's log by request id (the other slot's request may have been on
# its way already, and reach the fake just after the 429 went out).
gap=$(python3 - "$FAKE_LOG" "$DB" <<'PY'
import json, sqlite3, sys
recs = {r["seq"]: r for r in map(json.loads, open(sys.argv[1])) if r["method"] == "POST"}
r429 = [r for r in recs.values() if r["status"] == 429]
assert len(r429) == 1, r429
db = sqlite3.connect(sys.argv[2])
(seen,) = db.execute("SELECT ended_at FROM attempts WHERE request_id = ?",
                     ("req_%d" % r429[0]["seq"],)).fetchone()
later = [recs[int(rid[4:])]["t_start_ms"] for (rid,) in db.execute(
    "SELECT request_id FROM attempts WHERE started_at > ? AND request_id IS NOT NULL",
    (seen,))]
assert len(later) >= 9, later  # the limited job's retry and the 8 steady
print(min(later) - r429[0]["t_end_ms"])
PY
)
[ "$gap" -ge 1500 ] || fail "next request $gap ms after the 429 (want >= 1500)"
# and not much later: the hold ends when retry-after says (1 s of slack)
[ "$gap" -le 2500 ] || fail "next request $gap ms after the 429 (want <= 1500 + 1000 slack)"
assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$limited")" "succeeded,2" "rate-limited job"
assert_eq "$(sql "SELECT state || ',' || attempts || ',' || error_status FROM jobs WHERE id=$doomed")" "failed,3,503" "job out of attempts"
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded'")" 9 "succeeded jobs"
pass "the next request came $gap ms after the 429"
