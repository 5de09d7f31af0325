#!/usr/bin/env bash
# Every imgeditctl verb on PostgreSQL and SQLite side by side: the same
# sequence (init, submit single/--each/--from/--key, list, show, status,
# cancel, retry, pause/resume, wait, export, watch, prune, a bad row) gives
# the same output and exit status on both, once times, ages, database
# names and sizes are normalized; exported bytes match what was stored.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
pg_start
SQ=$T/q.db
mkdir -p "$T/sq" "$T/pg" "$T/in"
PG_NAME="postgresql://postgres@/imgedit?host=$PG_DIR&port=5432"

db_of() { if [ "$1" = sq ]; then echo "$SQ"; else echo "$PG_URI"; fi; }

# norm FILE...: only what must differ between the backends made equal: the
# database's name, times made now, ages, sizes of the database.
norm() {
	python3 - "$SQ" "$PG_NAME" "$PG_URI" "$@" <<'PY'
import json, re, sys
names, paths = sys.argv[1:4], sys.argv[4:]
TIMES = {"created_at", "updated_at", "finished_at", "at", "started_at",
         "ended_at", "heartbeat_at", "lease_expires"}
SIZES = {"size_bytes", "free_bytes", "freed_bytes"}
def walk(v):
    if isinstance(v, dict):
        return {k: "T" if (k in TIMES and isinstance(x, int) and x > 1700001000000) or k == "seconds"
                else "S" if k in SIZES else walk(x) for k, x in v.items()}
    if isinstance(v, list):
        return [walk(x) for x in v]
    return v
def dump(t):
    return json.dumps(walk(json.loads(t)), indent=1) + "\n"
def as_json(s):
    if s.strip()[:1] not in ("[", "{"):
        return None
    try:
        return dump(s)
    except ValueError:
        pass
    try:
        return "".join(dump(l) for l in s.splitlines() if l.strip())
    except ValueError:
        return None
def norm(text):
    for n in names:
        text = text.replace(n, "DB")
    out = as_json(text)
    if out is None:
        out = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "TIME", text)
        out = re.sub(r"(?m)^(\d+ +\S+ +\S+ +\S+ +\d+ +\S+) +\d+[smhd] ", r"\1 AGE ", out)
        out = re.sub(r"(?m)^database  DB \(schema (\d+), .*\)$", r"database  DB (schema \1, SIZES)", out)
    return out
for path in paths:
    out = norm(open(path).read())
    open(path, "w").write(out)
PY
}

# both NAME [-i FILE] ARGS...: imgeditctl ARGS on each backend; the
# normalized stdout, stderr and exit status must be the same.
both() {
	local name=$1 input=/dev/null b rc
	shift
	if [ "$1" = -i ]; then input=$2; shift 2; fi
	for b in sq pg; do  # the two at once: each has its own database
		(rc=0; "$IMGEDITCTL" --db "$(db_of $b)" "$@" <"$input" \
			>"$T/$b/$name.out" 2>"$T/$b/$name.err" || rc=$?
		echo "$rc" >"$T/$b/$name.rc") &
	done
	wait
	norm "$T"/{sq,pg}/"$name".{out,err}
	for f in rc out err; do
		diff "$T/sq/$name.$f" "$T/pg/$name.$f" >&2 ||
			fail "$name ($*): $f differs between SQLite (<) and PostgreSQL (>)"
	done
}
# rc_of NAME: the exit status both gave; out_of NAME: PostgreSQL's stdout.
rc_of() { cat "$T/pg/$1.rc"; }
out_of() { cat "$T/pg/$1.out"; }

# sqlboth SQL: the same SQL on both (it must be valid in both dialects).
sqlboth() {
	sqlite3 -bail -cmd '.timeout 5000' "$SQ" "$1" >/dev/null
	pgsql -c "$1" >/dev/null
}

both init init
assert_eq "$(out_of init)" "DB: schema version 4" "init's output"

