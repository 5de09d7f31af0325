#!/usr/bin/env bash
# t_framing.sh: the fake upstream's --framing modes (whole events, random
# 1..7000-byte pieces, CRLF, comment lines, multi-line data) each reach the
# real daemon as the same images: for every mode, 3 streaming jobs (2
# partials + 2 finals each) are stored byte for byte as the fake sent them.
# Each mode is also checked to be what it says, on the wire: its lines from a
# raw request, and its write count in the fake's log.
. "$(dirname "$0")/lib.sh"

JOBS=3 PARTIALS=2 N=2
WANT=$((JOBS * (PARTIALS + N)))
IMAGE_BYTES=60000

"$IMGEDITCTL" init >/dev/null
mkpng "$T/in.png" 32 32

# probe MODE: one streaming request of our own; prints what its body's lines
# say about the framing: "crlf=0|1 comments=N data_lines=N events=N".
probe() {
	python3 - "$BASE_URL" "$T/in.png" <<'PY'
import sys, urllib.request
url, png = sys.argv[1] + "/images/edits", open(sys.argv[2], "rb").read()
b = "----framing-probe"
parts = []
for k, v in (("prompt", "framing probe"), ("model", "gpt-image-2.6-flare"),
             ("stream", "true"), ("partial_images", "1")):
    parts.append(('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                  % (b, k, v)).encode())
parts.append(('--%s\r\nContent-Disposition: form-data; name="image"; '
              'filename="in.png"\r\nContent-Type: image/png\r\n\r\n' % b).encode()
             + png + b"\r\n")
body = b"".join(parts) + ("--%s--\r\n" % b).encode()
req = urllib.request.Request(url, body, {"Authorization": "Bearer sk-test",
        "Content-Type": "multipart/form-data; boundary=" + b})
raw = urllib.request.urlopen(req, timeout=30).read().decode()
lines = raw.replace("\r\n", "\n").split("\n")
print("crlf=%d comments=%d data_lines=%d events=%d" % (
    "\r\n" in raw, sum(l.startswith(":") for l in lines),
    sum(l.startswith("data:") for l in lines),
    sum(l.startswith("event:") for l in lines)))
PY
}

# writes_check MODE: every edit reply's writes, against what MODE promises.
writes_check() {
	python3 - "$FAKE_LOG" "$1" <<'PY'
import json, sys
mode = sys.argv[2]
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("method") != "POST":
        continue
    body = sum(s["size"] for s in r["sent"]) * 4 // 3  # base64, at least
    w = r["writes"]
    if mode == "pieces":  # 1..7000 bytes each: at least body/7000 writes
        assert w >= body // 7000, (w, body)
    else:                 # up to 256 KiB each, a few more for event ends
        assert w <= body // (256 * 1024) + 2 * len(r["sent"]) + 4, (w, body)
print("ok")
PY
}

for mode in whole pieces crlf comments multiline; do
	FAKE_LOG=$T/fake-$mode.jsonl
	start_fake --image-bytes $IMAGE_BYTES --framing "$mode" --seed 7
	# Partials 1: 1 partial + 1 completed event.
	read -r crlf comments data_lines events < <(probe | tr -c '0-9\n' ' ')
	assert_eq "$events" 2 "$mode: events in the probe"
	case $mode in
	crlf) assert_eq "$crlf" 1 "$mode: CRLF line ends" ;;
	*) assert_eq "$crlf" 0 "$mode: CRLF line ends" ;;
	esac
	case $mode in
	comments) [ "$comments" -ge 4 ] || fail "$mode: $comments comment lines, want 2 an event" ;;
	*) assert_eq "$comments" 0 "$mode: comment lines" ;;
	esac
	case $mode in
	multiline) [ "$data_lines" -ge 8 ] || fail "$mode: $data_lines data lines for 2 events" ;;
	*) assert_eq "$data_lines" 2 "$mode: data lines" ;;
	esac

	ids=()
	for i in $(seq 1 $JOBS); do
		ids+=("$("$IMGEDITCTL" submit -p "framing $mode $i" --model gpt-image-2.6-flare \
			--n $N --partial-images $PARTIALS "$T/in.png")")
	done
	start_daemon --concurrency 3
	"$IMGEDITCTL" wait --timeout 60s "${ids[@]}" >/dev/null ||
		fail "$mode: the jobs did not all succeed: $(sql "SELECT id, state, last_error FROM jobs")"
	stop_daemon
	kill -TERM "$FAKE_PID"
	wait "$FAKE_PID" || fail "$mode: the fake upstream exited with status $?"
	FAKE_PID=

	idlist=$(IFS=,; echo "${ids[*]}")
	stored=$(python3 - "$DB" "$idlist" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=5)
rows = db.execute("SELECT data FROM images WHERE job_id IN (%s)" % sys.argv[2])
print("\n".join(sorted(hashlib.sha256(r[0]).hexdigest() for r in rows)))
PY
	)
	sent=$(python3 "$SRCDIR/scripts/lib/bench_util.py" sent "$FAKE_LOG" "framing $mode ")
	assert_eq "$(printf '%s\n' "$sent" | grep -c .)" $WANT "$mode: images the fake sent"
	assert_eq "$(printf '%s\n' "$stored" | grep -c .)" $WANT "$mode: images stored"
	[ "$stored" = "$sent" ] || fail "$mode: the stored images are not the bytes the fake sent"
	assert_eq "$(sql "SELECT count(*) FROM attempts WHERE job_id IN ($idlist)")" $JOBS \
		"$mode: attempts (one a job)"
	assert_eq "$(writes_check "$mode")" ok "$mode: the fake's writes"
done

pass "every framing delivered the same $WANT images a mode, byte for byte"
