#!/usr/bin/env bash
# A job canceled on PostgreSQL while it runs has its transfer aborted within
# a poll, also when it was claimed and canceled between two polls (the runs
# a poll sees owned are then the same as at the poll before: nothing in
# them changed, and yet this run is no longer the daemon's). The cancel is
# another program's UPDATE, as imgeditctl cancel does it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
pg_start
DB=$PG_URI
"$IMGEDITCTL" --db "$DB" init >/dev/null || fail "imgeditctl init failed"
start_fake --image-bytes 2000 --latency-ms 4000
start_daemon --concurrency 4 --poll-interval 1s
sleep 1.2
for k in 1 2 3; do
	pg_enqueue 1 "cancel$k" 1
	id=$(pgsql -c "SELECT id FROM jobs WHERE params->>'prompt' = 'cancel$k 1'")
	deadline=$((SECONDS + 5))
	until [ "$(pgsql -c "SELECT state FROM jobs WHERE id = $id")" = running ]; do
		[ $SECONDS -lt $deadline ] || fail "job $id was not claimed"
		sleep 0.02
	done
	t0=$(date +%s%3N)
	pgsql -c "UPDATE jobs SET state = 'canceled', finished_at = $t0, updated_at = $t0, lease_owner = NULL, lease_expires = NULL WHERE id = $id AND state = 'running'" >/dev/null
	deadline=$((SECONDS + 8))
	until grep -q "attempt_end job=$id .*outcome=canceled" "$DAEMON_LOG"; do
		[ $SECONDS -lt $deadline ] || fail "job $id's transfer was not aborted"
		sleep 0.02
	done
	t1=$(date +%s%3N)
	[ $((t1 - t0)) -lt 1600 ] || fail "job $id's transfer went on $((t1 - t0)) ms after its cancel (poll 1 s)"
	sleep 0.$((RANDOM % 9 + 1))
done
assert_eq "$(pgsql -c "SELECT count(*) FROM images WHERE kind = 'final'")" 0 "finals stored of canceled jobs"
stop_daemon
pass "3 jobs claimed and canceled between polls: each transfer aborted within the next poll"
