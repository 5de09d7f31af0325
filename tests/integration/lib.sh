# tests/integration/lib.sh: shared by the integration tests: a temporary
# directory, the fake upstream and the real imgeditd started and stopped,
# assertions that say what differed. Source it; set -euo pipefail is set.
set -euo pipefail

: "${IMGEDITD:?set IMGEDITD to the imgeditd binary}"
: "${IMGEDITCTL:?set IMGEDITCTL to the imgeditctl binary}"
: "${FAKE_UPSTREAM:?set FAKE_UPSTREAM to the fake-upstream binary}"
: "${SRCDIR:?set SRCDIR to the source tree}"

T=$(mktemp -d "${TMPDIR:-/tmp}/imgedit-it.XXXXXX")
DB=$T/q.db
export IMGEDIT_DB=$DB
# imgeditctl's view of imgeditd's settings (base-url, default-model): none
# here, so OpenAI's base-url and the built-in default model, whatever the
# machine has installed; use_gateway writes one
export IMGEDIT_CONFIG=$T/imgeditd.conf
FAKE_PID= DAEMON_PID= FAKE_PORT= BASE_URL=
FAKE_LOG=$T/fake.jsonl
DAEMON_LOG=$T/daemon.log
TEST_NAME=${0##*/}

cleanup() {
	local rc=$?
	[ -n "$DAEMON_PID" ] && kill -KILL "$DAEMON_PID" 2>/dev/null || true
	[ -n "$FAKE_PID" ] && kill -TERM "$FAKE_PID" 2>/dev/null || true
	[ -n "${NOTIFY_PID:-}" ] && kill -TERM "$NOTIFY_PID" 2>/dev/null || true
	[ -n "${HOLDER_PID:-}" ] && kill -TERM "$HOLDER_PID" 2>/dev/null || true
	local p
	for p in ${EXTRA_PIDS:-}; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "${UNMOUNT:-}" ] && umount -l "$UNMOUNT" 2>/dev/null || true
	if [ $rc -ne 0 ]; then
		echo "--- $TEST_NAME failed (rc=$rc); daemon log tail:" >&2
		tail -n 40 "$DAEMON_LOG" >&2 2>/dev/null || true
		echo "--- kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT

fail() { echo "FAIL $TEST_NAME: $*" >&2; exit 1; }
pass() { echo "ok $TEST_NAME: $*"; }

# runnable_by_others BIN: prints the path of a copy of BIN in $T/bin that
# another user can run (T made 0711): the build tree may be in a directory
# only its owner can enter, as a 0700 home is.
runnable_by_others() {
	mkdir -p "$T/bin"
	cp "$1" "$T/bin/" || fail "cannot copy $1 into $T/bin"
	chmod 711 "$T"
	chmod 755 "$T/bin" "$T/bin/${1##*/}"
	echo "$T/bin/${1##*/}"
}

# IMGEDIT_TEST_BACKEND=pg (ctest's it.pg.* twins of the tests that run on
# both backends): the same test on a throwaway PostgreSQL; DB is its URI
# and sql runs on it with psql, printing as sqlite3 does (| between
# columns, no header).
if [ "${IMGEDIT_TEST_BACKEND:-sqlite}" = pg ]; then
	. "$(dirname "${BASH_SOURCE[0]}")/lib_pg.sh"
	pg_start
	DB=$PG_URI
	export IMGEDIT_DB=$DB
	TEST_NAME="$TEST_NAME (PostgreSQL)"
	# the one SQLite function the tests' queries use that PostgreSQL
	# lacks: group_concat(x [, sep]), in the order rows come (the tests
	# order them in a subquery where it matters)
	pgsql >/dev/null <<-'SQL' || fail "cannot add group_concat"
	CREATE FUNCTION gc_step(acc text, v anyelement, sep text) RETURNS text
	  LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN v IS NULL THEN acc
	  WHEN acc IS NULL THEN v::text ELSE acc || sep || v::text END $$;
	CREATE FUNCTION gc_step(acc text, v anyelement) RETURNS text
	  LANGUAGE sql IMMUTABLE AS $$ SELECT gc_step(acc, v, ',') $$;
	CREATE AGGREGATE group_concat(anyelement, text) (SFUNC = gc_step, STYPE = text);
	CREATE AGGREGATE group_concat(anyelement) (SFUNC = gc_step, STYPE = text);
	SQL
fi

# assert_eq ACTUAL EXPECTED WHAT
assert_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

sql() {
	if [ "${IMGEDIT_TEST_BACKEND:-sqlite}" = pg ]; then
		psql -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -d "$DB" -c "$*"
	else
		sqlite3 -bail -cmd '.timeout 5000' "$DB" "$@"
	fi
}

# on_pg: true in the PostgreSQL twin of a test (it.pg.NAME).
on_pg() { [ "${IMGEDIT_TEST_BACKEND:-sqlite}" = pg ]; }

# sql_blob FILE: FILE's bytes as a literal of this backend's SQL.
sql_blob() {
	local hex
	hex=$(od -An -v -tx1 "$1" | tr -d ' \n')
	if on_pg; then echo "'\\x$hex'::bytea"; else echo "X'$hex'"; fi
}

# sql_now_ms: this backend's SQL for the time now, ms since the epoch.
sql_now_ms() {
	if on_pg; then echo "CAST(extract(epoch FROM clock_timestamp()) * 1000 AS bigint)"
	else echo "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"; fi
}

# json_field NAME: this backend's SQL for jobs.params' field NAME as text.
json_field() {
	if on_pg; then echo "(params->>'$1')"; else echo "json_extract(params, '\$.$1')"; fi
}

# mkpng FILE W H [rgba]: writes a valid PNG (pseudo-random pixels).
mkpng() {
	python3 - "$@" <<'PY'
import sys, zlib, struct, random
path, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
alpha = len(sys.argv) > 4 and sys.argv[4] == "rgba"
bpp = 4 if alpha else 3
rnd = random.Random(path)
rows = b"".join(b"\0" + bytes(rnd.getrandbits(8) for _ in range(w * bpp)) for _ in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
ihdr = struct.pack(">IIBBBBB", w, h, 8, 6 if alpha else 2, 0, 0, 0)
open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
    chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
PY
}

# start_fake [ARGS...]: starts the fake upstream on a free port.
start_fake() {
	"$FAKE_UPSTREAM" --port 0 --key sk-test --log "$FAKE_LOG" "$@" \
		>"$T/fake.out" 2>"$T/fake.err" &
	FAKE_PID=$!
	local i
	for i in $(seq 1 100); do
		FAKE_PORT=$(sed -n 's/^port=//p' "$T/fake.out" | head -1)
		[ -n "$FAKE_PORT" ] && break
		kill -0 "$FAKE_PID" 2>/dev/null || fail "fake upstream died: $(cat "$T/fake.err")"
		sleep 0.05
	done
	[ -n "$FAKE_PORT" ] || fail "fake upstream printed no port"
	BASE_URL=http://127.0.0.1:$FAKE_PORT/v1
	FAKE_PROBES=0
}

# use_gateway: imgeditctl's settings name the fake upstream as base-url, an
# OpenAI-compatible server that may still serve shut-down models (submit
# warns of them and queues; with OpenAI's base-url it refuses them).
use_gateway() {
	[ -n "$BASE_URL" ] || fail "use_gateway before start_fake"
	printf 'base-url = %s\n' "$BASE_URL" >>"$IMGEDIT_CONFIG"
}

# start_daemon [ARGS...]: starts imgeditd on $DB against the fake upstream.
start_daemon() {
	local i before
	before=$(grep -c 'info started' "$DAEMON_LOG" 2>/dev/null || true)
	OPENAI_API_KEY=${OPENAI_API_KEY:-sk-test} "$IMGEDITD" --db "$DB" \
		--base-url "$BASE_URL" "$@" >>"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	for i in $(seq 1 100); do
		[ "$(grep -c 'info started' "$DAEMON_LOG" 2>/dev/null || true)" -gt "${before:-0}" ] && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || fail "imgeditd exited at start: $(tail -5 "$DAEMON_LOG")"
		sleep 0.05
	done
	fail "imgeditd did not start"
}

# stop_daemon: SIGTERM, then checks the exit status is 0.
stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID"
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	assert_eq "$rc" 0 "imgeditd exit status after SIGTERM"
}

# fake_wait_requests N: until the fake upstream has taken N requests whole
# (a job in state running may not have sent its request yet). Asks with
# GETs of an unknown file: each reply's x-request-id is req_<seq>, seq
# counting every request, these probes included (FAKE_PROBES so far).
fake_wait_requests() {
	local made
	made=$(python3 - "$BASE_URL" "$1" "$FAKE_PROBES" <<'PY'
import sys, time, urllib.error, urllib.request
url = sys.argv[1].rsplit("/v1", 1)[0] + "/files/probe.png"
want, before, made = int(sys.argv[2]), int(sys.argv[3]), 0
deadline = time.time() + 10
while time.time() < deadline:
    made += 1
    try:
        rid = urllib.request.urlopen(url, timeout=5).headers["x-request-id"]
    except urllib.error.HTTPError as e:
        rid = e.headers["x-request-id"]
    if int(rid.split("_")[1]) - before - made >= want:
        print(made)
        sys.exit(0)
    time.sleep(0.02)
print(made)
sys.exit(1)
PY
	) || fail "the fake upstream did not get $1 request(s) in 10 s"
	FAKE_PROBES=$((FAKE_PROBES + made))
}

# wait_jobs_done TIMEOUT_S: until no job is queued/running/retry_wait.
wait_jobs_done() {
	local deadline=$((SECONDS + $1)) left
	while :; do
		left=$(sql "SELECT count(*) FROM jobs WHERE state IN ('queued','running','retry_wait')")
		[ "$left" = 0 ] && return 0
		[ $SECONDS -lt "$deadline" ] || fail "$left jobs still not finished after $1 s"
		kill -0 "$DAEMON_PID" 2>/dev/null || fail "imgeditd died"
		sleep 0.1
	done
}

# fake_sent_sha KIND [PROMPT]: sha256 of the KIND images the fake upstream
# sent whole (for PROMPT only, if given), sorted.
fake_sent_sha() {
	python3 - "$FAKE_LOG" "$1" "${2-}" "$#" <<'PY'
import json, sys
log, kind, prompt, nargs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
out = []
for line in open(log):
    rec = json.loads(line)
    if nargs > 1 and (rec.get("fields") or {}).get("prompt") != prompt:
        continue
    out += [s["sha256"] for s in rec.get("sent") or [] if s.get("kind") == kind]
if out:
    print("\n".join(sorted(out)))
PY
}

# stored_sha [JOB [KIND]]: sha256 of the bytes stored (not the sha256
# column: the data itself), of one job's, of one kind, sorted.
stored_sha() {
	python3 - "$DB" "${1:-}" "${2:-}" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=5)
sql, args = "SELECT data FROM images WHERE 1", []
if sys.argv[2]:
    sql, args = sql + " AND job_id = ?", args + [int(sys.argv[2])]
if sys.argv[3]:
    sql, args = sql + " AND kind = ?", args + [sys.argv[3]]
out = sorted(hashlib.sha256(r[0]).hexdigest() for r in db.execute(sql, args))
if out:
    print("\n".join(out))
PY
}

