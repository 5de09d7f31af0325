#!/usr/bin/env bash
# The key never reaches the database, a log line or an error: a key no
# other string can contain is used for a good run (debug log level), a run
# with a wrong key (401s, paused), a run whose store writes fail, and runs
# that stop at start (a key file of two lines, an unwritable database, a
# bad setting); then the database file, its WAL (copied while each daemon
# ran: a clean stop removes it), the daemon's log and every error output
# are searched for either key, as bytes.
. "$(dirname "$0")/lib.sh"

K=sk-audit-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
BAD=sk-wrong-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
start_fake --image-bytes 20000 --key "$K"
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 32 32
sub() { submit_jobs "$1" "$2" --model gpt-image-2.5-sunburst --partial-images 2 "$T/a.png"; }

# keep_wal NAME: a copy of the WAL as it is now
keep_wal() {
	[ -e "$DB-wal" ] || fail "no WAL while the daemon runs ($1)"
	cp "$DB-wal" "$T/wal.$1"
}

# 1. a good run, every debug line
sub 3 good
OPENAI_API_KEY=$K start_daemon --log-level debug
wait_jobs_done 30
keep_wal good
stop_daemon
assert_eq "$(sql "SELECT count(*) FROM images")" 9 "images of the good run"

# 2. a wrong key: upstream answers 401, the daemon pauses and says why
sub 1 wrong
OPENAI_API_KEY=$BAD start_daemon --log-level debug --pause-probe 200ms --pause-probe-max 400ms
for _ in $(seq 1 100); do
	[ "$(sql "SELECT count(*) FROM attempts WHERE outcome = 'paused'")" -ge 2 ] && break
	sleep 0.1
done
assert_eq "$(sql "SELECT count(*) >= 2 FROM attempts WHERE outcome = 'paused' AND http_status = 401")" 1 \
	"paused attempts answered 401 with the wrong key"
"$IMGEDITCTL" status >"$T/out.status-401" 2>&1 || true
"$IMGEDITCTL" show 4 >"$T/out.show-401" 2>&1 || true
keep_wal wrong
stop_daemon

# 3. the store's writes fail (full disk, locks, I/O errors), right key
sub 3 faults
IMGEDIT_STORE_FAULTS="image:3:full:4,claim:2:busy:5,finish:2:ioerr:3,answered:2:ioerr:2" \
	OPENAI_API_KEY=$K start_daemon --log-level debug --heartbeat 200ms
wait_jobs_done 60
grep -q 'store_waiting' "$DAEMON_LOG" || fail "the store faults did not fire"
keep_wal faults
stop_daemon
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE state = 'succeeded'")" 7 "jobs succeeded at the end"

# 4. runs that stop at start, each with the key at hand
printf '%s\n%s\n' "$K" "$K" >"$T/two-lines.key"
chmod 600 "$T/two-lines.key"
errs=0
# must_fail NAME CMD...: CMD exits non-zero; its output kept as out.NAME
must_fail() {
	local name=$1 rc=0
	shift
	"$@" >"$T/out.$name" 2>&1 </dev/null || rc=$?
	[ "$rc" != 0 ] || fail "$name: exited 0: $(head -3 "$T/out.$name")"
	[ -s "$T/out.$name" ] || fail "$name: failed without a word"
	errs=$((errs + 1))
}
must_fail keyfile "$IMGEDITD" --db "$DB" --base-url "$BASE_URL" --api-key-file "$T/two-lines.key"
must_fail baddb env OPENAI_API_KEY="$K" "$IMGEDITD" --db "$T/no/such/dir/q.db" --base-url "$BASE_URL"
must_fail badopt env OPENAI_API_KEY="$K" "$IMGEDITD" --db "$DB" --concurrency 0
must_fail badurl env OPENAI_API_KEY="$K" "$IMGEDITD" --db "$DB" --base-url "ftp://127.0.0.1/v1"

# neither key anywhere (grep -a: the database and the WAL are binary)
files=("$DB" "$T"/wal.* "$DAEMON_LOG" "$T"/out.*)
[ -e "$DB-wal" ] && files+=("$DB-wal")
for key in "$K" "$BAD"; do
	if grep -a -l -F -e "$key" "${files[@]}" >"$T/leaks"; then
		fail "the key ${key:0:9}... is in: $(tr '\n' ' ' <"$T/leaks")"
	fi
done
# the search itself can find: the key file has it
grep -a -q -F -e "$K" "$T/two-lines.key" || fail "grep does not find the key where it is"
pass "neither key in the database, ${#files[@]} files searched (3 WAL copies, the daemon log, $errs failed starts' output, status and show)"
