#!/usr/bin/env bash
# imgeditctl copy holds one bounded batch at a time on every table, not
# only those with image bytes: 8 jobs whose params are ~30 MB each, 8
# attempts with a ~30 MB usage object and 8 events with a ~30 MB detail go
# from SQLite to PostgreSQL and back with copy's peak RSS under 200 MB (a
# batch of all 8 would hold 240 MB), every row arriving intact.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
pg_start
command -v /usr/bin/time >/dev/null || { echo "skip: no /usr/bin/time" >&2; exit 77; }

N=8
HEXBYTES=15000000   # hex() doubles them: ~30 MB of text a row
MAX_KB=$((200 * 1024))

"$IMGEDITCTL" init >/dev/null
# random text per row, so each row's digest is its own
for i in $(seq $N); do
	sql "INSERT INTO jobs (params) VALUES ('{\"prompt\":\"' || hex(randomblob($HEXBYTES)) || '\"}');
	     INSERT INTO attempts (job_id, number, started_at, usage)
	     VALUES (last_insert_rowid(), 1, 1, '{\"note\":\"' || hex(randomblob($HEXBYTES)) || '\"}');
	     INSERT INTO events (job_id, at, from_state, to_state, detail)
	     VALUES ((SELECT max(id) FROM jobs), 2, 'queued', 'running', hex(randomblob($HEXBYTES)));"
done
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE length(params) > 30000000")" $N "big jobs written"

# digests of each row's big value, in key order, one line a row
digests() { # digests sqlite|pg WHERE
	if [ "$1" = pg ]; then
		psql -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 -d "$2" -c "
		    SELECT 'jobs', id, params->>'prompt' FROM jobs ORDER BY id;
		    SELECT 'attempts', id, usage->>'note' FROM attempts ORDER BY id;
		    SELECT 'events', id, detail FROM events WHERE detail IS NOT NULL ORDER BY id;"
	else
		sqlite3 -bail -separator ' ' "$2" "
		    SELECT 'jobs', id, json_extract(params, '\$.prompt') FROM jobs ORDER BY id;
		    SELECT 'attempts', id, json_extract(usage, '\$.note') FROM attempts ORDER BY id;
		    SELECT 'events', id, detail FROM events WHERE detail IS NOT NULL ORDER BY id;"
	fi | python3 -c '
import hashlib, sys
for line in sys.stdin:
	table, key, value = line.rstrip("\n").split(" ", 2)
	print(table, key, len(value), hashlib.sha256(value.encode()).hexdigest())'
}
digests sqlite "$DB" >"$T/src.sum"
assert_eq "$(wc -l <"$T/src.sum")" $((3 * N)) "rows digested on SQLite"

# copy_measured NAME SRC DST: copies, checking exit status and peak RSS
copy_measured() {
	local rc=0 kb secs
	# a sanitizer build keeps freed memory in quarantine (256 MB by
	# default), which is not copy's: a small one measures copy itself
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8 \
	/usr/bin/time -o "$T/$1.time" -f '%M %e' "$IMGEDITCTL" copy "$2" "$3" --json \
		>"$T/$1.json" 2>"$T/$1.err" || rc=$?
	assert_eq "$rc" 0 "$1's exit status ($(cat "$T/$1.err"))"
	read -r kb secs <"$T/$1.time"
	echo "$1: peak RSS $((kb / 1024)) MB, $secs s"
	[ "$kb" -lt "$MAX_KB" ] || fail "$1: copy's peak RSS was $((kb / 1024)) MB, over $((MAX_KB / 1024)) MB: a batch is not bounded by bytes"
}

copy_measured to_pg "$DB" "$PG_URI"
digests pg "$PG_URI" >"$T/pg.sum"
diff "$T/src.sum" "$T/pg.sum" >&2 || fail "rows differ on PostgreSQL"

copy_measured back "$PG_URI" "$T/back.db"
digests sqlite "$T/back.db" >"$T/back.sum"
diff "$T/src.sum" "$T/back.sum" >&2 || fail "rows differ after the round trip"
for t in jobs attempts events; do
	assert_eq "$(sqlite3 "$T/back.db" "SELECT count(*) FROM $t")" "$(sql "SELECT count(*) FROM $t")" "$t rows after the round trip"
done
pass "$((3 * N)) rows of ~30 MB to PostgreSQL and back, peak RSS $(cut -d' ' -f1 "$T/to_pg.time") / $(cut -d' ' -f1 "$T/back.time") kB"
