#!/usr/bin/env bash
# t_cost_record.sh: what each attempt cost, stored when it ends and shown.
# The fake upstream bills known usage (--bill-table); the daemon has odd
# price lines. Every attempt's stored cost is its usage times the price
# configured, to the micro-dollar (computed here apart from cost.c); a 500
# is not_billed at 0, a cut stream no_usage with NULL, a model without a
# price no_price; status --json's spent per period and model, serve's
# overview and the daemon's metrics agree with the sum over the attempts;
# show --json, list --json and export's job.json carry the figures; submit
# writes its estimate into the job.
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null ||
	{ echo "SKIP: promtool missing (Debian package prometheus)"; exit 77; }

cd "$T"
mkpng a.png 1024 1024
mkpng b.png 300 200

# odd rates, so that a wrong rate or a rounding shows: USD per 1M tokens,
# text in, image in, image out
cat >"$IMGEDIT_CONFIG" <<'EOF'
price = gpt-image-2 3.141593 7.654321 29.999999
price = gpt-image-2.6-flare 1.000001 2.500003 33.333333
price = my-local-model 0.123457 0.987654 0.555555
EOF
cat >prices.json <<'EOF'
{"gpt-image-2": [3141593, 7654321, 29999999],
 "gpt-image-2.6-flare": [1000001, 2500003, 33333333],
 "my-local-model": [123457, 987654, 555555]}
EOF

"$IMGEDITCTL" init >/dev/null
sub() { "$IMGEDITCTL" submit --max-attempts 3 "$@" || fail "submit $*"; }
j_low=$(sub -p "low one" --model gpt-image-2 --quality low --size 1024x1024 a.png)
j_high=$(sub -p "high one" --model gpt-image-2.6-flare --quality high --size 1536x1024 --partial-images 2 a.png b.png)
j_500=$(sub -p "again [[fault:status=500;ok]]" --model gpt-image-2 --quality medium a.png)
j_cut=$(sub -p "cut [[fault:cut;ok]]" --model gpt-image-2.6-flare --quality medium --partial-images 1 b.png)
j_mod=$(sub -p "refused [[fault:moderation]]" --model gpt-image-2 a.png)
j_local=$(sub -p "local" --model my-local-model --quality low a.png)
j_free=$(sub -p "unpriced" --model other-local-model --quality low b.png)
j_each=$(sub -p "each" --model gpt-image-2 --quality low --size 1024x1024 --each a.png b.png | tail -1)
printf '{"prompt": "from jsonl", "model": "gpt-image-2", "quality": "high", "size": "1024x1024", "images": ["a.png"]}\n' >one.jsonl
j_from=$(sub --from one.jsonl)

# submit wrote each job's estimate (what --estimate says) whatever the
# form; none for a model without a token table
"$IMGEDITCTL" submit --estimate --json -p "low one" --model gpt-image-2 --quality low --size 1024x1024 a.png >est_low.json || fail "--estimate failed"
python3 - "$(sql "SELECT estimate_lo_usd_micro, estimate_hi_usd_micro FROM jobs WHERE id = $j_low")" <<'PY' || fail "job $j_low's stored estimate"
import json, sys
lo, hi = sys.argv[1].split("|")
e = json.load(open("est_low.json"))["cost_micro_usd"]
assert (int(lo), int(hi)) == (e["low"], e["high"]), (lo, hi, e)
PY
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE estimate_lo_usd_micro > 0 AND estimate_hi_usd_micro >= estimate_lo_usd_micro AND id IN ($j_high, $j_each, $j_from)")" 3 \
	"jobs of one job, --each and --from with an estimate"
assert_eq "$(sql "SELECT group_concat(coalesce(estimate_lo_usd_micro, -1) || ',' || coalesce(estimate_hi_usd_micro, -1), ' ') FROM jobs WHERE id IN ($j_local, $j_free)")" "-1,-1 -1,-1" \
	"the estimates of models without a token table"

