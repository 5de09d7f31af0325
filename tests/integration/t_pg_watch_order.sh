#!/usr/bin/env bash
# On PostgreSQL an id is taken at insert and seen at commit: job A's end
# (event N, its transaction held open) commits after job B's change (event
# N+1), which watch and wait have read already. Neither may miss A's end:
# watch A ends saying A canceled, wait A returns 1 (a canceled job), not
# a timeout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
pg_start
DB=$PG_URI
"$IMGEDITCTL" --db "$DB" init >/dev/null || fail "imgeditctl init failed"
mkpng "$T/a.png" 16 16
a=$("$IMGEDITCTL" --db "$DB" submit -p "a" --model gpt-image-2.6-flare --not-before 1h "$T/a.png")
b=$("$IMGEDITCTL" --db "$DB" submit -p "b" --model gpt-image-2.6-flare --not-before 1h "$T/a.png")

"$IMGEDITCTL" --db "$DB" watch "$a" >"$T/watch.out" 2>"$T/watch.err" &
watch_pid=$!
"$IMGEDITCTL" --db "$DB" wait "$a" --timeout 12 >"$T/wait.out" 2>"$T/wait.err" &
wait_pid=$!
sleep 0.5
# A's end, held open 2 s; meanwhile B's change commits with a higher id
psql -X -q -d "$DB" -c "BEGIN; UPDATE jobs SET state = 'canceled', finished_at = imgedit_now_ms() WHERE id = $a; SELECT pg_sleep(2); COMMIT;" >/dev/null &
holder=$!
sleep 0.5
pgsql -c "UPDATE jobs SET priority = 5, not_before = not_before + 1 WHERE id = $b" >/dev/null
pgsql -c "UPDATE jobs SET state = 'canceled', finished_at = imgedit_now_ms() WHERE id = $b" >/dev/null
wait "$holder" || fail "the holder failed"
assert_eq "$(pgsql -c "SELECT (SELECT min(id) FROM events WHERE job_id = $a AND to_state = 'canceled') < (SELECT min(id) FROM events WHERE job_id = $b AND to_state = 'canceled')")" t \
	"A's end has the lower event id"
timeout 10 tail --pid="$watch_pid" -f /dev/null || fail "watch did not end: $(cat "$T/watch.out")"
wait "$watch_pid" || fail "watch failed: $(cat "$T/watch.err")"
grep -q "^job $a canceled" "$T/watch.out" || fail "watch said: $(cat "$T/watch.out")"
rc=0
wait "$wait_pid" || rc=$?
assert_eq "$rc" 1 "wait's exit status for a job canceled (4 would be a timeout)"
pass "an end committed below ids already read: watch and wait still see it"
