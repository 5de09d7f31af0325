#!/usr/bin/env bash
# Another program holds the write lock for 20 s while 8 streaming jobs (3
# partials + final each) run: all 8 succeed with exactly 8 upstream
# requests, every image sent is stored byte-identical, and the event loop
# keeps running meanwhile: systemd's watchdog pings (on a test NOTIFY_SOCKET)
# never stop for 2 s, and the STATUS line says the database is locked.
. "$(dirname "$0")/lib.sh"

LOCK_S=${LOCK_S:-20}
start_fake --image-bytes 20000 --latency-ms 400
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
submit_jobs 8 "locked" --model gpt-image-2.6-flare --partial-images 3 "$T/a.png"
listen_notify "$T/notify.log"
export NOTIFY_SOCKET WATCHDOG_USEC=1000000
start_daemon --concurrency 8 --heartbeat 500ms
unset NOTIFY_SOCKET WATCHDOG_USEC
fake_wait_requests 8
hold_lock "$LOCK_S"
t_lock=$(date +%s%3N)
sleep 1.5
"$IMGEDITCTL" status >"$T/status.txt" 2>&1 || true
wait "$HOLDER_PID" || fail "the lock holder failed: $(cat "$T/holder.log")"
HOLDER_PID=
t_unlock=$(date +%s%3N)
wait_jobs_done 60
stop_daemon

assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded' AND attempts=1")" 8 \
	"jobs succeeded with one attempt"
assert_eq "$(edit_requests)" 8 "upstream requests for 8 jobs"
assert_eq "$(sql "SELECT count(*) FROM attempts")" 8 "attempt rows"
assert_eq "$(sql "SELECT count(*) FROM images")" 32 "images stored (4 per job)"
sent=$( (fake_sent_sha partial; fake_sent_sha final) | sort)
stored=$(stored_sha)
assert_eq "$stored" "$sent" "bytes stored vs bytes sent"

# the loop went on: watchdog pings all through the lock, no gap over 2 s
python3 - "$T/notify.log" "$t_lock" "$t_unlock" <<'PY' || fail "the event loop stalled during the lock"
import sys
lock, unlock = int(sys.argv[2]), int(sys.argv[3])
pings = [int(l.split()[0]) for l in open(sys.argv[1]) if "WATCHDOG=1" in l]
during = [t for t in pings if lock <= t <= unlock]
gaps = [b - a for a, b in zip(pings, pings[1:]) if b >= lock and a <= unlock]
print("pings during the lock: %d, longest gap %d ms" % (len(during), max(gaps)))
if len(during) < (unlock - lock) / 1000 or max(gaps) > 2000:
    sys.exit(1)
PY
grep -q 'STATUS=.*database locked by another program for [0-9]* s' "$T/notify.log" ||
	fail "the STATUS line never said the database was locked: $(grep STATUS "$T/notify.log" | tail -2)"
grep -q 'another connection holds the write lock now; the daemons last wrote' "$T/status.txt" ||
	fail "imgeditctl status during the lock does not say so: $(cat "$T/status.txt")"
pass "8 jobs, 8 requests, 32 images stored as sent through a ${LOCK_S} s lock; loop never stalled"
