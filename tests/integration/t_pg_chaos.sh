#!/usr/bin/env bash
# Chaos on PostgreSQL: 200 streaming jobs while imgeditd is killed with
# SIGKILL at 20 random moments and restarted, and the daemon's server
# connection is cut under it (pg_terminate_backend) between kills. At the
# end every job succeeded with exactly one final from its succeeding
# attempt, and every stored image is byte-identical to what the fake
# upstream sent for that very request.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
pg_start
DB=$PG_URI
"$IMGEDITCTL" --db "$DB" init >/dev/null || fail "imgeditctl init failed"
RANDOM=${CHAOS_SEED:-4242}
start_fake --image-bytes 30000 --latency-ms 120
pg_enqueue 200 chaos 2
# 20 kills can hit one job 20 times (the oldest is claimed first at every
# start): its attempts must outlast them
pgsql -c "UPDATE jobs SET max_attempts = 25" >/dev/null

for k in $(seq 1 20); do
	start_daemon --concurrency 8 --lease 2s
	sleep "0.$((RANDOM % 5 + 2))"
	[ $((k % 4)) -eq 0 ] && pg_cut_daemons >/dev/null
	sleep "0.$((RANDOM % 3 + 1))"
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=
done
done_before=$(pgsql -c "SELECT count(*) FROM jobs WHERE state = 'succeeded'")
start_daemon --concurrency 8 --lease 2s
pg_wait_done 180 "$DAEMON_PID"
stop_daemon

assert_eq "$(pgsql -c "SELECT count(*) FROM jobs WHERE state = 'succeeded'")" 200 "succeeded jobs"
assert_eq "$(pgsql -c "SELECT count(*) FROM jobs j WHERE (SELECT count(*) FROM attempts a WHERE a.job_id = j.id AND a.outcome = 'succeeded') <> 1")" 0 "jobs without exactly one succeeded attempt"
assert_eq "$(pgsql -c "SELECT count(*) FROM jobs j WHERE (SELECT count(*) FROM images i JOIN attempts a ON a.id = i.attempt_id WHERE i.job_id = j.id AND i.kind = 'final' AND a.outcome = 'succeeded') <> 1")" 0 "jobs without exactly one final from the succeeding attempt"
interrupted=$(pgsql -c "SELECT count(*) FROM attempts WHERE outcome = 'interrupted'")
[ "$interrupted" -ge 20 ] || fail "only $interrupted interrupted attempts: the kills missed the work"
grep -q 'store_disconnected' "$DAEMON_LOG" || fail "no connection was cut under a daemon"
pg_check_images
pass "20 kills and 5 cut connections ($done_before jobs done by then, $interrupted attempts interrupted); all 200 succeeded"
