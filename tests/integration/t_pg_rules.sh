#!/usr/bin/env bash
# The store's rules are the same on both backends: tests/unit/test_rules.c
# runs its cases (a long non-ASCII prompt under and over the params limit
# in bytes, an over-size input's message, every row of the next-state
# table) through the daemon's queue on an SQLite file and on a throwaway
# PostgreSQL 15, and checks both answered the same, word for word.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
[ -x "${TEST_RULES:-}" ] || fail "TEST_RULES is not set to the test_rules binary"
pg_start
"$TEST_RULES" "$T/rules.db" "$PG_URI" >"$T/out" 2>&1 || { cat "$T/out" >&2; fail "test_rules failed"; }
cat "$T/out"
grep -q 'test_rules: [0-9]* checks, 0 failed' "$T/out" || fail "no verdict from test_rules"
pass "params limit, over-size message and next-state table agree on SQLite and PostgreSQL"
