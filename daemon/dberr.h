/* dberr.h: the neutral classes of a database error, the same on every
 * backend: only a backend's own folder reads SQLite's or libpq's codes. */
#ifndef IMGEDIT_DBERR_H
#define IMGEDIT_DBERR_H

enum db_err {
	DBE_OK = 0,
	DBE_LOCK,        /* another holds a lock: try again (SQLITE_BUSY, 55P03) */
	DBE_FULL,        /* no room: the disk, a quota (SQLITE_FULL, 53100) */
	DBE_IO,          /* an I/O error (SQLITE_IOERR, 58030) */
	DBE_LOST,        /* the connection went away (PostgreSQL) */
	DBE_CONSTRAINT,  /* a row broke a constraint: not worth a retry */
	DBE_OTHER,       /* anything else (corrupt, a bug): not worth a retry */
	DBE_COUNT
};

/* The class's name for logs and status lines ("lock", "full", ...).
 * Static storage. */
const char *db_err_name(enum db_err e);

/* 1 when the same write may pass if tried again (lock, full, io, lost). */
int db_err_transient(enum db_err e);

#endif
