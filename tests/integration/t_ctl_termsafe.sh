#!/usr/bin/env bash
# Text from upstream (an error message) and from the database (a prompt,
# a model name, a pause reason) never reaches a terminal as control
# sequences: list, show, status and watch print ESC, BEL, C1 controls and
# bidi overrides visibly; --json keeps the exact text.
. "$(dirname "$0")/lib.sh"

start_fake
"$IMGEDITCTL" init >/dev/null
mkpng "$T/sq.png" 64 64
esc=$(printf '\033')
bel=$(printf '\007')
csi=$(printf '\302\233')    # U+009B, the C1 CSI
rlo=$(printf '\342\200\256') # U+202E RIGHT-TO-LEFT OVERRIDE
msg="${esc}[2J${esc}[HTITLE-SET${bel} ${esc}]0 gone"
bad=$("$IMGEDITCTL" submit -p "bad ${csi}2J ${rlo}gnp.exe [[fault:status=400,message=${msg}]]" \
	--model gpt-image-2.5-sunburst "$T/sq.png")
run=$("$IMGEDITCTL" submit -p "hold ${esc}[2J${rlo} [[fault:hang]]" \
	--model gpt-image-2.5-sunburst "$T/sq.png")
"$IMGEDITCTL" pause "stop ${esc}[31mred${esc}[0m" >/dev/null
"$IMGEDITCTL" resume >/dev/null
start_daemon --concurrency 1
for i in $(seq 1 100); do
	[ "$(sql "SELECT state FROM jobs WHERE id=$bad")" = failed ] && break
	sleep 0.1
done
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$bad")" failed "the hostile error's job"
sql "SELECT error_message FROM jobs WHERE id=$bad" | grep -q "TITLE-SET" ||
	fail "the message was not stored: $(sql "SELECT error_message FROM jobs WHERE id=$bad")"
"$IMGEDITCTL" pause "stop ${esc}[31mred${esc}[0m ${csi}K" >/dev/null

clean() { # WHAT FILE
	if LC_ALL=C grep -q "[$esc$bel]" "$2"; then
		fail "$1 printed a control character: $(cat -v "$2" | head -5)"
	fi
	if grep -qF -e "$csi" -e "$rlo" "$2"; then
		fail "$1 printed a C1 control or a bidi override: $(cat -v "$2" | head -5)"
	fi
}
"$IMGEDITCTL" list >"$T/list.out"
clean list "$T/list.out"
grep -q '\\x1b\[2J\\x1b\[HTITLE-SET\\x07 \\x1b\]0' "$T/list.out" ||
	fail "list does not show the escapes visibly: $(cat "$T/list.out")"
"$IMGEDITCTL" show "$bad" >"$T/show.out"
clean show "$T/show.out"
grep -q '\\x1b\[HTITLE-SET' "$T/show.out" || fail "show hid the message: $(cat "$T/show.out")"
grep -q 'u009b2J .*u202egnp.exe' "$T/show.out" || fail "show hid the prompt's controls: $(cat "$T/show.out")"
"$IMGEDITCTL" show "$run" >"$T/show2.out"
clean "show (running job)" "$T/show2.out"
"$IMGEDITCTL" status >"$T/status.out"
clean status "$T/status.out"
grep -q 'stop \\x1b\[31mred' "$T/status.out" || fail "status hid the pause reason: $(cat "$T/status.out")"
timeout 10 "$IMGEDITCTL" watch "$bad" >"$T/watch.out" || fail "watch $bad exited $?"
clean watch "$T/watch.out"
grep -q "job $bad failed" "$T/watch.out" || fail "watch said: $(cat "$T/watch.out")"
# watch's screen (a terminal): the running job's prompt and the pause
script -qefc "timeout 2 $IMGEDITCTL watch" /dev/null >"$T/screen.out" 2>&1 || true
sed "s/${esc}\[H${esc}\[2J//g" "$T/screen.out" >"$T/screen.body"
grep -q "imgedit watch" "$T/screen.body" || fail "watch drew no screen: $(cat -v "$T/screen.out" | head)"
clean "watch's screen" "$T/screen.body"

# --json stays exact
"$IMGEDITCTL" show --json "$bad" | python3 -c '
import json, sys
d = json.load(sys.stdin)
want = sys.argv[1]
assert d["error"]["message"] == want, (d["error"]["message"], want)
assert "\u009b2J \u202egnp.exe" in d["params"]["prompt"], d["params"]["prompt"]
' "$msg" || fail "show --json changed the stored text"
"$IMGEDITCTL" resume >/dev/null
"$IMGEDITCTL" cancel "$run" >/dev/null
stop_daemon
pass "list, show, status and watch show controls visibly; --json exact"
