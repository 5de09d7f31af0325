/* pg/queue.c: the PostgreSQL queue backend: ordered writes one at a time
 * and tried again, the rest at once, on the loop; reconnects. */
#include "queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgbudget.h"
#include "pgconn.h"
#include "pgschema.h"
#include "pgstore.h"
#include "util.h"

TAILQ_HEAD(sq_list, sq_req);

#define LOCK_TIMEOUT "500ms"   /* a statement waits this long on a row lock */
#define LOCK_RETRY_MS 10       /* then tries again after this */
#define REOPEN_MIN_MS 100      /* a lost connection: first reopen after */
#define REOPEN_MAX_MS 2000
#define DRAIN_MS 5000          /* pgq_free waits this long for answers */
#define PG_CONNECT_MS 10000    /* connecting, when the settings say nothing */

struct pgq {
	struct storeq *front;
	struct event_base *base;
	struct pgconn *c;
	char *daemon_id, *host;
	int pid;

	struct sq_list ordered;     /* waiting; the head may be out */
	struct event *retry_ev, *reopen_ev, *tick_ev;
	int head_out;               /* the head's statement is out */
	int head_unknown;           /* a try of it lost its connection */
	int closing, dying;

	struct sq_trouble trouble;  /* the head's */
	int64_t down_since;         /* the connection went, or 0 */
	int64_t reopen_wait;

	/* the last poll: the next wake, what it saw (to say "changed") */
	int64_t next_wake;
	uint64_t poll_print, polls;
	uint64_t claims;            /* claims that took jobs, so far */

	struct pgstore_listener listener;
	void (*changed)(void *);
	void *changed_arg;
	int stopped_out;            /* pgq_free: the daemons row is being set */
	int opened;                 /* the connection was up once */
};

/* One statement's context: which queue, which request. */
struct call {
	struct pgq *q;
	struct sq_req *r;
};

static void pump(struct pgq *q);

/* ---- errors ---- */

/* rep's neutral class (dberr.h), for the callers' checks. */
static enum db_err
err_of(const struct pgconn_reply *rep)
{
	return pgconn_err_class(rep->sqlstate, rep->lost);
}

static int
is_lock(const struct pgconn_reply *rep)
{
	return err_of(rep) == DBE_LOCK;
}

static int
is_transient(const struct pgconn_reply *rep)
{
	return db_err_transient(err_of(rep));
}

static void
set_error(struct sq_req *r, const struct pgconn_reply *rep)
{
	r->rc = STORE_ERR;
	r->err = err_of(rep);
	snprintf(r->error, sizeof(r->error), "%s%s%s", rep->sqlstate,
	    rep->sqlstate[0] ? ": " : "", rep->error ? rep->error : "no answer");
}

/* What a statement that could not be sent gets (not lost: it never left,
 * so it cannot have committed). */
static const struct pgconn_reply not_sent = {
	.lost = 0, .sqlstate = PGCONN_LOST_STATE,
	.error = "the connection to PostgreSQL is down",
};

/* ---- the ordered requests: the head, tried until it is answered ---- */

/* The head has its answer: it leaves the queue, the next goes out. */
static void
head_done(struct pgq *q, struct sq_req *r)
{
	storeq_trouble_end(q->front, &q->trouble, r);
	q->head_out = q->head_unknown = 0;
	TAILQ_REMOVE(&q->ordered, r, entry);
	storeq_done(q->front, r);
	pump(q);
}

/* The head failed with rep. Returns 1 when it is tried again (later),
 * 0 when it is done with that error. */
static int
head_again(struct pgq *q, struct sq_req *r, const struct pgconn_reply *rep)
{
	struct timeval tv;
	int64_t ms;

	q->head_out = 0;
	if (!is_transient(rep) || q->dying)
		return 0;
	q->head_unknown |= rep->lost;
	if (!rep->lost && pgconn_new_session_mends(rep->sqlstate))
		pgconn_close(q->c, rep->error ? rep->error : rep->sqlstate);
	set_error(r, rep);
	/* a lock: lock_timeout waited from half a second before */
	ms = storeq_trouble(q->front, &q->trouble, r, mono_ms() - 500);
	if (is_lock(rep))
		ms = LOCK_RETRY_MS;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(q->retry_ev, &tv);
	return 1;
}

