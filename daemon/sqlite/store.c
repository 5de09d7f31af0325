/* sqlite/store.c: the SQLite queue: opening with WAL and a busy timeout, migrations,
 * and the daemon's transactions (claim, image commit, attempt end, leases). */
#define _GNU_SOURCE
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "budget.h"
#include "budgetsql.h"
#include "storesql.h"
#include "util.h"

extern const char *const imgedit_migrations[];

#define STMT_CACHE 40
#define STR_(x) #x
#define STR(x) STR_(x)              /* a number macro as a string literal */

/* One connection and its prepared statements, keyed by their SQL literal. */
struct store {
	sqlite3 *db;
	int readonly;
	int busy_ms;                /* the busy timeout set, to restore */
	int ckpt_pages;             /* deferred checkpoints: WAL threshold */
	int ckpt_due;               /* due() called, store_checkpoint not yet */
	void (*ckpt_cb)(void *arg);
	void *ckpt_arg;
	int errcode;                /* SQLite's code of the last failed write */
	int written;                /* rows the last image / finish committed */
	struct store_fault faults[STORE_FAULTS_MAX]; /* tests: injected errors */
	int nfaults;
	int tries[STORE_OP_COUNT];  /* write transactions begun, per kind */
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} cache[STMT_CACHE];
};

static int
exec_sql(struct store *st, const char *sql)
{
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ?
	    STORE_OK : STORE_ERR;
}

static int
rc_to_store(int rc)
{
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return STORE_BUSY;
	return rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW ?
	    STORE_OK : STORE_ERR;
}

/* Returns the prepared statement for the literal sql, reset and unbound.
 * The store owns it: callers never finalize, and must not hold it across
 * another call to prep() with the same sql. */
static sqlite3_stmt *
prep(struct store *st, const char *sql)
{
	int i;

	for (i = 0; i < STMT_CACHE && st->cache[i].sql != NULL; i++) {
		if (st->cache[i].sql == sql) {
			sqlite3_reset(st->cache[i].stmt);
			sqlite3_clear_bindings(st->cache[i].stmt);
			return st->cache[i].stmt;
		}
	}
	if (i == STMT_CACHE)
		return NULL;
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &st->cache[i].stmt, NULL) != SQLITE_OK)
		return NULL;
	st->cache[i].sql = sql;
	return st->cache[i].stmt;
}

/* Steps a statement that returns no rows; resets it. */
static int
step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE ? STORE_OK : rc_to_store(rc == SQLITE_ROW ?
	    SQLITE_ERROR : rc);
}

/* A new, empty file gives freed pages back to the file system on request
 * (prune runs incremental_vacuum): only settable before the first table. */
static int
new_file_vacuum(struct store *st)
{
	sqlite3_stmt *s;
	int pages = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA page_count", -1, &s, NULL) !=
	    SQLITE_OK)
		return STORE_ERR;
	if (sqlite3_step(s) == SQLITE_ROW)
		pages = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return pages == 0 ? exec_sql(st, "PRAGMA auto_vacuum=INCREMENTAL;") :
	    STORE_OK;
}

/* Pragmas for every connection. New files get 64 KiB pages: images are
 * megabytes, and big pages halve the cost of writing them (SPEC §8).
 * journal_size_limit: the WAL file shrinks back to that size when it next
 * restarts, instead of keeping the size a long reader let it grow to.
 * temp_store=MEMORY keeps statement journals off disk: with 64 KiB pages
 * one page passes SQLite's 64 KiB spill mark, so every UPDATE that fires a
 * trigger inside a transaction created, wrote and unlinked a temp file. */
static int
store_configure(struct store *st, int busy_timeout_ms, char *err, size_t errlen)
{
	store_set_busy_timeout(st, busy_timeout_ms);
	if (st->readonly)
		return exec_sql(st, "PRAGMA foreign_keys=ON;");
	if (exec_sql(st, "PRAGMA page_size=65536;") != STORE_OK ||
	    new_file_vacuum(st) != STORE_OK ||
	    exec_sql(st, "PRAGMA journal_mode=WAL;") != STORE_OK ||
	    exec_sql(st, "PRAGMA synchronous=NORMAL;") != STORE_OK ||
	    exec_sql(st, "PRAGMA temp_store=MEMORY;") != STORE_OK ||
	    exec_sql(st, "PRAGMA journal_size_limit="
	    STR(STORE_WAL_LIMIT_BYTES) ";") != STORE_OK ||
	    exec_sql(st, "PRAGMA foreign_keys=ON;") != STORE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(st->db));
		return STORE_ERR;
	}
	return STORE_OK;
}

/* The mode a new database gets: 0660 where the directory's group is
 * meant to share it (setgid, or a group not ours, as systemd's
 * StateDirectory with a group), else 0600. */
static mode_t
new_file_mode(const char *path)
{
	struct stat sb;
	char *copy = strdup(path);
	mode_t mode = 0600;

	if (copy != NULL && stat(dirname(copy), &sb) == 0 &&
	    ((sb.st_mode & S_ISGID) || sb.st_gid != getegid()))
		mode = 0660;
	free(copy);
	return mode;
}

/* Creates a missing database file with new_file_mode, whatever the umask:
 * prompts, inputs and results are nobody else's business. SQLite gives
 * the -wal and -shm files the database's mode. Returns 0, or -1 (errno). */
static int
create_private(const char *path)
{
	mode_t mode = new_file_mode(path);
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode)) == -1)
		return errno == EEXIST ? 0 : -1;
	if (fchmod(fd, mode) == -1) {
		close(fd);
		return -1;
	}
	return close(fd);
}

