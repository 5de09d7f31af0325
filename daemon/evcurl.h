/* evcurl.h: drives a libcurl multi handle from a libevent loop through
 * CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION (curl's multi-event model). */
#ifndef IMGEDIT_EVCURL_H
#define IMGEDIT_EVCURL_H

#include <curl/curl.h>
#include <event2/event.h>

struct evcurl;

/* Called once per finished easy handle (after it left the multi handle).
 * The callee owns the easy handle again (cleanup or reuse it). */
typedef void (*evcurl_done_cb)(void *arg, CURL *easy, CURLcode result);

/* Returns a new driver (caller owns: evcurl_free), or NULL. */
struct evcurl *evcurl_new(struct event_base *base, evcurl_done_cb done,
    void *arg);
/* Removes nothing: free only when no transfer is left. */
void evcurl_free(struct evcurl *ec);

/* Starts a transfer; returns 0 or -1. */
int evcurl_add(struct evcurl *ec, CURL *easy);
/* Stops a transfer at once (no done callback); the caller owns easy again.
 * A handle that is not in (removed, or done) is left alone. */
void evcurl_remove(struct evcurl *ec, CURL *easy);
/* Number of transfers in progress. */
int evcurl_running(const struct evcurl *ec);
/* Number of times a socket was read (curl told it was readable) so far.
 * Reads are paced: a socket just read waits for the next tick (1 ms) before
 * it is watched again, so that a stream sent in small pieces is read in
 * fewer, larger reads. */
unsigned long evcurl_reads(const struct evcurl *ec);

#endif
