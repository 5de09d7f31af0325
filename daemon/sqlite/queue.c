/* sqlite/queue.c: the SQLite queue backend: a writer thread on its own
 * connection takes the requests in order, retries writes, hands results back. */
#include "queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "backend.h"
#include "log.h"
#include "store.h"
#include "util.h"

TAILQ_HEAD(sq_list, sq_req);

#define BUSY_WAIT_MS 100     /* SQLite's busy handler, per try */
#define OPEN_BUSY_MS 5000    /* ... when the thread does not run */
#define WAL_CHECK_MS 1000    /* idle: the WAL's size looked at, at most */

struct sqlq {
	struct storeq *front;
	struct store *st;           /* the writer thread's, while it runs */
	char *daemon_id;
	pthread_t thread;
	int started;

	pthread_mutex_t mu;         /* guards everything below */
	pthread_cond_t cond;        /* work queued, or quit */
	struct sq_list ordered, side;
	int quit;

	int ckpt_due;               /* writer thread only, these three */
	int wal_check;              /* requests ran since the WAL was in bound */
	int64_t wal_next_ms;        /* mono_ms() of the next look at its size */
};

/* ---- the writer thread ---- */

static int
exec_poll(struct sqlq *q, struct sq_req *r)
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
exec_claim(struct sqlq *q, struct sq_req *r)
{
	int n = 0, rc = 0;

	while (n < r->u.claim.want && (rc = store_claim(q->st, q->daemon_id, now_ms(),
	    r->u.claim.lease_ms, &r->u.claim.jobs[n])) == 1)
		n++;
	if (rc == 0 && store_next_wake(q->st, &r->u.claim.next_wake) != 1)
		r->u.claim.next_wake = 0;
	return n > 0 || rc >= 0 ? n : rc;
}

static void
exec_req(struct sqlq *q, struct sq_req *r)
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
		    r->u.counts.nstates, r->u.counts.counts);
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

/* Runs every side request queued now (polls, leases, heartbeats). */
static void
drain_side(struct sqlq *q)
{
	struct sq_req *r;

	pthread_mutex_lock(&q->mu);
	while ((r = TAILQ_FIRST(&q->side)) != NULL) {
		TAILQ_REMOVE(&q->side, r, entry);
		pthread_mutex_unlock(&q->mu);
		exec_req(q, r);
		storeq_done(q->front, r);
		pthread_mutex_lock(&q->mu);
	}
	pthread_mutex_unlock(&q->mu);
}

