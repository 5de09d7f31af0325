#!/usr/bin/env bash
# schema/README.md's PostgreSQL examples, run exactly as written with psql
# against a throwaway cluster: the enqueue example makes a queued job with
# its input's bytes intact; after an image row is written as the daemon
# writes one, the read-back examples find it and give back its bytes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"

example() { # NAME: the fenced code between <!-- example:NAME --> and <!-- /example -->
	sed -n "/<!-- example:$1 -->/,/<!-- \/example -->/p" "$SRCDIR/schema/README.md" |
		sed '/^<!--/d; /^```/d'
}
for e in pg-enqueue pg-results pg-image pg-c; do
	example $e >"$T/$e.sql"
	[ -s "$T/$e.sql" ] || fail "example $e not found in schema/README.md"
done

pg_start
"$IMGEDITCTL" --db "$PG_URI" init >/dev/null
mkpng "$T/photo.png" 64 64
# as the README says to run it: psql -qAt -X -d URL -f enqueue.sql, in the photo's directory
job=$(cd "$T" && psql -qAt -X -d "$PG_URI" -f "$T/pg-enqueue.sql") || fail "the enqueue example failed: $job"
[ "$job" -ge 1 ] 2>/dev/null || fail "the enqueue example printed '$job', not a job id"
assert_eq "$(pgsql -c "SELECT state, stream, priority, params->>'prompt', params->>'partial_images' FROM jobs WHERE id = $job")" \
	"queued|1|0|Replace the background with a white studio wall|2" "the README's job row"
assert_eq "$(pgsql -c "SELECT count(*) FROM events WHERE job_id = $job AND to_state = 'queued'")" 1 "history of the job"
assert_eq "$(pgsql -c "SELECT role, ordinal, filename, content_type, blob_id IS NULL, length(data), encode(sha256(data), 'hex') FROM inputs WHERE job_id = $job")" \
	"image|0|photo.png|image/png|t|$(stat -c %s "$T/photo.png")|$(sha256sum "$T/photo.png" | cut -d' ' -f1)" "the job's input"

# What a daemon writes for a succeeded attempt: an attempt, its final image.
mkpng "$T/result.png" 48 32
want=$(sha256sum "$T/result.png" | cut -d' ' -f1)
pgsql -v img="$(base64 -w0 "$T/result.png")" <<SQL
BEGIN;
UPDATE jobs SET state = 'running', lease_owner = 'd1', lease_expires = 1 WHERE id = $job;
INSERT INTO attempts (job_id, number, daemon_id, started_at, ended_at, http_status, outcome)
VALUES ($job, 1, 'd1', 1, 2, 200, 'succeeded');
INSERT INTO images (job_id, attempt_id, kind, idx, format, width, height, size, sha256, created_at, data)
SELECT $job, id, 'final', 0, 'png', 48, 32, $(stat -c %s "$T/result.png"), '$want', 2, decode(:'img', 'base64')
FROM attempts WHERE job_id = $job;
UPDATE jobs SET state = 'succeeded', lease_owner = NULL, lease_expires = NULL, finished_at = 2 WHERE id = $job;
COMMIT;
SQL

rows=$(psql -qAt -X -F ' ' -v job="$job" -d "$PG_URI" -f "$T/pg-results.sql") || fail "the results example failed: $rows"
assert_eq "$(echo "$rows" | wc -l)" 1 "rows of the results query"
read -r rjob kind idx format w h size sha image_id <<<"$rows"
assert_eq "$rjob $kind $idx $format ${w}x$h $sha" "$job final 0 png 48x32 $want" "result row"
(cd "$T" && psql -qAt -X -v image_id="$image_id" -d "$PG_URI" -f "$T/pg-image.sql") || fail "the image example failed"
[ -s "$T/out.png" ] || fail "the image example wrote no out.png"
assert_eq "$(sha256sum "$T/out.png" | cut -d' ' -f1)" "$want" "bytes read back vs sha256"
assert_eq "$(stat -c %s "$T/out.png")" "$size" "size read back"

# The libpq snippet, compiled around the variables it uses: it enqueues a
# second job with the photo in binary and reads the image back in binary.
cat >"$T/snippet.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <libpq-fe.h>
int main(int argc, char **argv) {
	PGconn *pg = PQconnectdb(argv[1]);
	PGresult *r;
	char job[32], bytes[1 << 16];
	FILE *in = fopen(argv[2], "rb"), *out = fopen(argv[4], "wb");
	size_t len = fread(bytes, 1, sizeof(bytes), in);
	const char *image_id = argv[3];
	if (argc != 5 || PQstatus(pg) != CONNECTION_OK || !out) return 1;
#include "pg-c.sql"
	printf("%s\n", job);
	PQfinish(pg);
	return fclose(out) != 0;
}
C
cc -o "$T/snippet" -I"$T" "$T/snippet.c" $(pkg-config --cflags --libs libpq) || fail "the libpq snippet does not compile"
job2=$("$T/snippet" "$PG_URI" "$T/photo.png" "$image_id" "$T/out2.png") || fail "the libpq snippet failed"
[ "$job2" -gt "$job" ] 2>/dev/null || fail "the libpq snippet printed job '$job2'"
assert_eq "$(pgsql -c "SELECT j.state || '|' || (j.params->>'model') || '|' || encode(sha256(i.data), 'hex') FROM jobs j JOIN inputs i ON i.job_id = j.id WHERE j.id = $job2")" \
	"queued|gpt-image-2.6-flare|$(sha256sum "$T/photo.png" | cut -d' ' -f1)" "the libpq snippet's job and input bytes"
assert_eq "$(sha256sum "$T/out2.png" | cut -d' ' -f1)" "$want" "bytes the libpq snippet read back"
pass "PostgreSQL README examples: job $job enqueued with its photo, ${w}x$h png read back intact"
