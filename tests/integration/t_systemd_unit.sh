#!/usr/bin/env bash
# The unit as `cmake --install` puts it (DESTDIR): systemd-analyze verify
# is clean and security rates it 1.1 or better; its ExecStart line, run as
# installed (with a credential directory holding the key, a test
# NOTIFY_SOCKET and WATCHDOG_USEC), says READY, STATUS, pings the watchdog
# and says STOPPING on SIGTERM, with no settings file at all; installed
# with another --prefix, its ExecStart follows; with no key
# anywhere it exits 2 with one line naming the places it looked. (Without
# systemd as PID 1, the unit itself is not started: see the README.)
. "$(dirname "$0")/lib.sh"

: "${IMGEDIT_BUILD:?set IMGEDIT_BUILD to the build directory}"
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing"
R=$T/root
DESTDIR=$R cmake --install "$IMGEDIT_BUILD" >"$T/install.log" 2>&1 ||
	fail "cmake --install failed: $(tail -3 "$T/install.log")"
unit=$(find "$R" -name imgeditd.service -path '*systemd/system*' | head -1)
[ -n "$unit" ] || fail "no unit installed: $(cat "$T/install.log")"
[ -f "$R/etc/imgedit/imgeditd.conf" ] || [ -n "$(find "$R" -path '*/imgedit/imgeditd.conf')" ] ||
	fail "no settings file installed"
# the unit follows a prefix given at install time, not only at configure time
DESTDIR=$T/other cmake --install "$IMGEDIT_BUILD" --prefix /opt/imgedit-elsewhere \
	>"$T/install-other.log" 2>&1 || fail "cmake --install --prefix failed: $(tail -3 "$T/install-other.log")"
other=$(find "$T/other" -name imgeditd.service | head -1)
[ -x "$T/other/opt/imgedit-elsewhere/bin/imgeditd" ] || fail "no imgeditd under the other prefix"
assert_eq "$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$other")" /opt/imgedit-elsewhere/bin/imgeditd \
	"ExecStart of the unit installed with --prefix /opt/imgedit-elsewhere"
# what verify needs of the rest of a system, from this one
cp /lib/systemd/system/*.target "$(dirname "$unit")/"
mkdir -p "$R/bin"
cp /bin/kill "$R/bin/kill"
systemd-analyze verify --root="$R" --man=no "$unit" >"$T/verify.log" 2>&1 ||
	fail "systemd-analyze verify: $(cat "$T/verify.log")"
[ ! -s "$T/verify.log" ] || fail "systemd-analyze verify says: $(cat "$T/verify.log")"
score=$(systemd-analyze security --offline=yes --root="$R" "$unit" 2>&1 |
	sed -n 's/.*Overall exposure level for imgeditd.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || fail "no security score"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 1.1 else 1)" "$score" ||
	fail "systemd-analyze security: $score, want 1.1 or better"

# the ExecStart line as installed: binary under the DESTDIR, %S -> state dir
exec_line=$(sed -n 's/^ExecStart=//p' "$unit")
bin=${exec_line%% *}
args=${exec_line#* }
mkdir -p "$T/state/imgedit" "$T/creds"
args=${args//%S/$T/state}
start_fake --image-bytes 20000
echo sk-test >"$T/creds/openai-api-key"
listen_notify "$T/notify.log"
NOTIFY_SOCKET=$NOTIFY_SOCKET WATCHDOG_USEC=1000000 CREDENTIALS_DIRECTORY=$T/creds \
	OPENAI_BASE_URL=$BASE_URL "$R$bin" $args >"$T/unit.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q 'READY=1' "$T/notify.log" && break; sleep 0.05; done
grep -q 'READY=1' "$T/notify.log" || fail "no READY=1: $(cat "$T/unit.log")"
DB=$T/state/imgedit/queue.db
mkpng "$T/a.png" 32 32
"$IMGEDITCTL" --db "$DB" submit -p "as a service" --model gpt-image-2.6-flare "$T/a.png" >/dev/null
for _ in $(seq 1 100); do
	[ "$(sql "SELECT state FROM jobs")" = succeeded ] && break
	sleep 0.05
done
assert_eq "$(sql "SELECT state FROM jobs")" succeeded "the job run by the unit's command"
sleep 1.2
kill -TERM "$pid"
wait "$pid" || fail "the unit's command did not exit 0 on SIGTERM: $(tail -3 "$T/unit.log")"
for m in 'READY=1' 'STATUS=running: ' 'WATCHDOG=1' 'STOPPING=1'; do
	grep -q "$m" "$T/notify.log" || fail "no $m from the unit's command"
done
[ "$(grep -c 'WATCHDOG=1' "$T/notify.log")" -ge 2 ] || fail "the watchdog was pinged once or never"

# no key anywhere: exit 2, one line that names the three places
rm "$T/creds/openai-api-key"
rc=0
env -u OPENAI_API_KEY CREDENTIALS_DIRECTORY=$T/creds "$R$bin" $args >"$T/nokey.log" 2>&1 || rc=$?
assert_eq "$rc" 2 "exit status without a key"
assert_eq "$(wc -l <"$T/nokey.log")" 1 "lines said without a key"
for w in --api-key-file 'CREDENTIALS_DIRECTORY/openai-api-key' /etc/credstore/openai-api-key OPENAI_API_KEY; do
	grep -q -- "$w" "$T/nokey.log" || fail "the message does not name $w: $(cat "$T/nokey.log")"
done
pass "installed unit: verify clean, security $score, READY/STATUS/WATCHDOG/STOPPING from its ExecStart, a clear line without a key"
