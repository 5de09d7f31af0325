/* storeq.c: the writer thread: takes the daemon's store requests in order,
 * retries writes that meet a lock or a full disk, and hands results back. */
#include "storeq.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "queue.h" /* pg/queue.h, for now */
#include "util.h"

TAILQ_HEAD(sq_list, sq_req);

#define BUSY_WAIT_MS 100     /* SQLite's busy handler, per try */
#define FAULT_WAIT_MIN_MS 50 /* a failing disk: first pause between tries */
#define FAULT_WAIT_MAX_MS 2000

struct storeq {
	struct pgq *pg;             /* PostgreSQL: all of it is there */
	struct store *st;           /* the writer thread's, while it runs */
	char *daemon_id;
	pthread_t thread;
	int started;
	int wake_fd;                /* eventfd: completions are waiting */
	struct event *wake_ev;

	pthread_mutex_t mu;         /* guards everything below */
	pthread_cond_t cond;        /* work queued, or quit */
	struct sq_list ordered, side, done;
	int queued;
	int signaled;               /* wake_fd written, not yet read */
	int quit, closed;
	uint64_t seq;
	int64_t locked_since, fault_since; /* mono ms, 0 = not now */
	uint64_t lock_waits;        /* writes that met a lock, and waited */
	int64_t lock_wait_ms;       /* ... this long, past waits */
	int64_t lock_wait_since;    /* mono ms the current one began, or 0 */
	char fault[128];

	int ckpt_due;               /* writer thread only */
};

static int
is_ordered(enum sq_op op)
{
	return op == SQ_CLAIM || op == SQ_ANSWERED || op == SQ_IMAGE ||
	    op == SQ_FINISH;
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
	if (r->op == SQ_CLAIM)
		for (i = 0; i < SQ_CLAIM_MAX; i++)
			claimed_job_free(r->u.claim.jobs[i]);
	if (r->op == SQ_POLL) {
		free(r->u.poll.pause);
		free(r->u.poll.resume);
		free(r->u.poll.owned);
	}
	free(r);
}

/* ---- the writer thread ---- */

static int
exec_poll(struct storeq *q, struct sq_req *r)
{
	int64_t v;
	int rc;

	if ((rc = store_data_version(q->st, &v)) != STORE_OK)
		return rc;
	if (v == r->u.poll.data_version)
		return STORE_OK;
	r->u.poll.data_version = v;
	r->u.poll.changed = 1;
	if ((rc = store_control_get(q->st, "pause", &r->u.poll.pause)) !=
	    STORE_OK || (rc = store_control_get(q->st, "resume",
	    &r->u.poll.resume)) != STORE_OK)
		return rc;
	return store_owned_runs(q->st, q->daemon_id, &r->u.poll.owned,
	    &r->u.poll.nowned);
}

/* Claims up to want jobs, each in its own transaction. Returns how many,
 * or the error when the first one failed (those claimed stay claimed). */
static int
exec_claim(struct storeq *q, struct sq_req *r)
{
	int n = 0, rc = 0, want = r->u.claim.want;

	want = want < 1 ? 1 : want > SQ_CLAIM_MAX ? SQ_CLAIM_MAX : want;
	while (n < want && (rc = store_claim(q->st, q->daemon_id, now_ms(),
	    r->u.claim.lease_ms, &r->u.claim.jobs[n])) == 1)
		n++;
	if (rc == 0 && store_next_wake(q->st, &r->u.claim.next_wake) != 1)
		r->u.claim.next_wake = 0;
	return n > 0 || rc >= 0 ? n : rc;
}