mkpng "$T/in/a.png" 32 32
mkpng "$T/in/b.png" 32 32
mkpng "$T/in/c.png" 32 32 rgba
mkpng "$T/in/m.png" 32 32 rgba
cat >"$T/in/jobs.jsonl" <<'EOF'
{"prompt":"line one","images":["a.png"],"quality":"low","priority":3,"key":"line-1"}
{"prompt":"line two","images":["b.png","c.png"],"model":"gpt-image-2.6-flare","n":2,"partial_images":2}
{"prompt":"line three","images":["c.png"],"mask":"m.png","max_attempts":2,"user":"u-42"}
EOF

both submit1 submit -p "make it blue" --size 512x512 "$T/in/a.png"
assert_eq "$(out_of submit1)" "1" "single submit's id"
both each submit -p "each one" --model gpt-image-2.6-flare --each "$T/in/a.png" "$T/in/b.png" "$T/in/c.png" --mask "$T/in/m.png"
assert_eq "$(out_of each | tr '\n' ' ')" "2 3 4 " "--each ids"
both from submit --from "$T/in/jobs.jsonl"
assert_eq "$(out_of from | tr '\n' ' ')" "5 6 7 " "--from ids"
both key1 submit -p "keyed" --key k1 --param 'extra={"z":1,"a":[1,2.5]}' "$T/in/b.png"
both key2 submit -p "keyed" --key k1 --param 'extra={"z":1,"a":[1,2.5]}' "$T/in/b.png" --json
assert_eq "$(out_of key1)" "8" "keyed submit"
grep -q '"existed": true' "$T/pg/key2.out" || fail "second --key submit: $(out_of key2)"
grep -q "was submitted before as job 8" "$T/pg/key2.err" || fail "second --key submit said: $(cat "$T/pg/key2.err")"
# the same new key from 4 submits at once: one job, every one prints its id
for i in 1 2 3 4; do
	"$IMGEDITCTL" --db "$PG_URI" submit -p "raced" --key race "$T/in/a.png" >"$T/race.$i" 2>/dev/null &
	EXTRA_PIDS="${EXTRA_PIDS:-} $!"
done
wait $EXTRA_PIDS || fail "a submit of a raced key failed"
EXTRA_PIDS=
assert_eq "$(cat "$T"/race.* | sort -u | wc -l)" 1 "ids printed for one raced key"
assert_eq "$(pgsql -c "SELECT count(*) FROM jobs WHERE idempotency_key = 'race'")" 1 "jobs of a raced key"
pgsql -c "DELETE FROM jobs WHERE idempotency_key = 'race'; SELECT setval(pg_get_serial_sequence('jobs', 'id'), 8)" >/dev/null
# the shared inputs are stored once on both (a, b, c, m)
assert_eq "$(pgsql -c 'SELECT count(*), sum(size) FROM blobs')" \
	"$(sqlite3 "$SQ" 'SELECT count(*), sum(size) FROM blobs')" "blobs"
# bad rows written by another program: params that are not an object
sqlboth "INSERT INTO jobs (params) VALUES ('[1,2]')"
sqlboth "INSERT INTO jobs (params) VALUES ('\"just text\"')"

# A finished job with images, written as a daemon would: same bytes on both.
mkpng "$T/in/out0.png" 40 40
mkpng "$T/in/part0.png" 20 20
hex0=$(od -An -tx1 -v "$T/in/out0.png" | tr -d ' \n')
hexp=$(od -An -tx1 -v "$T/in/part0.png" | tr -d ' \n')
sha0=$(sha256sum "$T/in/out0.png" | cut -d' ' -f1)
shap=$(sha256sum "$T/in/part0.png" | cut -d' ' -f1)
sz0=$(stat -c %s "$T/in/out0.png") szp=$(stat -c %s "$T/in/part0.png")
finish="UPDATE jobs SET state = 'succeeded', attempts = 1, input_tokens = 10,
  output_tokens = 20, total_tokens = 30, finished_at = 1700000300000,
  updated_at = 1700000300000 WHERE id = 1;
 INSERT INTO attempts (job_id, number, daemon_id, started_at, ended_at,
  http_status, request_id, outcome, input_tokens, output_tokens,
  total_tokens, usage) VALUES (1, 1, 'd-1', 1700000000000, 1700000200000,
  200, 'req_1', 'succeeded', 10, 20, 30, '{\"total_tokens\":30,\"input_tokens\":10}');
 UPDATE jobs SET state = 'failed', attempts = 2, max_attempts = 2,
  error_status = 400, error_type = 'invalid_request_error',
  error_code = 'moderation_blocked', error_message = 'blocked by the filter',
  error_request_id = 'req_2', finished_at = 1700000400000 WHERE id = 7;"
