#!/usr/bin/env bash
# t_budget.sh: with budget-daily-tokens below what 10 queued jobs need, the
# daemon runs exactly the jobs the budget allows (each holds its estimate's
# high end until what it cost is known), pauses with reason `budget` in
# status --json and the daemons row, starts as many again when the day
# turns (the time-zone setting puts local midnight ~20 s from now) and the
# rest after SIGHUP raises the limit. The fake upstream bills from the
# published token table (--bill-table), so the estimate bounds each bill.
. "$(dirname "$0")/lib.sh"

cd "$T"
# a bad budget is refused at the start, naming the setting and the value
printf 'budget-daily-usd = gpt-image-2 five\n' >bad.conf
rc=0
"$IMGEDITD" --config bad.conf --db "$DB" 2>bad.err || rc=$?
assert_eq "$rc" 2 "imgeditd's exit status with a bad budget"
grep -q "bad.conf:1: budget-daily-usd: 'five' is not an amount in dollars" bad.err || fail "bad budget: $(cat bad.err)"
# 1024x1536: 1536 patches, the whole input budget, so what the fake bills
# comes close to the hold and the count is the same whatever the timing
mkpng big.png 1024 1536
start_fake --bill-table
"$IMGEDITCTL" init >/dev/null
ARGS=(--model gpt-image-2 --quality low --size 1024x1024)
for i in $(seq -w 1 10); do
	"$IMGEDITCTL" submit -p "budget job $i" "${ARGS[@]}" big.png >/dev/null
done

# one job's hold: the high end of its estimate
"$IMGEDITCTL" submit --estimate --json -p "budget job 01" "${ARGS[@]}" big.png >one.json
HOLD=$(python3 -c 'import json; print(json.load(open("one.json"))["tokens"]["high"])')
[ "$HOLD" -gt 1000 ] || fail "the estimate's high end: $(cat one.json)"
# four fit while all four run (4 x HOLD); a fifth never does, even after
# the four were billed (checked below from what they cost)
LIMIT=$((4 * HOLD + 10))

