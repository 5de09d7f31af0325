#!/usr/bin/env bash
# Every image buffer the daemon holds counts against --memory-max once and
# comes off it once, whichever way it arrived: non-streaming answers (b64
# images decoded from the whole body, and url downloads) beside streams.
# A buffer counted off but never on made the count wrap below zero, every
# stream then looked over budget and paused for good: 4 mixed jobs at once
# all succeed, and after them the daemon holds no image memory.
. "$(dirname "$0")/lib.sh"

start_fake --derive --latency-ms 150
use_gateway # dall-e-2 is shut down at OpenAI: a gateway that still serves it
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 64 64
ids=()
ids+=("$("$IMGEDITCTL" submit -p "two, one body" --model gpt-image-2.6-flare --n 2 --no-stream "$T/a.png")")
ids+=("$("$IMGEDITCTL" submit -p "by url" --model dall-e-2 --size 256x256 \
	--response-format url --no-stream "$T/a.png")")
ids+=("$("$IMGEDITCTL" submit -p "streamed, 2 partials" --model gpt-image-2.6-flare --partial-images 2 "$T/a.png")")
ids+=("$("$IMGEDITCTL" submit -p "streamed, 3 partials" --model gpt-image-2.6-flare --partial-images 3 "$T/a.png")")
start_daemon --concurrency 4 --heartbeat 100ms --metrics-listen 127.0.0.1:0
wait_jobs_done 30
addr=$(sed -n 's/.* metrics_listen address=\([^ ]*\) .*/\1/p' "$DAEMON_LOG" | head -1)
held=$(curl -sf "http://$addr/metrics" | sed -n 's/^imgedit_image_memory_bytes //p')
stop_daemon
assert_eq "$(sql "SELECT group_concat(state) FROM (SELECT state FROM jobs ORDER BY id) AS s")" \
	"succeeded,succeeded,succeeded,succeeded" "job states"
assert_eq "$(sql "SELECT count(*) FROM images")" 10 "images stored (2 + 1 + 3 + 4)"
assert_eq "$held" 0 "image memory held once every job ended"
peak=$(sed -n 's/.*info stopped .*held_peak_mb=\([0-9.]*\).*/\1/p' "$DAEMON_LOG" | tail -1)
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 16 else 1)" "${peak:-1e99}" ||
	fail "held_peak_mb=$peak: the count of held image bytes went wrong"
pass "non-streaming, url and streamed images beside each other: all stored, nothing held after"
