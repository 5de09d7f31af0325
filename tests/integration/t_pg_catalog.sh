#!/usr/bin/env bash
# t_pg_catalog.sh: the catalog's cases (tests/unit/test_catalog.c) on a
# fresh SQLite file and a throwaway PostgreSQL, in one run: submit,
# cancel/retry from every state, documents read back; the two must agree.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"

[ -x "${TEST_CATALOG:-}" ] || fail "TEST_CATALOG is not set to the test_catalog binary"
pg_start
"$TEST_CATALOG" "$T/cat.db" "$PG_URI" >"$T/out" 2>&1 || { cat "$T/out" >&2; fail "test_catalog failed"; }
grep -q "^$T/cat.db: 28 cases" "$T/out" || fail "the SQLite side did not run every case: $(cat "$T/out")"
grep -q "^postgresql://.*: 28 cases" "$T/out" || fail "the PostgreSQL side did not run every case: $(cat "$T/out")"
pass "$(tail -1 "$T/out")"