start_fake --bill-table
start_daemon --config "$IMGEDIT_CONFIG" --retry-base 50ms --retry-max 100ms \
	--metrics-listen 127.0.0.1:0 --concurrency 4
wait_jobs_done 60
MPORT=$(sed -n 's/.*metrics_listen address=127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$DAEMON_LOG" | tail -1)
[ -n "$MPORT" ] || fail "no metrics address in the log"
# the counters move when the daemon hears its finish committed, a moment
# after the jobs table says done: scrape until every attempt is counted
python3 - "$MPORT" "$(sql "SELECT count(*) FROM attempts")" <<'PY' >metrics.prom || fail "the metrics never counted every attempt"
import sys, time, urllib.request
deadline = time.time() + 10
while True:
    text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode()
    ended = sum(int(l.rsplit(" ", 1)[1]) for l in text.splitlines()
                if l.startswith("imgedit_attempts_total{"))
    if ended == int(sys.argv[2]) or time.time() > deadline:
        break
    time.sleep(0.05)
sys.stdout.write(text)
sys.exit(0 if ended == int(sys.argv[2]) else 1)
PY
promtool check metrics <metrics.prom >promtool.out 2>&1 || fail "promtool check metrics: $(cat promtool.out)"
assert_eq "$(sql "SELECT state FROM jobs WHERE id = $j_mod")" failed "the refused job"
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state <> 'succeeded'")" 1 "jobs not succeeded"

# every attempt: model, cost and status as the rule says, the cost computed
# here from the stored usage and the prices above
attempt_rows() { # [WHERE]: each attempt's figures, a line each
	sql "SELECT a.id, j.id, coalesce(a.model, ''), coalesce(a.http_status, 0),
	coalesce(a.cost_usd_micro, -1), coalesce(a.cost_status, ''),
	coalesce(CAST(a.usage AS text), ''), a.started_at, a.input_tokens, a.output_tokens,
	coalesce(a.reserve_usd_micro, -1), coalesce(a.reserve_tokens, -1)
	FROM attempts a JOIN jobs j ON j.id = a.job_id ${1:-} ORDER BY a.id"
}
attempt_rows >attempts.txt
python3 - attempts.txt "$j_500" "$j_cut" "$j_mod" "$j_free" <<'PY' || fail "attempts' costs"
import json, sys
prices = json.load(open("prices.json"))
j500, jcut, jmod, jfree = map(int, sys.argv[2:6])
seen = {"not_billed": 0, "no_usage": 0, "no_price": 0, "known": 0}
rows = [l.split("|", 11) for l in open(sys.argv[1]).read().splitlines()]
for aid, job, model, http, cost, status, usage, started, tin, tout, reserve, rtokens in rows:
    job, http, cost, reserve, rtokens = int(job), int(http), int(cost), int(reserve), int(rtokens)
    # no budgets here: only an attempt of unknown cost holds, written at
    # its end, so it never counts as zero
    if status in ("known", "not_billed"):
        assert (reserve, rtokens) == (-1, -1), "attempt %s (%s): hold %d %d" % (aid, status, reserve, rtokens)
    assert model, "attempt %s: no model stored" % aid
    if usage:
        u = json.loads(usage)
        if model in prices:
            t, i, o = prices[model]
            want = (u["input_tokens_details"]["text_tokens"] * t +
                    u["input_tokens_details"]["image_tokens"] * i +
                    u["output_tokens"] * o + 500000) // 1000000
            assert (status, cost) == ("known", want), \
                "attempt %s (%s): %s %d, expected known %d" % (aid, model, status, cost, want)
        else:
            assert job == jfree and (status, cost) == ("no_price", -1), (aid, status, cost)
            # no price: its tokens hold, its dollars cannot
            assert reserve == -1 and rtokens > 0, "unpriced attempt %s holds %d, %d tokens" % (aid, reserve, rtokens)
    elif http >= 400:
        assert job in (j500, jmod) and (status, cost) == ("not_billed", 0), (aid, http, status, cost)
    else:
        assert job == jcut and (status, cost) == ("no_usage", -1), (aid, status, cost)
        assert reserve > 0 and rtokens > 0, "the cut attempt %s holds %d, %d tokens" % (aid, reserve, rtokens)
    seen[status] += 1
assert seen["not_billed"] == 2 and seen["no_usage"] == 1 and seen["no_price"] == 1, seen
assert seen["known"] == len(rows) - 4, seen
PY

# money and holds are never negative, whoever writes them
for col in cost_usd_micro reserve_usd_micro reserve_tokens; do
	sql "UPDATE attempts SET $col = -1 WHERE id = (SELECT min(id) FROM attempts)" >/dev/null 2>&1 &&
		fail "a negative $col was stored"
done
sql "UPDATE jobs SET estimate_lo_usd_micro = -1 WHERE id = $j_cut" >/dev/null 2>&1 &&
	fail "a negative estimate was stored"

# status --json: spent in each period, per model and in all, is the sum
# over the attempts that started in it
"$IMGEDITCTL" status --json >status.json || fail "status --json failed"
"$IMGEDITCTL" status >status.txt || fail "status failed"
python3 - attempts.txt status.json <<'PY' || fail "status's spent against the attempts: $(cat status.json)"
import json, sys
rows = [l.split("|", 11) for l in open(sys.argv[1]).read().splitlines()]
doc = json.load(open(sys.argv[2]))["spent"]
for period in ("day", "week", "month"):
    p = doc[period]
    inside = [r for r in rows if p["start"] <= int(r[7]) < p["end"]]
    assert inside, "no attempt in %s %s" % (period, p)
    def sums(rs):
        known = [int(r[4]) for r in rs if int(r[4]) >= 0]
        unknown = [int(r[10]) for r in rs if int(r[4]) < 0]
        return {"attempts": len(rs),
                "input_tokens": sum(int(r[8] or 0) for r in rs),
                "output_tokens": sum(int(r[9] or 0) for r in rs),
                "known_usd_micro": sum(known),
                "cost_usd_micro": sum(known) + sum(r for r in unknown if r >= 0),
                "unknown": len(unknown),
                "unknown_unreserved": sum(1 for r in unknown if r < 0)}
    def check(got, want, what):
        for k, v in want.items():
            assert got[k] == v, "%s %s %s: %s, the attempts say %s" % (period, what, k, got[k], v)
    check(p["all"], sums(inside), "all")
    models = {m["model"]: m for m in p["models"]}
    assert set(models) == {r[2] for r in inside}, (models.keys(), period)
    for name, m in models.items():
        check(m, sums([r for r in inside if r[2] == name]), name)
PY
grep -q '^spent today: ≥\?\$[0-9.]* in [0-9]* attempts, [0-9]* tokens' status.txt || fail "status has no spent today line: $(cat status.txt)"
grep -q '^  gpt-image-2: \$[0-9.]* in ' status.txt || fail "status has no per-model line: $(cat status.txt)"
# estimate vs actual: the finished jobs with an estimate
python3 - status.json "$(sql "SELECT count(*) FROM jobs WHERE estimate_lo_usd_micro IS NOT NULL")" <<'PY' || fail "estimate vs actual: $(cat status.json)"
import json, sys
e = json.load(open(sys.argv[1]))["estimate_vs_actual"]
assert e["jobs"] == int(sys.argv[2]) and e["actual_usd_micro"] > 0, e
assert e["estimate_lo_usd_micro"] > 0 and e["within"] + e["over"] + e["under"] + e["unknown"] == e["jobs"], e
PY
grep -q '^estimate vs actual: ' status.txt || fail "status has no estimate vs actual line: $(cat status.txt)"

# the metrics: known costs and the usage's tokens per model
python3 - attempts.txt metrics.prom <<'PY' || fail "metrics against the attempts"
import json, sys
m = {}
for line in open(sys.argv[2]):
    if line.strip() and not line.startswith("#"):
        k, v = line.rsplit(" ", 1)
        m[k] = v.strip()
cost, tokens = {}, {}
for r in (l.split("|", 11) for l in open(sys.argv[1]).read().splitlines()):
    model = r[2]
    if int(r[4]) >= 0:
        cost[model] = cost.get(model, 0) + int(r[4])
    if r[6]:
        u = json.loads(r[6])
        for kind, n in (("text_input", u["input_tokens_details"]["text_tokens"]),
                        ("image_input", u["input_tokens_details"]["image_tokens"]),
                        ("output", u["output_tokens"])):
            tokens[(model, kind)] = tokens.get((model, kind), 0) + n
for model, micro in cost.items():
    k = 'imgedit_cost_usd_total{model="%s"}' % model
    want = "%d.%06d" % (micro // 1000000, micro % 1000000)
    assert m.get(k) == want, "%s = %s, the attempts say %s" % (k, m.get(k), want)
for (model, kind), n in tokens.items():
    k = 'imgedit_tokens_total{model="%s",kind="%s"}' % (model, kind)
    assert m.get(k) == str(n), "%s = %s, the attempts say %s" % (k, m.get(k), n)
assert 'imgedit_cost_usd_total{model="other-local-model"}' not in m or \
    m['imgedit_cost_usd_total{model="other-local-model"}'] == "0.000000"
PY

# show --json, list --json, export's job.json
"$IMGEDITCTL" show --json "$j_500" >show.json || fail "show --json failed"
"$IMGEDITCTL" show "$j_500" >show.txt || fail "show failed"
"$IMGEDITCTL" list --json >list.json || fail "list --json failed"
"$IMGEDITCTL" list >list.txt || fail "list failed"
"$IMGEDITCTL" export "$j_500" "$j_cut" -o out >/dev/null || fail "export failed"
python3 - attempts.txt show.json list.json out "$j_500" "$j_cut" "$j_free" <<'PY' || fail "show, list and export's figures"
import json, sys
rows = [l.split("|", 11) for l in open(sys.argv[1]).read().splitlines()]
j500, jcut, jfree = map(int, sys.argv[5:8])
def want_job(job):
    rs = [r for r in rows if int(r[1]) == job]
    return (sum(int(r[4]) for r in rs if int(r[4]) >= 0),
            sum(1 for r in rs if int(r[4]) < 0))
def check_doc(doc, what):
    job = doc["id"]
    rs = [r for r in rows if int(r[1]) == job]
    log = doc["attempt_log"]
    assert len(log) == len(rs), what
    for a, r in zip(log, rs):
        c = int(r[4])
        assert a["cost_usd_micro"] == (c if c >= 0 else None) and \
            a["cost_status"] == r[5] and a["model"] == r[2], (what, a, r)
    assert (doc["cost_usd_micro"], doc["cost_unknown"]) == want_job(job), (what, doc)
check_doc(json.load(open(sys.argv[2])), "show")
for job in (j500, jcut):
    check_doc(json.load(open("%s/%d/job.json" % (sys.argv[4], job))), "job.json %d" % job)
jobs = {j["id"]: j for j in json.load(open(sys.argv[3]))}
for job in {int(r[1]) for r in rows}:
    assert (jobs[job]["cost_usd_micro"], jobs[job]["cost_unknown"]) == want_job(job), \
        ("list", jobs[job], want_job(job))
PY
grep -q 'cost \$0 (not_billed)' show.txt || fail "show does not give the 500's cost: $(cat show.txt)"
grep -Eq 'cost \$[0-9.]+ \(known\)' show.txt || fail "show does not give the attempt's cost: $(cat show.txt)"
grep -Eq "^ *$j_cut .*≥\\\$[0-9.]+" list.txt || fail "list does not mark the cut job's cost as a lower bound: $(cat list.txt)"
grep -Eq "^ *$j_free .* \\?( |$)" list.txt || fail "list does not mark the unpriced job's cost unknown: $(cat list.txt)"

# a price line changed under SIGHUP: attempts that end after it cost the
# new price, the bills already stored stay as they were
sed -i 's/^price = gpt-image-2 .*/price = gpt-image-2 2.5 5.5 11.000001/' "$IMGEDIT_CONFIG"
sed -i 's/"gpt-image-2": \[[0-9, ]*\]/"gpt-image-2": [2500000, 5500000, 11000001]/' prices.json
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 100); do grep -q 'info reloaded' "$DAEMON_LOG" && break; sleep 0.05; done
grep -q 'info reloaded' "$DAEMON_LOG" || fail "no reload after SIGHUP"
j_new=$(sub -p "after the change" --model gpt-image-2 --quality low --size 1024x1024 a.png)
wait_jobs_done 30
attempt_rows "WHERE j.id <> $j_new" >again.txt
cmp -s attempts.txt again.txt || fail "the attempts stored before the new price changed: $(diff attempts.txt again.txt)"
python3 - "$(sql "SELECT cost_usd_micro, CAST(usage AS text) FROM attempts WHERE job_id = $j_new")" <<'PY' || fail "the attempt after SIGHUP is not at the new price"
import json, sys
cost, usage = sys.argv[1].split("|", 1)
u, (t, i, o) = json.loads(usage), json.load(open("prices.json"))["gpt-image-2"]
want = (u["input_tokens_details"]["text_tokens"] * t + u["input_tokens_details"]["image_tokens"] * i +
        u["output_tokens"] * o + 500000) // 1000000
assert int(cost) == want, (cost, want)
PY

# serve's overview says the same as status
"$IMGEDITCTL" status --json >status.json || fail "status --json failed"
stop_daemon
start_serve
python3 - "$SERVE_URL" status.json <<'PY' || fail "serve's spent against status"
import json, re, sys, urllib.request
page = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
spent = json.load(open(sys.argv[2]))["spent"]
for period in ("day", "week", "month"):
    m = re.search(r'data-spent="%s" data-usd-micro="(\d+)"' % period, page)
    assert m, "no spent %s on the overview" % period
    assert int(m.group(1)) == spent[period]["all"]["cost_usd_micro"], (period, m.group(1))
PY
python3 - "$SERVE_URL" "$j_500" show.json <<'PY' || fail "serve's job page"
import json, re, sys, urllib.request
page = urllib.request.urlopen("%sjobs/%s" % (sys.argv[1], sys.argv[2]), timeout=5).read().decode()
doc = json.load(open(sys.argv[3]))
m = re.search(r'data-job-cost-usd-micro="(\d+)"', page)
assert m and int(m.group(1)) == doc["cost_usd_micro"], "job page cost"
assert "not_billed" in page, "no attempt cost status on the job page"
PY
stop_serve

# the settings' time zone sets the periods: a day from local midnight
# (18:30 UTC at +05:30), a week from Monday, a month from the 1st
echo 'time-zone = <+0530>-5:30' >>"$IMGEDIT_CONFIG"
"$IMGEDITCTL" status --json >tz.json || fail "status --json in a time zone failed"
python3 - tz.json <<'PY' || fail "the periods in the settings' time zone: $(cat tz.json)"
import datetime, json, sys
s = json.load(open(sys.argv[1]))["spent"]
assert s["time_zone"] == "<+0530>-5:30", s["time_zone"]
tz = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
day, week, month = (datetime.datetime.fromtimestamp(s[p]["start"] / 1000, tz) for p in ("day", "week", "month"))
assert (day.hour, day.minute, day.second) == (0, 0, 0), day
assert week.weekday() == 0 and (week.hour, week.minute) == (0, 0) and week <= day, week
assert month.day == 1 and (month.hour, month.minute) == (0, 0) and month <= day, month
assert s["day"]["end"] - s["day"]["start"] == 86400000
PY
pass "$(wc -l <attempts.txt) attempts' costs equal usage x price; status, serve, metrics, show, list, export agree"
