/* dispatch.c: the scheduler: watches the database (PRAGMA data_version),
 * claims jobs into free slots, stores each image as it arrives, ends attempts. */
#include "dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <jansson.h>

#include "jobspec.h"
#include "log.h"
#include "payload.h"
#include "ratelimit.h"
#include "util.h"

/* Image buffers kept between attempts: at most this many (~2 MB each). */
#define POOL_SPARES_MAX 64

/* One claimed job and its attempt in flight. */
struct run {
	struct dispatcher *d;
	struct claimed_job *job;
	struct edit_call *call;     /* NULL once the attempt ended */
	int lost;                   /* the job is no longer ours */
	int expect_finals;
	int images;
	int probe;                  /* sent to learn whether a pause is over */
	TAILQ_ENTRY(run) entry;
};
TAILQ_HEAD(run_list, run);

struct dispatcher {
	struct event_base *base;
	struct store *st;
	struct dispatch_config cfg;
	struct evcurl *ec;
	struct payload_pool *pool;  /* image buffers passed between attempts */

	struct run_list running;    /* attempts in flight */
	struct run_list ended;      /* freed on the next kick */
	int nrunning;

	struct event *poll_ev;      /* data_version check */
	struct event *kick_ev;      /* claim now (a slot freed, data changed) */
	struct event *wake_ev;      /* the next not_before */
	struct event *lease_ev;     /* renew leases, requeue expired ones */
	struct event *grace_ev;     /* end of the shutdown grace period */

	int64_t data_version;
	int64_t wake_at;            /* when the wake timer fires (epoch ms) */
	int stopping;

	struct ratelimit rl;        /* shared by every job */
	char auto_pause[256];       /* why upstream refuses us, "" if it does not */
	char *operator_pause;       /* `imgeditctl pause` reason, or NULL */
	char *resume_mark;          /* last `imgeditctl resume` seen */
	int64_t probe_at;           /* while paused: when to try one request */
	int64_t probe_backoff_ms;
	int probing;                /* a probe is in flight */
	struct dispatch_stats stats;
};

static void run_abort(struct run *r, const char *outcome, enum job_next next);

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

static void
run_free(struct run *r)
{
	claimed_job_free(r->job);
	free(r);
}

/* Moves r from running to ended; freed on the next kick, once upstream.c
 * has let go of the job's buffers. */
static void
run_retire(struct run *r)
{
	struct dispatcher *d = r->d;

	TAILQ_REMOVE(&d->running, r, entry);
	TAILQ_INSERT_TAIL(&d->ended, r, entry);
	d->nrunning--;
	r->call = NULL;
	kick(d);
}

static void
log_finish(struct run *r, const char *outcome, const struct attempt_result *res,
    int rc)
{
	char msg[300];

	log_quote(res->error_message ? res->error_message : "", msg, sizeof(msg));
	log_msg(rc == STORE_OK || rc == STORE_LOST ? LOG_LVL_INFO : LOG_LVL_ERR,
	    "attempt_end job=%lld attempt=%d outcome=%s http=%d images=%d "
	    "request_id=%s error_type=%s error=%s",
	    (long long)r->job->id, r->job->attempt, outcome, res->http_status,
	    r->images, res->request_id ? res->request_id : "-",
	    res->error_type ? res->error_type : "-", msg);
	if (rc == STORE_LOST)
		log_info("job_lost job=%lld reason=\"canceled or lease taken\"",
		    (long long)r->job->id);
	else if (rc != STORE_OK)
		log_err("store_error op=finish_attempt job=%lld error=\"%s\"",
		    (long long)r->job->id, store_errmsg(r->d->st));
}

/* Writes the attempt's end and the job's next state; counts it. */
static void
finish(struct run *r, const struct attempt_result *res, enum job_next next,
    int64_t not_before)
{
	struct dispatcher *d = r->d;
	int rc;

	rc = store_finish_attempt(d->st, d->cfg.daemon_id, r->job->id,
	    r->job->attempt_id, res, next, not_before);
	log_finish(r, res->outcome, res, rc);
	if (rc == STORE_LOST) {
		d->stats.canceled++;
		return;
	}
	switch (next) {
	case NEXT_SUCCEEDED: d->stats.succeeded++; break;
	case NEXT_FAILED: d->stats.failed++; break;
	case NEXT_RETRY: case NEXT_REQUEUE: d->stats.requeued++; break;
	}
}

