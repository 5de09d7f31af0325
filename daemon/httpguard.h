/* httpguard.h: what an evhttp listener lets in: a cap on client
 * connections, and accept() errors (EMFILE) met with a pause, not a spin. */
#ifndef IMGEDIT_HTTPGUARD_H
#define IMGEDIT_HTTPGUARD_H

#include <stddef.h>

#include <event2/event.h>
#include <event2/http.h>

/* While accept() fails (out of descriptors), the listener rests this long
 * between tries instead of being called again at once. */
#define HTTPGUARD_PAUSE_MS 200

struct httpguard;
struct httpguard_conn;

/* Guards bound (on base): at most max_conns connections tracked by
 * httpguard_admit; an accept error disables the listener until the next
 * HTTPGUARD_PAUSE_MS tick. Returns the guard (caller owns: httpguard_free,
 * after evhttp_free) or NULL when out of memory. */
struct httpguard *httpguard_new(struct event_base *base,
    struct evhttp_bound_socket *bound, size_t max_conns);
void httpguard_free(struct httpguard *g);

/* The connection of req, tracked from its first request until it closes:
 * returns it, or NULL when it is new and the cap is reached (then answer
 * with httpguard_refuse) or out of memory. */
struct httpguard_conn *httpguard_admit(struct httpguard *g,
    struct evhttp_request *req);

/* Answers req 503 (Retry-After: 1) and closes its connection. */
void httpguard_refuse(struct evhttp_request *req);

/* fn(arg) is called when c's connection closes; it replaces the caller's
 * own evhttp_connection_set_closecb, which the guard owns. NULL clears. */
void httpguard_on_close(struct httpguard_conn *c, void (*fn)(void *),
    void *arg);

/* The connections tracked now. */
size_t httpguard_count(const struct httpguard *g);

/* A connection cap for this process: max, or fewer so that, beside the
 * descriptors open now, margin of its RLIMIT_NOFILE stay free (a new
 * connection must still be accepted to be refused); at least 4. */
size_t httpguard_cap(size_t max, size_t margin);

#endif
