#!/usr/bin/env bash
# cancel and retry by state (and --since), ids on standard input, and
# retry --force of a succeeded job: it runs again, and its new finals are
# what export takes.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
submit_jobs 4 "sel" --model gpt-image-2.6-flare "$T/a.png"
"$IMGEDITCTL" cancel --state queued >"$T/out"
assert_eq "$(grep -c 'canceled$' "$T/out")" 4 "jobs canceled by --state queued"
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='canceled'")" 4 "canceled jobs"
printf '1\n2 3\n' | "$IMGEDITCTL" retry - >"$T/out"
assert_eq "$(sql "SELECT group_concat(state) FROM (SELECT state FROM jobs ORDER BY id) AS s")" \
	"queued,queued,queued,canceled" "after retry of ids on standard input"
"$IMGEDITCTL" retry --state canceled,failed --since 1h >"$T/out"
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='queued'")" 4 "after retry --state canceled,failed"
rc=0; "$IMGEDITCTL" retry --state bogus 2>"$T/err" || rc=$?
assert_eq "$rc" 2 "retry --state bogus"
rc=0; "$IMGEDITCTL" cancel 2>"$T/err" || rc=$?
assert_eq "$rc" 2 "cancel with nothing to select"

start_daemon
wait_jobs_done 30
rc=0; "$IMGEDITCTL" retry 1 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "retry of a succeeded job without --force"
grep -q "with --force" "$T/err" || fail "the refusal does not say --force: $(cat "$T/err")"
first=$(sql "SELECT sha256 FROM images WHERE job_id=1 AND kind='final'")
"$IMGEDITCTL" retry --force 1 >/dev/null
wait_jobs_done 30
stop_daemon
assert_eq "$(sql "SELECT group_concat(outcome) FROM (SELECT outcome FROM attempts WHERE job_id=1 ORDER BY number) AS s")" \
	"succeeded,succeeded" "job 1's attempts after retry --force"
"$IMGEDITCTL" export 1 -o "$T/out1" >/dev/null
second=$(sql "SELECT sha256 FROM images i JOIN attempts a ON a.id = i.attempt_id WHERE i.job_id=1 AND i.kind='final' AND a.number=2")
[ "$second" != "$first" ] || fail "the second run's final is the first's"
assert_eq "$(sha256sum <"$T/out1/1/final-0.png" | cut -d' ' -f1)" "$second" "export takes the last succeeded attempt"
pass "cancel/retry by state, from standard input, and retry --force"
