#!/usr/bin/env bash
# A database reached by host name over TCP: the daemon looks the name up
# with libevent's resolver on its loop (libpq's own lookup would block it)
# and connects to the address, at start and again after its session is
# cut; jobs run through both.
. "$(dirname "$0")/lib.sh"
PG_TCP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
. "$(dirname "$0")/lib_pg.sh"
pg_start
grep -q '^127\.0\.0\.1[[:space:]].*\blocalhost\b' /etc/hosts || fail "/etc/hosts has no localhost line"
DB="postgresql://postgres@localhost:$PG_TCP_PORT/imgedit"
"$IMGEDITCTL" --db "$DB" init >/dev/null || fail "imgeditctl init by host name failed"
start_fake
start_daemon --concurrency 4
pg_enqueue 3 first 1
pg_wait_done 30 "$DAEMON_PID"
# its session comes from 127.0.0.1 over TCP
assert_eq "$(pgsql -c "SELECT count(*) FROM pg_stat_activity WHERE client_addr = '127.0.0.1' AND application_name = 'imgedit'")" 1 "the daemon's TCP session"
assert_eq "$(pg_cut_daemons)" 1 "sessions cut"
pg_enqueue 3 second 1
pg_wait_done 30 "$DAEMON_PID"
grep -q 'info store_opened address="127.0.0.1"' "$DAEMON_LOG" ||
	fail "the first connect was not to the address looked up: $(grep store_ "$DAEMON_LOG")"
grep -q 'info store_connected down_ms=[0-9]* address="127.0.0.1"' "$DAEMON_LOG" ||
	fail "no reconnect to the address looked up: $(grep store_ "$DAEMON_LOG")"
assert_eq "$(pgsql -c "SELECT count(*) FROM jobs WHERE state = 'succeeded'")" 6 "jobs succeeded"
stop_daemon
pass "the database by host name over TCP, looked up on the loop, reconnected"
