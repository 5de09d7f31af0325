#!/usr/bin/env bash
# imgeditd --metrics-listen: a scrape taken during a run passes `promtool
# check metrics`; after the run the counters equal the database (images and
# bytes by kind, attempts by outcome, answers by status class, the
# histograms' counts) and the job gauges equal the jobs table; a claim held
# up by another program's lock is counted; other paths 404, other methods
# 405; a malformed address is refused naming the option; SIGHUP says a new
# address needs a restart.
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null ||
	{ echo "SKIP: promtool missing (Debian package prometheus)"; exit 77; }

# scrape OUT [PATH [METHOD]]: the body into OUT; prints "STATUS TYPE".
scrape() {
	python3 - "$MPORT" "$1" "${2:-/metrics}" "${3:-GET}" <<'PY'
import sys, urllib.error, urllib.request
port, out, path, method = sys.argv[1:5]
req = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path),
    method=method, data=b"x" if method == "POST" else None)
try:
    r = urllib.request.urlopen(req, timeout=5)
    status, body, ctype = r.status, r.read(), r.headers["Content-Type"]
except urllib.error.HTTPError as e:
    status, body, ctype = e.code, e.read(), e.headers["Content-Type"]
open(out, "wb").write(body)
print(status, ctype)
PY
}
# metric FILE SERIES: the value of one series ('name{label="v"}'), or "".
metric() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
# scrape_until TIMEOUT_S OUT PYTHON_CONDITION: scrapes into OUT until the
# condition on m (series -> float) holds.
scrape_until() {
	local deadline=$((SECONDS + $1))
	while :; do
		scrape "$2" >/dev/null
		python3 - "$2" "$3" <<'PY' && return 0
import sys
m = {}
for line in open(sys.argv[1]):
    if line.strip() and not line.startswith("#"):
        k, v = line.rsplit(" ", 1)
        m[k] = float(v)
g = lambda k: m.get(k, 0)
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
		[ $SECONDS -lt "$deadline" ] || fail "no scrape within $1 s where: $3"
		kill -0 "$DAEMON_PID" 2>/dev/null || fail "imgeditd died"
		sleep 0.05
	done
}

