#!/usr/bin/env bash
# Frames the client does not expect around a complete answer change
# nothing: after the last image_edit.completed an event of a newer type, a
# data line that is not JSON or an error frame, and before the first
# partial an image-less event of a new type: each job succeeds with its one
# attempt, its 2 partials and its final stored as sent.
. "$(dirname "$0")/lib.sh"

# sent_sha PROMPT KIND: sha256 of the KIND images the fake upstream sent
# whole for PROMPT, sorted.
sent_sha() {
	python3 - "$FAKE_LOG" "$1" "$2" <<'PY'
import json, sys
out = []
for line in open(sys.argv[1]):
    rec = json.loads(line)
    if (rec.get("fields") or {}).get("prompt") == sys.argv[2]:
        out += [s["sha256"] for s in rec.get("sent") or []
                if s["kind"] == sys.argv[3]]
print("\n".join(sorted(out)))
PY
}

# stored_sha JOB KIND: sha256 of the bytes stored for JOB's KIND images.
stored_sha() {
	python3 - "$DB" "$1" "$2" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=5)
rows = db.execute("SELECT data FROM images WHERE job_id = ? AND kind = ?",
                  (int(sys.argv[2]), sys.argv[3]))
print("\n".join(sorted(hashlib.sha256(r[0]).hexdigest() for r in rows)))
PY
}

# requests PROMPT: edit requests the fake upstream took for PROMPT.
requests() {
	python3 - "$FAKE_LOG" "$1" <<'PY'
import json, sys
print(sum((json.loads(l).get("fields") or {}).get("prompt") == sys.argv[2]
          for l in open(sys.argv[1])))
PY
}

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
faults="trailing-event trailing-garbage trailing-error unknown-event"
declare -A job
for f in $faults; do
	job[$f]=$("$IMGEDITCTL" submit -p "$f [[fault:$f]]" --model gpt-image-1 \
		--n 1 --partial-images 2 --max-attempts 3 "$T/a.png")
done
start_daemon --concurrency 4 --retry-base 100ms --retry-max 400ms
wait_jobs_done 30

for f in $faults; do
	id=${job[$f]}
	assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$id")" "succeeded,1" \
		"$f: job (state,attempts)"
	assert_eq "$(requests "$f [[fault:$f]]")" 1 "$f: upstream requests"
	assert_eq "$(sql "SELECT group_concat(outcome) FROM attempts WHERE job_id=$id")" \
		succeeded "$f: attempt outcomes"
	assert_eq "$(sql "SELECT count(*) FROM images WHERE job_id=$id")" 3 "$f: images stored"
	# nothing after the last final reaches the attempt's row either
	assert_eq "$(sql "SELECT coalesce(error_type, '-') || ',' || coalesce(error_message, '-') || ',' || total_tokens FROM attempts WHERE job_id=$id")" \
		"-,-,1060" "$f: the attempt's error and tokens"
	sent=$( (sent_sha "$f [[fault:$f]]" partial; sent_sha "$f [[fault:$f]]" final) | sed '/^$/d' | sort)
	assert_eq "$(echo "$sent" | grep -c .)" 3 "$f: images the fake upstream sent"
	stored=$( (stored_sha "$id" partial; stored_sha "$id" final) | sed '/^$/d' | sort)
	assert_eq "$stored" "$sent" "$f: sha256 of the stored images vs sent"
done
stop_daemon
pass "unknown events, garbage and errors around a complete answer are ignored"
