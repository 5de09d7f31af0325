/* live.h: imgeditctl serve's /events: the browsers listening, and what
 * changed in the database (PRAGMA data_version, polled) told to each. */
#ifndef IMGEDIT_LIVE_H
#define IMGEDIT_LIVE_H

#include <event2/event.h>
#include <event2/http.h>

#include "catalog.h"
#include "httpguard.h"

/* How often the database is asked whether it changed. */
#define LIVE_POLL_MS 250

struct live;

/* Starts watching cat from now on, from a timer on base. Returns the
 * watcher (caller owns: live_free, after the connections are gone, e.g.
 * after evhttp_free) or NULL when out of memory. */
struct live *live_new(struct event_base *base, struct catalog *cat);
void live_free(struct live *lv);

/* Answers GET /events with a text/event-stream that stays open: "job"
 * events ({"job","from","to"}) and "image" events ({"job","image","kind",
 * "attempt"}). The query's ev= and img= (or a reconnecting browser's
 * Last-Event-ID) say what the page has seen: what came since is sent first.
 * The client is dropped when conn (httpguard.h: req's) closes. */
/* The clients on /events now. */
size_t live_count(const struct live *lv);

void live_attach(struct live *lv, struct evhttp_request *req,
    struct httpguard_conn *conn, const struct evkeyvalq *query);

#endif
