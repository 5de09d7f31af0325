#!/usr/bin/env bash
# t_ctl_basic.sh: imgeditctl against a real database (lib.sh's: an SQLite
# file, or PostgreSQL in it.pg.t_ctl_basic), checked with its own shell:
# init, submit (one, --each, --from, --key), bad input, list, show, cancel,
# retry, wait, export, status, pause/resume, prune, exit codes.
. "$(dirname "$0")/lib.sh"

C=$IMGEDITCTL
cd "$T"
sq() { sql "$@"; }
sha() { sha256sum "$1" | cut -c1-64; }
n_jobs() { sq "SELECT count(*) FROM jobs"; }
n_blobs() { sq "SELECT count(*) FROM blobs"; }

# expect_rc RC CMD...: runs CMD, stdout to out.txt, stderr to err.txt.
expect_rc() {
	local want=$1 got=0
	shift
	"$@" >out.txt 2>err.txt || got=$?
	if [ "$got" != "$want" ]; then
		echo "--- stdout:" >&2; cat out.txt >&2
		echo "--- stderr:" >&2; cat err.txt >&2
		fail "exit status $got, wanted $want: $*"
	fi
}
err_has() { grep -qF -- "$1" err.txt || fail "stderr lacks '$1': $(cat err.txt)"; }
eq() { [ "$1" = "$2" ] || fail "$3: got '$1', wanted '$2'"; }

# Test images: PNGs (RGB, RGBA, several sizes), a JPEG and a WebP header.
python3 - <<'EOF'
import struct, zlib
def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
def png(path, w, h, alpha, seed):
    bpp = 4 if alpha else 3
    rows = b''.join(b'\x00' + bytes((x * 7 + y * 13 + seed + i) & 255
                                    for x in range(w) for i in range(bpp))
                    for y in range(h))
    ihdr = struct.pack('>IIBBBBB', w, h, 8, 6 if alpha else 2, 0, 0, 0)
    open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) +
                           chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))
png('a.png', 64, 64, True, 1)
png('b.png', 64, 64, False, 2)
png('c.png', 32, 48, False, 3)
png('mask.png', 64, 64, True, 4)
for i in range(5):
    png('e%d.png' % i, 64, 64, True, 10 + i)
app0 = b'\xff\xe0' + struct.pack('>H', 16) + b'JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00'
sof = b'\xff\xc0' + struct.pack('>HBHHB', 17, 8, 48, 64, 3) + b'\x01\x22\x00\x02\x11\x01\x03\x11\x01'
open('d.jpg', 'wb').write(b'\xff\xd8' + app0 + sof + b'\xff\xd9')
vp8l = b'\x2f' + struct.pack('<I', 63 | (47 << 14)) + b'\x00' * 4
ch = b'VP8L' + struct.pack('<I', len(vp8l)) + vp8l
open('f.webp', 'wb').write(b'RIFF' + struct.pack('<I', 4 + len(ch)) + b'WEBP' + ch)
open('notes.txt', 'w').write('not an image\n')
EOF

echo "# usage and database errors before init"
expect_rc 2 env -u IMGEDIT_DB "$C" list
err_has "IMGEDIT_DB"
expect_rc 3 "$C" list
if on_pg; then
	err_has "schema version 0"   # the server is there, the schema not yet
else
	err_has "cannot open DB"
fi
err_has "init"
expect_rc 2 "$C" frobnicate
expect_rc 2 "$C"
expect_rc 0 "$C" --version
expect_rc 0 "$C" help
expect_rc 0 "$C" submit --help
grep -q -- "--each" out.txt || fail "submit --help does not mention --each"

echo "# init"
expect_rc 0 "$C" init
tables="('jobs','inputs','blobs','attempts','images','events','daemons','control')"
if on_pg; then
	grep -q "^postgresql://.*/imgedit?host=$PG_DIR" out.txt || fail "init does not name the database: $(cat out.txt)"
	eq "$(sq 'SELECT version FROM schema_version')" 4 "schema version after init"
	eq "$(sq "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN $tables")" 8 "tables"
else
	grep -qF "$DB" out.txt || fail "init does not print the path"
	eq "$(sq 'PRAGMA user_version')" 4 "schema version after init"
	eq "$(sq "SELECT count(*) FROM sqlite_master WHERE name IN $tables")" 8 "tables"
	eq "$(sq 'PRAGMA journal_mode')" wal "journal mode"
