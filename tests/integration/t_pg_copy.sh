#!/usr/bin/env bash
# imgeditctl copy: a queue the real daemon filled on SQLite (streaming jobs
# with partials and finals, a failed one, a queued one written by plain SQL
# with inline bytes, a shared mask in blobs, a pause) goes to PostgreSQL and
# back, row for row and byte for byte, without the triggers inventing
# history; a copy SIGKILLed in the middle resumes without duplicates; a
# finished copy copies nothing; a corrupt image, a different queue, a live
# queue and a same-kind copy are refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
DUMP="$(dirname "$0")/copy_dump.py"
pg_start

newdb() { # newdb NAME: an empty PostgreSQL database; prints its URI
	pgsql -c "CREATE DATABASE $1" >/dev/null
	echo "postgresql:///$1?host=$PG_DIR&user=postgres"
}
# json_get FILE EXPR: a Python expression over d, the JSON in FILE
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
same_dump() { # same_dump KIND1 WHERE1 KIND2 WHERE2 WHAT
	python3 "$DUMP" "$1" "$2" >"$T/d1" || fail "dump of $2 failed"
	python3 "$DUMP" "$3" "$4" >"$T/d2" || fail "dump of $4 failed"
	[ "$(wc -l <"$T/d1")" -gt 150 ] || fail "only $(wc -l <"$T/d1") rows in the dump of $2"
	diff "$T/d1" "$T/d2" >"$T/diff" || { head -20 "$T/diff" >&2; fail "$5: the dumps differ"; }
}

# ---- the queue: 20 streaming jobs with 2 partials each, one with a mask
# kept once in blobs, one failed (400), all run by the real daemon
start_fake --image-bytes 30000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
mkpng "$T/m.png" 32 32 rgba
"$IMGEDITCTL" submit -p "masked" --model gpt-image-2.6-flare --partial-images 2 --mask "$T/m.png" --each "$T/a.png" >/dev/null
submit_jobs 19 "copy me" --model gpt-image-2.6-flare --partial-images 2 "$T/a.png"
failed=$("$IMGEDITCTL" submit -p "refused [[fault:status=400]]" --model gpt-image-2.6-flare "$T/a.png")
start_daemon --concurrency 4
wait_jobs_done 60
stop_daemon
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state = 'succeeded'")" 20 "succeeded jobs"
assert_eq "$(sql "SELECT state FROM jobs WHERE id = $failed")" failed "the 400 job"
assert_eq "$(sql "SELECT count(*) FROM images WHERE kind = 'partial'")" 40 "partials stored"
[ "$(sql "SELECT count(*) FROM blobs")" -ge 1 ] || fail "no shared input in blobs"
# a queued job written by another program: inline bytes, no hash anywhere
sql "INSERT INTO jobs (params) VALUES ('{\"prompt\":\"later\", \"model\":\"gpt-image-2.6-flare\"}');
     INSERT INTO inputs (job_id, role, ordinal, filename, data)
     VALUES (last_insert_rowid(), 'image', 0, 'in.png', x'89504e470d0a1a0a00ff');"
# a job pruned since: its id is never given again, on either side
sql "PRAGMA foreign_keys = ON; INSERT INTO jobs (params) VALUES ('{}');
     DELETE FROM jobs WHERE id = last_insert_rowid();"
jobs_mark=$(sql "SELECT seq FROM sqlite_sequence WHERE name = 'jobs'")
assert_eq "$jobs_mark" $(( $(sql "SELECT max(id) FROM jobs") + 1 )) "the pruned job's id"
"$IMGEDITCTL" pause "copy test" >/dev/null
nimages=$(sql "SELECT count(*) FROM images")
nevents=$(sql "SELECT count(*) FROM events")

# ---- SQLite -> PostgreSQL: every row, ids kept, no invented events
rc=0; "$IMGEDITCTL" copy "$DB" "$PG_URI" --json >"$T/c1.json" 2>"$T/c1.err" || rc=$?
assert_eq "$rc" 0 "copy to PostgreSQL's exit status ($(cat "$T/c1.err"))"
for t in blobs jobs inputs attempts images events control; do
	assert_eq "$(json_get "$T/c1.json" "d['tables']['$t']['copied']")" "$(sql "SELECT count(*) FROM $t")" "$t rows copied (--json)"
