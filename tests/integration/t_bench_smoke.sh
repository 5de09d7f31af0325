#!/usr/bin/env bash
# t_bench_smoke.sh: a small, fast version of scripts/bench (no timings): the
# same 6 streaming edits (3 partials + final) through imgeditd and through the
# official OpenAI Node SDK peer (../shared/peer/sdk-bulk.mjs), both against
# one fake upstream; each tool must have stored exactly the images the fake
# upstream sent for its own requests (sha256 sets, told apart by prompt).
# Without node or the peer's node_modules (npm install needs the network) it
# prints SKIP and exits 77: it never passes without running the peer.
set -euo pipefail

: "${SRCDIR:?set SRCDIR to the source tree}"
JOBS=6 CONC=3 PARTIALS=3
WANT=$((JOBS * (PARTIALS + 1)))

skip() {
	echo "SKIP ${0##*/}: $*"
	exit 77
}

# ---- the peer: node, and the SDK installed once into build/peer ----
command -v node >/dev/null || skip "node is not installed"
# The team's copy (../shared/peer) when there is one, else the copy kept
# in tests/peer (the same two files), so a clone anywhere runs the peer.
PEER_SRC=$SRCDIR/../shared/peer
[ -f "$PEER_SRC/sdk-bulk.mjs" ] || PEER_SRC=$SRCDIR/tests/peer
PEER=$SRCDIR/build/peer
PEER_TMP=''
if [ -f "$PEER_SRC/sdk-bulk.mjs" ] && [ -f "$PEER/node_modules/openai/package.json" ]; then
	cp "$PEER_SRC/sdk-bulk.mjs" "$PEER_SRC/package.json" "$PEER/" 2>/dev/null || true
fi
if [ ! -f "$PEER/node_modules/openai/package.json" ]; then
	[ -f "$PEER_SRC/sdk-bulk.mjs" ] || skip "no peer at $PEER_SRC and none installed in $PEER"
	command -v npm >/dev/null || skip "npm is not installed"
	# Installed beside the cache and renamed into place, so a concurrent
	# scripts/bench never sees half an install; a temporary directory if
	# the source tree is not writable.
	if mkdir -p "$SRCDIR/build" 2>/dev/null && [ -w "$SRCDIR/build" ]; then
		tmp=$(mktemp -d "$SRCDIR/build/peer.tmp.XXXXXX")
	else
		tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgedit-peer.XXXXXX")
		PEER=$tmp PEER_TMP=$tmp
	fi
	cp "$PEER_SRC/sdk-bulk.mjs" "$PEER_SRC/package.json" "$tmp/"
	if ! npm install --prefix "$tmp" --no-audit --no-fund --loglevel=error >"$tmp.npm.log" 2>&1; then
		tail -3 "$tmp.npm.log" >&2 || true
		rm -rf "$tmp" "$tmp.npm.log"
		skip "npm install of the peer's SDK failed (no network?)"
	fi
	rm -f "$tmp.npm.log"
	if [ "$PEER" != "$tmp" ]; then
		if [ -f "$PEER/node_modules/openai/package.json" ]; then
			rm -rf "$tmp" # someone else installed it meanwhile
		else
			rm -rf "$PEER"
			mv -T "$tmp" "$PEER" || { rm -rf "$tmp"; skip "cannot install the peer into $PEER"; }
		fi
	fi
fi
[ -f "$PEER/node_modules/openai/package.json" ] || skip "the peer's SDK is not installed in $PEER"

# shellcheck source=tests/integration/lib.sh
. "$SRCDIR/tests/integration/lib.sh"
if [ -n "$PEER_TMP" ]; then
	trap 'rc=$?; rm -rf "$PEER_TMP"; (exit $rc); cleanup' EXIT
fi
UTIL=$SRCDIR/scripts/lib/bench_util.py

