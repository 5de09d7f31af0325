/* backend.h: the store's one seam, in the manner of sqlite3_io_methods or
 * OpenSMTPD's queue_backend: a table of methods per backend, chosen once. */
#ifndef IMGEDIT_BACKEND_H
#define IMGEDIT_BACKEND_H

/*
 * Each backend lives in its own folder (daemon/sqlite/, daemon/pg/) and is
 * the only code that includes its client library's header. It fills one
 * struct backend with two method tables:
 *
 *   rows   synchronous row operations (rows.h): begin/commit/rollback,
 *          prepared statements with bound values, step, columns, errors
 *          as neutral classes (dberr.h), and a small dialect table. The
 *          catalog (imgeditctl's verbs) and copy are written once over it.
 *   queue  asynchronous queue operations (storeq.h): the daemon's claim,
 *          answered, image, finish, poll, lease round, heartbeat, counts,
 *          each with a completion on the daemon's loop.
 *
 * Nothing outside backend.c and the backends' folders asks which backend a
 * database is: callers hold a const struct backend * and call through it.
 * To add a backend: a folder with its rows and queue methods, one struct
 * backend, and one line in backend_for().
 */
struct rows_methods;
struct queue_methods;

struct backend {
	const char *name;                    /* "sqlite", "postgresql" */
	const struct rows_methods *rows;     /* rows.h */
	const struct queue_methods *queue;   /* storeq.h */
};

/* The row methods of each backend (rows.h). */
extern const struct rows_methods sqlite_rows;  /* daemon/sqlite/rows.c */
extern const struct rows_methods pg_rows;      /* daemon/pg/rows.c */

extern const struct backend backend_sqlite;    /* daemon/sqlite/ */
extern const struct backend backend_postgres;  /* daemon/pg/ */

/* The backend that uri names: a postgresql:// or postgres:// URI is
 * PostgreSQL, all else an SQLite file path (dbkind.h's rule). Never NULL;
 * static storage. */
const struct backend *backend_for(const char *uri);

#endif