# fake_url_sha: sha256 of every image the fake upstream answered as a URL.
fake_url_sha() {
	python3 - "$FAKE_LOG" <<'PY'
import json, sys
out = []
for line in open(sys.argv[1]):
    out += [u["sha256"] for u in json.loads(line).get("urls") or []]
if out:
    print("\n".join(sorted(out)))
PY
}

# edit_requests [PROMPT]: POSTs to /v1/images/edits the fake upstream has
# taken (for PROMPT only, if given).
edit_requests() {
	python3 - "$FAKE_LOG" "${1-}" "$#" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
print(sum(r.get("method") == "POST" and (int(sys.argv[3]) == 0 or
          (r.get("fields") or {}).get("prompt") == sys.argv[2]) for r in recs))
PY
}

# submit_jobs N PREFIX ARGS...: N jobs "PREFIX 1".."PREFIX N" with the
# same imgeditctl submit ARGS (options, then the image).
submit_jobs() {
	local n=$1 prefix=$2 i
	shift 2
	for i in $(seq 1 "$n"); do
		"$IMGEDITCTL" submit -p "$prefix $i" "$@" >/dev/null
	done
}

# hold_lock SECONDS [READY_FILE]: in the background, another connection
# takes the write lock (BEGIN IMMEDIATE) and holds it; READY_FILE appears
# once it has it. Sets HOLDER_PID.
hold_lock() {
	python3 - "$DB" "$1" "${2:-$T/lock.ready}" >"$T/holder.log" 2>&1 <<'PY' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[3], "w").close()
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
print("held", sys.argv[2])
PY
	HOLDER_PID=$!
	local i
	for i in $(seq 1 200); do
		[ -e "${2:-$T/lock.ready}" ] && return 0
		sleep 0.05
	done
	fail "the lock holder did not get the lock: $(cat "$T/holder.log")"
}