static void
head_failed(struct pgq *q, struct sq_req *r, const struct pgconn_reply *rep)
{
	if (head_again(q, r, rep))
		return;
	set_error(r, rep);
	head_done(q, r);
}

static void
on_claim(void *arg, int n, struct claimed_job **jobs,
    const struct pgconn_reply *rep)
{
	struct pgq *q = arg;
	struct sq_req *r = TAILQ_FIRST(&q->ordered);
	int i;

	if (n < 0) {
		head_failed(q, r, rep);
		return;
	}
	for (i = 0; i < n && i < SQ_CLAIM_MAX; i++) {
		r->u.claim.jobs[i] = jobs[i];
		jobs[i] = NULL;
	}
	r->rc = i;
	q->claims += i > 0;
	r->u.claim.next_wake = i < r->u.claim.want &&
	    q->next_wake > now_ms() ? q->next_wake : 0;
	head_done(q, r);
}

static void
on_write(void *arg, int rc, int written, const struct pgconn_reply *rep)
{
	struct pgq *q = arg;
	struct sq_req *r = TAILQ_FIRST(&q->ordered);

	/* a try before lost its connection after the row was in */
	if (rc == STORE_ERR && r->op == SQ_IMAGE && q->head_unknown &&
	    strcmp(rep->sqlstate, "23505") == 0) {
		rc = STORE_OK;
		written = 1;
	}
	/* a finish whose first try committed unheard finds its attempt
	 * closed: it was this daemon that closed it */
	if (rc == STORE_LOST && r->op == SQ_FINISH && q->head_unknown) {
		rc = STORE_OK;
		written = 1;
	}
	if (rc == STORE_ERR) {
		head_failed(q, r, rep);
		return;
	}
	r->rc = rc;
	r->written = written;
	head_done(q, r);
}

/* Sends the head. Returns 0 or -1 (not sent). */
static int
send_head(struct pgq *q, struct sq_req *r)
{
	struct pgconn *c = q->c;
	const char *id = q->daemon_id;

	switch (r->op) {
	case SQ_CLAIM:
		if (r->u.claim.budget != NULL)
			return pgbudget_claim(c, id, now_ms(),
			    r->u.claim.lease_ms, r->u.claim.want,
			    r->u.claim.budget, &r->u.claim.verdict, on_claim, q);
		return pgstore_claim(c, id, now_ms(), r->u.claim.lease_ms,
		    r->u.claim.want, on_claim, q);
	case SQ_ANSWERED:
		return pgstore_answered(c, id, r->u.answered.attempt_id,
		    r->u.answered.http_status, r->u.answered.request_id[0] ?
		    r->u.answered.request_id : NULL, on_write, q);
	case SQ_IMAGE:
		sq_req_hash_image(r); /* on the loop: ~0.8 ms per 1.5 MB */
		return pgstore_commit_image(c, id, &r->u.image, on_write, q);
	case SQ_FINISH:
		return pgstore_finish(c, id, r->u.finish.job_id,
		    r->u.finish.attempt_id, &r->u.finish.res, r->u.finish.next,
		    r->u.finish.not_before, on_write, q);
	default:
		return -1;
	}
}

static void
pump(struct pgq *q)
{
	struct sq_req *r = TAILQ_FIRST(&q->ordered);

	if (r == NULL || q->head_out || q->dying ||
	    evtimer_pending(q->retry_ev, NULL))
		return;
	q->head_out = 1;
	if (send_head(q, r) == -1)
		head_failed(q, r, &not_sent);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump(arg);
}

/* ---- the other requests: once each ---- */

static void
side_done(struct call *k, const struct pgconn_reply *rep)
{
	if (rep != NULL)
		set_error(k->r, rep);
	else
		k->r->rc = STORE_OK;
	storeq_done(k->q->front, k->r);
	free(k);
}

