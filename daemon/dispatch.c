/* dispatch.c: the scheduler: watches the database through the store queue,
 * claims jobs into free slots, hands each image to the store, ends attempts. */
#include "dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <jansson.h>

#include "cost.h"
#include "jobspec.h"
#include "log.h"
#include "period.h"
#include "payload.h"
#include "ratelimit.h"
#include "util.h"

/* Image buffers kept between attempts: at most this many (~2 MB each). */
#define POOL_SPARES_MAX 64
/* A finish the store refused for good is tried again after this long, this
 * many times; then the run lets go, and its lease expires (the job is
 * requeued, by this daemon or another). */
#define FINISH_RETRY_MS 2000
#define FINISH_TRIES 3
/* A failed lease round is tried again after this long. */
#define LEASE_RETRY_MS 500
/* A job given back for the database's sake waits this long. */
#define REQUEUE_DELAY_MS 1000
/* Past this long a lock or a failing disk is named in the status. */
#define DB_TROUBLE_MS 1000

/*
 * One claimed job and its attempt. A run lives from its claim until the
 * store has its end: its transfer may be over long before (the images and
 * the end wait in the store queue behind a lock), and it keeps its lease.
 */
/*
 * An attempt's life, one phase at a time, moved only by run_enter:
 *
 *   SENDING <-> PAUSED     the transfer goes on / is held back (memory)
 *      \         /
 *       DECIDED            the outcome is known; images may still wait
 *          |               for the store
 *      FINISHING           its end is in the store queue (again after a
 *                          refusal), until the run is retired
 */
enum run_phase {
	RUN_SENDING,
	RUN_PAUSED,
	RUN_DECIDED,
	RUN_FINISHING,
};

struct run {
	struct dispatcher *d;
	struct claimed_job *job;
	struct edit_call *call;     /* the transfer, NULL once it ended */
	uint64_t claim_seq;         /* when its claim ran, in store order */
	int expect_finals;
	int images;                 /* stored */
	int pending;                /* store requests not yet completed */
	size_t pending_bytes;       /* image bytes among them */
	enum run_phase phase;       /* run_enter */
	int probe;                  /* sent to learn whether a pause is over */
	int store_failed;           /* an image could not be stored, for good:
	                             * the outcome counts (count_store_failure) */
	int finish_refusals;        /* the store refused its end, for good */
	int64_t t_start, t_end;     /* mono ms: claimed, outcome decided */
	int64_t ttfb_ms, bytes_in;  /* of the answer, -1/0 if none */
	int answer_status;          /* HTTP status once upstream answered */
	char request_id[128];       /* its x-request-id, or "" */
	char *model;                /* params.model as sent, NULL if none */
	int sent;                   /* the request went (or began to go) out */
	struct usage_tokens tokens; /* the usage's, when it parsed */
	struct attempt_result res;  /* strings owned (strdup), but model */
	enum job_next next;
	int64_t not_before;
	struct event *retry_ev;     /* finish again, after a refused one */
	TAILQ_ENTRY(run) entry;
};
TAILQ_HEAD(run_list, run);

/* Moves r to phase to, if the diagram above allows it. Returns 1 when it
 * moved, 0 when r is elsewhere (an end decided twice, a pause after the
 * end: the later word is ignored). */
static int
run_enter(struct run *r, enum run_phase to)
{
#define P(x) (1u << (x))
	static const unsigned next[] = {
		[RUN_SENDING] = P(RUN_PAUSED) | P(RUN_DECIDED),
		[RUN_PAUSED] = P(RUN_SENDING) | P(RUN_DECIDED),
		[RUN_DECIDED] = P(RUN_FINISHING),
		[RUN_FINISHING] = 0,
	};
#undef P

	if ((next[r->phase] & (1u << to)) == 0)
		return 0;
	r->phase = to;
	return 1;
}

/* The outcome is decided (the transfer is over or never began). */
static int
run_decided(const struct run *r)
{
	return r->phase == RUN_DECIDED || r->phase == RUN_FINISHING;
}

/* An image on its way to the store: the run and the bytes it holds. */
struct image_req {
	struct run *r;
	struct payload_image buf;
	/* the event's strings, which live only as long as the callback */
	char format[16], quality[32], background[32], reported_size[32];
};

/* Copies an optional string of the event; NULL stays NULL. */
static const char *
keep_str(char *dst, size_t n, const char *src)
{
	return src != NULL ? strlcpy_safe(dst, src, n) : NULL;
}

struct dispatcher {
	struct event_base *base;
	struct storeq *q;
	struct dispatch_config cfg;
	struct evcurl *ec;
	struct payload_pool *pool;  /* image buffers passed between attempts */

	struct run_list runs;       /* claimed, end not yet stored */
	int nruns;
	int nactive;                /* runs whose transfer goes on: the slots */
	size_t pending_bytes;       /* image bytes waiting for the store */

	struct event *poll_ev;      /* data_version check */
	struct event *kick_ev;      /* claim now (a slot freed, data changed) */
	struct event *wake_ev;      /* the next not_before */
	struct event *lease_ev;     /* renew leases, requeue expired ones */
	struct event *grace_ev;     /* end of the shutdown grace period */
	struct event *lease_retry_ev; /* a lease round again, soon */

	int claiming, polling, leasing; /* a request of that kind in flight */
	int64_t data_version;
	int64_t wake_at;            /* when the wake timer fires (epoch ms) */
	int stopping;

	struct event *budget_ev;    /* while over a budget: claim again */
	char budget_pause[320];     /* why a budget stops claims, "" if none */
	int budget_recheck;         /* one claim may go to see if it fits */

	struct ratelimit rl;        /* shared by every job */
	char auto_pause[256];       /* why upstream refuses us, "" if it does not */
	char *operator_pause;       /* `imgeditctl pause` reason, or NULL */
	char *resume_mark;          /* last `imgeditctl resume` seen */
	int64_t probe_at;           /* while paused: when to try one request */
	int64_t probe_backoff_ms;
	int probing;                /* a probe is claimed or in flight */
	struct dispatch_stats stats;
	struct metrics *m;          /* cfg.metrics, or own_metrics */
	struct metrics own_metrics;
};

static void run_end(struct run *r, const char *outcome, enum job_next next);

static void
timer_set(struct event *ev, int64_t ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_add(ev, &tv);
}

static void
kick(struct dispatcher *d)
{
	event_active(d->kick_ev, 0, 0);
}

