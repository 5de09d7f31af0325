#!/usr/bin/env bash
# 20 malformed rows written with the sqlite3 shell next to 20 good ones: 20
# invalid_job failures, each with its reason, 20 successes, the daemon alive.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 8000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/sq.png" 32 32
mkpng "$T/rgba.png" 32 32 rgba
mkpng "$T/rgba16.png" 16 16 rgba
printf 'this is not an image' >"$T/text.bin"

row() { # PARAMS_JSON STREAM [FILE ROLE CTYPE]... : one job with its inputs
	local params=$1 stream=$2 sqlin="" ord=0
	shift 2
	while [ $# -ge 3 ]; do
		local ct=NULL
		[ "$3" != - ] && ct="'$3'"
		sqlin="$sqlin INSERT INTO inputs (job_id, role, ordinal, filename, content_type, data)
			VALUES ((SELECT max(id) FROM jobs), '$2', $ord, '${1##*/}', $ct, readfile('$1'));"
		ord=$((ord + 1)); shift 3
	done
	sql "BEGIN IMMEDIATE; INSERT INTO jobs (params, stream) VALUES ('$params', $stream); $sqlin COMMIT;"
}
g='"model":"gpt-image-2.6-flare"'
long=$(printf 'x%.0s' $(seq 1 1001))
# The malformed ones, each with what its reason is about (the reasons
# themselves, word for word, are below).
bad=(
	'not json|params|0|'"$T/sq.png"' image -'
	'[1,2]|object|0|'"$T/sq.png"' image -'
	'{'"$g"'}|prompt|0|'"$T/sq.png"' image -'
	'{"prompt":"",'"$g"'}|prompt|0|'"$T/sq.png"' image -'
	'{"prompt":"p",'"$g"',"n":11}|n|0|'"$T/sq.png"' image -'
	'{"prompt":"p",'"$g"',"n":"abc"}|n|0|'"$T/sq.png"' image -'
	'{"prompt":"p",'"$g"',"size":"999x999"}|size|0|'"$T/sq.png"' image -'
	'{"prompt":"p",'"$g"',"quality":"ultra"}|quality|0|'"$T/sq.png"' image -'
	'{"prompt":"p",'"$g"',"background":"transparent","output_format":"jpeg"}|background|0|'"$T/sq.png"' image -'
	'{"prompt":"p",'"$g"',"output_format":"webp","output_compression":150}|output_compression|0|'"$T/sq.png"' image -'
	'{"prompt":"p",'"$g"',"partial_images":7}|partial_images|1|'"$T/sq.png"' image -'
	'{"prompt":"p",'"$g"',"response_format":"url"}|response_format|0|'"$T/sq.png"' image -'
	'{"prompt":"p","model":"dall-e-2"}|image|0|'"$T/sq.png"' image - '"$T/sq.png"' image -'
	'{"prompt":"p",'"$g"'}|image|0|'
	'{"prompt":"p",'"$g"'}|image|0|'"$T/text.bin"' image -'
	'{"prompt":"p",'"$g"'}|mask|0|'"$T/sq.png"' image - '"$T/sq.png"' mask -'
	'{"prompt":"p",'"$g"'}|mask|0|'"$T/rgba.png"' image - '"$T/rgba16.png"' mask -'
	'{"prompt":"p",'"$g"'}|image|0|'"$T/sq.png"' image image/jpeg'
	'{"prompt":"'"$long"'","model":"dall-e-2"}|prompt|0|'"$T/sq.png"' image -'
	# the column's stream 1 is "when the model can"; params asking for a
	# stream dall-e-2 cannot give are refused
	'{"prompt":"p","model":"dall-e-2","stream":true}|stream|1|'"$T/sq.png"' image -'
)
start_daemon --concurrency 4
i=0
for spec in "${bad[@]}"; do
	IFS='|' read -r params _ stream files <<<"$spec"
	# shellcheck disable=SC2086
	row "$params" "$stream" $files
	row '{"prompt":"good '$i'",'"$g"',"partial_images":1}' 1 "$T/sq.png" image -
	i=$((i + 1))
done
# a row whose blob_id points nowhere (foreign keys are off in the shell)
sql "INSERT INTO jobs (params) VALUES ('{\"prompt\":\"p\",$g}'); INSERT INTO inputs (job_id, role, ordinal, filename, blob_id) VALUES ((SELECT max(id) FROM jobs), 'image', 0, 'gone.png', 999999);"
wait_jobs_done 60
kill -0 "$DAEMON_PID" || fail "imgeditd died"

assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded' AND params LIKE '%good%'")" 20 "good jobs succeeded"
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='failed' AND error_type='invalid_job'")" 21 "invalid_job failures"
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='failed' AND error_type='invalid_job' AND attempts <= 1")" 21 "no retry loop"
# each failure names what is wrong, in these words exactly (the rows of
# bad in order, then the one whose blob is gone)
mapfile -t reasons <<'EOF'
params: not valid JSON: '[' or '{' expected near 'not'
params: must be a JSON object
prompt: required
prompt: must not be empty
n: must be an integer between 1 and 10, got 11
n: must be an integer between 1 and 10, got "abc"
size: 999x999: width and height must both be positive multiples of 16 for gpt-image-2.6-flare
quality: 'ultra' is not one of low, medium, high, xhigh, max, auto for gpt-image-2.6-flare
background: 'transparent' needs output_format png or webp, got jpeg
output_compression: must be an integer between 0 and 100, got 150
partial_images: must be an integer between 0 and 3, got 7
response_format: not supported by gpt-image-2.6-flare
image: dall-e-2 accepts exactly 1 image, got 2
image: at least one image is required
image: text.bin: not a PNG, JPEG, WebP or GIF image
mask: sq.png: must have an alpha channel (transparent areas mark where to edit)
mask: rgba16.png: 16x16, must match the first image's 32x32
image: sq.png: declared image/jpeg but the bytes are a PNG image
prompt: 1001 characters, at most 1000 allowed for dall-e-2
stream: dall-e-2 does not support streaming
image 0 (gone.png): its bytes are missing (blob_id points to no blob)
EOF
assert_eq "${#reasons[@]}" 21 "reasons listed"
n=0
for id in $(sql "SELECT id FROM jobs WHERE error_type='invalid_job' ORDER BY id"); do
	assert_eq "$(sql "SELECT error_message FROM jobs WHERE id=$id")" "${reasons[$n]}" "job $id's reason"
	n=$((n + 1))
done
assert_eq "$n" 21 "invalid_job reasons checked"
bad_sent=$(grep -c '"prompt": *"p"' "$FAKE_LOG" || true)
assert_eq "$bad_sent" 0 "malformed jobs that reached upstream"
stop_daemon
sql "SELECT id, error_message FROM jobs WHERE error_type='invalid_job'"
pass "21 malformed rows failed as invalid_job with their reasons, 20 good ones succeeded"
