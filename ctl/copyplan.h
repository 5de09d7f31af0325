/* copyplan.h: the pure parts of imgeditctl copy: which tables and columns
 * move in which order, the SQL that reads and writes them on either
 * backend, how many rows a batch takes, checking a row's bytes, comparing
 * rows. No I/O here: copydb.h runs the SQL, copy.c the verb. */
#ifndef IMGEDIT_COPYPLAN_H
#define IMGEDIT_COPYPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "rows.h"

/* How a column's values travel: INT as int64, TEXT and JSON as text (JSON
 * is jsonb on PostgreSQL, read back as its text), BLOB as bytes. */
enum ccol_type { CC_INT, CC_TEXT, CC_JSON, CC_BLOB };

struct ccol {
	const char *name;
	enum ccol_type type;
};

#define COPY_KEY_MAX 3

/* A table that is copied: rows move in key order, so a DST that holds a
 * prefix of SRC's rows resumes after its last key. */
struct ctable {
	const char *name;
	const struct ccol *cols;
	int ncols;
	int nkey;        /* cols[0..nkey) are the key (the primary key) */
	int bytes;       /* index of the byte column, -1 if none */
	int sha;         /* index of the bytes' hex sha256 column, -1 if none */
	int size;        /* index of the bytes' size column, -1 if none */
	int identity;    /* key is an id from a sequence on PostgreSQL */
	int text_key;    /* the key is text: compared bytewise (COLLATE "C") */
};

/* The tables in the order they are copied (references point backwards):
 * blobs, jobs, inputs, attempts, images, events, control. daemons is not
 * copied: its rows describe processes of the SRC side. */
extern const struct ctable copy_tables[];
extern const size_t copy_ntables;

/* The table named name, or NULL. */
const struct ctable *copyplan_table(const char *name);

/* One value of a row: null, an int64, or bytes (text is NUL-terminated
 * past len; p is owned by whoever filled the row). */
struct cval {
	int null;
	int64_t i;
	unsigned char *p;
	size_t len;
};

/* What a SELECT returns: the rows' columns; the key and the row's size
 * (planning a batch: the bytes of all its text, JSON and byte columns, as
 * the dialect measures them); a count; the key of the last row. */
enum cq_what { CQ_ROWS, CQ_SIZES, CQ_COUNT, CQ_LAST };
/* Which rows: all; key > lo; key <= hi; lo < key <= hi; key = k. The
 * parameters are the keys in that order (nkey each), then the limit. */
enum cq_where { CW_ALL, CW_AFTER, CW_UPTO, CW_RANGE, CW_AT };

/* The columns a CQ_* query returns, and the type of column i of them. */
int copyplan_width(const struct ctable *t, enum cq_what what);
enum ccol_type copyplan_type(const struct ctable *t, enum cq_what what,
    int i);
/* Key parameters a CW_* takes (the limit, if any, comes after them). */
int copyplan_nparams(const struct ctable *t, enum cq_where where);

/* Writes the SELECT into buf, with ? parameters (rows.h), in the dialect
 * sql (rows_methods.sql: how sizes are measured), text keys ordered with
 * bytewise appended (the dialect's rows_methods.bytewise).
 * limit: CQ_ROWS and CQ_SIZES end with "LIMIT" and one more parameter
 * (CQ_LAST takes 1 row, CQ_COUNT all). Returns 0, or -1 if buf is too
 * small. */
int copyplan_select(char *buf, size_t len, const struct ctable *t,
    enum cq_what what, enum cq_where where, int limit, enum rows_sql sql,
    const char *bytewise);
/* The INSERT of one row (every column, explicit key). Returns 0 or -1. */
int copyplan_insert(char *buf, size_t len, const struct ctable *t);

/* How many of the n next rows, of byte sizes sizes[0..n), the batch takes:
 * at most max_rows, and no more once max_bytes are reached; always at
 * least one row when n > 0, however big. */
size_t copyplan_batch(const int64_t *sizes, size_t n, size_t max_rows,
    int64_t max_bytes);

/* Checks a row's bytes against its own columns: the sha256 of the bytes
 * equals the row's sha256 (lowercase hex), their length its size. Rows
 * without bytes (inputs that use a blob) pass. Returns 0, or -1 with the
 * reason in why. */
int copyplan_verify(const struct ctable *t, const struct cval *row,
    char *why, size_t whylen);

/* The first column where rows a and b (t->ncols values each) differ, or
 * -1 when they are the same; JSON columns compare as JSON values. */
int copyplan_diff(const struct ctable *t, const struct cval *a,
    const struct cval *b);

/* "id 42" or "job_id 3, role image, ordinal 0": the row's key, for
 * messages. Returns buf. */
const char *copyplan_keydesc(const struct ctable *t, const struct cval *row,
    char *buf, size_t len);

/* Parses "TABLE:N" (IMGEDIT_COPY_STOP, a test seam) into the table's index
 * and N >= 1. Returns 0 or -1. */
int copyplan_parse_stop(const char *s, size_t *table, long *nth);

#endif
