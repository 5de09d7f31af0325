#!/usr/bin/env bash
# The unit's state directory, user namespace and umask, emulated without
# systemd as PID 1: the daemon runs as a service user U (uid/gid 1 here)
# in a directory made with the unit's StateDirectoryMode, inside a user
# namespace mapping only root and U (what PrivateUsers=yes sets up, when
# the unit has it), with the unit's UMask; a member of U's group (uid 2,
# primary group 2, umask 022) runs imgeditctl on the same database. The
# database is made 0660 group U; she submits jobs the daemon runs; while
# she holds the database open, her -wal and -shm get group U and the
# restarted daemon (that sees her as nobody) works with them.
. "$(dirname "$0")/lib.sh"

: "${IMGEDIT_BUILD:?set IMGEDIT_BUILD to the build directory}"
command -v setpriv >/dev/null || fail "setpriv (util-linux) is missing"
unit=$IMGEDIT_BUILD/imgeditd.service
[ -f "$unit" ] || fail "no generated unit at $unit"
setting() { sed -n "s/^$1=//p" "$unit" | tail -1; }
mode=$(setting StateDirectoryMode)
umask_svc=$(setting UMask)
private_users=$(setting PrivateUsers)
[ -n "$mode" ] && [ -n "$umask_svc" ] || fail "the unit has no StateDirectoryMode= or UMask="

chmod 711 "$T"
# U and the member run the binaries: copies they can reach
IMGEDITD=$(runnable_by_others "$IMGEDITD")
IMGEDITCTL=$(runnable_by_others "$IMGEDITCTL")
S=$T/state/imgedit
mkdir -p "$S"
chown 1:1 "$S"
chmod "$mode" "$S"
DB=$S/queue.db
start_fake --image-bytes 20000
mkpng "$T/a.png" 32 32
chmod 644 "$T/a.png"

# as_member CMD...: the group member (uid 2, group 2, and group 1)
as_member() { (umask 022 && setpriv --reuid=2 --regid=2 --groups=1 "$@"); }

# service_daemon: imgeditd as U with the unit's umask, in a user namespace
# mapping root and U to themselves when the unit sets PrivateUsers=yes
service_daemon() {
	local go=$T/userns.go ns
	rm -f "$go"
	(
		umask "$umask_svc"
		if [ "$private_users" = yes ]; then
			exec unshare --user bash -c 'while [ ! -e "$1" ]; do sleep 0.01; done
				shift; exec "$@"' sh "$go" \
				setpriv --reuid=1 --regid=1 --groups=1 \
				env OPENAI_API_KEY=sk-test "$IMGEDITD" --db "$DB" --base-url "$BASE_URL"
		fi
		exec setpriv --reuid=1 --regid=1 --groups=1 env OPENAI_API_KEY=sk-test \
			"$IMGEDITD" --db "$DB" --base-url "$BASE_URL"
	) >>"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	if [ "$private_users" = yes ]; then
		for _ in $(seq 1 200); do
			ns=$(readlink "/proc/$DAEMON_PID/ns/user" 2>/dev/null || true)
			[ -n "$ns" ] && [ "$ns" != "$(readlink /proc/self/ns/user)" ] && break
			sleep 0.01
		done
		# one write each, as the kernel wants a map
		python3 - "$DAEMON_PID" <<'PY' || fail "cannot write the user namespace's maps"
import os, sys
for f in ("uid_map", "gid_map"):
    fd = os.open("/proc/%s/%s" % (sys.argv[1], f), os.O_WRONLY)
    os.write(fd, b"0 0 1\n1 1 1\n")
    os.close(fd)
PY
		touch "$go"
	fi
	local before=${1:-0}
	for _ in $(seq 1 100); do
		[ "$(grep -c 'info started' "$DAEMON_LOG")" -gt "$before" ] && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || fail "imgeditd exited at start: $(tail -3 "$DAEMON_LOG")"
		sleep 0.05
	done
	fail "imgeditd did not start"
}

# wait_job ID: until the job succeeded (10 s)
wait_job() {
	for _ in $(seq 1 200); do
		[ "$(sql "SELECT state FROM jobs WHERE id=$1")" = succeeded ] && return 0
		sleep 0.05
	done
	fail "job $1: $(sql "SELECT state, error_type, error_message FROM jobs WHERE id=$1")"
}

service_daemon 0
[ "$private_users" != yes ] || grep -q '^ *1 *1 *1$' "/proc/$DAEMON_PID/uid_map" ||
	fail "the daemon is not in the mapped user namespace"
assert_eq "$(stat -c '%a %u:%g' "$DB")" "660 1:1" "the database the service made"
id1=$(as_member "$IMGEDITCTL" --db "$DB" submit -p "from a member" --model gpt-image-2.6-flare "$T/a.png") ||
	fail "the group member could not submit"
wait_job "$id1"
stop_daemon

# she opens the database first: her -wal and -shm, group U by the setgid bit
python3 - "$DB" >"$T/member.log" 2>&1 <<'PY' &
import os, signal, sqlite3, sys, time
os.umask(0o022)
os.setgroups([1]); os.setresgid(2, 2, 2); os.setresuid(2, 2, 2)
db = sqlite3.connect(sys.argv[1], timeout=10)
db.execute("SELECT count(*) FROM jobs").fetchall()
print("ready", flush=True)
signal.pause()
PY
EXTRA_PIDS=$!
for _ in $(seq 1 100); do grep -q ready "$T/member.log" && break; sleep 0.05; done
grep -q ready "$T/member.log" || fail "the member could not open the database: $(cat "$T/member.log")"
for f in "$DB-wal" "$DB-shm"; do
	assert_eq "$(stat -c '%a %u:%g' "$f")" "660 2:1" "the member's ${f##*-}"
done
service_daemon 1
if [ "$private_users" = yes ]; then
	# the daemon's view: her files owned by nobody, group U
	assert_eq "$(nsenter --user --target "$DAEMON_PID" stat -c '%u:%g' "$DB-wal")" \
		"65534:1" "the member's -wal seen from the service's user namespace"
fi
id2=$(as_member "$IMGEDITCTL" --db "$DB" submit -p "after a restart" --model gpt-image-2.6-flare "$T/a.png")
wait_job "$id2"
stop_daemon
grep -q '^imgeditd: error' "$DAEMON_LOG" && fail "the daemon logged an error: $(grep '^imgeditd: error' "$DAEMON_LOG" | head -3)"
pass "StateDirectoryMode=$mode UMask=$umask_svc PrivateUsers=${private_users:-no}: the service's database 0660 group U, a member's jobs run, her -wal/-shm used by the restarted daemon"
