#!/usr/bin/env bash
# t_pg_budget.sh: three daemons on one PostgreSQL share one token budget.
# Each claim holds its jobs' estimates under one advisory lock, so together
# they start exactly the jobs the budget allows, never one past it: the
# attempts started are counted against the limit, what was billed stays
# within it (no job was in flight past it), each daemon pauses with reason
# `budget`, and after SIGHUP raises the limit the rest run. While another
# session holds the budgets' lock, no claim goes through.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
pg_start
DB=$PG_URI
export IMGEDIT_DB=$DB
cd "$T"
"$IMGEDITCTL" init >/dev/null || fail "imgeditctl init failed"
JOBS=40 FIT=7
mkpng big.png 1024 1536
for i in $(seq -w 1 $JOBS); do
	printf '{"prompt": "shared budget %s", "model": "gpt-image-2", "quality": "low", "size": "1024x1024", "images": ["big.png"]}\n' "$i"
done >jobs.jsonl
"$IMGEDITCTL" submit --estimate --json -p "shared budget 01" --model gpt-image-2 \
	--quality low --size 1024x1024 big.png >one.json
HOLD=$(python3 -c 'import json; print(json.load(open("one.json"))["tokens"]["high"])')
# FIT fit while all run; one more never does, even once they are billed
LIMIT=$((FIT * HOLD + 10))
printf 'budget-daily-tokens = %s\n' "$LIMIT" >"$IMGEDIT_CONFIG"

# slow answers: the jobs are in flight while the other daemons claim
start_fake --bill-table --latency-ms 400
pids=()
for k in 1 2 3; do
	start_daemon --config "$IMGEDIT_CONFIG" --concurrency 4 --heartbeat 200ms
	pids+=("$DAEMON_PID")
	EXTRA_PIDS="${EXTRA_PIDS:-} $DAEMON_PID"	# cleanup stops each, also on failure
done
# the claims under budgets take one lock: while another session holds it,
# none starts a job (they wait, and try again)
{ echo "SELECT pg_advisory_lock(1768777570);"; echo "\\! touch $T/locked"
  echo "SELECT pg_sleep(2);"; } | psql -X -q -d "$DB" >/dev/null &
HOLDER_PID=$!
for i in $(seq 1 100); do [ -e locked ] && break; sleep 0.05; done
[ -e locked ] || fail "the test's session did not get the budget lock"
# one transaction, one notification: the three claim at once
"$IMGEDITCTL" submit --from jobs.jsonl >/dev/null
sleep 1
assert_eq "$(pgsql -c "SELECT count(*) FROM attempts")" 0 "attempts started while the budget lock was held elsewhere"
# their sessions cut while they wait for it: they reconnect, and the
# count below is still exact
cut=$(pg_cut_daemons)
[ "$cut" -ge 3 ] || fail "cut $cut daemon sessions, expected at least 3"
wait "$HOLDER_PID"
HOLDER_PID=

paused() {
	pgsql -c "SELECT count(*) FROM daemons WHERE stopped_at IS NULL AND pause_reason LIKE 'budget: daily tokens%of $LIMIT (all models)%'"
}
deadline=$((SECONDS + 20))
until [ "$(pgsql -c "SELECT count(*) FROM attempts WHERE outcome IS NOT NULL")" = "$FIT" ] && [ "$(paused)" = 3 ]; do
	[ $SECONDS -lt $deadline ] || fail "expected $FIT attempts ended and 3 daemons paused: $(pgsql -c "SELECT count(*) FROM attempts"), $(paused)"
	for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || fail "imgeditd $p died"; done
	sleep 0.1
done
sleep 1	# nothing more starts meanwhile
assert_eq "$(pgsql -c "SELECT count(*) FROM attempts")" "$FIT" "attempts started under a budget for $FIT"
assert_eq "$(pgsql -c "SELECT count(*) FROM attempts WHERE reserve_tokens = $HOLD")" "$FIT" "attempts holding $HOLD tokens"
BILLED=$(pgsql -c "SELECT sum(total_tokens) FROM attempts")
[ "$BILLED" -le "$LIMIT" ] || fail "billed $BILLED past the budget of $LIMIT with no job in flight past it"
[ $((BILLED + HOLD)) -gt "$LIMIT" ] || fail "the test's premise: $BILLED billed + $HOLD fits $LIMIT"
workers=$(pgsql -c "SELECT count(DISTINCT daemon_id) FROM attempts")
[ "$workers" -ge 2 ] || fail "one daemon took every job: the budget was not shared"

# SIGHUP raises the limit on each: the rest run
sed -i "s/^budget-daily-tokens = .*/budget-daily-tokens = $((JOBS * HOLD * 2))/" "$IMGEDIT_CONFIG"
for p in "${pids[@]}"; do kill -HUP "$p"; done
pg_wait_done 40 "${pids[@]}"
assert_eq "$(pgsql -c "SELECT count(*) FROM jobs WHERE state = 'succeeded'")" "$JOBS" "jobs succeeded"
assert_eq "$(pgsql -c "SELECT count(*) FROM attempts")" "$JOBS" "attempts in all"
for p in "${pids[@]}"; do
	kill -TERM "$p"
	wait "$p" || fail "imgeditd $p exit status $? after SIGTERM"
done
DAEMON_PID=
if grep -Ei 'deadlock|40P01|40001|could not serialize' "$DAEMON_LOG" "$PG_DIR/log" >bad.log; then
	fail "deadlock or serialization failure: $(head -3 bad.log)"
fi
pass "3 daemons started $FIT jobs under a budget for $FIT ($BILLED of $LIMIT tokens billed, $workers did work), then the other $((JOBS - FIT))"