/* ms from now on the clock of the thread's cond (CLOCK_MONOTONIC). */
static void
deadline(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* Waits ms before the next try of a write, running the side requests
 * (polls, leases, heartbeats) that come in meanwhile. */
static void
nap(struct sqlq *q, int64_t ms)
{
	struct timespec ts;

	deadline(&ts, ms);
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

/* A write of what a job did: tried until it commits, the job is no longer
 * ours, or the error is one that trying again cannot mend. */
static void
run_ordered(struct sqlq *q, struct sq_req *r)
{
	struct sq_trouble t = { 0 };
	int64_t t0, wait;

	if (r->op == SQ_IMAGE)
		sq_req_hash_image(r); /* here, off the loop */
	for (;;) {
		t0 = mono_ms();
		exec_req(q, r);
		if (r->rc >= 0 || r->rc == STORE_LOST ||
		    !db_err_transient(r->err))
			break;
		wait = storeq_trouble(q->front, &t, r, t0);
		drain_side(q);
		if (r->err != DBE_LOCK)
			nap(q, wait);
		else if (mono_ms() - t0 < BUSY_WAIT_MS / 2)
			nap(q, BUSY_WAIT_MS / 2); /* BUSY without waiting: no spin */
	}
	storeq_trouble_end(q->front, &t, r);
	if (q->ckpt_due) {
		q->ckpt_due = 0;
		store_checkpoint(q->st, NULL);
	}
}

/* Idle, in the writer thread: a WAL over its bound (a reader held a
 * snapshot while images were stored) is copied into the database by a
 * PASSIVE checkpoint, which blocks no writer, then cut by a TRUNCATE one
 * that waits for nobody; while a reader still holds it, tried again after
 * WAL_CHECK_MS (after a minute if the database fails). */
static void
trim_wal(struct sqlq *q)
{
	int64_t before, after;
	int rc, left = 0;

	q->wal_next_ms = mono_ms() + WAL_CHECK_MS;
	if (store_wal_size(q->st, &before) != STORE_OK ||
	    before <= STORE_WAL_LIMIT_BYTES) {
		q->wal_check = 0;
		return;
	}
	if ((rc = store_checkpoint(q->st, &left)) == STORE_OK && left == 0)
		rc = store_truncate_wal(q->st);
	if (rc == STORE_ERR) {
		log_warn("store_error op=wal_truncate error=%s",
		    LOG_Q(store_errmsg(q->st)));
		q->wal_next_ms = mono_ms() + 60 * WAL_CHECK_MS;
	}
	if (rc != STORE_OK || left > 0 ||
	    store_wal_size(q->st, &after) != STORE_OK ||
	    after > STORE_WAL_LIMIT_BYTES)
		return; /* a reader still holds it: next time */
	q->wal_check = 0;
	log_info("wal_truncated bytes_before=%lld bytes_after=%lld",
	    (long long)before, (long long)after);
}

/* Nothing queued: waits for work, or until the WAL is to be looked at.
 * Called and returns with q->mu held. */
static void
idle(struct sqlq *q)
{
	struct timespec ts;
	int64_t ms;

	if (!q->wal_check) {
		pthread_cond_wait(&q->cond, &q->mu);
		return;
	}
	if ((ms = q->wal_next_ms - mono_ms()) <= 0) {
		pthread_mutex_unlock(&q->mu);
		trim_wal(q);
		pthread_mutex_lock(&q->mu);
		return;
	}
	deadline(&ts, ms);
	pthread_cond_timedwait(&q->cond, &q->mu, &ts);
}

static void *
writer_main(void *arg)
{
	struct sqlq *q = arg;
	struct sq_req *r;
	int ordered;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		ordered = TAILQ_EMPTY(&q->side);
		r = ordered ? TAILQ_FIRST(&q->ordered) : TAILQ_FIRST(&q->side);
		if (r == NULL) {
			if (q->quit)
				break;
			idle(q);
			continue;
		}
		TAILQ_REMOVE(ordered ? &q->ordered : &q->side, r, entry);
		pthread_mutex_unlock(&q->mu);
		if (ordered)
			run_ordered(q, r);
		else
			exec_req(q, r);
		q->wal_check = 1;
		storeq_done(q->front, r);
		pthread_mutex_lock(&q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* sqlite3_wal_hook, in the writer thread: checkpoint after this request. */
static void
checkpoint_due(void *arg)
{
	struct sqlq *q = arg;

	q->ckpt_due = 1;
}

/* ---- the loop's side ---- */

/* Opens, migrates, arms p->faults and writes this daemon's row: the
 * store, before any thread. Logs why not. */
static struct store *
open_store(const struct storeq_params *p)
{
	struct store *st;
	char err[512];

	if ((st = store_open(p->uri, STORE_CREATE, OPEN_BUSY_MS, err,
	    sizeof(err))) == NULL) {
		log_err("db_open_failed path=%s error=%s", LOG_Q(p->uri),
		    LOG_Q(err));
		return NULL;
	}
	if (store_migrate(st, err, sizeof(err)) != STORE_OK) {
		log_err("db_migrate_failed path=%s error=%s", LOG_Q(p->uri),
		    LOG_Q(err));
		goto fail;
	}
	if (p->faults != NULL && *p->faults != '\0') {
		if (store_set_faults(st, p->faults, err, sizeof(err)) == -1) {
			log_err("config_error setting=IMGEDIT_STORE_FAULTS "
			    "error=%s", LOG_Q(err));
			goto fail;
		}
		log_warn("fault_injection spec=%s", LOG_Q(p->faults));
	}
	if (store_daemon_register(st, p->daemon_id, p->host, p->pid) !=
	    STORE_OK) {
		log_err("db_register_failed error=%s", LOG_Q(store_errmsg(st)));
		goto fail;
	}
	return st;
fail:
	store_close(st);
	return NULL;
}

static void sqlq_free(void *arg);

static void *
sqlq_open(struct storeq *front, struct event_base *base,
    const struct storeq_params *p, char *name, size_t namelen)
{
	struct sqlq *q;
	pthread_condattr_t ca;

	(void)base; /* results go back through the front's eventfd */
	strlcpy_safe(name, p->uri, namelen);
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->front = front;
	TAILQ_INIT(&q->ordered);
	TAILQ_INIT(&q->side);
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* naps ignore clock steps */
	pthread_cond_init(&q->cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((q->st = open_store(p)) == NULL ||
	    (q->daemon_id = strdup(p->daemon_id)) == NULL)
		goto fail;
	/* the writer waits for a lock in short turns, so that between them
	 * it can run the side requests and say how long it has waited */
	store_set_busy_timeout(q->st, BUSY_WAIT_MS);
	store_defer_checkpoints(q->st, STORE_CHECKPOINT_WAL_PAGES,
	    checkpoint_due, q);
	if (pthread_create(&q->thread, NULL, writer_main, q) != 0)
		goto fail;
	q->started = 1;
	return q;
fail:
	sqlq_free(q);
	return NULL;
}

static void
sqlq_submit(void *arg, struct sq_req *r)
{
	struct sqlq *q = arg;

	pthread_mutex_lock(&q->mu);
	TAILQ_INSERT_TAIL(sq_op_ordered(r->op) ? &q->ordered : &q->side, r, entry);
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->mu);
}

/* The thread is gone: the store is the caller's again; marks this daemon
 * stopped, waiting for a lock as long as opening did. */
static void
close_store(struct sqlq *q)
{
	if (q->st == NULL)
		return;
	store_defer_checkpoints(q->st, 0, NULL, NULL);
	store_set_busy_timeout(q->st, OPEN_BUSY_MS);
	if (q->daemon_id != NULL &&
	    store_daemon_stopped(q->st, q->daemon_id) != STORE_OK)
		log_warn("store_error op=daemon_stopped error=%s",
		    LOG_Q(store_errmsg(q->st)));
	store_close(q->st);
	q->st = NULL;
}

/* The thread runs what is queued, then stops; the front hands it back. */
static void
sqlq_free(void *arg)
{
	struct sqlq *q = arg;

	if (q == NULL)
		return;
	if (q->started) {
		pthread_mutex_lock(&q->mu);
		q->quit = 1;
		pthread_cond_signal(&q->cond);
		pthread_mutex_unlock(&q->mu);
		pthread_join(q->thread, NULL);
	}
	close_store(q);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->mu);
	free(q->daemon_id);
	free(q);
}

const struct queue_methods sqlite_queue = {
	.open = sqlq_open,
	.submit = sqlq_submit,
	.on_change = NULL,
	.free = sqlq_free,
};
