#!/usr/bin/env bash
# Backpressure, not loss: while another program holds the lock, image bytes
# wait in memory only up to --memory-max, which counts the images being
# received as well (plus the image each stream was finishing); past it the
# transfers pause, and go on when the commits catch up. 4 jobs of 4 x 300 kB
# images against a 1 MiB budget: the STATUS line never shows more than
# 2.3 MB waiting, the daemon never held more than the budget plus one image
# buffer (512 KiB) per stream, and every image ends up stored.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 300000 --latency-ms 1000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
submit_jobs 4 "budget" --model gpt-image-2.6-flare --partial-images 3 "$T/a.png"
listen_notify "$T/notify.log"
export NOTIFY_SOCKET
start_daemon --concurrency 4 --heartbeat 100ms --memory-max 1048576
unset NOTIFY_SOCKET
fake_wait_requests 4
lock_for 8
wait_jobs_done 60
stop_daemon

peak=$(sed -n 's/.*STATUS=.*, \([0-9.]*\) MB waiting to be stored.*/\1/p' "$T/notify.log" |
	sort -n | tail -1)
[ -n "$peak" ] || fail "nothing ever waited to be stored"
python3 -c "import sys; p = float(sys.argv[1]); sys.exit(0 if 0.3 <= p <= 2.3 else 1)" "$peak" ||
	fail "peak bytes waiting $peak MB: want at least an image, at most the 1 MiB budget plus one image per stream"
held=$(sed -n 's/.*info stopped .*held_peak_mb=\([0-9.]*\).*/\1/p' "$DAEMON_LOG" | tail -1)
python3 -c "import sys; h = float(sys.argv[1]); sys.exit(0 if 1.0 <= h <= 3.2 else 1)" "${held:-0}" ||
	fail "peak bytes held ${held:-none} MB: want the 1 MiB budget reached, and at most 4 buffers of 512 KiB past it"
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded' AND attempts=1")" 4 "jobs succeeded once"
assert_eq "$(edit_requests)" 4 "upstream requests"
sent=$( (fake_sent_sha partial; fake_sent_sha final) | sort)
assert_eq "$(sql "SELECT sha256 FROM images ORDER BY sha256")" "$sent" "images stored vs sent"
pass "a 1 MiB budget through an 8 s lock: at most $peak MB waited, $held MB held, 16 images stored"
