#!/usr/bin/env bash
# Non-streaming answers: n=4 b64_json stores 4 finals; a dall-e-2 url answer
# is downloaded at once and stored; the bytes equal what the server sent.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 30000
use_gateway # dall-e-2 is shut down at OpenAI: a gateway that still serves it
"$IMGEDITCTL" init >/dev/null
mkpng "$T/sq.png" 64 64
id4=$("$IMGEDITCTL" submit -p "four" --model gpt-image-2.6-flare --n 4 --no-stream "$T/sq.png")
idurl=$("$IMGEDITCTL" submit -p "url" --model dall-e-2 --response-format url --no-stream "$T/sq.png")
idurl3=$("$IMGEDITCTL" submit -p "url3" --model dall-e-2 --n 3 --response-format url --no-stream "$T/sq.png")
start_daemon
wait_jobs_done 60

assert_eq "$(sql "SELECT state FROM jobs WHERE id=$id4")" succeeded "n=4 job state"
assert_eq "$(sql "SELECT group_concat(idx) FROM (SELECT idx FROM images WHERE job_id=$id4 AND kind='final' ORDER BY idx) AS s")" "0,1,2,3" "n=4 final indexes"
assert_eq "$(sql "SELECT count(*) FROM images WHERE job_id=$id4 AND kind='partial'")" 0 "n=4 partials"
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$idurl")" succeeded "url job state"
assert_eq "$(sql "SELECT count(*) FROM images WHERE job_id=$idurl AND kind='final' AND format='png' AND width>0")" 1 "url job final"
grep -q '"GET"' "$FAKE_LOG" || fail "the url result was never downloaded"
assert_eq "$(sql "SELECT count(*) FROM images WHERE job_id=$idurl3 AND kind='final'")" 3 "n=3 url job finals"
# an attempt is one transfer at a time, as --concurrency counts it: the
# three downloads of the n=3 url job never overlap
python3 - "$FAKE_LOG" <<'PY' || fail "url results were downloaded in parallel"
import json, sys
gets = sorted((r["t_start_ms"], r["t_end_ms"]) for r in map(json.loads, open(sys.argv[1]))
              if r["method"] == "GET" and "/files/" in (r["path"] or "") and "probe" not in r["path"])
assert len(gets) == 4, gets
# the n=1 job's download may run beside the others; of the rest, count overlaps
overlaps = sum(1 for a, b in zip(gets, gets[1:]) if b[0] < a[1])
sys.exit(0 if overlaps <= 1 else 1)
PY

# The GET of a url result logs its bytes as "sent" too.
sent=$(fake_sent_sha final)
assert_eq "$(echo "$sent" | wc -l)" 8 "images the fake upstream sent"
for url_sha in $(fake_url_sha); do
	echo "$sent" | grep -qx "$url_sha" || fail "the url image $url_sha was not sent whole"
done
assert_eq "$(sql "SELECT sha256 FROM images ORDER BY sha256")" "$sent" "sha256 stored vs sent"
"$IMGEDITCTL" export "$id4" "$idurl" "$idurl3" -o "$T/out" >/dev/null
assert_eq "$(find "$T/out" -name 'final-*.png' -exec sha256sum {} + | cut -d' ' -f1 | sort)" "$sent" "exported bytes"
stop_daemon
pass "n=4 and url jobs stored exactly"
