/* pg/backend.c: the PostgreSQL backend's method tables (backend.h): libpq,
 * asynchronous on the daemon's loop, FOR UPDATE SKIP LOCKED claims. */
#include <stddef.h>

#include "backend.h"
#include "queue.h"

const struct backend backend_postgres = {
	.name = "postgresql",
	/* synchronous row operations (rows.h) */
	.rows = &pg_rows,
	/* the daemon's asynchronous queue (storeq.h) */
	.queue = &pg_queue,
};
