#!/usr/bin/env bash
# schema/README.md's examples, run exactly as written with the sqlite3 shell
# against a live daemon: the enqueued job succeeds and its images are read
# back with the documented query.
. "$(dirname "$0")/lib.sh"

example() { # NAME: the fenced SQL between <!-- example:NAME --> and <!-- /example -->
	sed -n "/<!-- example:$1 -->/,/<!-- \/example -->/p" "$SRCDIR/schema/README.md" |
		sed '/^<!--/d; /^```/d'
}
example enqueue >"$T/enqueue.sql"
example results >"$T/results.sql"
[ -s "$T/enqueue.sql" ] && [ -s "$T/results.sql" ] || fail "examples not found in schema/README.md"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
start_daemon
mkpng "$T/photo.png" 64 64
job=$(cd "$T" && sqlite3 "$DB" <"$T/enqueue.sql")
[ "$job" -ge 1 ] 2>/dev/null || fail "the enqueue example printed '$job', not a job id"
wait_jobs_done 30
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$job")" succeeded "state of the README's job"

rows=$(sqlite3 -separator ' ' -cmd ".parameter set :job $job" "$DB" <"$T/results.sql")
assert_eq "$(echo "$rows" | wc -l)" 1 "rows of the results query"
read -r rjob kind idx format w h size sha image_id <<<"$rows"
assert_eq "$rjob $kind $idx $format" "$job final 0 png" "result row"
sql "SELECT writefile('$T/out.png', data) FROM images WHERE id = $image_id" >/dev/null
assert_eq "$(sha256sum "$T/out.png" | cut -d' ' -f1)" "$sha" "bytes read back vs sha256"
assert_eq "$(stat -c %s "$T/out.png")" "$size" "size read back"
fake_sent_sha final | grep -qx "$sha" || fail "the result is not what upstream sent"
assert_eq "$(sql "SELECT count(*) FROM job_images WHERE job_id=$job AND kind='partial'")" 2 "partials of the README's job"
stop_daemon
pass "README example job $job: ${w}x$h png, $size bytes, read back intact"
