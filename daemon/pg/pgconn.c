/* pgconn.c: one libpq connection on a libevent loop: non-blocking connect,
 * pipelined queries answered in order, LISTEN, connection loss and reopen. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/dns.h>
#include <event2/util.h>

#include "pgconn.h"

/* The longest kept of a server's or libpq's message (copy_msg cuts there),
 * and of a reason a connection closes: a phrase of ours before such a
 * message ("a statement run at connect failed: ...") still fits whole. */
#define MSG_LEN 512
#define WHY_LEN (MSG_LEN + 64)

struct pgq {
	struct pgconn_query q;
	char *prep_name;        /* set: a PQsendPrepare of q.sql */
	PGresult *res;          /* the answer so far */
	int answered;           /* done has run; waiting for its sync */
	TAILQ_ENTRY(pgq) entry;
};
TAILQ_HEAD(pgq_list, pgq);

struct setup {
	char *name;             /* prepared statement, or NULL: run sql */
	char *sql;
};

struct pgconn {
	struct event_base *base;
	char *uri;
	PGconn *conn;           /* NULL: closed (or looking the host up) */
	int up;
	int resolving;          /* the host's name is being looked up */
	struct evdns_base *dns; /* for that, made at the first need */
	struct evdns_getaddrinfo_request *dns_req;
	char addr[64];          /* the address looked up, or "" */
	unsigned gen;           /* bumped by every close: callbacks check it */
	int connect_ms;
	struct event *sock_ev;  /* connecting: one step; up: EV_READ persist */
	struct event *write_ev; /* up, while PQflush has bytes left */
	struct event *timer_ev; /* connect timeout */
	struct event *fail_ev;  /* closes on the next turn of the loop */
	char fail_why[WHY_LEN];
	unsigned fail_gen;      /* the connection fail_ev is for */
	struct pgq_list waiting;   /* accepted, not sent: connecting */
	struct pgq_list sent;      /* in the pipeline, in order */
	int npending;
	struct setup *setups;
	int nsetups;
	pgconn_state_fn state_fn;
	void *state_arg;
	pgconn_notify_fn notify_fn;
	void *notify_arg;
};

static void on_sock(evutil_socket_t, short, void *);

/* Open: connecting, up, or looking the host up first. */
static int
is_open(const struct pgconn *c)
{
	return c->conn != NULL || c->resolving;
}

static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Copies libpq's message without its trailing newlines, cut to len - 1
 * bytes (MSG_LEN: the longest kept of a server's message). */
static void
copy_msg(char *dst, size_t len, const char *msg)
{
	const char *src = msg != NULL && *msg ? msg : "unknown error";
	size_t n;

	if (len == 0)
		return;
	n = strnlen(src, len - 1); /* cut, on purpose, when longer */
	memcpy(dst, src, n);
	dst[n] = '\0';
	while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == ' '))
		dst[--n] = '\0';
}

/* SQLSTATEs after which the server has ended the session. */
static int
ends_session(const char *state)
{
	return strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
	    strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0;
}

struct pgconn *
pgconn_new(struct event_base *base, const char *uri)
{
	struct pgconn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->base = base;
	c->connect_ms = 10000;
	TAILQ_INIT(&c->waiting);
	TAILQ_INIT(&c->sent);
	if ((c->uri = strdup(uri)) == NULL)
		goto fail;
	return c;
fail:
	free(c);
	return NULL;
}

void
pgconn_set_state_cb(struct pgconn *c, pgconn_state_fn fn, void *arg)
{
	c->state_fn = fn;
	c->state_arg = arg;
}

void
pgconn_set_notify_cb(struct pgconn *c, pgconn_notify_fn fn, void *arg)
{
	c->notify_fn = fn;
	c->notify_arg = arg;
}

static int
state_in(const char *state, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strncmp(state, *set, strlen(*set)) == 0)
			return 1;
	return 0;
}

int
pgconn_new_session_mends(const char *st)
{
	/* a prepared statement missing (its prepare failed at connect), a
	 * read-only server (a standby after a failover: libpq's
	 * target_session_attrs picks another host) */
	static const char *const renew[] = { "26000", "25006", NULL };

	return st != NULL && state_in(st, renew);
}

