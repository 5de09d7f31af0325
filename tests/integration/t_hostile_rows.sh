#!/usr/bin/env bash
# Rows no writer should write, written anyway: params nested 100,000 deep,
# params of 10 MB, 10,000 inputs on one job, a zero-byte image, an input
# whose blob_id points to no blob, a state outside the CHECK. Each fails
# its own job as invalid_job naming the reason (or SQLite refuses the row);
# the daemon loads nothing it would refuse, and goes on with a good job.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 8000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/sq.png" 32 32
python3 - "$DB" "$T/sq.png" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
png = open(sys.argv[2], "rb").read()
def job(params, inputs=((0, png),)):
    db.execute("BEGIN IMMEDIATE")
    cur = db.execute("INSERT INTO jobs (params) VALUES (?)", (params,))
    jid = cur.lastrowid
    for ordinal, data in inputs:
        db.execute("INSERT INTO inputs (job_id, role, ordinal, filename, data) "
                   "VALUES (?, 'image', ?, 'a.png', ?)", (jid, ordinal, data))
    db.execute("COMMIT")
    return jid
ok = '{"prompt":"p","model":"gpt-image-2.6-flare"}'
ids = {}
ids["deep"] = job('{"prompt":"p","model":"gpt-image-2.6-flare","x":' + "[" * 100000 + "]" * 100000 + "}")
ids["long"] = job('{"prompt":"p","model":"gpt-image-2.6-flare","user":"' + "u" * 10_000_000 + '"}')
ids["many"] = job(ok, [(i, png) for i in range(10000)])
ids["empty"] = job(ok, [(0, b"")])
db.execute("BEGIN IMMEDIATE")
ids["noblob"] = db.execute("INSERT INTO jobs (params) VALUES (?)", (ok,)).lastrowid
db.execute("INSERT INTO inputs (job_id, role, ordinal, filename, blob_id) VALUES (?, 'image', 0, 'a.png', 999999)",
           (ids["noblob"],))
db.execute("COMMIT")
try:
    db.execute("INSERT INTO jobs (params, state) VALUES (?, 'exploded')", (ok,))
    print("state accepted")
except sqlite3.IntegrityError:
    pass
ids["good"] = job(ok)
PY
eval "$(python3 -c "
import sqlite3, sys
db = sqlite3.connect('$DB')
names = ['deep', 'long', 'many', 'empty', 'noblob', 'good']
for n, (i,) in zip(names, db.execute('SELECT id FROM jobs ORDER BY id')):
    print('%s=%d' % (n, i))
")"
assert_eq "$(sql "SELECT count(*) FROM jobs")" 6 "rows written (the bad state refused by SQLite)"
start_daemon --concurrency 2
wait_jobs_done 60
kill -0 "$DAEMON_PID" || fail "imgeditd died"
stop_daemon
reason() { # JOB WORDS
	assert_eq "$(sql "SELECT state || ',' || error_type FROM jobs WHERE id=$1")" "failed,invalid_job" "job $1"
	sql "SELECT error_message FROM jobs WHERE id=$1" | grep -q "$2" ||
		fail "job $1: '$(sql "SELECT substr(error_message, 1, 200) FROM jobs WHERE id=$1")' does not say '$2'"
}
reason "$deep" "params: not valid JSON"
reason "$long" "params: 100000[0-9][0-9] bytes, over the 262144-byte limit"
reason "$many" "inputs: more than 17"
reason "$empty" "a.png: empty file, not an image"
reason "$noblob" "bytes are missing"
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$good")" succeeded "the good job"
assert_eq "$(edit_requests)" 1 "requests (only the good job's)"
pass "deep and long params, 10,000 inputs, empty and missing bytes: each its own invalid_job"
