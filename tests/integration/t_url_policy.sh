#!/usr/bin/env bash
# url results are fetched only where an image host can be (SSRF): not at
# another internal address than the base URL's own (127.0.0.2 while the
# base is 127.0.0.1: refused before connecting), not through a redirect,
# and only as image/*. Each refusal fails the job at once, with one
# request, naming the reason; a url result on the base URL's own address
# (this test setup) is fetched as before.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
use_gateway # dall-e-2 is shut down at OpenAI: a gateway that still serves it
"$IMGEDITCTL" init >/dev/null
mkpng "$T/sq.png" 64 64
submit() {
	"$IMGEDITCTL" submit -p "$1" --model dall-e-2 --response-format url --no-stream \
		--max-attempts 3 "$T/sq.png"
}
other=$(submit "other host [[fault:url-host=127.0.0.2]]")
html=$(submit "html [[fault:url-ctype=text/html]]")
redir=$(submit "redirect [[fault:url-redirect]]")
ok=$(submit "own host")
start_daemon --concurrency 1 --retry-base 100ms
wait_jobs_done 30
stop_daemon

check() { # JOB REASON
	assert_eq "$(sql "SELECT state || ',' || attempts || ',' || error_type FROM jobs WHERE id=$1")" \
		"failed,1,url_refused" "job $1"
	sql "SELECT error_message FROM jobs WHERE id=$1" | grep -q "$2" ||
		fail "job $1: '$(sql "SELECT error_message FROM jobs WHERE id=$1")' does not say '$2'"
	assert_eq "$(sql "SELECT count(*) FROM images WHERE job_id=$1")" 0 "job $1's images"
}
check "$other" "internal address (127.0.0.2)"
check "$html" "content type text/html, not image/\*"
check "$redir" "a redirect (HTTP 302)"
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$ok")" succeeded "the url on the base's own address"
assert_eq "$(edit_requests)" 4 "edit requests (no retry of a refusal)"
gets=$(python3 - "$FAKE_LOG" <<'PY'
import json, sys
print(sum(json.loads(l)["method"] == "GET" for l in open(sys.argv[1])))
PY
)
# html, the redirect's first hop and the good one; never 127.0.0.2
assert_eq "$gets" 3 "downloads the fake upstream served"
pass "internal addresses, redirects and non-images refused; the own address fetched"
