#!/usr/bin/env bash
# Every error at once: a 5,000-line JSONL with 3 bad lines (not JSON, a
# rule of the API broken, a missing image) is refused naming all three,
# exit 2, and nothing is written; --each over 25 bad files names the
# first 20 and says how many more.
. "$(dirname "$0")/lib.sh"

"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
python3 - "$T/jobs.jsonl" "$T/a.png" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 5001):
        if i == 17:
            f.write('{"prompt": "broken", \n')
        elif i == 500:
            f.write(json.dumps({"prompt": "p", "model": "gpt-image-2.6-flare", "n": 99,
                                "images": [sys.argv[2]]}) + "\n")
        elif i == 1999:
            f.write(json.dumps({"prompt": "p", "model": "gpt-image-2.6-flare",
                                "images": ["/nonexistent/x.png"]}) + "\n")
        else:
            f.write(json.dumps({"prompt": "line %d" % i, "model": "gpt-image-2.6-flare",
                                "images": [sys.argv[2]]}) + "\n")
PY
rc=0
"$IMGEDITCTL" submit --from "$T/jobs.jsonl" >"$T/out" 2>"$T/err" || rc=$?
assert_eq "$rc" 2 "exit status"
for l in 17 500 1999; do
	grep -q "jobs.jsonl:$l: " "$T/err" || fail "line $l not named: $(cat "$T/err")"
done
grep -q "n: " "$T/err" || fail "the broken rule is not named: $(cat "$T/err")"
grep -q "3 of 5000 jobs refused: nothing was written" "$T/err" || fail "no summary: $(tail -2 "$T/err")"
assert_eq "$(grep -c 'imgeditctl: ' "$T/err")" 4 "lines said (3 refusals and the summary)"
assert_eq "$(sql "SELECT count(*) FROM jobs")" 0 "jobs written"
assert_eq "$(sql "SELECT count(*) FROM blobs")" 0 "blobs written"

for i in $(seq 1 25); do printf 'not a png %d' "$i" >"$T/bad$i.png"; done
rc=0
"$IMGEDITCTL" submit --each -p "each" --model gpt-image-2.6-flare "$T"/bad*.png "$T/a.png" \
	>"$T/out" 2>"$T/err" || rc=$?
assert_eq "$rc" 2 "exit status of --each"
assert_eq "$(grep -c 'bad[0-9]*\.png' "$T/err")" 20 "refusals named"
grep -q "and 5 more" "$T/err" || fail "no 'and 5 more': $(tail -3 "$T/err")"
grep -q "25 of 26 jobs refused" "$T/err" || fail "no summary: $(tail -1 "$T/err")"
assert_eq "$(sql "SELECT count(*) FROM jobs")" 0 "jobs written"
pass "3 bad lines of 5000 and 25 bad files: all named at once, nothing written"
