#!/usr/bin/env bash
# daemon/pg/pgstore.c's writes of a run (answered, images, finish), lease
# rounds with two daemons, a cancel, heartbeats, counts, the poll and a
# NOTIFY on a real PostgreSQL 15: tests/unit/test_pgreq.c runs each step
# on PostgreSQL and on the SQLite store and compares every row, then races
# 300 finishes against another daemon's lease rounds (each job finished or
# requeued, never both, no deadlock).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
[ -x "${TEST_PGREQ:-}" ] || fail "TEST_PGREQ is not set to the test_pgreq binary"
pg_start
"$IMGEDITCTL" --db "$PG_URI" init >/dev/null || fail "imgeditctl init failed"
"$TEST_PGREQ" "$PG_URI" "$T/same.db" >"$T/out" 2>&1 || { cat "$T/out" >&2; fail "test_pgreq failed"; }
cat "$T/out"
grep -q 'test_pgreq: [0-9]* checks, 0 failed' "$T/out" || fail "no verdict from test_pgreq"
pass "PostgreSQL wrote the same rows as SQLite; lost leases and cancels are LOST; NOTIFY heard; finishes vs lease rounds exactly once"