enum db_err
pgconn_err_class(const char *st, int lost)
{
	static const char *const gone[] = { "08", "57P", NULL };
	static const char *const lock[] = { "40001", "40P01", "55P03", NULL };
	/* what trying again may mend: resources, the system, and what a new
	 * session mends */
	static const char *const io[] = { "53", "58", NULL };

	if (st == NULL)
		st = "";
	if (lost || state_in(st, gone))
		return DBE_LOST;
	if (state_in(st, lock))
		return DBE_LOCK;
	if (strcmp(st, "53100") == 0)
		return DBE_FULL;
	if (strncmp(st, "23", 2) == 0)
		return DBE_CONSTRAINT;
	return state_in(st, io) || pgconn_new_session_mends(st) ? DBE_IO :
	    DBE_OTHER;
}

void
pgconn_set_connect_timeout(struct pgconn *c, int ms)
{
	c->connect_ms = ms;
}

int
pgconn_is_up(const struct pgconn *c)
{
	return c->up;
}

int
pgconn_backend_pid(const struct pgconn *c)
{
	return c->up ? PQbackendPID(c->conn) : 0;
}

int
pgconn_pending(const struct pgconn *c)
{
	return c->npending;
}

static void
free_event(struct event **ev)
{
	if (*ev != NULL)
		event_free(*ev);
	*ev = NULL;
}

static void
pgq_free(struct pgq *p)
{
	PQclear(p->res);
	free(p->prep_name);
	free(p);
}

static void fail_later(struct pgconn *c, const char *why);

/* Runs p's done with reply; clears what the callback did not take. */
static void
complete(struct pgconn *c, struct pgq *p, struct pgconn_reply *reply)
{
	char why[WHY_LEN];

	p->answered = 1;
	c->npending--;
	if (p->q.done != NULL)
		p->q.done(p->q.arg, reply);
	else if (!reply->ok && !reply->lost) {
		/* a setup that failed (a prepare that met a lock): without it
		 * every query using it fails; a new session tries it again */
		snprintf(why, sizeof(why), "a statement run at connect failed: "
		    "%s", reply->error != NULL ? reply->error : "");
		fail_later(c, why);
	}
	PQclear(reply->res);
}

/* Closes the connection; every query not answered completes with lost = 1
 * (sent ones first: that is their order), then the state callback. */
static void
drop(struct pgconn *c, const char *why, int tell)
{
	struct pgq_list gone;
	struct pgconn_reply reply;
	struct pgq *p;
	char msg[WHY_LEN];

	copy_msg(msg, sizeof(msg), why);
	c->gen++;
	c->resolving = 0;
	if (c->dns_req != NULL) { /* its callback runs now, and leaves */
		evdns_getaddrinfo_cancel(c->dns_req);
		c->dns_req = NULL;
	}
	free_event(&c->sock_ev);
	free_event(&c->write_ev);
	if (c->timer_ev != NULL)
		evtimer_del(c->timer_ev);
	PQfinish(c->conn);
	c->conn = NULL;
	c->up = 0;
	TAILQ_INIT(&gone);
	TAILQ_CONCAT(&gone, &c->sent, entry);
	TAILQ_CONCAT(&gone, &c->waiting, entry);
	while ((p = TAILQ_FIRST(&gone)) != NULL) {
		TAILQ_REMOVE(&gone, p, entry);
		if (!p->answered) {
			memset(&reply, 0, sizeof(reply));
			reply.lost = 1;
			memcpy(reply.sqlstate, PGCONN_LOST_STATE, 6);
			reply.error = msg;
			complete(c, p, &reply);
		}
		pgq_free(p);
	}
	if (tell && c->state_fn != NULL)
		c->state_fn(c->state_arg, 0, msg);
}

void
pgconn_close(struct pgconn *c, const char *why)
{
	if (is_open(c))
		drop(c, why != NULL ? why : "closed", 1);
}

void
pgconn_free(struct pgconn *c)
{
	int i;

	if (c == NULL)
		return;
	if (is_open(c))
		drop(c, "connection freed", 0);
	if (c->dns != NULL)
		evdns_base_free(c->dns, 0);
	free_event(&c->timer_ev);
	free_event(&c->fail_ev);
	for (i = 0; i < c->nsetups; i++) {
		free(c->setups[i].name);
		free(c->setups[i].sql);
	}
	free(c->setups);
	free(c->uri);
	free(c);
}

