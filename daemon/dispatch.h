/* dispatch.h: the daemon's scheduler: claims ready jobs up to the concurrency
 * cap, runs each attempt through upstream.c, stores what arrives, and stops. */
#ifndef IMGEDIT_DISPATCH_H
#define IMGEDIT_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "budget.h"
#include "metrics.h"
#include "prices.h"
#include "retry.h"
#include "storeq.h"
#include "upstream.h"

struct dispatch_config {
	const char *daemon_id;     /* daemons.id of this process */
	int concurrency;           /* edits in flight at most */
	double rpm, ipm;           /* requests / images per minute, 0 = no limit */
	int64_t lease_ms;          /* a claimed job's lease, renewed at 1/3 */
	int64_t poll_ms;           /* PRAGMA data_version check interval */
	int64_t probe_min_ms, probe_max_ms; /* re-probe schedule while paused */
	size_t memory_max;         /* image bytes waiting for the store, at most */
	struct retry_policy retry;
	struct upstream_config up;
	struct metrics *metrics;   /* counted into (outlives the dispatcher),
	                            * or NULL */
	struct price_table prices; /* what an attempt costs when it ends (its
	                            * rows, like the strings, outlive it) */
	const struct budget_set *budgets; /* NULL or none: claims hold nothing */
};

/* Counters for the status line and the log. */
struct dispatch_stats {
	int running;
	int64_t claimed, succeeded, failed, requeued, canceled, images;
	int stopping;
	size_t pending_bytes;      /* image bytes waiting for the store */
	size_t held_bytes;         /* image buffers in memory (--memory-max) */
	size_t held_peak;          /* the most held_bytes so far */
	char pause_reason[320];    /* empty when not paused */
	char db_trouble[200];      /* a lock or failing writes, "" if none */
};

struct dispatcher;

/* Creates the dispatcher on base, talking to the database through q (both
 * must outlive it; q's requests must all have completed, storeq_free,
 * before dispatch_free). cfg is copied; its strings must outlive the
 * dispatcher. Returns NULL on failure. Caller owns it: dispatch_free. */
struct dispatcher *dispatch_new(struct event_base *base, struct storeq *q,
    const struct dispatch_config *cfg);

/* Starts the lease rounds (the first returns expired leases to the queue),
 * watching the database and claiming. Returns 0 or -1. */
int dispatch_start(struct dispatcher *d);

/* Stops claiming. In-flight attempts may finish for grace_ms; then they are
 * aborted and their jobs return to queued without counting the attempt.
 * When nothing is left in flight and every attempt's end is stored, the
 * event loop is asked to exit. Calling it again shortens the grace (0 =
 * abort now). */
void dispatch_stop(struct dispatcher *d, int64_t grace_ms);

/* Changes the concurrency cap; more slots are filled at once, fewer are
 * reached as attempts end. */
void dispatch_set_concurrency(struct dispatcher *d, int concurrency);

/* SIGHUP: the settings that can change at run time (concurrency, rates,
 * retries, probes, the memory budget, and for attempts started from now
 * on the upstream settings: base URL, timeouts, key, ...). cfg's strings
 * must outlive the dispatcher or the next reload. */
void dispatch_reload(struct dispatcher *d, const struct dispatch_config *cfg);

/*
 * Budgets: while cfg.budgets has any, each claim holds its jobs' estimates
 * against them (storeq.h, budget.h). A claim that stops at a budget pauses
 * the dispatcher ("budget: ..." as the pause reason, after the operator's
 * and upstream's): nothing new starts, what runs finishes. It claims again
 * when the budget's period turns, when an attempt's end is stored (what
 * it cost may free room), every 30 s (other daemons' ends), on
 * `imgeditctl resume` and on dispatch_reload.
 */

/* Uses key for attempts started from now on (in-flight ones keep theirs).
 * The caller keeps key alive until the next call or dispatch_free. */
void dispatch_set_api_key(struct dispatcher *d, const char *key);

void dispatch_get_stats(const struct dispatcher *d, struct dispatch_stats *out);

/* Frees the dispatcher; in-flight calls (if any) are canceled without
 * touching the database. */
void dispatch_free(struct dispatcher *d);

#endif
