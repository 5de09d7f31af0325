#!/usr/bin/env bash
# The suite as listed is the suite that runs: README's counts of the
# PostgreSQL tests are ctest's (not typed once and left), and configuring
# fails, naming the file, when a test tests/CMakeLists.txt lists is
# missing (a unit test's source, an IT_BOTH script, tests/fake-upstream and
# with it every integration test), instead of leaving it out silently.
. "$(dirname "$0")/lib.sh"

: "${IMGEDIT_BUILD:?set IMGEDIT_BUILD to the build directory}"

# 1. README: "(`ctest -L pg` runs N of them on a throwaway PostgreSQL,
# besides the M PostgreSQL-only ones)"
ctest --test-dir "$IMGEDIT_BUILD" -N -L pg >"$T/pg.txt" || fail "ctest -N -L pg failed"
both=$(grep -c ' it\.pg\.t_' "$T/pg.txt" || true)
only=$(grep -c ' it\.t_pg_' "$T/pg.txt" || true)
[ "$both" -gt 0 ] && [ "$only" -gt 0 ] || fail "ctest -N -L pg lists $both dual and $only PostgreSQL-only tests: $(tail -3 "$T/pg.txt")"
tr '\n' ' ' <"$SRCDIR/README.md" | tr -s ' ' >"$T/readme.txt"
said=$(grep -o 'ctest -L pg` runs [0-9]* of them on a throwaway PostgreSQL, besides the [0-9]* PostgreSQL-only ones' "$T/readme.txt") ||
	fail "README.md no longer says how many tests ctest -L pg runs (expected '\`ctest -L pg\` runs N of them on a throwaway PostgreSQL, besides the M PostgreSQL-only ones')"
assert_eq "$(grep -o '[0-9][0-9]*' <<<"$said" | tr '\n' ' ')" "$both $only " \
	"README's counts of dual and PostgreSQL-only tests against ctest -N -L pg"
# every test under the pg label is one of those two kinds, or
# t_bench_checks (the bench runs imgeditd on its own PostgreSQL too), and
# no other test starts a cluster of its own
grep -q ' it\.t_bench_checks$' "$T/pg.txt" || fail "it.t_bench_checks runs PostgreSQL but is not labelled pg"
assert_eq "$(sed -n 's/^Total Tests: //p' "$T/pg.txt")" "$((both + only + 1))" "tests labelled pg"
for s in "$SRCDIR"/tests/integration/t_*.sh; do
	n=${s##*/}
	case $n in t_pg_* | "${0##*/}") continue ;; esac
	grep -q 'lib_pg\.sh\|pg_start' "$s" && fail "$n starts a PostgreSQL cluster but is not a t_pg_ test"
done

# 2. configure a copy of the tree, whole and then with one listed test
# missing at a time
mkdir "$T/src"
(cd "$SRCDIR" && tar --exclude=./build --exclude=./.git -cf - .) | tar -xf - -C "$T/src"
cmake -S "$T/src" -B "$T/b0" >"$T/b0.log" 2>&1 || fail "the whole tree does not configure: $(tail -5 "$T/b0.log")"
# gone WHAT PATH: with PATH moved away, configuring fails and names WHAT
gone() {
	local what=$1 path=$2 rc=0
	mv "$T/src/$path" "$T/away"
	rm -rf "$T/b1"
	cmake -S "$T/src" -B "$T/b1" >"$T/b1.log" 2>&1 || rc=$?
	mv "$T/away" "$T/src/$path"
	[ "$rc" != 0 ] || fail "configure succeeded with $path missing"
	grep -qF "$what" "$T/b1.log" || fail "configure with $path missing does not say '$what': $(grep -m3 -i error "$T/b1.log")"
}
gone "tests/unit/test_b64.c is listed in tests/CMakeLists.txt but missing" tests/unit/test_b64.c
gone "tests/integration/t_cancel.sh is listed in IT_BOTH but missing" tests/integration/t_cancel.sh
gone "tests/fake-upstream is missing: every integration test needs it" tests/fake-upstream
pass "README says $both dual and $only PostgreSQL-only tests, as ctest does; a missing unit test, IT_BOTH script or fake upstream fails the configure"