/* A short print of what a poll saw, and of the claims made before it, to
 * tell a change: a job claimed and canceled between two polls leaves the
 * runs owned as they were, and must still be reconciled. */
static uint64_t
poll_print(const struct pgstore_poll *p, uint64_t claims)
{
	uint64_t h = 1469598103934665603ull;
	const char *s[2] = { p->pause, p->resume };
	size_t i;
	int k;

#define MIX(b) (h = (h ^ (uint64_t)(b)) * 1099511628211ull)
	MIX(claims);
	for (k = 0; k < 2; k++) {
		MIX(s[k] != NULL);
		for (i = 0; s[k] != NULL && s[k][i] != '\0'; i++)
			MIX((unsigned char)s[k][i]);
	}
	for (i = 0; i < p->nowned; i++) {
		MIX(p->owned[i].job_id);
		MIX(p->owned[i].attempt_id);
	}
#undef MIX
	return h;
}

static void
on_poll(void *arg, struct pgstore_poll *p, const struct pgconn_reply *rep)
{
	struct call *k = arg;
	struct sq_req *r = k->r;
	struct pgq *q = k->q;
	uint64_t print;

	if (p == NULL) {
		side_done(k, rep);
		return;
	}
	q->next_wake = p->next_wake;
	print = poll_print(p, q->claims);
	/* changed: the dispatcher reads control, reconciles and claims */
	if (p->ready || print != q->poll_print || q->polls == 0) {
		q->poll_print = print;
		r->u.poll.changed = 1;
		r->u.poll.data_version = (int64_t)++q->polls;
		r->u.poll.pause = p->pause;
		r->u.poll.resume = p->resume;
		r->u.poll.owned = p->owned;
		r->u.poll.nowned = p->nowned;
		p->pause = p->resume = NULL;
		p->owned = NULL;
		p->nowned = 0;
	}
	side_done(k, NULL);
}

static void
on_leases(void *arg, int renewed, int requeued, const int64_t *ids,
    const struct pgconn_reply *rep)
{
	struct call *k = arg;

	(void)renewed;
	(void)ids;
	if (requeued < 0) {
		side_done(k, rep);
		return;
	}
	k->r->u.leases.requeued = requeued;
	side_done(k, NULL);
}

static void
on_beat(void *arg, int rc, int written, const struct pgconn_reply *rep)
{
	(void)written;
	side_done(arg, rc == STORE_OK ? NULL : rep);
}

static void
on_counts(void *arg, const int64_t *counts, const struct pgconn_reply *rep)
{
	struct call *k = arg;

	if (counts == NULL) {
		side_done(k, rep);
		return;
	}
	memcpy(k->r->u.counts.counts, counts,
	    (size_t)k->r->u.counts.nstates * sizeof(counts[0]));
	side_done(k, NULL);
}

/* Sends a side request. Returns 0 or -1 (not sent: k is the caller's). */
static int
send_side(struct pgq *q, struct call *k)
{
	struct sq_req *r = k->r;

	switch (r->op) {
	case SQ_POLL:
		return pgstore_poll(q->c, q->daemon_id, now_ms(), on_poll, k);
	case SQ_LEASES:
		return pgstore_lease_round(q->c, q->daemon_id, now_ms(),
		    r->u.leases.lease_ms, r->u.leases.runs, r->u.leases.nruns,
		    on_leases, k);
	case SQ_HEARTBEAT:
		return pgstore_heartbeat(q->c, q->daemon_id, q->host, q->pid,
		    now_ms(), r->u.beat.status, r->u.beat.pause_reason[0] ?
		    r->u.beat.pause_reason : NULL, on_beat, k);
	case SQ_COUNTS:
		return pgstore_counts(q->c, r->u.counts.states,
		    r->u.counts.nstates, on_counts, k);
	default:
		return -1;
	}
}

/* ---- the queue ---- */

