#!/usr/bin/env bash
# The models of December 2026 at submit: a shut-down model is refused with
# OpenAI's base-url (exit 2, naming its date and replacement) and warned of
# and queued with another server's; no --model writes the settings'
# default-model into the job; a row written without a model is sent
# without one; svg output on an edit is refused naming output_format.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 64 64

# refused_with ARGS...: submit exits 2, stderr in $T/err
refused() {
	local rc=0
	"$IMGEDITCTL" submit -p "refused" "$@" "$T/a.png" >"$T/out" 2>"$T/err" || rc=$?
	assert_eq "$rc" 2 "exit status of submit $*"
}
refused --model gpt-image-1
grep -q "model: gpt-image-1 was shut down on 2026-10-23; use gpt-image-2.5-sunburst or gpt-image-2.5-flare" "$T/err" ||
	fail "gpt-image-1's refusal: $(cat "$T/err")"
refused --model gpt-image-1.5-2025-12-16
grep -q "2026-12-01; use gpt-image-2.6-sunburst or gpt-image-2.6-flare" "$T/err" ||
	fail "gpt-image-1.5's refusal: $(cat "$T/err")"
for m in dall-e-2 dall-e-3 gpt-image-1-mini chatgpt-image-latest; do
	refused --model "$m"
	grep -q "model: $m was shut down on 2026-" "$T/err" || fail "$m's refusal: $(cat "$T/err")"
done
refused --model gpt-image-2.6-sunburst --output-format svg
grep -q "output_format: 'svg' is for image generations only" "$T/err" || fail "svg: $(cat "$T/err")"
refused --model gpt-image-2.6-flare --size 3856x2160
grep -q "size: 3856x2160: at most 3840x2160" "$T/err" || fail "size: $(cat "$T/err")"
# OpenAI's base-url however it is spelt; OPENAI_BASE_URL wins over the file
echo "base-url = https://API.openai.com/v1/" >"$IMGEDIT_CONFIG"
refused --model gpt-image-1
grep -q "model: gpt-image-1 was shut down on 2026-10-23" "$T/err" || fail "API.openai.com/v1/: $(cat "$T/err")"
OPENAI_BASE_URL=https://api.openai.com refused --model gpt-image-1
grep -q "model: gpt-image-1 was shut down on 2026-10-23" "$T/err" || fail "OPENAI_BASE_URL: $(cat "$T/err")"
rc=0
OPENAI_BASE_URL=http://127.0.0.1:9/v1 "$IMGEDITCTL" submit -p "env gateway" --model gpt-image-1 \
	"$T/a.png" >/dev/null 2>"$T/err" || rc=$?
assert_eq "$rc" 0 "exit status with OPENAI_BASE_URL naming another server"
grep -q "warning: gpt-image-1 was shut down at OpenAI" "$T/err" || fail "no warning: $(cat "$T/err")"
sql "DELETE FROM jobs"
echo "default-model = not a model" >"$IMGEDIT_CONFIG"
rc=0
"$IMGEDITCTL" submit -p "bad setting" "$T/a.png" >/dev/null 2>"$T/err" || rc=$?
assert_eq "$rc" 2 "exit status with a bad default-model"
grep -q "default-model: 'not a model' is not a model name" "$T/err" || fail "bad setting: $(cat "$T/err")"
: >"$IMGEDIT_CONFIG"
assert_eq "$(sql "SELECT count(*) FROM jobs")" 0 "jobs written by refused submits"

# no --model: the built-in default, then the settings' default-model
d1=$("$IMGEDITCTL" submit -p "default" "$T/a.png")
echo "default-model = gpt-image-2.5-sunburst" >"$IMGEDIT_CONFIG"
d2=$("$IMGEDITCTL" submit -p "configured" --size 3840x2160 "$T/a.png")
printf '{"prompt":"jsonl","images":["%s"]}\n' "$T/a.png" >"$T/jobs.jsonl"
d3=$("$IMGEDITCTL" submit --from "$T/jobs.jsonl")
assert_eq "$(sql "SELECT json_extract(params, '$.model') FROM jobs WHERE id=$d1")" gpt-image-2.6-flare "no --model, no settings"
assert_eq "$(sql "SELECT json_extract(params, '$.model') FROM jobs WHERE id=$d2")" gpt-image-2.5-sunburst "default-model"
assert_eq "$(sql "SELECT json_extract(params, '$.model') FROM jobs WHERE id=$d3")" gpt-image-2.5-sunburst "a JSONL line's default"

# another server: warned of, and queued as asked
use_gateway
g1=$("$IMGEDITCTL" submit -p "gateway" --model gpt-image-1 "$T/a.png" 2>"$T/err")
grep -q "warning: gpt-image-1 was shut down at OpenAI on 2026-10-23" "$T/err" || fail "no warning: $(cat "$T/err")"
assert_eq "$(sql "SELECT json_extract(params, '$.model') FROM jobs WHERE id=$g1")" gpt-image-1 "the gateway job's model"

# a row another program writes without a model: sent without one
sql "BEGIN IMMEDIATE;
INSERT INTO jobs (params, stream) VALUES ('{\"prompt\":\"no model\",\"quality\":\"max\"}', 0);
INSERT INTO inputs (job_id, role, ordinal, filename, data)
VALUES (last_insert_rowid(), 'image', 0, 'a.png', readfile('$T/a.png'));
COMMIT;"
start_daemon
wait_jobs_done 30
stop_daemon
assert_eq "$(sql "SELECT group_concat(state) FROM jobs")" "succeeded,succeeded,succeeded,succeeded,succeeded" "jobs"
sent=$(python3 - "$FAKE_LOG" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["method"] == "POST":
        print("%s=%s" % (r["fields"]["prompt"], r["fields"].get("model", "(none)")))
PY
)
for want in "default=gpt-image-2.6-flare" "configured=gpt-image-2.5-sunburst" "gateway=gpt-image-1" "no model=(none)"; do
	echo "$sent" | grep -qx "$want" || fail "request '$want' not seen: $sent"
done
# the daemon says when default-model is shut down (submit refuses it at OpenAI)
start_daemon --default-model gpt-image-1
stop_daemon
grep -q 'warn default_model_shut_down model="gpt-image-1" shutdown="2026-10-23" replacement="gpt-image-2.5-sunburst or gpt-image-2.5-flare"' "$DAEMON_LOG" ||
	fail "no warning of a shut-down default-model: $(grep default_model "$DAEMON_LOG")"
[ "$(grep -c default_model_shut_down "$DAEMON_LOG")" = 1 ] || fail "warned of the built-in default"
pass "shut-down models refused at OpenAI, warned of elsewhere; default-model written; no model sent as none"