done
same_dump sqlite "$DB" pg "$PG_URI" "SQLite -> PostgreSQL"
assert_eq "$(pgsql -c "SELECT count(*) FROM events")" "$nevents" "events on PostgreSQL (none invented)"
assert_eq "$(pgsql -c "SELECT count(*) FROM daemons")" 0 "daemons rows copied (dead daemons are not)"
[ "$(json_get "$T/c1.json" "d['bytes']")" -gt $((nimages * 20000)) ] || fail "bytes in the summary: $(cat "$T/c1.json")"

# ---- a finished copy, again: nothing copied, and it says so
out=$("$IMGEDITCTL" copy "$DB" "$PG_URI" 2>&1) || fail "second copy failed: $out"
grep -q 'nothing to copy' <<<"$out" || fail "second copy said: $out"
"$IMGEDITCTL" copy "$DB" "$PG_URI" --json >"$T/c2.json" || fail "third copy failed"
assert_eq "$(json_get "$T/c2.json" "sum(v['copied'] for v in d['tables'].values())")" 0 "rows copied by a finished copy"

# ---- PostgreSQL -> a fresh SQLite file: the same queue, byte for byte
rc=0; "$IMGEDITCTL" copy "$PG_URI" "$T/back.db" 2>"$T/c3.err" >"$T/c3.out" || rc=$?
assert_eq "$rc" 0 "copy back's exit status ($(cat "$T/c3.err"))"
grep -q "images $nimages" "$T/c3.out" || fail "copy back's summary: $(cat "$T/c3.out")"
same_dump sqlite "$DB" sqlite "$T/back.db" "SQLite -> PostgreSQL -> SQLite"
assert_eq "$(sqlite3 "$T/back.db" "SELECT seq FROM sqlite_sequence WHERE name = 'jobs'")" "$jobs_mark" "the highest job id ever given, after the round trip"
assert_eq "$(DB=$T/back.db stored_sha)" "$(stored_sha)" "sha256 of every image's bytes after the round trip"

# ---- the sequences went past the copied ids: a new job on PostgreSQL
# gets the id after the pruned one, and its trigger's event the next one
assert_eq "$(pgsql -c "INSERT INTO jobs (params) VALUES ('{}') RETURNING id" | head -1)" $((jobs_mark + 1)) "next job id on PostgreSQL"
assert_eq "$(pgsql -c "SELECT id FROM events WHERE job_id = $((jobs_mark + 1))")" $((nevents + 1)) "next event id on PostgreSQL"

# ---- SIGKILL in the middle: the copy stops itself (test hook) before
# committing its 5th batch of images, one image a batch; it is killed there
K_URI=$(newdb killed)
IMGEDIT_COPY_STOP=images:5 "$IMGEDITCTL" copy "$DB" "$K_URI" --batch 1 >"$T/k1.out" 2>"$T/k1.err" &
kpid=$!
deadline=$((SECONDS + 60))
until [ "$(awk '{print $3}' "/proc/$kpid/stat" 2>/dev/null)" = T ]; do
	kill -0 "$kpid" 2>/dev/null || fail "the copy ended before its stop point: $(cat "$T/k1.err")"
	[ $SECONDS -lt $deadline ] || fail "the copy did not reach its stop point in 60 s"
	sleep 0.05
done
assert_eq "$(psql -X -A -t -d "$K_URI" -c "SELECT count(*) FROM images")" 4 "images committed before the kill"
assert_eq "$(psql -X -A -t -d "$K_URI" -c "SELECT count(*) FROM jobs")" "$(sql "SELECT count(*) FROM jobs")" "jobs committed before the kill"
kill -KILL "$kpid"
wait "$kpid" 2>/dev/null || true
rc=0; "$IMGEDITCTL" copy "$DB" "$K_URI" --batch 7 --json >"$T/k2.json" 2>"$T/k2.err" || rc=$?
assert_eq "$rc" 0 "resumed copy's exit status ($(cat "$T/k2.err"))"
assert_eq "$(json_get "$T/k2.json" "d['tables']['images']['copied']")" $((nimages - 4)) "images copied by the resumed copy"
assert_eq "$(json_get "$T/k2.json" "d['tables']['jobs']['copied']")" 0 "jobs copied by the resumed copy"
same_dump sqlite "$DB" pg "$K_URI" "copy resumed after SIGKILL"

