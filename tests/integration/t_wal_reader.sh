#!/usr/bin/env bash
# A long reader (an export, a shell left in a transaction) holds a snapshot:
# no checkpoint can pass it, so the WAL grows by every image stored meanwhile.
# Once it lets go the WAL must come back under imgeditd's journal_size_limit
# (64 MiB) within seconds, and nothing stored meanwhile may be lost.
. "$(dirname "$0")/lib.sh"

LIMIT=$((64 * 1024 * 1024))   # imgeditd's journal_size_limit
HOLD_S=20
# the WAL's frames are copied into the database before it can be cut:
# ~470 MB here, a second on an idle machine, a few under load
WITHIN_S=10

wal_size() { stat -c %s "$DB-wal" 2>/dev/null || echo 0; }

start_fake --image-bytes 1500000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 16 16
mkdir "$T/in"
for i in $(seq 1 100); do ln -s ../a.png "$T/in/$i.png"; done
# 100 streamed jobs, each a partial and a final image: 200 images, ~300 MB
"$IMGEDITCTL" submit --each -p "wal reader" --model gpt-image-2.6-flare \
	--partial-images 1 "$T"/in/*.png >/dev/null

# the reader: a snapshot taken before any image is stored, kept HOLD_S s;
# it says what it still saw at the end (0 images: it held the snapshot)
python3 - "$DB" "$HOLD_S" "$T/reader.ready" "$T/reader.done" \
	>"$T/reader.log" 2>&1 <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.execute("BEGIN")
db.execute("SELECT count(*) FROM images").fetchone()
open(sys.argv[3], "w").close()
time.sleep(float(sys.argv[2]))
seen = db.execute("SELECT count(*) FROM images").fetchone()[0]
db.execute("COMMIT")
db.close()
open(sys.argv[4], "w").write("%d\n" % seen)
PY
HOLDER_PID=$!
for i in $(seq 1 100); do [ -e "$T/reader.ready" ] && break; sleep 0.05; done
[ -e "$T/reader.ready" ] || fail "the reader did not start: $(cat "$T/reader.log")"

start_daemon --concurrency 8
t0=$SECONDS
peak=0
while [ ! -e "$T/reader.done" ]; do
	kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon died"
	kill -0 "$HOLDER_PID" 2>/dev/null || [ -e "$T/reader.done" ] ||
		fail "the reader died: $(cat "$T/reader.log")"
	size=$(wal_size)
	[ "$size" -gt "$peak" ] && peak=$size
	sleep 0.2
done
let_go_ns=$(date +%s%N)
wait "$HOLDER_PID" || fail "the reader failed: $(cat "$T/reader.log")"
HOLDER_PID=
assert_eq "$(cat "$T/reader.done")" 0 "images the reader's snapshot saw"
stored_while_held=$(sql "SELECT count(*) FROM images")
echo "reader held ${HOLD_S} s: $stored_while_held images stored meanwhile, WAL peak $peak bytes"
# the test means something only if the reader made the WAL pass the limit
[ "$peak" -gt $((2 * LIMIT)) ] ||
	fail "the WAL peaked at $peak bytes while the reader held: too little to test"

wait_jobs_done 60
# from the later of the reader letting go and the last job done
t1=$SECONDS
until [ "$(wal_size)" -le "$LIMIT" ]; do
	[ $((SECONDS - t1)) -lt $WITHIN_S ] ||
		fail "the WAL is still $(wal_size) bytes $WITHIN_S s after the reader let go (limit $LIMIT)"
	sleep 0.1
done
after=$(wal_size)
# once the writer is idle it truncates the WAL (not only down to the limit)
until [ "$(wal_size)" -le $((8 * 1024 * 1024)) ]; do
	[ $((SECONDS - t1)) -lt $WITHIN_S ] ||
		fail "the idle daemon left the WAL at $(wal_size) bytes"
	sleep 0.1
done
idle=$(wal_size)
idle_ms=$((($(date +%s%N) - let_go_ns) / 1000000))
# logged just after the file is cut: the writer may not have run since
until grep wal_truncated "$DAEMON_LOG"; do
	[ $((SECONDS - t1)) -lt 10 ] || fail "no wal_truncated in the daemon's log"
	sleep 0.1
done

assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state = 'succeeded'")" 100 "jobs succeeded"
assert_eq "$(sql "SELECT count(*) FROM images")" 200 "images stored"
sent=$( (fake_sent_sha partial; fake_sent_sha final) | sort)
assert_eq "$(stored_sha)" "$sent" "sha256 of the stored images against what the fake sent"
stop_daemon
assert_eq "$(sql "PRAGMA integrity_check")" ok "integrity_check"
pass "WAL peak $peak bytes behind the reader, $after then $idle bytes ${idle_ms} ms after it let go; all 200 images stored whole in $((SECONDS - t0)) s"