start_fake --image-bytes 200000
mkpng "$T/in.png" 64 64
in_sha=$(sha256sum "$T/in.png" | cut -d' ' -f1)

# sha_files DIR: sha256 of every image file under DIR (not job.json), sorted.
sha_files() {
	find "$1" -type f ! -name job.json -print0 | xargs -0 -r sha256sum | cut -d' ' -f1 | sort
}
# uploads PREFIX: sha256 of every file uploaded by requests whose prompt
# starts with PREFIX, one a line.
uploads() {
	python3 - "$FAKE_LOG" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    rec = json.loads(line)
    if (rec.get("fields") or {}).get("prompt", "").startswith(sys.argv[2]):
        for f in rec.get("files") or []:
            print(f["sha256"])
PY
}

# ---- imgeditd ----
"$IMGEDITCTL" init >/dev/null
mkdir "$T/in"
for i in $(seq 1 $JOBS); do cp "$T/in.png" "$T/in/$i.png"; done
mapfile -t ids < <("$IMGEDITCTL" submit --each -p "smoke imgeditd" --model gpt-image-2.6-flare \
	--partial-images $PARTIALS "$T"/in/*.png)
assert_eq "${#ids[@]}" $JOBS "job ids printed by submit --each"
start_daemon --concurrency $CONC
"$IMGEDITCTL" wait --timeout 120s "${ids[@]}" >/dev/null || fail "imgeditd's jobs did not all succeed"
stop_daemon
assert_eq "$(sql "SELECT count(*) FROM images")" $WANT "images stored by imgeditd"
"$IMGEDITCTL" export --state succeeded --partials -o "$T/export" >/dev/null
sent_d=$(python3 "$UTIL" sent "$FAKE_LOG" "smoke imgeditd")
assert_eq "$(printf '%s\n' "$sent_d" | grep -c .)" $WANT "images the fake upstream sent to imgeditd"
[ "$(sha_files "$T/export")" = "$sent_d" ] ||
	fail "imgeditd's exported images are not the bytes the fake upstream sent"
[ "$(sql "SELECT sha256 FROM images ORDER BY sha256")" = "$sent_d" ] ||
	fail "imgeditd's stored sha256 column differs from what was sent"
[ "$(uploads "smoke imgeditd" | sort -u)" = "$in_sha" ] ||
	fail "imgeditd uploaded something other than the input image"

# ---- the SDK peer, against the same fake upstream ----
out=$(OPENAI_BASE_URL=$BASE_URL OPENAI_API_KEY=sk-test timeout 120 \
	node "$PEER/sdk-bulk.mjs" --jobs $JOBS --concurrency $CONC --input "$T/in.png" \
	--out "$T/peer" --partials $PARTIALS --tag smoke 2>"$T/peer.err") ||
	fail "the peer exited with status $?: $(tail -5 "$T/peer.err")"
line=$(printf '%s\n' "$out" | grep '^{' | tail -1) || fail "the peer printed no JSON line: $out"
read -r p_ok p_failed p_images < <(python3 -c 'import json, sys
d = json.loads(sys.argv[1]); print(d["ok"], d["failed"], d["images"])' "$line")
assert_eq "$p_ok/$p_failed" "$JOBS/0" "peer jobs ok/failed"
assert_eq "$p_images" $WANT "images the peer reports"
sent_p=$(python3 "$UTIL" sent "$FAKE_LOG" "bulk edit smoke job")
assert_eq "$(printf '%s\n' "$sent_p" | grep -c .)" $WANT "images the fake upstream sent to the peer"
[ "$(sha_files "$T/peer")" = "$sent_p" ] ||
	fail "the peer's written images are not the bytes the fake upstream sent"
[ "$(uploads "bulk edit smoke job" | sort -u)" = "$in_sha" ] ||
	fail "the peer uploaded something other than the input image"

pass "imgeditd and the SDK peer each stored the $WANT images sent to them ($JOBS jobs, $PARTIALS partials + final)"
