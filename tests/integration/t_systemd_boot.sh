#!/usr/bin/env bash
# The service under a real systemd: this machine's own Debian booted in
# systemd-nspawn (systemd as PID 1) on an overlay whose lower layer is /,
# in a private mount namespace, with its own network; nothing on the host
# changes. Inside: scripts' package installs leave the enabled units as
# they were; the imgedit package (IMGEDIT_DEB, else the DESTDIR install of
# the build) installs, fails once without a key (no restart loop), starts
# with the key from /etc/credstore, says STATUS, runs a group member's
# jobs, logs JOB_ID/PRIORITY/OUTCOME to the journal, runs in PrivateUsers'
# namespace with LimitNOFILE, is restarted after SIGKILL and by the watchdog, applies a
# reload, is fenced by the README's IPAddressDeny drop-in, rates 1.1 or
# better, stops cleanly keeping the jobs; upgrades keep the admin's
# settings (asking on a terminal), and remove/purge keep the queue.
if [ -z "${IMGEDIT_BOOT_NS:-}" ]; then
	# the overlay and the container's mounts die with this namespace,
	# whatever way the test ends
	[ "$(id -u)" -eq 0 ] || { echo "SKIP t_systemd_boot.sh: needs root (systemd-nspawn)"; exit 77; }
	command -v systemd-nspawn >/dev/null ||
		{ echo "SKIP t_systemd_boot.sh: no systemd-nspawn (Debian's systemd-container)"; exit 77; }
	exec env IMGEDIT_BOOT_NS=1 unshare --mount --propagation private bash "$0" "$@"
fi
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ -n "${T:-}" ] && [ -d "$T" ] || exit 1
unset IMGEDIT_DB