fi
expect_rc 0 "$C" --db "$DB" init   # again: nothing to migrate
expect_rc 0 env -u IMGEDIT_DB "$C" list --db "$DB"   # --db after the verb

echo "# submit one job"
expect_rc 0 "$C" submit -p "make it blue" --model gpt-image-2.6-flare --n 2 \
	--size 1024x1024 --quality high --output-format png --partial-images 2 \
	--param foo=bar --param 'x={"a":1}' --param k=3 --priority 7 \
	--max-attempts 3 a.png c.png --mask mask.png
id1=$(cat out.txt)
[[ "$id1" =~ ^[0-9]+$ ]] || fail "submit printed '$id1', not an id"
sq "SELECT params FROM jobs WHERE id = $id1" > params.json
python3 - params.json <<'EOF' || fail "params JSON of job 1 is wrong: $(cat params.json)"
import json, sys
p = json.load(open(sys.argv[1]))
want = {"prompt": "make it blue", "model": "gpt-image-2.6-flare", "n": 2,
        "size": "1024x1024", "quality": "high", "output_format": "png",
        "partial_images": 2, "foo": "bar", "x": {"a": 1}, "k": 3}
assert p == want, p
EOF
eq "$(sq "SELECT stream, priority, max_attempts, state, attempts FROM jobs WHERE id = $id1")" "1|7|3|queued|0" "job 1 columns"
eq "$(sq "SELECT group_concat(role || ':' || ordinal || ':' || filename || ':' || content_type, ' ') FROM (SELECT * FROM inputs WHERE job_id = $id1 ORDER BY role, ordinal) AS s")" \
	"image:0:a.png:image/png image:1:c.png:image/png mask:0:mask.png:image/png" "inputs of job 1"
for f in a.png c.png mask.png; do
	eq "$(sq "SELECT b.sha256 FROM inputs i JOIN blobs b ON b.id = i.blob_id WHERE i.job_id = $id1 AND i.filename = '$f'")" "$(sha $f)" "sha256 of $f"
	eq "$(sq "SELECT $(on_pg && echo "upper(encode(b.data, 'hex'))" || echo "hex(b.data)") FROM inputs i JOIN blobs b ON b.id = i.blob_id WHERE i.job_id = $id1 AND i.filename = '$f'")" \
		"$(python3 -c 'import sys; print(open(sys.argv[1],"rb").read().hex().upper())' $f)" "bytes of $f"
done
eq "$(sq "SELECT count(*) FROM events WHERE job_id = $id1 AND to_state = 'queued'")" 1 "history of job 1"

echo "# content types from the bytes, --no-stream"
expect_rc 0 "$C" submit -p "x" --model gpt-image-2.6-flare --no-stream d.jpg f.webp b.png
id2=$(cat out.txt)
eq "$(sq "SELECT group_concat(content_type, ' ') FROM (SELECT content_type FROM inputs WHERE job_id = $id2 ORDER BY ordinal) AS s")" \
	"image/jpeg image/webp image/png" "content types"
eq "$(sq "SELECT stream FROM jobs WHERE id = $id2")" 0 "--no-stream"
eq "$(sq "SELECT count(*) FROM jobs WHERE id = $id2 AND $(json_field stream) IS NULL")" 1 "stream kept out of params"

echo "# --each with a shared mask"
blobs0=$(n_blobs)
expect_rc 0 "$C" submit -p "each" --model gpt-image-2.6-flare --each e0.png e1.png e2.png e3.png e4.png --mask mask.png
eq "$(wc -l < out.txt)" 5 "ids printed by --each"
eq "$(sort -u out.txt | wc -l)" 5 "distinct ids from --each"
first=$(head -1 out.txt)
eq "$(sq "SELECT count(*) FROM jobs WHERE id >= $first")" 5 "jobs made by --each"
eq "$(sq "SELECT count(*) FROM blobs WHERE sha256 = '$(sha mask.png)'")" 1 "mask blob rows"
eq "$(sq "SELECT count(DISTINCT blob_id) || '/' || count(*) FROM inputs WHERE role = 'mask' AND job_id >= $first")" "1/5" "mask inputs share one blob"
eq "$(n_blobs)" $((blobs0 + 5)) "blobs after --each (5 new images, mask stored before)"
eq "$(sq "SELECT filename FROM inputs WHERE job_id = $((first + 2)) AND role = 'image'")" e2.png "--each order"

