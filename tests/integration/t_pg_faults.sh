#!/usr/bin/env bash
# Faults under a running imgeditd on PostgreSQL. (1) The server stops for
# 3 s while 24 streams are mid-way (sessions cut, nothing answers), then
# comes back: the images received meanwhile wait in memory and are stored
# after, no job is sent upstream twice, all succeed, every image is the
# one sent. (2) Another session holds an ACCESS EXCLUSIVE lock on images
# for 3 s, and its session is cut meanwhile: inserts time out and are tried
# again, the new session's prepares too, the daemon says it waits, and the
# same holds. Claims stop while the database is away. (3) SIGTERM
# with the server away: the daemon waits, exits 0 once it is back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
pg_start
DB=$PG_URI
"$IMGEDITCTL" --db "$DB" init >/dev/null || fail "imgeditctl init failed"
start_fake --image-bytes 20000 --latency-ms 400
pg_enqueue 24 down 3
start_daemon --concurrency 24

# wait_images N: until N images are stored
wait_images() {
	local deadline=$((SECONDS + 30))
	until [ "$(pgsql -c "SELECT count(*) FROM images" 2>/dev/null || echo 0)" -ge "$1" ]; do
		[ $SECONDS -lt $deadline ] || fail "fewer than $1 images stored"
		sleep 0.05
	done
}

# new_round: an empty queue and a fresh upstream log
new_round() {
	: >"$FAKE_LOG"
	pgsql -c "TRUNCATE images; DELETE FROM attempts; DELETE FROM jobs" >/dev/null
}

# all_stored N WHAT: the N jobs succeeded at their first attempt with their
# 4 images each, each sent once, every image the one sent
all_stored() {
	assert_eq "$(pgsql -c "SELECT count(*) FROM jobs WHERE state = 'succeeded' AND attempts = 1")" "$1" "jobs succeeded at the first attempt ($2)"
	assert_eq "$(pgsql -c "SELECT count(*) FROM images")" "$(($1 * 4))" "images stored, 3 partials + final each ($2)"
	pg_sent_once "$1"
	pg_check_images
}

# (1) the server goes away mid-stream
wait_images 10
pg_server_stop
sleep 3
kill -0 "$DAEMON_PID" || fail "imgeditd died with the server away"
pg_server_start
pg_wait_done 60 "$DAEMON_PID"
grep -q 'store_disconnected' "$DAEMON_LOG" || fail "no store_disconnected in the log"
grep -q 'store_connected down_ms=' "$DAEMON_LOG" || fail "no store_connected in the log"
all_stored 24 "server away"

# (2) a lock held by another program
new_round
pg_enqueue 24 locked 3
wait_images 10
mark=$(wc -l <"$DAEMON_LOG")
psql -X -q -d "$PG_URI" -c "BEGIN; LOCK TABLE images IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(3); COMMIT;" >/dev/null &
holder=$!
# the daemon's session is cut under the lock: the new one cannot prepare
# its image insert until the lock goes (a prepare meets it too)
sleep 0.5
assert_eq "$(pg_cut_daemons)" 1 "sessions cut under the lock"
sleep 2
wait "$holder" || fail "the lock holder failed"
pg_wait_done 60 "$DAEMON_PID"
tail -n +"$((mark + 1))" "$DAEMON_LOG" >"$T/part2.log"
grep -q 'store_waiting op=image' "$T/part2.log" || fail "the daemon did not say it waits to store: $(grep store_ "$T/part2.log" | tail -3)"
grep -q 'store_disconnected error="a statement run at connect failed' "$T/part2.log" ||
	fail "the new session's prepare did not meet the lock: $(grep store_ "$T/part2.log" | tail -3)"
grep -q 'store_resumed op=image' "$T/part2.log" || fail "no store_resumed after the lock"
all_stored 24 "lock"

# (3) SIGTERM while the server is away: the daemon waits to store what it
# holds, exits 0 once the server is back; nothing received is lost
new_round
pg_enqueue 8 term 3
wait_images 4
pg_server_stop
kill -TERM "$DAEMON_PID"
sleep 2
kill -0 "$DAEMON_PID" 2>/dev/null || fail "imgeditd exited with what it received not stored"
pg_server_start
rc=0
wait "$DAEMON_PID" || rc=$?
DAEMON_PID=
assert_eq "$rc" 0 "imgeditd exit status after SIGTERM with the server back"
sent=$(grep -c '"POST"' "$FAKE_LOG")
assert_eq "$(pgsql -c "SELECT count(*) FROM images")" "$((sent * 4))" "images stored of the $sent jobs sent"
assert_eq "$(pgsql -c "SELECT count(*) FROM jobs WHERE state NOT IN ('succeeded','queued')")" 0 "jobs neither done nor back in the queue"
assert_eq "$(pgsql -c "SELECT count(*) FROM daemons WHERE stopped_at IS NOT NULL")" 1 "daemons row marked stopped"
pg_check_images
pass "server away 3 s and a table lock 3 s under 24 streams, SIGTERM with the server away: all stored, each sent once"