static void
on_fail(evutil_socket_t fd, short what, void *arg)
{
	struct pgconn *c = arg;

	(void)fd;
	(void)what;
	if (is_open(c) && c->fail_gen == c->gen)
		drop(c, c->fail_why, 1);
}

/* Closes c on the next turn of the loop: for failures found inside
 * pgconn_query, whose caller does not expect callbacks yet. */
static void
fail_later(struct pgconn *c, const char *why)
{
	copy_msg(c->fail_why, sizeof(c->fail_why), why);
	c->fail_gen = c->gen;
	event_active(c->fail_ev, 0, 0);
}

/* Writes what libpq holds; EV_WRITE until it is all out. Returns 0 or -1
 * (c is to be dropped). */
static int
flush(struct pgconn *c)
{
	switch (PQflush(c->conn)) {
	case 0:
		return 0;
	case 1:
		event_add(c->write_ev, NULL);
		return 0;
	default:
		return -1;
	}
}

/* Sends p and its sync; on success p is in the pipeline. Returns 0/-1. */
static int
send_one(struct pgconn *c, struct pgq *p)
{
	const struct pgconn_query *q = &p->q;
	int ok;

	if (p->prep_name != NULL)
		ok = PQsendPrepare(c->conn, p->prep_name, q->sql, 0, NULL);
	else if (q->sql != NULL)
		ok = PQsendQueryParams(c->conn, q->sql, q->nparams, NULL,
		    q->values, q->lengths, q->formats, q->binary_result);
	else
		ok = PQsendQueryPrepared(c->conn, q->stmt, q->nparams,
		    q->values, q->lengths, q->formats, q->binary_result);
	if (!ok || !PQpipelineSync(c->conn))
		return -1;
	TAILQ_INSERT_TAIL(&c->sent, p, entry);
	return 0;
}

/* A query of c's own (setup), completed like any other. */
static struct pgq *
setup_query(const struct setup *s)
{
	struct pgq *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->q.sql = s->sql;
	if (s->name != NULL && (p->prep_name = strdup(s->name)) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

/* Sends setup s now. Returns 0 or -1 (c is to be dropped). */
static int
send_setup(struct pgconn *c, const struct setup *s)
{
	struct pgq *p;

	if ((p = setup_query(s)) == NULL)
		return -1;
	c->npending++;
	if (send_one(c, p) == -1) {
		c->npending--;
		pgq_free(p);
		return -1;
	}
	return 0;
}

static void
deliver_notifies(struct pgconn *c)
{
	unsigned gen = c->gen;
	PGnotify *n;

	while (c->conn != NULL && gen == c->gen &&
	    (n = PQnotifies(c->conn)) != NULL) {
		if (c->notify_fn != NULL)
			c->notify_fn(c->notify_arg, n->relname,
			    n->extra != NULL ? n->extra : "", n->be_pid);
		PQfreemem(n);
	}
}

/* The head query's results are all in (PQgetResult gave NULL): its done;
 * or, for an answer that ends the session, the connection's end. */
static void
answer(struct pgconn *c, struct pgq *p)
{
	struct pgconn_reply reply;
	ExecStatusType st = PQresultStatus(p->res);
	const char *state, *primary;
	char msg[MSG_LEN];

	memset(&reply, 0, sizeof(reply));
	reply.res = p->res;
	p->res = NULL;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		reply.ok = 1;
		complete(c, p, &reply);
		return;
	}
	state = PQresultErrorField(reply.res, PG_DIAG_SQLSTATE);
	snprintf(reply.sqlstate, sizeof(reply.sqlstate), "%s",
	    state != NULL ? state : "");
	primary = reply.res != NULL ? PQresultErrorField(reply.res,
	    PG_DIAG_MESSAGE_PRIMARY) : NULL; /* without "ERROR:  " */
	copy_msg(msg, sizeof(msg), primary != NULL ? primary :
	    reply.res != NULL ? PQresultErrorMessage(reply.res) :
	    PQerrorMessage(c->conn));
	if (reply.res == NULL || ends_session(reply.sqlstate) ||
	    PQstatus(c->conn) == CONNECTION_BAD) {
		/* closed before any callback hears of it: p and the rest
		 * complete lost, and their callbacks may reopen at once */
		PQclear(reply.res);
		drop(c, msg, 1);
		return;
	}
	reply.error = msg;
	complete(c, p, &reply);
}

/* Reads every complete answer libpq holds, in order. */
static void
read_results(struct pgconn *c)
{
	unsigned gen = c->gen;
	struct pgq *p;
	PGresult *r;

	while (c->conn != NULL && gen == c->gen &&
	    (p = TAILQ_FIRST(&c->sent)) != NULL && !PQisBusy(c->conn)) {
		r = PQgetResult(c->conn);
		if (p->answered) {
			/* after the NULL comes the query's own sync */
			if (r == NULL)
				break;
			if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
				TAILQ_REMOVE(&c->sent, p, entry);
				pgq_free(p);
			}
			PQclear(r);
		} else if (r == NULL)
			answer(c, p);
		else if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			fail_later(c, "pipeline out of step");
			return;
		} else if (p->res == NULL ||
		    PQresultStatus(r) == PGRES_FATAL_ERROR) {
			PQclear(p->res);   /* an error wins over a result */
			p->res = r;
		} else
			PQclear(r);
	}
}