echo "# --key idempotency"
expect_rc 0 "$C" submit -p "k" --model gpt-image-2.6-flare --key order-17 b.png
idk=$(cat out.txt)
jobs0=$(n_jobs)
expect_rc 0 "$C" submit -p "k" --model gpt-image-2.6-flare --key order-17 b.png
eq "$(cat out.txt)" "$idk" "resubmit with the same key"
eq "$(n_jobs)" "$jobs0" "jobs after resubmit with the same key"
eq "$(sq "SELECT idempotency_key FROM jobs WHERE id = $idk")" order-17 "stored key"

echo "# bad input: exit 2, nothing written"
jobs0=$(n_jobs); blobs0=$(n_blobs); inputs0=$(sq "SELECT count(*) FROM inputs")
unchanged() {
	eq "$(n_jobs)" "$jobs0" "jobs after a rejected submit ($1)"
	eq "$(n_blobs)" "$blobs0" "blobs after a rejected submit ($1)"
	eq "$(sq "SELECT count(*) FROM inputs")" "$inputs0" "inputs after a rejected submit ($1)"
}
expect_rc 2 "$C" submit -p x --model gpt-image-2.6-flare missing.png
err_has "missing.png"; unchanged "missing file"
expect_rc 2 "$C" submit -p x --model gpt-image-2.6-flare notes.txt
err_has "notes.txt: not a PNG, JPEG, WebP or GIF image"; unchanged "not an image"
expect_rc 2 "$C" submit -p x --model gpt-image-2.6-flare --each e0.png e1.png notes.txt e2.png
err_has "notes.txt"; unchanged "--each with one bad file"
expect_rc 2 "$C" submit -p x --model gpt-image-2.6-flare --n 11 a.png
err_has "n:"; unchanged "--n 11"
expect_rc 2 "$C" submit -p x --model gpt-image-2.6-flare --n abc a.png
err_has "--n"; unchanged "--n abc"
expect_rc 2 "$C" submit -p x --model gpt-image-2.6-flare --each e0.png e1.png --mask c.png
err_has "mask"; unchanged "mask of another size"
expect_rc 2 "$C" submit -p x --model gpt-image-2.6-flare --max-attempts 0 a.png
err_has "--max-attempts"; unchanged "--max-attempts 0"
expect_rc 2 "$C" submit -p x --model gpt-image-2.6-flare --param stream=true a.png
unchanged "--param stream"
expect_rc 2 "$C" submit -p x --model gpt-image-2.6-flare
err_has "IMAGE"; unchanged "no image"
expect_rc 2 "$C" submit -p x --model gpt-image-2.6-flare --not-before yesterday-ish a.png
err_has "--not-before"; unchanged "bad --not-before"

echo "# --from FILE.jsonl"
mkdir -p batch/in
cp a.png b.png mask.png batch/in/
cat > batch/jobs.jsonl <<'EOF'
{"prompt": "one", "images": ["in/a.png"], "mask": "in/mask.png", "model": "gpt-image-2.6-flare", "priority": 3, "key": "line-1", "quality": "low"}

{"prompt": "two", "images": ["in/a.png", "in/b.png"], "model": "gpt-image-2.6-flare", "stream": false, "max_attempts": 2, "not_before": "10m", "user": "u-42"}
EOF
expect_rc 0 "$C" submit --from batch/jobs.jsonl
eq "$(wc -l < out.txt)" 2 "ids printed by --from"
j1=$(sed -n 1p out.txt); j2=$(sed -n 2p out.txt)
eq "$(sq "SELECT priority, stream, idempotency_key, $(json_field quality) FROM jobs WHERE id = $j1")" "3|1|line-1|low" "--from line 1"
eq "$(sq "SELECT max_attempts, stream, CAST(not_before > $(sql_now_ms) + 500000 AS INTEGER), $(json_field user) FROM jobs WHERE id = $j2")" "2|0|1|u-42" "--from line 3"
eq "$(sq "SELECT count(*) FROM inputs WHERE job_id = $j2")" 2 "--from inputs"
jobs0=$(n_jobs); blobs0=$(n_blobs); inputs0=$(sq "SELECT count(*) FROM inputs")
printf '%s\n' '{"prompt": "ok", "images": ["in/b.png"], "model": "gpt-image-2.6-flare"}' \
	'{"prompt": "bad", "images": ["in/nope.png"], "model": "gpt-image-2.6-flare"}' > batch/bad.jsonl
