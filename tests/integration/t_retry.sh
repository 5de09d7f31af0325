#!/usr/bin/env bash
# Retries against a misbehaving upstream: 500, a cut stream and an error
# event, then success, keep four attempt rows and every partial; a hung
# stream is cut by the stall timeout; a garbage data line is retried;
# moderation and x-should-retry:false fail at once with their message.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
sub() { "$IMGEDITCTL" submit --model gpt-image-2.6-flare --partial-images 2 "$@" "$T/a.png"; }
flaky=$(sub -p "flaky [[fault:status=500;cut;error-event]]")
hung=$(sub -p "hung [[fault:hang]]")
garbage=$(sub -p "garbage [[fault:garbage]]")
moder=$(sub -p "moderated [[fault:moderation]]")
noretry=$(sub -p "no retry [[fault:status=500,x-should-retry=false]]")
start_daemon --concurrency 4 --retry-base 100ms --retry-max 400ms --stall-timeout 1s
wait_jobs_done 60

# flaky: 4 attempts, each kept with its own status and partials
assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$flaky")" "succeeded,4" "flaky job"
assert_eq "$(sql "SELECT group_concat(number || ':' || outcome || ':' || coalesce(http_status, 0), ' ') FROM (SELECT * FROM attempts WHERE job_id=$flaky ORDER BY number) AS s")" \
	"1:retry:500 2:retry:200 3:retry:200 4:succeeded:200" "flaky attempts"
assert_eq "$(sql "SELECT count(DISTINCT request_id) FROM attempts WHERE job_id=$flaky")" 4 "request ids recorded"
assert_eq "$(sql "SELECT group_concat(n, ' ') FROM (SELECT a.number, count(i.id) AS n FROM attempts a LEFT JOIN images i ON i.attempt_id = a.id AND i.kind='partial' WHERE a.job_id=$flaky GROUP BY a.number ORDER BY a.number) AS s")" \
	"0 0 1 2" "partials per attempt (500, cut mid-event, error after one, success)"
assert_eq "$(sql "SELECT count(*) FROM images WHERE job_id=$flaky AND kind='final'")" 1 "flaky finals"
assert_eq "$(sql "SELECT error_type FROM attempts WHERE job_id=$flaky AND number=3")" server_error "error event recorded"
sent=$( (fake_sent_sha partial; fake_sent_sha final) | sort)
stored=$(sql "SELECT sha256 FROM images ORDER BY sha256")
assert_eq "$stored" "$sent" "every image sent, on any attempt, is stored"

# hung: the stall timeout cut it, the retry succeeded
assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$hung")" "succeeded,2" "hung job"
assert_eq "$(sql "SELECT outcome || ',' || error_type FROM attempts WHERE job_id=$hung AND number=1")" "retry,timeout" "hung attempt"
grep '"hung' "$FAKE_LOG" | head -1 | grep -q '"client_closed": *true' || fail "the hung stream was not closed by the daemon"

assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$garbage")" "succeeded,2" "garbage job"

assert_eq "$(sql "SELECT state || ',' || attempts || ',' || error_status || ',' || error_code FROM jobs WHERE id=$moder")" \
	"failed,1,400,moderation_blocked" "moderated job"
sql "SELECT error_message FROM jobs WHERE id=$moder" | grep -q "safety system" || fail "moderation message not kept"
assert_eq "$(sql "SELECT state || ',' || attempts || ',' || error_status FROM jobs WHERE id=$noretry")" "failed,1,500" "x-should-retry:false job"
stop_daemon
pass "retries, stall timeout and permanent errors behave"