# lock_for SECONDS: another connection holds the write lock for SECONDS;
# returns once it let go (and checks it could).
lock_for() {
	hold_lock "$1"
	wait "$HOLDER_PID" || fail "the lock holder failed: $(cat "$T/holder.log")"
	HOLDER_PID=
}

# listen_notify FILE: a NOTIFY_SOCKET (systemd's sd_notify protocol) that
# writes "<epoch ms> <datagram>" lines to FILE. Sets NOTIFY_SOCKET and
# NOTIFY_PID.
listen_notify() {
	NOTIFY_SOCKET=$T/notify.sock
	python3 - "$NOTIFY_SOCKET" "$1" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "w", buffering=1) as out:
    while True:
        msg = s.recv(4096).decode(errors="replace").replace("\n", " | ")
        out.write("%d %s\n" % (time.time() * 1000, msg))
PY
	NOTIFY_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -S "$NOTIFY_SOCKET" ] && return 0
		sleep 0.05
	done
	fail "the notify listener did not start"
}

# start_serve [ARGS...]: imgeditctl serve on $DB, any free loopback port;
# sets SERVE_URL (http://127.0.0.1:PORT/) and SERVE_PID (killed at exit).
start_serve() {
	"$IMGEDITCTL" --db "$DB" serve --listen 127.0.0.1:0 "$@" \
		>"$T/serve.out" 2>"$T/serve.err" &
	SERVE_PID=$!
	EXTRA_PIDS="${EXTRA_PIDS:-} $SERVE_PID"
	local i
	for i in $(seq 1 100); do
		SERVE_URL=$(sed -n 's/^serving .* at //p' "$T/serve.out")
		[ -n "$SERVE_URL" ] && return 0
		kill -0 "$SERVE_PID" 2>/dev/null || fail "serve died: $(cat "$T/serve.err")"
		sleep 0.05
	done
	fail "serve printed no address"
}

# stop_serve: SIGTERM, then checks it exited 0 (and ASan found no leak).
stop_serve() {
	kill -TERM "$SERVE_PID"
	local rc=0
	wait "$SERVE_PID" || rc=$?
	assert_eq "$rc" 0 "imgeditctl serve exit status after SIGTERM: $(tail -5 "$T/serve.err")"
}
