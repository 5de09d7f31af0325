# shellcheck shell=bash
# scripts/lib/bench_pg.sh: scripts/bench's PostgreSQL part, sourced by it: one
# durable PostgreSQL 15 cluster for the whole bench, imgeditd's run on it in
# each round, and the claim latency on it with a full queue.
#
# Uses the bench's RUN, JOBS, CONC, KEEP, CTL, KEY, DAEMON_PID, FAKE_PIDS,
# FAKE_URLS and its functions (rec, say, die, now_ms, ms_to_s, proc_cpu_s,
# proc_hwm_mb, fake_cpu_since, start_daemon, stop_daemon, warm_free_memory).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR='' PG_SOCK='' PG_PM='' PG_RUN=() PG_POLL_PID='' PG_POLL_BACKEND=''
PGPOLL=()

# pg_cluster_start: initdb and start a cluster with the settings a real
# install keeps for durability (fsync, synchronous_commit and
# full_page_writes on; the rest default), Unix socket only. Its data go in
# $RUN/pg, on the disk of the SQLite runs (or /var/tmp when the server's
# user cannot reach $RUN); the socket in a short directory under /tmp.
# Records the settings the server reports. Sets PG_PM (the postmaster).
pg_cluster_start() {
	[ -x "$PG_BIN/initdb" ] || die "no PostgreSQL 15 in $PG_BIN (package postgresql; --no-pg leaves it out)"
	command -v psql >/dev/null || die "no psql (package postgresql; --no-pg leaves it out)"
	if [ "$(id -u)" -eq 0 ]; then
		# the server refuses to run as root
		id postgres >/dev/null 2>&1 || die "running as root and there is no postgres user"
		PG_RUN=(runuser -u postgres --)
	fi
	PG_SOCK=$(mktemp -d /tmp/imgedit-bench-pg.XXXXXX)
	PG_DIR=$RUN/pg
	mkdir -p "$PG_DIR"
	chmod 755 "$PG_SOCK" "$PG_DIR"
	[ ${#PG_RUN[@]} -eq 0 ] || chown postgres: "$PG_SOCK" "$PG_DIR"
	if ! "${PG_RUN[@]}" test -w "$PG_DIR"; then
		rm -rf "$PG_DIR"
		PG_DIR=$(mktemp -d /var/tmp/imgedit-bench-pg.XXXXXX)
		chmod 755 "$PG_DIR"
		[ ${#PG_RUN[@]} -eq 0 ] || chown postgres: "$PG_DIR"
	fi
	"${PG_RUN[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust \
		-E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 ||
		die "initdb failed: $(tail -5 "$PG_DIR/initdb.log")"
	cat >>"$PG_DIR/data/postgresql.conf" <<-EOF
	listen_addresses = ''
	unix_socket_directories = '$PG_SOCK'
	fsync = on
	synchronous_commit = on
	full_page_writes = on
	EOF
	"${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 60 \
		start >/dev/null 2>&1 || die "PostgreSQL did not start: $(tail -5 "$PG_DIR/log")"
	PG_PM=$(head -1 "$PG_DIR/data/postmaster.pid")
	rec pg.fsync "$(pg_admin -c 'SHOW fsync')"
	rec pg.synchronous_commit "$(pg_admin -c 'SHOW synchronous_commit')"
	rec pg.full_page_writes "$(pg_admin -c 'SHOW full_page_writes')"
	rec pg.shared_buffers "$(pg_admin -c 'SHOW shared_buffers')"
	rec pg.filesystem "$(stat -f -c %T "$PG_DIR/data")"
	rec sqlite.filesystem "$(stat -f -c %T "$RUN")"
	rec version.postgresql "\"$(pg_admin -c 'SHOW server_version' | awk '{ print $1 }')\""
}

# pg_cluster_stop: stops the cluster (safe to call twice); its data go
# unless --keep.
pg_cluster_stop() {
	[ -n "$PG_DIR" ] || return 0
	pg_poll_close
	"${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop \
		>/dev/null 2>&1 || true
	[ -f "$PG_DIR/log" ] && cp "$PG_DIR/log" "$RUN/pg.log" 2>/dev/null
	[ "$KEEP" = 1 ] || rm -rf "$PG_DIR"
	rm -rf "$PG_SOCK"
	PG_DIR=''
}

# pg_admin ARGS...: psql on the maintenance database, unaligned, tuples only.
pg_admin() {
	PGOPTIONS='-c client_min_messages=warning' psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_SOCK" -U postgres -d postgres "$@"
}

# pg_uri DB: the libpq URI of database DB of the cluster.
pg_uri() { echo "postgresql:///$1?host=$PG_SOCK&user=postgres"; }

# pg_fresh_db DB: DB dropped if there, created empty and initialized by
# imgeditctl init; then a checkpoint, so that a run does not write out
# what came before it.
pg_fresh_db() {
	pg_admin -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null ||
		die "cannot create database $1"
	"$CTL" --db "$(pg_uri "$1")" init >/dev/null || die "imgeditctl init on PostgreSQL failed"
	pg_admin -c CHECKPOINT >/dev/null
}

# pg_enqueue URI N PROMPT: N streaming gpt-image-2.6-flare jobs (partial_images 3)
# with PROMPT, as another program writes them, in plain SQL: one
# transaction, $RUN/input.png stored once in blobs, filenames 00001.png...
pg_enqueue() {
	{
		echo "BEGIN;"
		printf "INSERT INTO blobs (sha256, size, data) SELECT encode(sha256(d), 'hex'), length(d), d
			FROM (SELECT decode('%s', 'base64') d) x ON CONFLICT (sha256) DO NOTHING;\n" \
			"$(base64 -w0 "$RUN/input.png")"
		echo "\\set sha '$(sha256sum "$RUN/input.png" | cut -d' ' -f1)'"
		cat <<-SQL
		WITH j AS (
		  INSERT INTO jobs (params, stream, priority)
		  SELECT jsonb_build_object('prompt', :'prompt', 'model', 'gpt-image-2.6-flare',
		                            'partial_images', 3), 1, 0
		  FROM generate_series(1, :n) RETURNING id)
		INSERT INTO inputs (job_id, role, ordinal, filename, content_type, blob_id)
		SELECT j.id, 'image', 0, lpad((row_number() OVER (ORDER BY j.id))::text, 5, '0') || '.png',
		       'image/png', (SELECT id FROM blobs WHERE sha256 = :'sha') FROM j;
		COMMIT;
		SQL
	} | psql -X -q -A -t -v ON_ERROR_STOP=1 -v n="$2" -v prompt="$3" -d "$1" >/dev/null ||
		die "enqueueing $2 jobs by SQL failed"
}

# ---- one psql session kept open for the waits: one backend, whose own
# CPU the run's figure leaves out (a psql per poll would start a backend
# every time and bill it to PostgreSQL) ----

# pg_poll_open URI: starts the session; sets PG_POLL_BACKEND (its pid).
pg_poll_open() {
	coproc PGPOLL { exec psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" 2>>"$RUN/pg-poll.err"; }
	# shellcheck disable=SC2153 # set by coproc
	PG_POLL_PID=$PGPOLL_PID
	pg_ask "SELECT pg_backend_pid()" PG_POLL_BACKEND
}
# pg_ask SQL VAR: the session's one-line answer to SQL (one statement, no
# ';') into VAR.
pg_ask() {
	[ -n "${PGPOLL[1]:-}" ] || die "the bench's psql session is gone ($(cat "$RUN/pg-poll.err"))"
	printf '%s;\n' "$1" >&"${PGPOLL[1]}" || die "the bench's psql session is gone ($(cat "$RUN/pg-poll.err"))"
	IFS= read -r -t 60 "$2" <&"${PGPOLL[0]}" ||
		die "the bench's psql session did not answer '$1' ($(cat "$RUN/pg-poll.err"))"
}
pg_poll_close() {
	[ -n "$PG_POLL_PID" ] || return 0
	[ -z "${PGPOLL[1]:-}" ] || eval "exec ${PGPOLL[1]}>&-"
	wait "$PG_POLL_PID" 2>/dev/null || true
	PG_POLL_PID=''
}

# pg_tree_ticks PID: clock ticks of user + system CPU of PID and every
# process under it, each with what its exited children used (cutime +
# cstime): a backend that exited is in the postmaster's.
pg_tree_ticks() {
	local pid=$1 stat rest c sum
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || { echo 0; return 0; }
	rest=${stat##*) }
	# shellcheck disable=SC2086
	set -- $rest
	sum=$((${12} + ${13} + ${14} + ${15}))
	for c in $(pgrep -P "$pid"); do sum=$((sum + $(pg_tree_ticks "$c"))); done
	echo $sum
}
pg_cpu_s() {
	awk -v t="$(pg_tree_ticks "$PG_PM")" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t / hz }'
}

# pg_wait_done TIMEOUT_S: until no job is queued, running or waiting to
# retry, polling through the session.
pg_wait_done() {
	local deadline=$((SECONDS + $1)) left
	while :; do
		pg_ask "SELECT count(*) FROM jobs WHERE state IN ('queued','running','retry_wait')" left
		[ "$left" = 0 ] && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || die "imgeditd on PostgreSQL died (log in $RUN)"
		[ $SECONDS -lt "$deadline" ] || die "$left jobs on PostgreSQL still unfinished after $1 s"
		sleep 0.1
	done
}

# pg_wait_no_clients: until no client backend but the session's is left
# (those of psql or imgeditd that exited), 30 s at most.
pg_wait_no_clients() {
	local n _
	for _ in $(seq 1 300); do
		pg_ask "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'
			AND pid <> pg_backend_pid()" n
		[ "$n" = 0 ] && return 0
		sleep 0.1
	done
	die "a client's PostgreSQL backend is still there 30 s after it exited"
}

# pg_round R: the same JOBS jobs as the SQLite run, enqueued by SQL,
# imgeditd at --concurrency CONC on PostgreSQL against the whole-event
# fake upstream until all are done. Records (keys imgeditd@pg.*) its CPU,
# peak RSS and wall, PostgreSQL's CPU over the run (the cluster's
# processes, the bench's poll session left out), the images and whether
# they are the ones upstream sent.
pg_round() {
	local r=$1 k=imgeditd@pg prompt="bench pg r$1:" uri fake_pid=${FAKE_PIDS[whole]}
	local fake_cpu0 t0 t1 pg0 pg1 poll0 poll1 t_last n_ok n_failed n_images n_bad
	uri=$(pg_uri bench)
	# shellcheck disable=SC2034 # start_daemon's upstream
	URL=${FAKE_URLS[whole]}
	pg_fresh_db bench
	warm_free_memory
	t0=$(now_ms)
	pg_enqueue "$uri" "$JOBS" "$prompt"
	t1=$(now_ms)
	rec "$k.enqueue_s" "$(ms_to_s $((t1 - t0)))"
	pg_poll_open "$uri"
	# the enqueue's backend gone too: a process exiting while it is read
	# would be missed, then found in the postmaster's cutime after
	pg_wait_no_clients
	poll0=$(proc_cpu_s "$PG_POLL_BACKEND")
	pg0=$(pg_cpu_s)
	fake_cpu0=$(proc_cpu_s "$fake_pid")
	start_daemon "$uri" "$CONC" "$RUN/$k.log"
	pg_wait_done 900
	kill -0 "$DAEMON_PID" 2>/dev/null || die "imgeditd died (log: $RUN/$k.log)"
	rec "$k.cpu_s" "$(proc_cpu_s "$DAEMON_PID")"
	rec "$k.peak_rss_mb" "$(proc_hwm_mb "$DAEMON_PID")"
	rec "fake.cpu_$k" "$(fake_cpu_since "$fake_pid" "$fake_cpu0")"
	stop_daemon "$RUN/$k.log"
	pg_wait_no_clients
	poll1=$(proc_cpu_s "$PG_POLL_BACKEND")
	pg1=$(pg_cpu_s)
	rec "$k.pg_cpu_s" "$(awk -v a="$pg0" -v b="$pg1" -v p="$poll0" -v q="$poll1" \
		'BEGIN { printf "%.3f", (b - a) - (q - p) }')"
	rec "$k.poll_cpu_s" "$(awk -v p="$poll0" -v q="$poll1" 'BEGIN { printf "%.3f", q - p }')"
	pg_poll_close
	t_last=$(psql -X -q -A -t -d "$uri" -c "SELECT max(finished_at) FROM jobs")
	rec "$k.wall_s" "$(ms_to_s $((t_last - t0)))"
	IFS='|' read -r n_ok n_failed n_images < <(psql -X -q -A -t -d "$uri" -c "SELECT
		(SELECT count(*) FROM jobs WHERE state = 'succeeded'),
		(SELECT count(*) FROM jobs WHERE state <> 'succeeded'),
		(SELECT count(*) FROM images)")
	rec "$k.succeeded" "$n_ok"
	rec "$k.failed" "$n_failed"
	rec "$k.images" "$n_images"
	[ "$n_failed" = 0 ] ||
		say "warning: round $r (PostgreSQL): $n_failed imgeditd jobs did not succeed (log: $RUN/$k.log)"
	# the stored bytes hashed again (not the sha256 column the daemon
	# wrote), against what the fake upstream sent
	psql -X -q -A -t -d "$uri" -c "SELECT encode(sha256(data), 'hex') AS h FROM images ORDER BY h" >"$RUN/stored.sha"
	python3 "$ROOT/scripts/lib/bench_util.py" sent "$RUN/fake-whole.jsonl" "$prompt" >"$RUN/sent.sha"
	n_bad=$(comm -23 "$RUN/stored.sha" "$RUN/sent.sha" | wc -l)
	rec "$k.sha_differ" "$n_bad"
	if cmp -s "$RUN/stored.sha" "$RUN/sent.sha"; then
		rec "$k.sha_match" true
	else
		rec "$k.sha_match" false
		say "warning: round $r (PostgreSQL): imgeditd's stored sha256 set differs from what the fake upstream sent ($n_bad stored not sent)"
	fi
	rec "$k.db_bytes" "$(psql -X -q -A -t -d "$uri" -c "SELECT pg_database_size(current_database())")"
}

# pg_claim_figures QUEUED CLAIMS: claim latency on PostgreSQL (scripts/lib/
# claim_bench_pg.c, one job per claim) with QUEUED jobs queued: one job
# like the bench's enqueued by SQL, copied by generate_series (sharing its
# input blob), then ANALYZE as autovacuum would soon do. CLAIMS claims as
# the server is set (each commit flushed), then CLAIMS more with the
# session's synchronous_commit off.
pg_claim_figures() {
	local uri bin out
	uri=$(pg_uri claim)
	pg_fresh_db claim
	pg_enqueue "$uri" 1 "bench claim"
	psql -X -q -A -t -v ON_ERROR_STOP=1 -v n="$(($1 - 1))" -d "$uri" \
		-f "$ROOT/scripts/lib/bench_pg_fill.sql" >/dev/null || die "filling the PostgreSQL queue failed"
	rec claim_pg.queued "$(psql -X -q -A -t -d "$uri" -c "SELECT count(*) FROM jobs WHERE state = 'queued'")"
	pg_admin -c CHECKPOINT >/dev/null
	bin=$(build_tool claim_bench_pg)
	out=$("$bin" "$uri" "$2") || die "claim_bench_pg failed"
	rec claim_pg.json "$out"
	# For comparison only: commits not flushed before the answer, the
	# guarantee of the SQLite store's WAL with synchronous=NORMAL (a crash
	# of the machine may lose the last ones, never corrupts).
	out=$("$bin" "$uri" "$2" off) || die "claim_bench_pg (synchronous_commit off) failed"
	rec claim_pg_async.json "$out"
	pg_admin -c "DROP DATABASE claim" >/dev/null
}