expect_rc 2 "$C" submit --from batch/bad.jsonl
err_has "batch/bad.jsonl:2"; err_has "nope.png"; unchanged "--from with a missing file"
printf '%s\n' '{"prompt": "ok", "images": ["in/b.png"], "model": "gpt-image-2.6-flare"}' '{"prompt": ' > batch/bad.jsonl
expect_rc 2 "$C" submit --from batch/bad.jsonl
err_has "batch/bad.jsonl:2"; unchanged "--from with broken JSON"
printf '%s\n' '{"prompt": "x", "images": ["in/b.png"], "model": "gpt-image-2.6-flare", "n": 0}' > batch/bad.jsonl
expect_rc 2 "$C" submit --from batch/bad.jsonl
err_has "batch/bad.jsonl:1: n:"; unchanged "--from with n 0"
expect_rc 0 "$C" submit --from batch/jobs.jsonl   # line 1 has a key
eq "$(sed -n 1p out.txt)" "$j1" "--from resubmit returns the keyed job"

echo "# list"
expect_rc 0 "$C" list
grep -q "^$j2 " out.txt || fail "list lacks job $j2"
expect_rc 0 "$C" list --json --limit 3
python3 - out.txt "$j2" <<'EOF' || fail "list --json: $(cat out.txt)"
import json, sys
a = json.load(open(sys.argv[1]))
assert isinstance(a, list) and len(a) == 3, a
ids = [j["id"] for j in a]
assert ids == sorted(ids, reverse=True), ids
assert any(j["id"] == int(sys.argv[2]) for j in a), ids
for j in a:
    for k in ("state", "attempts", "max_attempts", "model", "params", "final_images", "created_at", "error"):
        assert k in j, (k, j)
EOF
expect_rc 0 "$C" list --state canceled --json
eq "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' out.txt)" 0 "canceled jobs before cancel"
expect_rc 2 "$C" list --state nonsense
expect_rc 2 "$C" list --state queued,nonsense
err_has "unknown state 'nonsense'"
# several states at once, and --limit 0 for all of them
total=$(sq "SELECT count(*) FROM jobs")
expect_rc 0 "$C" list --state queued,canceled --limit 0 --json
eq "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' out.txt)" \
	"$(sq "SELECT count(*) FROM jobs WHERE state IN ('queued','canceled')")" "list --state queued,canceled --limit 0"
expect_rc 0 "$C" list --limit 0 --json
eq "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' out.txt)" "$total" "list --limit 0"
expect_rc 0 "$C" list --since 1h --json

echo "# show"
expect_rc 0 "$C" show "$id1"
grep -q "mask.png" out.txt || fail "show lacks the mask input"
expect_rc 0 "$C" show "$id1" --json
python3 - out.txt "$(sha a.png)" <<'EOF' || fail "show --json: $(cat out.txt)"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["params"]["prompt"] == "make it blue"
assert [i["filename"] for i in j["inputs"]] == ["a.png", "c.png", "mask.png"], j["inputs"]
assert j["inputs"][0]["sha256"] == sys.argv[2]
assert j["inputs"][0]["content_type"] == "image/png"
assert j["attempt_log"] == [] and j["images"] == []
assert j["events"][0]["to_state"] == "queued"
EOF
expect_rc 1 "$C" show 999999
err_has "999999"
expect_rc 2 "$C" show abc

