/* pg/queue.h: the daemon's store queue on PostgreSQL (storeq.h's requests
 * run on the loop through pgstore.c); storeq.c hands requests to it. */
#ifndef IMGEDIT_STOREQ_PG_H
#define IMGEDIT_STOREQ_PG_H

#include <event2/event.h>

#include "storeq.h"

/*
 * The same contract as the SQLite writer, without a thread: the ordered
 * requests (claim, answered, image, finish) go one at a time, each tried
 * again until it commits or the job is no longer ours, when it meets a
 * lock (lock_timeout), a lost connection, a full disk or a serialization
 * failure; the others go at once and are tried once. A write whose
 * connection went before its answer may have committed: tried again, an
 * image already there counts as stored (its unique key), a finish finds
 * its attempt closed (STORE_LOST). The connection reopens with backoff;
 * the statements and the LISTEN come back with it.
 */
struct pgq;

/* Connects to uri (copied; opening goes on in the background) for
 * daemon_id on host, pid (the daemons row). Returns NULL when out of
 * memory. Caller owns: pgq_free. */
struct pgq *pgq_new(struct event_base *base, const char *uri,
    const char *daemon_id, const char *host, int pid);

/* As storeq_submit: done runs on the loop, never within this call. */
void pgq_submit(struct pgq *q, struct sq_req *req);
void pgq_health(struct pgq *q, struct storeq_health *h);
/* fn(arg) when jobs were inserted or requeued (NOTIFY), or the connection
 * came back (what was said meanwhile was not heard). */
void pgq_on_change(struct pgq *q, void (*fn)(void *), void *arg);

/* Runs the loop until what is queued has its answer (at most a few
 * seconds), marks the daemons row stopped, then frees q: requests still
 * waiting complete with STORE_ERR. Not from within the loop's callbacks. */
void pgq_free(struct pgq *q);

#endif
