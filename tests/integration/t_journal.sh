#!/usr/bin/env bash
# When stderr is the journal (JOURNAL_STREAM names its device and inode),
# each record goes to journald's native socket with structured fields:
# JOB_ID, ATTEMPT, OUTCOME, HTTP_STATUS, REQUEST_ID, IMGEDIT_EVENT, the
# PRIORITY of its level, MESSAGE the key=value text; nothing on stderr. A
# hostile upstream message stays inside MESSAGE and forges no field. When
# JOURNAL_STREAM names another file, lines go to stderr as before; when
# journald is gone, they go to stderr with their <N> priority prefix.
# No systemd here: the daemon runs in a private mount namespace where
# /run/systemd/journal is a directory of ours, its socket a listener that
# keeps every datagram (libsystemd's path is fixed).
. "$(dirname "$0")/lib.sh"

command -v unshare >/dev/null || fail "unshare (util-linux) is missing"
unshare --mount true 2>/dev/null ||
	fail "unshare --mount failed (the test runs as root, as CI does)"
JDIR=$T/journal
JLOG=$T/journal.b64
mkdir "$JDIR"

# listen_journal: every datagram on $JDIR/socket, base64, one a line.
listen_journal() {
	python3 - "$JDIR/socket" "$JLOG" <<'PY' &
import base64, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind(sys.argv[1])
with open(sys.argv[2], "w", buffering=1) as out:
    while True:
        out.write(base64.b64encode(s.recv(1 << 20)).decode() + "\n")
PY
	EXTRA_PIDS="${EXTRA_PIDS:-} $!"
	local i
	for i in $(seq 1 100); do
		[ -S "$JDIR/socket" ] && return 0
		sleep 0.05
	done
	fail "the journal listener did not start"
}

# journal_daemon STREAM OUT ARGS...: imgeditd with stderr to OUT, in a mount
# namespace where /run/systemd/journal is $JDIR; JOURNAL_STREAM is STREAM,
# or "stderr" for OUT's own dev:inode as systemd sets it (decimal st_dev).
journal_daemon() {
	local stream=$1 out=$2
	shift 2
	: >"$out"
	OPENAI_API_KEY=sk-test unshare --mount bash -c '
		set -e
		jdir=$1 stream=$2
		shift 2
		if [ -d /run/systemd/journal ]; then :
		elif [ -d /run/systemd ]; then mount -t tmpfs tmpfs /run/systemd
		else mount -t tmpfs tmpfs /run
		fi
		mkdir -p /run/systemd/journal
		mount --bind "$jdir" /run/systemd/journal
		[ "$stream" = stderr ] && stream=$(stat -L -c "%d:%i" /proc/self/fd/2)
		JOURNAL_STREAM=$stream exec "$@"' sh "$JDIR" "$stream" \
		"$IMGEDITD" --db "$DB" --base-url "$BASE_URL" "$@" 2>"$out" &
	DAEMON_PID=$!
}

# journal_records: the datagrams so far as JSON lines, one per record
# ({"FIELD": "value", ...}); fails on a datagram that does not parse as the
# native protocol, or that names a field twice.
journal_records() {
	python3 - "$JLOG" <<'PY'
import base64, json, re, struct, sys
for line in open(sys.argv[1]):
    d, rec, i = base64.b64decode(line), {}, 0
    while i < len(d):
        nl = d.index(b"\n", i)
        head = d[i:nl]
        if b"=" in head:
            name, value = head.split(b"=", 1)
            i = nl + 1
        else:
            name = head
            (n,) = struct.unpack("<Q", d[nl + 1:nl + 9])
            value = d[nl + 9:nl + 9 + n]
            if d[nl + 9 + n:nl + 10 + n] != b"\n":
                sys.exit("binary field %r not ended by a newline" % name)
            i = nl + 10 + n
        name = name.decode()
        if not re.fullmatch(r"[A-Z0-9_]+", name) or name in rec:
            sys.exit("bad or repeated field %r in %r" % (name, d[:300]))
        rec[name] = value.decode(errors="replace")
    print(json.dumps(rec))
PY
}

# wait_record FIELD=VALUE: until a record has it (10 s), the daemon alive.
wait_record() {
	local deadline=$((SECONDS + 10))
	while [ $SECONDS -lt $deadline ]; do
		journal_records | grep -qF "\"${1%%=*}\": \"${1#*=}\"" && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || fail "imgeditd died: $(cat "$T/stderr.log")"
		sleep 0.05
	done
	fail "no journal record with $1"
}

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
sub() { "$IMGEDITCTL" submit --model gpt-image-2.6-flare "$@" "$T/a.png"; }
ok=$(sub -p "fine")
again=$(sub -p "again [[fault:status=500;ok]]")
bad=$(sub -p 'bad [[fault:status=400,message=no "way" a=b \ x
FORGED=1
PRIORITY=0
JOB_ID=999,type=bad type]]')
listen_journal
journal_daemon stderr "$T/stderr.log" --concurrency 1 --retry-base 100ms
wait_record IMGEDIT_EVENT=started
wait_jobs_done 30
stop_daemon
[ ! -s "$T/stderr.log" ] || fail "stderr while the journal took the records: $(head -3 "$T/stderr.log")"
journal_records >"$T/records.json" || fail "a datagram does not parse (above)"
python3 - "$T/records.json" "$ok" "$again" "$bad" <<'PY' || fail "the journal records are not right (above)"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ok, again, bad = sys.argv[2:5]
allowed = {"MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "IMGEDIT_EVENT", "JOB_ID",
           "ATTEMPT", "OUTCOME", "HTTP_STATUS", "REQUEST_ID"}
