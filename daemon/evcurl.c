/* evcurl.c: libcurl's multi_socket API on a libevent base: one event per
 * socket curl asks for, reads paced, one timer, completed transfers handed back. */
#define _GNU_SOURCE /* reallocarray */
#include "evcurl.h"

#include <stdlib.h>
#include <sys/queue.h>

#include "log.h"

/*
 * Read pacing: a socket just read is not watched again until the next pace
 * tick, up to EVCURL_PACE_MS later. Upstream (a proxy, TLS records) may
 * send a stream in pieces of a few KB; read as each arrives, every piece
 * costs a wakeup, a curl_multi_socket_action, recv and poll calls and a
 * context switch (on the fake upstream's random 1..7000-byte pieces, 43
 * epoll wakeups per 1.5 MB image instead of 2). Paced, a read takes what
 * arrived meanwhile, and the ticks serve every waiting socket at once. The
 * kernel holds the bytes (the socket buffer), nothing is lost or reordered;
 * an idle socket costs nothing, as the tick only runs after reads.
 */
#define EVCURL_PACE_MS 1

/* What curl watches on one socket. */
struct evcurl_sock {
	struct evcurl *ec;
	struct event *ev;
	int in_action;              /* curl is handling this socket's event */
	int gone;                   /* curl let go of it meanwhile: free after */
	int paced;                  /* on the pace list, its event not added */
	LIST_ENTRY(evcurl_sock) entry;
	LIST_ENTRY(evcurl_sock) pace_entry;
};

struct evcurl {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct event *pace;         /* the tick that watches paced sockets again */
	LIST_HEAD(, evcurl_sock) paced;
	unsigned long reads;        /* read events handled */
	evcurl_done_cb done;
	void *arg;
	CURL **easies;              /* the transfers in the multi handle */
	int transfers, cap;
	LIST_HEAD(, evcurl_sock) socks; /* freed with ec if curl did not */
};

/* Takes easy off the list; returns 0, or -1 if it was not on it. */
static int
forget(struct evcurl *ec, CURL *easy)
{
	int i;

	for (i = 0; i < ec->transfers; i++)
		if (ec->easies[i] == easy) {
			ec->easies[i] = ec->easies[--ec->transfers];
			return 0;
		}
	return -1;
}

static void
sock_free(struct evcurl_sock *es)
{
	if (es->ev != NULL)
		event_free(es->ev);
	if (es->paced)
		LIST_REMOVE(es, pace_entry);
	LIST_REMOVE(es, entry);
	free(es);
}

/* Curl let go of the socket: freed now, or (from inside its own event's
 * handling) by on_socket_event once curl returns. */
static void
sock_drop(struct evcurl_sock *es)
{
	if (!es->in_action) {
		sock_free(es);
		return;
	}
	es->gone = 1;
	if (es->ev != NULL)
		event_free(es->ev);
	es->ev = NULL;
}

/* The socket was just read: not watched until the next pace tick. */
static void
pace(struct evcurl_sock *es)
{
	struct evcurl *ec = es->ec;
	struct timeval tv = { 0, EVCURL_PACE_MS * 1000 };

	if (es->paced || es->ev == NULL || !(event_get_events(es->ev) & EV_READ))
		return;
	event_del(es->ev);
	es->paced = 1;
	LIST_INSERT_HEAD(&ec->paced, es, pace_entry);
	if (!evtimer_pending(ec->pace, NULL))
		evtimer_add(ec->pace, &tv);
}

/* The pace tick: every paced socket is watched again. */
static void
on_pace(evutil_socket_t fd, short what, void *arg)
{
	struct evcurl *ec = arg;
	struct evcurl_sock *es;

	(void)fd;
	(void)what;
	while ((es = LIST_FIRST(&ec->paced)) != NULL) {
		LIST_REMOVE(es, pace_entry);
		es->paced = 0;
		if (es->ev != NULL)
			event_add(es->ev, NULL);
	}
}

