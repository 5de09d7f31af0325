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
	[ -n "$PG_DIR" ] && [ $rc -ne 0 ] && cp "$PG_DIR/log" "$T/pg.log" 2>/dev/null
	pg_stop
	# cleanup reads the status from $?: give it rc (set -e is on)
	if [ $rc -eq 0 ]; then cleanup; else (exit $rc) || cleanup; fi
}
trap pg_cleanup EXIT

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
	cat >>"$PG_DIR/data/postgresql.conf" <<-EOF
	listen_addresses = ''
	unix_socket_directories = '$PG_DIR'
	fsync = off
	synchronous_commit = off
	full_page_writes = off
	max_connections = 100
	EOF
	"${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 30 \
		start >/dev/null 2>&1 || fail "PostgreSQL did not start: $(tail -5 "$PG_DIR/log")"
	psql -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -U postgres -d postgres \
		-c "CREATE DATABASE $db" || fail "createdb $db failed"
	PG_URI="postgresql:///$db?host=$PG_DIR&user=postgres"
}

# pgsql SQL...: psql on the test's database, unaligned, tuples only, stops
# at the first error.
pgsql() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$PG_URI" "$@"
}
