#!/usr/bin/env bash
# A GIF job end to end: --output-format gif --frame-count 3 (not streamed
# by default) through the fake upstream, which answers an animated GIF of 3
# frames; stored as gif, exported as final-0.gif byte for byte what upstream
# sent, served as image/gif with a PNG thumbnail of its first frame. What
# GIF excludes is refused at submit, and by upstream for a row that asks.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 64 64 rgba
id=$("$IMGEDITCTL" submit -p "animate" --model gpt-image-2.6-flare --output-format gif \
	--frame-count 3 --frame-duration-ms 120 "$T/a.png")
assert_eq "$(sql "SELECT stream FROM jobs WHERE id=$id")" 0 "a GIF job's stream column"
for bad in "--stream" "--partial-images 1 --stream" "--output-compression 50" "--mask $T/a.png"; do
	rc=0
	# shellcheck disable=SC2086
	"$IMGEDITCTL" submit -p "bad gif" --model gpt-image-2.6-flare --output-format gif $bad \
		"$T/a.png" >/dev/null 2>"$T/err" || rc=$?
	assert_eq "$rc" 2 "exit status of a GIF job with $bad"
done
rc=0
"$IMGEDITCTL" submit -p "frames" --model gpt-image-2.6-flare --frame-count 3 "$T/a.png" \
	>/dev/null 2>"$T/err" || rc=$?
assert_eq "$rc" 2 "exit status of --frame-count without gif"
grep -q "frame_count: only with output_format gif" "$T/err" || fail "frames: $(cat "$T/err")"
# a row written by another program asking a streamed GIF: upstream's 400
sql "BEGIN IMMEDIATE;
INSERT INTO jobs (params, stream, max_attempts) VALUES
 ('{\"prompt\":\"streamed gif\",\"output_format\":\"gif\",\"stream\":true}', 1, 1);
INSERT INTO inputs (job_id, role, ordinal, filename, data)
VALUES (last_insert_rowid(), 'image', 0, 'a.png', readfile('$T/a.png'));
COMMIT;"
start_daemon
wait_jobs_done 30
stop_daemon
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$id")" succeeded "the GIF job"
assert_eq "$(sql "SELECT format FROM images WHERE job_id=$id AND kind='final'")" gif "stored format"
sent=$(fake_sent_sha final animate)
[ -n "$sent" ] || fail "the fake upstream sent no final"
assert_eq "$(stored_sha "$id" final)" "$sent" "stored bytes"
python3 - "$FAKE_LOG" <<'PY' || fail "the request's GIF fields"
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    f = r.get("fields") or {}
    if f.get("prompt") == "animate":
        assert f["output_format"] == "gif" and f["frame_count"] == "3", f
        assert f["frame_duration_ms"] == "120" and f.get("stream", "false") == "false", f
        sys.exit(0)
sys.exit(1)
PY

"$IMGEDITCTL" export "$id" -o "$T/out" >"$T/paths.txt"
gif=$(grep "/final-0.gif$" "$T/paths.txt") || fail "no final-0.gif: $(cat "$T/paths.txt")"
assert_eq "$(sha256sum <"$gif" | cut -d' ' -f1)" "$sent" "exported bytes"
assert_eq "$(head -c 6 "$gif")" GIF89a "the export's signature"
frames=$(python3 - "$gif" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
print(d.count(b"\x21\xf9\x04"))
PY
)
assert_eq "$frames" 3 "frames in the GIF"

start_serve
img=$(sql "SELECT id FROM images WHERE job_id=$id AND kind='final'")
curl -sS -o "$T/img" -D "$T/img.h" "${SERVE_URL%/}/images/$img" || fail "curl image"
grep -qi "^content-type: image/gif" "$T/img.h" || fail "image type: $(cat "$T/img.h")"
assert_eq "$(sha256sum <"$T/img" | cut -d' ' -f1)" "$sent" "served bytes"
curl -sS -o "$T/thumb" -D "$T/thumb.h" "${SERVE_URL%/}/images/$img/thumb" || fail "curl thumb"
grep -q "^HTTP/1.1 200" "$T/thumb.h" || fail "thumbnail: $(cat "$T/thumb.h") $(cat "$T/thumb")"
grep -qi "^content-type: image/png" "$T/thumb.h" || fail "thumbnail type: $(cat "$T/thumb.h")"
assert_eq "$(head -c 8 "$T/thumb" | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a "the thumbnail's signature"
stop_serve

bad=$(sql "SELECT id FROM jobs WHERE params LIKE '%streamed gif%'")
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$bad")" failed "the streamed GIF row"
sql "SELECT error_message FROM jobs WHERE id=$bad" | grep -q "GIF output does not support streaming" ||
	fail "the row's error: $(sql "SELECT error_message, error_param FROM jobs WHERE id=$bad")"
pass "a GIF job runs end to end: stored as gif, exported as final-0.gif, served as image/gif with a thumbnail"