/* A store request, or NULL (said in the log): out of memory. */
static struct sq_req *
request(enum sq_op op, sq_done_fn done, void *arg)
{
	struct sq_req *req = sq_req_new(op, done, arg);

	if (req == NULL)
		log_err("out_of_memory op=store_request");
	return req;
}

static void
res_free(struct attempt_result *res)
{
	free((char *)res->request_id);
	free((char *)res->error_type);
	free((char *)res->error_code);
	free((char *)res->error_message);
	free((char *)res->usage_json);
	memset(res, 0, sizeof(*res));
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* Keeps a copy of res (whose strings are the caller's) in the run. */
static void
res_keep(struct run *r, const struct attempt_result *res)
{
	const char *outcome = r->res.outcome;

	res_free(&r->res);
	r->res = *res;
	r->res.outcome = outcome;
	r->res.request_id = dup_or_null(res->request_id);
	r->res.error_type = dup_or_null(res->error_type);
	r->res.error_code = dup_or_null(res->error_code);
	r->res.error_message = dup_or_null(res->error_message);
	r->res.usage_json = dup_or_null(res->usage_json);
}

static void
run_free(struct run *r)
{
	if (r->retry_ev)
		event_free(r->retry_ev);
	res_free(&r->res);
	claimed_job_free(r->job);
	free(r->model);
	free(r);
}

/* The store has the run's end: it leaves. */
static void
run_retire(struct run *r)
{
	struct dispatcher *d = r->d;

	TAILQ_REMOVE(&d->runs, r, entry);
	d->nruns--;
	run_free(r);
	kick(d);
}

static void
log_finish(struct run *r, int rc, const struct sq_req *req)
{
	const struct attempt_result *res = &r->res;
	char msg[300];
	int failed = r->next == NEXT_FAILED && strcmp(res->outcome, "canceled");

	log_quote(res->error_message ? res->error_message : "", msg, sizeof(msg));
	log_msg(rc < 0 && rc != STORE_LOST ? LOG_LVL_ERR : failed ?
	    LOG_LVL_WARN : LOG_LVL_INFO,
	    "attempt_end job=%lld attempt=%d outcome=%s http=%d images=%d "
	    "duration_ms=%lld ttfb_ms=%lld bytes_in=%lld request_id=%s "
	    "cost_status=%s cost_usd_micro=%lld error_type=%s error=%s",
	    (long long)r->job->id, r->job->attempt,
	    res->outcome, res->http_status, r->images,
	    (long long)(r->t_end - r->t_start), (long long)r->ttfb_ms,
	    (long long)r->bytes_in, LOG_Q(res->request_id),
	    LOG_Q(res->cost_status), (long long)res->cost_usd_micro,
	    LOG_Q(res->error_type), msg);
	if (rc == STORE_LOST && strcmp(res->outcome, "canceled") != 0)
		log_info("job_lost job=%lld reason=\"canceled or lease taken\"",
		    (long long)r->job->id);
	else if (rc < 0 && rc != STORE_LOST)
		log_err("store_error op=finish_attempt job=%lld class=%s "
		    "error=%s retry_in_ms=%d", (long long)r->job->id,
		    db_err_name(req->err), LOG_Q(sq_req_error(req)), FINISH_RETRY_MS);
}

static void submit_finish(struct run *r);

/* ---- budgets ---- */

#define BUDGET_RECHECK_MS 30000 /* over a budget: claim again at least */

/* While over a budget, one claim may go to see whether a job fits now. */
static void
budget_recheck(struct dispatcher *d)
{
	if (d->budget_pause[0] == '\0' || d->budget_recheck)
		return;
	d->budget_recheck = 1;
	kick(d);
}

static void
on_budget_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	budget_recheck(arg);
}

/* The budgets and periods of now for a claim: NULL when no budget is set
 * (*fail 0) or on a failure (*fail 1, said in the log). */
static struct budget_claim *
budget_claim_now(const struct dispatcher *d, int *fail)
{
	struct budget_claim *bc;
	int64_t now = now_ms(), end;

	*fail = 0;
	if (d->cfg.budgets == NULL || d->cfg.budgets->n == 0)
		return NULL;
	if ((bc = calloc(1, sizeof(*bc))) == NULL ||
	    prices_copy(&bc->prices, &d->cfg.prices) == -1) {
		free(bc);
		log_err("out_of_memory op=budget_claim");
		*fail = 1;
		return NULL;
	}
	bc->limits = *d->cfg.budgets;
	if (period_bounds(PERIOD_DAY, now, &bc->day_start, &end) == -1 ||
	    period_bounds(PERIOD_MONTH, now, &bc->month_start, &end) == -1) {
		budget_claim_free(bc);
		log_err("budget_error error=\"the time cannot be told\"");
		*fail = 1;
		return NULL;
	}
	return bc;
}

/* A claim stopped at the budget v: nothing new starts until its period
 * turns, an attempt ends or the settings change. */
static void
budget_pause_set(struct dispatcher *d, const struct budget_verdict *v)
{
	char until[64], reason[sizeof(d->budget_pause)];
	int64_t now = now_ms(), start, end, wait;

	if (period_bounds(budget_monthly(v->limit.kind) ? PERIOD_MONTH :
	    PERIOD_DAY, now, &start, &end) == -1)
		end = now + BUDGET_RECHECK_MS;
	period_format(end, until, sizeof(until));
	budget_reason(v, until, reason, sizeof(reason));
	if (strcmp(reason, d->budget_pause) != 0)
		log_warn("paused reason=%s", LOG_Q(reason));
	strlcpy_safe(d->budget_pause, reason, sizeof(d->budget_pause));
	wait = end - now + 10; /* into the next period */
	timer_set(d->budget_ev, wait < BUDGET_RECHECK_MS ? wait :
	    BUDGET_RECHECK_MS);
}

static void
budget_pause_clear(struct dispatcher *d)
{
	if (d->budget_pause[0] == '\0')
		return;
	log_info("resumed by=budget");
	d->budget_pause[0] = '\0';
	evtimer_del(d->budget_ev);
}

static void
on_finish_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	submit_finish(arg);
}

