#!/usr/bin/env bash
# A progressive JPEG with hundreds of scans (it passes the header probe, so
# it gets in as a result from upstream too) is thumbnailed in under a
# second or refused, its failure is remembered, and while it decodes the
# page answers at once: decoding runs beside the loop, bounded in scans,
# memory and time. A camera's 10-scan progressive JPEG still gets a
# thumbnail.
. "$(dirname "$0")/lib.sh"
: "${MKPROGJPEG:?set MKPROGJPEG to the mkprogjpeg binary}"

start_fake
"$IMGEDITCTL" init >/dev/null
mkpng "$T/in.png" 64 64
job=$("$IMGEDITCTL" submit -p "base" --model gpt-image-2.5-sunburst "$T/in.png")
start_daemon
wait_jobs_done 20
stop_daemon

"$MKPROGJPEG" "$T/many.jpg" 2000 2000 many >/dev/null
"$MKPROGJPEG" "$T/camera.jpg" 1600 1200 camera >/dev/null
head -c $(( $(stat -c %s "$T/many.jpg") * 9 / 10 )) "$T/many.jpg" >"$T/cut.jpg"
add_image() { # FILE IDX W H: prints the new image's id
	local sha
	sha=$(sha256sum "$1" | cut -d' ' -f1)
	sql "INSERT INTO images (job_id, attempt_id, kind, idx, format, width, height, size, sha256, created_at, data)
	  SELECT $job, id, 'final', $2, 'jpeg', $3, $4, length(readfile('$1')), '$sha', 3900, readfile('$1')
	  FROM attempts WHERE job_id = $job AND number = 1;
	  SELECT last_insert_rowid();"
}
many=$(add_image "$T/many.jpg" 5 2000 2000)
cut=$(add_image "$T/cut.jpg" 6 2000 2000)
camera=$(add_image "$T/camera.jpg" 7 1600 1200)
cp "$T/many.jpg" "$T/gone.jpg"
printf 'x' >>"$T/gone.jpg"   # after EOI: other bytes, the same image
gone=$(add_image "$T/gone.jpg" 8 2000 2000)

start_serve
U=${SERVE_URL%/}
thumb() { # ID NAME: status and seconds into $T/NAME.t
	curl -sS -o "$T/$2" -w '%{http_code} %{time_total}\n' "$U/images/$1/thumb" >"$T/$2.t"
}
page_times() { # N: the slowest of N GET / (seconds)
	local i worst=0 t
	for i in $(seq 1 "$1"); do
		t=$(curl -sS -o /dev/null -w '%{time_total}' "$U/") || fail "GET /"
		worst=$(python3 -c "print(max($worst, $t))")
		sleep 0.02
	done
	echo "$worst"
}
curl -sS -o /dev/null "$U/" # warm
thumb "$many" many &
tp=$!
sleep 0.05
worst=$(page_times 10)
wait "$tp"
read -r code secs <"$T/many.t"
many_code=$code many_secs=$secs
echo "many-scan JPEG: HTTP $code in ${secs}s; slowest GET / meanwhile ${worst}s"
case $code in 200|422) ;; *) fail "many-scan thumbnail: HTTP $code" ;; esac
python3 -c "import sys; sys.exit(0 if $secs < 1.0 else 1)" ||
	fail "the many-scan JPEG took ${secs}s to thumbnail or refuse (max 1 s)"
python3 -c "import sys; sys.exit(0 if $worst < 0.1 else 1)" ||
	fail "GET / took ${worst}s while a thumbnail decoded (max 0.1 s)"
[ "$code" = 422 ] && { grep -q "scans" "$T/many" || fail "refusal does not say why: $(cat "$T/many")"; }

# the failure is remembered: the truncated copy pays once
thumb "$cut" cut1
thumb "$cut" cut2
read -r code1 secs1 <"$T/cut1.t"
read -r code2 secs2 <"$T/cut2.t"
echo "truncated: HTTP $code1 in ${secs1}s, again HTTP $code2 in ${secs2}s"
assert_eq "$code1" 422 "the truncated many-scan JPEG"
assert_eq "$code2" 422 "the truncated many-scan JPEG, again"
python3 -c "import sys; sys.exit(0 if $secs1 < 1.0 and $secs2 < 0.05 else 1)" ||
	fail "truncated: ${secs1}s then ${secs2}s (max 1 s, then 0.05 s from the cache)"

# a browser that goes away while its thumbnail is being made: serve
# answers the others, and frees the request (stop_serve: ASan's leak check)
curl -sS -m 0.05 -o /dev/null "$U/images/$gone/thumb" 2>/dev/null || true
sleep 1.5
assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' "$U/")" 200 "/ after a client left mid-thumbnail"
assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' "$U/images/$gone/thumb")" 422 "the left thumbnail, cached"

thumb "$camera" camera
read -r code secs <"$T/camera.t"
echo "camera 10-scan JPEG: HTTP $code in ${secs}s"
assert_eq "$code" 200 "the camera's progressive JPEG thumbnail"
python3 - "$T/camera" <<'PY' || fail "the camera thumbnail is not a 160x120 PNG"
import struct, sys
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", d[16:24])
assert (w, h) == (160, 120), (w, h)
PY
stop_serve
pass "many scans: HTTP $many_code in ${many_secs}s, / in ${worst}s meanwhile; failures cached; camera JPEG thumbnailed"
