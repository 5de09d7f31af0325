#!/usr/bin/env bash
# t_pg_budget_error.sh: a claim under budgets whose sums fail (rows another
# program wrote overflow bigint between them) starts nothing and lets the
# budgets' advisory lock go: no session keeps it, and once the rows are
# gone the job runs, with its hold.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
pg_start
DB=$PG_URI
export IMGEDIT_DB=$DB
cd "$T"
"$IMGEDITCTL" init >/dev/null || fail "imgeditctl init failed"
mkpng in.png 64 64
printf 'budget-daily-usd = 1000\n' >"$IMGEDIT_CONFIG"
NOW=$(python3 -c 'import time; print(int(time.time() * 1000))')
pgsql -c "INSERT INTO jobs (params) VALUES ('{\"prompt\":\"other\"}')" >/dev/null
pgsql -c "INSERT INTO attempts (job_id, number, daemon_id, started_at, ended_at, outcome, model, cost_usd_micro, cost_status)
	SELECT id, n, 'other', $NOW, $NOW, 'failed', 'x', 9000000000000000000, 'known'
	FROM jobs, generate_series(1, 2) AS n" >/dev/null
pgsql -c "UPDATE jobs SET state = 'failed'" >/dev/null
start_fake --bill-table
start_daemon --config "$IMGEDIT_CONFIG" --heartbeat 200ms
"$IMGEDITCTL" submit -p "after the error" --model gpt-image-2 --quality low --size 1024x1024 in.png >/dev/null
deadline=$((SECONDS + 10))
until grep -q 'bigint out of range' "$DAEMON_LOG"; do
	[ $SECONDS -lt $deadline ] || fail "the sums did not fail: $(tail -3 "$DAEMON_LOG")"
	sleep 0.1
done
sleep 1
assert_eq "$(pgsql -c "SELECT count(*) FROM attempts WHERE daemon_id <> 'other'")" 0 "attempts started while the sums fail"
# between claims the lock is free: another session gets it (a leaked one
# would stay the daemon's session's, and this would time out)
for i in 1 2 3; do
	got=$(pgsql -c "SET lock_timeout = '3s'" -c "SELECT pg_advisory_lock(1768777570)" \
		-c "SELECT pg_advisory_unlock(1768777570)" 2>&1 | tail -1) ||
		fail "the budgets' lock is kept after a failed claim: $got"
	assert_eq "$got" t "the budgets' lock let go (try $i)"
	sleep 0.3
done
pgsql -c "DELETE FROM attempts WHERE daemon_id = 'other'" >/dev/null
pg_wait_done 15 "$DAEMON_PID"
assert_eq "$(pgsql -c "SELECT count(*) FROM attempts WHERE outcome = 'succeeded' AND reserve_usd_micro > 0")" 1 "the job's attempt, held"
stop_daemon
pass "a claim whose sums fail starts nothing and lets the budgets' lock go"
