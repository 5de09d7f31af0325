/* sqlite/queue.h: the SQLite backend's store queue (queue_backend.h): a
 * writer thread on its own connection, results back through an eventfd. */
#ifndef IMGEDIT_SQLITE_QUEUE_H
#define IMGEDIT_SQLITE_QUEUE_H

#include "queue_backend.h"

/*
 * The thread runs the ordered requests one at a time, each tried until it
 * commits or the job is no longer ours; while one waits (a lock in short
 * busy-handler turns, a fault with a growing pause) it runs the side
 * requests that come in. Opening creates and migrates the file and writes
 * the daemons row; freeing runs what is queued, marks the row stopped and
 * closes the file. WAL checkpoints run as steps of their own, between
 * requests (store_defer_checkpoints).
 */
extern const struct queue_methods sqlite_queue;

#endif
