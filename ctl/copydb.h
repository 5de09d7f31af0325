/* copydb.h: one side of imgeditctl copy, any backend's database (rows.h):
 * opened and checked, read by key range, written a row at a time inside one
 * transaction per batch. The SQL is copyplan.h's; values are parameters. */
#ifndef IMGEDIT_COPYDB_H
#define IMGEDIT_COPYDB_H

#include <stddef.h>
#include <stdint.h>

#include "copyplan.h"

struct cdb;

/* Rows a SELECT returned: n rows of w values each. Owns every value's
 * bytes: crows_free. */
struct crows {
	struct cval *v;
	size_t n, cap;
	int w;
	int64_t bytes;   /* bytes of the values' text and blobs */
};
#define CROW(r, i) (&(r)->v[(size_t)(i) * (size_t)(r)->w])
void crows_free(struct crows *r);

/* Opens where (a path, or a postgresql:// URI) as the source (never
 * written; must have this build's schema version) or, with dst set, as the
 * destination (created if missing and migrated, as init does). Returns 0
 * with *out (caller owns: cdb_close), or -1 with the reason in err. */
int cdb_open(const char *where, int dst, struct cdb **out, char *err,
    size_t errlen);
void cdb_close(struct cdb *db);
/* A name for messages: the path, or the URI without its password. */
const char *cdb_name(const struct cdb *db);
/* The last call's error. */
const char *cdb_err(const struct cdb *db);

/* Jobs in state running, and daemons not stopped whose heartbeat is at
 * most fresh_ms old at now (epoch ms: catalog_live_daemons). Returns 0 or
 * -1. */
int cdb_in_use(struct cdb *db, int64_t now, int64_t fresh_ms,
    int64_t *running, int *daemons);

/* Runs copyplan_select(t, what, where) with keys (copyplan_nparams
 * values) and, for CQ_ROWS and CQ_SIZES, limit, appending the rows to out
 * (out->w is set). A value the row cannot hold (text in an integer column,
 * a NUL byte in text) fails with the row's key named. Returns 0 or -1. */
int cdb_select(struct cdb *db, const struct ctable *t, enum cq_what what,
    enum cq_where where, const struct cval *keys, int64_t limit,
    struct crows *out);
/* A count (CQ_COUNT) into *n. Returns 0 or -1. */
int cdb_count(struct cdb *db, const struct ctable *t, enum cq_where where,
    const struct cval *keys, int64_t *n);

/* A write transaction (SQLite: BEGIN IMMEDIATE). Return 0 or -1. */
int cdb_begin(struct cdb *db);
int cdb_commit(struct cdb *db);
void cdb_rollback(struct cdb *db);

/* Inserts row (t->ncols values, the key included). Returns 0 or -1. */
int cdb_insert(struct cdb *db, const struct ctable *t,
    const struct cval *row);
/* Deletes the events of jobs lo..hi: inside the transaction that inserted
 * those jobs, the rows the jobs_created trigger just wrote for them (their
 * history is copied from the source, as it was). Returns 0 or -1. */
int cdb_drop_events(struct cdb *db, int64_t lo, int64_t hi);
/* t's id sequence (where the backend keeps one) goes on after id, so rows
 * inserted later without an id get new ones. Returns 0 or -1. */
int cdb_follow(struct cdb *db, const struct ctable *t, int64_t id);

/* The highest job id ever given, pruned jobs' included, 0 if none, into
 * *mark. */
int cdb_jobs_mark(struct cdb *db, int64_t *mark);
/* Makes DST give job ids after mark, as SRC would: pruned jobs' ids are
 * never given again. Never lowers it. Returns 0 or -1. */
int cdb_raise_jobs_mark(struct cdb *db, int64_t mark);

#endif
