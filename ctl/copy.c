/* copy.c: imgeditctl copy SRC DST: a whole queue from a SQLite file into
 * PostgreSQL or back, in batches, resumable, each row's bytes verified. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "copydb.h"
#include "copyplan.h"
#include "ctl.h"
#include "progress.h"
#include "util.h"

#define COPY_BATCH_ROWS 200
/* Bytes a batch reads at most, of any table (its text, JSON and bytes; one
 * row over it goes alone): the copy holds one batch at a time. */
#define COPY_BATCH_BYTES (32 << 20)
/* A daemon whose heartbeat is newer than this is alive (imgeditd's
 * heartbeat can be set up to 60 s). */
#define COPY_FRESH_MS 60000
#define NT 16

static const char copy_help[] =
    "usage: imgeditctl copy SRC DST [--batch N] [--force] [--json]\n"
    "\n"
    "Copies a whole queue (jobs, inputs, blobs, attempts, images, events\n"
    "and the pause switch) from a SQLite file into a PostgreSQL database\n"
    "(postgresql://...) or back, keeping every id. DST is created or\n"
    "migrated first (as init). Rows go in batches, each one transaction on\n"
    "DST; every image's and blob's bytes are checked against their sha256\n"
    "and size as they are copied. Interrupted, the same command goes on\n"
    "where it stopped; run on a finished copy, it copies nothing.\n"
    "Daemon rows are not copied (they describe the processes on SRC).\n"
    "\n"
    "Options:\n"
    "      --batch N    rows per batch (default 200; a batch also stops\n"
    "                   at 32 MiB of data)\n"
    "      --force      copy even while SRC has running jobs or a live\n"
    "                   daemon (or DST a live daemon): what they write\n"
    "                   meanwhile may be missed\n"
    "      --json       print a JSON summary\n"
    "\n"
    "Exit status: 0 copied (or nothing to copy), 1 failed (a checksum, a\n"
    "queue in use, DST holding another queue), 2 usage, 3 a database\n"
    "cannot be opened.\n";

enum { OPT_BATCH = 0x200, OPT_FORCE };

/* A table's resume point: the key of the last row DST holds. */
struct ckey {
	struct cval v[COPY_KEY_MAX];
	int set;
};

struct copy {
	const char *src_arg, *dst_arg;
	struct cdb *src, *dst;
	size_t batch;
	int force, json;
	struct ckey at[NT];
	int64_t rows[NT], copied[NT], todo, bytes;
	int64_t started;
	struct progress prog;
	size_t stop_table;         /* IMGEDIT_COPY_STOP: a test seam */
	long stop_nth, batches;
};

static void
ckey_free(struct ckey *k)
{
	int i;

	for (i = 0; i < COPY_KEY_MAX; i++)
		free(k->v[i].p);
	memset(k, 0, sizeof(*k));
}

/* The key of row (its first nkey values), copied. Returns 0 or -1. */
static int
ckey_set(struct ckey *k, const struct ctable *t, const struct cval *row)
{
	int i;

	ckey_free(k);
	for (i = 0; i < t->nkey; i++) {
		k->v[i] = row[i];
		k->v[i].p = NULL;
		if (!row[i].null && row[i].p != NULL &&
		    (k->v[i].p = malloc(row[i].len + 1)) == NULL)
			return -1;
		if (k->v[i].p != NULL) {
			memcpy(k->v[i].p, row[i].p, row[i].len);
			k->v[i].p[row[i].len] = '\0';
		}
	}
	k->set = 1;
	return 0;
}

static int
parse_copy(struct ctl *c, struct copy *cp, int argc, char **argv, int *done)
{
	static const struct option opts[] = {
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "force", no_argument, NULL, OPT_FORCE },
		CTL_COMMON_OPTS, { 0, 0, 0, 0 },
	};
	int opt, rc;
	long n;

	cp->batch = COPY_BATCH_ROWS;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (opt == OPT_BATCH) {
			if (parse_long(optarg, 1, 100000, &n) == -1)
				return *done = 1, ctl_usage(copy_help, "--batch: "
				    "a number of rows from 1 to 100000, not '%s'",
				    optarg);
			cp->batch = (size_t)n;
		} else if (opt == OPT_FORCE)
			cp->force = 1;
		else if ((rc = ctl_common_opt(c, opt, argv, copy_help, done)) !=
		    CTL_OK || *done)
			return rc == -1 ? (*done = 1, ctl_usage(copy_help, NULL)) :
			    rc;
	}
	cp->json = c->json;
	if (argc - optind != 2)
		return *done = 1, ctl_usage(copy_help, "copy takes SRC and DST");
	cp->src_arg = argv[optind];
	cp->dst_arg = argv[optind + 1];
	if (backend_for(cp->src_arg) == backend_for(cp->dst_arg))
		return *done = 1, ctl_usage(copy_help, "copy goes between SQLite "
		    "and PostgreSQL, one of each; to copy a SQLite file use "
		    "sqlite3 SRC \".backup DST\", a PostgreSQL database "
		    "pg_dump");
	return CTL_OK;
}

