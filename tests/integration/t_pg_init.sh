#!/usr/bin/env bash
# imgeditctl init on PostgreSQL: 8 processes at once on a fresh database all
# succeed and leave schema version 4 (the advisory lock serializes them), a
# second init changes nothing, the tables and columns are SQLite's, the
# triggers write history and NOTIFY, a password never reaches the output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
pg_start

n=8
pids=()
for i in $(seq 1 $n); do
	"$IMGEDITCTL" --db "$PG_URI" init --json >"$T/init.$i.out" 2>"$T/init.$i.err" &
	pids+=($!)
done
failed=0
for i in $(seq 1 $n); do
	wait "${pids[$((i - 1))]}" || { failed=$((failed + 1)); echo "init $i: $(cat "$T/init.$i.err")" >&2; }
done
assert_eq "$failed" 0 "init processes that failed of $n at once"
for i in $(seq 1 $n); do
	assert_eq "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["backend"], d["schema_version"])' <"$T/init.$i.out")" \
		"postgresql 4" "init $i --json"
done
assert_eq "$(pgsql -c 'SELECT count(*), min(version) FROM schema_version')" "1|4" "schema_version row"

# Running it again is a no-op: the version row and the tables are the same.
before=$(pgsql -c "SELECT xmin FROM schema_version; SELECT string_agg(oid::text, ',' ORDER BY relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace")
out=$("$IMGEDITCTL" --db "$PG_URI" init) || fail "second init failed"
assert_eq "$out" "postgresql://postgres@/imgedit?host=$PG_DIR&port=5432: schema version 4" "second init's output"
assert_eq "$(pgsql -c "SELECT xmin FROM schema_version; SELECT string_agg(oid::text, ',' ORDER BY relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace")" \
	"$before" "schema after a second init"

# The same tables, views and columns as the SQLite schema.
"$IMGEDITCTL" --db "$T/q.db" init >/dev/null
sql "SELECT m.name || '.' || p.name FROM sqlite_master m, pragma_table_info(m.name) p
     WHERE m.type IN ('table','view') AND m.name NOT LIKE 'sqlite_%' ORDER BY 1" >"$T/cols.sqlite"
pgsql -c "SELECT table_name || '.' || column_name FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name <> 'schema_version' ORDER BY 1" >"$T/cols.pg"
[ "$(wc -l <"$T/cols.pg")" -gt 80 ] || fail "only $(wc -l <"$T/cols.pg") columns on PostgreSQL"
diff "$T/cols.sqlite" "$T/cols.pg" >&2 || fail "PostgreSQL's columns differ from SQLite's"

# The same indexes, and SQLite's triggers among PostgreSQL's.
sql "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY 1" >"$T/idx.sqlite"
pgsql -c "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'
          AND indexname NOT LIKE '%\_pkey' AND indexname NOT LIKE '%\_key' ORDER BY 1" >"$T/idx.pg"
assert_eq "$(wc -l <"$T/idx.pg")" 8 "indexes on PostgreSQL"
diff "$T/idx.sqlite" "$T/idx.pg" >&2 || fail "PostgreSQL's indexes differ from SQLite's"
for trig in $(sql "SELECT name FROM sqlite_master WHERE type = 'trigger'"); do
	assert_eq "$(pgsql -c "SELECT count(*) FROM pg_trigger WHERE tgname = '$trig'")" 1 "trigger $trig on PostgreSQL"
done

# A database at version 1 is taken to 4 by the next migrations alone.
pgsql -c "CREATE DATABASE v1"
v1_uri="postgresql:///v1?host=$PG_DIR&user=postgres"
psql -X -q -v ON_ERROR_STOP=1 -d "$v1_uri" -f "$SRCDIR/schema/pg/001-initial.sql" \
	-c "INSERT INTO schema_version (version) VALUES (1); INSERT INTO jobs (params) VALUES ('{}')" ||
	fail "cannot make a version 1 database"
"$IMGEDITCTL" --db "$v1_uri" init >/dev/null || fail "init of a version 1 database failed"
assert_eq "$(psql -X -A -t -d "$v1_uri" -c "SELECT version FROM schema_version; SELECT count(*) FROM jobs;
	SELECT count(*) FROM pg_indexes WHERE indexname = 'jobs_ready'" | tr '\n' ' ')" "4 1 1 " "version 1 database after init"

# History triggers and wake-ups: a new job and a requeue notify, a retry_wait does not.
out=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$PG_URI" 2>&1 <<'SQL'
LISTEN imgedit_jobs;
INSERT INTO jobs (params) VALUES ('{"prompt":"a"}');
UPDATE jobs SET state = 'running', lease_owner = 'd1', lease_expires = 1;
UPDATE jobs SET state = 'retry_wait', lease_owner = NULL, error_message = 'boom';
UPDATE jobs SET state = 'queued';
SELECT coalesce(from_state, '-') || '>' || to_state || ':' || coalesce(detail, '') FROM events ORDER BY id;
SQL
) || fail "trigger session failed: $out"
assert_eq "$(grep -c 'Asynchronous notification "imgedit_jobs"' <<<"$out")" 2 "notifications (insert, requeue)"
assert_eq "$(grep -v Asynchronous <<<"$out" | tr '\n' ' ')" "->queued: queued>running: running>retry_wait:boom retry_wait>queued: " "events written by the triggers"
pgsql -c "UPDATE jobs SET state = 'running'" 2>/dev/null && fail "running without a lease_owner was accepted"

