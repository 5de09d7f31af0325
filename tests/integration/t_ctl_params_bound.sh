#!/usr/bin/env bash
# A 100 MB params row written by another program is measured, never read
# whole, by imgeditctl: list, show and serve's pages name it (the daemon's
# words: "params: N bytes, over the 262144-byte limit") and stay small in
# memory; the jobs beside it are listed as usual.
. "$(dirname "$0")/lib.sh"

"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
ok=$("$IMGEDITCTL" submit -p "an ordinary job" --model gpt-image-2.6-flare "$T/a.png")
# 100,000,015 bytes of valid JSON, written as another program would
if on_pg; then
	sql "INSERT INTO jobs (params) VALUES (jsonb_build_object('prompt', repeat('0', 100000000)))" >/dev/null
else
	sql "INSERT INTO jobs (params) VALUES ('{\"prompt\":\"' || hex(zeroblob(50000000)) || '\"}')" >/dev/null
fi
big=$(sql "SELECT max(id) FROM jobs")
[ "$big" -gt "$ok" ] || fail "the big row was not inserted"
bytes=$(sql "SELECT $(on_pg && echo 'octet_length(params::text)' || echo 'length(CAST(params AS BLOB))') FROM jobs WHERE id = $big")
want="params: $bytes bytes, over the 262144-byte limit"

# peak RSS in kB of a command, its output in $T/out.json
peak_kb() {
	/usr/bin/time -f '%M' -o "$T/rss" "$@" >"$T/out.json" 2>"$T/err" ||
		fail "$* failed: $(cat "$T/err")"
	cat "$T/rss"
}
limit_kb=$((100 * 1024))

kb=$(peak_kb "$IMGEDITCTL" list --json)
[ "$kb" -lt "$limit_kb" ] || fail "list --json peaked at $kb kB with a 100 MB params row"
python3 - "$T/out.json" "$big" "$ok" "$want" <<'PY' || fail "list --json: $(head -c 600 "$T/out.json")"
import json, sys
jobs = {j["id"]: j for j in json.load(open(sys.argv[1]))}
big, ok, want = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
assert jobs[big]["params"] is None, jobs[big]
assert jobs[big]["params_error"] == want, jobs[big]
assert "params_bytes" not in jobs[big], jobs[big]
assert jobs[ok]["params"]["prompt"] == "an ordinary job", jobs[ok]
assert "params_error" not in jobs[ok], jobs[ok]
PY

kb=$(peak_kb "$IMGEDITCTL" list)
[ "$kb" -lt "$limit_kb" ] || fail "list peaked at $kb kB"
grep -qE "^ *$ok +queued " "$T/out.json" || fail "list lost the ordinary job: $(cat "$T/out.json")"
grep -qE "^ *$big +queued " "$T/out.json" || fail "list lost the big job: $(cat "$T/out.json")"

kb=$(peak_kb "$IMGEDITCTL" show --json "$big")
[ "$kb" -lt "$limit_kb" ] || fail "show --json peaked at $kb kB"
grep -qF "\"params_error\": \"$want\"" "$T/out.json" ||
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["params_error"]==sys.argv[2], d' "$T/out.json" "$want" ||
	fail "show --json does not name the params: $(head -c 600 "$T/out.json")"

"$IMGEDITCTL" show "$big" >"$T/show.txt" || fail "show $big"
grep -qF "params      ($want)" "$T/show.txt" || fail "show does not name the params: $(head -20 "$T/show.txt")"

start_serve
for path in / "/jobs/$big"; do
	curl -sS -o "$T/page.html" -w '%{http_code}' "${SERVE_URL%/}$path" >"$T/code" ||
		fail "GET $path"
	[ "$(cat "$T/code")" = 200 ] || fail "GET $path: HTTP $(cat "$T/code")"
done
grep -qF "$want" "$T/page.html" || fail "job $big's page does not name the params"
hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVE_PID/status")
[ "$hwm" -lt "$limit_kb" ] || fail "serve peaked at $hwm kB after / and job $big's page"
pass "a $bytes-byte params row: list, show and serve under $limit_kb kB, named in the daemon's words"