/* Test seam: IMGEDIT_COPY_STOP=TABLE:N stops the process (SIGSTOP) before
 * it commits its Nth batch of TABLE, so a test can SIGKILL it there. */
static void
stop_seam_init(struct copy *cp)
{
	const char *s = getenv("IMGEDIT_COPY_STOP");

	cp->stop_nth = 0;
	if (s != NULL && copyplan_parse_stop(s, &cp->stop_table,
	    &cp->stop_nth) == -1)
		cp->stop_nth = 0;
}

static int
open_both(struct copy *cp)
{
	char err[1024];

	if (cdb_open(cp->src_arg, 0, &cp->src, err, sizeof(err)) == -1) {
		ctl_err("SRC: %s", err);
		return CTL_DB;
	}
	if (cdb_open(cp->dst_arg, 1, &cp->dst, err, sizeof(err)) == -1) {
		ctl_err("DST: %s", err);
		return CTL_DB;
	}
	return CTL_OK;
}

/* Refuses a queue that is being written: what it writes meanwhile would
 * be missed, or (a daemon on DST) would collide with the copied rows. */
static int
check_idle(struct copy *cp)
{
	int64_t now = now_ms(), running, dr;
	int daemons, dd;

	if (cdb_in_use(cp->src, now, COPY_FRESH_MS, &running, &daemons) == -1 ||
	    cdb_in_use(cp->dst, now, COPY_FRESH_MS, &dr, &dd) == -1) {
		ctl_err("%s", cdb_err(cp->src)[0] ? cdb_err(cp->src) :
		    cdb_err(cp->dst));
		return CTL_FAIL;
	}
	if (cp->force || (running == 0 && daemons == 0 && dd == 0))
		return CTL_OK;
	if (running > 0 || daemons > 0)
		ctl_err("SRC is in use: %lld job(s) running, %d daemon(s) with "
		    "a heartbeat in the last %d s: copying a live queue misses "
		    "what it writes meanwhile. Stop imgeditd (systemctl stop "
		    "imgeditd), or give --force to copy it as it is (running "
		    "jobs go back to the queue when their lease expires)",
		    (long long)running, daemons, COPY_FRESH_MS / 1000);
	else
		ctl_err("DST is in use: %d daemon(s) with a heartbeat in the "
		    "last %d s would run the jobs as they arrive: stop them, or "
		    "give --force", dd, COPY_FRESH_MS / 1000);
	return CTL_FAIL;
}

/* The row at key k on db, into out (0 or 1 row). */
static int
row_at(struct cdb *db, const struct ctable *t, const struct ckey *k,
    struct crows *out)
{
	return cdb_select(db, t, CQ_ROWS, CW_AT, k->v, 1, out);
}

/* Whether DST's rows of t are SRC's first ones (a copy stopped there):
 * as many as SRC has up to DST's last key, and that last row the same. */
static int
check_prefix(struct copy *cp, const struct ctable *t, struct ckey *k,
    int64_t have)
{
	struct crows a = { 0 }, b = { 0 };
	int64_t src_upto;
	char key[256];
	int col, rc = CTL_FAIL;

	if (cdb_count(cp->src, t, CW_UPTO, k->v, &src_upto) == -1 ||
	    row_at(cp->src, t, k, &a) == -1 || row_at(cp->dst, t, k, &b) == -1) {
		ctl_err("%s", cdb_err(cp->src)[0] ? cdb_err(cp->src) :
		    cdb_err(cp->dst));
		goto out;
	}
	copyplan_keydesc(t, k->v, key, sizeof(key));
	if (a.n == 0 || b.n == 0)
		ctl_err("DST holds a different queue: %s %s is not in SRC",
		    t->name, key);
	else if ((col = copyplan_diff(t, a.v, b.v)) != -1)
		ctl_err("DST holds a different queue: %s %s differs (column %s)",
		    t->name, key, t->cols[col].name);
	else if (src_upto != have)
		ctl_err("DST holds a different queue: %s has %lld rows up to %s, "
		    "SRC %lld", t->name, (long long)have, key,
		    (long long)src_upto);
	else
		rc = CTL_OK;
out:
	crows_free(&a);
	crows_free(&b);
	return rc;
}

