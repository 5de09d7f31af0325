#!/usr/bin/env bash
# t_budget_usage.sh: upstream's usage.total_tokens is not trusted. An
# attempt whose usage says total_tokens -1000000000 (its other counts as
# documented) is stored with the tokens its checked counts add up to, so
# a token budget still stops the next job that would cross it.
. "$(dirname "$0")/lib.sh"

cd "$T"
mkpng big.png 1024 1536
start_fake --bill-table
"$IMGEDITCTL" init >/dev/null
ARGS=(--model gpt-image-2 --quality low --size 1024x1024)
P1="hostile total [[fault:usage-total=-1000000000]]"
P2="honest total [[fault:ok]]"
"$IMGEDITCTL" submit --estimate --json -p "$P1" "${ARGS[@]}" big.png >one.json
HOLD=$(python3 -c 'import json; print(json.load(open("one.json"))["tokens"]["high"])')
[ "$HOLD" -gt 1000 ] || fail "the estimate's high end: $(cat one.json)"
# the first fits; what it is billed (near its hold: 1536 image tokens)
# and a second hold do not
LIMIT=$((HOLD + HOLD / 2))
printf 'budget-daily-tokens = %s\n' "$LIMIT" >"$IMGEDIT_CONFIG"
"$IMGEDITCTL" submit -p "$P1" "${ARGS[@]}" big.png >/dev/null
start_daemon --config "$IMGEDIT_CONFIG" --heartbeat 200ms
wait_jobs_done 15
row=$(sql "SELECT input_tokens, output_tokens, total_tokens FROM attempts")
IFS='|' read -r tin tout total <<<"$row"
[ "$tin" -gt 0 ] && [ "$tout" -gt 0 ] || fail "the attempt's counts: $row"
assert_eq "$total" $((tin + tout)) "the stored total_tokens (upstream said -1000000000)"
CHECKED=$total
[ $((total + HOLD)) -gt "$LIMIT" ] || fail "the test's premise: $total billed + $HOLD fits $LIMIT"

"$IMGEDITCTL" submit -p "$P2" "${ARGS[@]}" big.png >/dev/null
deadline=$((SECONDS + 10))
until sql "SELECT coalesce(pause_reason, '') FROM daemons WHERE stopped_at IS NULL" | grep -q '^budget: daily tokens'; do
	[ $SECONDS -lt $deadline ] || fail "no budget pause; attempts: $(sql "SELECT count(*) FROM attempts")"
	sleep 0.1
done
sleep 1	# nothing starts meanwhile
assert_eq "$(sql "SELECT count(*) FROM attempts")" 1 "attempts under the budget"
stop_daemon

# a usage without details (a gateway's) cannot be checked: its counts are
# kept when they add up, else none is stored (the budgets count the hold)
: >"$IMGEDIT_CONFIG"
"$IMGEDITCTL" submit -p "gateway [[fault:usage-nodetails]]" "${ARGS[@]}" big.png >/dev/null
"$IMGEDITCTL" submit -p "gateway bad [[fault:usage-nodetails,usage-total=-5]]" "${ARGS[@]}" big.png >/dev/null
start_daemon --config "$IMGEDIT_CONFIG" --heartbeat 200ms
wait_jobs_done 15
row=$(sql "SELECT a.input_tokens, a.output_tokens, a.total_tokens, a.cost_status FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE CAST(j.params AS text) LIKE '%gateway [[%'")
IFS='|' read -r tin tout total st <<<"$row"
[ "$tin" -gt 0 ] && [ "$tout" -gt 0 ] || fail "a gateway's counts: $row"
assert_eq "$total|$st" "$((tin + tout))|bad_usage" "a gateway's usage that adds up"
assert_eq "$(sql "SELECT a.input_tokens, a.output_tokens, a.total_tokens, a.cost_status FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE CAST(j.params AS text) LIKE '%gateway bad%'")" \
	"0|0|0|bad_usage" "a gateway's usage whose total is -5"
stop_daemon
pass "a usage with total_tokens -1000000000 counts its checked $CHECKED tokens; the budget holds; a gateway's counts kept when they add up"
