#!/usr/bin/env bash
# watch, from the database alone: piped, one line per event of the job it
# was given, ending when the job has finished ('job N partial 2/3', ...,
# 'job N succeeded 1 final ...'); --json, one object per event; on a
# terminal (a pty), a screen that shows the running job's partials
# arriving (PARTIALS k/3) and then the job in 'recent'.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000 --latency-ms 700
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
start_daemon
id=$("$IMGEDITCTL" submit -p "watched" --model gpt-image-2.6-flare --partial-images 3 "$T/a.png")
timeout 30 "$IMGEDITCTL" watch "$id" >"$T/lines.txt" || fail "watch did not end with its job"
want="job $id queued
job $id running
job $id partial 1/3
job $id partial 2/3
job $id partial 3/3
job $id final 1/1"
assert_eq "$(head -6 "$T/lines.txt")" "$want" "the lines of a job's events, from its first"
grep -qE "^job $id succeeded 1 final [0-9.]+ s$" "$T/lines.txt" ||
	fail "no succeeded line: $(cat "$T/lines.txt")"
# an id that finished already: said at once, and watch ends
timeout 5 "$IMGEDITCTL" watch --json "$id" >"$T/done.json" || fail "watch of a finished job"
python3 -c "import json,sys; o=json.loads(open(sys.argv[1]).read()); assert o=={'job':int(sys.argv[2]),'event':'succeeded'}, o" \
	"$T/done.json" "$id" || fail "watch --json of a finished job: $(cat "$T/done.json")"

# a finished id beside one still waiting: the finished one is said once,
# not again when the other's history (which began before) is told
idq=$("$IMGEDITCTL" submit -p "later" --model gpt-image-2.6-flare --not-before 1h "$T/a.png")
idf=$("$IMGEDITCTL" submit -p "gone" --model gpt-image-2.6-flare --not-before 1h "$T/a.png")
"$IMGEDITCTL" cancel "$idf" >/dev/null
timeout 10 "$IMGEDITCTL" watch "$idf" "$idq" >"$T/two.txt" &
two_pid=$!
deadline=$((SECONDS + 5))
until grep -q "^job $idq queued" "$T/two.txt"; do
	[ $SECONDS -lt $deadline ] || fail "watch of two ids said: $(cat "$T/two.txt")"
	sleep 0.05
done
"$IMGEDITCTL" cancel "$idq" >/dev/null
wait "$two_pid" || fail "watch of two ids did not end"
assert_eq "$(grep "^job $idf " "$T/two.txt")" "job $idf canceled" "lines of the finished job beside a waiting one"

# a terminal: a pty, read while the next job runs
id2=$("$IMGEDITCTL" submit -p "on screen" --model gpt-image-2.6-flare --partial-images 3 "$T/a.png")
python3 - "$IMGEDITCTL" "$id2" "$T/screen.txt" <<'PY' || fail "the screen: $(tail -c 1500 "$T/screen.txt")"
import os, pty, select, subprocess, sys, time
ctl, job, out = sys.argv[1], sys.argv[2], sys.argv[3]
master, slave = pty.openpty()
p = subprocess.Popen([ctl, "watch", job], stdin=slave, stdout=slave, stderr=slave)
os.close(slave)
buf, deadline = b"", time.time() + 30
while time.time() < deadline:
    r, _, _ = select.select([master], [], [], 0.2)
    if r:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        buf += data
    if p.poll() is not None and not r:
        break
p.wait(timeout=5)
open(out, "wb").write(buf)
text = buf.decode(errors="replace")
seen = [k for k in ("1/3", "2/3", "3/3") if ("%s " % job) in text and k in text]
assert "\x1b[H" in text, "no redraw in place"
assert "PARTIALS" in text and "LAST IMAGE" in text, "no table"
for k in ("1/3", "2/3"):
    assert any(k in line and line.strip().startswith(job) for line in text.splitlines()), "no row with " + k
assert "job %s succeeded" % job in text, "the job never reached 'recent'"
PY
stop_daemon

# a job's end and its last image in the same millisecond (the daemon's
# clock for images, SQLite's for events): the image still comes first
id3=$("$IMGEDITCTL" submit -p "same ms" --model gpt-image-2.6-flare "$T/a.png")
timeout 10 "$IMGEDITCTL" watch "$id3" >"$T/tie.txt" &
watch_pid=$!
sleep 0.5
one_byte="x'00'"
[ "${IMGEDIT_TEST_BACKEND:-sqlite}" != pg ] || one_byte="'\\x00'::bytea"
sql "BEGIN; UPDATE jobs SET state = 'succeeded' WHERE id = $id3;
INSERT INTO attempts (job_id, number, started_at, outcome) VALUES ($id3, 1, 0, 'succeeded');
INSERT INTO images (job_id, attempt_id, kind, idx, format, size, sha256, created_at, data)
VALUES ($id3, (SELECT max(id) FROM attempts WHERE job_id = $id3), 'final', 0, 'png', 1, '00',
        (SELECT max(at) FROM events WHERE job_id = $id3), $one_byte);
COMMIT;"
wait "$watch_pid" || fail "watch did not end with the hand-finished job"
assert_eq "$(sed 's/ [0-9.]* s$//' "$T/tie.txt")" "job $id3 queued
job $id3 final 1/1
job $id3 succeeded 1 final" "an end in the same ms as its last image"
pass "watch: the lines of a job's events, --json, and a live screen on a pty"