static void
finish_done(void *arg, struct sq_req *req)
{
	struct run *r = arg;
	struct dispatcher *d = r->d;
	int rc = req->rc;

	log_finish(r, rc, req);
	if (req->written) {
		metrics_attempt(d->m, r->res.outcome);
		metrics_cost(d->m, r->model, r->res.cost_usd_micro,
		    r->tokens.text_in, r->tokens.image_in, r->tokens.output);
	}
	sq_req_free(req);
	r->pending--;
	if (rc < 0 && rc != STORE_LOST) {
		/* refused for good (not a lock, not the disk): the run stays,
		 * with its lease, and tries again a few times; then it lets
		 * go, and the lease it no longer renews expires */
		if (++r->finish_refusals < FINISH_TRIES && !d->stopping &&
		    r->retry_ev != NULL) {
			timer_set(r->retry_ev, FINISH_RETRY_MS);
			return;
		}
		log_err("finish_abandoned job=%lld attempt=%d tries=%d note=\"the "
		    "job returns to the queue when its lease expires\"",
		    (long long)r->job->id, r->job->attempt, r->finish_refusals);
		run_retire(r);
		return;
	}
	budget_recheck(d);	/* what it cost may free room */
	if (rc == STORE_LOST)
		d->stats.canceled++;
	else if (r->next == NEXT_SUCCEEDED)
		d->stats.succeeded++;
	else if (r->next == NEXT_FAILED)
		d->stats.failed++;
	else
		d->stats.requeued++;
	run_retire(r);
}

static void
submit_finish(struct run *r)
{
	struct sq_req *req;

	if (r->retry_ev == NULL &&
	    (r->retry_ev = evtimer_new(r->d->base, on_finish_retry, r)) == NULL)
		log_err("out_of_memory op=finish job=%lld", (long long)r->job->id);
	if ((req = request(SQ_FINISH, finish_done, r)) == NULL) {
		if (r->retry_ev != NULL)
			timer_set(r->retry_ev, FINISH_RETRY_MS);
		return;
	}
	req->u.finish.job_id = r->job->id;
	req->u.finish.attempt_id = r->job->attempt_id;
	req->u.finish.res = r->res;
	req->u.finish.next = r->next;
	req->u.finish.not_before = r->not_before;
	r->pending++;
	storeq_submit(r->d->q, req);
}

/* An image the store refused for good (not a lock, not the disk: a
 * corrupt page, say): the attempt counts, so that max_attempts ends what
 * would otherwise be paid for again and again. */
static void
count_store_failure(struct run *r)
{
	const char *why = "an image could not be stored (see the daemon log)";

	free((char *)r->res.error_type);
	free((char *)r->res.error_message);
	r->res.error_type = strdup("store_error");
	r->res.error_message = strdup(why);
	if (r->job->counted >= r->job->max_attempts) {
		r->res.outcome = "failed";
		r->next = NEXT_FAILED;
	} else {
		r->res.outcome = "retry";
		r->next = NEXT_RETRY;
		r->not_before = now_ms() + retry_delay_ms(&r->d->cfg.retry,
		    r->job->counted, -1, (uint32_t)random());
	}
}

/* Once the outcome is decided and every image of the attempt is stored
 * (or refused), the attempt's end goes to the store. */
static void
maybe_finish(struct run *r)
{
	if (r->phase != RUN_DECIDED || r->pending > 0 ||
	    !run_enter(r, RUN_FINISHING))
		return;
	if (r->store_failed && r->next == NEXT_SUCCEEDED)
		count_store_failure(r);
	submit_finish(r);
}

/* What the attempt cost, by the prices in force now that it ends. */
/* An attempt whose cost is not known counts at its hold, never as zero:
 * the budgets' claim wrote one; a claim without budgets did not, so the
 * end writes the same estimate (the store keeps a hold already there). */
static void
run_hold(struct run *r, enum cost_status st)
{
	const struct claimed_job *job = r->job;
	struct budget_need need;
	size_t i, nimages = 0;

	r->res.hold_usd_micro = r->res.hold_tokens = -1;
	if (st == COST_KNOWN || st == COST_NOT_BILLED || job->params == NULL)
		return;
	for (i = 0; i < job->ninputs; i++)
		nimages += job->inputs[i].role == INPUT_IMAGE;
	budget_need_of(&r->d->cfg.prices, job->params, job->stream, nimages,
	    job->ninputs - nimages, &need);
	r->res.hold_usd_micro = need.usd;
	r->res.hold_tokens = need.tokens;
}

static void
run_cost(struct run *r)
{
	enum cost_status st;
	char why[160] = "";
	int64_t micro;
	int parsed;

	st = cost_settle(&r->d->cfg.prices, r->model, r->res.usage_json,
	    r->res.http_status, r->sent, &micro, why, sizeof(why));
	parsed = cost_usage_parse(r->res.usage_json, &r->tokens, why,
	    sizeof(why)) == COST_KNOWN;
	if (!parsed)
		memset(&r->tokens, 0, sizeof(r->tokens));
	/* the counts stored reach the token budgets and status: the checked
	 * ones when usage parsed; else upstream's if they add up (a gateway's
	 * usage without details), else 0 (the budgets count the hold).
	 * usage itself is stored as sent. */
	if (parsed) {
		r->res.input_tokens = r->tokens.text_in + r->tokens.image_in;
		r->res.output_tokens = r->tokens.output;
		r->res.total_tokens = r->res.input_tokens +
		    r->res.output_tokens;
	} else if (r->res.input_tokens < 0 || r->res.output_tokens < 0 ||
	    r->res.input_tokens > PRICES_TOKENS_MAX ||
	    r->res.output_tokens > PRICES_TOKENS_MAX ||
	    r->res.total_tokens != r->res.input_tokens + r->res.output_tokens)
		r->res.input_tokens = r->res.output_tokens =
		    r->res.total_tokens = 0;
	r->res.model = r->model;
	r->res.cost_status = cost_status_name(st);
	r->res.cost_usd_micro = st == COST_KNOWN || st == COST_NOT_BILLED ?
	    micro : -1;
	run_hold(r, st);
	if (st == COST_BAD_USAGE)
		log_warn("bad_usage job=%lld attempt=%d error=%s",
		    (long long)r->job->id, r->job->attempt, LOG_Q(why));
}

/* Decides the attempt's outcome: the transfer is over (or never began). */
static void
run_end(struct run *r, const char *outcome, enum job_next next)
{
	struct dispatcher *d = r->d;

	if (r->call != NULL) {
		edit_call_cancel(r->call);
		r->call = NULL;
	}
	if (!run_enter(r, RUN_DECIDED))
		return;
	if (r->probe) {
		r->probe = 0;
		d->probing = 0; /* canceled, lost or done: the next may go */
	}
	d->nactive--;
	r->t_end = mono_ms();
	metrics_observe(&d->m->duration, r->t_end - r->t_start);
	r->res.outcome = outcome;
	r->next = next;
	run_cost(r);
	maybe_finish(r);
	kick(d);
}

