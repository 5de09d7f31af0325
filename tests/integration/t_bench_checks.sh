#!/usr/bin/env bash
# t_bench_checks.sh: scripts/bench fails when a stored image is not what
# upstream sent. The bench in its smallest configuration (2 jobs, 1 round,
# no peer, no floor or queue figures, this build's binaries), whole events
# and the pieces framing, SQLite and PostgreSQL: once as is, which must
# exit 0 with its checks ok (so this test cannot pass by the bench always
# failing); once with fake upstreams that lie in their logs about one image
# each (--log-lie: the sha256 recorded for it is not that of the bytes
# sent), which must exit non-zero and name the mismatch, for both framings
# (PostgreSQL left out);
# once lying about an image of the PostgreSQL run only (the whole-event
# fake's 11th: the SQLite run before it took the first 8), which must fail
# that check alone.
. "$(dirname "$0")/lib.sh"

: "${IMGEDIT_BUILD:?set IMGEDIT_BUILD to the build directory}"

# bench NAME [ARGS]: the smallest bench run into $T/NAME; its exit status
# in $T/NAME.rc, its output in $T/NAME.out.
bench() {
	local name=$1 rc=0
	shift
	"$SRCDIR/scripts/bench" --jobs 2 --concurrency 2 --rounds 1 --no-peer \
		--stream-only --framing whole,pieces --bindir "$IMGEDIT_BUILD" \
		--workdir "$T/$name" "$@" >"$T/$name.out" 2>&1 || rc=$?
	echo "$rc" >"$T/$name.rc"
}

bench honest
assert_eq "$(cat "$T/honest.rc")" 0 "the bench's exit status with an honest upstream ($(tail -3 "$T/honest.out"))"
for name in "imgeditd" "imgeditd (pieces framing)" "imgeditd on PostgreSQL"; do
	grep -qxF "  ok   $name: stored images byte-identical to what upstream sent" "$T/honest.out" ||
		fail "the honest run does not say '$name' stored what was sent: $(grep -A20 '^Checks' "$T/honest.out")"
done
grep -q '^  FAIL' "$T/honest.out" && fail "the honest run failed a check: $(grep '^  FAIL' "$T/honest.out")"
# The run measured something: 2 jobs of 3 partials + final, each framing.
python3 - "$T/honest/bench.json" <<'PY' || fail "the honest run's bench.json lacks its figures"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tools"]["imgeditd"]["images"] == 8, d["tools"]["imgeditd"]
assert [r["images"] for r in d["framings"]["pieces"]["rounds"]] == [8], d["framings"]
assert d["images_on_disk"]["cpu_ms_per_image"] > 0, d["images_on_disk"]
pg = d["postgresql"]
assert pg["images"] == 8 and pg["jobs_failed"] == 0, pg
r = pg["rounds"][0]
assert r["cpu_ms_per_image"] > 0 and r["pg_cpu_ms_per_image"] > 0, r
assert r["peak_rss_mb"] > 0 and r["wall_s"] > 0, r
assert abs(r["ratio_to_sqlite"] - r["cpu_ms_per_image"] /
           d["tools"]["imgeditd"]["rounds"][0]["cpu_ms_per_image"]) < 1e-9, r
assert pg["durability"]["fsync"] == "on" and pg["durability"]["synchronous_commit"] == "on", pg
PY
grep -q '^imgeditd on PostgreSQL' "$T/honest.out" || fail "the honest run prints no PostgreSQL row: $(cat "$T/honest.out")"


# The 3rd image each fake upstream logs gets a wrong sha256.
bench lying --no-pg --fake-args "--log-lie 3"
rc=$(cat "$T/lying.rc")
[ "$rc" != 0 ] || fail "the bench exited 0 although one image per framing differs: $(grep -A20 '^Checks' "$T/lying.out")"
for name in "imgeditd" "imgeditd (pieces framing)"; do
	want="  FAIL $name: stored images byte-identical to what upstream sent (round 1: 1 stored image(s) not among those upstream sent)"
	grep -qxF "$want" "$T/lying.out" ||
		fail "the lying run does not name the mismatch for $name: $(grep -A20 '^Checks' "$T/lying.out")"
done
grep -q "bench: a check failed" "$T/lying.out" || fail "the lying run does not say the figures do not count"

# The whole-event fake's 11th image: the 3rd of the PostgreSQL run.
bench lying-pg --framing whole --no-metrics-run --fake-args "--log-lie 11"
[ "$(cat "$T/lying-pg.rc")" != 0 ] || fail "the bench exited 0 although an image of the PostgreSQL run differs: $(grep -A20 '^Checks' "$T/lying-pg.out")"
grep -qxF "  FAIL imgeditd on PostgreSQL: stored images byte-identical to what upstream sent (round 1: 1 stored image(s) not among those upstream sent)" "$T/lying-pg.out" ||
	fail "the PostgreSQL lying run does not name the mismatch: $(grep -A20 '^Checks' "$T/lying-pg.out")"