echo "# cancel and retry"
expect_rc 0 "$C" cancel "$id2"
eq "$(sq "SELECT state, CAST(finished_at IS NOT NULL AS INTEGER) FROM jobs WHERE id = $id2")" "canceled|1" "after cancel"
expect_rc 1 "$C" cancel "$id2"
err_has "canceled"
# a running job (as the daemon leaves it): the lease goes with the cancel
sq "UPDATE jobs SET state = 'running', lease_owner = 'd-test', lease_expires = 9999999999999, attempts = 1 WHERE id = $idk"
expect_rc 0 "$C" cancel "$idk"
eq "$(sq "SELECT state, CAST(lease_owner IS NULL AS INTEGER), CAST(lease_expires IS NULL AS INTEGER) FROM jobs WHERE id = $idk")" "canceled|1|1" "cancel of a running job"
expect_rc 1 "$C" cancel 999999 "$j1"
err_has "999999"
eq "$(sq "SELECT state FROM jobs WHERE id = $j1")" canceled "cancel goes on after a missing id"
expect_rc 0 "$C" retry "$id2"
eq "$(sq "SELECT state, not_before, CAST(finished_at IS NULL AS INTEGER) FROM jobs WHERE id = $id2")" "queued|0|1" "after retry"
expect_rc 1 "$C" retry "$id2"
err_has "queued"
# failed with every attempt used: retry allows one more and clears the error
sq "UPDATE jobs SET state = 'failed', attempts = 5, max_attempts = 5, error_status = 500, error_type = 'server_error', error_message = 'boom', finished_at = 1 WHERE id = $first"
expect_rc 0 "$C" retry "$first"
eq "$(sq "SELECT state, attempts, max_attempts, CAST(error_message IS NULL AS INTEGER), CAST(error_status IS NULL AS INTEGER) FROM jobs WHERE id = $first")" "queued|5|6|1|1" "retry of an exhausted job"
eq "$(sq "SELECT group_concat(coalesce(from_state, '') || '>' || to_state, ' ') FROM (SELECT * FROM events WHERE job_id = $first ORDER BY id) AS s")" \
	">queued queued>failed failed>queued" "history after retry"

echo "# export"
# Job $id1 succeeded: attempt 1 failed, attempt 2 streamed 2 partials and 2 finals.
cp c.png out-partial.png
printf 'JPEGBYTES\001\002\003' > out-final0.jpg
printf 'RIFF\000\000\000\000WEBPfinal1' > out-final1.webp
sq "
INSERT INTO attempts (job_id, number, started_at, ended_at, http_status, request_id, outcome, error_type, error_message)
  VALUES ($id1, 1, 1000, 2000, 500, 'req_a1', 'retry', 'server_error', 'upstream hiccup');
INSERT INTO attempts (job_id, number, started_at, ended_at, http_status, request_id, outcome, input_tokens, output_tokens, total_tokens, usage)
  VALUES ($id1, 2, 3000, 4000, 200, 'req_a2', 'succeeded', 50, 70, 120, '{\"total_tokens\":120}');
INSERT INTO images (job_id, attempt_id, kind, idx, partial_index, format, width, height, size, sha256, created_at, data)
  SELECT $id1, id, 'partial', 0, 0, 'png', 32, 48, $(stat -c %s out-partial.png), '$(sha out-partial.png)', 3500, $(sql_blob out-partial.png) FROM attempts WHERE job_id = $id1 AND number = 2;
INSERT INTO images (job_id, attempt_id, kind, idx, partial_index, format, width, height, size, sha256, created_at, data)
  SELECT $id1, id, 'partial', 1, 1, 'png', 32, 48, 3, '$(printf '\001\002\003' | sha256sum | cut -c1-64)', 3600, $(printf '\001\002\003' > three.bin; sql_blob three.bin) FROM attempts WHERE job_id = $id1 AND number = 2;
INSERT INTO images (job_id, attempt_id, kind, idx, format, width, height, size, sha256, created_at, data)
  SELECT $id1, id, 'final', 0, 'jpeg', 64, 48, $(stat -c %s out-final0.jpg), '$(sha out-final0.jpg)', 3900, $(sql_blob out-final0.jpg) FROM attempts WHERE job_id = $id1 AND number = 2;
INSERT INTO images (job_id, attempt_id, kind, idx, format, width, height, size, sha256, created_at, data)
  SELECT $id1, id, 'final', 1, 'webp', 64, 48, $(stat -c %s out-final1.webp), '$(sha out-final1.webp)', 3950, $(sql_blob out-final1.webp) FROM attempts WHERE job_id = $id1 AND number = 2;
UPDATE jobs SET state = 'succeeded', attempts = 2, finished_at = 4000, input_tokens = 50, output_tokens = 70, total_tokens = 120 WHERE id = $id1;"
mkdir -p out/$id1 outside
echo "half-written junk" > "out/$id1/final-0.jpg"              # replaced whole
echo "keep me" > outside/target
ln -s ../../outside/target "out/$id1/final-1.webp"               # replaced, not followed
expect_rc 0 "$C" export "$id1" -o out
for f in final-0.jpg final-1.webp job.json; do
	grep -qx "out/$id1/$f" out.txt || fail "export did not print out/$id1/$f: $(cat out.txt)"
