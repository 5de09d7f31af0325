/* live.c: the /events stream of imgeditctl serve: one timer polls PRAGMA
 * data_version; what catalog_activity found since goes to every browser. */
#include "live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>

#include "ctl.h"
#include "pages.h"

#define LIVE_PING_TICKS 60         /* a comment to every client: 15 s */
#define LIVE_BACKLOG (1u << 20)    /* queued to one client: then dropped */
#define LIVE_BATCH 200             /* events and images per read */

/* A browser on /events. */
struct live_client {
	TAILQ_ENTRY(live_client) entry;
	struct evhttp_request *req;
	struct live *lv;
};

struct live {
	struct catalog *cat;
	struct event *tick;
	TAILQ_HEAD(, live_client) clients;
	size_t nclients;
	int64_t version;          /* PRAGMA data_version last seen */
	struct page_marks sent;   /* activity told to clients up to here */
	int more;                 /* the last read was a full batch */
	unsigned ticks;
};

static void
client_drop(struct live_client *cl)
{
	TAILQ_REMOVE(&cl->lv->clients, cl, entry);
	cl->lv->nclients--;
	free(cl);
}

/* The connection is going. When the browser went away, evhttp has already
 * detached the request and leaves it to us: ending it frees it. Otherwise
 * (serve stops, a slow client is dropped) the connection frees it. */
static void
live_client_gone(void *arg)
{
	struct live_client *c = arg;
	struct evhttp_request *req = c->req;

	client_drop(c);
	if (evhttp_request_get_connection(req) == NULL)
		evhttp_send_reply_end(req);
}

/* Queues text to one client, or drops a client that reads too slowly. */
static void
client_send(struct live_client *cl, const char *text, size_t len)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(cl->req);
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	struct evbuffer *chunk;

	if (evbuffer_get_length(bufferevent_get_output(bev)) > LIVE_BACKLOG) {
		evhttp_connection_free(evcon); /* its close callback drops cl */
		return;
	}
	if ((chunk = evbuffer_new()) == NULL)
		return;
	evbuffer_add(chunk, text, len);
	evhttp_send_reply_chunk(cl->req, chunk);
	evbuffer_free(chunk);
}

static void
broadcast(struct live *lv, const char *text, size_t len)
{
	struct live_client *cl, *next;

	for (cl = TAILQ_FIRST(&lv->clients); cl != NULL; cl = next) {
		next = TAILQ_NEXT(cl, entry);
		client_send(cl, text, len);
	}
}

/* Appends one message per event and image of catalog_activity's doc (only
 * ids up to upto, if not NULL), then an id: line; moves m past what it
 * saw. Returns how many messages it wrote. */
static int
sse_format(struct evbuffer *out, const json_t *doc, struct page_marks *m,
    const struct page_marks *upto)
{
	const json_t *e;
	json_t *msg;
	char *text;
	size_t i;
	int n = 0;

	json_array_foreach(json_object_get(doc, "events"), i, e) {
		if (upto != NULL && jint(e, "id") > upto->event)
			break;
		msg = json_pack("{s:I,s:O,s:O}", "job", (json_int_t)jint(e,
		    "job_id"), "from", json_object_get(e, "from_state"), "to",
		    json_object_get(e, "to_state"));
		if (msg != NULL && (text = json_dumps(msg, JSON_COMPACT)) != NULL) {
			evbuffer_add_printf(out, "event: job\ndata: %s\n\n", text);
			free(text);
		}
		json_decref(msg);
		m->event = jint(e, "id");
		n++;
	}
	json_array_foreach(json_object_get(doc, "images"), i, e) {
		if (upto != NULL && jint(e, "id") > upto->image)
			break;
		msg = json_pack("{s:I,s:I,s:O,s:I}", "job", (json_int_t)jint(e,
		    "job_id"), "image", (json_int_t)jint(e, "id"), "kind",
		    json_object_get(e, "kind"), "attempt",
		    (json_int_t)jint(e, "attempt"));
		if (msg != NULL && (text = json_dumps(msg, JSON_COMPACT)) != NULL) {
			evbuffer_add_printf(out, "event: image\ndata: %s\n\n", text);
			free(text);
		}
		json_decref(msg);
		m->image = jint(e, "id");
		n++;
	}
	if (n > 0)
		evbuffer_add_printf(out, "id: %lld-%lld\n\n", (long long)m->event,
		    (long long)m->image);
	return n;
}

