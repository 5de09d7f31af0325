/* storeq.c: the store queue's front, the same on every backend: requests,
 * their names, the count out, the order of results, the health accounting. */
#include "queue_backend.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend.h"
#include "log.h"
#include "util.h"

#define FAULT_WAIT_MIN_MS 50 /* a failing write: first pause between tries */
#define FAULT_WAIT_MAX_MS 2000
#define LOCK_QUIET_MS 1000   /* a lock for less is everyday life: not said */

TAILQ_HEAD(sq_list, sq_req);

struct storeq {
	const struct queue_methods *m;
	void *be;                   /* the backend's queue */
	char name[512];             /* the database, for the log */
	int queued;                 /* submitted, not yet back (loop only) */
	uint64_t seq;               /* results handed back (loop only) */
	int closed;                 /* storeq_free freed the backend */
	int wake_fd;                /* eventfd: results are waiting */
	struct event *wake_ev;

	pthread_mutex_t mu;         /* guards what follows: a backend's
	                             * thread writes it, the loop reads it */
	struct sq_list done;        /* results, to hand back on the loop */
	int signaled;               /* wake_fd written, not yet read */
	int64_t locked_since;       /* mono ms, 0 = not now */
	int64_t fault_since;        /* a write fails since, 0 = not now */
	int64_t down_since;         /* the connection is down since, or 0 */
	char fault[128];
	uint64_t lock_waits;        /* writes that met a lock, and waited */
	int64_t lock_wait_ms;       /* ... this long, past waits */
	int64_t lock_wait_since;    /* mono ms the current one began, or 0 */
};

const char *
sq_op_name(enum sq_op op)
{
	static const char *const names[] = { "claim", "answered", "image",
	    "finish", "poll", "leases", "heartbeat", "counts" };

	return (unsigned)op < sizeof(names) / sizeof(names[0]) ? names[op] :
	    "unknown";
}

struct sq_req *
sq_req_new(enum sq_op op, sq_done_fn done, void *arg)
{
	struct sq_req *r = calloc(1, sizeof(*r));

	if (r != NULL) {
		r->op = op;
		r->done = done;
		r->arg = arg;
	}
	return r;
}

const char *
sq_req_error(const struct sq_req *r)
{
	return r->error[0] ? r->error : db_err_name(r->err);
}

void
sq_req_free(struct sq_req *r)
{
	int i;

	if (r == NULL)
		return;
	if (r->op == SQ_CLAIM) {
		for (i = 0; i < SQ_CLAIM_MAX; i++)
			claimed_job_free(r->u.claim.jobs[i]);
		budget_claim_free(r->u.claim.budget);
	}
	if (r->op == SQ_POLL) {
		free(r->u.poll.pause);
		free(r->u.poll.resume);
		free(r->u.poll.owned);
	}
	free(r);
}

void
sq_req_hash_image(struct sq_req *r)
{
	if (r->sha256[0] == '\0')
		sha256_hex(r->u.image.data, r->u.image.size, r->sha256);
	r->u.image.sha256 = r->sha256;
}

/* ---- results, back on the loop ---- */

void
storeq_done(struct storeq *q, struct sq_req *r)
{
	uint64_t one = 1;

	pthread_mutex_lock(&q->mu);
	TAILQ_INSERT_TAIL(&q->done, r, entry);
	if (!q->signaled) /* one write per read: the count cannot overflow */
		q->signaled = write(q->wake_fd, &one, sizeof(one)) ==
		    (ssize_t)sizeof(one);
	pthread_mutex_unlock(&q->mu);
}

