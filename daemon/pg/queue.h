/* pg/queue.h: the PostgreSQL backend's store queue (queue_backend.h): the
 * requests run on the loop through pgstore.c; no thread. */
#ifndef IMGEDIT_PG_QUEUE_H
#define IMGEDIT_PG_QUEUE_H

#include "queue_backend.h"

/*
 * The same contract as the SQLite writer, without a thread: the ordered
 * requests (claim, answered, image, finish) go one at a time, each tried
 * again until it commits or the job is no longer ours, when it meets a
 * lock (lock_timeout), a lost connection, a full disk or a serialization
 * failure; the others go at once and are tried once. A write whose
 * connection went before its answer may have committed: tried again, an
 * image already there counts as stored (its unique key), a finish finds
 * its attempt closed (STORE_LOST). The connection reopens with backoff;
 * the statements and the LISTEN come back with it. Opening migrates on a
 * blocking connection of its own first; the daemons row is written at the
 * first heartbeat and marked stopped when the queue is freed, which runs
 * the loop until what is queued has its answer (at most a few seconds).
 */
extern const struct queue_methods pg_queue;

#endif