static void
on_read(struct pgconn *c)
{
	unsigned gen = c->gen;

	if (!PQconsumeInput(c->conn)) {
		drop(c, PQerrorMessage(c->conn), 1);
		return;
	}
	deliver_notifies(c);
	read_results(c);
	deliver_notifies(c);
	if (c->conn == NULL || gen != c->gen)
		return;
	if (PQstatus(c->conn) == CONNECTION_BAD || flush(c) == -1)
		drop(c, PQerrorMessage(c->conn), 1);
}

static void
on_write(evutil_socket_t fd, short what, void *arg)
{
	struct pgconn *c = arg;

	(void)fd;
	(void)what;
	if (flush(c) == -1)
		drop(c, PQerrorMessage(c->conn), 1);
}

/* Connected: non-blocking, pipeline mode, setups then waiting queries. */
static int
became_up(struct pgconn *c)
{
	int fd = PQsocket(c->conn), i;
	struct pgq *p;

	evtimer_del(c->timer_ev);
	free_event(&c->sock_ev);
	if (PQsetnonblocking(c->conn, 1) != 0 ||
	    PQenterPipelineMode(c->conn) != 1)
		return -1;
	c->sock_ev = event_new(c->base, fd, EV_READ | EV_PERSIST, on_sock, c);
	c->write_ev = event_new(c->base, fd, EV_WRITE, on_write, c);
	if (c->sock_ev == NULL || c->write_ev == NULL ||
	    event_add(c->sock_ev, NULL) == -1)
		return -1;
	c->up = 1;
	for (i = 0; i < c->nsetups; i++)
		if (send_setup(c, &c->setups[i]) == -1)
			return -1;
	while ((p = TAILQ_FIRST(&c->waiting)) != NULL) {
		TAILQ_REMOVE(&c->waiting, p, entry);
		if (send_one(c, p) == -1) {
			TAILQ_INSERT_HEAD(&c->waiting, p, entry);
			return -1;
		}
	}
	return flush(c);
}

/* Waits for the socket as PQconnectPoll asked. Returns 0 or -1. */
static int
connect_wait(struct pgconn *c, PostgresPollingStatusType st)
{
	short what = st == PGRES_POLLING_READING ? EV_READ : EV_WRITE;

	free_event(&c->sock_ev);
	c->sock_ev = event_new(c->base, PQsocket(c->conn), what, on_sock, c);
	if (c->sock_ev == NULL || event_add(c->sock_ev, NULL) == -1)
		return -1;
	return 0;
}

static void
connect_step(struct pgconn *c)
{
	PostgresPollingStatusType st = PQconnectPoll(c->conn);

	if (st == PGRES_POLLING_READING || st == PGRES_POLLING_WRITING) {
		if (connect_wait(c, st) == -1)
			drop(c, "cannot wait for the connection", 1);
		return;
	}
	if (st != PGRES_POLLING_OK) {
		drop(c, PQerrorMessage(c->conn), 1);
		return;
	}
	if (became_up(c) == -1) {
		drop(c, PQerrorMessage(c->conn), 1);
		return;
	}
	if (c->state_fn != NULL)
		c->state_fn(c->state_arg, 1, NULL);
}

