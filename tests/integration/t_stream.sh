#!/usr/bin/env bash
# Streaming gpt-image-2.6-flare jobs with 1 and 16 input images and 3 partials: every
# partial and final is stored, bytes equal what the fake upstream sent, the
# multipart request carried the right parts, and export writes the same bytes.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 40000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/one.png" 64 64
imgs=()
for i in $(seq 1 16); do mkpng "$T/in$i.png" 32 32; imgs+=("$T/in$i.png"); done

id1=$("$IMGEDITCTL" submit -p "one image" --model gpt-image-2.6-flare --partial-images 3 "$T/one.png")
id16=$("$IMGEDITCTL" submit -p "sixteen images" --model gpt-image-2.6-flare --partial-images 3 "${imgs[@]}")
start_daemon --concurrency 4
wait_jobs_done 60

for id in "$id1" "$id16"; do
	assert_eq "$(sql "SELECT state FROM jobs WHERE id=$id")" succeeded "job $id state"
	assert_eq "$(sql "SELECT count(*) FROM images WHERE job_id=$id AND kind='partial'")" 3 "job $id partials"
	assert_eq "$(sql "SELECT count(*) FROM images WHERE job_id=$id AND kind='final'")" 1 "job $id finals"
	assert_eq "$(sql "SELECT count(*) FROM attempts WHERE job_id=$id")" 1 "job $id attempts"
	assert_eq "$(sql "SELECT count(*) FROM attempts WHERE job_id=$id AND request_id LIKE 'req_%' AND http_status=200 AND outcome='succeeded'")" 1 "job $id attempt row"
done
# usage recorded from image_edit.completed
[ "$(sql "SELECT total_tokens FROM jobs WHERE id=$id1")" -gt 0 ] || fail "no tokens recorded"

# The request: one image as "image", sixteen as "image[]", real types, exact bytes.
python3 - "$FAKE_LOG" "$T" <<'PY' || fail "multipart parts differ from the inputs"
import hashlib, json, sys
recs = {json.loads(l)["fields"]["prompt"]: json.loads(l) for l in open(sys.argv[1]) if '"POST"' in l}
one, six = recs["one image"], recs["sixteen images"]
def sha(p): return hashlib.sha256(open(p, "rb").read()).hexdigest()
assert [f["name"] for f in one["files"]] == ["image"], one["files"]
assert one["files"][0]["sha256"] == sha(sys.argv[2] + "/one.png")
assert [f["name"] for f in six["files"]] == ["image[]"] * 16, [f["name"] for f in six["files"]]
for i, f in enumerate(six["files"], 1):
    assert f["content_type"] == "image/png", f
    assert f["sha256"] == sha(sys.argv[2] + "/in%d.png" % i), (i, f)
    assert f["filename"] == "in%d.png" % i, f
assert one["fields"]["stream"] == "true" and one["fields"]["partial_images"] == "3"
assert one["fields"]["model"] == "gpt-image-2.6-flare"
PY

# What the database holds equals what was sent, image by image.
db_sha=$(sql "SELECT sha256 FROM images ORDER BY sha256")
sent=$( (fake_sent_sha partial; fake_sent_sha final) | sort)
assert_eq "$db_sha" "$sent" "sha256 of stored images vs sent"
recomputed=$(sql "SELECT id FROM images" | while read -r iid; do
	sql "SELECT writefile('$T/blob', data) FROM images WHERE id=$iid" >/dev/null
	sha256sum "$T/blob" | cut -d' ' -f1
done | sort)
assert_eq "$recomputed" "$sent" "sha256 of stored bytes"

# Export writes exactly those bytes.
"$IMGEDITCTL" export "$id1" "$id16" --partials -o "$T/out" >/dev/null
exported=$(find "$T/out" -name '*.png' -exec sha256sum {} + | cut -d' ' -f1 | sort)
assert_eq "$exported" "$sent" "sha256 of exported files"
[ -f "$T/out/$id16/final-0.png" ] || fail "missing $id16/final-0.png"
[ -f "$T/out/$id16/partial-a1-2.png" ] || fail "missing $id16/partial-a1-2.png"
[ -f "$T/out/$id1/job.json" ] || fail "missing job.json"
stop_daemon
pass "2 jobs, 8 images, bytes equal at upstream, database and export"
