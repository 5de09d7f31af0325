#!/usr/bin/env bash
# serve out of descriptors (ulimit -n 40, 60 /events clients) neither
# spins on accept() nor floods its log: connections past the cap are told
# 503, accept errors back off, and the page still answers; under 1 s of
# CPU over 10 s.
. "$(dirname "$0")/lib.sh"

"$IMGEDITCTL" init >/dev/null
(
	ulimit -n 40
	exec "$IMGEDITCTL" --db "$DB" serve --listen 127.0.0.1:0 \
		>"$T/serve.out" 2>"$T/serve.err"
) &
SERVE_PID=$!
EXTRA_PIDS="$SERVE_PID"
for i in $(seq 1 100); do
	U=$(sed -n 's/^serving .* at //p' "$T/serve.out")
	[ -n "$U" ] && break
	kill -0 "$SERVE_PID" 2>/dev/null || fail "serve died: $(cat "$T/serve.err")"
	sleep 0.05
done
[ -n "$U" ] || fail "serve printed no address"
port=${U##*:}
port=${port%/}

# 60 browsers on /events, held open for 12 s
python3 - "$port" 60 12 >"$T/clients.out" 2>&1 <<'PY' &
import socket, sys, time
port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for i in range(n):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        socks.append(s)
    except OSError as e:
        print("connect", i, e)
print("open", len(socks), flush=True)
time.sleep(hold)
PY
CLIENTS=$!
EXTRA_PIDS="$EXTRA_PIDS $CLIENTS"
sleep 1
cpu() { awk '{print $14 + $15}' "/proc/$SERVE_PID/stat"; }
t0=$(cpu)
answered=0
for i in $(seq 1 10); do
	code=$(curl -sS -m 2 -o /dev/null -w '%{http_code}' "$U" 2>/dev/null || true)
	[ "$code" = 200 ] && answered=$((answered + 1))
	sleep 0.9
done
t1=$(cpu)
ticks=$(getconf CLK_TCK)
cpu_s=$(python3 -c "print(($t1 - $t0) / $ticks)")
log_bytes=$(stat -c %s "$T/serve.err")
echo "answered $answered/10; CPU ${cpu_s}s over ~10 s; log ${log_bytes} bytes"
kill -0 "$SERVE_PID" || fail "serve died: $(tail -3 "$T/serve.err")"
[ "$answered" -ge 8 ] || fail "GET / answered $answered of 10 times"
python3 -c "import sys; sys.exit(0 if $cpu_s < 1.0 else 1)" ||
	fail "serve spent ${cpu_s}s of CPU in 10 s: $(head -c 300 "$T/serve.err")"
[ "$log_bytes" -lt 10000 ] || fail "serve wrote $log_bytes bytes of log: $(head -c 300 "$T/serve.err")"
kill "$CLIENTS" 2>/dev/null || true
kill -TERM "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
assert_eq "$rc" 0 "serve's exit status: $(tail -3 "$T/serve.err")"
pass "60 /events clients under ulimit -n 40: / answered $answered/10, ${cpu_s}s CPU"
