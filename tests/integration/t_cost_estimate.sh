#!/usr/bin/env bash
# t_cost_estimate.sh: imgeditctl submit --estimate checks like submit and
# writes nothing; its range holds, job by job, for what the fake upstream
# then bills (--bill-table: the published token table by quality and size,
# written apart from the estimator) and for that bill's cost at the page
# prices; 1,000 JSONL jobs are estimated in under a second.
. "$(dirname "$0")/lib.sh"

cd "$T"
mkpng a.png 1024 1024
mkpng b.png 300 200
mkpng c.png 1600 900
mkpng d.png 512 512
mkpng m.png 512 512 rgba

# jobs over every family with a token table, each quality, sizes listed,
# auto and flexible, n, partial images (streamed), masks, prompt lengths
python3 - <<'PY'
import json
long = "repaint the whole scene in the manner of a watercolour, " * 40
jobs = [
    {"model": "gpt-image-2", "quality": "low", "size": "1024x1024", "images": ["a.png"]},
    {"model": "gpt-image-2", "quality": "medium", "size": "1536x1024", "images": ["b.png", "c.png"]},
    {"model": "gpt-image-2", "quality": "auto", "size": "auto", "images": ["c.png"], "n": 2},
    {"model": "gpt-image-2.5-sunburst", "quality": "high", "size": "3584x2048", "images": ["a.png"]},
    {"model": "gpt-image-2.5-flare", "images": ["b.png"], "partial_images": 3},
    {"model": "gpt-image-2.5-flare", "quality": "xhigh", "size": "1024x1536", "images": ["a.png"], "n": 3},
    {"model": "gpt-image-2.6-sunburst", "quality": "max", "images": ["d.png"], "mask": "m.png"},
    {"model": "gpt-image-2.6-sunburst", "quality": "high", "size": "1024x1024", "images": ["a.png", "b.png", "c.png"], "partial_images": 2, "n": 2},
    {"model": "gpt-image-2.6-flare", "quality": "low", "size": "2048x688", "images": ["b.png"], "prompt_extra": long},
    {"model": "gpt-image-2.6-flare", "quality": "medium", "images": ["d.png"], "mask": "m.png", "stream": False},
]
with open("jobs.jsonl", "w") as f:
    for i, j in enumerate(jobs):
        j["prompt"] = "job %d %s" % (i, j.pop("prompt_extra", ""))
        f.write(json.dumps(j) + "\n")
PY
N=$(wc -l <jobs.jsonl)

"$IMGEDITCTL" init >/dev/null
# nothing written: no row anywhere, and on SQLite not a byte of the file
written() {
	sql "SELECT (SELECT count(*) FROM jobs) + (SELECT count(*) FROM inputs) +
	    (SELECT count(*) FROM blobs) + (SELECT count(*) FROM events)"
}
file_sha() {
	if [ "${IMGEDIT_TEST_BACKEND:-sqlite}" = pg ]; then echo pg; else sha256sum "$DB" | cut -c1-64; fi
}
before=$(file_sha)

# the whole file: a count, a range, nothing written
"$IMGEDITCTL" submit --estimate --from jobs.jsonl >est.txt || fail "--estimate failed: $(cat est.txt)"
grep -q "^jobs: $N$" est.txt || fail "estimate text: $(cat est.txt)"
grep -q '^cost: at least \$[0-9.]* (xhigh or max' est.txt || fail "no open-ended cost for xhigh/max: $(cat est.txt)"
"$IMGEDITCTL" submit --estimate --json --from jobs.jsonl >est.json
python3 - est.json "$N" <<'PY' || fail "the --json estimate is not what it should be"
import json, sys
e = json.load(open(sys.argv[1]))
assert e["jobs"] == int(sys.argv[2]) and e["unknown"] == 0 and e["unpriced"] == 0, e
assert e["cost_usd"]["high"] is None and e["tokens"]["high"] is None, e   # xhigh, max
assert int(e["cost_micro_usd"]["low"]) > 0 and e["prices_read"] == "2026-12-07", e
PY
assert_eq "$(written)" 0 "rows written by --estimate"
assert_eq "$(file_sha)" "$before" "the database file after --estimate"

# checked as submit checks: a bad line refuses the lot, exit 2, nothing written
cp jobs.jsonl bad.jsonl
echo '{"prompt": "bad", "model": "gpt-image-2", "size": "1000x1000", "images": ["a.png"]}' >>bad.jsonl
rc=0
"$IMGEDITCTL" submit --estimate --from bad.jsonl >/dev/null 2>bad.err || rc=$?
assert_eq "$rc" 2 "exit status of --estimate with a bad line"
grep -q "bad.jsonl:$((N + 1)): size" bad.err || fail "the bad line is not named: $(cat bad.err)"
# a model without a token table is counted, not estimated
"$IMGEDITCTL" submit --estimate --json -p "x" --model some-local-model a.png >unk.json
python3 -c 'import json,sys; e=json.load(open("unk.json")); assert e["jobs"] == 1 and e["unknown"] == 1 and e["cost_micro_usd"]["low"] == 0, e' ||
	fail "an unknown model's estimate: $(cat unk.json)"
