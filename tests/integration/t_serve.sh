#!/usr/bin/env bash
# imgeditctl serve, with curl, on a database the real daemon filled from the
# fake upstream: pages are well-formed HTML with every tag closed, a prompt
# with <script>, quotes and & is shown as text and never raw; /images/ID
# serves the stored bytes (sha256 = ETag, a year's immutable caching, 304 on
# If-None-Match); thumbnails are PNGs of the fitted size; filters, paging,
# 400/404 pages; /events tells about a job another program inserts; serve
# never writes the database; any address but loopback gets a warning.
. "$(dirname "$0")/lib.sh"

EVIL=$'<script>alert("x")</script> & \'q\''
start_fake
"$IMGEDITCTL" init >/dev/null
mkpng "$T/in.png" 300 200
id1=$("$IMGEDITCTL" submit -p "$EVIL" --model gpt-image-2.6-flare --partial-images 2 "$T/in.png")
id2=$("$IMGEDITCTL" submit -p "a red cat" --model gpt-image-2.6-flare --partial-images 1 "$T/in.png")
start_daemon
wait_jobs_done 20
stop_daemon
assert_eq "$(sql "SELECT group_concat(state) FROM jobs")" "succeeded,succeeded" "the jobs"

# what serve must never change
db_sha=$(sha256sum <"$DB")
wal_before=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
start_serve
U=$SERVE_URL

# get PATH NAME [CURL ARGS]: body into $T/NAME, headers into $T/NAME.h
get() {
	curl -sS -o "$T/$2" -D "$T/$2.h" "${@:3}" "${U%/}$1" || fail "curl $1"
}
header() { sed -n "s/^$2: //Ip" "$T/$1.h" | tr -d '\r' | head -1; }
status() { head -1 "$T/$1.h" | cut -d' ' -f2; }

# check_html FILE [TEXT]: every element closed in order, scripts only by
# src=, and TEXT (if given) among the page's text once entities are decoded
check_html() {
	python3 - "$@" <<'PY' || fail "HTML of $1"
import html.parser, sys
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.text = [], [], []
    def handle_starttag(self, tag, attrs):
        if tag == "script" and not dict(attrs).get("src"):
            self.errors.append("inline script")
        if tag not in VOID:
            self.stack.append(tag)
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> while open: %s" % (tag, self.stack[-3:]))
        else:
            self.stack.pop()
    def handle_data(self, data):
        if self.stack and self.stack[-1] == "script" and data.strip():
            self.errors.append("script text")
        self.text.append(data)
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
p.close()
assert not p.errors, p.errors
assert p.stack == [], "never closed: %s" % p.stack
if len(sys.argv) > 2:
    assert sys.argv[2] in "".join(p.text), "text not shown: %r" % sys.argv[2]
PY
}

# ---- the queue ----
get / index.html
assert_eq "$(status index.html)" 200 "GET / status"
assert_eq "$(header index.html Content-Type)" "text/html; charset=utf-8" "GET / type"
check_html "$T/index.html" "$EVIL"
grep -qF '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;' "$T/index.html" ||
	fail "the prompt is not escaped as expected in /"
grep -q '<script>alert' "$T/index.html" && fail "the prompt reached / raw"
grep -q "id=\"job-$id1\"" "$T/index.html" || fail "no row for job $id1"
grep -q 'succeeded <b>2</b>' "$T/index.html" || fail "no count of succeeded jobs"
grep -q '<svg class="chart"' "$T/index.html" || fail "no chart"
grep -q 'final images per minute: 2 in the last hour' "$T/index.html" ||
	fail "the chart does not count the 2 finals"
n_thumbs=$(grep -o "<img src=\"/images/[0-9]*/thumb?v=[0-9a-f]\{12\}\"" "$T/index.html" | wc -l)
assert_eq "$n_thumbs" "$(sql "SELECT count(*) FROM images")" "thumbnails in / (partials and finals)"
get /app.js app.js
assert_eq "$(header app.js Content-Type)" "text/javascript; charset=utf-8" "script type"
grep -q "EventSource" "$T/app.js" || fail "the script does not listen"

# filter by a word and by state, a bad state, a bad id
get "/?q=RED" red.html
grep -q "id=\"job-$id2\"" "$T/red.html" || fail "?q=RED lost job $id2"
grep -q "id=\"job-$id1\"" "$T/red.html" && fail "?q=RED kept job $id1"
grep -q 'value="RED"' "$T/red.html" || fail "the form forgot the word"
# a word with quotes: stored escaped in the JSON text, found in the prompt
get "/?q=%22X%22" quoted.html
grep -q "id=\"job-$id1\"" "$T/quoted.html" || fail "?q=\"X\" lost job $id1"
get "/?state=failed" failed.html
grep -q 'id="job-' "$T/failed.html" && fail "?state=failed shows jobs"
get "/?state=%3Cb%3E" bad.html
assert_eq "$(status bad.html)" 400 "an unknown state"
check_html "$T/bad.html"

