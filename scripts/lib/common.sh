# scripts/lib/common.sh: shared by scripts/demo, scripts/check and scripts/bench:
# installs the Debian packages imgedit needs (only the missing ones) and builds.

# Packages for building, testing and running the demo.
IMGEDIT_DEPS=(gcc make cmake pkg-config libsqlite3-dev libcurl4-openssl-dev
	libevent-dev libjansson-dev libpng-dev libssl-dev libsystemd-dev sqlite3
	libjpeg62-turbo-dev libwebp-dev libgif-dev
	python3 procps valgrind util-linux strace time prometheus curl chromium)

say() { printf '%s\n' "$*" >&2; }
die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# PostgreSQL 15 and libpq: the PostgreSQL backend and its tests (ctest -L pg).
IMGEDIT_DEPS+=(postgresql libpq-dev)

# ensure_packages PKG...: apt-get installs what dpkg says is missing.
ensure_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing missing packages: ${missing[*]}"
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
		sudo=(sudo)
	fi
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
		die "apt-get update failed"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" ||
		die "apt-get install failed for: ${missing[*]}"
}

# build DIR [cmake args...]: configures and builds into DIR.
build() {
	local dir=$1
	shift
	cmake -S "$ROOT" -B "$dir" "$@" >/dev/null || die "cmake configure failed"
	cmake --build "$dir" -j"$(nproc)" >/dev/null || {
		cmake --build "$dir" -j1 2>&1 | grep -E 'error|Error' | head -40 >&2
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
