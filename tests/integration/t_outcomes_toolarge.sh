#!/usr/bin/env bash
# An answer over --max-event-bytes is a permanent failure: a stream whose
# event is larger, and a JSON body that is larger, each fail the job with
# error_type response_too_large after one request, not retried.
. "$(dirname "$0")/lib.sh"

# an image of ~20000 bytes is ~27000 in base64: every event is over 8000
start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
p_sse="too large, streamed"
p_json="too large, one JSON body"
sse=$("$IMGEDITCTL" submit -p "$p_sse" --model gpt-image-2.6-flare --max-attempts 3 "$T/a.png")
json=$("$IMGEDITCTL" submit -p "$p_json" --model gpt-image-2.6-flare --no-stream --max-attempts 3 "$T/a.png")
start_daemon --concurrency 2 --max-event-bytes 8000 --retry-base 100ms --retry-max 400ms
wait_jobs_done 30

# check WHAT JOB PROMPT
check() {
	assert_eq "$(sql "SELECT state || ',' || attempts || ',' || coalesce(error_type, 'NULL') FROM jobs WHERE id=$2")" \
		"failed,1,response_too_large" "$1 job over the size limit (state,attempts,error_type)"
	assert_eq "$(edit_requests "$3")" 1 "$1: upstream requests"
	assert_eq "$(sql "SELECT group_concat(outcome || ':' || coalesce(error_type, 'NULL')) FROM attempts WHERE job_id=$2")" \
		"failed:response_too_large" "$1: attempts (outcome:error_type)"
}
check streaming "$sse" "$p_sse"
check non-streaming "$json" "$p_json"
stop_daemon
pass "answers over the size limit fail at once"