static void
check_done(struct evcurl *ec)
{
	CURLMsg *msg;
	int left;
	CURL *easy;
	CURLcode result;

	while ((msg = curl_multi_info_read(ec->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		result = msg->data.result;
		curl_multi_remove_handle(ec->multi, easy);
		forget(ec, easy);
		ec->done(ec->arg, easy, result);
	}
}

static void
on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct evcurl_sock *es = arg;
	struct evcurl *ec = es->ec;
	int flags = 0, running;

	if (what & EV_READ) {
		flags |= CURL_CSELECT_IN;
		ec->reads++;
	}
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	es->in_action = 1;
	curl_multi_socket_action(ec->multi, fd, flags, &running);
	es->in_action = 0;
	if (es->gone)
		sock_free(es);
	else if (what & EV_READ)
		pace(es);
	check_done(ec);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct evcurl *ec = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(ec->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(ec);
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct evcurl *ec = arg;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(ec->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(ec->timer, &tv);
	return 0;
}

static int
socket_cb(CURL *easy, curl_socket_t s, int what, void *arg, void *sockp)
{
	struct evcurl *ec = arg;
	struct evcurl_sock *es = sockp;
	short kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (es != NULL) {
			curl_multi_assign(ec->multi, s, NULL);
			sock_drop(es);
		}
		return 0;
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (es == NULL) {
		if ((es = calloc(1, sizeof(*es))) == NULL)
			return -1;
		es->ec = ec;
		LIST_INSERT_HEAD(&ec->socks, es, entry);
		curl_multi_assign(ec->multi, s, es);
	} else if (es->ev != NULL) {
		event_free(es->ev);
		es->ev = NULL;
	}
	if ((es->ev = event_new(ec->base, s, kind, on_socket_event, es)) ==
	    NULL || (!es->paced && event_add(es->ev, NULL) == -1)) {
		/* curl fails the transfer; nothing is left half set up */
		curl_multi_assign(ec->multi, s, NULL);
		sock_drop(es);
		return -1;
	}
	return 0;
}

struct evcurl *
evcurl_new(struct event_base *base, evcurl_done_cb done, void *arg)
{
	struct evcurl *ec;

	if ((ec = calloc(1, sizeof(*ec))) == NULL)
		return NULL;
	ec->base = base;
	ec->done = done;
	ec->arg = arg;
	LIST_INIT(&ec->socks);
	LIST_INIT(&ec->paced);
	if ((ec->multi = curl_multi_init()) == NULL ||
	    (ec->timer = evtimer_new(base, on_timer, ec)) == NULL ||
	    (ec->pace = evtimer_new(base, on_pace, ec)) == NULL)
		goto fail;
	curl_multi_setopt(ec->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(ec->multi, CURLMOPT_SOCKETDATA, ec);
	curl_multi_setopt(ec->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(ec->multi, CURLMOPT_TIMERDATA, ec);
	return ec;
fail:
	evcurl_free(ec);
	return NULL;
}

void
evcurl_free(struct evcurl *ec)
{
	if (ec == NULL)
		return;
	if (ec->multi)
		curl_multi_cleanup(ec->multi);
	while (!LIST_EMPTY(&ec->socks))
		sock_free(LIST_FIRST(&ec->socks));
	if (ec->timer)
		event_free(ec->timer);
	if (ec->pace)
		event_free(ec->pace);
	free(ec->easies);
	free(ec);
}

int
evcurl_add(struct evcurl *ec, CURL *easy)
{
	CURL **grown;

	if (ec->transfers == ec->cap) {
		if ((grown = reallocarray(ec->easies, ec->cap ? ec->cap * 2 : 16,
		    sizeof(*grown))) == NULL)
			return -1;
		ec->easies = grown;
		ec->cap = ec->cap ? ec->cap * 2 : 16;
	}
	if (curl_multi_add_handle(ec->multi, easy) != CURLM_OK)
		return -1;
	ec->easies[ec->transfers++] = easy;
	return 0;
}

void
evcurl_remove(struct evcurl *ec, CURL *easy)
{
	if (forget(ec, easy) == 0) /* a second remove is a no-op */
		curl_multi_remove_handle(ec->multi, easy);
}

int
evcurl_running(const struct evcurl *ec)
{
	return ec->transfers;
}

unsigned long
evcurl_reads(const struct evcurl *ec)
{
	return ec->reads;
}