# ---- a job ----
get "/jobs/$id1" job.html
assert_eq "$(status job.html)" 200 "GET /jobs/$id1"
check_html "$T/job.html" "$EVIL"
grep -q '<script>alert' "$T/job.html" && fail "the prompt reached /jobs raw"
grep -q '<td>req_1</td>' "$T/job.html" || fail "no request id in the attempts"
grep -q "\"/inputs/$id1/image/0/thumb?v=" "$T/job.html" || fail "no input thumbnail"
grep -q 'queued → running' "$T/job.html" || fail "no history"
for p in /jobs/999 /jobs/abc /images/999 /images/1/big /nowhere; do
	get "$p" nf.html
	assert_eq "$(status nf.html)" 404 "GET $p"
	check_html "$T/nf.html"
done

# ---- bytes: the stored image, 304, thumbnails ----
img=$(sql "SELECT id FROM images WHERE job_id = $id1 AND kind = 'final'")
sha=$(sql "SELECT sha256 FROM images WHERE id = $img")
get "/images/$img" img.png
assert_eq "$(sha256sum <"$T/img.png" | cut -d' ' -f1)" "$sha" "the bytes of /images/$img"
assert_eq "$(header img.png ETag)" "\"$sha\"" "ETag"
assert_eq "$(header img.png Content-Type)" image/png "image type"
assert_eq "$(header img.png Cache-Control)" "private, max-age=31536000, immutable" "caching"
get "/images/$img" img304 -H "If-None-Match: \"$sha\""
assert_eq "$(status img304)" 304 "If-None-Match"
[ -s "$T/img304" ] && fail "a 304 with a body"

