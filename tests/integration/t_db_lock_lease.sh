#!/usr/bin/env bash
# A lock held for longer than the lease (10 s against --lease 3s) while 8
# jobs stream: once it is gone no job stays running, no attempt stays
# open, each job ran once upstream, and every image sent is stored. The
# daemon renews its own leases in the same transaction that requeues
# expired ones, so it never requeues (and reruns) a job it still runs.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000 --latency-ms 300
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
submit_jobs 8 "lease" --model gpt-image-2.6-flare --partial-images 3 "$T/a.png"
start_daemon --concurrency 8 --lease 3s
fake_wait_requests 8
lock_for 10
wait_jobs_done 30
sleep 4 # more than a lease: nothing may wake up running again
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded' AND attempts=1 AND lease_owner IS NULL")" 8 \
	"jobs succeeded once, no lease left"
assert_eq "$(sql "SELECT count(*) FROM attempts WHERE outcome IS NULL OR ended_at IS NULL")" 0 "open attempts"
assert_eq "$(sql "SELECT group_concat(outcome) FROM (SELECT DISTINCT outcome FROM attempts) AS s")" succeeded "attempt outcomes"
assert_eq "$(edit_requests)" 8 "upstream requests for 8 jobs"
sent=$( (fake_sent_sha partial; fake_sent_sha final) | sort)
assert_eq "$(sql "SELECT sha256 FROM images ORDER BY sha256")" "$sent" "images stored vs sent"
stop_daemon
pass "a 10 s lock over a 3 s lease: 8 jobs ran once, nothing left running"
