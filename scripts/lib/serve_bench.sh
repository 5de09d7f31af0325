#!/usr/bin/env bash
# scripts/lib/serve_bench.sh CTL DIR: imgeditctl serve's server time with
# 100,000 jobs in the database, for scripts/bench. Builds DIR/serve.db with
# SQL (100,000 jobs 30 s apart, one shared input, each succeeded one with an
# attempt, 3 partials and a final: 40 KB each for the newest 2,000, like a
# real image row's first page, 64 bytes for the others; the newest job's
# final a 1.5 MB 1024x1024 PNG), starts
# CTL serve on it, and prints NAME=MS lines: the median Server-Timing of 7
# requests of /, a filtered /, an older page, /jobs/ID and a row; and the
# thumbnail of the 1.5 MB PNG, first (made) and then (cached).
set -euo pipefail
CTL=${1:?usage: serve_bench.sh CTL DIR}
DIR=${2:?usage: serve_bench.sh CTL DIR}
mkdir -p "$DIR"
DB=$DIR/serve.db
rm -f "$DB" "$DB-wal" "$DB-shm"
"$CTL" --db "$DB" init >/dev/null

python3 - "$DB" <<'PY'
import os, random, sqlite3, struct, sys, time, zlib
db = sqlite3.connect(sys.argv[1], isolation_level=None)
now = int(time.time() * 1000)
N, WITH_IMAGES = 100000, 2000

def png(w, h, noise):
    rnd = random.Random(7)
    rows = bytearray()
    for y in range(h):
        rows.append(0)
        bits = noise if y < h * 14 // 100 else 0  # about 1.5 MB at 1024x1024
        rows += bytes(((x * 255 // w) ^ rnd.getrandbits(bits)) & 255 if c == 0 else
                      ((y * 255 // h) ^ rnd.getrandbits(bits)) & 255 if c == 1 else
                      ((x + y) ^ rnd.getrandbits(bits)) & 255
                      for x in range(w) for c in range(3))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(bytes(rows), 6)) + chunk(b"IEND", b""))

big = png(1024, 1024, 4)
print("big_png_bytes=%d" % len(big))
small = png(64, 64, 8)
import hashlib
db.execute("BEGIN")
db.execute("INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?)",
           (hashlib.sha256(small).hexdigest(), len(small), small))
db.execute("""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
INSERT INTO jobs (state, params, attempts, created_at, updated_at, finished_at,
                  input_tokens, output_tokens, total_tokens)
SELECT CASE WHEN i > ?1 - 10 THEN 'queued' WHEN i % 50 = 0 THEN 'failed' ELSE 'succeeded' END,
       json_object('prompt', 'product photo ' || i || ' on a ' ||
           CASE i % 5 WHEN 0 THEN 'white' WHEN 1 THEN 'marble' WHEN 2 THEN 'wooden'
                WHEN 3 THEN 'linen' ELSE 'concrete' END || ' background, soft light',
           'model', 'gpt-image-2.6-flare', 'partial_images', 3, 'size', '1024x1024'),
       CASE WHEN i > ?1 - 10 THEN 0 ELSE 1 END,
       ?2 - (?1 - i) * 30000 - 20000, ?2 - (?1 - i) * 30000,
       CASE WHEN i > ?1 - 10 THEN NULL ELSE ?2 - (?1 - i) * 30000 END,
       60, 1000, 1060 FROM n""", (N, now))
db.execute("INSERT INTO inputs (job_id, role, ordinal, filename, content_type, blob_id) "
           "SELECT id, 'image', 0, 'in.png', 'image/png', 1 FROM jobs")
db.execute("UPDATE events SET at = (SELECT coalesce(finished_at, created_at) FROM jobs WHERE id = job_id)")
db.execute("""INSERT INTO attempts (job_id, number, started_at, ended_at, http_status,
                  request_id, outcome, input_tokens, output_tokens, total_tokens)
SELECT id, 1, created_at, finished_at, 200, 'req_' || id, 'succeeded', 60, 1000, 1060
FROM jobs WHERE state = 'succeeded'""")
# the older jobs' images: the rows (and the index entries) without the bytes
db.execute("""WITH k(k) AS (VALUES (0), (1), (2), (3))
INSERT INTO images (job_id, attempt_id, kind, idx, partial_index, format, width, height,
                    size, sha256, created_at, data)
SELECT a.job_id, a.id, CASE k WHEN 3 THEN 'final' ELSE 'partial' END, CASE k WHEN 3 THEN 0 ELSE k END,
       CASE k WHEN 3 THEN NULL ELSE k END, 'png', 1024, 1024, 64, lower(hex(randomblob(32))),
       a.ended_at - (3 - k) * 500, randomblob(64)
FROM attempts a, k WHERE a.job_id <= ?1 - ?2 ORDER BY a.id, k""", (N, WITH_IMAGES))
rnd = os.urandom
rows = db.execute("SELECT a.id, a.job_id, a.ended_at FROM attempts a WHERE a.job_id > ? "
                  "ORDER BY a.job_id", (N - WITH_IMAGES,)).fetchall()
for aid, jid, end in rows:
    for k in range(4):
        data = big if (jid == rows[-1][1] and k == 3) else rnd(40000)
        db.execute("INSERT INTO images (job_id, attempt_id, kind, idx, partial_index, format, "
                   "width, height, size, sha256, created_at, data) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                   (jid, aid, 'final' if k == 3 else 'partial', 0 if k == 3 else k,
                    None if k == 3 else k, 'png', 1024, 1024, len(data),
                    hashlib.sha256(data).hexdigest(), end - (3 - k) * 500, data))
db.execute("COMMIT")
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
print("jobs=%d" % db.execute("SELECT count(*) FROM jobs").fetchone()[0])
print("images=%d" % db.execute("SELECT count(*) FROM images").fetchone()[0])
PY

"$CTL" --db "$DB" serve --listen 127.0.0.1:0 >"$DIR/serve.out" 2>"$DIR/serve.err" &
SERVE=$!
trap 'kill -TERM $SERVE 2>/dev/null || true; wait $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
	URL=$(sed -n 's/^serving .* at //p' "$DIR/serve.out")
	[ -n "$URL" ] && break
	sleep 0.05
done
[ -n "$URL" ] || { echo "serve did not start: $(cat "$DIR/serve.err")" >&2; exit 1; }

# ms PATH: the server's own time for one request (Server-Timing: app;dur=)
ms() {
	curl -sS -o /dev/null -D - "${URL%/}$1" | tr -d '\r' |
		sed -n 's/^Server-Timing: app;dur=//Ip'
}
# median PATH: of 7 requests, after one to warm up
median() {
	ms "$1" >/dev/null
	for _ in 1 2 3 4 5 6 7; do ms "$1"; done | sort -g | sed -n 4p
}
newest=$(sqlite3 "$DB" "SELECT max(id) FROM jobs WHERE state = 'succeeded'")
big=$(sqlite3 "$DB" "SELECT id FROM images WHERE size > 1000000")
echo "serve_index_ms=$(median /)"
echo "serve_index_state_ms=$(median '/?state=failed')"
echo "serve_index_word_ms=$(median '/?q=marble')"
echo "serve_index_rare_word_ms=$(median '/?q=nowhere')"
echo "serve_index_older_ms=$(median '/?before=50000')"
echo "serve_job_ms=$(median "/jobs/$newest")"
echo "serve_row_ms=$(median "/fragment/row/$newest")"
echo "serve_thumb_first_ms=$(ms "/images/$big/thumb")"
echo "serve_thumb_cached_ms=$(median "/images/$big/thumb")"
echo "serve_image_ms=$(median "/images/$big")"