# compare PROM [end]: the counters in PROM against the database: images
# and bytes by kind, attempts by outcome; at the end (nothing in flight)
# also answers by class, the histograms' counts, and what this run makes.
compare() {
	python3 - "$1" "$DB" "${2:-}" <<'PY'
import sqlite3, sys
m = {}
for line in open(sys.argv[1]):
    if line.strip() and not line.startswith("#"):
        k, v = line.rsplit(" ", 1)
        m[k] = float(v)
db = sqlite3.connect(sys.argv[2], timeout=5)
q = lambda sql, *a: db.execute(sql, a).fetchall()
end = sys.argv[3] == "end"
bad = []
def eq(series, want):
    if m.get(series) != want:
        bad.append("%s = %s, the database says %s" % (series, m.get(series), want))
def least(series, want, why):
    if not m.get(series, 0) >= want:
        bad.append("%s = %s, expected at least %s: %s" % (series, m.get(series), want, why))
for kind in ("partial", "final"):
    n, size = q("SELECT count(*), coalesce(sum(size), 0) FROM images WHERE kind = ?", kind)[0]
    eq('imgedit_images_stored_total{kind="%s"}' % kind, n)
    eq('imgedit_images_stored_bytes_total{kind="%s"}' % kind, size)
outcomes = dict(q("SELECT outcome, count(*) FROM attempts WHERE outcome IS NOT NULL GROUP BY 1"))
for o in ("succeeded", "retry", "failed", "canceled", "interrupted", "paused"):
    eq('imgedit_attempts_total{outcome="%s"}' % o, outcomes.get(o, 0))
if end:
    classes = dict(q("SELECT http_status / 100, count(*) FROM attempts "
                     "WHERE http_status IS NOT NULL GROUP BY 1"))
    for c in range(1, 6):
        eq('imgedit_http_responses_total{class="%dxx"}' % c, classes.get(c, 0))
    attempts = q("SELECT count(*) FROM attempts")[0][0]
    answered = q("SELECT count(*) FROM attempts WHERE http_status IS NOT NULL")[0][0]
    eq("imgedit_attempt_duration_seconds_count", attempts)
    eq('imgedit_attempt_duration_seconds_bucket{le="+Inf"}', attempts)
    eq("imgedit_upstream_ttfb_seconds_count", answered)
    eq("imgedit_transfers_in_flight", 0)
    eq('imgedit_paused{reason=""}', 0)
    # what the run was made to do, so that the above is not 0 == 0
    for o, n in {"succeeded": 10, "retry": 3, "failed": 1}.items():
        if outcomes.get(o) != n:
            bad.append("attempts %s: %s in the database, the run makes %d" % (o, outcomes.get(o), n))
    if classes.get(4) != 2 or classes.get(5) != 1:
        bad.append("answers by class in the database: %s" % classes)
    least("imgedit_ratelimit_waits_total", 1, "a 429 came")
    least("imgedit_ratelimit_wait_seconds_total", 0.2, "the 429 asked for 0.3 s")
    least("imgedit_db_lock_waits_total", 1, "a write met the lock")
    least("imgedit_db_lock_wait_seconds_total", 1.0, "the lock was held for more")
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

start_fake --image-bytes 20000 --latency-ms 20
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32

# a malformed address is refused at start, naming the option
rc=0
OPENAI_API_KEY=sk-test "$IMGEDITD" --db "$DB" --metrics-listen 127.0.0.1 \
	2>"$T/bad.err" || rc=$?
assert_eq "$rc" 2 "exit status for --metrics-listen 127.0.0.1"
grep -q "metrics-listen: '127.0.0.1' is not HOST:PORT" "$T/bad.err" ||
	fail "the error does not name the option: $(cat "$T/bad.err")"

sub() { "$IMGEDITCTL" submit --model gpt-image-2.6-flare --partial-images 2 "$@" "$T/a.png" >/dev/null; }
submit_jobs 6 "plain" --model gpt-image-2.6-flare --partial-images 2 "$T/a.png"
sub -p "flaky [[fault:status=500;cut]]"
sub -p "limited [[fault:status=429,retry-after-ms=300]]"
sub -p "moderated [[fault:moderation]]"
# in flight for two seconds from the start: the mid-run scrape sees it
sub -p "slow [[fault:delay=2000]]" --priority 10

echo "metrics-listen = 127.0.0.1:0" >"$T/d.conf"
start_daemon --config "$T/d.conf" --concurrency 3 --retry-base 100ms \
	--retry-max 300ms --heartbeat 200ms
MPORT=$(sed -n 's/.*metrics_listen address=127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$DAEMON_LOG")
[ -n "$MPORT" ] || fail "no metrics_listen line in the log"

# during the run: finals stored while the slow one is still in flight
scrape_until 20 "$T/mid.prom" \
	'g("imgedit_images_stored_total{kind=\"final\"}") >= 1 and g("imgedit_transfers_in_flight") >= 1'
promtool check metrics <"$T/mid.prom" >"$T/promtool.out" 2>&1 ||
	fail "promtool check metrics on the mid-run scrape: $(cat "$T/promtool.out")"
for name in jobs:gauge attempts_total:counter http_responses_total:counter \
	images_stored_total:counter images_stored_bytes_total:counter \
	upstream_ttfb_seconds:histogram attempt_duration_seconds:histogram \
	ratelimit_waits_total:counter ratelimit_wait_seconds_total:counter \
	paused:gauge transfers_in_flight:gauge images_waiting_bytes:gauge image_memory_bytes:gauge \
	store_requests_waiting:gauge db_lock_waits_total:counter \
	db_lock_wait_seconds_total:counter; do
	grep -qx "# TYPE imgedit_${name%:*} ${name#*:}" "$T/mid.prom" ||
		fail "no family imgedit_${name%:*} of type ${name#*:} in the scrape"
done
assert_eq "$(scrape "$T/h.out")" "200 text/plain; version=0.0.4; charset=utf-8" "GET /metrics"
assert_eq "$(scrape "$T/h.out" /)" "404 text/plain; charset=utf-8" "GET /"
assert_eq "$(scrape "$T/h.out" /metrics/x)" "404 text/plain; charset=utf-8" "GET /metrics/x"
assert_eq "$(scrape "$T/h.out" /metrics POST)" "405 text/plain; charset=utf-8" "POST /metrics"
wait_jobs_done 30

# another program holds the write lock while a job's images arrive: they
# wait in memory, uncounted (counted when committed, not when received),
# and the write that waits is counted while it waits
"$IMGEDITCTL" submit --model gpt-image-2.6-flare --partial-images 2 \
	-p "held [[fault:delay=1500]]" "$T/a.png" >/dev/null
for i in $(seq 1 101); do
	[ "$(sql "SELECT state FROM jobs WHERE params LIKE '%held%'")" = running ] && break
	[ "$i" -le 100 ] || fail "the held job was not claimed within 5 s"
	sleep 0.05
done
hold_lock 4
scrape_until 10 "$T/locked.prom" \
	'g("imgedit_images_waiting_bytes") > 0 and g("imgedit_image_memory_bytes") >= g("imgedit_images_waiting_bytes") and g("imgedit_db_lock_waits_total") >= 1'
promtool check metrics <"$T/locked.prom" >"$T/promtool.out" 2>&1 ||
	fail "promtool check metrics while locked: $(cat "$T/promtool.out")"
compare "$T/locked.prom" || fail "while locked, the counters differ from the database"
wait "$HOLDER_PID" || fail "the lock holder failed: $(cat "$T/holder.log")"
HOLDER_PID=
wait_jobs_done 30

# after the run: the job gauges catch up with the table (next heartbeat),
# then every counter equals what the database holds
sql "SELECT state, count(*) FROM jobs GROUP BY state" >"$T/jobs.txt"
cond=$(awk -F'|' '{ printf "g(\"imgedit_jobs{state=\\\"%s\\\"}\") == %s and ", $1, $2 }' "$T/jobs.txt")
scrape_until 10 "$T/end.prom" "${cond}True"
compare "$T/end.prom" end || fail "after the run, the counters differ from the database"
promtool check metrics <"$T/end.prom" >"$T/promtool.out" 2>&1 ||
	fail "promtool check metrics after the run: $(cat "$T/promtool.out")"

# SIGHUP: a new address waits for a restart; the old one goes on serving
echo "metrics-listen = 127.0.0.1:1" >"$T/d.conf"
kill -HUP "$DAEMON_PID"
for i in $(seq 1 100); do
	grep -q 'setting key=metrics-listen .*action=needs_restart' "$DAEMON_LOG" && break
	sleep 0.05
done
grep -q 'setting key=metrics-listen old="127.0.0.1:0" new="127.0.0.1:1" action=needs_restart' "$DAEMON_LOG" ||
	fail "SIGHUP did not say the new address needs a restart"
assert_eq "$(scrape "$T/h.out" | cut -d' ' -f1)" 200 "GET /metrics after SIGHUP"
# an address in use stops a second daemon before it registers
daemons=$(sql "SELECT count(*) FROM daemons")
rc=0
OPENAI_API_KEY=sk-test "$IMGEDITD" --db "$DB" --base-url "$BASE_URL" \
	--metrics-listen "127.0.0.1:$MPORT" >"$T/second.log" 2>&1 || rc=$?
assert_eq "$rc" 1 "exit status with the metrics address in use"
grep -q "metrics_listen_failed listen=\"127.0.0.1:$MPORT\"" "$T/second.log" ||
	fail "no metrics_listen_failed line: $(cat "$T/second.log")"
assert_eq "$(sql "SELECT count(*) FROM daemons")" "$daemons" "daemon rows after the failed start"
stop_daemon
pass "metrics pass promtool mid-run and match the database after it"