static void
pgq_submit(void *arg, struct sq_req *r)
{
	struct pgq *q = arg;
	struct call *k;

	if (q->closing) {
		set_error(r, &not_sent);
		storeq_done(q->front, r);
		return;
	}
	if (sq_op_ordered(r->op)) {
		TAILQ_INSERT_TAIL(&q->ordered, r, entry);
		pump(q);
		return;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		set_error(r, &not_sent);
		storeq_done(q->front, r);
		return;
	}
	k->q = q;
	k->r = r;
	if (send_side(q, k) == -1) {
		free(k);
		set_error(r, &not_sent);
		storeq_done(q->front, r);
	}
}

static void
pgq_on_change(void *arg_q, void (*fn)(void *), void *arg)
{
	struct pgq *q = arg_q;

	q->changed = fn;
	q->changed_arg = arg;
}

static void
heard(void *arg)
{
	struct pgq *q = arg;

	if (q->changed != NULL && !q->closing)
		q->changed(q->changed_arg);
}

static void
on_reopen(evutil_socket_t fd, short what, void *arg)
{
	struct pgq *q = arg;

	(void)fd;
	(void)what;
	if (!q->closing && pgconn_open(q->c) == -1)
		log_err("store_connect_failed error=\"out of memory\"");
}

/* The connection came up or went: say so, reopen, let the head go on. */
static void
on_state(void *arg, int up, const char *err)
{
	struct pgq *q = arg;
	struct timeval tv;
	char text[128];

	if (up) {
		if (q->down_since != 0)
			log_info("store_connected down_ms=%lld address=%s",
			    (long long)(mono_ms() - q->down_since),
			    LOG_Q(pgconn_address(q->c)));
		else if (!q->opened)
			log_info("store_opened address=%s",
			    LOG_Q(pgconn_address(q->c)));
		q->opened = 1;
		q->down_since = 0;
		q->reopen_wait = REOPEN_MIN_MS;
		storeq_up(q->front);
		pump(q);
		heard(q); /* a NOTIFY sent meanwhile was not heard */
		return;
	}
	if (q->closing)
		return;
	if (q->down_since == 0) {
		q->down_since = mono_ms();
		log_warn("store_disconnected error=%s note=\"reconnecting; the "
		    "data waits in memory\"", LOG_Q(err ? err : ""));
	}
	snprintf(text, sizeof(text), "PostgreSQL: %s", err ? err :
	    "connection lost");
	storeq_down(q->front, text);
	tv.tv_sec = (time_t)(q->reopen_wait / 1000);
	tv.tv_usec = (suseconds_t)(q->reopen_wait % 1000) * 1000;
	evtimer_add(q->reopen_ev, &tv);
	q->reopen_wait = q->reopen_wait * 2 < REOPEN_MAX_MS ?
	    q->reopen_wait * 2 : REOPEN_MAX_MS;
}

static void pgq_free(void *arg);

/* The migrations, before the loop: a blocking connection of its own,
 * closed after; the loop's connection opens in the background. Writes
 * the database's name (no password) into name. Returns 0 or -1 (logged). */
static int
migrate(const char *uri, int64_t timeout_ms, char *name, size_t namelen)
{
	char err[512];
	PGconn *c;
	int have = 0, rc = -1;

	if ((c = pgschema_connect_within(uri, timeout_ms, err, sizeof(err))) ==
	    NULL) {
		log_err("db_open_failed backend=postgresql error=%s", LOG_Q(err));
		return -1;
	}
	pgschema_display(c, name, namelen);
	if (pgschema_migrate(c, 0, &have, err, sizeof(err)) == -1)
		log_err("db_migrate_failed db=%s error=%s", LOG_Q(name),
		    LOG_Q(err));
	else
		rc = 0;
	PQfinish(c);
	return rc;
}

/* The daemons row is written at the first heartbeat, marked stopped at
 * pgq_free. */