done
eq "$(sha out/$id1/final-0.jpg)" "$(sha out-final0.jpg)" "exported final 0"
eq "$(sha out/$id1/final-1.webp)" "$(sha out-final1.webp)" "exported final 1"
[ ! -L "out/$id1/final-1.webp" ] || fail "export wrote through a symlink instead of replacing it"
eq "$(cat outside/target)" "keep me" "file outside DIR"
[ ! -e "out/$id1/partial-a2-0.png" ] || fail "partials exported without --partials"
python3 - "out/$id1/job.json" "$id1" <<'EOF' || fail "job.json: $(cat out/$id1/job.json)"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["id"] == int(sys.argv[2]) and j["state"] == "succeeded"
assert j["params"]["prompt"] == "make it blue"
assert j["usage"] == {"input_tokens": 50, "output_tokens": 70, "total_tokens": 120}, j["usage"]
assert [a["number"] for a in j["attempt_log"]] == [1, 2]
assert j["attempt_log"][0]["error"]["message"] == "upstream hiccup"
assert [(i["kind"], i["idx"], i["file"]) for i in j["images"]] == [("final", 0, "final-0.jpg"), ("final", 1, "final-1.webp")], j["images"]
assert all(len(i["sha256"]) == 64 and i["attempt"] == 2 for i in j["images"])
EOF
expect_rc 0 "$C" export "$id1" -o out --partials --json
eq "$(sha out/$id1/partial-a2-0.png)" "$(sha out-partial.png)" "exported partial 0"
eq "$(od -An -tx1 out/$id1/partial-a2-1.png | tr -d ' \n')" "010203" "exported partial 1"
python3 - out.txt <<'EOF' || fail "export --json: $(cat out.txt)"
import json, sys
a = json.load(open(sys.argv[1]))
assert len(a) == 1 and a[0]["ok"] is True and len(a[0]["files"]) == 5, a
EOF
[ -z "$(find out -name '.*tmp*')" ] || fail "export left temporary files: $(find out -name '.*tmp*')"
[ "$(find outside -type f | wc -l)" = 1 ] || fail "export wrote outside DIR: $(find outside)"
# a job directory that is a symlink is refused; missing jobs are reported
ln -s ../outside "out/$id2"
expect_rc 1 "$C" export 999999 "$id2" "$id1" -o out
err_has "999999"; err_has "out/$id2"
[ "$(find outside -type f | wc -l)" = 1 ] || fail "export wrote through a symlinked job directory: $(find outside)"
grep -qx "out/$id1/job.json" out.txt || fail "export stopped at the first bad id"
expect_rc 0 "$C" export --state succeeded -o out-state
[ -f "out-state/$id1/final-0.jpg" ] || fail "export --state succeeded missed job $id1"
expect_rc 2 "$C" export "$id1"
err_has "-o DIR"

echo "# wait"
expect_rc 0 "$C" wait "$id1" --timeout 5s
eq "$(cat out.txt)" "$id1 succeeded" "wait output"
sq "UPDATE jobs SET state = 'failed', error_message = 'moderation_blocked: nope', finished_at = 1 WHERE id = $j2"
expect_rc 1 "$C" wait "$id1" "$j2" --timeout 5s
err_has "moderation_blocked"
expect_rc 4 "$C" wait "$id2" --timeout 500ms
err_has "timed out"
err_has "no daemon has sent a heartbeat in the last 6 s"
# a job that finishes while we wait
( sleep 0.5; sq "UPDATE jobs SET state = 'canceled', finished_at = 1 WHERE id = $id2" ) &
expect_rc 1 "$C" wait "$id2" --timeout 10s
wait
eq "$(cat out.txt)" "$id2 canceled" "wait sees a change made by another process"

echo "# status, pause, resume"
sq "INSERT INTO daemons (id, host, pid, started_at, heartbeat_at, status, pause_reason)
    VALUES ('d-1', 'host-a', 4242, 1, $(sql_now_ms), 'running 0', '401 invalid api key')"