/* Where each table resumes, and how many rows are left. */
static int
plan(struct copy *cp)
{
	struct crows last = { 0 };
	int64_t have, left;
	size_t i;
	int rc;

	for (i = 0; i < copy_ntables; i++) {
		const struct ctable *t = &copy_tables[i];

		if (cdb_select(cp->dst, t, CQ_LAST, CW_ALL, NULL, 0, &last) ==
		    -1 || cdb_count(cp->dst, t, CW_ALL, NULL, &have) == -1) {
			ctl_err("%s", cdb_err(cp->dst));
			return CTL_FAIL;
		}
		if (last.n > 0 && ckey_set(&cp->at[i], t, last.v) == -1) {
			crows_free(&last);
			ctl_err("out of memory");
			return CTL_FAIL;
		}
		crows_free(&last);
		if (cp->at[i].set && (rc = check_prefix(cp, t, &cp->at[i],
		    have)) != CTL_OK)
			return rc;
		if (cdb_count(cp->src, t, cp->at[i].set ? CW_AFTER : CW_ALL,
		    cp->at[i].v, &left) == -1) {
			ctl_err("%s", cdb_err(cp->src));
			return CTL_FAIL;
		}
		cp->rows[i] = have + left;
		cp->todo += left;
	}
	return CTL_OK;
}

/* The sizes of a table's next rows, read once (up to --batch of them at a
 * time) and taken batch by batch: a row is measured once, however many
 * batches its neighbours' sizes are planned in. */
struct ahead {
	struct crows sz;       /* key and size of each next row */
	size_t at;             /* the first of them not yet taken */
};

/* The next batch of t after its resume point k: by count and by bytes
 * (the rows' sizes are read first, then only the rows that fit). */
static int
fetch_batch(struct copy *cp, const struct ctable *t, struct ckey *k,
    struct ahead *ah, struct crows *out)
{
	struct cval keys[2 * COPY_KEY_MAX];
	int64_t *sizes;
	size_t i, n, left;
	int rc;

	out->w = copyplan_width(t, CQ_ROWS);
	if (ah->at >= ah->sz.n) {
		crows_free(&ah->sz);
		ah->at = 0;
		if (cdb_select(cp->src, t, CQ_SIZES, k->set ? CW_AFTER :
		    CW_ALL, k->v, (int64_t)cp->batch, &ah->sz) == -1)
			return -1;
		if (ah->sz.n == 0)
			return 0;
	}
	left = ah->sz.n - ah->at;
	if ((sizes = calloc(left, sizeof(*sizes))) == NULL)
		return -1;
	for (i = 0; i < left; i++)
		sizes[i] = CROW(&ah->sz, ah->at + i)[t->nkey].i;
	n = copyplan_batch(sizes, left, cp->batch, COPY_BATCH_BYTES);
	free(sizes);
	memcpy(keys, k->v, sizeof(*keys) * (size_t)t->nkey);
	memcpy(keys + (k->set ? t->nkey : 0), CROW(&ah->sz, ah->at + n - 1),
	    sizeof(*keys) * (size_t)t->nkey);
	rc = cdb_select(cp->src, t, CQ_ROWS, k->set ? CW_RANGE : CW_UPTO, keys,
	    (int64_t)n, out);
	ah->at += n;
	return rc;
}

/* Writes one batch in one transaction on DST, each row's bytes checked
 * first; on any error nothing of it stays. Returns 0 or -1 (reported). */
static int
write_batch(struct copy *cp, const struct ctable *t, const struct crows *b)
{
	const struct cval *first = CROW(b, 0), *last = CROW(b, b->n - 1);
	char why[256], key[256];
	size_t i;

	if (cdb_begin(cp->dst) == -1)
		goto fail_db;
	for (i = 0; i < b->n; i++) {
		if (copyplan_verify(t, CROW(b, i), why, sizeof(why)) == -1) {
			progress_abort(&cp->prog);
			ctl_err("%s %s: %s: not copied, nor the rest of its batch",
			    t->name, copyplan_keydesc(t, CROW(b, i), key,
			    sizeof(key)), why);
			goto fail;
		}
		if (cdb_insert(cp->dst, t, CROW(b, i)) == -1)
			goto fail_db;
	}
	if (strcmp(t->name, "jobs") == 0 &&
	    cdb_drop_events(cp->dst, first[0].i, last[0].i) == -1)
		goto fail_db;
	if (t->identity && cdb_follow(cp->dst, t, last[0].i) == -1)
		goto fail_db;
	if (cp->stop_nth > 0 && t == &copy_tables[cp->stop_table] &&
	    ++cp->batches == cp->stop_nth)
		raise(SIGSTOP);
	if (cdb_commit(cp->dst) == -1)
		goto fail_db;
	return 0;
fail_db:
	progress_abort(&cp->prog);
	ctl_err("%s", cdb_err(cp->dst));
fail:
	cdb_rollback(cp->dst);
	return -1;
}