# A password in the URI is not echoed; a newer schema is refused (exit 3).
pw_uri="postgresql://postgres:s3cr3tpw@/imgedit?host=$PG_DIR"
out=$("$IMGEDITCTL" --db "$pw_uri" init 2>&1) || fail "init with a password in the URI failed: $out"
grep -q s3cr3tpw <<<"$out" && fail "init printed the password: $out"
pgsql -c "UPDATE schema_version SET version = 99"
rc=0; out=$("$IMGEDITCTL" --db "$pw_uri" init 2>&1) || rc=$?
assert_eq "$rc" 3 "init's exit status on a newer schema"
grep -q 'version 99 is newer' <<<"$out" || fail "no 'newer' in: $out"
grep -q s3cr3tpw <<<"$out" && fail "the error printed the password: $out"
# Unreachable: exit 3, no password.
rc=0; out=$("$IMGEDITCTL" --db "postgresql://postgres:s3cr3tpw@/imgedit?host=$T/none" init 2>&1) || rc=$?
assert_eq "$rc" 3 "init's exit status when the server is not there"
grep -q s3cr3tpw <<<"$out" && fail "the error printed the password: $out"
# The other verbs refuse the newer schema too (exit 3); t_pg_ctl.sh runs them.
rc=0; out=$("$IMGEDITCTL" --db "$PG_URI" list 2>&1) || rc=$?
assert_eq "$rc" 3 "list's exit status on a newer schema"
grep -q 'newer than this imgeditctl' <<<"$out" || fail "list on PostgreSQL said: $out"
# The daemon refuses a schema newer than itself, and a server not there,
# without the password in its log.
rc=0; out=$(OPENAI_API_KEY=sk-test timeout 10 "$IMGEDITD" --db "$pw_uri" --base-url http://127.0.0.1:9/v1 2>&1) || rc=$?
assert_eq "$rc" 1 "imgeditd's exit status on a newer schema"
grep -q 'version 99 is newer' <<<"$out" || fail "imgeditd on a newer schema said: $out"
grep -q s3cr3tpw <<<"$out" && fail "imgeditd logged the password: $out"
rc=0; out=$(OPENAI_API_KEY=sk-test timeout 10 "$IMGEDITD" --db "postgresql://postgres:s3cr3tpw@/imgedit?host=$T/none" --base-url http://127.0.0.1:9/v1 2>&1) || rc=$?
assert_eq "$rc" 1 "imgeditd's exit status when the server is not there"
grep -q 'db_open_failed backend=postgresql' <<<"$out" || fail "imgeditd without a server said: $out"
grep -q s3cr3tpw <<<"$out" && fail "imgeditd logged the password: $out"
[ ! -e "postgresql:" ] || fail "a file named after the URI was created"
pass "$n concurrent inits: version 4 once; re-init a no-op; columns as SQLite; triggers and NOTIFY"