# png_size FILE: "W H" from the IHDR of a PNG
png_size() {
	python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(); assert d[:8]==b"\x89PNG\r\n\x1a\n" and d[12:16]==b"IHDR"; print("%d %d" % struct.unpack(">II", d[16:24]))' "$1"
}
fit() { # W H -> the size in a 160 square, as thumb_fit rounds
	python3 -c 'import sys; w,h=map(int,sys.argv[1:]); m=160
if w<=m and h<=m: print(w,h)
elif w>=h: print(m, max(1,(h*m+w//2)//w))
else: print(max(1,(w*m+h//2)//h), m)' "$1" "$2"
}
get "/images/$img/thumb" thumb.png
assert_eq "$(header thumb.png Content-Type)" image/png "thumbnail type"
wh=$(sql -separator ' ' "SELECT width, height FROM images WHERE id = $img")
assert_eq "$(png_size "$T/thumb.png")" "$(fit $wh)" "thumbnail of a ${wh/ /x} image"
get "/images/$img/thumb" thumb2.png
cmp -s "$T/thumb.png" "$T/thumb2.png" || fail "the cached thumbnail differs"
get "/inputs/$id1/image/0/thumb" inthumb.png
assert_eq "$(png_size "$T/inthumb.png")" "160 107" "thumbnail of the 300x200 input"
get "/inputs/$id1/image/0" in.raw
cmp -s "$T/in.raw" "$T/in.png" || fail "/inputs/$id1/image/0 is not the submitted file"
get "/inputs/$id1/mask/0" nomask
assert_eq "$(status nomask)" 404 "a mask the job does not have"

# ---- serve wrote nothing, and could not: the file is open O_RDONLY ----
python3 - "$SERVE_PID" "$DB" <<'PY' || fail "serve's descriptors of the database"
import os, sys
pid, db = sys.argv[1], os.path.realpath(sys.argv[2])
seen = 0
for fd in os.listdir("/proc/%s/fd" % pid):
    try:
        target = os.readlink("/proc/%s/fd/%s" % (pid, fd))
    except OSError:
        continue
    if target == db:
        flags = open("/proc/%s/fdinfo/%s" % (pid, fd)).read().split("flags:")[1].split()[0]
        assert int(flags, 8) & 3 == 0, "%s open for writing (flags %s)" % (target, flags)
        seen += 1
assert seen >= 1, "serve has no descriptor of the database"
PY
assert_eq "$(sha256sum <"$DB")" "$db_sha" "the database file after serving"
assert_eq "$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)" "$wal_before" "the WAL after serving"

# ---- paging: 55 more jobs, 50 a page ----
sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 55)
     INSERT INTO jobs (state, params) SELECT 'canceled',
       json_object('prompt', 'bulk ' || i, 'model', 'gpt-image-2.6-flare') FROM n;"
get / p1.html
assert_eq "$(grep -c '<tr id="job-' "$T/p1.html")" 50 "rows on the first page"
next=$(grep -o 'href="/?state=&amp;q=&amp;before=[0-9]*">older' "$T/p1.html" | grep -o '[0-9]*')
[ -n "$next" ] || fail "no link to older jobs"
get "/?before=$next" p2.html
assert_eq "$(grep -c '<tr id="job-' "$T/p2.html")" 7 "rows on the second page"
grep -q "id=\"job-$id1\"" "$T/p2.html" || fail "job $id1 not on the second page"

# ---- rows another program wrote badly: shown, never trusted ----
bad=$(sql "INSERT INTO jobs (state, params) VALUES ('failed', 'not json <u>x') RETURNING id")
sql "INSERT INTO attempts (job_id, number, started_at, outcome, error_message)
       VALUES ($bad, 1, 0, 'failed', '<img src=x onerror=alert(1)>');
     INSERT INTO images (job_id, attempt_id, kind, idx, format, width, height, size,
                         sha256, created_at, data)
       VALUES ($bad, last_insert_rowid(), 'final', 0, 'png', -5, NULL, 6,
               '\"><script>', 0, CAST('<html>' AS BLOB));"
badimg=$(sql "SELECT id FROM images WHERE job_id = $bad")
for p in / "/jobs/$bad"; do
	get "$p" hostile.html
	assert_eq "$(status hostile.html)" 200 "GET $p with a hostile row"
	check_html "$T/hostile.html"
	grep -qE '<script>|<img src=x|<u>x' "$T/hostile.html" && fail "hostile text reached $p raw"
done
grep -qF '&lt;img src=x onerror=alert(1)&gt;' "$T/hostile.html" ||
	fail "the attempt's error is not shown escaped on /jobs/$bad"
grep -qF 'not json &lt;u&gt;x' "$T/hostile.html" || fail "the bad params are not shown"
get "/images/$badimg" badimg
assert_eq "$(header badimg Content-Type)" application/octet-stream "bytes that are no image"
assert_eq "$(header badimg ETag)" "\"$(printf '<html>' | sha256sum | cut -d' ' -f1)\"" \
	"the ETag of a row with a bad sha256"
get "/images/$badimg/thumb" badthumb
assert_eq "$(status badthumb)" 422 "a thumbnail of bytes that are no image"

# ---- live: a job inserted by another program reaches /events ----
ev=$(sql "SELECT max(id) FROM events")
im=$(sql "SELECT coalesce(max(id), 0) FROM images")
curl -sN "${U}events?ev=$ev&img=$im" >"$T/events.txt" &
EXTRA_PIDS="$EXTRA_PIDS $!"
for i in $(seq 1 100); do grep -q '^retry:' "$T/events.txt" && break; sleep 0.05; done
new=$(sql "INSERT INTO jobs (params) VALUES ('{\"prompt\":\"late\"}') RETURNING id")
for i in $(seq 1 100); do
	grep -q "^data: {\"job\":$new,\"from\":null,\"to\":\"queued\"}" "$T/events.txt" && break
	sleep 0.05
done
grep -q "^data: {\"job\":$new,\"from\":null,\"to\":\"queued\"}" "$T/events.txt" ||
	fail "/events did not tell about job $new: $(cat "$T/events.txt")"
# a browser that reconnects with Last-Event-ID gets what it missed at once
curl -sN -m 1 -H "Last-Event-ID: $ev-$im" "${U}events" >"$T/again.txt" || true
grep -q "^data: {\"job\":$new,\"from\":null,\"to\":\"queued\"}" "$T/again.txt" ||
	fail "a reconnect from $ev-$im missed job $new: $(cat "$T/again.txt")"
get "/fragment/row/$new" row.html
grep -q "^<tr id=\"job-$new\" class=\"s-queued\">" "$T/row.html" || fail "the row of job $new"

# ---- DNS rebinding: on loopback, only local Host names are answered ----
get / rebound.html -H "Host: evil.example:8080"
assert_eq "$(status rebound.html)" 403 "a page under another machine's name"
grep -q "prompt" "$T/rebound.html" && fail "the 403 page shows the queue"
get /images/1 rebound.bin -H "Host: evil.example"
assert_eq "$(status rebound.bin)" 403 "an image under another machine's name"
get / local.html -H "Host: localhost:8080"
assert_eq "$(status local.html)" 200 "the page under localhost"

stop_serve

# ---- listening: usage, a warning off loopback ----
rc=0
"$IMGEDITCTL" serve --listen nonsense 2>"$T/usage.err" || rc=$?
assert_eq "$rc" 2 "serve --listen nonsense"
rc=0
"$IMGEDITCTL" --db "$T/missing.db" serve 2>/dev/null || rc=$?
assert_eq "$rc" 3 "serve on a missing database"
"$IMGEDITCTL" serve --listen 0.0.0.0:0 >"$T/any.out" 2>"$T/any.err" &
any=$!
EXTRA_PIDS="$EXTRA_PIDS $any"
for i in $(seq 1 100); do grep -q '^serving' "$T/any.out" && break; sleep 0.05; done
grep -q 'warning: listening on 0.0.0.0, not a loopback address' "$T/any.err" ||
	fail "no warning for 0.0.0.0: $(cat "$T/any.err")"
kill -TERM "$any"
wait "$any" || fail "serve on 0.0.0.0 did not exit 0"
grep -q warning "$T/serve.err" && fail "a warning on loopback: $(cat "$T/serve.err")"
pass "pages, escaping, bytes, ETag/304, thumbnails, paging, /events, no writes, the warning"