# the machine outside T, under a name of its own (a directory unlinked
# from outside this namespace takes its mounts with it)
M=$(mktemp -d /var/tmp/imgedit-boot.XXXXXX)
R=$M/root
NSPAWN_PID= LEADER=
boot_cleanup() {
	if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
		[ "$1" = 0 ] || [ -z "$LEADER" ] ||
			timeout 10 nsenter --target "$LEADER" --all journalctl --no-pager -n 300 \
				>"$T/journal.txt" 2>&1 || true
		[ -n "$LEADER" ] && kill -RTMIN+4 "$LEADER" 2>/dev/null # poweroff
		for _ in $(seq 1 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$NSPAWN_PID" 2>/dev/null || true
		wait "$NSPAWN_PID" 2>/dev/null || true
	fi
	umount -R "$M" 2>/dev/null || umount -l -R "$M" 2>/dev/null || true
	rmdir "$M" 2>/dev/null || true
}
trap 'rc=$?; boot_cleanup $rc; (exit $rc); cleanup' EXIT

# in_c CMD...: runs CMD in the container, root, a clean environment, for
# two minutes at most
in_c() {
	timeout 120 nsenter --target "$LEADER" --all \
		env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}
# until SECONDS WHAT CMD...: CMD until it succeeds, or fail saying WHAT
until_ok() {
	local n=$(($1 * 10)) what=$2
	shift 2
	for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	fail "$what (after $(($n / 10)) s)"
}
prop() { in_c systemctl show -p "$1" --value imgeditd; }
journal_has() { in_c journalctl -u imgeditd --no-pager -o cat | grep -q -- "$1"; }

# the machine: / as the lower layer, the changes in a tmpfs
mkdir -p "$M"
mount -t tmpfs -o mode=0700 imgedit-boot "$M"
mkdir "$M/upper" "$M/work" "$R"
mount -t overlay imgedit-boot -o "lowerdir=/,upperdir=$M/upper,workdir=$M/work" "$R" ||
	fail "cannot mount an overlay on /"
S=$R/srv/imgedit-test
mkdir -p "$S"
cp "$FAKE_UPSTREAM" "$S/fake-upstream"
cp "$SRCDIR/scripts/lib/common.sh" "$S/common.sh"
mkpng "$S/a.png" 32 32
chmod 755 "$S"
chmod 644 "$S/a.png"
# the host's starts refused by a policy-rc.d: not in this machine, where
# common.sh's own one is what is tested
rm -f "$R/usr/sbin/policy-rc.d"
# boot to basic.target and no further: the host's enabled servers
# (PostgreSQL, Prometheus, avahi...) are in multi-user.target
cat >"$R/etc/systemd/system/imgedit-test.target" <<'EOF'
[Unit]
Description=imgedit's boot test
Requires=basic.target
After=basic.target
AllowIsolate=yes
EOF
machine=imgedit-boot-$$
systemd-nspawn --quiet -D "$R" -M "$machine" --register=no --keep-unit --boot \
	--console=read-only --private-network --tmpfs=/work \
	--capability=CAP_BPF,CAP_PERFMON --system-call-filter=bpf \
	systemd.unit=imgedit-test.target >"$T/console.log" 2>&1 &
NSPAWN_PID=$!
for _ in $(seq 1 100); do
	LEADER=$(pgrep -P "$NSPAWN_PID" -x systemd | head -1) && [ -n "$LEADER" ] && break
	kill -0 "$NSPAWN_PID" 2>/dev/null || fail "systemd-nspawn exited: $(tail -5 "$T/console.log")"
	sleep 0.1
done
[ -n "$LEADER" ] || fail "no systemd in the container: $(tail -5 "$T/console.log")"
booted() { in_c systemctl is-system-running | grep -qE '^(running|degraded)$'; }
until_ok 60 "the container did not finish booting: $(in_c systemctl is-system-running 2>&1)" booted
assert_eq "$(in_c cat /proc/1/comm)" systemd "PID 1 in the container"

# 1. scripts' installs of server packages (common.sh's quiet_install):
# nothing enabled, started or created. PostgreSQL's and Prometheus's
# packages reinstalled from apt's cache, as on a machine without them.
servers=(postgresql-15 prometheus)
debs=()
for p in "${servers[@]}"; do
	d=$(ls /var/cache/apt/archives/"${p}"_*_amd64.deb 2>/dev/null | sort -V | tail -1)
	[ -n "$d" ] || fail "no $p in apt's cache to reinstall offline (apt-get install --reinstall --download-only $p)"
	debs+=("$d")
done
in_c env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${servers[@]}" >"$T/purge.log" 2>&1 ||
	fail "cannot purge ${servers[*]} in the container: $(tail -3 "$T/purge.log")"
in_c rm -rf /etc/postgresql /var/lib/postgresql/15
enabled_before=$(in_c systemctl list-unit-files --state=enabled --no-legend)
running_before=$(in_c systemctl list-units --state=running --no-legend --plain | awk '{print $1}')
in_c bash -c '. /srv/imgedit-test/common.sh; quiet_install "$@"' sh "${debs[@]}" \
	>"$T/quiet_install.log" 2>&1 || fail "quiet_install: $(tail -5 "$T/quiet_install.log")"
enabled_after=$(in_c systemctl list-unit-files --state=enabled --no-legend)
[ "$enabled_before" = "$enabled_after" ] ||
	fail "installing ${servers[*]} changed the enabled units: $(diff <(echo "$enabled_before") <(echo "$enabled_after") | grep '^[<>]')"
running_after=$(in_c systemctl list-units --state=running --no-legend --plain | awk '{print $1}')
[ "$running_before" = "$running_after" ] ||
	fail "installing ${servers[*]} started: $(comm -13 <(echo "$running_before") <(echo "$running_after"))"
[ ! -e "$R/etc/postgresql/15/main" ] || fail "installing PostgreSQL made a main cluster"
in_c pgrep -x postgres >/dev/null && fail "a postgres server runs"
in_c pgrep -x prometheus >/dev/null && fail "a prometheus server runs"
grep -q 'disabling prometheus.service' "$T/quiet_install.log" ||
	fail "quiet_install did not say it disabled prometheus.service: $(cat "$T/quiet_install.log")"

# 2. imgedit installed: the package, else the DESTDIR install of the build
if [ -n "${IMGEDIT_DEB:-}" ]; then
	[ -f "$IMGEDIT_DEB" ] || fail "IMGEDIT_DEB=$IMGEDIT_DEB is not a file"
	cp "$IMGEDIT_DEB" "$S/imgedit.deb"
	in_c dpkg -i /srv/imgedit-test/imgedit.deb >"$T/dpkg.log" 2>&1 ||
		fail "dpkg -i: $(tail -5 "$T/dpkg.log")"
	how="the package ${IMGEDIT_DEB##*/}"
else
	DESTDIR=$R cmake --install "$IMGEDIT_BUILD" --prefix /usr >"$T/install.log" 2>&1 ||
		fail "cmake --install: $(tail -3 "$T/install.log")"
	in_c systemd-sysusers >/dev/null 2>&1
	if nm -D "$R/usr/bin/imgeditd" 2>/dev/null | grep __asan_init >/dev/null; then
		# LeakSanitizer cannot stop the world under SystemCallFilter
		mkdir -p "$R/etc/systemd/system/imgeditd.service.d"
		printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' \
			>"$R/etc/systemd/system/imgeditd.service.d/asan.conf"
	fi
	in_c systemctl daemon-reload
	how="the DESTDIR install of $IMGEDIT_BUILD"
fi
uid=$(in_c id -u imgedit) || fail "no user imgedit after the install"
if [ -n "${IMGEDIT_DEB:-}" ]; then
	assert_eq "$(in_c systemctl is-enabled imgeditd)" enabled "the unit after dpkg -i"
	assert_eq "$(prop ActiveState)" inactive "the unit after dpkg -i (not started without a key)"
fi
gid=$(in_c id -g imgedit)

# 3. no key yet: one failed start, exit 2, not restarted
in_c systemctl start imgeditd >/dev/null 2>&1 && fail "imgeditd started without a key"
sleep 4.5 # RestartSec=2s, twice over
assert_eq "$(prop ExecMainStatus) $(prop NRestarts) $(prop ActiveState)" "2 0 failed" \
	"exit status, restarts and state without a key"
journal_has '/etc/credstore/openai-api-key' || fail "the journal does not say where the key was looked for"
in_c systemctl reset-failed imgeditd

# 4. the fake upstream inside, the key in /etc/credstore, settings in the conffile
in_c systemd-run --quiet --unit=fake-upstream -p DynamicUser=yes \
	/srv/imgedit-test/fake-upstream --bind 127.0.0.1 --port 18080 --key sk-boot --image-bytes 20000
in_c install -d -m 0700 /etc/credstore
echo sk-boot | in_c install -m 0600 /dev/stdin /etc/credstore/openai-api-key
conf=/etc/imgedit/imgeditd.conf
[ -f "$R$conf" ] || fail "no $conf installed"
printf 'base-url = http://127.0.0.1:18080/v1\nconcurrency = 4\nconnect-timeout = 2s\n' >>"$R$conf"
fake_up() { in_c bash -c 'exec 3<>/dev/tcp/127.0.0.1/18080'; }
until_ok 10 "the fake upstream did not listen" fake_up
in_c systemctl start imgeditd || fail "systemctl start imgeditd: $(in_c journalctl -u imgeditd -n 5 --no-pager -o cat)"
assert_eq "$(prop ActiveState)" active "state after systemctl start"
status_running() { prop StatusText | grep -q '^running'; }
until_ok 10 "no STATUS=running...: '$(prop StatusText)'" status_running
pid=$(prop MainPID)
uid_map=$(in_c cat "/proc/$pid/uid_map" | awk '{print $1, $2, $3}' | tr '\n' ';')
assert_eq "$uid_map" "0 0 1;$uid $uid 1;" "the daemon's uid_map (PrivateUsers=yes)"
assert_eq "$(in_c stat -c '%a %U:%G' /var/lib/imgedit)" "2770 imgedit:imgedit" "the state directory"
assert_eq "$(in_c sed -n 's/^Max open files *\([0-9]*\).*/\1/p' "/proc/$pid/limits")" 4096 \
	"the daemon's open files limit (LimitNOFILE=4096)"

# 5. a member of group imgedit submits; the job runs; the journal has it
in_c useradd -m -G imgedit alice
as_alice() { in_c runuser -u alice -- "$@"; }
id1=$(as_alice imgeditctl submit -p "under systemd" --model gpt-image-2.5-sunburst /srv/imgedit-test/a.png) ||
	fail "alice could not submit: $id1"
as_alice imgeditctl wait --timeout 30s "$id1" >/dev/null ||
	fail "job $id1: $(as_alice imgeditctl show "$id1" 2>&1 | head -5)"
as_alice imgeditctl status >"$T/status.out" 2>&1 || fail "imgeditctl status as alice: $(cat "$T/status.out")"
grep -q 'running' "$T/status.out" || fail "alice's status does not show the daemon running: $(cat "$T/status.out")"
in_c journalctl -u imgeditd "JOB_ID=$id1" -o export --no-pager >"$T/job.export"
grep -q "^OUTCOME=succeeded" "$T/job.export" || fail "no OUTCOME=succeeded record for job $id1 in the journal"
grep -q "^PRIORITY=6" "$T/job.export" || fail "no PRIORITY=6 (info) record for job $id1"
assert_eq "$(in_c journalctl -u imgeditd -p warning -o cat --no-pager | grep -c "job=$id1\b" || true)" 0 \
	"warning records of a job that succeeded"
grep -q "^IMGEDIT_EVENT=" "$T/job.export" || fail "no IMGEDIT_EVENT field for job $id1"
# the key came from the credential: the fake upstream takes only sk-boot
grep -qi 'sk-boot' "$T/job.export" && fail "the key is in the journal"

# 6. systemd-analyze security on the running unit
score=$(in_c systemd-analyze security imgeditd --no-pager 2>&1 |
	sed -n 's/.*Overall exposure level for imgeditd.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || fail "no security score for the running unit"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 1.1 else 1)" "$score" ||
	fail "systemd-analyze security imgeditd: $score, want 1.1 or better"

# 7. systemctl reload applies a setting
sed -i 's/^concurrency = 4$/concurrency = 3/' "$R$conf"
in_c systemctl reload imgeditd || fail "systemctl reload failed"
reloaded() { journal_has 'setting key=concurrency old="4" new="3" action=applied' ||
	journal_has 'setting key=concurrency old=4 new=3 action=applied'; }
until_ok 10 "the reload did not apply concurrency 3: $(in_c journalctl -u imgeditd -n 3 -o cat --no-pager)" reloaded
assert_eq "$(prop MainPID)" "$pid" "MainPID after a reload"

# 8. Restart= after SIGKILL
in_c systemctl kill -s SIGKILL imgeditd
restarted_from() { local p; p=$(prop MainPID); [ "$p" != 0 ] && [ "$p" != "$1" ] &&
	[ "$(prop ActiveState)" = active ]; }
until_ok 15 "not restarted after SIGKILL" restarted_from "$pid"
assert_eq "$(prop NRestarts)" 1 "restarts after SIGKILL"
pid=$(prop MainPID)

# 9. the watchdog: WatchdogSec=3s, the daemon stopped by SIGSTOP
mkdir -p "$R/etc/systemd/system/imgeditd.service.d"
printf '[Service]\nWatchdogSec=3s\n' >"$R/etc/systemd/system/imgeditd.service.d/watchdog-test.conf"
in_c systemctl daemon-reload
in_c systemctl restart imgeditd
pid=$(prop MainPID)
restarts=$(prop NRestarts)
sleep 4 # pings keep it alive past WatchdogSec
assert_eq "$(prop MainPID)" "$pid" "MainPID while the daemon pings the watchdog"
in_c kill -STOP "$pid"
until_ok 20 "the watchdog did not restart a stopped daemon" restarted_from "$pid"
assert_eq "$(prop NRestarts)" $((restarts + 1)) "restarts after the watchdog fired"
journal_has 'Watchdog timeout' || fail "systemd did not say the watchdog fired"
rm "$R/etc/systemd/system/imgeditd.service.d/watchdog-test.conf"
in_c systemctl daemon-reload

# 10. the README's network drop-in: an address not allowed is refused.
# Another address in this machine's own network, a fake upstream on it:
# reached before the drop-in, refused after.
in_c ip addr add 192.0.2.99/32 dev lo
in_c systemd-run --quiet --unit=fake-upstream-far -p DynamicUser=yes \
	/srv/imgedit-test/fake-upstream --bind 192.0.2.99 --port 18080 --key sk-boot --image-bytes 20000
far_up() { in_c bash -c 'exec 3<>/dev/tcp/192.0.2.99/18080'; }
until_ok 10 "the far fake upstream did not listen" far_up
sed -i 's|^base-url = .*|base-url = http://192.0.2.99:18080/v1|' "$R$conf"
in_c systemctl restart imgeditd
id2=$(as_alice imgeditctl submit -p "far, not fenced" --model gpt-image-2.5-sunburst /srv/imgedit-test/a.png)
as_alice imgeditctl wait --timeout 30s "$id2" >/dev/null || fail "job $id2 to 192.0.2.99 before the drop-in"
dropin=$(sed -n '/^    cat >\/etc\/systemd\/system\/imgeditd.service.d\/network.conf/,/^    EOF$/p' \
	"$SRCDIR/README.md" | sed '1d;$d;s/^    //')
echo "$dropin" | grep -q '^IPAddressDeny=any$' || fail "no IPAddressDeny drop-in in the README"
echo "$dropin" >"$R/etc/systemd/system/imgeditd.service.d/network.conf"
in_c systemctl daemon-reload
in_c systemctl restart imgeditd
assert_eq "$(prop IPAddressDeny | tr ' ' '\n' | sort | tr '\n' ' ')" "0.0.0.0/0 ::/0 " \
	"IPAddressDeny of the running unit"
id3=$(as_alice imgeditctl submit -p "far, fenced" --model gpt-image-2.5-sunburst /srv/imgedit-test/a.png)
# the packets are dropped: the connect times out (connect-timeout 2s)
refused() { in_c journalctl -u imgeditd "JOB_ID=$id3" OUTCOME=retry -o cat --no-pager |
	grep -q 'Failed to connect to 192.0.2.99 port 18080'; }
until_ok 15 "job $id3 to an address the drop-in does not allow was not refused" refused
st=$(as_alice imgeditctl show --json "$id3" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
case $st in retry_wait|queued|running) ;; *) fail "state of the refused job: $st, want it waiting for a retry" ;; esac
# allowed: localhost, as the README's drop-in says
sed -i 's|^base-url = .*|base-url = http://127.0.0.1:18080/v1|' "$R$conf"
in_c systemctl reload imgeditd
as_alice imgeditctl wait --timeout 30s "$id3" >/dev/null || fail "job $id3, the base URL allowed again"
rm "$R/etc/systemd/system/imgeditd.service.d/network.conf"
in_c systemctl daemon-reload

# 11. a clean stop keeps the jobs
states() { as_alice imgeditctl list --json | python3 -c 'import json,sys
print(" ".join("%s:%s" % (j["id"], j["state"]) for j in json.load(sys.stdin)))'; }
nstopped() { in_c journalctl -u imgeditd --no-pager -o cat | grep -c '^stopped id=' || true; }
before=$(states)
n=$(nstopped)
in_c systemctl stop imgeditd
assert_eq "$(prop Result) $(prop ExecMainStatus) $(prop ActiveState)" "success 0 inactive" \
	"result, exit status and state after systemctl stop"
assert_eq "$(nstopped)" $((n + 1)) "'stopped' records after systemctl stop"
assert_eq "$(states)" "$before" "jobs after a clean stop"
assert_eq "$(echo "$before" | tr ' ' '\n' | grep -c ':succeeded$')" 3 "jobs succeeded"

# 12. upgrades keep the admin's settings: under --force-confdef
# --force-confold without a word, on a terminal after asking
if [ -n "${IMGEDIT_DEB:-}" ]; then
	# next_deb N: the package as version VERSION+testN, its settings file changed
	next_deb() {
		local d=$T/next$1
		rm -rf "$d"
		dpkg-deb -R "$IMGEDIT_DEB" "$d"
		sed -i "s/^Version: .*/&+test$1/" "$d/DEBIAN/control"
		echo "# a line of version +test$1" >>"$d/etc/imgedit/imgeditd.conf"
		dpkg-deb -b --root-owner-group "$d" "$S/imgedit-next$1.deb" >/dev/null
	}
	next_deb 1
	next_deb 2
	# a running daemon is restarted by the upgrade
	in_c systemctl start imgeditd
	pid=$(prop MainPID)
	in_c dpkg -i --force-confdef --force-confold /srv/imgedit-test/imgedit-next1.deb \
		>"$T/upgrade1.log" 2>&1 || fail "upgrade with --force-confold: $(tail -3 "$T/upgrade1.log")"
	until_ok 15 "the running daemon was not restarted by the upgrade" restarted_from "$pid"
	in_c systemctl stop imgeditd
	grep -q '^base-url = ' "$R$conf" || fail "the upgrade replaced the admin's $conf"
	grep -q 'version +test1' "$R$conf.dpkg-dist" || fail "no $conf.dpkg-dist with the package's version"
	# N (keep yours) typed once dpkg asks
	answer_n() {
		for _ in $(seq 1 300); do grep -q 'default=N' "$T/upgrade2.log" 2>/dev/null && break; sleep 0.1; done
		echo N
		sleep 2
	}
	answer_n | in_c script -qec "dpkg -i /srv/imgedit-test/imgedit-next2.deb" /dev/null \
		>"$T/upgrade2.log" 2>&1 || fail "upgrade on a terminal: $(tail -5 "$T/upgrade2.log")"
	grep -q "Configuration file '$conf'" "$T/upgrade2.log" ||
		fail "dpkg did not ask about $conf on a terminal: $(tail -5 "$T/upgrade2.log")"
	grep -q '^base-url = ' "$R$conf" || fail "answered N, the admin's $conf was replaced"
fi

# 13. remove keeps the queue; purge removes the settings, keeps the queue and says so
if [ -n "${IMGEDIT_DEB:-}" ]; then
	in_c dpkg -r imgedit >"$T/remove.log" 2>&1 || fail "dpkg -r: $(tail -3 "$T/remove.log")"
	[ -f "$R/var/lib/imgedit/queue.db" ] || fail "dpkg -r removed the queue"
	[ -f "$R$conf" ] || fail "dpkg -r removed the conffile"
	in_c dpkg -P imgedit >"$T/purge-imgedit.log" 2>&1 || fail "dpkg -P: $(tail -3 "$T/purge-imgedit.log")"
	[ -f "$R/var/lib/imgedit/queue.db" ] || fail "dpkg -P removed the queue"
	[ ! -e "$R$conf" ] || fail "dpkg -P kept $conf"
	grep -q 'kept /var/lib/imgedit' "$T/purge-imgedit.log" ||
		fail "purge did not say what it keeps: $(cat "$T/purge-imgedit.log")"
fi
pass "$how under systemd $(in_c systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p') as PID 1: no restart loop without a key, credential, STATUS, uid_map, a member's jobs, journal fields, reload, SIGKILL and watchdog restarts, IPAddressDeny, security $score, clean stop, conffile kept on upgrades"