/* A job that cannot be sent as it is: fails at once, the daemon goes on. */
static void
fail_invalid(struct run *r, const char *reason)
{
	struct attempt_result res = { 0 };

	res.error_type = "invalid_job";
	res.error_message = reason;
	res_keep(r, &res);
	run_end(r, "failed", NEXT_FAILED);
}

/* Ends an attempt now: the transfer is dropped, the attempt not counted
 * unless it is canceled (then the job stays as the canceler left it). */
static void
run_abort(struct run *r, const char *outcome, enum job_next next)
{
	struct attempt_result res = { 0 };
	int canceled = strcmp(outcome, "canceled") == 0;

	if (run_decided(r))
		return; /* its end may be in the store queue: leave res alone */
	/* what upstream had answered, if it had */
	res.http_status = r->answer_status;
	res.request_id = r->request_id[0] ? r->request_id : NULL;
	res.error_type = canceled ? "canceled" : "shutdown";
	res.error_message = canceled ? "canceled while running" :
	    "the daemon stopped during the attempt";
	res_keep(r, &res);
	run_end(r, outcome, next);
}

/* ---- the store's answers about images ---- */

/* Image buffers in memory (being received, or waiting for the store)
 * against --memory-max. */
static int
over_budget(const struct dispatcher *d)
{
	return payload_pool_lent(d->pool) >= d->cfg.memory_max;
}

/* Commits caught up: paused transfers go on. */
static void
resume_paused(struct dispatcher *d)
{
	struct run *r, *next;

	for (r = TAILQ_FIRST(&d->runs); r != NULL && !over_budget(d); r = next) {
		next = TAILQ_NEXT(r, entry);
		if (r->call != NULL && run_enter(r, RUN_SENDING)) {
			/* to the back: the next resume starts with the others */
			TAILQ_REMOVE(&d->runs, r, entry);
			TAILQ_INSERT_TAIL(&d->runs, r, entry);
			edit_call_resume(r->call);
		}
	}
}

static void
image_done(void *arg, struct sq_req *req)
{
	struct image_req *ir = arg;
	struct run *r = ir->r;
	struct dispatcher *d = r->d;
	size_t size = ir->buf.size;

	if (req->written)
		metrics_image(d->m, req->u.image.kind, size);
	if (req->rc >= 0 || req->rc == STORE_LOST) {
		r->images++;
		d->stats.images++;
		log_debug("image_stored job=%lld attempt=%d kind=%s idx=%d "
		    "size=%zu sha256=%s", (long long)r->job->id, r->job->attempt,
		    req->u.image.kind == IMAGE_FINAL ? "final" : "partial",
		    req->u.image.idx, size, req->sha256);
	}
	if (req->rc == STORE_LOST) {
		if (r->call != NULL) /* not ours: the transfer ends now */
			run_abort(r, "canceled", NEXT_FAILED);
	} else if (req->rc < 0 && req->rc != STORE_LOST) {
		log_err("store_error op=commit_image job=%lld class=%s "
		    "error=%s", (long long)r->job->id, db_err_name(req->err),
		    LOG_Q(sq_req_error(req)));
		r->store_failed = 1;
		if (r->call != NULL) {
			edit_call_cancel(r->call); /* decided in maybe_finish */
			r->call = NULL;
			run_end(r, "succeeded", NEXT_SUCCEEDED);
		}
	}
	payload_pool_put(d->pool, &ir->buf);
	free(ir);
	sq_req_free(req);
	r->pending--;
	r->pending_bytes -= size;
	d->pending_bytes -= size;
	resume_paused(d);
	maybe_finish(r);
}

static void
answered_done(void *arg, struct sq_req *req)
{
	struct run *r = arg;

	if (req->rc < 0 && req->rc != STORE_LOST)
		log_warn("store_error op=attempt_answered job=%lld class=%s "
		    "error=%s", (long long)r->job->id, db_err_name(req->err),
		    LOG_Q(sq_req_error(req)));
	sq_req_free(req);
	r->pending--;
	maybe_finish(r);
}

/* ---- upstream callbacks ---- */

static void
on_response(void *arg, long http_status, const char *request_id)
{
	struct run *r = arg;
	struct sq_req *req;

	r->answer_status = (int)http_status;
	metrics_response(r->d->m, http_status);
	strlcpy_safe(r->request_id, request_id ? request_id : "",
	    sizeof(r->request_id));
	if ((req = request(SQ_ANSWERED, answered_done, r)) == NULL)
		return;
	req->u.answered.attempt_id = r->job->attempt_id;
	req->u.answered.http_status = (int)http_status;
	strlcpy_safe(req->u.answered.request_id, request_id ? request_id : "",
	    sizeof(req->u.answered.request_id));
	r->pending++;
	storeq_submit(r->d->q, req);
}

/* The request is out: its input bytes, held since the claim, go now rather
 * than when the answer ends (at --concurrency 256 with 4 MB inputs, 1 GB). */
static void
on_inputs_sent(void *arg)
{
	struct run *r = arg;

	claimed_job_drop_input_bytes(r->job);
}

static int
should_pause(void *arg)
{
	struct run *r = arg;

	if (!over_budget(r->d))
		return 0;
	if (run_enter(r, RUN_PAUSED))
		log_debug("transfer_paused job=%lld pending_bytes=%zu "
		    "held_bytes=%zu", (long long)r->job->id,
		    r->d->pending_bytes, payload_pool_lent(r->d->pool));
	return 1;
}

/* An image came: its bytes go to the store queue, kept until committed. */
static int
on_image(void *arg, const struct upstream_image *img)
{
	struct run *r = arg;
	struct dispatcher *d = r->d;
	struct image_req *ir;
	struct sq_req *req;
	struct store_image *si;

	if ((ir = calloc(1, sizeof(*ir))) == NULL ||
	    (req = request(SQ_IMAGE, image_done, ir)) == NULL) {
		free(ir);
		r->store_failed = 1;
		return -1;
	}
	if (upstream_image_keep(img, &ir->buf) == -1) {
		log_err("out_of_memory op=keep_image job=%lld",
		    (long long)r->job->id);
		free(ir);
		sq_req_free(req);
		r->store_failed = 1;
		return -1;
	}
	ir->r = r;
	si = &req->u.image;
	si->job_id = r->job->id;
	si->attempt_id = r->job->attempt_id;
	si->kind = img->kind;
	si->idx = img->idx;
	si->partial_index = img->partial_index;
	si->format = keep_str(ir->format, sizeof(ir->format), img->format);
	si->width = img->width;
	si->height = img->height;
	si->quality = keep_str(ir->quality, sizeof(ir->quality), img->quality);
	si->background = keep_str(ir->background, sizeof(ir->background),
	    img->background);
	si->reported_size = keep_str(ir->reported_size,
	    sizeof(ir->reported_size), img->reported_size);
	si->data = ir->buf.data;
	si->size = ir->buf.size;
	r->pending++;
	r->pending_bytes += si->size;
	d->pending_bytes += si->size;
	storeq_submit(d->q, req);
	return 0;
}