static void
on_sock(evutil_socket_t fd, short what, void *arg)
{
	struct pgconn *c = arg;

	(void)fd;
	(void)what;
	if (c->up)
		on_read(c);
	else
		connect_step(c);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct pgconn *c = arg;

	(void)fd;
	(void)what;
	if (is_open(c) && !c->up)
		drop(c, "timed out connecting", 1);
}

/* The loop-side events c needs whatever its state. Returns 0 or -1. */
static int
make_events(struct pgconn *c)
{
	if (c->timer_ev == NULL)
		c->timer_ev = evtimer_new(c->base, on_timeout, c);
	if (c->fail_ev == NULL)
		c->fail_ev = event_new(c->base, -1, 0, on_fail, c);
	return c->timer_ev != NULL && c->fail_ev != NULL ? 0 : -1;
}

/* Starts libpq's connect, at hostaddr (a numeric address the host's name
 * was looked up to; NULL: as the URI says). Returns 0 or -1. */
static int
start_connect(struct pgconn *c, const char *hostaddr)
{
	/* dbname last: with expand_dbname, what the URI sets overrides */
	const char *keys[] = { "fallback_application_name", "hostaddr",
	    "dbname", NULL };
	const char *vals[] = { "imgedit", hostaddr, c->uri, NULL };

	if (hostaddr == NULL) {
		keys[1] = "dbname";
		vals[1] = c->uri;
		keys[2] = vals[2] = NULL;
	}
	if ((c->conn = PQconnectStartParams(keys, vals, 1)) == NULL)
		return -1;
	PQsetNoticeProcessor(c->conn, quiet, NULL);
	if (PQstatus(c->conn) == CONNECTION_BAD) {
		/* a bad URI, no socket: said like any failed connect */
		fail_later(c, PQerrorMessage(c->conn));
		return 0;
	}
	/* before the first poll: act as if it had asked to write */
	if (connect_wait(c, PGRES_POLLING_WRITING) == -1) {
		drop(c, "cannot wait for the connection", 0);
		return -1;
	}
	return 0;
}

/* The URI's host when it is one name that libpq would look up itself,
 * blocking the loop (not a socket directory, not a list, not an address,
 * no hostaddr given): copied into out. Returns 1, or 0. Pure. */
int
pgconn_host_to_resolve(const char *uri, char *out, size_t len)
{
	PQconninfoOption *opts, *o;
	const char *host = NULL, *hostaddr = NULL;
	unsigned char addr[16];
	int rc = 0;

	if ((opts = PQconninfoParse(uri, NULL)) == NULL)
		return 0;
	for (o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
	}
	if (host != NULL && *host != '\0' && *host != '/' && *host != '@' &&
	    strchr(host, ',') == NULL && (hostaddr == NULL || !*hostaddr) &&
	    inet_pton(AF_INET, host, addr) != 1 &&
	    inet_pton(AF_INET6, host, addr) != 1 && strlen(host) < len) {
		memcpy(out, host, strlen(host) + 1);
		rc = 1;
	}
	PQconninfoFree(opts);
	return rc;
}