struct store *
store_open(const char *path, int flags, int busy_timeout_ms, char *err,
    size_t errlen)
{
	struct store *st;
	int oflags;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->readonly = (flags & STORE_READONLY) != 0;
	oflags = st->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (flags & STORE_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	oflags |= SQLITE_OPEN_NOMUTEX;
	if (strncmp(path, "file:", 5) == 0)
		oflags |= SQLITE_OPEN_URI; /* e.g. imgeditctl serve's ?mode=ro */
	if ((flags & STORE_CREATE) && strncmp(path, "file:", 5) != 0 &&
	    strcmp(path, ":memory:") != 0 && create_private(path) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (sqlite3_open_v2(path, &st->db, oflags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
		    st->db ? sqlite3_errmsg(st->db) : "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 0);
	if (store_configure(st, busy_timeout_ms, err, errlen) != STORE_OK)
		goto fail;
	return st;
fail:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < STMT_CACHE; i++)
		sqlite3_finalize(st->cache[i].stmt);
	sqlite3_close_v2(st->db);
	free(st);
}

/* sqlite3_wal_hook: after each commit, with the WAL's size in frames. */
static int
on_wal_commit(void *arg, sqlite3 *db, const char *schema, int frames)
{
	struct store *st = arg;

	(void)db;
	(void)schema;
	if (frames >= st->ckpt_pages && !st->ckpt_due) {
		st->ckpt_due = 1;
		st->ckpt_cb(st->ckpt_arg);
	}
	return SQLITE_OK;
}

void
store_defer_checkpoints(struct store *st, int wal_pages,
    void (*due)(void *arg), void *arg)
{
	if (due == NULL) { /* SQLite's own checkpoints again */
		sqlite3_wal_autocheckpoint(st->db, STORE_CHECKPOINT_WAL_PAGES);
		return;
	}
	st->ckpt_pages = wal_pages > 0 ? wal_pages : 1;
	st->ckpt_due = 0;
	st->ckpt_cb = due;
	st->ckpt_arg = arg;
	/* replaces SQLite's own autocheckpoint hook on this connection */
	sqlite3_wal_hook(st->db, on_wal_commit, st);
}

int
store_checkpoint(struct store *st, int *frames_left)
{
	int rc, log = 0, done = 0;

	st->ckpt_due = 0;
	rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    &log, &done);
	if (frames_left != NULL)
		*frames_left = log > done ? log - done : 0;
	return rc == SQLITE_OK ? STORE_OK : rc_to_store(rc);
}

int
store_truncate_wal(struct store *st)
{
	int rc;

	st->ckpt_due = 0;
	sqlite3_busy_timeout(st->db, 0); /* try once: BUSY if a reader holds */
	rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
	    NULL, NULL);
	sqlite3_busy_timeout(st->db, st->busy_ms);
	return rc == SQLITE_OK ? STORE_OK : rc_to_store(rc);
}

int
store_wal_size(struct store *st, int64_t *bytes)
{
	const char *wal;
	struct stat sb;

	*bytes = 0;
	if ((wal = sqlite3_filename_wal(sqlite3_db_filename(st->db,
	    "main"))) == NULL || *wal == '\0')
		return STORE_OK; /* in memory: no file */
	if (stat(wal, &sb) == -1)
		return errno == ENOENT ? STORE_OK : STORE_ERR;
	*bytes = sb.st_size;
	return STORE_OK;
}

void
store_set_busy_timeout(struct store *st, int ms)
{
	st->busy_ms = ms;
	sqlite3_busy_timeout(st->db, ms);
}

sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

const char *
store_errmsg(struct store *st)
{
	return sqlite3_errmsg(st->db);
}

static int
migration_count(void)
{
	int n = 0;

	while (imgedit_migrations[n] != NULL)
		n++;
	return n;
}

int
store_schema_version(struct store *st, int *file_version)
{
	sqlite3_stmt *s;

	*file_version = -1;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			*file_version = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
	}
	return migration_count();
}

int
store_migrate(struct store *st, char *err, size_t errlen)
{
	int have, want, v;
	char sql[64];

	if (store_begin(st) != STORE_OK) {
		snprintf(err, errlen, "cannot lock the database: %s",
		    sqlite3_errmsg(st->db));
		return STORE_ERR;
	}
	want = store_schema_version(st, &have);
	if (have < 0)
		goto fail;
	if (have > want) {
		store_rollback(st);
		snprintf(err, errlen, "database schema version %d is newer than "
		    "this imgedit (%d): upgrade imgedit", have, want);
		return STORE_ERR;
	}
	for (v = have; v < want; v++)
		if (exec_sql(st, imgedit_migrations[v]) != STORE_OK)
			goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", want);
	if (exec_sql(st, sql) != STORE_OK || store_commit(st) != STORE_OK)
		goto fail;
	return STORE_OK;
fail:
	snprintf(err, errlen, "migration to schema version %d failed: %s",
	    want, sqlite3_errmsg(st->db));
	store_rollback(st);
	return STORE_ERR;
}

int
store_begin(struct store *st)
{
	int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	st->errcode = rc;
	return rc_to_store(rc);
}

int
store_commit(struct store *st)
{
	int rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		store_rollback(st);
	st->errcode = rc;
	return rc_to_store(rc);
}

void
store_rollback(struct store *st)
{
	int rc = sqlite3_errcode(st->db);

	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		st->errcode = rc;
}

int
store_errcode(struct store *st)
{
	return st->errcode == SQLITE_DONE || st->errcode == SQLITE_ROW ? 0 :
	    st->errcode;
}

