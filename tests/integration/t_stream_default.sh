#!/usr/bin/env bash
# A job streams when its model can, unless told: imgeditctl submit of a
# dall-e-2 job without --stream/--no-stream is taken (not streamed), an
# explicit --stream with dall-e-2 stays an error, gpt-image-2.6-flare streams; a
# row another program inserts with the column defaults (stream 1: "when
# the model can") runs a dall-e-2 job without streaming.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
use_gateway # dall-e-2 is shut down at OpenAI: a gateway that still serves it
"$IMGEDITCTL" init >/dev/null
mkpng "$T/sq.png" 64 64
d2=$("$IMGEDITCTL" submit -p "dall-e-2 by default" --model dall-e-2 "$T/sq.png")
assert_eq "$(sql "SELECT stream FROM jobs WHERE id=$d2")" 0 "dall-e-2 job's stream column"
rc=0
"$IMGEDITCTL" submit -p "told to" --model dall-e-2 --stream "$T/sq.png" >"$T/err" 2>&1 || rc=$?
assert_eq "$rc" 2 "exit status of --stream with dall-e-2"
grep -q "stream: dall-e-2 does not support streaming" "$T/err" || fail "unclear error: $(cat "$T/err")"
g1=$("$IMGEDITCTL" submit -p "gpt-image-2.6-flare by default" --model gpt-image-2.6-flare "$T/sq.png")
assert_eq "$(sql "SELECT stream FROM jobs WHERE id=$g1")" 1 "gpt-image-2.6-flare job's stream column"
printf '{"prompt":"jsonl dall-e-2","model":"dall-e-2","image":"%s"}\n' "$T/sq.png" >"$T/jobs.jsonl"
jl=$("$IMGEDITCTL" submit --from "$T/jobs.jsonl")
assert_eq "$(sql "SELECT stream FROM jobs WHERE id=$jl")" 0 "a JSONL dall-e-2 line's stream column"
sql "BEGIN IMMEDIATE;
INSERT INTO jobs (params) VALUES (json_object('prompt', 'sql row', 'model', 'dall-e-2'));
INSERT INTO inputs (job_id, role, ordinal, filename, data)
VALUES (last_insert_rowid(), 'image', 0, 'sq.png', readfile('$T/sq.png'));
COMMIT;"
row=$(sql "SELECT max(id) FROM jobs")
assert_eq "$(sql "SELECT stream FROM jobs WHERE id=$row")" 1 "the SQL row's stream column (its default)"
start_daemon
wait_jobs_done 30
stop_daemon
assert_eq "$(sql "SELECT group_concat(state) FROM jobs")" "succeeded,succeeded,succeeded,succeeded" "jobs"
streamed=$(python3 - "$FAKE_LOG" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["method"] == "POST":
        print("%s=%s" % (r["fields"]["prompt"], str(r["stream"]).lower()))
PY
)
for want in "dall-e-2 by default=false" "gpt-image-2.6-flare by default=true" "jsonl dall-e-2=false" "sql row=false"; do
	echo "$streamed" | grep -qx "$want" || fail "request '$want' not seen: $streamed"
done
pass "dall-e-2 does not stream unless told (and then it is an error); gpt-image-2.6-flare does"