expect_rc 0 "$C" pause "quota exhausted"
eq "$(sq "SELECT value FROM control WHERE key = 'pause'")" "quota exhausted" "pause row"
expect_rc 0 "$C" status
grep -q "quota exhausted" out.txt || fail "status lacks the pause reason"
grep -q "host-a" out.txt || fail "status lacks the daemon"
expect_rc 0 "$C" status --json
python3 - out.txt "$(n_jobs)" "$(sq "SELECT count(*) FROM jobs WHERE state = 'queued'")" <<'EOF' || fail "status --json: $(cat out.txt)"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["jobs"]["total"] == int(sys.argv[2]), s["jobs"]
assert s["jobs"]["queued"] == int(sys.argv[3]), s["jobs"]
assert s["jobs"]["succeeded"] == 1
assert s["images"] == {"final": 2, "partial": 2}, s["images"]
assert s["tokens"]["total"] == 120, s["tokens"]
assert s["pause"] == {"paused": True, "reason": "quota exhausted"}, s["pause"]
d = s["daemons"][0]
assert d["id"] == "d-1" and d["pid"] == 4242 and d["pause_reason"] == "401 invalid api key", d
assert s["database"]["schema_version"] == 4
EOF
expect_rc 0 "$C" resume
eq "$(sq "SELECT count(*) FROM control WHERE key = 'pause'")" 0 "pause row after resume"
expect_rc 0 "$C" status --json
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["pause"]["paused"] is False' out.txt || fail "still paused after resume"

echo "# prune"
expect_rc 2 "$C" prune
expect_rc 2 "$C" prune --older-than 1d --state queued
old=$(sq "SELECT count(*) FROM jobs WHERE state IN ('succeeded','failed','canceled')")
sq "UPDATE jobs SET finished_at = 1 WHERE state IN ('succeeded','failed','canceled')"
queued=$(sq "SELECT count(*) FROM jobs WHERE state = 'queued'")
expect_rc 0 "$C" prune --older-than 1d --state failed
eq "$(sq "SELECT count(*) FROM jobs WHERE state = 'failed'")" 0 "failed jobs after prune --state failed"
expect_rc 0 "$C" prune --older-than 1d
grep -q "pruned" out.txt || fail "prune does not report: $(cat out.txt)"
eq "$(sq "SELECT count(*) FROM jobs WHERE state IN ('succeeded','failed','canceled')")" 0 "finished jobs after prune"
eq "$(sq "SELECT count(*) FROM jobs WHERE state = 'queued'")" "$queued" "queued jobs after prune"
eq "$(sq "SELECT count(*) FROM images")" 0 "images after prune (cascade)"
eq "$(sq "SELECT count(*) FROM attempts")" 0 "attempts after prune (cascade)"
eq "$(sq "SELECT count(*) FROM events WHERE job_id NOT IN (SELECT id FROM jobs)")" 0 "orphan events after prune"
eq "$(sq "SELECT count(*) FROM blobs WHERE id NOT IN (SELECT blob_id FROM inputs WHERE blob_id IS NOT NULL)")" 0 "unreferenced blobs after prune"
[ "$old" -gt 0 ] || fail "nothing was finished before prune"

echo "# rows left by a job deleted with foreign keys off are not inherited"
# (SQLite: another program's connection has them off by default; PostgreSQL
# always enforces them, the delete cascades)
expect_rc 0 "$C" submit -p "to delete" --model gpt-image-2.6-flare a.png
gone=$(cat out.txt)
sq "INSERT INTO attempts (job_id, number, started_at) VALUES ($gone, 1, 1); DELETE FROM jobs WHERE id = $gone"
eq "$(sq "SELECT count(*) FROM inputs WHERE job_id = $gone")" "$(on_pg && echo 0 || echo 1)" "inputs left behind (foreign keys off)"
expect_rc 0 "$C" submit -p "after a deleted job" --model gpt-image-2.6-flare b.png
new=$(cat out.txt)
[ "$new" -gt "$gone" ] || fail "job id $gone was reused"
eq "$(sq "SELECT group_concat(filename) FROM inputs WHERE job_id = $new")" b.png "inputs of the job after a deleted one"
eq "$(sq "SELECT count(*) FROM attempts WHERE job_id = $new")" 0 "attempts of the job after a deleted one"
eq "$(sq "SELECT count(*) FROM events WHERE job_id = $new")" 1 "history of the job after a deleted one"

echo "# database unavailable: exit 3"
expect_rc 3 "$C" --db "$T/notes.txt" list
err_has "cannot open DB"
if on_pg; then
	newer=$DB
	sq "UPDATE schema_version SET version = 99"
else
	newer=newer.db
	cp "$DB" newer.db
	sqlite3 newer.db "PRAGMA user_version = 99"
fi
expect_rc 3 "$C" --db "$newer" list
err_has "newer"
expect_rc 3 "$C" --db "$newer" init
expect_rc 3 "$C" --db "$T/no/such/dir/q.db" init

echo "PASS t_ctl_basic"
