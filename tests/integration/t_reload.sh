#!/usr/bin/env bash
# SIGHUP applies what can change at run time: the base URL and the rate
# limit changed in the settings file take effect for the next requests
# (the next one goes to a second upstream, and rpm 1 holds the one after
# it back), and each changed setting is logged as applied or as needing a
# restart (the lease).
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
first=$BASE_URL first_log=$FAKE_LOG
FAKE_LOG=$T/fake2.jsonl
"$FAKE_UPSTREAM" --port 0 --key sk-test --log "$FAKE_LOG" --image-bytes 20000 \
	>"$T/fake2.out" 2>"$T/fake2.err" &
second_pid=$!
EXTRA_PIDS=$second_pid
for _ in $(seq 1 100); do
	port=$(sed -n 's/^port=//p' "$T/fake2.out" | head -1)
	[ -n "$port" ] && break
	sleep 0.05
done
[ -n "$port" ] || fail "the second fake upstream printed no port"
second=http://127.0.0.1:$port/v1
FAKE_LOG=$first_log

"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
printf 'db = %s\nbase-url = %s\nrpm = 0\nlease = 60s\n' "$DB" "$first" >"$T/imgeditd.conf"
OPENAI_API_KEY=sk-test "$IMGEDITD" --config "$T/imgeditd.conf" >>"$DAEMON_LOG" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 1 100); do grep -q 'info started' "$DAEMON_LOG" && break; sleep 0.05; done
"$IMGEDITCTL" submit -p "before" --model gpt-image-2.6-flare "$T/a.png" >/dev/null
wait_jobs_done 20

printf 'db = %s\nbase-url = %s\nrpm = 1\nlease = 30s\n' "$DB" "$second" >"$T/imgeditd.conf"
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 100); do grep -q 'info reloaded' "$DAEMON_LOG" && break; sleep 0.05; done
grep -q "info setting key=base-url old=\"$first\" new=\"$second\" action=applied" "$DAEMON_LOG" ||
	fail "base-url change not logged: $(grep setting "$DAEMON_LOG")"
grep -q 'info setting key=rpm old="0" new="1" action=applied' "$DAEMON_LOG" ||
	fail "rpm change not logged"
grep -q 'info setting key=lease old="60000ms" new="30000ms" action=needs_restart' "$DAEMON_LOG" ||
	fail "lease change not logged as needing a restart"
a=$("$IMGEDITCTL" submit -p "after 1" --model gpt-image-2.6-flare "$T/a.png")
b=$("$IMGEDITCTL" submit -p "after 2" --model gpt-image-2.6-flare "$T/a.png")
for _ in $(seq 1 100); do [ "$(sql "SELECT state FROM jobs WHERE id=$a")" = succeeded ] && break; sleep 0.05; done
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$a")" succeeded "the first job after the reload"
sleep 3
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$b")" queued "the second, held back by rpm 1"
assert_eq "$(FAKE_LOG=$T/fake2.jsonl edit_requests)" 1 "requests to the new base URL"
assert_eq "$(edit_requests)" 1 "requests to the old one (before the reload only)"
stop_daemon
pass "SIGHUP: base URL and rpm applied to the next requests, lease said to need a restart"