static void
on_resolved(int err, struct evutil_addrinfo *res, void *arg)
{
	struct pgconn *c = arg;
	char addr[INET6_ADDRSTRLEN], why[WHY_LEN];
	const void *a;

	const struct evutil_addrinfo *ai;

	if (err == EVUTIL_EAI_CANCEL)
		return; /* drop canceled it */
	c->dns_req = NULL;
	if (err != 0 || res == NULL) {
		/* closed on the next turn: this may run within pgconn_open */
		snprintf(why, sizeof(why), "cannot look up the database host: "
		    "%s", evutil_gai_strerror(err));
		fail_later(c, why);
		return;
	}
	/* one address (hostaddr takes one per host): IPv4 first, as
	 * servers listening on 127.0.0.1 only are common */
	for (ai = res; ai->ai_next != NULL && ai->ai_family != AF_INET;)
		ai = ai->ai_next;
	if (ai->ai_family != AF_INET)
		ai = res;
	a = ai->ai_family == AF_INET6 ?
	    (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr :
	    (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
	if (evutil_inet_ntop(ai->ai_family, a, addr, sizeof(addr)) == NULL)
		addr[0] = '\0';
	evutil_freeaddrinfo(res);
	memcpy(c->addr, addr, sizeof(addr) < sizeof(c->addr) ?
	    sizeof(addr) : sizeof(c->addr));
	c->addr[sizeof(c->addr) - 1] = '\0';
	c->resolving = 0;
	if (addr[0] == '\0' || start_connect(c, addr) == -1) {
		c->resolving = 1; /* still open, so that fail_later closes it */
		fail_later(c, "cannot connect to the database host");
	}
}

/* Looks host up with libevent's resolver, on the loop; the connect starts
 * from its answer. Returns 0, or -1 (no resolver: libpq looks it up). */
static int
start_lookup(struct pgconn *c, const char *host)
{
	struct evutil_addrinfo hints;

	if (c->dns == NULL && (c->dns = evdns_base_new(c->base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	c->resolving = 1;
	/* may answer at once (a name in /etc/hosts): then NULL */
	c->dns_req = evdns_getaddrinfo(c->dns, host, NULL, &hints,
	    on_resolved, c);
	return 0;
}

int
pgconn_open(struct pgconn *c)
{
	char host[256];
	struct timeval tv;

	if (is_open(c))
		return 0;
	c->addr[0] = '\0';
	if (make_events(c) == -1)
		return -1;
	tv.tv_sec = c->connect_ms / 1000;
	tv.tv_usec = (c->connect_ms % 1000) * 1000;
	if (evtimer_add(c->timer_ev, &tv) == -1)
		return -1;
	if (pgconn_host_to_resolve(c->uri, host, sizeof(host)) &&
	    start_lookup(c, host) == 0)
		return 0;
	return start_connect(c, NULL);
}

int
pgconn_query(struct pgconn *c, const struct pgconn_query *q)
{
	struct pgq *p;

	if (!is_open(c) || (p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->q = *q;
	c->npending++;
	if (!c->up) {
		TAILQ_INSERT_TAIL(&c->waiting, p, entry);
		return 0;
	}
	if (send_one(c, p) == -1) {
		TAILQ_INSERT_TAIL(&c->waiting, p, entry);
		fail_later(c, PQerrorMessage(c->conn));
	} else if (flush(c) == -1)
		fail_later(c, PQerrorMessage(c->conn));
	return 0;
}

/* Adds a setup statement; sends it now when up. Returns 0 or -1. */
static int
add_setup(struct pgconn *c, const char *name, const char *sql)
{
	struct setup *s, *ns;

	ns = realloc(c->setups, (c->nsetups + 1) * sizeof(*ns));
	if (ns == NULL)
		return -1;
	c->setups = ns;
	s = &ns[c->nsetups];
	s->name = name != NULL ? strdup(name) : NULL;
	s->sql = strdup(sql);
	if (s->sql == NULL || (name != NULL && s->name == NULL)) {
		free(s->name);
		free(s->sql);
		return -1;
	}
	c->nsetups++;
	if (c->up && (send_setup(c, s) == -1 || flush(c) == -1))
		fail_later(c, PQerrorMessage(c->conn));
	return 0;
}

int
pgconn_prepare(struct pgconn *c, const char *name, const char *sql)
{
	return add_setup(c, name, sql);
}

/* Whether s is non-empty and each byte is in ok or an ASCII letter
 * (lowercase only when lower). */
static int
word_of(const char *s, const char *ok, int lower)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (!lower && s[i] >= 'A' && s[i] <= 'Z') ||
		    strchr(ok, s[i]) != NULL))
			return 0;
	return 1;
}

int
pgconn_listen(struct pgconn *c, const char *channel)
{
	char sql[96];

	if (!word_of(channel, "0123456789_", 1))
		return -1;
	snprintf(sql, sizeof(sql), "LISTEN %s", channel);
	return add_setup(c, NULL, sql);
}

int
pgconn_set(struct pgconn *c, const char *name, const char *value)
{
	char sql[160];

	if (!word_of(name, "_", 1) || !word_of(value, "0123456789._", 0))
		return -1;
	snprintf(sql, sizeof(sql), "SET %s = '%s'", name, value);
	return add_setup(c, NULL, sql);
}

const char *
pgconn_address(const struct pgconn *c)
{
	return c->addr;
}