static void
exec_req(struct storeq *q, struct sq_req *r)
{
	struct store *st = q->st;
	const char *id = q->daemon_id;
	int code;

	switch (r->op) {
	case SQ_CLAIM:
		r->rc = exec_claim(q, r);
		break;
	case SQ_ANSWERED:
		r->rc = store_attempt_answered(st, r->u.answered.attempt_id,
		    r->u.answered.http_status, r->u.answered.request_id[0] ?
		    r->u.answered.request_id : NULL);
		break;
	case SQ_IMAGE:
		r->rc = store_commit_image(st, id, &r->u.image);
		break;
	case SQ_FINISH:
		r->rc = store_finish_attempt(st, id, r->u.finish.job_id,
		    r->u.finish.attempt_id, &r->u.finish.res, r->u.finish.next,
		    r->u.finish.not_before);
		break;
	case SQ_POLL:
		r->rc = exec_poll(q, r);
		break;
	case SQ_LEASES:
		r->rc = store_lease_round(st, id, now_ms(), r->u.leases.lease_ms,
		    r->u.leases.runs, r->u.leases.nruns, &r->u.leases.requeued);
		break;
	case SQ_HEARTBEAT:
		r->rc = store_daemon_heartbeat(st, id, r->u.beat.status,
		    r->u.beat.pause_reason[0] ? r->u.beat.pause_reason : NULL);
		break;
	case SQ_COUNTS:
		r->rc = store_job_counts(st, r->u.counts.states,
		    r->u.counts.nstates < SQ_STATES_MAX ? r->u.counts.nstates :
		    SQ_STATES_MAX, r->u.counts.counts);
		break;
	}
	if (r->op == SQ_IMAGE || r->op == SQ_FINISH)
		r->written = store_last_written(st);
	if (r->rc < 0 && r->rc != STORE_LOST) {
		code = store_errcode(st);
		r->err = store_err_class(code);
		snprintf(r->error, sizeof(r->error), "%s",
		    sqlite3_errstr(code ? code : SQLITE_ERROR));
	} else {
		r->err = DBE_OK;
		r->error[0] = '\0';
	}
}

/* With mu held: r is done; the loop is told. */
static void
complete_locked(struct storeq *q, struct sq_req *r)
{
	uint64_t one = 1;

	r->seq = ++q->seq;
	TAILQ_INSERT_TAIL(&q->done, r, entry);
	if (!q->signaled) {
		/* one write per read: the counter cannot overflow */
		q->signaled = write(q->wake_fd, &one, sizeof(one)) ==
		    (ssize_t)sizeof(one);
	}
}

/* Runs every side request queued now (polls, leases, heartbeats). */
static void
drain_side(struct storeq *q)
{
	struct sq_req *r;

	pthread_mutex_lock(&q->mu);
	while ((r = TAILQ_FIRST(&q->side)) != NULL) {
		TAILQ_REMOVE(&q->side, r, entry);
		q->queued--;
		pthread_mutex_unlock(&q->mu);
		exec_req(q, r);
		pthread_mutex_lock(&q->mu);
		complete_locked(q, r);
	}
	pthread_mutex_unlock(&q->mu);
}

/* A write met an error; since: when the first try of it failed, began:
 * when that try began (SQLite's busy handler waited from then). */
static void
health_note(struct storeq *q, const struct sq_req *r, int64_t since,
    int64_t began)
{
	pthread_mutex_lock(&q->mu);
	if (r->err == DBE_LOCK) {
		q->locked_since = since;
		if (q->lock_wait_since == 0) {
			q->lock_waits++;
			q->lock_wait_since = began;
		}
	} else {
		q->fault_since = since;
		snprintf(q->fault, sizeof(q->fault), "%.127s", r->error);
	}
	pthread_mutex_unlock(&q->mu);
}

static void
health_clear(struct storeq *q)
{
	pthread_mutex_lock(&q->mu);
	q->locked_since = q->fault_since = 0;
	if (q->lock_wait_since != 0)
		q->lock_wait_ms += mono_ms() - q->lock_wait_since;
	q->lock_wait_since = 0;
	pthread_mutex_unlock(&q->mu);
}

/* Waits ms before the next try of a write, running the side requests
 * (polls, leases, heartbeats) that come in meanwhile. */