static void *
pgq_open(struct storeq *front, struct event_base *base,
    const struct storeq_params *p, char *name, size_t namelen)
{
	struct pgq *q;

	if (p->faults != NULL && *p->faults != '\0') {
		log_err("config_error setting=IMGEDIT_STORE_FAULTS error=%s",
		    LOG_Q("fault injection is SQLite's; on PostgreSQL stop the "
		    "server or hold its locks instead"));
		return NULL;
	}
	if (migrate(p->uri, p->connect_timeout_ms > 0 ? p->connect_timeout_ms :
	    PG_CONNECT_MS, name, namelen) == -1 ||
	    (q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->front = front;
	q->base = base;
	q->pid = p->pid;
	q->reopen_wait = REOPEN_MIN_MS;
	TAILQ_INIT(&q->ordered);
	q->listener.changed = heard;
	q->listener.arg = q;
	if ((q->daemon_id = strdup(p->daemon_id)) == NULL ||
	    (q->host = strdup(p->host)) == NULL ||
	    (q->retry_ev = evtimer_new(base, on_retry, q)) == NULL ||
	    (q->reopen_ev = evtimer_new(base, on_reopen, q)) == NULL ||
	    (q->c = pgconn_new(base, p->uri)) == NULL ||
	    pgconn_set(q->c, "lock_timeout", LOCK_TIMEOUT) == -1 ||
	    /* a role's statement_timeout would fail a big write every try */
	    pgconn_set(q->c, "statement_timeout", "0") == -1 ||
	    pgstore_prepare(q->c) == -1 || pgbudget_prepare(q->c) == -1 ||
	    pgstore_listen(q->c, &q->listener) == -1)
		goto fail;
	pgconn_set_state_cb(q->c, on_state, q);
	if (p->connect_timeout_ms > 0)
		pgconn_set_connect_timeout(q->c, (int)p->connect_timeout_ms);
	if (pgconn_open(q->c) == -1)
		goto fail;
	return q;
fail:
	pgq_free(q);
	return NULL;
}

static void
on_stopped(void *arg, int rc, int written, const struct pgconn_reply *rep)
{
	struct pgq *q = arg;

	(void)written;
	q->stopped_out = 0;
	if (rc != STORE_OK)
		log_warn("store_error op=daemon_stopped error=%s",
		    LOG_Q(rep && rep->error ? rep->error : ""));
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Runs the loop until cond(q) is false or ms pass. */
static void
drain(struct pgq *q, int (*cond)(struct pgq *), int64_t ms)
{
	struct timeval tv = { 0, 50 * 1000 };
	int64_t end = mono_ms() + ms;

	evtimer_add(q->tick_ev, &tv);
	while (cond(q) && mono_ms() < end)
		event_base_loop(q->base, EVLOOP_ONCE);
	evtimer_del(q->tick_ev);
}

static int
answers_due(struct pgq *q)
{
	return storeq_out(q->front) > 0;
}

static int
stopped_due(struct pgq *q)
{
	return q->stopped_out;
}

static void
pgq_free(void *arg)
{
	struct pgq *q = arg;
	struct sq_req *r;

	if (q == NULL)
		return;
	q->closing = 1;
	if (q->c != NULL &&
	    (q->tick_ev = event_new(q->base, -1, EV_PERSIST, on_tick, q)) != NULL) {
		drain(q, answers_due, DRAIN_MS);
		if (pgconn_is_up(q->c) && pgstore_daemon_stopped(q->c,
		    q->daemon_id, now_ms(), on_stopped, q) == 0) {
			q->stopped_out = 1;
			drain(q, stopped_due, DRAIN_MS);
		}
	}
	q->dying = 1;
	pgconn_free(q->c); /* what is out completes as lost */
	if (q->retry_ev != NULL)
		evtimer_del(q->retry_ev);
	while ((r = TAILQ_FIRST(&q->ordered)) != NULL) {
		TAILQ_REMOVE(&q->ordered, r, entry);
		set_error(r, &not_sent);
		storeq_done(q->front, r);
	}
	if (q->retry_ev) event_free(q->retry_ev);
	if (q->reopen_ev) event_free(q->reopen_ev);
	if (q->tick_ev) event_free(q->tick_ev);
	free(q->daemon_id);
	free(q->host);
	free(q);
}

const struct queue_methods pg_queue = {
	.open = pgq_open,
	.submit = pgq_submit,
	.on_change = pgq_on_change,
	.free = pgq_free,
};
