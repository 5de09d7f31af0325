/* storeq.h: the daemon's asynchronous store: requests with completion
 * callbacks, the same on every backend; the backend runs them. */
#ifndef IMGEDIT_STOREQ_H
#define IMGEDIT_STOREQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "budget.h"
#include "dberr.h"
#include "job.h"
#include "jobstate.h"
#include "util.h"

/*
 * The daemon's side of the store seam (the backends' side: queue_backend.h).
 * The event loop never touches the database: it hands requests to storeq_submit
 * and gets each back, on the loop, through its done callback. Requests that
 * write what a job did (claim, answered, image, finish) run in the order
 * submitted, and one that meets a lock, a full disk or an I/O error is
 * tried again until it commits, or until the job is no longer ours: the
 * bytes wait in memory meanwhile. The rest (poll, lease round, heartbeat)
 * are tried once each, also between those retries, so the daemon goes on
 * watching the database and renewing leases while a write waits.
 */
enum sq_op {
	SQ_CLAIM, SQ_ANSWERED, SQ_IMAGE, SQ_FINISH,  /* in order, retried */
	SQ_POLL, SQ_LEASES, SQ_HEARTBEAT, SQ_COUNTS, /* once each */
};

/* Job states SQ_COUNTS counts, at most. */
#define SQ_STATES_MAX 8

struct sq_req;
typedef void (*sq_done_fn)(void *arg, struct sq_req *req);

/* Jobs one claim request may take: slots fill in a few round trips. */
#define SQ_CLAIM_MAX 16

struct sq_req {
	enum sq_op op;
	sq_done_fn done;
	void *arg;
	int rc;             /* STORE_OK, STORE_LOST, ...; claim: how many */
	enum db_err err;    /* rc < 0 (not STORE_LOST): its class (dberr.h) */
	char error[160];    /* ... and the backend's own text, for the log */
	int written;        /* image, finish: the row was written (metrics) */
	uint64_t seq;       /* when it came back: orders results on the loop */
	TAILQ_ENTRY(sq_req) entry;
	union {
		struct {                    /* SQ_CLAIM */
			int64_t lease_ms;
			int want;                 /* jobs to claim, 1..SQ_CLAIM_MAX */
			struct claimed_job *jobs[SQ_CLAIM_MAX]; /* rc of them:
			                             * caller takes (sets NULL) */
			int64_t next_wake;        /* fewer ready: earliest not_before,
			                           * or 0 */
			struct budget_claim *budget; /* in: the budgets (freed
			                           * with the request), NULL:
			                           * none */
			struct budget_verdict verdict; /* out: crossed when the
			                           * claim stopped at a budget */
		} claim;
		struct {                    /* SQ_ANSWERED */
			int64_t attempt_id;
			int http_status;
			char request_id[128];
		} answered;
		struct store_image image;   /* SQ_IMAGE: bytes the caller's,
		                             * sha256 filled in by the backend */
		struct {                    /* SQ_FINISH: strings the caller's */
			int64_t job_id, attempt_id;
			struct attempt_result res;
			enum job_next next;
			int64_t not_before;
		} finish;
		struct {                    /* SQ_POLL */
			int64_t data_version;   /* in: last seen; out: now */
			int changed;            /* then the rest is read: */
			char *pause, *resume;   /* control values, or NULL */
			struct store_run_ref *owned;
			size_t nowned;
		} poll;
		struct {                    /* SQ_LEASES */
			struct store_run_ref *runs;  /* the caller's */
			size_t nruns;
			int64_t lease_ms;
			int requeued;
		} leases;
		struct {                    /* SQ_COUNTS */
			const char *const *states; /* in: names (static) */
			int nstates;               /* in: at most SQ_STATES_MAX */
			int64_t counts[SQ_STATES_MAX]; /* out */
		} counts;
		struct {                    /* SQ_HEARTBEAT */
			char status[256];
			char pause_reason[320]; /* "" = none */
		} beat;
	} u;
	char sha256[SHA256_HEX_LEN + 1];
};

/* What the store is up against now, for the status line and metrics. */
struct storeq_health {
	int64_t locked_ms;     /* a write has met another's lock this long */
	int64_t fault_ms;      /* writes have failed this long (disk, I/O) */
	char fault[128];       /* the last such error, "" if none */
	int queued;            /* requests submitted, not yet back */
	uint64_t lock_waits;   /* writes that met a lock, since the start */
	int64_t lock_wait_ms;  /* ... and waited this long, the current
	                        * wait included */
};

struct storeq;
struct backend;

/* The op's name for the log ("claim", "image", ...). */
const char *sq_op_name(enum sq_op op);

/* The text of req's error (rc < 0): the backend's own, or its class's
 * name when it gave none. */
const char *sq_req_error(const struct sq_req *req);

/* What opening the queue needs; the strings are copied. */
struct storeq_params {
	const char *uri;        /* the database: an SQLite file, a URI */
	const char *daemon_id;  /* this daemon's row in daemons */
	const char *host;
	int pid;
	const char *faults;     /* IMGEDIT_STORE_FAULTS, or NULL: SQLite's
	                         * fault injection (sqlite/store.h) */
	int64_t connect_timeout_ms; /* a connection attempt's bound (a
	                         * server's backend); 0: the backend's own */
};

/* Opens the database p->uri on backend be (backend_for), migrating it,
 * and starts the queue: SQLite's writer thread, or PostgreSQL's
 * connection on base's loop. Opening owns this daemon's row in daemons
 * (written now or at the first heartbeat) until storeq_free marks it
 * stopped. Completions arrive on base. A failure is logged (db_open_failed,
 * db_migrate_failed, ...). Returns NULL on failure. Caller owns:
 * storeq_free. */
struct storeq *storeq_new(struct event_base *base, const struct backend *be,
    const struct storeq_params *p);

/* The database's name for the log: the file, or a URI without its
 * password. */
const char *storeq_db_name(const struct storeq *q);

/* fn(arg) runs on the loop when the store hears that jobs were queued or
 * requeued (PostgreSQL's LISTEN; never on SQLite, whose poll sees it). */
void storeq_on_change(struct storeq *q, void (*fn)(void *), void *arg);

/* Returns a zeroed request (caller owns: sq_req_free) or NULL. */
struct sq_req *sq_req_new(enum sq_op op, sq_done_fn done, void *arg);
/* Frees req and what the backend allocated in it (an unclaimed job, the
 * poll's strings and list). */
void sq_req_free(struct sq_req *req);

/* Queues req; req->done(arg, req) runs on the loop once it ran. After
 * storeq_free began, req completes at once with rc STORE_ERR. */
void storeq_submit(struct storeq *q, struct sq_req *req);

void storeq_health(struct storeq *q, struct storeq_health *h);

/* Runs what is queued and delivers the last completions (requests
 * submitted meanwhile complete at once with STORE_ERR), marks this
 * daemon's row stopped, closes the database and frees q. Not from within
 * the loop's callbacks. */
void storeq_free(struct storeq *q);

#endif
