#!/usr/bin/env bash
# The WAL stays bounded while the daemon writes without pause (a checkpoint
# that never completes lets the WAL grow by every image written). ~330 MB of images; the WAL file may
# not pass 3 checkpoint marks (3 x 1000 pages of 64 KiB = 196 MB).
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 1000000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 16 16
mkdir "$T/in"
for i in $(seq 1 80); do ln -s ../a.png "$T/in/$i.png"; done
"$IMGEDITCTL" submit --each -p "wal" --model gpt-image-2.6-flare --partial-images 3 \
	"$T"/in/*.png >/dev/null
start_daemon --concurrency 8
max=0
while [ "$(sql "SELECT count(*) FROM jobs WHERE state <> 'succeeded'")" != 0 ]; do
	kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon died"
	size=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
	[ "$size" -gt "$max" ] && max=$size
	[ $SECONDS -lt 240 ] || fail "jobs unfinished after 240 s"
	sleep 0.2
done
stop_daemon
stored=$(sql "SELECT sum(size) FROM images")
assert_eq "$(sql "SELECT count(*) FROM images")" 320 "images stored"
[ "$stored" -gt 300000000 ] || fail "only $stored image bytes stored"
[ "$max" -lt $((3 * 1000 * 65536)) ] ||
	fail "the WAL grew to $max bytes while $stored bytes of images were stored"
assert_eq "$(sql "PRAGMA integrity_check")" ok "integrity_check"
pass "$stored bytes of images stored; the WAL peaked at $max bytes"