/* What happened since lv->sent, to every client. */
static void
tell_activity(struct live *lv)
{
	struct evbuffer *out;
	json_t *doc = NULL;
	size_t len;

	lv->more = 0;
	if (TAILQ_EMPTY(&lv->clients)) {
		catalog_activity_marks(lv->cat, &lv->sent.event,
		    &lv->sent.image);
		return;
	}
	if (catalog_activity(lv->cat, lv->sent.event, lv->sent.image,
	    LIVE_BATCH, &doc) != CATALOG_OK || (out = evbuffer_new()) == NULL) {
		json_decref(doc);
		return;
	}
	lv->more = json_array_size(json_object_get(doc, "events")) ==
	    LIVE_BATCH || json_array_size(json_object_get(doc, "images")) ==
	    LIVE_BATCH;
	if (sse_format(out, doc, &lv->sent, NULL) > 0) {
		len = evbuffer_get_length(out);
		broadcast(lv, (const char *)evbuffer_pullup(out, -1), len);
	}
	evbuffer_free(out);
	json_decref(doc);
}

/* The client's starting point: ?ev=&img=, or Last-Event-ID "E-I" when the
 * browser reconnects. Returns 1 if it gave one. */
static int
client_marks(struct evhttp_request *req, const struct evkeyvalq *q,
    struct page_marks *m)
{
	const char *last = evhttp_find_header(evhttp_request_get_input_headers(
	    req), "Last-Event-ID");
	const char *ev = evhttp_find_header(q, "ev");
	const char *img = evhttp_find_header(q, "img");
	long long a, b;
	char end;

	if (last != NULL && sscanf(last, "%lld-%lld%c", &a, &b, &end) == 2 &&
	    a >= 0 && b >= 0) {
		m->event = a;
		m->image = b;
		return 1;
	}
	if (ev == NULL || img == NULL || sscanf(ev, "%lld%c", &a, &end) != 1 ||
	    sscanf(img, "%lld%c", &b, &end) != 1 || a < 0 || b < 0)
		return 0;
	m->event = a;
	m->image = b;
	return 1;
}

void
live_attach(struct live *lv, struct evhttp_request *req,
    struct httpguard_conn *conn, const struct evkeyvalq *q)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct live_client *c;
	struct page_marks from, seen;
	struct evbuffer *out;
	json_t *doc = NULL;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	c->req = req;
	c->lv = lv;
	evhttp_add_header(h, "Content-Type", "text/event-stream");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Cross-Origin-Resource-Policy", "same-origin");
	evhttp_send_reply_start(req, HTTP_OK, "OK");
	httpguard_on_close(conn, live_client_gone, c);
	TAILQ_INSERT_TAIL(&lv->clients, c, entry);
	lv->nclients++;
	client_send(c, "retry: 2000\n\n", 13);
	/* catch up from the page's marks to where the broadcast is */
	if (!client_marks(req, q, &from) || (from.event >= lv->sent.event &&
	    from.image >= lv->sent.image))
		return;
	if (catalog_activity(lv->cat, from.event, from.image, LIVE_BATCH,
	    &doc) != CATALOG_OK || (out = evbuffer_new()) == NULL) {
		json_decref(doc);
		return;
	}
	seen = from;
	if (sse_format(out, doc, &seen, &lv->sent) > 0)
		client_send(c, (const char *)evbuffer_pullup(out, -1),
		    evbuffer_get_length(out));
	evbuffer_free(out);
	json_decref(doc);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct live *lv = arg;
	int64_t v;

	(void)fd;
	(void)what;
	if (++lv->ticks % LIVE_PING_TICKS == 0)
		broadcast(lv, ": ping\n\n", 8);
	if (catalog_data_version(lv->cat, &v) != CATALOG_OK)
		return;
	if (v == lv->version && !lv->more)
		return;
	lv->version = v;
	tell_activity(lv);
}


struct live *
live_new(struct event_base *base, struct catalog *cat)
{
	struct timeval tv = { 0, LIVE_POLL_MS * 1000 };
	struct live *lv;

	if ((lv = calloc(1, sizeof(*lv))) == NULL)
		return NULL;
	lv->cat = cat;
	TAILQ_INIT(&lv->clients);
	catalog_data_version(cat, &lv->version);
	catalog_activity_marks(cat, &lv->sent.event, &lv->sent.image);
	if ((lv->tick = event_new(base, -1, EV_PERSIST, on_tick, lv)) == NULL ||
	    event_add(lv->tick, &tv) == -1) {
		live_free(lv);
		return NULL;
	}
	return lv;
}

size_t
live_count(const struct live *lv)
{
	return lv->nclients;
}

void
live_free(struct live *lv)
{
	struct live_client *c;

	if (lv == NULL)
		return;
	while ((c = TAILQ_FIRST(&lv->clients)) != NULL)
		client_drop(c);
	if (lv->tick != NULL)
		event_free(lv->tick);
	free(lv);
}
