#!/usr/bin/env bash
# The database on a small tmpfs that fills up mid-stream: no crash, no new
# job starts while writes fail, systemd's STATUS says why, nothing stored is
# lost; when space returns (the tmpfs grows) every job finishes with one
# request each and every image sent is stored byte-identical.
. "$(dirname "$0")/lib.sh"

mkdir "$T/fs"
mount -t tmpfs -o size=6m tmpfs "$T/fs" ||
	fail "cannot mount a tmpfs (the test runs as root, as CI does)"
UNMOUNT=$T/fs
DB=$T/fs/q.db
export IMGEDIT_DB=$DB

start_fake --image-bytes 300000 --latency-ms 100
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
submit_jobs 8 "full" --model gpt-image-2.6-flare --partial-images 3 "$T/a.png"
listen_notify "$T/notify.log"
export NOTIFY_SOCKET
start_daemon --concurrency 4 --heartbeat 200ms
unset NOTIFY_SOCKET

for _ in $(seq 1 200); do
	grep -q 'store_waiting op=[a-z]* .*full' "$DAEMON_LOG" && break
	sleep 0.05
done
grep -q 'store_waiting op=[a-z]* .*full' "$DAEMON_LOG" || fail "the disk never filled"
sleep 2
full_requests=$(edit_requests)
[ "$full_requests" -le 4 ] ||
	fail "$full_requests requests: a job started while the disk was full"
grep -q 'STATUS=paused: .*database writes failing for [0-9]* s: database or disk is full' "$T/notify.log" ||
	fail "STATUS never named the full disk: $(grep STATUS "$T/notify.log" | tail -1)"
kill -0 "$DAEMON_PID" || fail "imgeditd died on a full disk"

mount -o remount,size=64m "$T/fs"
wait_jobs_done 60
stop_daemon
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded' AND attempts=1")" 8 "jobs succeeded once"
assert_eq "$(edit_requests)" 8 "upstream requests"
sent=$( (fake_sent_sha partial; fake_sent_sha final) | sort)
stored=$(stored_sha)
assert_eq "$stored" "$sent" "bytes stored vs bytes sent"
assert_eq "$(sql "PRAGMA integrity_check")" ok "integrity"
grep -q 'store_resumed op=image' "$DAEMON_LOG" || fail "no store_resumed after space came back"
pass "a full disk mid-stream: paused, then 8 jobs, 8 requests, 32 images as sent"
