/* testloop.h: for unit tests that drive a libevent loop (the PostgreSQL
 * ones): run it until a counter reaches a value or a deadline passes. */
#ifndef IMGEDIT_TESTLOOP_H
#define IMGEDIT_TESTLOOP_H

#include <sys/time.h>

#include <event2/event.h>

static inline void
tu_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(int *)arg = 1;
}

/* Runs base until *counter >= want or ms pass. Returns 0, or -1 if the
 * deadline came first. */
static inline int
tu_run_until(struct event_base *base, const int *counter, int want, int ms)
{
	int late = 0;
	struct event *t = evtimer_new(base, tu_on_deadline, &late);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(t, &tv);
	while (*counter < want && !late)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
	return *counter >= want ? 0 : -1;
}

#endif
