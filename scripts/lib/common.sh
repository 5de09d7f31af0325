# scripts/lib/common.sh: shared by scripts/demo, scripts/check and scripts/bench:
# installs the Debian packages imgedit needs (only the missing ones) and builds.

# Packages by purpose; ensure_packages says which purpose asked for each.
# Building (the demo needs no more): a compiler, cmake, pkg-config and the
# -dev libraries CMakeLists.txt requires.
IMGEDIT_BUILD_DEPS=(gcc make cmake pkg-config
	libsqlite3-dev libcurl4-openssl-dev libevent-dev libjansson-dev
	libpng-dev libssl-dev libsystemd-dev libpq-dev
	libjpeg62-turbo-dev libwebp-dev libgif-dev
)
# Running the demo: sqlite3 shows the stored images, python3 draws the strip.
IMGEDIT_DEMO_DEPS=(sqlite3 python3)
# The tests' tools (scripts/check). PostgreSQL and Prometheus are servers:
# ensure_packages installs them without starting or enabling anything.
IMGEDIT_TEST_DEPS=(procps util-linux strace time curl valgrind tzdata
	postgresql prometheus chromium systemd-container nodejs)
# Everything above, for the scripts that want it all (bench, fuzz).
IMGEDIT_DEPS=("${IMGEDIT_BUILD_DEPS[@]}" "${IMGEDIT_DEMO_DEPS[@]}" "${IMGEDIT_TEST_DEPS[@]}")

say() { printf '%s\n' "$*" >&2; }
die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# package_purpose PKG: one line on why imgedit wants PKG.
package_purpose() {
	local p
	for p in "${IMGEDIT_BUILD_DEPS[@]}"; do
		[ "$p" = "$1" ] && { echo "building imgedit"; return; }
	done
	case $1 in
	sqlite3) echo "the demo's table of stored images, the tests' queries" ;;
	python3) echo "the demo's strip of partials, the tests' helpers" ;;
	procps|util-linux) echo "tests: ps, setpriv, unshare, nsenter" ;;
	strace|time|valgrind) echo "tests: system calls, memory and leaks of the daemon" ;;
	curl) echo "tests: imgeditctl serve and the metrics endpoint" ;;
	tzdata) echo "tests: periods in a named time zone (Europe/Paris)" ;;
	postgresql) echo "tests: initdb and pg_ctl for throwaway clusters (no server is started)" ;;
	prometheus) echo "tests: promtool checks the metrics (no server is started)" ;;
	chromium) echo "the web view's screenshots and browser test (headless)" ;;
	systemd-container) echo "tests: systemd-nspawn boots this system to start the unit" ;;
	nodejs|npm) echo "the benchmark's peer (the OpenAI SDK for Node.js)" ;;
	debhelper|dpkg-dev|lintian|fakeroot) echo "building and checking the Debian package" ;;
	*) echo "asked by ${0##*/}" ;;
	esac
}

# enabled_links: the symlinks that enable units on this system.
enabled_links() {
	find /etc/systemd/system -type l \( -path '*.wants/*' -o -path '*.requires/*' \) \
		2>/dev/null | sort
}

# ensure_packages PKG...: apt-get installs what dpkg says is missing, with
# no recommends, after saying what and why. Nothing it installs is started
# (a policy-rc.d refuses every start during the install), PostgreSQL makes
# no cluster, and units the install enabled are disabled again: a server
# package brings its binaries, not a running service.
ensure_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "${0##*/} installs these Debian packages (with what they depend on, no recommends):"
	for p in "${missing[@]}"; do
		say "  $p: $(package_purpose "$p")"
	done
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
		sudo=(sudo)
	fi
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
		die "apt-get update failed"
	"${sudo[@]}" bash -c "$(declare -f enabled_links quiet_install); quiet_install \"\$@\"" \
		quiet_install "${missing[@]}" || die "apt-get install failed for: ${missing[*]}"
}

# quiet_install PKG... (as root): the install itself, services kept off.
quiet_install() {
	local policy=/usr/sbin/policy-rc.d own_policy=0 own_cc=0 before after u rc=0
	local cc=/etc/postgresql-common/createcluster.d/imgedit-no-main-cluster.conf
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# imgedit: install without starting services\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		own_policy=1
	fi
	# PostgreSQL's postinst makes and starts a "main" cluster unless told
	# not to (createcluster.conf includes this directory), for this
	# install only
	if [ ! -e "$cc" ]; then
		mkdir -p "${cc%/*}"
		printf '# imgedit: its tests make their own clusters\ncreate_main_cluster = false\n' >"$cc"
		own_cc=1
	fi
	before=$(enabled_links)
	env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" || rc=$?
	[ $own_policy = 0 ] || rm -f "$policy"
	[ $own_cc = 0 ] || rm -f "$cc"
	after=$(enabled_links)
	for u in $(comm -13 <(echo "$before") <(echo "$after") | sed 's|.*/||' | sort -u); do
		echo "disabling $u (enabled by its package; imgedit's tests need only its binaries)" >&2
		systemctl disable --no-reload "$u" >/dev/null 2>&1 ||
			rm -f $(comm -13 <(echo "$before") <(echo "$after") | grep "/$u\$")
	done
	return $rc
}

# build DIR [cmake args...]: configures and builds into DIR (only the
# targets in $BUILD_TARGETS when set).
build() {
	local dir=$1 targets=()
	shift
	[ -z "${BUILD_TARGETS:-}" ] || read -r -a targets <<<"--target $BUILD_TARGETS"
	cmake -S "$ROOT" -B "$dir" "$@" >/dev/null || die "cmake configure failed"
	cmake --build "$dir" -j"$(nproc)" "${targets[@]}" >/dev/null || {
		cmake --build "$dir" -j1 "${targets[@]}" 2>&1 | grep -E 'error|Error' | head -40 >&2
		die "build failed"
	}
}

# wait_port_line FILE PID: waits for "port=N" from a starting fake upstream.
wait_port_line() {
	local file=$1 pid=$2 i
	for i in $(seq 1 100); do
		if grep -q '^port=' "$file" 2>/dev/null; then
			sed -n 's/^port=//p' "$file" | head -1
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
