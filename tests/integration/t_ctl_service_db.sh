#!/usr/bin/env bash
# imgeditctl finds the service's database without --db: db = in imgeditd's
# settings file ($IMGEDIT_CONFIG stands in for the installed one here);
# with none anywhere it says where it looked.
. "$(dirname "$0")/lib.sh"

unset IMGEDIT_DB
printf '# the service\ndb = %s\nconcurrency = 2\n' "$DB" >"$T/imgeditd.conf"
IMGEDIT_CONFIG=$T/imgeditd.conf "$IMGEDITCTL" init >/dev/null
[ -f "$DB" ] || fail "init did not create the database named in the settings file"
mkpng "$T/a.png" 32 32
id=$(IMGEDIT_CONFIG=$T/imgeditd.conf "$IMGEDITCTL" submit -p "found" --model gpt-image-2.6-flare "$T/a.png")
assert_eq "$(sql "SELECT count(*) FROM jobs WHERE id=$id")" 1 "the job in the service's database"
IMGEDIT_CONFIG=$T/imgeditd.conf "$IMGEDITCTL" status | grep -q "database  $DB" ||
	fail "status did not use the service's database"
printf 'concurrency = 2\n' >"$T/nodb.conf"
rc=0
IMGEDIT_CONFIG=$T/nodb.conf "$IMGEDITCTL" status >"$T/out" 2>&1 || rc=$?
if [ -e /var/lib/imgedit/queue.db ]; then
	assert_eq "$rc" 0 "status on this machine's service database"
else
	assert_eq "$rc" 2 "exit status with no database anywhere"
	grep -q "none in $T/nodb.conf nor at /var/lib/imgedit/queue.db" "$T/out" ||
		fail "the message does not say where it looked: $(cat "$T/out")"
fi
pass "the service's database found through its settings file"
