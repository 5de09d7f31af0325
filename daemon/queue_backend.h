/* queue_backend.h: the store queue's seam, the backends' side: the methods
 * a backend fills for storeq.c, and what storeq.c does for every backend. */
#ifndef IMGEDIT_QUEUE_BACKEND_H
#define IMGEDIT_QUEUE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "storeq.h"

/*
 * storeq.c is the front: it holds the requests' names and memory, the
 * count of requests out, the order of their results and the health
 * accounting (locks, faults, a lost connection), once. A backend
 * (backend.h's .queue) runs the requests by storeq.h's rules, on a thread
 * of its own (SQLite) or on the loop (PostgreSQL), and hands each back
 * with storeq_done.
 */
struct queue_methods {
	/* Opens p->uri for the front q: migrates it and takes this daemon's
	 * row in daemons; writes the database's name for the log into name.
	 * Logs why it could not. Returns the backend's queue (the front
	 * owns it: .free) or NULL. */
	void *(*open)(struct storeq *q, struct event_base *base,
	    const struct storeq_params *p, char *name, size_t namelen);
	/* Takes r, to hand back with storeq_done. A claim's want and a
	 * count's nstates are within storeq.h's bounds. */
	void (*submit)(void *be, struct sq_req *r);
	/* fn(arg) on the loop when the database says jobs were queued or
	 * requeued; NULL when the backend hears nothing (its poll sees it). */
	void (*on_change)(void *be, void (*fn)(void *), void *arg);
	/* Runs what is queued (or fails it) and hands it back, marks the
	 * daemons row stopped, closes the database and frees be. What the
	 * callbacks submit meanwhile fails at once. */
	void (*free)(void *be);
};

/* r is done: its callback runs on the loop, never within this call.
 * Any thread. */
void storeq_done(struct storeq *q, struct sq_req *r);

/* 1 for the requests that run in order and are retried (claim,
 * answered, image, finish); 0 for the others. */
int sq_op_ordered(enum sq_op op);

/* Requests submitted and not yet handed back. Loop only. */
int storeq_out(const struct storeq *q);

/* Fills r->sha256 from an SQ_IMAGE's bytes (once; a retried request keeps
 * it) and points r->u.image.sha256 at it. Any thread. */
void sq_req_hash_image(struct sq_req *r);

/* One ordered write's trouble, from its first failed try to its end. */
struct sq_trouble {
	int64_t since;  /* mono ms of the first failure, 0 = none yet */
	int64_t wait;   /* the next pause after a fault */
	int tries;      /* failed tries */
	int said;       /* store_waiting was logged */
};

/* A try of r failed with r->err (transient) and r->error; the try began
 * at began (mono ms: a lock's wait counts from then). Counts it in the
 * health and says store_waiting once (for a lock, only after a second).
 * Returns how long to pause before the next try after a fault (50 ms,
 * doubling to 2 s); a lock's pause is the backend's. Any thread. */
int64_t storeq_trouble(struct storeq *q, struct sq_trouble *t,
    const struct sq_req *r, int64_t began);

/* r is done (committed or given up): after trouble the health is cleared
 * and store_resumed said; t is reset. Any thread. */
void storeq_trouble_end(struct storeq *q, struct sq_trouble *t,
    const struct sq_req *r);

/* The connection to the database went (why: text) / came back. The
 * health shows a fault from then until it is back. Any thread. */
void storeq_down(struct storeq *q, const char *text);
void storeq_up(struct storeq *q);

#endif