static void
result_from_outcome(struct attempt_result *res, const struct edit_outcome *out)
{
	res->http_status = (int)out->http_status;
	res->request_id = out->request_id;
	res->error_type = out->error_type;
	res->error_code = out->error_code;
	res->error_message = out->error_message;
	res->input_tokens = out->input_tokens;
	res->output_tokens = out->output_tokens;
	res->total_tokens = out->total_tokens;
	res->usage_json = out->usage_json;
}

/* Upstream refuses the account (key, quota): nothing is sent until a probe
 * succeeds, on a doubling schedule, or until `imgeditctl resume`. The
 * schedule steps once per probe: attempts that were in flight when the
 * pause began fail too, and do not push the probe further away. */
static void
pause_dispatch(struct dispatcher *d, const struct edit_outcome *out, int probe)
{
	int64_t now = now_ms();

	if (d->auto_pause[0] != '\0' && !probe)
		return;
	if (d->auto_pause[0] == '\0' || d->probe_backoff_ms == 0)
		d->probe_backoff_ms = d->cfg.probe_min_ms;
	else if (d->probe_backoff_ms < d->cfg.probe_max_ms / 2)
		d->probe_backoff_ms *= 2;
	else
		d->probe_backoff_ms = d->cfg.probe_max_ms;
	snprintf(d->auto_pause, sizeof(d->auto_pause), "HTTP %ld %s: %s",
	    out->http_status, out->error_code ? out->error_code :
	    out->error_type ? out->error_type : "error",
	    out->error_message ? out->error_message : "(no message)");
	d->probe_at = now + d->probe_backoff_ms;
	log_warn("paused reason=%s probe_in_ms=%lld", LOG_Q(d->auto_pause),
	    (long long)d->probe_backoff_ms);
}

static void
unpause(struct dispatcher *d, const char *why)
{
	if (d->auto_pause[0] == '\0')
		return;
	log_info("resumed by=%s", why);
	d->auto_pause[0] = '\0';
	d->probe_backoff_ms = 0;
	kick(d);
}

/* A transient failure: the job waits in retry_wait, or fails when it has
 * no attempt left. Only counted attempts decide, and set the backoff. A
 * 429 holds back every job, not only this one. */
static void
schedule_retry(struct run *r, const struct edit_outcome *out)
{
	struct dispatcher *d = r->d;
	int64_t delay, now = now_ms();

	delay = retry_delay_ms(&d->cfg.retry, r->job->counted,
	    out->retry_after_ms, (uint32_t)random());
	if (out->http_status == 429)
		ratelimit_block_until(&d->rl, now + delay);
	if (r->job->counted >= r->job->max_attempts) {
		run_end(r, "failed", NEXT_FAILED);
		return;
	}
	log_info("retry job=%lld attempt=%d counted=%d/%d in_ms=%lld",
	    (long long)r->job->id, r->job->attempt, r->job->counted,
	    r->job->max_attempts, (long long)delay);
	r->not_before = now + delay;
	run_end(r, "retry", NEXT_RETRY);
}

/* A clean answer with fewer images than asked: the job has what upstream
 * chose to deliver (asking again would pay for all of them again). */
static void
note_fewer_finals(struct run *r, int finals)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "upstream delivered %d of %d images", finals,
	    r->expect_finals);
	free((char *)r->res.error_type);
	free((char *)r->res.error_message);
	r->res.error_type = strdup("fewer_finals");
	r->res.error_message = strdup(msg);
	log_warn("fewer_finals job=%lld attempt=%d finals=%d n=%d",
	    (long long)r->job->id, r->job->attempt, finals, r->expect_finals);
}

static void
on_done(void *arg, const struct edit_outcome *out)
{
	struct run *r = arg;
	struct dispatcher *d = r->d;
	struct attempt_result res = { 0 };
	enum retry_verdict v;
	int probe = r->probe;

	r->call = NULL; /* upstream.c frees it when this returns */
	r->ttfb_ms = out->ttfb_ms;
	r->bytes_in = out->bytes_in;
	metrics_observe(&d->m->ttfb, out->ttfb_ms);
	result_from_outcome(&res, out);
	res_keep(r, &res);
	ratelimit_observe(&d->rl, &out->ratelimit, now_ms());
	if (out->status == EDIT_ABORTED) {
		/* an image could not be handed to the store (memory): the
		 * attempt counts, see count_store_failure */
		r->store_failed = 1;
		run_end(r, "succeeded", NEXT_SUCCEEDED);
		return;
	}
	if (out->status == EDIT_TRANSPORT && (out->was_paused ||
	    out->local_fault)) {
		/* we held the transfer back for the database, or had no
		 * descriptor for it: our doing, not upstream's, so the attempt
		 * does not count (and waits a little, if descriptors ran out) */
		if (out->local_fault)
			r->not_before = now_ms() + REQUEUE_DELAY_MS;
		run_end(r, "interrupted", NEXT_REQUEUE);
		return;
	}
	v = retry_classify(out);
	if (v != VERDICT_PAUSE && probe)
		unpause(d, "probe");
	if (v == VERDICT_SUCCESS) {
		if (out->finals < r->expect_finals)
			note_fewer_finals(r, out->finals);
		run_end(r, "succeeded", NEXT_SUCCEEDED);
	} else if (v == VERDICT_PAUSE) {
		pause_dispatch(d, out, probe);
		run_end(r, "paused", NEXT_REQUEUE);
	} else if (v == VERDICT_RETRY) {
		if (out->status == EDIT_OK) {
			free((char *)r->res.error_type);
			free((char *)r->res.error_message);
			r->res.error_type = strdup("bad_response");
			r->res.error_message = strdup("the response held no image");
		}
		schedule_retry(r, out);
	} else {
		run_end(r, "failed", NEXT_FAILED);
	}
}

/* ---- starting attempts ---- */

/* Checks the claimed job by the API's rules. Returns 0, or -1 with reason.
 * The stream column's 1 (its default) means "when the model can": a
 * dall-e-2 job with it is sent without streaming (schema/README.md). */