grep -qxF "  ok   imgeditd: stored images byte-identical to what upstream sent" "$T/lying-pg.out" ||
	fail "the PostgreSQL lying run blames the SQLite run: $(grep -A20 '^Checks' "$T/lying-pg.out")"

# The peer's checks fail too: a peer that says one job failed and one
# image is missing (it runs no SDK: its figures are its word, as the real
# one's are).
command -v node >/dev/null || fail "node is missing (scripts/check installs nodejs)"
# liar DIR MODE: a peer in DIR; MODE short (one job failed, an image
# fewer) or garbled (round 1 prints a line that does not parse)
liar() {
	mkdir -p "$1/node_modules/openai"
	echo '{"version": "0.0.0-liar"}' >"$1/node_modules/openai/package.json"
	echo '{"name": "liar", "private": true}' >"$1/package.json"
	cat >"$1/sdk-bulk.mjs" <<-EOF
	const a = process.argv, arg = (k) => a[a.indexOf(k) + 1];
	const jobs = Number(arg("--jobs")), parts = Number(arg("--partials"));
	if ("$2" === "garbled" && arg("--tag") === "bench-r1") { console.log("{garbled"); process.exit(0); }
	const short = "$2" === "short" ? 1 : 0;
	console.log(JSON.stringify({ jobs, ok: jobs - short, failed: short,
	  images: jobs * (parts + 1) - short, wall_s: 1, cpu_s: 0.5, max_rss_mb: 10 }));
	EOF
}
# bench_peer NAME [ARGS]: as bench, with the peer
bench_peer() {
	local name=$1 rc=0
	shift
	"$SRCDIR/scripts/bench" --jobs 2 --concurrency 2 --stream-only --framing whole \
		--no-pg --no-metrics-run --bindir "$IMGEDIT_BUILD" \
		--workdir "$T/$name" "$@" >"$T/$name.out" 2>&1 || rc=$?
	echo "$rc" >"$T/$name.rc"
}
liar "$T/peer-liar" short
bench_peer liar --rounds 1 --peer-dir "$T/peer-liar"
[ "$(cat "$T/liar.rc")" != 0 ] || fail "the bench exited 0 with a peer that lost a job: $(grep -A20 '^Checks' "$T/liar.out")"
for c in "sdk-peer: no job failed, every round" "both tools: the same number of images, every round"; do
	grep -qxF "  FAIL $c" "$T/liar.out" || fail "the lying peer's run does not fail '$c': $(grep -A20 '^Checks' "$T/liar.out")"
done
# a round of the peer that does not parse: the bench refuses to pair
# round 2's peer with round 1's imgeditd
liar "$T/peer-garbled" garbled
bench_peer garbled --rounds 2 --peer-dir "$T/peer-garbled"
[ "$(cat "$T/garbled.rc")" != 0 ] || fail "the bench exited 0 although the peer's round 1 did not parse: $(tail -5 "$T/garbled.out")"
grep -qF "the peer's result of round(s) 1 did not parse (2 of 2 rounds recorded): the rounds cannot be paired" "$T/garbled.out" ||
	fail "the garbled run does not say round 1 did not parse: $(tail -5 "$T/garbled.out")"
# a peer that cannot run fails the bench (--no-peer was not asked): no
# script, or its npm install failing (offline, an empty cache)
mkdir "$T/peer-none"
bench_peer nopeer --rounds 1 --peer-dir "$T/peer-none"
[ "$(cat "$T/nopeer.rc")" != 0 ] || fail "the bench exited 0 without its peer"
grep -qF "the SDK comparison cannot run (--no-peer leaves it out)" "$T/nopeer.out" ||
	fail "the run without a peer does not say why it failed: $(tail -3 "$T/nopeer.out")"
liar "$T/peer-noinst" short
rm -rf "$T/peer-noinst/node_modules"
echo '{"name": "liar", "private": true, "dependencies": {"openai": "4.0.0"}}' >"$T/peer-noinst/package.json"
npm_config_offline=true npm_config_cache="$T/npm-cache" bench_peer noinst --rounds 1 --peer-dir "$T/peer-noinst"
[ "$(cat "$T/noinst.rc")" != 0 ] || fail "the bench exited 0 although npm install failed"
grep -qF "npm install failed: the SDK comparison cannot run" "$T/noinst.out" ||
	fail "the run whose npm install failed does not say so: $(tail -3 "$T/noinst.out")"

pass "the bench exits 0 when every stored image is what upstream sent, $rc when one per framing or one on PostgreSQL is not, and names it; it fails a lying peer, a peer round that does not parse, and a peer that cannot run"
