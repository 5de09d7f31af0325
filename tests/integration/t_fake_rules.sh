#!/usr/bin/env bash
# The fake upstream refuses what the model table refuses, as the API does:
# a 400 whose error names the param (it links daemon/models.c and
# jobspec.c); what the table takes it answers, a GIF with the frames asked.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
mkpng "$T/a.png" 64 64
mkpng "$T/k.png" 64 64 rgba
# post WANT_STATUS WANT_PARAM FIELD=VALUE...: one multipart edit
post() {
	local want=$1 param=$2 args=() f
	shift 2
	for f in "$@"; do args+=(-F "$f"); done
	curl -sS -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer sk-test" \
		-F "image=@$T/a.png;type=image/png" -F prompt=p "${args[@]}" \
		"$BASE_URL/images/edits" >"$T/code" || fail "curl $*"
	assert_eq "$(cat "$T/code")" "$want" "status of $*"
	[ "$want" = 200 ] && return 0
	assert_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"]["param"])' "$T/body")" \
		"$param" "param of $*: $(cat "$T/body")"
}
post 400 quality model=gpt-image-2 quality=max
post 200 - model=gpt-image-2.6-flare quality=max
post 400 complexity model=gpt-image-2.5-flare complexity=low
post 400 size model=gpt-image-2.6-flare size=4096x2160
post 200 - model=gpt-image-2.6-flare size=3840x2160
post 400 output_format model=gpt-image-2.6-sunburst output_format=svg
post 400 input_fidelity model=gpt-image-2 input_fidelity=high
post 400 frame_count model=gpt-image-2.6-flare frame_count=3
post 400 frame_count model=gpt-image-2.6-flare output_format=gif frame_count=17
post 400 stream model=gpt-image-2.6-flare output_format=gif stream=true
post 400 markup model=gpt-image-2 "markup=@$T/k.png;type=image/png"
post 400 markup model=gpt-image-2.6-flare "markup=@$T/k.png;type=image/png" "mask=@$T/k.png;type=image/png"
post 200 - model=gpt-image-2.6-flare output_format=gif frame_count=5
python3 - "$T/body" <<'PY' || fail "the GIF answered"
import base64, json, sys
d = base64.b64decode(json.load(open(sys.argv[1]))["data"][0]["b64_json"])
assert d[:6] == b"GIF89a" and d.count(b"\x21\xf9\x04") == 5, d[:16]
PY
pass "the fake upstream refuses what the table refuses, naming the param"
