/* sqlite/backend.c: the SQLite backend's method tables (backend.h): one
 * file, WAL, a writer thread for the daemon's queue. */
#include <stddef.h>

#include "backend.h"
#include "queue.h"

const struct backend backend_sqlite = {
	.name = "sqlite",
	/* synchronous row operations (rows.h) */
	.rows = &sqlite_rows,
	/* the daemon's asynchronous queue (storeq.h) */
	.queue = &sqlite_queue,
};
