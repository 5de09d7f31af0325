#!/usr/bin/env bash
# t_ctl_bulk.sh: the bulk path of imgeditctl: `submit --each` of 10,000
# distinct images sharing one mask in under 10 s, the mask stored once; then
# list and status over 100,000 jobs. The limits are on the command's CPU
# time (user + sys), not wall time: this runs with sanitizers beside other
# tests on two cores, where waiting for a core once took a 4.5 s submit past
# 10 s of wall time. scripts/bench measures wall time in a Release build.
# The database is lib.sh's: an SQLite file, or PostgreSQL in it.pg.t_ctl_bulk
# (the client's CPU is measured there too, not the server's).
. "$(dirname "$0")/lib.sh"

C=$IMGEDITCTL
tmp=$T
cd "$tmp"
N=10000

sq() { sql "$@"; }
# cpu_ms CMD...: runs CMD (stdout to $OUT), prints its user+sys CPU in ms.
cpu_ms() {
	local TIMEFORMAT='%3U %3S' t
	t=$({ time "$@" >"$OUT" 2>"$tmp/cmd.err"; } 2>&1) || { cat "$tmp/cmd.err" >&2; fail "$* failed"; }
	awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%d", (a[1] + a[2]) * 1000 }'
}

# 10,000 distinct 64x64 RGBA PNGs (~1.3 KB each) and a mask.
python3 - "$N" <<'EOF'
import os, struct, sys, zlib
def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
ihdr = chunk(b'IHDR', struct.pack('>IIBBBBB', 64, 64, 8, 6, 0, 0, 0))
base = bytearray(b''.join(b'\x00' + bytes((x * 7 + y * 13 + i) & 255 for x in range(64) for i in range(4)) for y in range(64)))
os.mkdir('img')
for n in range(int(sys.argv[1])):
    rows = bytearray(base)
    rows[1], rows[2] = n & 255, n >> 8
    open('img/p%05d.png' % n, 'wb').write(b'\x89PNG\r\n\x1a\n' + ihdr + chunk(b'IDAT', zlib.compress(bytes(rows), 1)) + chunk(b'IEND', b''))
open('mask.png', 'wb').write(b'\x89PNG\r\n\x1a\n' + ihdr + chunk(b'IDAT', zlib.compress(bytes(base))) + chunk(b'IEND', b''))
EOF

"$C" init >/dev/null
OUT=ids.txt
elapsed=$(cpu_ms "$C" submit -p "plain white background" --model gpt-image-2.6-flare --each img/*.png --mask mask.png)
echo "submit --each of $N jobs with one mask: ${elapsed} ms CPU"
[ "$elapsed" -lt 10000 ] || fail "submit --each of $N jobs took ${elapsed} ms CPU (limit 10000)"
[ "$(wc -l < ids.txt)" = "$N" ] || fail "submit printed $(wc -l < ids.txt) ids, wanted $N"
[ "$(sq 'SELECT count(*) FROM jobs')" = "$N" ] || fail "jobs: $(sq 'SELECT count(*) FROM jobs')"
[ "$(sq 'SELECT count(*) FROM blobs')" = "$((N + 1))" ] || fail "blobs: $(sq 'SELECT count(*) FROM blobs'), wanted $((N + 1))"
[ "$(sq "SELECT count(DISTINCT blob_id) FROM inputs WHERE role = 'mask'")" = 1 ] || fail "the mask is stored more than once"

# 100,000 jobs: list and status stay fast.
sq "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 90000)
    INSERT INTO jobs (params, state, finished_at)
    SELECT '{\"prompt\":\"p\",\"model\":\"gpt-image-2.6-flare\"}',
           CASE x % 3 WHEN 0 THEN 'succeeded' WHEN 1 THEN 'failed' ELSE 'queued' END,
           CASE x % 3 WHEN 2 THEN NULL ELSE 1 END FROM c"
for args in "list" "list --state failed" "list --state queued --json" "list --since 1h" "status"; do
	OUT=/dev/null
	# shellcheck disable=SC2086
	t=$(cpu_ms "$C" $args)
	echo "$args over 100,000 jobs: $t ms CPU"
	[ "$t" -lt 2000 ] || fail "$args took $t ms CPU (limit 2000)"
done

echo "PASS t_ctl_bulk"
