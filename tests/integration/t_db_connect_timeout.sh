#!/usr/bin/env bash
# db-connect-timeout bounds the daemon's PostgreSQL connection attempts: a
# server that accepts and never answers (a black-holed or wedged host) makes
# imgeditd give up after the setting, not after libpq's or a fixed 10 s,
# and say which database it could not open. No PostgreSQL is needed: a
# loopback listener that never speaks is that server.
. "$(dirname "$0")/lib.sh"

python3 - "$T/silent.port" <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
held = []
end = time.time() + 60
while time.time() < end:
    s.settimeout(1)
    try:
        held.append(s.accept()[0])   # accepted, never answered
    except socket.timeout:
        pass
PY
SILENT_PID=$!
trap 'kill $SILENT_PID 2>/dev/null' EXIT
for _ in $(seq 1 50); do [ -s "$T/silent.port" ] && break; sleep 0.1; done
[ -s "$T/silent.port" ] || fail "the silent listener did not start"
uri="postgresql://imgedit@127.0.0.1:$(cat "$T/silent.port")/imgedit"

# elapsed ms of imgeditd giving up on that server with ARGS; its exit status
# in $T/rc, its log in $T/d.log
try_start() {
	local t0 t1
	t0=$(date +%s%3N)
	OPENAI_API_KEY=sk-test "$IMGEDITD" --db "$uri" "$@" >"$T/d.log" 2>&1
	echo $? >"$T/rc"
	t1=$(date +%s%3N)
	echo $((t1 - t0))
}

ms=$(try_start --db-connect-timeout 2s)
[ "$(cat "$T/rc")" != 0 ] || fail "imgeditd started on a server that never answers"
grep -q 'db_open_failed backend=postgresql' "$T/d.log" ||
	fail "no db_open_failed line: $(cat "$T/d.log")"
[ "$ms" -ge 1800 ] || fail "gave up after $ms ms, before the 2 s it was given"
[ "$ms" -le 4500 ] || fail "gave up after $ms ms with db-connect-timeout 2s"

ms5=$(try_start)   # the default
[ "$(cat "$T/rc")" != 0 ] || fail "imgeditd started on a server that never answers"
[ "$ms5" -ge 4800 ] || fail "the default gave up after $ms5 ms, before its 5 s"
[ "$ms5" -le 7500 ] || fail "the default gave up after $ms5 ms (want 5 s)"

OPENAI_API_KEY=sk-test "$IMGEDITD" --db "$uri" --db-connect-timeout 500ms >"$T/d.log" 2>&1 &&
	fail "a db-connect-timeout under 1s was accepted"
grep -q 'db-connect-timeout' "$T/d.log" || fail "the bad value is not named: $(cat "$T/d.log")"
pass "a silent server: given up after $ms ms (2s) and $ms5 ms (default 5s)"
