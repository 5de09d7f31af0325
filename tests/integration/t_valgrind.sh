#!/usr/bin/env bash
# imgeditd under valgrind's memcheck through a malformed upstream: bad JSON,
# a stream cut mid-chunk, an error event, a hang (stall timeout), an HTML
# 200, a gzip-encoded body nobody asked for, a short body, then SIGTERM
# with a job in flight: no invalid read or write, no definite leak, exit 0.
# (A plain build only: valgrind cannot run an ASan binary; ./scripts/check
# builds one for this test.)
. "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null || fail "valgrind is missing"
cat >"$T/imgeditd-vg" <<VG
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --show-leak-kinds=definite \
	--log-file="$T/valgrind.log" "$IMGEDITD" "\$@"
VG
chmod +x "$T/imgeditd-vg"
IMGEDITD=$T/imgeditd-vg

start_fake --image-bytes 8000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
for f in garbage cut error-event hang html gzip finals=0 ok; do
	mode="--partial-images 1"
	case $f in html|gzip) mode=--no-stream ;; esac
	"$IMGEDITCTL" submit -p "vg $f [[fault:$f]]" --model gpt-image-2.6-flare $mode \
		--max-attempts 1 "$T/a.png" >/dev/null
done
start_daemon --concurrency 4 --stall-timeout 2s --grace 0
wait_jobs_done 120
# then one in flight when SIGTERM comes (its request reached upstream)
last=$("$IMGEDITCTL" submit -p "in flight [[fault:hang]]" --model gpt-image-2.6-flare \
	--max-attempts 1 "$T/a.png")
fake_wait_requests 9
stop_daemon # exit 0, and valgrind's error exit code is 99
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded'")" 1 "the good job"
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='failed'")" 7 "the malformed ones"
assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$last")" "queued,0" "the job in flight at SIGTERM"
[ -e "$T/valgrind.log" ] || fail "valgrind never ran"
if grep -E 'Invalid|uninitialised|definitely lost|Mismatched' "$T/valgrind.log"; then
	fail "memcheck: $(head -30 "$T/valgrind.log")"
fi
pass "memcheck clean through 7 malformed answers and a SIGTERM"
