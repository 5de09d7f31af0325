#!/usr/bin/env bash
# --markup FILE (and a JSONL line's "markup"): stored as an input of role
# markup, sent as the multipart file part `markup` after the images; never
# with a mask, only for the models that take one; served at
# /inputs/ID/markup/0.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 64 64
mkpng "$T/b.png" 64 64
mkpng "$T/k.png" 64 64 rgba
mkpng "$T/m.png" 64 64 rgba
id=$("$IMGEDITCTL" submit -p "marked" --model gpt-image-2.6-sunburst --markup "$T/k.png" "$T/a.png" "$T/b.png")
printf '{"prompt":"jsonl marked","model":"gpt-image-2.5-flare","images":["a.png"],"markup":"k.png"}\n' >"$T/jobs.jsonl"
jl=$("$IMGEDITCTL" submit --from "$T/jobs.jsonl")
assert_eq "$(sql "SELECT group_concat(role || ':' || ordinal || ':' || filename) FROM
	(SELECT * FROM inputs WHERE job_id=$id ORDER BY role, ordinal)")" \
	"image:0:a.png,image:1:b.png,markup:0:k.png" "the job's inputs"
assert_eq "$(sql "SELECT count(*) FROM inputs WHERE job_id=$jl AND role='markup'")" 1 "the JSONL job's markup"
refused() { # WANT ARGS...: submit exits 2 saying WANT
	local want=$1 rc=0
	shift
	"$IMGEDITCTL" submit -p "refused" "$@" >/dev/null 2>"$T/err" || rc=$?
	assert_eq "$rc" 2 "exit status of submit $*"
	grep -q -- "$want" "$T/err" || fail "submit $*: $(cat "$T/err")"
}
refused "markup: cannot be combined with mask" --model gpt-image-2.6-flare --markup "$T/k.png" --mask "$T/m.png" "$T/a.png"
refused "markup: not supported by gpt-image-2" --model gpt-image-2 --markup "$T/k.png" "$T/a.png"
mkpng "$T/small.png" 32 32 rgba
refused "markup: small.png: 32x32, must match the first image's 64x64" --model gpt-image-2.6-flare \
	--markup "$T/small.png" "$T/a.png"
refused "markup: a.png: must have an alpha channel" --model gpt-image-2.6-flare --markup "$T/a.png" "$T/b.png"
refused "--param markup: not a parameter" --model gpt-image-2.6-flare --param markup=x "$T/a.png"
assert_eq "$(sql "SELECT count(*) FROM jobs")" 2 "jobs written"

start_daemon
wait_jobs_done 30
stop_daemon
assert_eq "$(sql "SELECT group_concat(state) FROM jobs")" "succeeded,succeeded" "jobs"
python3 - "$FAKE_LOG" "$(sha256sum <"$T/k.png" | cut -d' ' -f1)" <<'PY' || fail "the markup part"
import json, sys
log, ksha = sys.argv[1], sys.argv[2]
seen = {}
for l in open(log):
    r = json.loads(l)
    if r["method"] != "POST":
        continue
    seen[r["fields"]["prompt"]] = [(f["name"], f["filename"], f["sha256"]) for f in r["files"]]
assert [n for n, _, _ in seen["marked"]] == ["image[]", "image[]", "markup"], seen
assert seen["marked"][2][1:] == ("k.png", ksha), seen
assert [n for n, _, _ in seen["jsonl marked"]] == ["image", "markup"], seen
PY
start_serve
curl -sS -o "$T/got" "${SERVE_URL%/}/inputs/$id/markup/0" || fail "curl markup"
cmp -s "$T/got" "$T/k.png" || fail "served markup differs"
stop_serve
pass "--markup stored as role markup, sent as the part markup, refused with a mask or an older model"
