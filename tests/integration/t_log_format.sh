#!/usr/bin/env bash
# Every line the daemon logs parses as "imgeditd: LEVEL event key=value...",
# values bare or double-quoted with \-escapes, however hostile what they
# carry: a database path with a space and a quote, upstream error messages
# and types with quotes, newlines, backslashes and key=value inside, an
# operator's pause reason, a 401's message.
. "$(dirname "$0")/lib.sh"

mkdir "$T/my \"dir"
DB="$T/my \"dir/q.db"
export IMGEDIT_DB=$DB
start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
"$IMGEDITCTL" submit -p 'msg [[fault:status=400,message=say "hi" a=b \ x
y=z,type=bad type]]' --model gpt-image-2.6-flare "$T/a.png" >/dev/null
"$IMGEDITCTL" submit -p 'auth [[fault:auth,message=no "key" k=v;ok]]' --model gpt-image-2.6-flare \
	"$T/a.png" >/dev/null
"$IMGEDITCTL" submit -p 'fine' --model gpt-image-2.6-flare --partial-images 1 "$T/a.png" >/dev/null
IMGEDIT_STORE_FAULTS=image:1:busy:25 \
	start_daemon --concurrency 1 --pause-probe 200ms --log-level debug
"$IMGEDITCTL" pause 'reason "quoted" r=1' >/dev/null
sleep 0.5
"$IMGEDITCTL" resume >/dev/null
wait_jobs_done 30
kill -HUP "$DAEMON_PID"
sleep 0.3
stop_daemon
python3 - "$DAEMON_LOG" <<'PY' || fail "log lines that do not parse (above)"
import re, sys
value = r'(?:"(?:[^"\\]|\\.)*"|[^\s"=]+)'
line_re = re.compile(r'^imgeditd: (debug|info|warn|error) [a-z_]+(?: [a-z0-9_]+=' + value + r')*$')
bad = [l.rstrip("\n") for l in open(sys.argv[1]) if not line_re.match(l.rstrip("\n"))]
n = sum(1 for _ in open(sys.argv[1]))
for l in bad:
    print("unparsed:", l[:300])
print("%d lines, %d do not parse" % (n, len(bad)))
sys.exit(1 if bad or n < 20 else 0)
PY
grep -q 'error_type="bad type"' "$DAEMON_LOG" || fail "the hostile type was not logged quoted"
grep -q 'store_waiting op=image' "$DAEMON_LOG" || fail "no store_waiting line was checked"
pass "every log line parses as key=value, hostile values included"
