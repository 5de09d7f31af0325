#!/usr/bin/env bash
# daemon/pg/pgconn.c on a real PostgreSQL 15: tests/unit/test_pgconn.c (order,
# 1.5 MB bytea in binary, 200 pipelined INSERTs failing alone, NOTIFY, the
# loop never blocked, pg_terminate_backend then reopen) on a throwaway cluster.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
[ -x "${TEST_PGCONN:-}" ] || fail "TEST_PGCONN is not set to the test_pgconn binary"
pg_start
"$TEST_PGCONN" "$PG_URI" "$T" >"$T/out" 2>&1 || { cat "$T/out" >&2; fail "test_pgconn failed"; }
cat "$T/out"
grep -q 'test_pgconn: [0-9]* checks, 0 failed' "$T/out" || fail "no verdict from test_pgconn"
pass "pgconn: order, bytea, pipeline isolation, notify, non-blocking, terminate + reopen"