errors = []
def want(cond, what):
    if not cond:
        errors.append(what)
for r in recs:
    want(set(r) <= allowed, "fields beyond the known ones: %s" % sorted(set(r) - allowed))
    want(r.get("SYSLOG_IDENTIFIER") == "imgeditd", "SYSLOG_IDENTIFIER: %r" % r)
    want(r.get("PRIORITY") in ("3", "4", "6", "7"), "PRIORITY: %r" % r)
    want(r.get("MESSAGE", "").startswith(r.get("IMGEDIT_EVENT", "?") + " "),
         "MESSAGE does not start with the event: %r" % r)
    want("sk-test" not in json.dumps(r), "the API key in a record")
ends = {}
for r in recs:
    if r.get("IMGEDIT_EVENT") == "attempt_end":
        ends.setdefault(r.get("JOB_ID"), []).append(r)
def check(job, attempt, outcome, http, prio):
    rs = [r for r in ends.get(job, []) if r.get("ATTEMPT") == attempt]
    want(len(rs) == 1, "job %s attempt %s: %d attempt_end records" % (job, attempt, len(rs)))
    for r in rs:
        got = (r.get("OUTCOME"), r.get("HTTP_STATUS"), r.get("PRIORITY"))
        want(got == (outcome, http, prio), "job %s attempt %s: %r, want %r" %
             (job, attempt, got, (outcome, http, prio)))
        want(r.get("REQUEST_ID", "").startswith("req_"), "no REQUEST_ID: %r" % r)
        want("job=%s attempt=%s " % (job, attempt) in r["MESSAGE"], "MESSAGE: %r" % r)
check(ok, "1", "succeeded", "200", "6")
check(again, "1", "retry", "500", "6")
check(again, "2", "succeeded", "200", "6")
check(bad, "1", "failed", "400", "4")
want(set(ends) == {ok, again, bad}, "attempt_end for jobs %s" % sorted(ends))
want(any(r.get("IMGEDIT_EVENT") == "retry" and r.get("JOB_ID") == again and
         r.get("ATTEMPT") == "1" for r in recs), "no retry record for job %s" % again)
# the hostile message: escaped inside MESSAGE, whole, and nowhere else
hostile = [r for r in recs if "FORGED" in json.dumps(r)]
want(len(hostile) == 1, "%d records carry the hostile text" % len(hostile))
for r in hostile:
    want(r.get("JOB_ID") == bad and r.get("PRIORITY") == "4", "forged: %r" % r)
    want('error="no \\"way\\" a=b \\\\ x\\x0aFORGED=1\\x0aPRIORITY=0\\x0aJOB_ID=999"'
         in r["MESSAGE"], "the message is not in MESSAGE, quoted: %r" % r["MESSAGE"])
    want('error_type="bad type"' in r["MESSAGE"], "error_type: %r" % r["MESSAGE"])
events = {r.get("IMGEDIT_EVENT") for r in recs}
want({"started", "attempt_start", "stopping", "stopped"} <= events, "events: %s" % sorted(events))
for e in errors:
    print(e)
print("%d records, %d problems" % (len(recs), len(errors)))
sys.exit(1 if errors or len(recs) < 10 else 0)
PY
nrec=$(wc -l <"$JLOG")

# JOURNAL_STREAM names another file (stderr was redirected): lines on
# stderr as without systemd, nothing to the journal
journal_daemon "$(stat -L -c '%d:%i' "$JLOG")" "$T/stderr2.log"
for _ in $(seq 1 100); do grep -q 'info started' "$T/stderr2.log" && break; sleep 0.05; done
stop_daemon
grep -q '^imgeditd: info started id=' "$T/stderr2.log" ||
	fail "no plain started line on stderr: $(head -3 "$T/stderr2.log")"
grep -q '^imgeditd: info stopped id=' "$T/stderr2.log" || fail "no stopped line on stderr"
assert_eq "$(wc -l <"$JLOG")" "$nrec" "journal records from a daemon whose stderr is not the journal"

# the journal gone (its socket left, nobody reading: journald died): the
# lines, priority-prefixed, on stderr
kill -TERM $EXTRA_PIDS
wait $EXTRA_PIDS 2>/dev/null || true
EXTRA_PIDS=
[ -S "$JDIR/socket" ] || fail "the journal socket went with its listener"
journal_daemon stderr "$T/stderr3.log"
for _ in $(seq 1 100); do grep -q 'info started' "$T/stderr3.log" && break; sleep 0.05; done
stop_daemon
grep -q '^<6>imgeditd: info started id=' "$T/stderr3.log" ||
	fail "no <6> started line on stderr with the journal gone: $(head -3 "$T/stderr3.log")"
# no socket file at all (journald never ran, or its runtime directory was
# wiped): libsystemd would drop the records without a word; the lines go
# to stderr as above
rm -f "$JDIR/socket"
journal_daemon stderr "$T/stderr4.log"
for _ in $(seq 1 100); do grep -q 'info started' "$T/stderr4.log" && break; sleep 0.05; done
stop_daemon
grep -q '^<6>imgeditd: info started id=' "$T/stderr4.log" ||
	fail "no <6> started line on stderr with no journal socket: $(head -3 "$T/stderr4.log")"
grep -q '^<6>imgeditd: info stopped id=' "$T/stderr4.log" ||
	fail "no <6> stopped line on stderr with no journal socket"
pass "$(wc -l <"$T/records.json") journal records with JOB_ID/ATTEMPT/OUTCOME/HTTP_STATUS/REQUEST_ID/PRIORITY, the hostile message inside MESSAGE; stderr lines when JOURNAL_STREAM is another file, the journal is gone or its socket missing"