# --each: one job per image
"$IMGEDITCTL" submit --estimate -p "x" --quality low --size 1024x1024 --each a.png b.png c.png >each.txt
grep -q "^jobs: 3$" each.txt || fail "--each estimate: $(cat each.txt)"
assert_eq "$(written)" 0 "rows written by the other estimates"
assert_eq "$(file_sha)" "$before" "the database file after the other estimates"

# the settings' price lines: doubled rates, double the cost; a bad one named
"$IMGEDITCTL" submit --estimate --json -p "x" --model gpt-image-2 --quality high a.png >base.json
echo 'price = gpt-image-2 10 16 60' >"$IMGEDIT_CONFIG"
"$IMGEDITCTL" submit --estimate --json -p "x" --model gpt-image-2 --quality high a.png >dear.json
python3 -c 'import json; a, b = (json.load(open(f))["cost_micro_usd"] for f in ("base.json", "dear.json")); assert a["low"] > 0 and abs(b["low"] - 2 * a["low"]) <= 1 and abs(b["high"] - 2 * a["high"]) <= 1, (a, b)' ||
	fail "a price line did not set the price: $(cat base.json dear.json)"
echo 'price = gpt-image-2-2026-04-21 10 16 60' >"$IMGEDIT_CONFIG"
rc=0
"$IMGEDITCTL" submit --estimate -p "x" --model gpt-image-2 a.png >/dev/null 2>price.err || rc=$?
assert_eq "$rc" 2 "exit status with a bad price line"
grep -q "imgeditd.conf:1: price: 'gpt-image-2-2026-04-21' is a snapshot of gpt-image-2" price.err ||
	fail "the bad price line is not named: $(cat price.err)"
: >"$IMGEDIT_CONFIG"

# each job's own estimate, then the real run through the fake upstream
i=0
while IFS= read -r line; do
	i=$((i + 1))
	printf '%s\n' "$line" >one.jsonl
	"$IMGEDITCTL" submit --estimate --json --from one.jsonl >"est.$i.json"
done <jobs.jsonl
start_fake --bill-table
"$IMGEDITCTL" submit --from jobs.jsonl >/dev/null
start_daemon --concurrency 4
wait_jobs_done 60
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state = 'succeeded'")" "$N" "jobs succeeded"

# every job's billed usage (one attempt each) inside its estimate, kind by
# kind, and its cost at the page prices ($5 text, $8 image in, $30 out per
# 1M tokens, every family here) inside the estimated cost
sql "SELECT j.params, a.usage FROM jobs j JOIN attempts a ON a.job_id = j.id ORDER BY j.id" >billed.txt
python3 - billed.txt "$N" <<'PY' || fail "a bill fell outside its estimate"
import json, sys
rows = [l.split("|", 1) for l in open(sys.argv[1]).read().splitlines()]
assert len(rows) == int(sys.argv[2]), "attempts: %d" % len(rows)
for params, usage in rows:
    p, u = json.loads(params), json.loads(usage)
    i = int(p["prompt"].split()[1]) + 1
    e = json.load(open("est.%d.json" % i))
    got = {"text_in": u["input_tokens_details"]["text_tokens"],
           "image_in": u["input_tokens_details"]["image_tokens"],
           "output": u["output_tokens"]}
    for kind, n in got.items():
        r = e["tokens_by_kind"][kind]
        assert r["low"] <= n and (r["high"] is None or n <= r["high"]), \
            "job %d %s: billed %d, estimated %s" % (i, kind, n, r)
    # millionths of a micro-dollar, rounded half up once
    cost = (got["text_in"] * 5000000 + got["image_in"] * 8000000 +
            got["output"] * 30000000 + 500000) // 1000000
    c = e["cost_micro_usd"]
    assert c["low"] <= cost and (c["high"] is None or cost <= c["high"]), \
        "job %d: cost %d, estimated %s" % (i, cost, c)
PY

# 1,000 jobs of JSONL (sharing their images, as a bulk run does)
python3 - <<'PY'
import json
lines = open("jobs.jsonl").read().splitlines()
with open("big.jsonl", "w") as f:
    for k in range(1000):
        j = json.loads(lines[k % len(lines)])
        j["prompt"] = "bulk %d" % k
        f.write(json.dumps(j) + "\n")
PY
TIMEFORMAT='%3R %3U %3S'
t=$({ time "$IMGEDITCTL" submit --estimate --from big.jsonl >big.txt 2>big.err; } 2>&1) || fail "--estimate of 1,000 jobs: $(cat big.err)"
grep -q "^jobs: 1000$" big.txt || fail "1,000 jobs estimate: $(cat big.txt)"
read -r wall user sys <<<"$t"
cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%d", (u + s) * 1000 }')
echo "submit --estimate of 1,000 JSONL jobs: ${wall} s wall, ${cpu} ms CPU"
# CPU, not wall: two cores shared with other tests (see t_ctl_bulk.sh)
[ "$cpu" -lt 1000 ] || fail "--estimate of 1,000 jobs took ${cpu} ms CPU (limit 1000)"
assert_eq "$(sql 'SELECT count(*) FROM jobs')" "$N" "jobs after the bulk estimate (the $N run only)"
pass "estimates of $N jobs hold for the fake's bill; 1,000 in ${cpu} ms CPU"
