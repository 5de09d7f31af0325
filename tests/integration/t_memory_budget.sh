#!/usr/bin/env bash
# --memory-max bounds every image buffer in memory, those being received
# included, and a paused stream holds none: transfers pause between images,
# never in the middle of one. 24 jobs of 4 x 300 kB images at concurrency 8
# against a 1 MiB budget while the writer is the bottleneck: the daemon's
# peak of buffered image bytes (held_peak_mb in its last line) stays within
# the budget plus a few images, not one image per stream on top of it, and
# every image is stored once, byte for byte.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 300000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
submit_jobs 24 "budget" --model gpt-image-2.6-flare --partial-images 3 "$T/a.png"
start_daemon --concurrency 8 --memory-max 1048576 --log-level debug
wait_jobs_done 120
stop_daemon

peak=$(sed -n 's/.*info stopped .*held_peak_mb=\([0-9.]*\).*/\1/p' "$DAEMON_LOG" | tail -1)
[ -n "$peak" ] || fail "no held_peak_mb in the daemon's last line"
# 1 MiB + 3 buffers of 512 KiB (a 300 kB image's): one stream per
# buffer that began while the budget had room; a budget that lets every
# stream hold a buffer on top (8 x 512 KiB) goes past it
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 2.7 else 1)" "$peak" ||
	fail "peak image bytes held $peak MB: want at most the 1 MiB budget plus 3 images"
paused=$(grep -c 'transfer_paused' "$DAEMON_LOG" || true)
[ "$paused" -gt 0 ] || fail "no transfer ever paused: the budget was never reached"
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded' AND attempts=1")" 24 "jobs succeeded once"
assert_eq "$(edit_requests)" 24 "upstream requests"
sent=$( (fake_sent_sha partial; fake_sent_sha final) | sort)
assert_eq "$(sql "SELECT sha256 FROM images ORDER BY sha256")" "$sent" "images stored vs sent"
pass "a 1 MiB budget at concurrency 8: at most $peak MB held, $paused pauses, 96 images stored"