static int
copy_table(struct copy *cp, size_t ti)
{
	const struct ctable *t = &copy_tables[ti];
	struct ahead ah = { { 0 }, 0 };
	struct crows b = { 0 };
	int rc = CTL_FAIL;

	for (;;) {
		if (fetch_batch(cp, t, &cp->at[ti], &ah, &b) == -1) {
			progress_abort(&cp->prog);
			ctl_err("%s", cdb_err(cp->src));
			goto out;
		}
		if (b.n == 0)
			break;
		if (write_batch(cp, t, &b) == -1)
			goto out;
		if (ckey_set(&cp->at[ti], t, CROW(&b, b.n - 1)) == -1) {
			ctl_err("out of memory");
			goto out;
		}
		cp->copied[ti] += (int64_t)b.n;
		cp->bytes += b.bytes;
		progress_add(&cp->prog, t->name, b.n);
		crows_free(&b);
	}
	rc = CTL_OK;
out:
	crows_free(&ah.sz);
	crows_free(&b);
	return rc;
}

/* Job ids SRC gave to jobs since pruned are not given again by DST. */
static int
follow_jobs_mark(struct copy *cp)
{
	int64_t mark;

	if (cdb_jobs_mark(cp->src, &mark) == -1) {
		ctl_err("%s", cdb_err(cp->src));
		return CTL_FAIL;
	}
	if (mark > 0 && cdb_raise_jobs_mark(cp->dst, mark) == -1) {
		ctl_err("%s", cdb_err(cp->dst));
		return CTL_FAIL;
	}
	return CTL_OK;
}

static int
print_summary(struct copy *cp)
{
	double secs = (double)(mono_ms() - cp->started) / 1000;
	char size[32];
	json_t *tables;
	size_t i;
	int64_t total = 0;

	if (cp->json) {
		tables = json_object();
		for (i = 0; i < copy_ntables; i++)
			json_object_set_new(tables, copy_tables[i].name,
			    json_pack("{s:I,s:I}", "copied",
			    (json_int_t)cp->copied[i], "rows",
			    (json_int_t)cp->rows[i]));
		return print_json_new(json_pack("{s:s,s:s,s:o,s:I,s:f,s:[s]}",
		    "src", cdb_name(cp->src), "dst", cdb_name(cp->dst),
		    "tables", tables, "bytes", (json_int_t)cp->bytes,
		    "seconds", secs, "not_copied", "daemons"));
	}
	for (i = 0; i < copy_ntables; i++)
		total += cp->rows[i];
	if (cp->todo == 0) {
		printf("nothing to copy: %s already holds all %lld rows of %s\n",
		    cdb_name(cp->dst), (long long)total, cdb_name(cp->src));
		return CTL_OK;
	}
	fmt_bytes(cp->bytes, size, sizeof(size));
	printf("copied %s to %s:", cdb_name(cp->src), cdb_name(cp->dst));
	for (i = 0; i < copy_ntables; i++)
		printf("%s %s %lld", i ? "," : "", copy_tables[i].name,
		    (long long)cp->copied[i]);
	printf("; %s in %.1f s\n", size, secs);
	return CTL_OK;
}

static void
copy_free(struct copy *cp)
{
	size_t i;

	for (i = 0; i < NT; i++)
		ckey_free(&cp->at[i]);
	cdb_close(cp->src);
	cdb_close(cp->dst);
}

int
verb_copy(struct ctl *c, int argc, char **argv)
{
	struct copy cp;
	size_t i;
	int rc, done = 0;

	memset(&cp, 0, sizeof(cp));
	cp.started = mono_ms();
	if ((rc = parse_copy(c, &cp, argc, argv, &done)) != CTL_OK || done)
		return rc;
	stop_seam_init(&cp);
	if ((rc = open_both(&cp)) != CTL_OK || (rc = check_idle(&cp)) != CTL_OK ||
	    (rc = plan(&cp)) != CTL_OK)
		goto out;
	progress_start(&cp.prog, "copying", (size_t)cp.todo);
	for (i = 0; i < copy_ntables; i++)
		if ((rc = copy_table(&cp, i)) != CTL_OK)
			goto out;
	progress_abort(&cp.prog);
	if ((rc = follow_jobs_mark(&cp)) != CTL_OK)
		goto out;
	rc = print_summary(&cp);
out:
	copy_free(&cp);
	return rc;
}
