#!/usr/bin/env bash
# The fake upstream's --derive (the demo's): images made from the job's
# input at the size asked, each different: partials, and the n finals.
. "$(dirname "$0")/lib.sh"

start_fake --derive
"$IMGEDITCTL" init >/dev/null
id=$("$IMGEDITCTL" submit -p "derived" --model gpt-image-2.6-flare --size 1024x1536 --n 2 \
	--partial-images 2 "$SRCDIR/share/sample.png")
start_daemon
wait_jobs_done 60
stop_daemon
assert_eq "$(sql "SELECT group_concat(kind || ':' || width || 'x' || height, ' ') FROM (SELECT * FROM images WHERE job_id=$id ORDER BY kind DESC, idx) AS s")" \
	"partial:1024x1536 partial:1024x1536 final:1024x1536 final:1024x1536" "kinds and sizes"
assert_eq "$(sql "SELECT count(DISTINCT sha256) FROM images WHERE job_id=$id")" 4 "distinct images"
assert_eq "$(stored_sha "$id")" "$(sql "SELECT sha256 FROM images WHERE job_id=$id ORDER BY sha256")" "bytes vs sha256"
pass "--derive: 2 partials and 2 finals of the input, 1024x1536, all different"
