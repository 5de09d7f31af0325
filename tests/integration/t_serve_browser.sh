#!/usr/bin/env bash
# The web view in a real browser: Debian's chromium, headless, driven by
# puppeteer-core (from npm, installed once into the build directory; it
# never downloads a browser). On a database the real daemon filled from the
# fake upstream, / and /jobs/ID show thumbnails decoded at the sizes the
# images' dimensions call for; a job that runs while the pages are open
# shows its partials while it runs, then its final, and a job submitted meanwhile
# gets its row, with no reload. Screenshots stay in the build directory
# (artifacts/serve-index.png, artifacts/serve-job.png).
set -euo pipefail
: "${SRCDIR:?set SRCDIR to the source tree}"
: "${IMGEDIT_BUILD:?set IMGEDIT_BUILD to the build directory}"

skip() {
	echo "SKIP ${0##*/}: $*"
	exit 77
}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip "no $CHROMIUM (apt-get install chromium)"
command -v node >/dev/null || skip "node is not installed"

# puppeteer-core into build/browser, once; renamed into place whole
NM=$IMGEDIT_BUILD/browser
if [ ! -f "$NM/node_modules/puppeteer-core/package.json" ]; then
	command -v npm >/dev/null || skip "npm is not installed"
	tmp=$(mktemp -d "$IMGEDIT_BUILD/browser.tmp.XXXXXX")
	cp "$SRCDIR/tests/browser/package.json" "$tmp/"
	if ! npm install --prefix "$tmp" --no-audit --no-fund --loglevel=error \
		>"$tmp.log" 2>&1; then
		tail -3 "$tmp.log" >&2 || true
		rm -rf "$tmp" "$tmp.log"
		skip "npm install puppeteer-core failed (no network?)"
	fi
	rm -f "$tmp.log"
	if [ -f "$NM/node_modules/puppeteer-core/package.json" ]; then
		rm -rf "$tmp"
	else
		rm -rf "$NM"
		mv -T "$tmp" "$NM"
	fi
fi
cp "$SRCDIR/tests/browser/serve.mjs" "$NM/serve.mjs"
ART=$IMGEDIT_BUILD/artifacts
mkdir -p "$ART"
rm -f "$ART/serve-index.png" "$ART/serve-job.png"

. "$SRCDIR/tests/integration/lib.sh"
# each SSE event 700 ms after the last: partials arrive one by one, and
# the live job runs long enough to be seen running with one
start_fake --image-bytes 60000 --latency-ms 700
"$IMGEDITCTL" init >/dev/null
mkpng "$T/in.png" 300 200
done_id=$("$IMGEDITCTL" submit -p $'done <b>"&\'' --model gpt-image-2.6-flare --partial-images 2 "$T/in.png")
start_daemon
wait_jobs_done 20
stop_daemon
# the live job's reply starts 1.5 s late: its row is first read running and
# without images, so only the image events can bring its partials
live_id=$("$IMGEDITCTL" submit -p "live [[fault:delay=1500]]" --model gpt-image-2.6-flare \
	--partial-images 3 "$T/in.png")

# the size a result's thumbnail must have: its dimensions fitted in 160x160
read -r w h < <(sql -separator ' ' "SELECT width, height FROM images WHERE job_id = $done_id AND kind = 'final'")
result=$(python3 -c 'import sys; w,h=map(int,sys.argv[1:]); m=160
if w<=m and h<=m: print("%dx%d" % (w,h))
elif w>=h: print("%dx%d" % (m, max(1,(h*m+w//2)//w)))
else: print("%dx%d" % (max(1,(w*m+h//2)//h), m))' "$w" "$h")

start_serve
CHROMIUM=$CHROMIUM node "$NM/serve.mjs" "$SERVE_URL" "$done_id" "$live_id" \
	"$result" 160x107 "$ART" >"$T/browser.out" 2>&1 &
browser=$!
EXTRA_PIDS="$EXTRA_PIDS $browser"
for i in $(seq 1 600); do
	grep -q '^ready' "$T/browser.out" && break
	kill -0 "$browser" 2>/dev/null || fail "the browser test ended early: $(cat "$T/browser.out")"
	sleep 0.05
done
grep -q '^ready' "$T/browser.out" || fail "the browser never got ready: $(cat "$T/browser.out")"
# now the live job runs, and another job is submitted
start_daemon
next=$("$IMGEDITCTL" submit -p "submitted while watched" --model gpt-image-2.6-flare "$T/in.png")
assert_eq "$next" "$((live_id + 1))" "the next job's id"
wait "$browser" || fail "in the browser: $(cat "$T/browser.out")"
wait_jobs_done 20
stop_daemon
stop_serve
for f in serve-index.png serve-job.png; do
	[ -s "$ART/$f" ] || fail "no screenshot $f"
done
pass "$(grep '^ok' "$T/browser.out"); screenshots in $ART"
