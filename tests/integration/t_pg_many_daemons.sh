#!/usr/bin/env bash
# Many daemons on one PostgreSQL: 4 imgeditd at --concurrency 16 share
# 2,000 streaming jobs enqueued by plain SQL; one is SIGKILLed midway.
# Every job succeeds; each is sent upstream exactly once, except those the
# killed daemon had in flight (sent again once, after their lease); those
# finish on the others within lease + 5 s; every stored image is
# byte-identical to what upstream sent for its request; no deadlock or
# serialization failure in any log; all four daemons did work.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
pg_start
DB=$PG_URI
"$IMGEDITCTL" --db "$DB" init >/dev/null || fail "imgeditctl init failed"
JOBS=${MANY_JOBS:-2000}
LEASE_S=5
start_fake --image-bytes 20000 --latency-ms 20
pg_enqueue "$JOBS" many 2
pids=()
for k in 1 2 3 4; do
	start_daemon --concurrency 16 --lease ${LEASE_S}s
	pids+=("$DAEMON_PID")
done
victim=${pids[1]}

# midway: a third of the jobs done
while [ "$(pgsql -c "SELECT count(*) FROM jobs WHERE state = 'succeeded'")" -lt $((JOBS / 3)) ]; do
	for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || fail "imgeditd $p died"; done
	sleep 0.1
done
kill -KILL "$victim"
wait "$victim" 2>/dev/null || true
killed_at=$(date +%s%3N)
vid=$(pgsql -c "SELECT id FROM daemons WHERE pid = $victim")
[ -n "$vid" ] || fail "no daemons row for pid $victim"
pgsql -c "SELECT id FROM jobs WHERE state = 'running' AND lease_owner = '$vid' ORDER BY id" >"$T/orphans"
# their prompts (upstream's log names jobs by prompt), and the lease the
# killed daemon left on each: no one may send it again before that
pgsql -c "SELECT params->>'prompt' FROM jobs WHERE id IN ($(paste -sd, "$T/orphans"))" >"$T/orphan_prompts"
leases=$(pgsql -F , -c "SELECT '(' || id, lease_expires || ')' FROM jobs WHERE id IN ($(paste -sd, "$T/orphans"))" | paste -sd,)
orphans=$(wc -l <"$T/orphans")
[ "$orphans" -gt 0 ] || fail "the killed daemon had no job in flight: the kill missed the work"
survivors=("${pids[0]}" "${pids[2]}" "${pids[3]}")
pg_wait_done 300 "${survivors[@]}"
for p in "${survivors[@]}"; do
	kill -TERM "$p"
	wait "$p" || fail "imgeditd $p exit status $? after SIGTERM"
done
DAEMON_PID=

assert_eq "$(pgsql -c "SELECT count(*) FROM jobs WHERE state = 'succeeded'")" "$JOBS" "jobs succeeded"
late=$(pgsql -c "SELECT max(finished_at) - $killed_at FROM jobs WHERE id IN ($(paste -sd, "$T/orphans"))")
[ "$late" -le $(((LEASE_S + 5) * 1000)) ] || fail "the killed daemon's jobs finished $late ms after the kill (lease ${LEASE_S} s + 5 s)"
# taken over only once their leases ran out
early=$(pgsql -c "SELECT count(*) FROM attempts a JOIN (VALUES $leases) AS o(id, lease) ON o.id = a.job_id WHERE a.daemon_id <> '$vid' AND a.started_at < o.lease")
assert_eq "$early" 0 "attempts on the killed daemon's jobs started before their leases ran out"
python3 - "$FAKE_LOG" "$T/orphan_prompts" "$JOBS" <<'PY' || fail "a job reached upstream a wrong number of times"
import collections, json, sys
sent = collections.Counter(json.loads(l)["fields"]["prompt"] for l in open(sys.argv[1]) if '"POST"' in l)
jobs = int(sys.argv[3])
assert len(sent) == jobs, ("prompts seen upstream", len(sent))
twice = {p for p, n in sent.items() if n == 2}
assert all(n in (1, 2) for n in sent.values()), [p for p, n in sent.items() if n > 2][:5]
orphans = {l.rstrip("\n") for l in open(sys.argv[2])}
assert twice, ("no job sent twice: none of the", len(orphans), "the killed daemon held had reached upstream")
assert twice <= orphans, ("sent twice but not the killed daemon's", sorted(twice - orphans)[:5])
print(len(twice), "of", len(orphans), "orphans sent again; the rest once")
PY
assert_eq "$(pgsql -c "SELECT count(*) FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE a.outcome = 'interrupted' AND a.daemon_id <> '$vid'")" 0 "interrupted attempts of live daemons"
assert_eq "$(pgsql -c "SELECT count(DISTINCT daemon_id) FROM attempts")" 4 "daemons that did work"
assert_eq "$(pgsql -c "SELECT count(*) FROM jobs j WHERE (SELECT count(*) FROM images i JOIN attempts a ON a.id = i.attempt_id WHERE i.job_id = j.id AND i.kind = 'final' AND a.outcome = 'succeeded') <> 1")" 0 "jobs without exactly one final from their succeeding attempt"
pg_check_images
if grep -Ei 'deadlock|40P01|40001|could not serialize' "$DAEMON_LOG" "$PG_DIR/log" >"$T/bad.log"; then
	fail "deadlock or serialization failure: $(head -3 "$T/bad.log")"
fi
per=$(pgsql -c "SELECT count(*) FROM attempts GROUP BY daemon_id ORDER BY 1" | tr '\n' ' ')
pass "4 daemons, $JOBS jobs, one killed with $orphans in flight (done ${late} ms after); attempts per daemon: $per"