static int
check_job(struct claimed_job *job, int *expect_finals, char **model,
    char *err, size_t errlen)
{
	struct jobspec_input *ins = NULL;
	json_t *params;
	json_error_t jerr;
	size_t i;
	int rc = -1;

	if (job->load_error) {
		snprintf(err, errlen, "%s", job->load_error);
		return -1;
	}
	if ((params = json_loads(job->params, 0, &jerr)) == NULL) {
		snprintf(err, errlen, "params: not valid JSON: %s", jerr.text);
		return -1;
	}
	if (json_is_string(json_object_get(params, "model")))
		*model = strdup(json_string_value(json_object_get(params,
		    "model")));
	if (job->stream && !jobspec_can_stream(params) &&
	    !json_is_true(json_object_get(params, "stream")))
		job->stream = 0;
	if ((ins = calloc(job->ninputs + 1, sizeof(*ins))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < job->ninputs; i++) {
		ins[i].role = job->inputs[i].role;
		ins[i].filename = job->inputs[i].filename;
		ins[i].data = job->inputs[i].data;
		ins[i].size = job->inputs[i].size;
		ins[i].content_type = job->inputs[i].content_type;
	}
	rc = jobspec_validate(params, job->stream, ins, job->ninputs, err, errlen);
	*expect_finals = jobspec_n(params);
out:
	free(ins);
	json_decref(params);
	return rc;
}

static const struct edit_callbacks run_callbacks = { on_response,
    on_inputs_sent, on_image, should_pause, on_done };

static void
start_run(struct dispatcher *d, struct claimed_job *job, uint64_t seq,
    int probe)
{
	struct run *r;
	char err[512];

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		claimed_job_free(job);
		if (probe)
			d->probing = 0;
		return; /* the lease expires and the job runs again */
	}
	r->d = d;
	r->job = job;
	r->claim_seq = seq;
	r->probe = probe;
	r->t_start = mono_ms();
	r->ttfb_ms = -1;
	TAILQ_INSERT_TAIL(&d->runs, r, entry);
	d->nruns++;
	d->nactive++;
	d->stats.claimed++;
	log_info("attempt_start job=%lld attempt=%d counted=%d/%d inputs=%zu "
	    "stream=%d%s", (long long)job->id, job->attempt, job->counted,
	    job->max_attempts, job->ninputs, job->stream, probe ? " probe=1" : "");
	if (d->stopping || job->load_transient) {
		if (job->load_transient) /* not at once: the database is unwell */
			r->not_before = now_ms() + REQUEUE_DELAY_MS;
		run_abort(r, "interrupted", NEXT_REQUEUE);
		return;
	}
	if (check_job(job, &r->expect_finals, &r->model, err,
	    sizeof(err)) == -1) {
		fail_invalid(r, err);
		return;
	}
	r->sent = 1; /* from here, whatever upstream heard may be billed */
	if ((r->call = edit_call_start(d->ec, &d->cfg.up, job,
	    r->expect_finals, &run_callbacks, r, err, sizeof(err))) == NULL) {
		r->sent = 0;
		fail_invalid(r, err);
		return;
	}
	ratelimit_take(&d->rl, r->expect_finals, now_ms());
}

/* Makes the wake timer fire at `when` (epoch ms) unless it fires sooner. */
static void
wake_at(struct dispatcher *d, int64_t when)
{
	int64_t now = now_ms();

	if (when <= now)
		when = now + 1;
	if (d->wake_at != 0 && d->wake_at <= when &&
	    event_pending(d->wake_ev, EV_TIMEOUT, NULL))
		return;
	d->wake_at = when;
	timer_set(d->wake_ev, when - now);
}

/* Whether a request may start now; if not, the wake timer is set for when
 * it may. While paused, one probe goes out when its time has come. While
 * the database refuses writes (disk full), nothing new starts. */
static int
may_send(struct dispatcher *d, int *probe)
{
	struct storeq_health h;
	int64_t now = now_ms(), wait;

	*probe = 0;
	if (d->stopping || d->claiming || d->operator_pause != NULL ||
	    d->nactive >= d->cfg.concurrency ||
	    (d->budget_pause[0] != '\0' && !d->budget_recheck))
		return 0;
	storeq_health(d->q, &h);
	if (h.fault_ms > 0) {
		wake_at(d, now + 500);
		return 0;
	}
	if (d->auto_pause[0] != '\0') {
		if (d->probing)
			return 0;
		if (now < d->probe_at) {
			wake_at(d, d->probe_at);
			return 0;
		}
		*probe = 1;
	}
	if ((wait = ratelimit_wait_ms(&d->rl, 1, now)) > 0) {
		metrics_ratelimit(d->m, 1, mono_ms());
		wake_at(d, now + wait);
		return 0;
	}
	metrics_ratelimit(d->m, 0, mono_ms());
	return 1;
}

/* A job claimed again while a run of it goes on here: canceled and
 * retried before a poll could tell (on PostgreSQL the requeue's NOTIFY
 * brings the claim at once). The old transfer is no longer the job's: it
 * ends now, as a cancel would end it, before the new one starts. */
static void
drop_old_runs(struct dispatcher *d, int64_t job_id)
{
	struct run *r, *next;

	for (r = TAILQ_FIRST(&d->runs); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry); /* as reconcile: r may leave */
		if (r->job->id != job_id || r->call == NULL)
			continue;
		run_abort(r, "canceled", NEXT_FAILED);
	}
}

static void
claim_done(void *arg, struct sq_req *req)
{
	struct dispatcher *d = arg;
	int probe = d->probing && d->claiming == 2, i;

	d->claiming = 0;
	d->budget_recheck = 0;
	if (req->rc >= 0 && req->u.claim.verdict.crossed)
		budget_pause_set(d, &req->u.claim.verdict);
	else if (req->rc >= 0)
		budget_pause_clear(d);
	for (i = 0; i < req->rc; i++) {
		drop_old_runs(d, req->u.claim.jobs[i]->id);
		start_run(d, req->u.claim.jobs[i], req->seq, probe && i == 0);
		req->u.claim.jobs[i] = NULL;
	}
	if (req->rc > 0 && req->rc == req->u.claim.want) {
		kick(d); /* there may be more */
	} else if (req->rc > 0) {
		if (req->u.claim.next_wake > 0)
			wake_at(d, req->u.claim.next_wake);
	} else {
		if (probe)
			d->probing = 0;
		if (req->rc == 0 && req->u.claim.next_wake > 0)
			wake_at(d, req->u.claim.next_wake);
		else if (req->rc < 0) {
			log_err("store_error op=claim class=%s error=%s",
			    db_err_name(req->err), LOG_Q(sq_req_error(req)));
			wake_at(d, now_ms() + 1000); /* not only on a change */
		}
	}
	sq_req_free(req);
	if (d->stopping && d->nruns == 0)
		event_base_loopexit(d->base, NULL);
}