# ---- DST holding another queue: refused, nothing written
O_URI=$(newdb other)
"$IMGEDITCTL" --db "$O_URI" init >/dev/null
psql -X -q -d "$O_URI" -c "INSERT INTO jobs (params) VALUES ('{\"prompt\":\"not yours\"}')"
rc=0; out=$("$IMGEDITCTL" copy "$DB" "$O_URI" 2>&1) || rc=$?
assert_eq "$rc" 1 "copy into another queue's exit status"
grep -q 'different queue.*jobs id 1' <<<"$out" || fail "copy into another queue said: $out"
assert_eq "$(psql -X -A -t -d "$O_URI" -c "SELECT count(*) FROM images")" 0 "images written into another queue"

# ---- a corrupt image (bytes changed, sha256 kept): exit 1 naming it,
# nothing of its batch committed
sql "VACUUM INTO '$T/bad.db'"
bad=$(sql "SELECT id FROM images WHERE kind = 'final' ORDER BY id LIMIT 1 OFFSET 3")
sqlite3 "$T/bad.db" "UPDATE images SET data = randomblob(size) WHERE id = $bad"
B_URI=$(newdb bad)
rc=0; out=$("$IMGEDITCTL" copy "$T/bad.db" "$B_URI" --batch 10 2>&1) || rc=$?
assert_eq "$rc" 1 "copy of a corrupt image's exit status"
grep -q "images id $bad: .*sha256" <<<"$out" || fail "copy of a corrupt image said: $out"
assert_eq "$(psql -X -A -t -d "$B_URI" -c "SELECT count(*) FROM images WHERE id > ($bad - 1) / 10 * 10")" 0 "images of the corrupt one's batch on PostgreSQL"
assert_eq "$(psql -X -A -t -d "$B_URI" -c "SELECT count(*) FROM images")" $(( (bad - 1) / 10 * 10 )) "images of the batches before it"

# ---- a live queue (a job running) is refused unless --force
sqlite3 "$T/bad.db" "UPDATE jobs SET state = 'running', lease_owner = 'gone', lease_expires = 1 WHERE id = (SELECT max(id) FROM jobs)"
L_URI=$(newdb live)
rc=0; out=$("$IMGEDITCTL" copy "$T/bad.db" "$L_URI" 2>&1) || rc=$?
assert_eq "$rc" 1 "copy of a queue with a running job's exit status"
grep -q 'running' <<<"$out" || fail "copy of a live queue said: $out"
grep -q -- '--force' <<<"$out" || fail "copy of a live queue did not name --force: $out"
assert_eq "$(psql -X -A -t -d "$L_URI" -c "SELECT count(*) FROM jobs")" 0 "jobs written from a live queue"

# ---- a DST with a live daemon is refused; a heartbeat older than a
# minute is not a live daemon
"$IMGEDITCTL" --db "$T/idle.db" init >/dev/null
D_URI=$(newdb daemonful)
"$IMGEDITCTL" --db "$D_URI" init >/dev/null
now=$(( $(date +%s) * 1000 ))
psql -X -q -d "$D_URI" -c "INSERT INTO daemons (id, host, pid, started_at, heartbeat_at) VALUES ('d1', 'h', 1, $now, $now)"
rc=0; out=$("$IMGEDITCTL" copy "$T/idle.db" "$D_URI" 2>&1) || rc=$?
assert_eq "$rc" 1 "copy to a DST with a live daemon's exit status"
grep -q 'DST is in use: 1 daemon' <<<"$out" || fail "copy to a DST with a live daemon said: $out"
psql -X -q -d "$D_URI" -c "UPDATE daemons SET heartbeat_at = $now - 61000"
"$IMGEDITCTL" copy "$T/idle.db" "$D_URI" >/dev/null 2>&1 || fail "copy to a DST whose daemon is a minute quiet was refused"

# ---- usage: same kind, missing DST, bad --batch: exit 2
rc=0; out=$("$IMGEDITCTL" copy "$DB" "$T/same.db" 2>&1) || rc=$?
assert_eq "$rc" 2 "SQLite -> SQLite's exit status"
grep -q 'SQLite' <<<"$out" || fail "SQLite -> SQLite said: $out"
[ ! -e "$T/same.db" ] || fail "a same-kind copy created its DST"
rc=0; "$IMGEDITCTL" copy "$DB" >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "copy without DST's exit status"
rc=0; "$IMGEDITCTL" copy "$DB" "$PG_URI" --batch 0 >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "copy --batch 0's exit status"
rc=0; "$IMGEDITCTL" copy "$DB" "postgresql:///nodb?host=$T/none" >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 3 "copy to an unreachable server's exit status"
pass "$nimages images, $nevents events to PostgreSQL and back; SIGKILL resumed; corrupt, foreign, live, same-kind refused"