/* A job that cannot be sent as it is: fails at once, the daemon goes on. */
static void
fail_invalid(struct run *r, const char *reason)
{
	struct attempt_result res = { 0 };

	res.outcome = "failed";
	res.error_type = "invalid_job";
	res.error_message = reason;
	finish(r, &res, NEXT_FAILED, 0);
}

/* ---- upstream callbacks ---- */

static void
on_response(void *arg, long http_status, const char *request_id)
{
	struct run *r = arg;

	if (store_attempt_answered(r->d->st, r->job->attempt_id,
	    (int)http_status, request_id) != STORE_OK)
		log_warn("store_error op=attempt_answered job=%lld error=\"%s\"",
		    (long long)r->job->id, store_errmsg(r->d->st));
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
on_image(void *arg, const struct upstream_image *img)
{
	struct run *r = arg;
	struct store_image si = { 0 };
	char hex[SHA256_HEX_LEN + 1];
	int rc;

	sha256_hex(img->data, img->size, hex);
	si.job_id = r->job->id;
	si.attempt_id = r->job->attempt_id;
	si.kind = img->kind;
	si.idx = img->idx;
	si.partial_index = img->partial_index;
	si.format = img->format;
	si.width = img->width;
	si.height = img->height;
	si.sha256 = hex;
	si.quality = img->quality;
	si.background = img->background;
	si.reported_size = img->reported_size;
	si.data = img->data;
	si.size = img->size;
	rc = store_commit_image(r->d->st, r->d->cfg.daemon_id, &si);
	if (rc == STORE_LOST) {
		r->lost = 1;
		return -1;
	}
	if (rc != STORE_OK) {
		log_err("store_error op=commit_image job=%lld error=\"%s\"",
		    (long long)r->job->id, store_errmsg(r->d->st));
		return -1;
	}
	r->images++;
	r->d->stats.images++;
	log_debug("image_stored job=%lld attempt=%d kind=%s idx=%d size=%zu "
	    "sha256=%s", (long long)r->job->id, r->job->attempt,
	    img->kind == IMAGE_FINAL ? "final" : "partial", img->idx, img->size,
	    hex);
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
 * succeeds, on a doubling schedule, or until `imgeditctl resume`. */
static void
pause_dispatch(struct dispatcher *d, const struct edit_outcome *out)
{
	int64_t now = now_ms();

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
	log_warn("paused reason=\"%s\" probe_in_ms=%lld", d->auto_pause,
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
 * no attempt left. A 429 holds back every job, not only this one. */
static void
schedule_retry(struct run *r, const struct edit_outcome *out,
    struct attempt_result *res)
{
	struct dispatcher *d = r->d;
	int64_t delay, now = now_ms();

	delay = retry_delay_ms(&d->cfg.retry, r->job->attempt,
	    out->retry_after_ms, (uint32_t)random());
	if (out->http_status == 429)
		ratelimit_block_until(&d->rl, now + delay);
	if (r->job->attempt >= r->job->max_attempts) {
		res->outcome = "failed";
		finish(r, res, NEXT_FAILED, 0);
		return;
	}
	res->outcome = "retry";
	log_info("retry job=%lld attempt=%d in_ms=%lld", (long long)r->job->id,
	    r->job->attempt, (long long)delay);
	finish(r, res, NEXT_RETRY, now + delay);
}

static void
on_done(void *arg, const struct edit_outcome *out)
{
	struct run *r = arg;
	struct dispatcher *d = r->d;
	struct attempt_result res = { 0 };
	enum retry_verdict v;

	result_from_outcome(&res, out);
	ratelimit_observe(&d->rl, &out->ratelimit, now_ms());
	if (r->probe)
		d->probing = 0;
	if (out->status == EDIT_ABORTED) {
		/* canceled (lost), or a store error stopped it: not counted */
		res.outcome = r->lost ? "canceled" : "interrupted";
		if (!r->lost) {
			res.error_type = "store_error";
			res.error_message = "an image could not be stored";
		}
		finish(r, &res, r->lost ? NEXT_FAILED : NEXT_REQUEUE, 0);
		run_retire(r);
		return;
	}
	v = retry_classify(out);
	if (v != VERDICT_PAUSE && r->probe)
		unpause(d, "probe");
	if (v == VERDICT_SUCCESS) {
		res.outcome = "succeeded";
		finish(r, &res, NEXT_SUCCEEDED, 0);
	} else if (v == VERDICT_PAUSE) {
		res.outcome = "paused";
		pause_dispatch(d, out);
		finish(r, &res, NEXT_REQUEUE, 0);
	} else if (v == VERDICT_RETRY) {
		if (out->status == EDIT_OK) {
			res.error_type = "bad_response";
			res.error_message = "the response held no image";
		}
		schedule_retry(r, out, &res);
	} else {
		res.outcome = "failed";
		finish(r, &res, NEXT_FAILED, 0);
	}
	run_retire(r);
}

/* ---- starting attempts ---- */

/* Checks the claimed job by the API's rules. Returns 0, or -1 with reason. */
static int
check_job(const struct claimed_job *job, int *expect_finals, char *err,
    size_t errlen)
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
	if ((ins = calloc(job->ninputs + 1, sizeof(*ins))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < job->ninputs; i++) {
		ins[i].role = job->inputs[i].role == INPUT_MASK ? JOBSPEC_MASK :
		    JOBSPEC_IMAGE;
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
    on_inputs_sent, on_image, on_done };

static void
start_run(struct dispatcher *d, struct claimed_job *job, int probe)
{
	struct run *r;
	char err[512];

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		claimed_job_free(job);
		return; /* the lease expires and the job runs again */
	}
	r->d = d;
	r->job = job;
	r->probe = probe;
	TAILQ_INSERT_TAIL(&d->running, r, entry);
	d->nrunning++;
	d->stats.claimed++;
	log_info("attempt_start job=%lld attempt=%d/%d inputs=%zu stream=%d%s",
	    (long long)job->id, job->attempt, job->max_attempts, job->ninputs,
	    job->stream, probe ? " probe=1" : "");
	if (check_job(job, &r->expect_finals, err, sizeof(err)) == -1 ||
	    (r->call = edit_call_start(d->ec, &d->cfg.up, job, &run_callbacks, r,
	    err, sizeof(err))) == NULL) {
		fail_invalid(r, err);
		run_retire(r);
		return;
	}
	ratelimit_take(&d->rl, r->expect_finals, now_ms());
	d->probing |= probe;
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

/* Sets the wake timer for the earliest scheduled job, if any. */
static void
arm_wake(struct dispatcher *d)
{
	int64_t when;

	if (store_next_wake(d->st, &when) == 1)
		wake_at(d, when);
}

/* Whether a request may start now; if not, the wake timer is set for when
 * it may. While paused, one probe goes out when its time has come. */
static int
may_send(struct dispatcher *d, int *probe)
{
	int64_t now = now_ms(), wait;

	*probe = 0;
	if (d->stopping || d->operator_pause != NULL ||
	    d->nrunning >= d->cfg.concurrency)
		return 0;
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
		wake_at(d, now + wait);
		return 0;
	}
	return 1;
}

/* Claims ready jobs into free slots, as the pause and the limits allow. */
static void
fill_slots(struct dispatcher *d)
{
	struct claimed_job *job;
	int rc, probe;

	while (may_send(d, &probe)) {
		rc = store_claim(d->st, d->cfg.daemon_id, now_ms(), d->cfg.lease_ms,
		    &job);
		if (rc == 0) {
			arm_wake(d);
			break;
		}
		if (rc < 0) {
			if (rc != STORE_BUSY)
				log_err("store_error op=claim error=\"%s\"",
				    store_errmsg(d->st));
			return; /* the poll timer tries again */
		}
		start_run(d, job, probe);
	}
}

/* ---- watching the database ---- */

static void
mark_owned(void *arg, int64_t job_id)
{
	struct dispatcher *d = arg;
	struct run *r;

	TAILQ_FOREACH(r, &d->running, entry)
		if (r->job->id == job_id)
			r->lost = -1; /* still ours; reset below */
}

/* Aborts attempts whose job another process canceled or took over. */
static void
reconcile(struct dispatcher *d)
{
	struct run *r, *next;

	if (d->nrunning == 0)
		return;
	if (store_owned_jobs(d->st, d->cfg.daemon_id, mark_owned, d) != STORE_OK)
		return;
	for (r = TAILQ_FIRST(&d->running); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (r->lost == -1) {
			r->lost = 0;
			continue;
		}
		r->lost = 1;
		run_abort(r, "canceled", NEXT_FAILED);
	}
}

static void
on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct dispatcher *d = arg;
	struct run *r;

	(void)fd;
	(void)what;
	while ((r = TAILQ_FIRST(&d->ended)) != NULL) {
		TAILQ_REMOVE(&d->ended, r, entry);
		run_free(r);
	}
	if (d->stopping) {
		if (d->nrunning == 0)
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
read_control(struct dispatcher *d)
{
	char *pause = NULL, *resume = NULL;

	if (store_control_get(d->st, "pause", &pause) != STORE_OK ||
	    store_control_get(d->st, "resume", &resume) != STORE_OK)
		goto out;
	if (!same(pause, d->operator_pause))
		log_info("operator_pause %s reason=\"%s\"", pause ? "on" : "off",
		    pause ? pause : "");
	free(d->operator_pause);
	d->operator_pause = pause;
	pause = NULL;
	if (!same(resume, d->resume_mark)) {
		if (d->resume_mark != NULL || d->data_version != -1)
			unpause(d, "operator");
		free(d->resume_mark);
		d->resume_mark = resume;
		resume = NULL;
	}
out:
	free(pause);
	free(resume);
}

static void
on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct dispatcher *d = arg;
	int64_t v;

	(void)fd;
	(void)what;
	if (d->nrunning == 0)
		payload_pool_trim(d->pool); /* idle: give the memory back */
	if (store_data_version(d->st, &v) != STORE_OK || v == d->data_version)
		return;
	read_control(d);
	d->data_version = v;
	reconcile(d);
	kick(d);
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
on_lease(evutil_socket_t fd, short what, void *arg)
{
	struct dispatcher *d = arg;
	int64_t now = now_ms();
	int n = 0;

	(void)fd;
	(void)what;
	if (d->nrunning > 0 &&
	    store_renew_leases(d->st, d->cfg.daemon_id, now + d->cfg.lease_ms) !=
	    STORE_OK)
		log_warn("store_error op=renew_leases error=\"%s\"",
		    store_errmsg(d->st));
	if (store_requeue_expired(d->st, now, &n) == STORE_OK && n > 0) {
		log_info("leases_expired requeued=%d", n);
		kick(d);
	}
}

/* ---- stopping ---- */

/* Ends an attempt now: the transfer is dropped and the job moves on. */
static void
run_abort(struct run *r, const char *outcome, enum job_next next)
{
	struct attempt_result res = { 0 };

	edit_call_cancel(r->call);
	r->call = NULL;
	res.outcome = outcome;
	res.error_type = strcmp(outcome, "canceled") == 0 ? "canceled" :
	    "shutdown";
	res.error_message = strcmp(outcome, "canceled") == 0 ?
	    "canceled while running" : "the daemon stopped during the attempt";
	finish(r, &res, next, 0);
	run_retire(r);
}

static void
abort_all(struct dispatcher *d)
{
	struct run *r;

	while ((r = TAILQ_FIRST(&d->running)) != NULL)
		run_abort(r, "interrupted", NEXT_REQUEUE);
}

static void
on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct dispatcher *d = arg;

	(void)fd;
	(void)what;
	if (d->nrunning > 0)
		log_info("grace_over aborting=%d", d->nrunning);
	abort_all(d);
	kick(d);
}

void
dispatch_stop(struct dispatcher *d, int64_t grace_ms)
{
	if (!d->stopping)
		log_info("stopping in_flight=%d grace_ms=%lld", d->nrunning,
		    (long long)grace_ms);
	d->stopping = 1;
	event_del(d->wake_ev);
	timer_set(d->grace_ev, grace_ms);
	kick(d);
}

/* ---- life cycle ---- */

struct dispatcher *
dispatch_new(struct event_base *base, struct store *st,
    const struct dispatch_config *cfg)
{
	struct dispatcher *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->base = base;
	d->st = st;
	d->cfg = *cfg;
	d->data_version = -1;
	ratelimit_init(&d->rl, cfg->rpm, cfg->ipm, now_ms());
	TAILQ_INIT(&d->running);
	TAILQ_INIT(&d->ended);
	d->ec = evcurl_new(base, upstream_transfer_done, d);
	d->pool = payload_pool_new(cfg->concurrency < POOL_SPARES_MAX ?
	    cfg->concurrency : POOL_SPARES_MAX);
	d->cfg.up.pool = d->pool;
	d->poll_ev = event_new(base, -1, EV_PERSIST, on_poll, d);
	d->kick_ev = event_new(base, -1, 0, on_kick, d);
	d->wake_ev = evtimer_new(base, on_wake, d);
	d->lease_ev = event_new(base, -1, EV_PERSIST, on_lease, d);
	d->grace_ev = evtimer_new(base, on_grace, d);
	if (d->ec == NULL || d->pool == NULL || d->poll_ev == NULL || d->kick_ev == NULL ||
	    d->wake_ev == NULL || d->lease_ev == NULL || d->grace_ev == NULL) {
		dispatch_free(d);
		return NULL;
	}
	return d;
}

int
dispatch_start(struct dispatcher *d)
{
	int n = 0;

	if (store_requeue_expired(d->st, now_ms(), &n) != STORE_OK) {
		log_err("store_error op=requeue_expired error=\"%s\"",
		    store_errmsg(d->st));
		return -1;
	}
	if (n > 0)
		log_info("leases_expired requeued=%d", n);
	timer_set(d->poll_ev, d->cfg.poll_ms);
	timer_set(d->lease_ev, d->cfg.lease_ms / 3);
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
dispatch_set_api_key(struct dispatcher *d, const char *key)
{
	d->cfg.up.api_key = key;
}

void
dispatch_get_stats(const struct dispatcher *d, struct dispatch_stats *out)
{
	*out = d->stats;
	out->running = d->nrunning;
	out->stopping = d->stopping;
	if (d->operator_pause != NULL)
		snprintf(out->pause_reason, sizeof(out->pause_reason),
		    "paused by operator: %s", d->operator_pause[0] ?
		    d->operator_pause : "no reason given");
	else
		snprintf(out->pause_reason, sizeof(out->pause_reason), "%s",
		    d->auto_pause);
}

void
dispatch_free(struct dispatcher *d)
{
	struct run *r;

	if (d == NULL)
		return;
	while ((r = TAILQ_FIRST(&d->running)) != NULL) {
		TAILQ_REMOVE(&d->running, r, entry);
		edit_call_cancel(r->call);
		run_free(r);
	}
	while ((r = TAILQ_FIRST(&d->ended)) != NULL) {
		TAILQ_REMOVE(&d->ended, r, entry);
		run_free(r);
	}
	if (d->poll_ev) event_free(d->poll_ev);
	if (d->kick_ev) event_free(d->kick_ev);
	if (d->wake_ev) event_free(d->wake_ev);
	if (d->lease_ev) event_free(d->lease_ev);
	if (d->grace_ev) event_free(d->grace_ev);
	if (d->ec) evcurl_free(d->ec);
	payload_pool_free(d->pool);
	free(d->operator_pause);
	free(d->resume_mark);
	free(d);
}