/* Claims ready jobs into the free slots, one claim request at a time, as
 * the pause and the limits allow: several jobs per request (so that 256
 * slots fill in a few round trips to the writer), one at a time while a
 * rate limit or a probe has to judge each; its completion claims more. */
static void
fill_slots(struct dispatcher *d)
{
	struct budget_claim *bc;
	struct sq_req *req;
	int probe, want, fail;

	if (!may_send(d, &probe))
		return;
	bc = budget_claim_now(d, &fail);
	if (fail || (req = request(SQ_CLAIM, claim_done, d)) == NULL) {
		budget_claim_free(bc);
		wake_at(d, now_ms() + 1000);
		return;
	}
	req->u.claim.budget = bc;
	want = d->cfg.concurrency - d->nactive;
	if (probe || d->cfg.rpm > 0 || d->cfg.ipm > 0)
		want = 1;
	req->u.claim.want = want < SQ_CLAIM_MAX ? want : SQ_CLAIM_MAX;
	req->u.claim.lease_ms = d->cfg.lease_ms;
	d->claiming = probe ? 2 : 1;
	d->probing |= probe;
	storeq_submit(d->q, req);
}

/* ---- watching the database ---- */

static int
owned(const struct sq_req *req, const struct run *r)
{
	size_t i;

	for (i = 0; i < req->u.poll.nowned; i++)
		if (req->u.poll.owned[i].job_id == r->job->id &&
		    req->u.poll.owned[i].attempt_id == r->job->attempt_id)
			return 1;
	return 0;
}

/* Aborts transfers whose job another process canceled or took over: the
 * job and the attempt must both still be ours. Runs claimed after the poll
 * ran are not judged by it. */
static void
reconcile(struct dispatcher *d, const struct sq_req *req)
{
	struct run *r, *next;

	for (r = TAILQ_FIRST(&d->runs); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (r->call == NULL || r->claim_seq > req->seq || owned(req, r))
			continue;
		run_abort(r, "canceled", NEXT_FAILED);
	}
}

static void
on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct dispatcher *d = arg;

	(void)fd;
	(void)what;
	/* a run that ended let go of its image buffers: paused streams may
	 * go on (also during the grace: they are finishing) */
	resume_paused(d);
	if (d->stopping) {
		if (d->nruns == 0 && !d->claiming)
			event_base_loopexit(d->base, NULL);
		return;
	}
	fill_slots(d);
}

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* The operator's switches: `imgeditctl pause` and `resume`. */
static void
read_control(struct dispatcher *d, struct sq_req *req)
{
	char *pause = req->u.poll.pause, *resume = req->u.poll.resume;

	if (!same(pause, d->operator_pause))
		log_info("operator_pause state=%s reason=%s", pause ? "on" :
		    "off", LOG_Q(pause));
	free(d->operator_pause);
	d->operator_pause = pause;
	req->u.poll.pause = NULL;
	if (!same(resume, d->resume_mark)) {
		if (d->resume_mark != NULL || d->data_version != -1) {
			unpause(d, "operator");
			budget_recheck(d);
		}
		free(d->resume_mark);
		d->resume_mark = resume;
		req->u.poll.resume = NULL;
	}
}

static void
poll_done(void *arg, struct sq_req *req)
{
	struct dispatcher *d = arg;

	d->polling = 0;
	if (req->rc == STORE_OK && req->u.poll.changed) {
		read_control(d, req);
		d->data_version = req->u.poll.data_version;
		reconcile(d, req); /* also during the grace: a cancel is a cancel */
		kick(d);
	}
	sq_req_free(req);
}

static void
on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct dispatcher *d = arg;
	struct sq_req *req;

	(void)fd;
	(void)what;
	if (d->nruns == 0)
		payload_pool_trim(d->pool); /* idle: give the memory back */
	resume_paused(d); /* whatever let buffers go, none waits past a tick */
	if (d->polling || (req = request(SQ_POLL, poll_done, d)) == NULL)
		return;
	req->u.poll.data_version = d->data_version;
	d->polling = 1;
	storeq_submit(d->q, req);
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct dispatcher *d = arg;

	(void)fd;
	(void)what;
	d->wake_at = 0;
	kick(d);
}

static void
lease_done(void *arg, struct sq_req *req)
{
	struct dispatcher *d = arg;

	d->leasing = 0;
	if (req->rc < 0) {
		/* a busy database must not let our leases lapse: again soon */
		if (req->err != DBE_LOCK)
			log_warn("store_error op=lease_round class=%s error=%s",
			    db_err_name(req->err), LOG_Q(sq_req_error(req)));
		timer_set(d->lease_retry_ev, LEASE_RETRY_MS);
	} else if (req->u.leases.requeued > 0) {
		log_info("leases_expired requeued=%d", req->u.leases.requeued);
		kick(d);
	}
	free(req->u.leases.runs);
	sq_req_free(req);
}

/* Renews the leases of the runs that exist (and no other), then requeues
 * expired ones, in one store request. */
static void
on_lease(evutil_socket_t fd, short what, void *arg)
{
	struct dispatcher *d = arg;
	struct sq_req *req;
	struct run *r;
	size_t n = 0;

	(void)fd;
	(void)what;
	if (d->leasing || (req = request(SQ_LEASES, lease_done, d)) == NULL)
		return;
	if (d->nruns > 0 && (req->u.leases.runs = calloc((size_t)d->nruns,
	    sizeof(*req->u.leases.runs))) == NULL) {
		sq_req_free(req);
		return;
	}
	TAILQ_FOREACH(r, &d->runs, entry) {
		req->u.leases.runs[n].job_id = r->job->id;
		req->u.leases.runs[n++].attempt_id = r->job->attempt_id;
	}
	req->u.leases.nruns = n;
	req->u.leases.lease_ms = d->cfg.lease_ms;
	d->leasing = 1;
	storeq_submit(d->q, req);
}

/* ---- stopping ---- */

static void
abort_all(struct dispatcher *d)
{
	struct run *r, *next;

	for (r = TAILQ_FIRST(&d->runs); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (!run_decided(r))
			run_abort(r, "interrupted", NEXT_REQUEUE);
	}
}

static void
on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct dispatcher *d = arg;

	(void)fd;
	(void)what;
	if (d->nactive > 0)
		log_info("grace_over aborting=%d", d->nactive);
	abort_all(d);
	kick(d);
}