/* Hands back what is done. Returns how many. */
static int
deliver(struct storeq *q)
{
	struct sq_list list = TAILQ_HEAD_INITIALIZER(list);
	struct sq_req *r;
	uint64_t n;
	int count = 0;

	/* the count does not matter: the list is what is done */
	if (read(q->wake_fd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		n = 0;
	pthread_mutex_lock(&q->mu);
	TAILQ_CONCAT(&list, &q->done, entry);
	q->signaled = 0;
	pthread_mutex_unlock(&q->mu);
	while ((r = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, r, entry);
		q->queued--;
		r->seq = ++q->seq;
		r->done(r->arg, r);
		count++;
	}
	return count;
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	deliver(arg);
}

/* ---- the daemon's side ---- */

struct storeq *
storeq_new(struct event_base *base, const struct backend *be,
    const struct storeq_params *p)
{
	struct storeq *q;

	if (be->queue == NULL || (q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->m = be->queue;
	TAILQ_INIT(&q->done);
	pthread_mutex_init(&q->mu, NULL);
	strlcpy_safe(q->name, p->uri, sizeof(q->name));
	q->closed = 1; /* until the backend is open */
	if ((q->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    (q->wake_ev = event_new(base, q->wake_fd, EV_READ | EV_PERSIST,
	    on_wake, q)) == NULL || event_add(q->wake_ev, NULL) == -1 ||
	    (q->be = q->m->open(q, base, p, q->name, sizeof(q->name))) ==
	    NULL) {
		storeq_free(q);
		return NULL;
	}
	q->closed = 0;
	return q;
}

const char *
storeq_db_name(const struct storeq *q)
{
	return q->name;
}

int
storeq_out(const struct storeq *q)
{
	return q->queued;
}

void
storeq_on_change(struct storeq *q, void (*fn)(void *), void *arg)
{
	if (q->m->on_change != NULL)
		q->m->on_change(q->be, fn, arg);
}

int
sq_op_ordered(enum sq_op op)
{
	return op == SQ_CLAIM || op == SQ_ANSWERED || op == SQ_IMAGE ||
	    op == SQ_FINISH;
}

/* What a backend may count on: bounds kept. */
static void
clamp(struct sq_req *r)
{
	int *n;

	if (r->op == SQ_CLAIM) {
		n = &r->u.claim.want;
		*n = *n < 1 ? 1 : *n > SQ_CLAIM_MAX ? SQ_CLAIM_MAX : *n;
	} else if (r->op == SQ_COUNTS) {
		n = &r->u.counts.nstates;
		*n = *n < 0 ? 0 : *n > SQ_STATES_MAX ? SQ_STATES_MAX : *n;
	}
}

void
storeq_submit(struct storeq *q, struct sq_req *r)
{
	q->queued++;
	clamp(r);
	if (!q->closed) {
		q->m->submit(q->be, r);
		return;
	}
	r->rc = STORE_ERR;
	r->err = DBE_OTHER;
	snprintf(r->error, sizeof(r->error), "the store is closed");
	storeq_done(q, r);
}

void
storeq_free(struct storeq *q)
{
	if (q == NULL)
		return;
	if (q->be != NULL)
		q->m->free(q->be); /* hands back what it held */
	q->closed = 1;
	while (q->wake_fd != -1 && deliver(q) > 0)
		; /* callbacks may submit more: those come back at once */
	if (q->wake_ev != NULL)
		event_free(q->wake_ev);
	if (q->wake_fd != -1)
		close(q->wake_fd);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

/* ---- health ---- */

void
storeq_health(struct storeq *q, struct storeq_health *h)
{
	int64_t now = mono_ms(), since;

	pthread_mutex_lock(&q->mu);
	since = q->fault_since;
	if (q->down_since != 0 && (since == 0 || q->down_since < since))
		since = q->down_since;
	h->locked_ms = q->locked_since ? now - q->locked_since : 0;
	h->fault_ms = since ? now - since : 0;
	snprintf(h->fault, sizeof(h->fault), "%s", since ? q->fault : "");
	h->lock_waits = q->lock_waits;
	h->lock_wait_ms = q->lock_wait_ms + (q->lock_wait_since ?
	    now - q->lock_wait_since : 0);
	pthread_mutex_unlock(&q->mu);
	h->queued = q->queued;
}

int64_t
storeq_trouble(struct storeq *q, struct sq_trouble *t, const struct sq_req *r,
    int64_t began)
{
	int64_t now = mono_ms(), wait;
	int lock = r->err == DBE_LOCK;

	if (t->since == 0) {
		t->since = now;
		t->wait = FAULT_WAIT_MIN_MS;
	}
	if (!t->said && (!lock || now - t->since >= LOCK_QUIET_MS)) {
		t->said = 1;
		log_warn("store_waiting op=%s class=%s error=%s note=\"tried "
		    "again until it commits; the data waits in memory\"",
		    sq_op_name(r->op), db_err_name(r->err), LOG_Q(r->error));
	}
	t->tries++;
	pthread_mutex_lock(&q->mu);
	if (lock) {
		q->locked_since = t->since;
		if (q->lock_wait_since == 0) {
			q->lock_waits++;
			q->lock_wait_since = began;
		}
	} else {
		if (q->fault_since == 0)
			q->fault_since = t->since;
		snprintf(q->fault, sizeof(q->fault), "%.127s", r->error);
	}
	pthread_mutex_unlock(&q->mu);
	wait = t->wait;
	if (!lock)
		t->wait = t->wait * 2 < FAULT_WAIT_MAX_MS ? t->wait * 2 :
		    FAULT_WAIT_MAX_MS;
	return wait;
}

void
storeq_trouble_end(struct storeq *q, struct sq_trouble *t,
    const struct sq_req *r)
{
	if (t->since == 0)
		return;
	pthread_mutex_lock(&q->mu);
	q->locked_since = q->fault_since = 0;
	if (q->lock_wait_since != 0)
		q->lock_wait_ms += mono_ms() - q->lock_wait_since;
	q->lock_wait_since = 0;
	pthread_mutex_unlock(&q->mu);
	if (t->said)
		log_info("store_resumed op=%s waited_ms=%lld tries=%d rc=%d",
		    sq_op_name(r->op), (long long)(mono_ms() - t->since),
		    t->tries + 1, r->rc);
	memset(t, 0, sizeof(*t));
}

void
storeq_down(struct storeq *q, const char *text)
{
	pthread_mutex_lock(&q->mu);
	if (q->down_since == 0)
		q->down_since = mono_ms();
	snprintf(q->fault, sizeof(q->fault), "%s", text);
	pthread_mutex_unlock(&q->mu);
}

void
storeq_up(struct storeq *q)
{
	pthread_mutex_lock(&q->mu);
	q->down_since = 0;
	pthread_mutex_unlock(&q->mu);
}
