#!/usr/bin/env bash
# Chaos: 200 streaming jobs while imgeditd is killed with SIGKILL at 20
# random moments (claiming, mid-stream, committing) and restarted. At the
# end every job succeeded with exactly one final from its succeeding
# attempt, every stored image is byte-identical to what the fake upstream
# sent for that very request, and the database passes integrity_check.
. "$(dirname "$0")/lib.sh"

RANDOM=${CHAOS_SEED:-4242}
start_fake --image-bytes 30000 --latency-ms 120
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 16 16
for i in $(seq 1 200); do
	printf '{"prompt":"chaos %d","model":"gpt-image-2.6-flare","partial_images":2,"images":["a.png"]}\n' "$i"
done >"$T/jobs.jsonl"
# 20 kills can hit one job 20 times (the oldest is claimed first at every
# start): its attempts must outlast them, or "every job succeeded" would
# hang on luck
"$IMGEDITCTL" submit --max-attempts 25 --from "$T/jobs.jsonl" >/dev/null

for k in $(seq 1 20); do
	start_daemon --concurrency 8 --lease 2s
	sleep "0.$((RANDOM % 7 + 2))"
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=
done
done_before=$(sql "SELECT count(*) FROM jobs WHERE state='succeeded'")
start_daemon --concurrency 8 --lease 2s
wait_jobs_done 180
stop_daemon

assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded'")" 200 "succeeded jobs"
assert_eq "$(sql "PRAGMA integrity_check")" ok "integrity_check"
assert_eq "$(sql "SELECT count(*) FROM jobs j WHERE (SELECT count(*) FROM attempts a WHERE a.job_id=j.id AND a.outcome='succeeded') <> 1")" 0 "jobs without exactly one succeeded attempt"
assert_eq "$(sql "SELECT count(*) FROM jobs j WHERE (SELECT count(*) FROM images i JOIN attempts a ON a.id=i.attempt_id WHERE i.job_id=j.id AND i.kind='final' AND a.outcome='succeeded' AND i.idx=0) <> 1")" 0 "jobs without exactly one final from the succeeding attempt"
interrupted=$(sql "SELECT count(*) FROM attempts WHERE outcome='interrupted'")
[ "$interrupted" -ge 20 ] || fail "only $interrupted interrupted attempts: the kills missed the work"
python3 - "$FAKE_LOG" "$DB" <<'PY' || fail "a stored image differs from what upstream sent for its request"
import json, sqlite3, sys
sent = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("method") == "POST":
        sent["req_%d" % r["seq"]] = {s["sha256"] for s in r.get("sent") or []}
db = sqlite3.connect(sys.argv[2])
rows = db.execute("SELECT a.request_id, i.sha256, i.id FROM images i JOIN attempts a ON a.id = i.attempt_id").fetchall()
bad = [r for r in rows if r[0] not in sent or r[1] not in sent[r[0]]]
assert not bad, bad[:5]
# the bytes themselves, not only the recorded hash
import hashlib
for (req, sha, iid) in rows:
    data = db.execute("SELECT data FROM images WHERE id = ?", (iid,)).fetchone()[0]
    assert hashlib.sha256(data).hexdigest() == sha, iid
print(len(rows), "images checked")
PY
pass "20 kills ($done_before jobs done by then, $interrupted attempts interrupted); all 200 succeeded"