# a zone whose midnight comes ~20 s from now: the real clock turns the day
ZONE=$(python3 - <<'PY'
import time
target = int(time.time()) + 20
east = (-(target % 86400)) % 86400
if east > 43200:
    east -= 86400
sign = "-" if east >= 0 else "+"   # POSIX counts west of Greenwich
a = abs(east)
print("<BUD>%s%d:%02d:%02d" % (sign, a // 3600, a // 60 % 60, a % 60))
PY
)
TURN=$((SECONDS + 20))
cat >"$IMGEDIT_CONFIG" <<EOF
time-zone = $ZONE
budget-daily-tokens = $LIMIT
EOF
start_daemon --config "$IMGEDIT_CONFIG" --heartbeat 200ms

attempts() { sql "SELECT count(*) FROM attempts"; }
# wait_paused N SECONDS: until N attempts ended and the daemon says budget
wait_paused() {
	local deadline=$((SECONDS + $2)) n p
	while :; do
		n=$(sql "SELECT count(*) FROM attempts WHERE outcome = 'succeeded'")
		p=$(sql "SELECT coalesce(pause_reason, '') FROM daemons WHERE stopped_at IS NULL")
		[ "$n" = "$1" ] && [ "${p#budget: }" != "$p" ] && return 0
		[ $SECONDS -lt "$deadline" ] || fail "expected $1 attempts done and a budget pause: $n done, pause '$p'"
		sleep 0.1
	done
}

wait_paused 4 10
sleep 1	# nothing more starts meanwhile
assert_eq "$(attempts)" 4 "attempts started under a limit of 4 holds"
# each attempt held its estimate, and was billed within it
assert_eq "$(sql "SELECT count(*) FROM attempts WHERE reserve_tokens = $HOLD AND model = 'gpt-image-2' AND total_tokens <= $HOLD")" 4 \
	"attempts holding $HOLD tokens, billed within it"
BILLED=$(sql "SELECT sum(total_tokens) FROM attempts")
[ $((BILLED + HOLD)) -gt "$LIMIT" ] || fail "the test's premise: $BILLED billed + $HOLD fits $LIMIT"
"$IMGEDITCTL" status --json >st.json
python3 - st.json "$LIMIT" <<'PY' || fail "status --json while over the budget: $(cat st.json)"
import json, sys
d = json.load(open(sys.argv[1]))
live = [x for x in d["daemons"] if x.get("stopped_at") is None]
r = live[0]["pause_reason"]
assert r.startswith("budget: daily tokens ") and ("of %s (all models)" % sys.argv[2]) in r and "until " in r and " BUD" in r, r
assert d["jobs"]["queued"] == 6 and d["jobs"]["succeeded"] == 4, d["jobs"]
PY
"$IMGEDITCTL" status >st.txt
grep -q "^paused    .*budget: daily tokens" st.txt || fail "status text: $(cat st.txt)"
grep -q "^budget    daily-tokens (all models): $BILLED tokens of $LIMIT tokens spent or held, $((LIMIT - BILLED)) tokens left until " st.txt ||
	fail "status's budget line: $(cat st.txt)"
python3 - st.json "$LIMIT" "$BILLED" <<'PY' || fail "status --json's budgets: $(cat st.json)"
import json, sys
b = json.load(open(sys.argv[1]))["budgets"]
limit, billed = int(sys.argv[2]), int(sys.argv[3])
assert len(b) == 1 and b[0]["setting"] == "budget-daily-tokens" and b[0]["model"] is None, b
assert b[0]["unit"] == "tokens" and b[0]["limit"] == limit and b[0]["spent"] == billed, b
assert b[0]["left"] == limit - billed and b[0]["over"] == 0 and b[0]["period"] == "day", b
PY
# submit --estimate: what the budget leaves, and that no job more fits
"$IMGEDITCTL" submit --estimate -p "budget job 11" "${ARGS[@]}" big.png >est.txt
grep -q "^budget daily-tokens (all models): $BILLED tokens of $LIMIT tokens" est.txt || fail "--estimate's budget: $(cat est.txt)"
grep -q "^fits: 0 of 1 jobs start now under the budgets; the next would pause the daemon: budget: daily tokens $BILLED of $LIMIT (all models), the next job needs $HOLD, until " est.txt ||
	fail "--estimate's fit: $(cat est.txt)"
"$IMGEDITCTL" submit --estimate --json -p "budget job 11" "${ARGS[@]}" big.png >est.json
python3 - est.json "$((LIMIT - BILLED))" <<'PY' || fail "--estimate --json's budgets: $(cat est.json)"
import json, sys
e = json.load(open(sys.argv[1]))
assert e["budgets"][0]["left"] == int(sys.argv[2]), e
assert e["budget_fit"]["jobs"] == 0 and e["budget_fit"]["of"] == 1 and e["budget_fit"]["stops_at"].startswith("budget: "), e
PY
assert_eq "$(sql "SELECT count(*) FROM jobs")" 10 "jobs after --estimate"

# the day turns: four more, then the pause again
[ $SECONDS -lt "$TURN" ] || fail "the first four took past the day's turn"
wait_paused 8 $((TURN - SECONDS + 10))
[ $SECONDS -ge $((TURN - 1)) ] || fail "the next four started before the day turned"
sleep 1
assert_eq "$(attempts)" 8 "attempts after the day turned"

# SIGHUP raises the limit: the rest run, and the pause is gone
sed -i "s/^budget-daily-tokens = .*/budget-daily-tokens = $((100 * HOLD))/" "$IMGEDIT_CONFIG"
kill -HUP "$DAEMON_PID"
wait_jobs_done 15
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state = 'succeeded'")" 10 "jobs succeeded"
assert_eq "$(attempts)" 10 "attempts in all"
deadline=$((SECONDS + 5))
until [ -z "$(sql "SELECT coalesce(pause_reason, '') FROM daemons WHERE stopped_at IS NULL")" ]; do
	[ $SECONDS -lt $deadline ] || fail "still paused after the raise"
	sleep 0.1
done
grep -q 'paused reason="budget: daily tokens' "$DAEMON_LOG" || fail "no budget pause in the log"
# a budget below what was spent: status says by how much it went past
"$IMGEDITCTL" submit --estimate --json -p "budget job 11" "${ARGS[@]}" big.png >est2.json
python3 -c 'import json,sys; f=json.load(open("est2.json"))["budget_fit"]; assert f["jobs"] == 1 and f["stops_at"] is None, f' ||
	fail "--estimate after the raise: $(cat est2.json)"
DAY=$(sql "SELECT sum(total_tokens) FROM attempts WHERE id > (SELECT min(id) + 3 FROM attempts)")
sed -i "s/^budget-daily-tokens = .*/budget-daily-tokens = 1000/" "$IMGEDIT_CONFIG"
"$IMGEDITCTL" status >st3.txt
grep -q "^budget    daily-tokens (all models): $DAY tokens of 1000 tokens spent or held, 0 tokens left until .*; $((DAY - 1000)) tokens over: transfers in flight ended past it" st3.txt ||
	fail "status past the budget: $(cat st3.txt)"

# a dollar budget for the model: what the day's attempts cost (as stored
# when they ended) plus one job's hold fits exactly; a micro-dollar less
# does not
HOLD_USD=$(python3 -c 'import json; print(json.load(open("one.json"))["cost_micro_usd"]["high"])')
SPENT_USD=$(sql "SELECT sum(cost_usd_micro) FROM attempts WHERE id > (SELECT min(id) + 3 FROM attempts) AND cost_status = 'known'")
assert_eq "$(sql "SELECT count(*) FROM attempts WHERE id > (SELECT min(id) + 3 FROM attempts) AND cost_status = 'known'")" 6 "today's attempts with a known cost"
usd() { python3 -c "import sys; m = int(sys.argv[1]); print('%d.%06d' % (m // 1000000, m % 1000000))" "$1"; }
sed -i "/^budget-/d" "$IMGEDIT_CONFIG"
echo "budget-daily-usd = gpt-image-2 $(usd $((SPENT_USD + HOLD_USD - 1)))" >>"$IMGEDIT_CONFIG"
kill -HUP "$DAEMON_PID"
deadline=$((SECONDS + 10))
until grep -q 'setting key=budget-daily-usd .* action=applied' "$DAEMON_LOG"; do
	[ $SECONDS -lt $deadline ] || fail "the dollar budget was not applied"
	sleep 0.1
done
"$IMGEDITCTL" submit -p "budget job 11" "${ARGS[@]}" big.png >/dev/null
deadline=$((SECONDS + 10))
until sql "SELECT coalesce(pause_reason, '') FROM daemons WHERE stopped_at IS NULL" | grep -q "^budget: daily USD $(usd "$SPENT_USD" | sed 's/0*$//; s/\.$//') of .* (gpt-image-2)"; do
	[ $SECONDS -lt $deadline ] || fail "no dollar budget pause: $(sql "SELECT pause_reason FROM daemons WHERE stopped_at IS NULL")"
	sleep 0.1
done
assert_eq "$(attempts)" 10 "attempts under a dollar budget a micro-dollar short"
sed -i "s/^budget-daily-usd = .*/budget-daily-usd = gpt-image-2 $(usd $((SPENT_USD + HOLD_USD)))/" "$IMGEDIT_CONFIG"
kill -HUP "$DAEMON_PID"
wait_jobs_done 15
assert_eq "$(attempts)" 11 "attempts once the dollars fit exactly"
stop_daemon
pass "4 jobs, the day's turn, 4 more, SIGHUP, the last 2; each held $HOLD tokens; a dollar budget to the micro-dollar"
