#!/usr/bin/env bash
# Frames the client does not expect around a complete answer change
# nothing: after the last image_edit.completed an event of a newer type, a
# data line that is not JSON or an error frame, and before the first
# partial an image-less event of a new type: each job succeeds with its one
# attempt, its 2 partials and its final stored as sent.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
faults="trailing-event trailing-garbage trailing-error unknown-event"
declare -A job
for f in $faults; do
	job[$f]=$("$IMGEDITCTL" submit -p "$f [[fault:$f]]" --model gpt-image-2.6-flare \
		--n 1 --partial-images 2 --max-attempts 3 "$T/a.png")
done
start_daemon --concurrency 4 --retry-base 100ms --retry-max 400ms
wait_jobs_done 30

for f in $faults; do
	id=${job[$f]}
	assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$id")" "succeeded,1" \
		"$f: job (state,attempts)"
	assert_eq "$(edit_requests "$f [[fault:$f]]")" 1 "$f: upstream requests"
	assert_eq "$(sql "SELECT group_concat(outcome) FROM attempts WHERE job_id=$id")" \
		succeeded "$f: attempt outcomes"
	assert_eq "$(sql "SELECT count(*) FROM images WHERE job_id=$id")" 3 "$f: images stored"
	# nothing after the last final reaches the attempt's row either
	assert_eq "$(sql "SELECT coalesce(error_type, '-') || ',' || coalesce(error_message, '-') || ',' || total_tokens FROM attempts WHERE job_id=$id")" \
		"-,-,1060" "$f: the attempt's error and tokens"
	sent=$( (fake_sent_sha partial "$f [[fault:$f]]"; fake_sent_sha final "$f [[fault:$f]]") | sed '/^$/d' | sort)
	assert_eq "$(echo "$sent" | grep -c .)" 3 "$f: images the fake upstream sent"
	stored=$( (stored_sha "$id" partial; stored_sha "$id" final) | sed '/^$/d' | sort)
	assert_eq "$stored" "$sent" "$f: sha256 of the stored images vs sent"
done
stop_daemon
pass "unknown events, garbage and errors around a complete answer are ignored"
