#!/usr/bin/env bash
# export, when one job is broken or the output directory holds traps:
# finals of two attempts get names with the attempt (they would collide);
# a job whose files cannot be put in place is reported and the others are
# kept; --skip-existing does not hang on a FIFO; files and directories get
# the database's own mode (0600/0700, 0660/2770 when shared through its
# group), or --mode's.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 4000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 16 16
sub() { "$IMGEDITCTL" submit --model gpt-image-2.5-sunburst "$@" "$T/a.png"; }
j1=$(sub -p "two cut attempts [[fault:cut-after=1;cut-after=1]]" --n 2 --max-attempts 2)
j2=$(sub -p "two")
j3=$(sub -p "three")
j4=$(sub -p "four")
start_daemon --concurrency 1 --retry-base 50ms
wait_jobs_done 60
stop_daemon
assert_eq "$(sql "SELECT state || ',' || attempts FROM jobs WHERE id=$j1")" "failed,2" "job $j1"
assert_eq "$(sql "SELECT count(*) FROM images WHERE job_id=$j1 AND kind='final'")" 2 "job $j1's finals (one per attempt)"
chmod 0600 "$DB"
umask 022

# finals of two attempts, none succeeded: both kept, named by attempt
"$IMGEDITCTL" export "$j1" "$j2" "$j3" "$j4" -o "$T/out" >"$T/out.txt" 2>"$T/out.err" ||
	fail "export exited $?: $(cat "$T/out.err")"
assert_eq "$(cd "$T/out/$j1" && ls | tr '\n' ' ')" "final-a1-0.png final-a2-0.png job.json " "job $j1's files"
for j in "$j2" "$j3" "$j4"; do
	[ -f "$T/out/$j/final-0.png" ] && [ -f "$T/out/$j/job.json" ] || fail "job $j not exported"
done
python3 - "$T/out/$j1/job.json" <<'PY' || fail "job.json does not name the files"
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(i["file"] for i in d["images"]) == ["final-a1-0.png", "final-a2-0.png"], d["images"]
PY
assert_eq "$(find "$T/out" -name '.*tmp*' | wc -l)" 0 "temporary files left"

# modes: the database's (0600), whatever the umask
assert_eq "$(stat -c %a "$T/out/$j2/final-0.png") $(stat -c %a "$T/out/$j2/job.json") $(stat -c %a "$T/out/$j2")" \
	"600 600 700" "modes of the files and the job's directory from a 0600 database"
assert_eq "$(stat -c %a "$T/out")" 700 "mode of the directory export created"

# job 1 broken (a directory where its job.json goes): reported, 2-4 kept
mkdir -p "$T/b/$j1/job.json/x"
rc=0
"$IMGEDITCTL" export "$j1" "$j2" "$j3" "$j4" -o "$T/b" >"$T/b.txt" 2>"$T/b.err" || rc=$?
assert_eq "$rc" 1 "export's exit status with a broken job"
grep -q "$T/b/$j1/job.json" "$T/b.err" || fail "the broken job's file is not named: $(cat "$T/b.err")"
for j in "$j2" "$j3" "$j4"; do
	[ -f "$T/b/$j/final-0.png" ] && [ -f "$T/b/$j/job.json" ] ||
		fail "job $j not exported beside the broken job $j1: $(cat "$T/b.err")"
	grep -q "^$T/b/$j/job.json$" "$T/b.txt" || fail "job $j's paths not printed"
done
assert_eq "$(find "$T/b" -name '.*tmp*' | wc -l)" 0 "temporary files left after the failure"
{ "$IMGEDITCTL" export --json "$j1" "$j2" -o "$T/b" 2>/dev/null || true; } | python3 -c '
import json, sys
ok = {e["id"]: e["ok"] for e in json.load(sys.stdin)}
assert ok == {int(sys.argv[1]): False, int(sys.argv[2]): True}, ok
' "$j1" "$j2" || fail "--json does not say which job failed"

# a FIFO where a file goes: --skip-existing neither hangs nor keeps it
mkdir -p "$T/f/$j2"
mkfifo "$T/f/$j2/final-0.png"
timeout 20 "$IMGEDITCTL" export --skip-existing "$j2" -o "$T/f" >/dev/null 2>"$T/f.err" ||
	fail "export --skip-existing with a FIFO: exit $? $(cat "$T/f.err")"
[ -f "$T/f/$j2/final-0.png" ] && [ ! -p "$T/f/$j2/final-0.png" ] || fail "the FIFO is still there"

# a job's directory is never a symbolic link; DIR may be one, not a file
mkdir -p "$T/s" "$T/elsewhere" "$T/real"
ln -s "$T/elsewhere" "$T/s/$j2"
rc=0
"$IMGEDITCTL" export "$j2" -o "$T/s" >/dev/null 2>"$T/s.err" || rc=$?
assert_eq "$rc" 1 "export into a job directory that is a symbolic link"
grep -q "$T/s/$j2: not a directory (a symbolic link or a file)" "$T/s.err" ||
	fail "the symbolic link is not named: $(cat "$T/s.err")"
assert_eq "$(ls "$T/elsewhere" | wc -l)" 0 "files written through the symbolic link"
ln -s "$T/real" "$T/link"
"$IMGEDITCTL" export "$j2" -o "$T/link" >/dev/null || fail "export into a DIR that is a symbolic link"
[ -f "$T/real/$j2/final-0.png" ] || fail "nothing exported through DIR's symbolic link"
: >"$T/afile"
rc=0
"$IMGEDITCTL" export "$j2" -o "$T/afile" >/dev/null 2>"$T/afile.err" || rc=$?
assert_eq "$rc" 1 "export into a DIR that is a file"
grep -q "$T/afile: " "$T/afile.err" || fail "the file DIR is not named: $(cat "$T/afile.err")"

# --mode, and a database shared through its group
"$IMGEDITCTL" export --mode 0640 "$j2" -o "$T/m" >/dev/null
assert_eq "$(stat -c %a "$T/m/$j2/final-0.png") $(stat -c %a "$T/m/$j2")" "640 750" "--mode 0640"
chmod 0660 "$DB"
"$IMGEDITCTL" export "$j2" -o "$T/g" >/dev/null
assert_eq "$(stat -c %a "$T/g/$j2/final-0.png") $(stat -c %a "$T/g/$j2")" "660 2770" "from a 0660 database"
rc=0
"$IMGEDITCTL" export --mode 0777x "$j2" -o "$T/m2" 2>/dev/null || rc=$?
assert_eq "$rc" 2 "--mode 0777x"
pass "two attempts' finals named apart, a broken job reported and the rest kept, FIFO, modes"
