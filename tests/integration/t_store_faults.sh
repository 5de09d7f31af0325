#!/usr/bin/env bash
# The store's fault seam (IMGEDIT_STORE_FAULTS) fails writes the way a disk
# or another program would: the 3rd image write gets "disk full" 8 times,
# a claim meets a lock, an attempt's end and an answer get I/O errors.
# Every write is tried again until it commits: no crash, nothing lost, no
# second request; while the disk is "full" the daemon starts nothing new
# and says why (daemons.pause_reason, imgeditctl status).
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000 --latency-ms 100
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
submit_jobs 6 "faults" --model gpt-image-2.6-flare --partial-images 2 "$T/a.png"
IMGEDIT_STORE_FAULTS="image:3:full:8,claim:4:busy:25,finish:2:ioerr:3,answered:2:ioerr:2" \
	start_daemon --concurrency 2 --heartbeat 200ms
grep -q 'fault_injection' "$DAEMON_LOG" || fail "the daemon did not take the fault spec"

# while the image write fails, the reason reaches the daemons row, and
# imgeditctl status says it (polled: the fault lasts 8 tries)
seen= said=
for _ in $(seq 1 100); do
	r=$(sql "SELECT coalesce(pause_reason,'') FROM daemons WHERE stopped_at IS NULL")
	case $r in *"database writes failing"*"full"*) seen=$r ;; esac
	"$IMGEDITCTL" status >"$T/status.txt" 2>&1 || true
	grep -q 'database writes failing' "$T/status.txt" && said=1
	[ -n "$seen" ] && [ -n "$said" ] && break
	sleep 0.1
done
[ -n "$seen" ] || fail "no pause reason for the full disk (last: '$r')"
[ -n "$said" ] || fail "imgeditctl status never said 'database writes failing' while the disk was full (last: $(cat "$T/status.txt"))"
wait_jobs_done 60
stop_daemon

assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded' AND attempts=1")" 6 "jobs succeeded once"
assert_eq "$(edit_requests)" 6 "upstream requests"
assert_eq "$(sql "SELECT count(*) FROM images")" 18 "images (2 partials + final each)"
sent=$( (fake_sent_sha partial; fake_sent_sha final) | sort)
assert_eq "$(sql "SELECT sha256 FROM images ORDER BY sha256")" "$sent" "images stored vs sent"
assert_eq "$(sql "SELECT count(*) FROM attempts WHERE outcome='succeeded' AND http_status=200 AND request_id IS NOT NULL")" 6 \
	"attempts closed with their answer"
for op in image claim finish answered; do
	grep -q "store_waiting op=$op" "$DAEMON_LOG" || fail "no store_waiting for $op"
	grep -q "store_resumed op=$op" "$DAEMON_LOG" || fail "no store_resumed for $op"
done
grep -q 'database or disk is full' "$DAEMON_LOG" || fail "the full disk was not named in the log"
pass "full, busy and I/O errors on 4 kinds of write: 6 jobs, 6 requests, 18 images, paused while full"