enum db_err
store_err_class(int errcode)
{
	switch (errcode & 0xff) {
	case SQLITE_OK: case SQLITE_ROW: case SQLITE_DONE:
		return DBE_OK;
	case SQLITE_BUSY: case SQLITE_LOCKED:
		return DBE_LOCK;
	case SQLITE_FULL:
		return DBE_FULL;
	case SQLITE_IOERR: case SQLITE_NOMEM: case SQLITE_CANTOPEN:
	case SQLITE_PROTOCOL: case SQLITE_READONLY:
		return DBE_IO;
	case SQLITE_CONSTRAINT:
		return DBE_CONSTRAINT;
	default:
		return DBE_OTHER;
	}
}

int
store_error_transient(int errcode)
{
	return db_err_transient(store_err_class(errcode));
}

/* ---- fault injection ---- */

static const char *const op_names[STORE_OP_COUNT] = { "claim", "image",
    "finish", "answered", "leases", "heartbeat" };

static int
fault_item(const char *item, struct store_fault *f)
{
	static const struct { const char *name; int code; } codes[] = {
		{ "busy", SQLITE_BUSY }, { "ioerr", SQLITE_IOERR },
		{ "full", SQLITE_FULL }, { "corrupt", SQLITE_CORRUPT },
	};
	char kind[16], code[16];
	int i, n;

	f->count = 1;
	n = sscanf(item, "%15[a-z]:%d:%15[a-z]:%d", kind, &f->nth, code,
	    &f->count);
	if (n < 3 || f->nth < 1 || f->count < 1)
		return -1;
	for (i = 0; i < STORE_OP_COUNT && strcmp(kind, op_names[i]) != 0; i++)
		;
	if (i == STORE_OP_COUNT)
		return -1;
	f->op = (enum store_op)i;
	for (i = 0; i < (int)(sizeof(codes) / sizeof(codes[0])); i++)
		if (strcmp(code, codes[i].name) == 0) {
			f->errcode = codes[i].code;
			return 0;
		}
	return -1;
}

int
store_set_faults(struct store *st, const char *spec, char *err, size_t errlen)
{
	char buf[256], *item, *save = NULL;

	if (strlen(spec) >= sizeof(buf))
		return errorf(err, errlen, "fault spec longer than %zu bytes",
		    sizeof(buf) - 1);
	strcpy(buf, spec);
	st->nfaults = 0;
	for (item = strtok_r(buf, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		if (st->nfaults == STORE_FAULTS_MAX ||
		    fault_item(item, &st->faults[st->nfaults]) == -1)
			return errorf(err, errlen, "fault '%s': want KIND:N:"
			    "busy|ioerr|full|corrupt[:COUNT], at most %d", item,
			    STORE_FAULTS_MAX);
		st->nfaults++;
	}
	return 0;
}

/* Starts a write transaction of kind op (counted for the fault seam). */
static int
write_begin(struct store *st, enum store_op op)
{
	st->tries[op]++;
	return store_begin(st);
}

/* Commits a write of kind op, unless an armed fault fails this try. */
static int
write_commit(struct store *st, enum store_op op)
{
	const struct store_fault *f;
	int i, t = st->tries[op];

	for (i = 0; i < st->nfaults; i++) {
		f = &st->faults[i];
		if (f->op == op && t >= f->nth && t < f->nth + f->count) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			st->errcode = f->errcode;
			return f->errcode == SQLITE_BUSY ? STORE_BUSY : STORE_ERR;
		}
	}
	return store_commit(st);
}

int
store_last_written(const struct store *st)
{
	return st->written;
}

int
store_data_version(struct store *st, int64_t *version)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, "PRAGMA data_version")) == NULL)
		return STORE_ERR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? STORE_OK : rc_to_store(rc);
}

/* ---- daemons ---- */

int
store_daemon_register(struct store *st, const char *daemon_id, const char *host,
    int pid)
{
	static const char sql[] = "INSERT INTO daemons (id, host, pid, "
	    "started_at, heartbeat_at, status) VALUES (?, ?, ?, ?, ?, 'starting')";
	sqlite3_stmt *s;
	int64_t now = now_ms();

	if ((s = prep(st, sql)) == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, daemon_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, host, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, pid);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, now);
	return step_done(s);
}

/* Runs one prepared write statement as a transaction of kind op. */
static int
write_one(struct store *st, enum store_op op, sqlite3_stmt *s)
{
	int rc;

	if ((rc = write_begin(st, op)) != STORE_OK) {
		sqlite3_reset(s);
		return rc;
	}
	if ((rc = step_done(s)) != STORE_OK) {
		store_rollback(st);
		return rc;
	}
	return write_commit(st, op);
}

int
store_daemon_heartbeat(struct store *st, const char *daemon_id,
    const char *status, const char *pause_reason)
{
	static const char sql[] = "UPDATE daemons SET heartbeat_at = ?, "
	    "status = ?, pause_reason = ? WHERE id = ?";
	sqlite3_stmt *s;

	if ((s = prep(st, sql)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, now_ms());
	sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, pause_reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, daemon_id, -1, SQLITE_STATIC);
	return write_one(st, STORE_OP_HEARTBEAT, s);
}

