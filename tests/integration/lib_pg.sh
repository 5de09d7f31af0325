# tests/integration/lib_pg.sh: a throwaway PostgreSQL 15 cluster for one test:
# initdb into a temp directory as an unprivileged user, Unix socket only,
# stopped and removed on exit. Source it after lib.sh; then pg_start.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR= PG_URI= PG_RUN=()
[ -x "$PG_BIN/initdb" ] || fail "no PostgreSQL 15 in $PG_BIN (scripts/lib/common.sh installs postgresql)"
command -v psql >/dev/null || fail "no psql (scripts/lib/common.sh installs postgresql)"

# Runs as root in CI: the server must not, so it runs as the user the
# Debian package made; otherwise as ourselves.
if [ "$(id -u)" -eq 0 ]; then
	id postgres >/dev/null 2>&1 || fail "running as root and there is no postgres user"
	PG_RUN=(runuser -u postgres --)
fi

# pg_stop: stops the cluster fast and removes it (safe to call twice).
pg_stop() {
	[ -n "$PG_DIR" ] || return 0
	"${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop \
		>/dev/null 2>&1 || true
	rm -rf "$PG_DIR"
	PG_DIR=
}

# lib.sh's cleanup keeps $T on failure; the cluster goes in every case,
# its log copied into $T first.
pg_cleanup() {
	local rc=$?
	# a PostgreSQL test imgedit never connected to tested nothing there
	# (log_connections: the server's own record of its sessions)
	if [ -n "$PG_DIR" ] && [ $rc -eq 0 ] && ! pg_imgedit_connected; then
		echo "FAIL $TEST_NAME: passed, but no imgedit program connected to its PostgreSQL" >&2
		rc=1
	fi
	# IMGEDIT_TEST_PG_LOGS=DIR: every cluster's server log kept there
	if [ -n "$PG_DIR" ] && [ -n "${IMGEDIT_TEST_PG_LOGS:-}" ]; then
		cp "$PG_DIR/log" "$IMGEDIT_TEST_PG_LOGS/${0##*/}.${IMGEDIT_TEST_BACKEND:-sqlite}.$$.log" 2>/dev/null || true
	fi
	[ -n "$PG_DIR" ] && [ $rc -ne 0 ] && cp "$PG_DIR/log" "$T/pg.log" 2>/dev/null
	pg_stop
	# cleanup reads the status from $?: give it rc (set -e is on)
	if [ $rc -eq 0 ]; then cleanup; else (exit $rc) || cleanup; fi
	exit $rc
}
trap pg_cleanup EXIT

# pg_imgedit_connected: the server logged a session of imgedit's own
# (application_name imgedit: imgeditd, imgeditctl, the pg unit tests).
pg_imgedit_connected() {
	grep -q 'connection authorized: .*application_name=imgedit\b' "$PG_DIR/log" 2>/dev/null
}