void
dispatch_stop(struct dispatcher *d, int64_t grace_ms)
{
	if (!d->stopping)
		log_info("stopping in_flight=%d grace_ms=%lld", d->nactive,
		    (long long)grace_ms);
	d->stopping = 1;
	event_del(d->wake_ev);
	timer_set(d->grace_ev, grace_ms);
	kick(d);
}

/* ---- life cycle ---- */

struct dispatcher *
dispatch_new(struct event_base *base, struct storeq *q,
    const struct dispatch_config *cfg)
{
	struct dispatcher *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->base = base;
	d->q = q;
	d->cfg = *cfg;
	metrics_init(&d->own_metrics);
	d->m = cfg->metrics != NULL ? cfg->metrics : &d->own_metrics;
	d->data_version = -1;
	ratelimit_init(&d->rl, cfg->rpm, cfg->ipm, now_ms());
	TAILQ_INIT(&d->runs);
	d->ec = evcurl_new(base, upstream_transfer_done, d);
	d->pool = payload_pool_new(cfg->concurrency < POOL_SPARES_MAX ?
	    cfg->concurrency : POOL_SPARES_MAX);
	d->cfg.up.pool = d->pool;
	d->poll_ev = event_new(base, -1, EV_PERSIST, on_poll, d);
	d->kick_ev = event_new(base, -1, 0, on_kick, d);
	d->wake_ev = evtimer_new(base, on_wake, d);
	d->lease_ev = event_new(base, -1, EV_PERSIST, on_lease, d);
	d->grace_ev = evtimer_new(base, on_grace, d);
	d->lease_retry_ev = evtimer_new(base, on_lease, d);
	d->budget_ev = evtimer_new(base, on_budget_timer, d);
	if (d->budget_ev == NULL || d->ec == NULL || d->pool == NULL || d->poll_ev == NULL || d->kick_ev == NULL ||
	    d->wake_ev == NULL || d->lease_ev == NULL || d->grace_ev == NULL ||
	    d->lease_retry_ev == NULL) {
		dispatch_free(d);
		return NULL;
	}
	return d;
}

/* The store heard of new or requeued jobs (PostgreSQL's NOTIFY). */
static void
on_store_change(void *arg)
{
	kick(arg);
}

int
dispatch_start(struct dispatcher *d)
{
	storeq_on_change(d->q, on_store_change, d);
	timer_set(d->poll_ev, d->cfg.poll_ms);
	timer_set(d->lease_ev, d->cfg.lease_ms / 3);
	on_lease(-1, 0, d); /* expired leases first, then the first claim */
	on_poll(-1, 0, d);
	kick(d);
	return 0;
}

void
dispatch_set_concurrency(struct dispatcher *d, int concurrency)
{
	d->cfg.concurrency = concurrency;
	kick(d);
}

void
dispatch_reload(struct dispatcher *d, const struct dispatch_config *cfg)
{
	struct payload_pool *pool = d->cfg.up.pool;

	if (cfg->rpm != d->cfg.rpm || cfg->ipm != d->cfg.ipm)
		ratelimit_set_rates(&d->rl, cfg->rpm, cfg->ipm, now_ms());
	d->cfg.rpm = cfg->rpm;
	d->cfg.ipm = cfg->ipm;
	d->cfg.retry = cfg->retry;
	d->cfg.probe_min_ms = cfg->probe_min_ms;
	d->cfg.probe_max_ms = cfg->probe_max_ms;
	d->cfg.memory_max = cfg->memory_max;
	d->cfg.prices = cfg->prices; /* attempts ending from now on */
	d->cfg.up = cfg->up; /* calls read it: new attempts take it all */
	d->cfg.up.pool = pool;
	d->cfg.budgets = cfg->budgets;
	budget_recheck(d);
	resume_paused(d);
	dispatch_set_concurrency(d, cfg->concurrency);
}

void
dispatch_set_api_key(struct dispatcher *d, const char *key)
{
	d->cfg.up.api_key = key;
}

void
dispatch_get_stats(const struct dispatcher *d, struct dispatch_stats *out)
{
	struct storeq_health h;

	*out = d->stats;
	out->running = d->nactive;
	out->stopping = d->stopping;
	out->pending_bytes = d->pending_bytes;
	out->held_bytes = payload_pool_lent(d->pool);
	out->held_peak = payload_pool_lent_peak(d->pool);
	storeq_health(d->q, &h);
	out->db_trouble[0] = '\0';
	if (h.fault_ms > 0)
		snprintf(out->db_trouble, sizeof(out->db_trouble),
		    "database writes failing for %lld s: %s",
		    (long long)(h.fault_ms + 999) / 1000, h.fault);
	else if (h.locked_ms >= DB_TROUBLE_MS)
		snprintf(out->db_trouble, sizeof(out->db_trouble),
		    "database locked by another program for %lld s",
		    (long long)h.locked_ms / 1000);
	if (d->operator_pause != NULL)
		snprintf(out->pause_reason, sizeof(out->pause_reason),
		    "paused by operator: %s", d->operator_pause[0] ?
		    d->operator_pause : "no reason given");
	else if (d->auto_pause[0] != '\0')
		snprintf(out->pause_reason, sizeof(out->pause_reason), "%s",
		    d->auto_pause);
	else if (d->budget_pause[0] != '\0')
		snprintf(out->pause_reason, sizeof(out->pause_reason), "%s",
		    d->budget_pause);
	else if (h.fault_ms > 0) /* may_send starts nothing meanwhile */
		snprintf(out->pause_reason, sizeof(out->pause_reason), "%s",
		    out->db_trouble);
	else
		out->pause_reason[0] = '\0';
}

void
dispatch_free(struct dispatcher *d)
{
	struct run *r;

	if (d == NULL)
		return;
	while ((r = TAILQ_FIRST(&d->runs)) != NULL) {
		TAILQ_REMOVE(&d->runs, r, entry);
		edit_call_cancel(r->call);
		run_free(r);
	}
	if (d->poll_ev) event_free(d->poll_ev);
	if (d->kick_ev) event_free(d->kick_ev);
	if (d->wake_ev) event_free(d->wake_ev);
	if (d->lease_ev) event_free(d->lease_ev);
	if (d->grace_ev) event_free(d->grace_ev);
	if (d->lease_retry_ev) event_free(d->lease_retry_ev);
	if (d->budget_ev) event_free(d->budget_ev);
	if (d->ec) evcurl_free(d->ec);
	payload_pool_free(d->pool);
	free(d->operator_pause);
	free(d->resume_mark);
	free(d);
}
