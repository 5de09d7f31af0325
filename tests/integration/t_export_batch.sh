#!/usr/bin/env bash
# export syncs a batch once: 70 jobs (a partial, a final and job.json
# each) are written with 3 syncfs calls (batches of 32 jobs) and one fsync
# per directory, not one per file, and leave no temporary file behind.
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || fail "strace is missing"
start_fake --image-bytes 4000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 16 16
submit_jobs 70 "batch" --model gpt-image-2.6-flare --partial-images 1 "$T/a.png"
start_daemon --concurrency 8
wait_jobs_done 60
stop_daemon
# LeakSanitizer cannot run under ptrace
ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=fsync,fdatasync,syncfs -o "$T/strace.txt" \
	"$IMGEDITCTL" export --state succeeded --partials -o "$T/out" >"$T/paths.txt"
assert_eq "$(find "$T/out" -type f | wc -l)" 210 "files exported"
assert_eq "$(wc -l <"$T/paths.txt")" 210 "paths printed"
assert_eq "$(find "$T/out" -name '.*tmp*' | wc -l)" 0 "temporary files left"
assert_eq "$(grep -c 'syncfs(' "$T/strace.txt")" 3 "syncfs calls"
assert_eq "$(grep -c 'fsync(' "$T/strace.txt")" 71 "fsync calls (70 job directories and DIR)"
sent=$(fake_sent_sha final)
assert_eq "$(find "$T/out" -name 'final-*' -exec sha256sum {} + | cut -d' ' -f1 | sort)" "$sent" "exported finals"
# on a terminal, a progress line
script -qec "'$IMGEDITCTL' export --state succeeded -o '$T/out2'" /dev/null >"$T/tty.txt" </dev/null
grep -q 'exporting [0-9]*/70 jobs, [0-9]* files written' "$T/tty.txt" ||
	fail "no progress on a terminal: $(tail -c 300 "$T/tty.txt")"
pass "70 jobs exported with 3 syncs of the batch, 71 directory fsyncs; progress on a terminal"