static void
nap(struct storeq *q, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* the cond's clock */
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&q->mu);
	for (;;) {
		if (!TAILQ_EMPTY(&q->side)) {
			pthread_mutex_unlock(&q->mu);
			drain_side(q);
			pthread_mutex_lock(&q->mu);
			continue;
		}
		if (pthread_cond_timedwait(&q->cond, &q->mu, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&q->mu);
}

const char *
sq_op_name(enum sq_op op)
{
	static const char *const names[] = { "claim", "answered", "image",
	    "finish", "poll", "leases", "heartbeat", "counts" };

	return names[op];
}

/* A write of what a job did: tried until it commits, the job is no longer
 * ours, or the error is one that trying again cannot mend. */
static void
run_ordered(struct storeq *q, struct sq_req *r)
{
	int64_t since = 0, wait = FAULT_WAIT_MIN_MS;
	int64_t t0, began = 0;
	int tries = 0, said = 0, busy;

	if (r->op == SQ_IMAGE) {
		sha256_hex(r->u.image.data, r->u.image.size, r->sha256);
		r->u.image.sha256 = r->sha256;
	}
	for (;;) {
		t0 = mono_ms();
		exec_req(q, r);
		if (r->rc >= 0 || r->rc == STORE_LOST ||
		    !db_err_transient(r->err))
			break;
		busy = r->err == DBE_LOCK;
		if (since == 0) {
			since = mono_ms();
			began = t0;
		}
		if (!said && (!busy || mono_ms() - since >= 1000)) {
			/* a lock for less than a second is everyday life */
			said = 1;
			log_warn("store_waiting op=%s class=%s error=\"%s\" "
			    "note=\"tried again until it commits; the data "
			    "waits in memory\"", sq_op_name(r->op),
			    db_err_name(r->err), r->error);
		}
		tries++;
		health_note(q, r, since, began);
		drain_side(q);
		if (!busy) {
			nap(q, wait);
			wait = wait * 2 < FAULT_WAIT_MAX_MS ? wait * 2 :
			    FAULT_WAIT_MAX_MS;
		} else if (mono_ms() - t0 < BUSY_WAIT_MS / 2) {
			nap(q, BUSY_WAIT_MS / 2); /* BUSY without waiting: no spin */
		}
	}
	if (since != 0)
		health_clear(q);
	if (said) {
		log_info("store_resumed op=%s waited_ms=%lld tries=%d rc=%d",
		    sq_op_name(r->op), (long long)(mono_ms() - since), tries + 1,
		    r->rc);
	}
	if (q->ckpt_due) {
		q->ckpt_due = 0;
		store_checkpoint(q->st, NULL);
	}
}

static void *
writer_main(void *arg)
{
	struct storeq *q = arg;
	struct sq_req *r;
	int ordered;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		ordered = TAILQ_EMPTY(&q->side);
		r = ordered ? TAILQ_FIRST(&q->ordered) : TAILQ_FIRST(&q->side);
		if (r == NULL) {
			if (q->quit)
				break;
			pthread_cond_wait(&q->cond, &q->mu);
			continue;
		}
		TAILQ_REMOVE(ordered ? &q->ordered : &q->side, r, entry);
		q->queued--;
		pthread_mutex_unlock(&q->mu);
		if (ordered)
			run_ordered(q, r);
		else
			exec_req(q, r);
		pthread_mutex_lock(&q->mu);
		complete_locked(q, r);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* sqlite3_wal_hook, in the writer thread: checkpoint after this request. */
static void
checkpoint_due(void *arg)
{
	struct storeq *q = arg;

	q->ckpt_due = 1;
}

/* ---- the loop's side ---- */

static void
deliver_done(struct storeq *q)
{
	struct sq_list list = TAILQ_HEAD_INITIALIZER(list);
	struct sq_req *r;
	uint64_t n;

	/* the count does not matter: the list is what is done */
	if (read(q->wake_fd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		n = 0;
	pthread_mutex_lock(&q->mu);
	TAILQ_CONCAT(&list, &q->done, entry);
	q->signaled = 0;
	pthread_mutex_unlock(&q->mu);
	while ((r = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, r, entry);
		r->done(r->arg, r);
	}
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	deliver_done(arg);
}

struct storeq *
storeq_new_pg(struct event_base *base, const char *uri, const char *daemon_id,
    const char *host, int pid)
{
	struct storeq *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if ((q->pg = pgq_new(base, uri, daemon_id, host, pid)) == NULL) {
		free(q);
		return NULL;
	}
	return q;
}

void
storeq_on_change(struct storeq *q, void (*fn)(void *), void *arg)
{
	if (q->pg != NULL)
		pgq_on_change(q->pg, fn, arg);
}

struct storeq *
storeq_new(struct event_base *base, struct store *st, const char *daemon_id)
{
	struct storeq *q;
	pthread_condattr_t ca;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->st = st;
	q->wake_fd = -1;
	TAILQ_INIT(&q->ordered);
	TAILQ_INIT(&q->side);
	TAILQ_INIT(&q->done);
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* naps ignore clock steps */
	pthread_cond_init(&q->cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((q->daemon_id = strdup(daemon_id)) == NULL ||
	    (q->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    (q->wake_ev = event_new(base, q->wake_fd, EV_READ | EV_PERSIST,
	    on_wake, q)) == NULL || event_add(q->wake_ev, NULL) == -1)
		goto fail;
	/* the writer waits for a lock in short turns, so that between them
	 * it can run the side requests and say how long it has waited */
	sqlite3_busy_timeout(store_db(st), BUSY_WAIT_MS);
	store_defer_checkpoints(st, STORE_CHECKPOINT_WAL_PAGES, checkpoint_due,
	    q);
	if (pthread_create(&q->thread, NULL, writer_main, q) != 0)
		goto fail;
	q->started = 1;
	return q;
fail:
	storeq_free(q);
	return NULL;
}

void
storeq_submit(struct storeq *q, struct sq_req *r)
{
	if (q->pg != NULL) {
		pgq_submit(q->pg, r);
		return;
	}
	pthread_mutex_lock(&q->mu);
	if (q->closed) {
		r->rc = STORE_ERR;
		r->err = DBE_OTHER;
		snprintf(r->error, sizeof(r->error), "the store is closing");
		complete_locked(q, r);
	} else {
		TAILQ_INSERT_TAIL(is_ordered(r->op) ? &q->ordered : &q->side, r,
		    entry);
		q->queued++;
		pthread_cond_signal(&q->cond);
	}
	pthread_mutex_unlock(&q->mu);
}

void
storeq_health(struct storeq *q, struct storeq_health *h)
{
	int64_t now = mono_ms();

	if (q->pg != NULL) {
		pgq_health(q->pg, h);
		return;
	}
	pthread_mutex_lock(&q->mu);
	h->locked_ms = q->locked_since ? now - q->locked_since : 0;
	h->fault_ms = q->fault_since ? now - q->fault_since : 0;
	snprintf(h->fault, sizeof(h->fault), "%s", q->fault_since ? q->fault :
	    "");
	h->queued = q->queued;
	h->lock_waits = q->lock_waits;
	h->lock_wait_ms = q->lock_wait_ms + (q->lock_wait_since ?
	    now - q->lock_wait_since : 0);
	pthread_mutex_unlock(&q->mu);
}

void
storeq_free(struct storeq *q)
{
	int more;

	if (q == NULL)
		return;
	if (q->pg != NULL) {
		pgq_free(q->pg);
		free(q);
		return;
	}
	if (q->started) {
		pthread_mutex_lock(&q->mu);
		q->quit = 1;
		pthread_cond_signal(&q->cond);
		pthread_mutex_unlock(&q->mu);
		pthread_join(q->thread, NULL);
	}
	pthread_mutex_lock(&q->mu);
	q->closed = 1;
	pthread_mutex_unlock(&q->mu);
	do { /* callbacks may submit more; those complete at once */
		deliver_done(q);
		pthread_mutex_lock(&q->mu);
		more = !TAILQ_EMPTY(&q->done);
		pthread_mutex_unlock(&q->mu);
	} while (more);
	if (q->st != NULL)
		store_defer_checkpoints(q->st, 0, NULL, NULL);
	if (q->wake_ev)
		event_free(q->wake_ev);
	if (q->wake_fd != -1)
		close(q->wake_fd);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->mu);
	free(q->daemon_id);
	free(q);
}