sqlite3 -bail "$SQ" "$finish
 INSERT INTO images (job_id, attempt_id, kind, idx, partial_index, format, width, height, size, sha256, created_at, data)
  VALUES (1, 1, 'partial', 0, 0, 'png', 20, 20, $szp, '$shap', 1700000100000, X'$hexp'),
         (1, 1, 'final', 0, NULL, 'png', 40, 40, $sz0, '$sha0', 1700000200000, X'$hex0');"
pgsql <<EOF
$finish
INSERT INTO images (job_id, attempt_id, kind, idx, partial_index, format, width, height, size, sha256, created_at, data)
  VALUES (1, 1, 'partial', 0, 0, 'png', 20, 20, $szp, '$shap', 1700000100000, '\\x$hexp'),
         (1, 1, 'final', 0, NULL, 'png', 40, 40, $sz0, '$sha0', 1700000200000, '\\x$hex0');
EOF

# Reading verbs.
both list list
both list_json list --json
both list_states list --state failed,succeeded,queued --limit 0
both list_limit list --limit 2 --json
both list_since list --since 1h --json
both list_badstate list --state nope
assert_eq "$(rc_of list_badstate)" 2 "list --state nope"
for id in 1 7 9; do
	both show$id show $id
done
for id in 1 8 9 10; do
	both show${id}_json show $id --json
done
grep -q '"model": null' "$T/pg/show9_json.out" || fail "params [1,2]: $(out_of show9_json)"
grep -q '"params": "just text"' "$T/pg/show10_json.out" || fail "params \"just text\": $(out_of show10_json)"
grep -q '"extra": {' "$T/pg/show8_json.out" || fail "nested params: $(out_of show8_json)"
both show_none show 999
assert_eq "$(rc_of show_none)" 1 "show of a missing job"
both status status
both status_json status --json
grep -q '"schema_version": 4' "$T/pg/status_json.out" || fail "status --json: $(out_of status_json)"
pg_size=$("$IMGEDITCTL" --db "$PG_URI" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["database"]["size_bytes"])')
assert_eq "$pg_size" "$(pgsql -c 'SELECT pg_database_size(current_database())')" "status's database size on PostgreSQL"

# Export: files, sidecar, and the bytes themselves.
both export export 1 -o "$T/exp-ID" --partials --json
for b in sq pg; do
	rm -rf "$T/exp-$b"
	"$IMGEDITCTL" --db "$(db_of $b)" export 1 -o "$T/exp-$b" --partials >/dev/null
	assert_eq "$(sha256sum <"$T/exp-$b/1/final-0.png" | cut -d' ' -f1)" "$sha0" "$b: exported final's sha256"
	assert_eq "$(sha256sum <"$T/exp-$b/1/partial-a1-0.png" | cut -d' ' -f1)" "$shap" "$b: exported partial's sha256"
done
norm "$T"/exp-{sq,pg}/1/job.json
diff "$T/exp-sq/1/job.json" "$T/exp-pg/1/job.json" >&2 || fail "job.json differs"
both export_state export --state succeeded -o "$T/exp-state" --json