# pg_start [DBNAME]: initdb, start, create DBNAME (default imgedit). Sets
# PG_URI (postgresql:///DB?host=SOCKETDIR&user=postgres) and PG_DIR.
pg_start() {
	local db=${1:-imgedit}
	PG_DIR=$(mktemp -d /tmp/imgedit-pg.XXXXXX)
	chmod 755 "$PG_DIR"
	[ ${#PG_RUN[@]} -eq 0 ] || chown postgres: "$PG_DIR"
	"${PG_RUN[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust \
		-E UTF8 --locale=C.UTF-8 --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
		fail "initdb failed: $(tail -5 "$PG_DIR/initdb.log")"
	# PG_TCP_PORT set: also on 127.0.0.1 at that port (else the socket only)
	cat >>"$PG_DIR/data/postgresql.conf" <<-EOF
	listen_addresses = '${PG_TCP_PORT:+127.0.0.1}'
	port = ${PG_TCP_PORT:-5432}
	unix_socket_directories = '$PG_DIR'
	fsync = off
	synchronous_commit = off
	full_page_writes = off
	max_connections = 100
	log_connections = on
	EOF
	"${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 30 \
		start >/dev/null 2>&1 || fail "PostgreSQL did not start: $(tail -5 "$PG_DIR/log")"
	psql -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "${PG_TCP_PORT:-5432}" -U postgres -d postgres \
		-c "CREATE DATABASE $db" || fail "createdb $db failed"
	PG_URI="postgresql:///$db?host=$PG_DIR&user=postgres&port=${PG_TCP_PORT:-5432}"
}

# pgsql SQL...: psql on the test's database, unaligned, tuples only, stops
# at the first error.
pgsql() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$PG_URI" "$@"
}

# pg_enqueue N PREFIX [PARTIALS]: N streaming gpt-image-2.6-flare jobs with prompts
# "PREFIX 1".."PREFIX N", in one transaction of plain SQL as another program
# writes them; their input ($T/in.png, made if missing) stored once in blobs.
pg_enqueue() {
	[ -e "$T/in.png" ] || mkpng "$T/in.png" 16 16
	pgsql -v n="$1" -v prefix="$2" -v partials="${3:-2}" \
		-v photo="$(base64 -w0 "$T/in.png")" >/dev/null <<'SQL'
BEGIN;
INSERT INTO blobs (sha256, size, data)
SELECT encode(sha256(d), 'hex'), length(d), d FROM (SELECT decode(:'photo', 'base64') d) x
ON CONFLICT (sha256) DO NOTHING;
WITH j AS (
  INSERT INTO jobs (params, stream, priority)
  SELECT jsonb_build_object('prompt', :'prefix' || ' ' || i, 'model', 'gpt-image-2.6-flare',
                            'partial_images', :partials), 1, 0
  FROM generate_series(1, :n) i RETURNING id)
INSERT INTO inputs (job_id, role, ordinal, filename, content_type, blob_id)
SELECT j.id, 'image', 0, 'in.png', 'image/png', b.id FROM j
JOIN blobs b ON b.sha256 = encode(sha256(decode(:'photo', 'base64')), 'hex');
COMMIT;
SQL
}

# pg_wait_done SECONDS [PID...]: until no job is queued, running or waiting
# to retry; fails after SECONDS, or when one of the PIDs (daemons) died.
pg_wait_done() {
	local deadline=$((SECONDS + $1)) n p
	shift
	while :; do
		n=$(pgsql -c "SELECT count(*) FROM jobs WHERE state IN ('queued','running','retry_wait')")
		[ "$n" = 0 ] && return 0
		[ $SECONDS -lt "$deadline" ] || fail "$n jobs still not finished after $deadline s"
		for p in "$@"; do
			kill -0 "$p" 2>/dev/null || fail "imgeditd $p died: $(tail -5 "$DAEMON_LOG")"
		done
		sleep 0.2
	done
}

# pg_check_images: every stored image's bytes hash to its sha256 column and
# are among what the fake upstream sent for that very request.
pg_check_images() {
	pgsql -F ' ' -c "SELECT a.request_id, i.sha256, encode(sha256(i.data), 'hex'), i.id FROM images i JOIN attempts a ON a.id = i.attempt_id" >"$T/images.txt"
	python3 - "$FAKE_LOG" "$T/images.txt" <<'PY' || fail "a stored image differs from what upstream sent for its request"
import json, sys
sent = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("method") == "POST":
        sent["req_%d" % r["seq"]] = {s["sha256"] for s in r.get("sent") or []}
n = 0
for line in open(sys.argv[2]):
    req, sha, real, iid = line.split()
    assert sha == real, ("bytes do not hash to the sha256 column", iid)
    assert req in sent and sha in sent[req], ("not sent for its request", iid, req)
    n += 1
print(n, "images checked")
PY
}

# pg_server_stop / pg_server_start: the server goes away (fast shutdown:
# sessions are cut) and comes back on the same socket and data.
pg_server_stop() {
	"${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 ||
		fail "PostgreSQL did not stop"
}
pg_server_start() {
	"${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 30 \
		start >/dev/null 2>&1 || fail "PostgreSQL did not start again: $(tail -5 "$PG_DIR/log")"
}

# pg_sent_once N: the fake upstream took exactly N requests, one per prompt.
pg_sent_once() {
	python3 - "$FAKE_LOG" "$1" <<'PY' || fail "a job reached upstream more or less than once"
import collections, json, sys
c = collections.Counter(json.loads(l)["fields"]["prompt"] for l in open(sys.argv[1]) if '"POST"' in l)
assert len(c) == int(sys.argv[2]) and set(c.values()) == {1}, \
    (len(c), [p for p, n in c.items() if n != 1][:5])
PY
}

# pg_cut_daemons: ends every session of imgedit's own (application_name
# imgedit: the daemons' and imgeditctl's), as a network cut or a failover
# would; psql's sessions, a lock holder's included, stay. Prints how many.
pg_cut_daemons() {
	pgsql -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'imgedit'"
}
