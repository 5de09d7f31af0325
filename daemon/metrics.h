/* metrics.h: the daemon's Prometheus metrics: counters and gauges the loop
 * keeps, their text exposition (format 0.0.4), and the /metrics endpoint. */
#ifndef IMGEDIT_METRICS_H
#define IMGEDIT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "util.h"

/* jobs.state, in the order metrics_job_states names them. */
#define METRICS_STATES 6
/* attempts.outcome, in the order metrics_outcomes names them. */
#define METRICS_OUTCOMES 6
/* HTTP status classes 1xx..5xx, then anything else. */
#define METRICS_CLASSES 6
/* images.kind: enum image_kind (partial, final). */
#define METRICS_KINDS 2
#define METRICS_BUCKETS_MAX 16
/* Models told apart in the cost and token counters; the rest are summed
 * as model "other" (a label per model name another program may write
 * would grow without bound). */
#define METRICS_MODELS 24
#define METRICS_MODEL_LEN 80
/* Token kinds of a usage: text in, image in, output. */
#define METRICS_TOKEN_KINDS 3
#define METRICS_REASON_MAX 320

extern const char *const metrics_job_states[METRICS_STATES];
extern const char *const metrics_outcomes[METRICS_OUTCOMES];

/* A histogram of durations kept in ms: counts per bucket (not cumulative;
 * the last one is +Inf), rendered in seconds. */
struct metrics_hist {
	const int64_t *bounds_ms;  /* ascending, nbounds of them */
	int nbounds;
	uint64_t counts[METRICS_BUCKETS_MAX + 1];
	uint64_t count;
	int64_t sum_ms;
};

/* What the attempts of one model cost, and their usage's tokens. */
struct metrics_model {
	char name[METRICS_MODEL_LEN];  /* "" for jobs sent without a model */
	uint64_t cost_micro;           /* known costs, micro-dollars */
	uint64_t tokens[METRICS_TOKEN_KINDS];
};

/*
 * Everything one scrape shows. Counters are plain increments by the loop
 * thread (never a lock, never an allocation); gauges are filled in by the
 * daemon right before a scrape (metrics_sample_fn), and the job counts when
 * the store answers a refresh.
 */
struct metrics {
	/* counters */
	uint64_t attempts[METRICS_OUTCOMES];  /* ends the store committed */
	uint64_t responses[METRICS_CLASSES];  /* upstream answers, by class */
	uint64_t images[METRICS_KINDS];       /* image rows committed */
	uint64_t image_bytes[METRICS_KINDS];
	struct metrics_hist ttfb;             /* request to first byte */
	struct metrics_hist duration;         /* claim to outcome */
	struct metrics_model models[METRICS_MODELS]; /* the last: "other" */
	int nmodels;                          /* slots in use */
	uint64_t ratelimit_waits;             /* starts the limiter held back */
	int64_t ratelimit_wait_ms;            /* ... for this long, closed ones */
	int64_t ratelimit_since;              /* mono ms of the open one, or 0 */

	/* sampled before each scrape */
	uint64_t db_lock_waits;               /* writes that met a lock */
	int64_t db_lock_wait_ms;              /* ... and waited, open one too */
	int in_flight;                        /* transfers going on */
	int64_t pending_bytes;                /* image bytes waiting for store */
	int64_t held_bytes;                   /* image buffers (--memory-max) */
	int store_queue;                      /* store requests waiting */
	int paused;
	char pause_reason[METRICS_REASON_MAX];

	/* refreshed from the database on a timer */
	int jobs_known;                       /* 0 until the first refresh */
	int64_t jobs[METRICS_STATES];
};

/* Zeroes m and sets the histograms' buckets. */
void metrics_init(struct metrics *m);

/* One attempt's end, committed: outcome is an attempts.outcome value
 * (others are ignored). */
void metrics_attempt(struct metrics *m, const char *outcome);
/* One attempt's end, committed: its model (NULL: none), its cost in
 * micro-dollars (-1: not known, not counted) and its usage's tokens. */
void metrics_cost(struct metrics *m, const char *model, int64_t micro,
    int64_t text_in, int64_t image_in, int64_t output);
/* Upstream answered with this HTTP status. */
void metrics_response(struct metrics *m, long status);
/* One image row committed: kind is enum image_kind. */
void metrics_image(struct metrics *m, int kind, size_t bytes);
/* Adds one observation of ms milliseconds (negative ones are dropped). */
void metrics_observe(struct metrics_hist *h, int64_t ms);
/* The rate limiter holds a start back (waiting) or lets one go, at now
 * (mono ms): a wait is counted when it begins, its time when it ends. */
void metrics_ratelimit(struct metrics *m, int waiting, int64_t now);

/* Appends the Prometheus text exposition of m to out, as of now (mono ms,
 * for a rate-limit wait still going on). Returns 0, or -1 out of memory. */
int metrics_render(const struct metrics *m, int64_t now, struct buf *out);

/* Appends s as a label value (without the quotes): backslash, double quote
 * and newline escaped as the format says; other control bytes and bytes
 * that are not UTF-8 become '?', so hostile text cannot break the page.
 * Returns 0 or -1. */
int metrics_label_append(struct buf *out, const char *s);


/* ---- the HTTP endpoint, on the daemon's loop ---- */

/* Fills in m's gauges just before a scrape renders it. */
typedef void (*metrics_sample_fn)(void *arg, struct metrics *m);

struct metrics_server;

/* Listens on listen ("HOST:PORT") on base: GET or HEAD /metrics answers m
 * (sampled through sample(arg, m) first), other methods 405, other paths
 * 404. m must outlive the server. Returns the server (caller owns:
 * metrics_server_free) or NULL with the reason in err. */
struct metrics_server *metrics_server_new(struct event_base *base,
    const char *listen, struct metrics *m, metrics_sample_fn sample,
    void *arg, char *err, size_t errlen);

/* The Host names it answers to (listenaddr.h's list, copied), or NULL:
 * loopback names when bound to loopback, else any. Others get 403.
 * Returns 0, or -1 out of memory. */
int metrics_server_allow_hosts(struct metrics_server *s, const char *allow);

/* The address it listens on, "HOST:PORT" with the real port. */
const char *metrics_server_address(const struct metrics_server *s);

void metrics_server_free(struct metrics_server *s);

#endif