# Writing verbs.
both cancel cancel 2 3
both cancel_again cancel 2
assert_eq "$(rc_of cancel_again)" 1 "cancel of a canceled job"
echo 4 >"$T/ids"
both cancel_stdin -i "$T/ids" cancel -
both cancel_none cancel 999
both cancel_state cancel --state retry_wait --json
both retry retry 2
both retry_succeeded retry 1
assert_eq "$(rc_of retry_succeeded)" 1 "retry of a succeeded job"
both retry_failed retry 7
assert_eq "$(pgsql -c 'SELECT state, max_attempts, error_message IS NULL FROM jobs WHERE id = 7')" "queued|3|t" "job 7 after retry"
both retry_state retry --state canceled --json
both pause pause "disk swap"
both status_paused status --json
grep -q '"reason": "disk swap"' "$T/pg/status_paused.out" || fail "pause not in status: $(out_of status_paused)"
both pause_again pause again
both resume resume
both status_resumed status
grep -q '^paused    no' "$T/pg/status_resumed.out" || fail "resume: $(out_of status_resumed)"
assert_eq "$(pgsql -c "SELECT count(*) FROM control WHERE key = 'resume'")" 1 "resume's mark"
both wait wait 5 --timeout 1
assert_eq "$(rc_of wait)" 4 "wait on a queued job"
both wait_done wait 1 --timeout 1
assert_eq "$(rc_of wait_done):$(out_of wait_done)" "0:1 succeeded" "wait on a succeeded job"
both retry_force retry --force 1
assert_eq "$(pgsql -c 'SELECT state, finished_at IS NULL FROM jobs WHERE id = 1')" "queued|t" "job 1 after retry --force"
both show1_again show 1 --json

# Watch: two jobs canceled while it runs; then two quiet seconds.
for b in sq pg; do
	"$IMGEDITCTL" --db "$(db_of $b)" watch 5 6 >"$T/$b/watch.out" 2>"$T/$b/watch.err" &
	eval "watch_$b=\$!"
done
# both watches began (they first say what the jobs did so far)
for b in sq pg; do
	deadline=$((SECONDS + 10))
	until [ "$(wc -l <"$T/$b/watch.out")" -ge 2 ]; do
		[ $SECONDS -lt $deadline ] || fail "$b: watch said nothing: $(cat "$T/$b/watch.err")"
		sleep 0.05
	done
done
sqlboth "UPDATE jobs SET state = 'canceled', finished_at = 1700000500000 WHERE id = 5"
"$IMGEDITCTL" --db "$SQ" cancel 6 >/dev/null
"$IMGEDITCTL" --db "$PG_URI" cancel 6 >/dev/null
for b in sq pg; do
	pid=watch_$b
	timeout 10 tail --pid="${!pid}" -f /dev/null || fail "$b: watch did not end when its jobs did"
	wait "${!pid}" || fail "$b: watch failed: $(cat "$T/$b/watch.err")"
done
diff "$T/sq/watch.out" "$T/pg/watch.out" >&2 || fail "watch's output differs"
assert_eq "$(tr '\n' ' ' <"$T/pg/watch.out")" "job 5 queued job 6 queued job 5 canceled job 6 canceled " "watch's lines"
for b in sq pg; do
	(rc=0; timeout 2 "$IMGEDITCTL" --db "$(db_of $b)" watch --json >"$T/$b/wq.out" \
		2>"$T/$b/wq.err" || rc=$?; echo "$rc" >"$T/$b/wq.rc") &
done
wait
for b in sq pg; do
	assert_eq "$(cat "$T/$b/wq.rc")" 124 "$b: watch ran until stopped ($(cat "$T/$b/wq.err"))"
	assert_eq "$(wc -c <"$T/$b/wq.out")" 0 "$b: watch's output with nothing happening"
done

# Prune: old finished jobs, their images and unreferenced blobs.
sqlboth "UPDATE jobs SET state = 'succeeded', finished_at = 1700000300000 WHERE id = 1"
sqlboth "UPDATE jobs SET state = 'canceled', finished_at = 1700000600000 WHERE id IN (9, 10)"
both prune_dry prune --older-than 1d --dry-run
assert_eq "$(out_of prune_dry)" "would prune 4 jobs, with 0.0 MB of images (nothing deleted: --dry-run)" "prune --dry-run"
both prune_dry_json prune --older-than 1d --dry-run --json
want=$(pgsql -c "SELECT (SELECT sum(octet_length(data)) FROM images WHERE job_id IN (1,5,9,10))
	+ coalesce((SELECT sum(octet_length(data)) FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM inputs i
	  WHERE i.blob_id = b.id AND i.job_id NOT IN (1,5,9,10))), 0)")
for b in sq pg; do
	rc=0; "$IMGEDITCTL" --db "$(db_of $b)" prune --older-than 1d --json >"$T/$b/prune.out" 2>"$T/$b/prune.err" || rc=$?
	assert_eq "$rc" 0 "$b: prune ($(cat "$T/$b/prune.err"))"
	assert_eq "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["jobs"], d["blobs"])' <"$T/$b/prune.out")" "4 0" "$b: prune's counts"
