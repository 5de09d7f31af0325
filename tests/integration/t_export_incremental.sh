#!/usr/bin/env bash
# A nightly export: --skip-existing writes nothing the second time (same
# name, same bytes: skipped and counted), rewrites a file whose bytes
# changed, and --since takes only the jobs finished since then.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
submit_jobs 3 "night" --model gpt-image-2.6-flare --partial-images 1 "$T/a.png"
start_daemon
wait_jobs_done 30
"$IMGEDITCTL" export --state succeeded --partials --skip-existing -o "$T/out" >/dev/null 2>"$T/err1"
grep -q "6 image files written, 0 already there" "$T/err1" || fail "first export: $(cat "$T/err1")"
stamp=$(stat -c %Y.%i "$T"/out/*/final-0.png | sort)
sleep 1.1
"$IMGEDITCTL" export --state succeeded --partials --skip-existing -o "$T/out" >/dev/null 2>"$T/err2"
grep -q "0 image files written, 6 already there" "$T/err2" || fail "second export: $(cat "$T/err2")"
assert_eq "$(stat -c %Y.%i "$T"/out/*/final-0.png | sort)" "$stamp" "finals untouched"
printf 'changed' >>"$T/out/1/final-0.png"
"$IMGEDITCTL" export --state succeeded --partials --skip-existing -o "$T/out" >/dev/null 2>"$T/err3"
grep -q "1 image files written, 5 already there" "$T/err3" || fail "after a change: $(cat "$T/err3")"
assert_eq "$(sha256sum <"$T/out/1/final-0.png" | cut -d' ' -f1)" \
	"$(sql "SELECT sha256 FROM images WHERE job_id=1 AND kind='final'")" "the rewritten file"

since=$(date +%s)
sleep 1.1
new=$("$IMGEDITCTL" submit -p "the next night" --model gpt-image-2.6-flare "$T/a.png")
wait_jobs_done 30
stop_daemon
"$IMGEDITCTL" export --state succeeded --since "$since" -o "$T/new" >"$T/new.txt"
assert_eq "$(ls "$T/new")" "$new" "jobs exported --since"
pass "--skip-existing skips what is there, rewrites what changed; --since takes only the new"
