#!/usr/bin/env bash
# Secrets: the database and its -wal/-shm are private whatever the umask
# (0600; 0660 in a directory shared through its group); the key leaves the
# environment (/proc/PID/environ no longer has it) and SIGHUP keeps it; the
# daemon is not dumpable (its /proc files belong to root even when it runs
# as another user); plain http to another host is warned about.
. "$(dirname "$0")/lib.sh"

command -v setpriv >/dev/null || fail "setpriv (util-linux) is missing"
start_fake --image-bytes 20000
mkpng "$T/a.png" 32 32
umask 022
"$IMGEDITCTL" init >/dev/null
OPENAI_API_KEY=sk-test start_daemon
j=$("$IMGEDITCTL" submit -p "one" --model gpt-image-2.6-flare "$T/a.png")
wait_jobs_done 20
for f in "$DB" "$DB-wal" "$DB-shm"; do
	assert_eq "$(stat -c %a "$f")" 600 "mode of ${f##*/} under umask 022"
done
tr '\0' '\n' <"/proc/$DAEMON_PID/environ" | grep -q 'sk-test' &&
	fail "the key is still in /proc/$DAEMON_PID/environ"
kill -HUP "$DAEMON_PID"
sleep 0.5
"$IMGEDITCTL" submit -p "after HUP" --model gpt-image-2.6-flare "$T/a.png" >/dev/null
wait_jobs_done 20
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state='succeeded'")" 2 "jobs done, before and after SIGHUP"
grep -q 'reload_failed' "$DAEMON_LOG" && fail "SIGHUP lost the key from the environment"
stop_daemon

# a directory shared through its group: 0660
mkdir "$T/shared"
chgrp nogroup "$T/shared"
chmod 2770 "$T/shared"
"$IMGEDITCTL" --db "$T/shared/q.db" init >/dev/null
assert_eq "$(stat -c '%a %G' "$T/shared/q.db")" "660 nogroup" "mode in a setgid directory"

# not dumpable: run as nobody, its /proc files stay root's
chmod 711 "$T"
mkdir "$T/nb"
chown nobody:nogroup "$T/nb"
nb_imgeditd=$(runnable_by_others "$IMGEDITD")
OPENAI_API_KEY=sk-test setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$nb_imgeditd" --db "$T/nb/q.db" --base-url "$BASE_URL" >"$T/nb.log" 2>&1 &
nb=$!
for _ in $(seq 1 100); do grep -q 'info started' "$T/nb.log" && break; sleep 0.05; done
grep -q 'info started' "$T/nb.log" || fail "imgeditd as nobody did not start: $(cat "$T/nb.log")"
assert_eq "$(stat -c %U "/proc/$nb/environ")" root "owner of /proc/PID/environ (not dumpable)"
kill -TERM "$nb"
wait "$nb" || fail "imgeditd as nobody did not stop cleanly"

# the key in clear over the network: warned
OPENAI_API_KEY=sk-test timeout 5 "$IMGEDITD" --db "$T/w.db" --base-url http://example.invalid/v1 \
	>"$T/w.log" 2>&1 &
w=$!
for _ in $(seq 1 100); do grep -q 'info started' "$T/w.log" && break; sleep 0.05; done
kill -TERM "$w"; wait "$w" || true
grep -q 'warn insecure_base_url base_url="http://example.invalid/v1"' "$T/w.log" ||
	fail "no warning for plain http: $(cat "$T/w.log")"
grep -q 'insecure_base_url' "$DAEMON_LOG" && fail "a loopback base URL was warned about"
pass "private modes, the key out of the environment and of core dumps, plain http warned"