done
assert_eq "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["free_bytes"])' <"$T/pg/prune.out")" "$want" "PostgreSQL prune's bytes deleted"
both list_after list --limit 0
# the same first line; the second says what each backend did with the space
sqlboth "UPDATE jobs SET state = 'failed', finished_at = 1700000600000 WHERE id = 8"
for b in sq pg; do
	"$IMGEDITCTL" --db "$(db_of $b)" prune --older-than 1d >"$T/$b/prune_text.out" || fail "$b: prune"
done
assert_eq "$(head -1 "$T/pg/prune_text.out")" "$(head -1 "$T/sq/prune_text.out")" "prune's first line"
assert_eq "$(head -1 "$T/pg/prune_text.out")" "pruned 1 jobs and 0 unreferenced input blobs" "prune's first line"
grep -q '^0.0 MB freed (given back' "$T/sq/prune_text.out" || fail "SQLite prune said: $(cat "$T/sq/prune_text.out")"
grep -q '^0.0 MB deleted, reused for new data once autovacuum has run' "$T/pg/prune_text.out" ||
	fail "PostgreSQL prune said: $(cat "$T/pg/prune_text.out")"
both prune_bad prune --older-than 1d --state queued
assert_eq "$(rc_of prune_bad)" 2 "prune of queued jobs"

# Schema versions, and a password never shown.
pw_uri="postgresql://postgres:s3cr3tpw@/imgedit?host=$PG_DIR"
out=$("$IMGEDITCTL" --db "$pw_uri" status 2>&1) || fail "status with a password in the URI: $out"
grep -q s3cr3tpw <<<"$out" && fail "status printed the password: $out"
grep -q "^database  $PG_NAME " <<<"$out" || fail "status's database line: $out"
pgsql -c "CREATE DATABASE v1"
v1_uri="postgresql://postgres:s3cr3tpw@/v1?host=$PG_DIR"
psql -X -q -v ON_ERROR_STOP=1 -d "postgresql:///v1?host=$PG_DIR&user=postgres" -f "$SRCDIR/schema/pg/001-initial.sql" \
	-c "INSERT INTO schema_version (version) VALUES (1)" >/dev/null
rc=0; out=$("$IMGEDITCTL" --db "$v1_uri" list 2>&1) || rc=$?
assert_eq "$rc" 3 "list on a version 1 database"
grep -q "schema version 1, this imgeditctl needs 4: run 'imgeditctl --db URI init'" <<<"$out" || fail "old schema said: $out"
psql -X -q -d "postgresql:///v1?host=$PG_DIR&user=postgres" -c "UPDATE schema_version SET version = 99"
rc=0; out=$("$IMGEDITCTL" --db "$v1_uri" show 1 2>&1) || rc=$?
assert_eq "$rc" 3 "show on a version 99 database"
grep -q "newer than this imgeditctl" <<<"$out" || fail "newer schema said: $out"
grep -q s3cr3tpw <<<"$out" && fail "an error printed the password: $out"
rc=0; out=$("$IMGEDITCTL" --db "postgresql://postgres:s3cr3tpw@/imgedit?host=$T/none" list 2>&1) || rc=$?
assert_eq "$rc" 3 "list when the server is not there"
grep -q s3cr3tpw <<<"$out" && fail "the error printed the password: $out"

# serve is read-only on PostgreSQL too.
DB=$PG_URI start_serve
curl -fsS "$SERVE_URL" >"$T/page.html" || fail "serve's page"
grep -q 'each one' "$T/page.html" || fail "serve's page lacks job 2"
curl -fsS "${SERVE_URL}inputs/2/mask/0" -o "$T/mask.got" || fail "serve's mask of job 2"
assert_eq "$(sha256sum <"$T/mask.got")" "$(sha256sum <"$T/in/m.png")" "mask bytes served from PostgreSQL"
stop_serve
pass "init, submit, list, show, status, export, cancel, retry, pause, resume, wait, watch, prune, serve: same output on both"