int
store_daemon_stopped(struct store *st, const char *daemon_id)
{
	static const char sql[] = "UPDATE daemons SET stopped_at = ?, "
	    "heartbeat_at = ?, status = 'stopped' WHERE id = ?";
	sqlite3_stmt *s;
	int64_t now = now_ms();

	if ((s = prep(st, sql)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, daemon_id, -1, SQLITE_STATIC);
	return step_done(s);
}

int
store_control_get(struct store *st, const char *key, char **value)
{
	static const char sql[] = "SELECT coalesce(value, '') FROM control "
	    "WHERE key = ?";
	sqlite3_stmt *s;
	int rc;

	*value = NULL;
	if ((s = prep(st, sql)) == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*value = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : rc_to_store(rc);
}

/* ---- claiming ---- */

static char *
column_strdup(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t ? strdup((const char *)t) : NULL;
}

/* Fails a job that can no longer be attempted (inside the claim transaction). */
static int
fail_exhausted(struct store *st, int64_t id, int64_t now)
{
	static const char sql[] = "UPDATE jobs SET state = 'failed', "
	    "error_type = 'max_attempts', error_code = NULL, error_status = NULL, "
	    "error_message = coalesce(error_message || ' (', '(') || "
	    "'gave up after ' || attempts || ' attempts)', finished_at = ?, "
	    "updated_at = ? WHERE id = ?";
	sqlite3_stmt *s;

	if ((s = prep(st, sql)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, id);
	return step_done(s);
}

/* Inside the transaction: picks a ready job and leases it. 1 = claimed. */
/* Runs sql with ids[0..n-1] bound as ?1..?n, no rows expected. */
static int
exec_ids(struct store *st, const char *sql, const int64_t *ids, int n)
{
	sqlite3_stmt *s;
	int i;

	if ((s = prep(st, sql)) == NULL)
		return STORE_ERR;
	for (i = 0; i < n; i++)
		sqlite3_bind_int64(s, i + 1, ids[i]);
	return step_done(s);
}

static int params_bytes(struct store *st, int64_t id, int64_t *bytes);

/* What the attempts of bc's periods spent and hold, per model, into s. */
static int
budget_sums_read(struct store *st, const struct budget_claim *bc,
    struct budget_sums *s)
{
	static const char sql[] = BUDGETSQL_SUMS("?1", "?2");
	sqlite3_stmt *q;
	int rc;

	if ((q = prep(st, sql)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(q, 1, budget_claim_since(bc));
	sqlite3_bind_int64(q, 2, bc->day_start);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if (budget_sums_add(s, (const char *)sqlite3_column_text(q, 0),
		    sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2),
		    sqlite3_column_int64(q, 3)) == -1) {
			sqlite3_reset(q);
			return STORE_ERR;
		}
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? STORE_OK : rc_to_store(rc);
}

/* The hold of job id (its params and inputs as stored), into need. A
 * params text the daemon refuses unread holds nothing. */
static int
budget_need_read(struct store *st, const struct budget_claim *bc, int64_t id,
    int stream, struct budget_need *need)
{
	static const char sql[] = "SELECT params, " BUDGETSQL_INPUTS("?1")
	    " FROM jobs WHERE id = ?1";
	sqlite3_stmt *q;
	int64_t bytes;
	int rc;

	memset(need, 0, sizeof(*need));
	if (params_bytes(st, id, &bytes) == 0 && bytes > STORE_PARAMS_MAX)
		return STORE_OK;
	if ((q = prep(st, sql)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(q, 1, id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		budget_need_of(&bc->prices, (const char *)sqlite3_column_text(q,
		    0), stream, (size_t)sqlite3_column_int64(q, 1),
		    (size_t)sqlite3_column_int64(q, 2), need);
	sqlite3_reset(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK :
	    rc_to_store(rc);
}

/* Inside the claim's transaction: whether the picked job fits the
 * budgets beside what the periods spent and hold. 1 = it fits (need is
 * its hold), 0 = it would cross one (v says which). */
static int
budget_fits(struct store *st, const struct budget_claim *bc,
    const struct claimed_job *job, struct budget_need *need,
    struct budget_verdict *v)
{
	struct budget_sums sums;
	int rc;

	memset(&sums, 0, sizeof(sums));
	if ((rc = budget_need_read(st, bc, job->id, job->stream, need)) !=
	    STORE_OK || (rc = budget_sums_read(st, bc, &sums)) != STORE_OK) {
		budget_sums_free(&sums);
		return rc;
	}
	budget_check(&bc->limits, &sums, need, v);
	budget_sums_free(&sums);
	return !v->crossed;
}

/* The attempt's hold on its row: reserve (NULL: none). */
static void
bind_hold(sqlite3_stmt *s, const struct budget_need *need)
{
	if (need->usd >= 0)
		sqlite3_bind_int64(s, 5, need->usd);
	sqlite3_bind_int64(s, 6, need->tokens);
}

static int
claim_row(struct store *st, const char *daemon_id, int64_t now, int64_t lease_ms,
    const struct budget_claim *bc, struct budget_verdict *v,
    struct claimed_job *job)
{
	static const char pick[] = "SELECT id, attempts, max_attempts, stream "
	    "FROM jobs INDEXED BY jobs_ready WHERE state IN ('queued','retry_wait') "
	    "AND not_before <= ? ORDER BY priority DESC, id LIMIT 1";
	static const char lease[] = "UPDATE jobs SET state = 'running', "
	    "lease_owner = ?, lease_expires = ?, attempts = attempts + 1, "
	    "updated_at = ? WHERE id = ?";
	static const char attempt[] = "INSERT INTO attempts (job_id, number, "
	    "daemon_id, started_at) VALUES (?1, (SELECT coalesce(max(number), 0) "
	    "+ 1 FROM attempts WHERE job_id = ?1), ?2, ?3) RETURNING id, number";
	/* the model is the params' own, whole, as PostgreSQL's claim takes
	 * it (the hold's is cut to 64 bytes); ?4: params the daemon reads */
	static const char held[] = "INSERT INTO attempts (job_id, number, "
	    "daemon_id, started_at, model, reserve_usd_micro, reserve_tokens) "
	    "VALUES (?1, (SELECT coalesce(max(number), 0) + 1 FROM attempts "
	    "WHERE job_id = ?1), ?2, ?3, (SELECT CASE WHEN ?4 AND "
	    "json_valid(params) "
	    "AND json_type(params, '$.model') = 'text' THEN "
	    "nullif(json_extract(params, '$.model'), '') END FROM jobs "
	    "WHERE id = ?1), ?5, ?6) RETURNING id, number";
	struct budget_need need;
	sqlite3_stmt *s;
	int64_t ids[2], bytes;
	int rc, attempts;

	for (;;) {
		if ((s = prep(st, pick)) == NULL)
			return STORE_ERR;
		sqlite3_bind_int64(s, 1, now);
		if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
			sqlite3_reset(s);
			return rc == SQLITE_DONE ? 0 : rc_to_store(rc);
		}
		job->id = sqlite3_column_int64(s, 0);
		attempts = sqlite3_column_int(s, 1);
		job->counted = attempts + 1;
		job->max_attempts = sqlite3_column_int(s, 2);
		job->stream = sqlite3_column_int(s, 3);
		sqlite3_reset(s);
		if (attempts < job->max_attempts)
			break;
		if (fail_exhausted(st, job->id, now) != STORE_OK)
			return STORE_ERR;
	}
	if (bc != NULL && (rc = budget_fits(st, bc, job, &need, v)) != 1)
		return rc;
	if ((s = prep(st, lease)) == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, daemon_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now + lease_ms);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_int64(s, 4, job->id);
	if ((rc = step_done(s)) != STORE_OK)
		return rc;
	ids[0] = job->id;
	ids[1] = now;
	if ((rc = exec_ids(st, CLAIM_CLOSE_STALE_SQL("?1", "?2"), ids, 2)) !=
	    STORE_OK)
		return rc;
	if ((s = prep(st, bc != NULL ? held : attempt)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, job->id);
	sqlite3_bind_text(s, 2, daemon_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	if (bc != NULL) {
		sqlite3_bind_int(s, 4, params_bytes(st, job->id, &bytes) == 0 &&
		    bytes <= STORE_PARAMS_MAX);
		bind_hold(s, &need);
	}
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		job->attempt_id = sqlite3_column_int64(s, 0);
		job->attempt = sqlite3_column_int(s, 1);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 1 : rc_to_store(rc);
}

/* Refuses an input before reading it: its size comes from length(), which
 * SQLite answers from the record header, without loading the blob. */
static int
input_too_big(sqlite3_stmt *s, struct claimed_job *job)
{
	sqlite3_int64 size = sqlite3_column_int64(s, 4);

	if (job->ninputs >= STORE_INPUTS_MAX)
		job_refuse_inputs(job);
	else if (size > (sqlite3_int64)STORE_INPUT_MAX)
		job_refuse_input(job, (const char *)sqlite3_column_text(s, 0),
		    sqlite3_column_int(s, 1),
		    (const char *)sqlite3_column_text(s, 2), size);
	else
		return 0;
	return 1;
}

/* The bytes of one input, read once it passed input_too_big. */
static int
load_bytes(struct store *st, int64_t job_id, const char *role,
    struct job_input *in)
{
	static const char sql[] = "SELECT coalesce(i.data, b.data) FROM inputs i "
	    "LEFT JOIN blobs b ON b.id = i.blob_id WHERE i.job_id = ? AND "
	    "i.role = ? AND i.ordinal = ?";
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, sql)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, job_id);
	sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, in->ordinal);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		in->size = (size_t)sqlite3_column_bytes(s, 0);
		if ((in->data = malloc(in->size ? in->size : 1)) == NULL) {
			sqlite3_reset(s);
			return STORE_ERR;
		}
		if (in->size > 0) /* a zero-length blob is a NULL pointer */
			memcpy(in->data, sqlite3_column_blob(s, 0), in->size);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? STORE_OK : rc_to_store(rc == SQLITE_DONE ?
	    SQLITE_ERROR : rc);
}

/* One row of the inputs' metadata: names, type, and the bytes unless they
 * are missing (then load_error says so). */
static int
load_input(struct store *st, struct claimed_job *job, sqlite3_stmt *s,
    struct job_input *in)
{
	const char *role = (const char *)sqlite3_column_text(s, 0);

	in->role = input_role_of(role);
	in->ordinal = sqlite3_column_int(s, 1);
	in->filename = column_strdup(s, 2);
	in->content_type = column_strdup(s, 3);
	if (sqlite3_column_type(s, 4) == SQLITE_NULL) {
		job_refuse_missing(job, role, in->ordinal, in->filename);
		return STORE_OK;
	}
	return load_bytes(st, job->id, input_role_name(in->role), in);
}

/* Loads params and inputs of a claimed job (reads only). The metadata
 * first, with each input's size; then the bytes of those within bounds. */
/* The size in bytes of job id's params, read from its record's header by a
 * blob handle, never loading the value (SQL's length() of text would).
 * Returns 0 with *bytes, or -1 when it cannot tell (a value that is not
 * text: a number is small, or no such row). */
static int
params_bytes(struct store *st, int64_t id, int64_t *bytes)
{
	sqlite3_blob *b = NULL;
	int rc;

	rc = sqlite3_blob_open(st->db, "main", "jobs", "params", id, 0, &b);
	if (rc == SQLITE_OK)
		*bytes = sqlite3_blob_bytes(b);
	sqlite3_blob_close(b);
	return rc == SQLITE_OK ? 0 : -1;
}

static int
load_job(struct store *st, struct claimed_job *job)
{
	static const char params[] = "SELECT params FROM jobs WHERE id = ?1";
	static const char inputs[] = "SELECT i.role, i.ordinal, i.filename, "
	    "i.content_type, coalesce(length(i.data), length(b.data)) "
	    "FROM inputs i LEFT JOIN blobs b ON b.id = i.blob_id "
	    "WHERE i.job_id = ? ORDER BY i.role <> 'image', i.ordinal";
	sqlite3_stmt *s;
	struct job_input *grown;
	int64_t bytes;
	int rc;

	/* bytes, not characters: the limit is the same on every backend; a
	 * hostile 100 MB row is refused without being read */
	if (params_bytes(st, job->id, &bytes) == 0 && bytes > STORE_PARAMS_MAX)
		job_refuse_params(job, bytes);
	else {
		if ((s = prep(st, params)) == NULL)
			return STORE_ERR;
		sqlite3_bind_int64(s, 1, job->id);
		if (sqlite3_step(s) == SQLITE_ROW)
			job->params = column_strdup(s, 0);
		sqlite3_reset(s);
	}
	if ((s = prep(st, inputs)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, job->id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (input_too_big(s, job))
			continue;
		grown = reallocarray(job->inputs, job->ninputs + 1,
		    sizeof(*grown));
		if (grown == NULL)
			goto fail;
		job->inputs = grown;
		memset(&job->inputs[job->ninputs], 0, sizeof(*grown));
		job->ninputs++;
		if (load_input(st, job, s, &job->inputs[job->ninputs - 1]) !=
		    STORE_OK)
			goto fail;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? STORE_OK : rc_to_store(rc);
fail:
	sqlite3_reset(s);
	return STORE_ERR;
}

int
store_claim(struct store *st, const char *daemon_id, int64_t now,
    int64_t lease_ms, struct claimed_job **out)
{
	return store_claim_held(st, daemon_id, now, lease_ms, NULL, NULL, out);
}

int
store_claim_held(struct store *st, const char *daemon_id, int64_t now,
    int64_t lease_ms, const struct budget_claim *bc, struct budget_verdict *v,
    struct claimed_job **out)
{
	struct claimed_job *job;
	int rc;

	*out = NULL;
	if (v != NULL)
		memset(v, 0, sizeof(*v));
	if ((job = calloc(1, sizeof(*job))) == NULL)
		return STORE_ERR;
	if ((rc = write_begin(st, STORE_OP_CLAIM)) != STORE_OK)
		goto fail;
	if ((rc = claim_row(st, daemon_id, now, lease_ms, bc, v, job)) < 0) {
		store_rollback(st);
		goto fail;
	}
	if ((rc = write_commit(st, STORE_OP_CLAIM)) != STORE_OK ||
	    job->attempt_id == 0)
		goto fail;
	if (load_job(st, job) != STORE_OK) {
		/* claimed, but its rows could not be read: for a passing
		 * reason the caller gives the attempt back uncounted instead
		 * of leaving it leased; for good (corrupt, too big to hold),
		 * the job fails with the reason */
		job->load_transient = store_error_transient(
		    sqlite3_errcode(st->db));
		free(job->load_error);
		if (asprintf(&job->load_error, "the job's inputs could not be "
		    "read: %s", sqlite3_errmsg(st->db)) == -1)
			job->load_error = NULL;
	}
	*out = job;
	return 1;
fail:
	claimed_job_free(job);
	return rc < 0 ? rc : 0;
}

int
store_job_counts(struct store *st, const char *const *states, int n,
    int64_t *counts)
{
	static const char sql[] = "SELECT state, count(*) FROM jobs "
	    "GROUP BY state";
	const char *state;
	sqlite3_stmt *s;
	int rc, i;

	for (i = 0; i < n; i++)
		counts[i] = 0;
	if ((s = prep(st, sql)) == NULL)
		return STORE_ERR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		state = (const char *)sqlite3_column_text(s, 0);
		for (i = 0; state != NULL && i < n; i++)
			if (strcmp(state, states[i]) == 0)
				counts[i] = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? STORE_OK : rc_to_store(rc);
}

int
store_next_wake(struct store *st, int64_t *when)
{
	static const char sql[] = "SELECT min(not_before) FROM jobs "
	    "WHERE state IN ('queued','retry_wait')";
	sqlite3_stmt *s;
	int rc, found = 0;

	if ((s = prep(st, sql)) == NULL)
		return STORE_ERR;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	    sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*when = sqlite3_column_int64(s, 0);
		found = 1;
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? found : rc_to_store(rc);
}

int
store_renew_leases(struct store *st, const char *daemon_id, int64_t expires,
    const struct store_run_ref *runs, size_t nruns)
{
	static const char sql[] = "UPDATE jobs SET lease_expires = ? "
	    "WHERE id = ? AND state = 'running' AND lease_owner = ?";
	sqlite3_stmt *s;
	size_t i;
	int rc;

	for (i = 0; i < nruns; i++) {
		if ((s = prep(st, sql)) == NULL)
			return STORE_ERR;
		sqlite3_bind_int64(s, 1, expires);
		sqlite3_bind_int64(s, 2, runs[i].job_id);
		sqlite3_bind_text(s, 3, daemon_id, -1, SQLITE_STATIC);
		if ((rc = step_done(s)) != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

/* Inside a transaction: returns expired leases to the queue. */
static int
requeue_expired(struct store *st, int64_t now, int *count)
{
	/* an attempt that never had an answer never reached upstream */
	static const char uncount[] = "UPDATE jobs SET attempts = attempts - 1 "
	    "WHERE state = 'running' AND lease_expires < ?1 AND attempts > 0 "
	    "AND EXISTS (SELECT 1 FROM attempts a WHERE a.job_id = jobs.id AND "
	    "a.outcome IS NULL AND a.http_status IS NULL)";
	static const char close_attempts[] = "UPDATE attempts SET "
	    "outcome = 'interrupted', ended_at = ?1, error_message = "
	    "'daemon lost its lease (crashed or stopped)', " STORESQL_LOST_COST
	    " WHERE outcome IS NULL "
	    "AND job_id IN (SELECT id FROM jobs WHERE state = 'running' "
	    "AND lease_expires < ?1)";
	static const char requeue[] = "UPDATE jobs SET state = 'queued', "
	    "lease_owner = NULL, lease_expires = NULL, updated_at = ?1 "
	    "WHERE state = 'running' AND lease_expires < ?1";
	const char *const steps[] = { uncount, close_attempts, requeue };
	sqlite3_stmt *s;
	size_t i;
	int rc;

	for (i = 0; i < 3; i++) {
		if ((s = prep(st, steps[i])) == NULL)
			return STORE_ERR;
		sqlite3_bind_int64(s, 1, now);
		if ((rc = step_done(s)) != STORE_OK)
			return rc;
	}
	*count = sqlite3_changes(st->db);
	return STORE_OK;
}

int
store_lease_round(struct store *st, const char *daemon_id, int64_t now,
    int64_t lease_ms, const struct store_run_ref *runs, size_t nruns,
    int *requeued)
{
	int rc;

	*requeued = 0;
	if ((rc = write_begin(st, STORE_OP_LEASES)) != STORE_OK)
		return rc;
	if ((rc = store_renew_leases(st, daemon_id, now + lease_ms, runs,
	    nruns)) != STORE_OK || (rc = requeue_expired(st, now,
	    requeued)) != STORE_OK) {
		store_rollback(st);
		*requeued = 0;
		return rc;
	}
	if ((rc = write_commit(st, STORE_OP_LEASES)) != STORE_OK)
		*requeued = 0;
	return rc;
}

int
store_requeue_expired(struct store *st, int64_t now, int *count)
{
	return store_lease_round(st, "", now, 0, NULL, 0, count);
}

int
store_owned_runs(struct store *st, const char *daemon_id,
    struct store_run_ref **out, size_t *n)
{
	static const char sql[] = "SELECT j.id, a.id FROM jobs j JOIN attempts a "
	    "ON a.job_id = j.id AND a.outcome IS NULL WHERE j.state = 'running' "
	    "AND j.lease_owner = ?";
	struct store_run_ref *grown;
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	if ((s = prep(st, sql)) == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, daemon_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((grown = reallocarray(*out, *n + 1, sizeof(**out))) == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		*out = grown;
		grown[*n].job_id = sqlite3_column_int64(s, 0);
		grown[(*n)++].attempt_id = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	free(*out);
	*out = NULL;
	*n = 0;
	return rc == SQLITE_NOMEM ? STORE_ERR : rc_to_store(rc);
}

/* ---- results ---- */

/* Inside a transaction: is the job still running under our lease, with
 * this attempt open? */
static int
still_ours(struct store *st, const char *daemon_id, int64_t job_id,
    int64_t attempt_id)
{
	static const char sql[] = "SELECT 1 FROM jobs j JOIN attempts a ON "
	    "a.job_id = j.id WHERE j.id = ? AND j.state = 'running' AND "
	    "j.lease_owner = ? AND a.id = ? AND a.outcome IS NULL";
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, sql)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, job_id);
	sqlite3_bind_text(s, 2, daemon_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, attempt_id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_LOST : rc_to_store(rc);
}

/* Inside a transaction: is the attempt this daemon's (ended or not)? */
static int
our_attempt(struct store *st, const char *daemon_id, int64_t job_id,
    int64_t attempt_id)
{
	static const char sql[] = "SELECT 1 FROM attempts WHERE id = ? AND "
	    "job_id = ? AND daemon_id = ?";
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, sql)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, attempt_id);
	sqlite3_bind_int64(s, 2, job_id);
	sqlite3_bind_text(s, 3, daemon_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_LOST : rc_to_store(rc);
}

static void
bind_text_or_null(sqlite3_stmt *s, int i, const char *t)
{
	if (t)
		sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static int
insert_image(struct store *st, const struct store_image *img)
{
	static const char sql[] = "INSERT INTO images (job_id, attempt_id, kind, "
	    "idx, partial_index, format, width, height, size, sha256, quality, "
	    "background, reported_size, created_at, data) VALUES "
	    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *s;

	if ((s = prep(st, sql)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, img->job_id);
	sqlite3_bind_int64(s, 2, img->attempt_id);
	sqlite3_bind_text(s, 3, img->kind == IMAGE_FINAL ? "final" : "partial",
	    -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, img->idx);
	if (img->partial_index >= 0)
		sqlite3_bind_int(s, 5, img->partial_index);
	sqlite3_bind_text(s, 6, img->format, -1, SQLITE_STATIC);
	if (img->width > 0) {
		sqlite3_bind_int(s, 7, img->width);
		sqlite3_bind_int(s, 8, img->height);
	}
	sqlite3_bind_int64(s, 9, (sqlite3_int64)img->size);
	sqlite3_bind_text(s, 10, img->sha256, -1, SQLITE_STATIC);
	bind_text_or_null(s, 11, img->quality);
	bind_text_or_null(s, 12, img->background);
	bind_text_or_null(s, 13, img->reported_size);
	sqlite3_bind_int64(s, 14, now_ms());
	sqlite3_bind_blob64(s, 15, img->data, img->size, SQLITE_STATIC);
	return step_done(s);
}

int
store_attempt_answered(struct store *st, int64_t attempt_id, int http_status,
    const char *request_id)
{
	static const char sql[] = "UPDATE attempts SET http_status = ?, "
	    "request_id = ? WHERE id = ? AND outcome IS NULL";
	sqlite3_stmt *s;

	if ((s = prep(st, sql)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int(s, 1, http_status);
	bind_text_or_null(s, 2, request_id);
	sqlite3_bind_int64(s, 3, attempt_id);
	return write_one(st, STORE_OP_ANSWERED, s);
}

int
store_commit_image(struct store *st, const char *daemon_id,
    const struct store_image *img)
{
	int rc, ours;

	st->written = 0;
	if ((rc = write_begin(st, STORE_OP_IMAGE)) != STORE_OK)
		return rc;
	if ((rc = our_attempt(st, daemon_id, img->job_id, img->attempt_id)) !=
	    STORE_OK)
		goto fail;
	ours = still_ours(st, daemon_id, img->job_id, img->attempt_id);
	if (ours != STORE_OK && ours != STORE_LOST) {
		rc = ours;
		goto fail;
	}
	if ((rc = insert_image(st, img)) != STORE_OK)
		goto fail;
	if ((rc = write_commit(st, STORE_OP_IMAGE)) != STORE_OK)
		return rc;
	st->written = 1;
	return ours;
fail:
	store_rollback(st);
	return rc;
}

static int
close_attempt(struct store *st, int64_t attempt_id,
    const struct attempt_result *r)
{
	/* status and request id may be known already (store_attempt_answered) */
	static const char sql[] = "UPDATE attempts SET ended_at = ?1, "
	    "http_status = coalesce(?2, http_status), "
	    "request_id = coalesce(?3, request_id), outcome = ?4, "
	    "error_type = ?5, error_code = ?6, error_message = ?7, "
	    "input_tokens = ?8, output_tokens = ?9, total_tokens = ?10, "
	    "usage = ?11, " STORESQL_COST_SET("?13", "?14", "?15", "?16",
	    "?17")
	    " WHERE id = ?12 AND outcome IS NULL";
	sqlite3_stmt *s;

	if ((s = prep(st, sql)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, now_ms());
	if (r->http_status > 0)
		sqlite3_bind_int(s, 2, r->http_status);
	bind_text_or_null(s, 3, r->request_id);
	bind_text_or_null(s, 4, r->outcome);
	bind_text_or_null(s, 5, r->error_type);
	bind_text_or_null(s, 6, r->error_code);
	bind_text_or_null(s, 7, r->error_message);
	sqlite3_bind_int64(s, 8, r->input_tokens);
	sqlite3_bind_int64(s, 9, r->output_tokens);
	sqlite3_bind_int64(s, 10, r->total_tokens);
	bind_text_or_null(s, 11, r->usage_json);
	sqlite3_bind_int64(s, 12, attempt_id);
	bind_text_or_null(s, 13, r->model);
	if (r->cost_status != NULL && r->cost_usd_micro >= 0)
		sqlite3_bind_int64(s, 14, r->cost_usd_micro);
	bind_text_or_null(s, 15, r->cost_status);
	if (r->hold_usd_micro > 0)
		sqlite3_bind_int64(s, 16, r->hold_usd_micro);
	if (r->hold_tokens > 0)
		sqlite3_bind_int64(s, 17, r->hold_tokens);
	return step_done(s);
}

static int
move_job(struct store *st, int64_t job_id, const struct attempt_result *r,
    enum job_next next, int64_t not_before)
{
	static const char sql[] = "UPDATE jobs SET "
	    "state = ?2, lease_owner = NULL, lease_expires = NULL, "
	    "not_before = CASE WHEN ?2 = 'retry_wait' OR ?3 > 0 THEN ?3 "
	    "ELSE not_before END, "
	    "attempts = attempts - ?4, "
	    "error_status = ?5, error_type = ?6, error_code = ?7, "
	    "error_message = ?8, error_request_id = ?9, "
	    "input_tokens = input_tokens + ?10, output_tokens = output_tokens + ?11, "
	    "total_tokens = total_tokens + ?12, updated_at = ?13, "
	    "finished_at = CASE WHEN ?2 IN ('succeeded','failed') THEN ?13 END "
	    "WHERE id = ?1";
	const char *state = job_state_name(job_next_state(next));
	sqlite3_stmt *s;

	if (state == NULL || (s = prep(st, sql)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, job_id);
	sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, not_before);
	sqlite3_bind_int(s, 4, job_next_uncounts(next));
	if (job_next_keeps_error(next)) {
		if (r->http_status > 0)
			sqlite3_bind_int(s, 5, r->http_status);
		bind_text_or_null(s, 6, r->error_type);
		bind_text_or_null(s, 7, r->error_code);
		bind_text_or_null(s, 8, r->error_message);
		bind_text_or_null(s, 9, r->request_id);
	}
	sqlite3_bind_int64(s, 10, r->input_tokens);
	sqlite3_bind_int64(s, 11, r->output_tokens);
	sqlite3_bind_int64(s, 12, r->total_tokens);
	sqlite3_bind_int64(s, 13, now_ms());
	return step_done(s);
}

int
store_finish_attempt(struct store *st, const char *daemon_id, int64_t job_id,
    int64_t attempt_id, const struct attempt_result *res, enum job_next next,
    int64_t not_before)
{
	int rc, ours, closed;

	st->written = 0;
	if ((rc = write_begin(st, STORE_OP_FINISH)) != STORE_OK)
		return rc;
	if ((ours = still_ours(st, daemon_id, job_id, attempt_id)) < 0 &&
	    ours != STORE_LOST) {
		rc = ours;
		goto fail;
	}
	if ((rc = close_attempt(st, attempt_id, res)) != STORE_OK)
		goto fail;
	closed = sqlite3_changes(st->db);
	if (ours == STORE_OK &&
	    (rc = move_job(st, job_id, res, next, not_before)) != STORE_OK)
		goto fail;
	if ((rc = write_commit(st, STORE_OP_FINISH)) != STORE_OK)
		return rc;
	st->written = closed;
	return ours;
fail:
	store_rollback(st);
	return rc;
}
