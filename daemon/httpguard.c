/* httpguard.c: connections counted from their first request to their
 * close callback; a listener whose accept() failed rests until a tick. */
#include "httpguard.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <sys/resource.h>

#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

struct httpguard_conn {
	TAILQ_ENTRY(httpguard_conn) entry;
	struct httpguard *g;
	struct evhttp_connection *evcon;
	void (*on_close)(void *);
	void *on_close_arg;
};

struct httpguard {
	TAILQ_HEAD(, httpguard_conn) conns;
	size_t count, max_conns;
	struct evconnlistener *listener;
	struct event *tick;
};

/* accept() failed for another reason than a retry (EMFILE, ENFILE,
 * ENOBUFS, ENOMEM): libevent would call it again at once, and log each
 * time. The callback gets evhttp's argument, not ours: it only disables;
 * the guard's tick enables again. */
static void
on_accept_error(struct evconnlistener *lev, void *arg)
{
	(void)arg;
	evconnlistener_disable(lev);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct httpguard *g = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(g->listener);
}

struct httpguard *
httpguard_new(struct event_base *base, struct evhttp_bound_socket *bound,
    size_t max_conns)
{
	struct timeval tv = { HTTPGUARD_PAUSE_MS / 1000,
	    (HTTPGUARD_PAUSE_MS % 1000) * 1000 };
	struct httpguard *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	TAILQ_INIT(&g->conns);
	g->max_conns = max_conns;
	g->listener = evhttp_bound_socket_get_listener(bound);
	if ((g->tick = event_new(base, -1, EV_PERSIST, on_tick, g)) == NULL ||
	    event_add(g->tick, &tv) == -1) {
		httpguard_free(g);
		return NULL;
	}
	evconnlistener_set_error_cb(g->listener, on_accept_error);
	return g;
}

static void
on_conn_close(struct evhttp_connection *evcon, void *arg)
{
	struct httpguard_conn *c = arg;
	struct httpguard *g = c->g;

	(void)evcon;
	TAILQ_REMOVE(&g->conns, c, entry);
	g->count--;
	if (c->on_close != NULL)
		c->on_close(c->on_close_arg);
	free(c);
}

struct httpguard_conn *
httpguard_admit(struct httpguard *g, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct httpguard_conn *c;

	if (evcon == NULL)
		return NULL;
	/* at most max_conns of them: a walk is cheap */
	TAILQ_FOREACH(c, &g->conns, entry)
		if (c->evcon == evcon)
			return c;
	if (g->count >= g->max_conns || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->g = g;
	c->evcon = evcon;
	TAILQ_INSERT_TAIL(&g->conns, c, entry);
	g->count++;
	evhttp_connection_set_closecb(evcon, on_conn_close, c);
	return c;
}

void
httpguard_refuse(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Connection", "close");
	evhttp_add_header(h, "Retry-After", "1");
	evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply(req, 503, "Service Unavailable", NULL);
}

void
httpguard_on_close(struct httpguard_conn *c, void (*fn)(void *), void *arg)
{
	c->on_close = fn;
	c->on_close_arg = arg;
}

size_t
httpguard_count(const struct httpguard *g)
{
	return g->count;
}

/* Descriptors open now (Linux: /proc/self/fd), or 0 if unknown. */
static size_t
fds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n > 0 ? n - 1 : 0; /* not the directory's own */
}

size_t
httpguard_cap(size_t max, size_t margin)
{
	struct rlimit rl;
	size_t cap = max, busy = fds_open() + margin;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)(max + busy))
		cap = rl.rlim_cur > (rlim_t)busy ? (size_t)(rl.rlim_cur - busy) :
		    0;
	return cap < 4 ? 4 : cap;
}

/* After evhttp_free: its connections (and their close callbacks) gone. */
void
httpguard_free(struct httpguard *g)
{
	struct httpguard_conn *c;

	if (g == NULL)
		return;
	while ((c = TAILQ_FIRST(&g->conns)) != NULL) {
		TAILQ_REMOVE(&g->conns, c, entry);
		free(c);
	}
	if (g->tick != NULL)
		event_free(g->tick);
	free(g);
}
