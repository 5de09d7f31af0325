/* serve.c: imgeditctl serve: one evhttp server over a read-only connection:
 * the verb, routing, pages, image bytes and thumbnails (/events: live.c). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "ctl.h"
#include "listenaddr.h"
#include "httpguard.h"
#include "image.h"
#include "live.h"
#include "pages.h"
#include "settings.h"
#include "thumb.h"
#include "thumbcache.h"
#include "thumbpool.h"
#include "util.h"
#include "webauth.h"

#define SERVE_ROWS 50                /* jobs per page */
#define SERVE_WORD_MAX 200           /* bytes of the prompt filter */
#define SERVE_THUMB_CACHE (64u << 20)
#define SERVE_THUMB_THREADS 2        /* decoding beside the loop */
#define SERVE_THUMB_QUEUE 64         /* images waiting to be decoded */
#define SERVE_CONNS_MAX 256          /* browsers' connections, at most... */
#define SERVE_FDS_MARGIN 8           /* ...leaving these descriptors free */
#define SERVE_IDLE_TIMEOUT_S 30      /* /events pings every 15 s */
#define SERVE_IMAGE_MAX (64u << 20)  /* larger rows are not served */
#define SERVE_CHART_EVENTS 20000     /* events read for the chart, at most */

#define CSP "default-src 'none'; img-src 'self'; style-src 'self'; " \
	"script-src 'self'; connect-src 'self'; base-uri 'none'; " \
	"form-action 'self'; frame-ancestors 'none'"
#define IMMUTABLE "private, max-age=31536000, immutable"

struct serve;

/* One request being answered: its start, for Server-Timing. */
struct call {
	struct serve *sv;
	struct evhttp_request *req;
	struct httpguard_conn *conn; /* req's connection (httpguard.h) */
	struct timespec t0;
	int64_t now;
};

/* A thumbnail request waiting for the pool; every waiter for the same
 * image is answered when its thumbnail (or failure) comes back. */
struct thumb_wait {
	TAILQ_ENTRY(thumb_wait) entry;
	struct call cl;              /* cl.req NULL once the client went */
	char sha256[SHA256_HEX_LEN + 1];
};

TAILQ_HEAD(thumb_waits, thumb_wait);

struct serve {
	struct ctl *c;
	struct event_base *base;
	struct evhttp *http;
	struct event *sigint, *sigterm;
	struct thumbcache *thumbs;
	struct thumbpool *pool;
	struct thumb_waits waits;
	struct httpguard *guard;
	size_t conns_max;           /* the guard's cap */
	struct live *live;
	int loopback;               /* bound to loopback: local Host names only */
	char allow_hosts[1024];     /* --allow-host names, comma-separated */
	char token[WEBAUTH_TOKEN_MAX + 1]; /* --token's, or "" */
};

static const char serve_help[] =
    "usage: imgeditctl serve [--listen ADDR:PORT] [--token FILE]\n"
    "                        [--allow-host NAME]... [--db PATH] [--json]\n"
    "\n"
    "Serves a read-only web view of the queue: counts, images per minute,\n"
    "daemons, jobs with thumbnails of their partials and finals, each job's\n"
    "attempts and history, updated live while a page is open. The database\n"
    "is opened read-only (mode=ro): serve never writes to it.\n"
    "\n"
    "  --listen ADDR:PORT  where to listen (default 127.0.0.1:8080; port 0:\n"
    "                      any free port). Any address but loopback prints a\n"
    "                      warning: the pages show prompts and images to\n"
    "                      whoever can reach them.\n"
    "  --token FILE        ask for the token in FILE (its first line; 16 to\n"
    "                      200 characters; not readable by others): as\n"
    "                      Authorization: Bearer TOKEN, or the cookie that\n"
    "                      opening /?token=TOKEN once sets\n"
    "  --allow-host NAME   answer only requests whose Host is NAME (again\n"
    "                      for more); default: localhost names on loopback\n"
    "  --json              print the address as JSON instead of a line\n"
    "\n"
    "Paths: / (?state=S&q=WORD&before=ID), /jobs/ID, /images/ID,\n"
    "/images/ID/thumb, /inputs/ID/image/N, /inputs/ID/mask/0 (and /thumb),\n"
    "/events (server-sent events). Runs until SIGINT or SIGTERM (exit 0).\n"
    "Exit status: 1 cannot listen, 2 usage, 3 database unavailable.\n";

/* ---- replies ---- */

static void
add_timing(struct call *cl)
{
	struct timespec t1;
	char v[64];
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - cl->t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - cl->t0.tv_nsec) / 1e6;
	snprintf(v, sizeof(v), "app;dur=%.2f", ms);
	evhttp_add_header(evhttp_request_get_output_headers(cl->req),
	    "Server-Timing", v);
}

static void
reply(struct call *cl, int code, const char *reason, const char *ctype,
    const char *cache, struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(cl->req);

	if (ctype != NULL)
		evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", cache != NULL ? cache :
	    "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Content-Security-Policy", CSP);
	evhttp_add_header(h, "Cross-Origin-Resource-Policy", "same-origin");
	add_timing(cl);
	evhttp_send_reply(cl->req, code, reason, body);
}

static void
reply_html(struct call *cl, struct evbuffer *body)
{
	reply(cl, HTTP_OK, "OK", "text/html; charset=utf-8", NULL, body);
}

static void
reply_error(struct call *cl, int code, const char *reason, const char *msg)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL || page_error(b, code, msg) == -1) {
		evhttp_send_error(cl->req, HTTP_INTERNAL, NULL);
		evbuffer_free(b);
		return;
	}
	reply(cl, code, reason, "text/html; charset=utf-8", NULL, b);
	evbuffer_free(b);
}

static void
reply_db_error(struct call *cl)
{
	ctl_err("serve: database: %s", catalog_errmsg(cl->sv->c->cat));
	reply_error(cl, 503, "Service Unavailable", "The database could not be "
	    "read just now; try again.");
}

/* ---- the queue, a job, the fragments the script fetches ---- */

/* Reads the filter from the query; 0, or -1 after a 400 reply. */
static int
parse_filter(struct call *cl, struct evkeyvalq *q, struct page_filter *f)
{
	const char *state = evhttp_find_header(q, "state");
	const char *word = evhttp_find_header(q, "q");
	const char *before = evhttp_find_header(q, "before");

	memset(f, 0, sizeof(*f));
	f->limit = SERVE_ROWS;
	if (state != NULL && *state != '\0') {
		if (!catalog_state_valid(state)) {
			reply_error(cl, HTTP_BADREQUEST, "Bad Request", "No such "
			    "state: give queued, running, retry_wait, succeeded, "
			    "failed or canceled.");
			return -1;
		}
		f->state = state;
	}
	if (word != NULL && *word != '\0') {
		if (strlen(word) > SERVE_WORD_MAX) {
			reply_error(cl, HTTP_BADREQUEST, "Bad Request",
			    "The prompt filter is too long.");
			return -1;
		}
		f->word = word;
	}
	if (before != NULL && *before != '\0' && parse_id(before,
	    &f->before) == -1) {
		reply_error(cl, HTTP_BADREQUEST, "Bad Request",
		    "before= takes a job id.");
		return -1;
	}
	return 0;
}

/* The summary section: counts, chart, pause, daemons. */
static int
render_summary(struct call *cl, struct evbuffer *out)
{
	struct catalog *cat = cl->sv->c->cat;
	int64_t bins[HTML_CHART_MINUTES], *at = NULL, *finals = NULL;
	json_t *status = NULL;
	size_t n = 0;
	int rc = -1;

	if (catalog_overview(cat, cl->now, &status) != CATALOG_OK ||
	    catalog_finals_since(cat, cl->now - HTML_CHART_MINUTES * 60000LL,
	    SERVE_CHART_EVENTS, &at, &finals, &n) != CATALOG_OK)
		goto done;
	html_chart_bin(at, finals, n, cl->now, bins);
	rc = page_summary(out, status, bins, cl->now) == 0 ? 0 : -1;
done:
	json_decref(status);
	free(at);
	free(finals);
	return rc;
}

static void
h_index(struct call *cl, struct evkeyvalq *q)
{
	struct catalog *cat = cl->sv->c->cat;
	struct catalog_page_query pq;
	struct page_filter f;
	struct page_marks m;
	struct evbuffer *out = evbuffer_new();
	json_t *jobs = NULL;

	if (out == NULL || parse_filter(cl, q, &f) == -1)
		goto done;
	memset(&pq, 0, sizeof(pq));
	pq.state = f.state;
	pq.word = f.word;
	pq.before = f.before;
	pq.limit = f.limit;
	/* the marks first: what happens while the page is read is replayed */
	if (catalog_activity_marks(cat, &m.event, &m.image) != CATALOG_OK ||
	    catalog_page(cat, &pq, &jobs) != CATALOG_OK ||
	    page_begin(out, "the queue", &m, 0, f.state == NULL &&
	    f.word == NULL && f.before == 0) == -1 ||
	    render_summary(cl, out) == -1) {
		reply_db_error(cl);
		goto done;
	}
	if (page_jobs(out, jobs, &f, cl->now) == -1 || page_end(out) == -1)
		goto oom;
	reply_html(cl, out);
	goto done;
oom:
	evhttp_send_error(cl->req, HTTP_INTERNAL, NULL);
done:
	json_decref(jobs);
	if (out != NULL)
		evbuffer_free(out);
}

static void
h_job(struct call *cl, int64_t id)
{
	struct catalog *cat = cl->sv->c->cat;
	struct page_marks m;
	struct evbuffer *out = evbuffer_new();
	json_t *doc = NULL;
	char title[64];
	int rc;

	if (out == NULL)
		goto done;
	if (catalog_activity_marks(cat, &m.event, &m.image) != CATALOG_OK ||
	    (rc = catalog_show(cat, id, &doc)) == CATALOG_ERR ||
	    rc == CATALOG_BUSY) {
		reply_db_error(cl);
		goto done;
	}
	if (rc == CATALOG_NOTFOUND) {
		reply_error(cl, HTTP_NOTFOUND, "Not Found", "No such job (it may "
		    "have been pruned).");
		goto done;
	}
	snprintf(title, sizeof(title), "job %lld", (long long)id);
	if (page_begin(out, title, &m, id, 0) == -1 ||
	    page_job(out, doc, cl->now) == -1 || page_end(out) == -1)
		evhttp_send_error(cl->req, HTTP_INTERNAL, NULL);
	else
		reply_html(cl, out);
done:
	json_decref(doc);
	if (out != NULL)
		evbuffer_free(out);
}

static void
h_fragment_row(struct call *cl, int64_t id)
{
	struct catalog_page_query pq = { .only = id, .limit = 1 };
	struct evbuffer *out = evbuffer_new();
	json_t *jobs = NULL;

	if (out == NULL)
		goto done;
	if (catalog_page(cl->sv->c->cat, &pq, &jobs) != CATALOG_OK) {
		reply_db_error(cl);
		goto done;
	}
	if (json_array_size(jobs) == 0)
		reply_error(cl, HTTP_NOTFOUND, "Not Found", "No such job.");
	else if (page_row(out, json_array_get(jobs, 0), cl->now) == -1)
		evhttp_send_error(cl->req, HTTP_INTERNAL, NULL);
	else
		reply_html(cl, out);
done:
	json_decref(jobs);
	if (out != NULL)
		evbuffer_free(out);
}

static void
h_fragment_summary(struct call *cl)
{
	struct evbuffer *out = evbuffer_new();

	if (out == NULL)
		return;
	if (render_summary(cl, out) == -1)
		reply_db_error(cl);
	else
		reply_html(cl, out);
	evbuffer_free(out);
}

/* ---- bytes: images, inputs, thumbnails ---- */

static int
buf_sink(void *arg, const void *p, size_t n)
{
	return buf_append(arg, p, n);
}

static void
free_bytes(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

/* Whether If-None-Match names etag (or is "*"). */
static int
not_modified(struct call *cl, const char *etag)
{
	const char *inm = evhttp_find_header(evhttp_request_get_input_headers(
	    cl->req), "If-None-Match");

	return inm != NULL && (strstr(inm, etag) != NULL ||
	    strcmp(inm, "*") == 0);
}

static void
etag_of(char *etag, size_t n, const char *sha256, int thumb)
{
	snprintf(etag, n, "\"%s%s\"", thumb ? "t160-" : "", sha256);
}

/* ---- thumbnails: made by the pool, remembered by the cache ---- */

/* Answers a thumbnail request from the cache; 0 if it holds nothing. */
static int
thumb_from_cache(struct call *cl, const char *sha256)
{
	struct evbuffer *out;
	const unsigned char *png;
	const char *failure;
	size_t len;

	if ((failure = thumbcache_failure(cl->sv->thumbs, sha256)) != NULL) {
		reply_error(cl, 422, "Unprocessable Entity", failure);
		return 1;
	}
	if ((png = thumbcache_get(cl->sv->thumbs, sha256, &len)) == NULL)
		return 0;
	if ((out = evbuffer_new()) == NULL ||
	    evbuffer_add(out, png, len) == -1)
		evhttp_send_error(cl->req, HTTP_INTERNAL, NULL);
	else
		reply(cl, HTTP_OK, "OK", "image/png", IMMUTABLE, out);
	if (out != NULL)
		evbuffer_free(out);
	return 1;
}

/* The connection of a waiting request closed. When the client went away,
 * evhttp has detached the request and left it to us: freed here. */
static void
on_thumb_client_gone(void *arg)
{
	struct thumb_wait *w = arg;

	if (evhttp_request_get_connection(w->cl.req) == NULL)
		evhttp_request_free(w->cl.req);
	w->cl.req = NULL;
}

static int
thumb_waited(struct serve *sv, const char *sha256)
{
	struct thumb_wait *w;

	TAILQ_FOREACH(w, &sv->waits, entry)
		if (strcmp(w->sha256, sha256) == 0)
			return 1;
	return 0;
}

/* The pool's answer, on the loop: cached, success or failure alike, and
 * given to every request waiting for it. */
static void
on_thumb_done(void *arg, struct thumbpool_result *res)
{
	struct serve *sv = arg;
	struct thumb_wait *w, *next;

	if (res->ok)
		thumbcache_put(sv->thumbs, res->key, res->t.png, res->t.len);
	else
		thumbcache_put_failure(sv->thumbs, res->key, res->err);
	for (w = TAILQ_FIRST(&sv->waits); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (strcmp(w->sha256, res->key) != 0)
			continue;
		TAILQ_REMOVE(&sv->waits, w, entry);
		if (w->cl.req != NULL) {
			httpguard_on_close(w->cl.conn, NULL, NULL);
			if (!thumb_from_cache(&w->cl, res->key))
				reply_error(&w->cl, 422, "Unprocessable Entity",
				    res->ok ? "The thumbnail is too large to "
				    "keep." : res->err);
		}
		free(w);
	}
}

/* A thumbnail of data (taken): from the cache, else queued for the pool;
 * the request waits. A full queue is 503 with Retry-After. */
static void
send_thumb(struct call *cl, unsigned char *data, size_t len,
    const char *sha256)
{
	struct serve *sv = cl->sv;
	struct thumb_wait *w;

	if (thumb_from_cache(cl, sha256))
		goto done;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		evhttp_send_error(cl->req, HTTP_INTERNAL, NULL);
		goto done;
	}
	if (!thumb_waited(sv, sha256)) {
		if (data == NULL || thumbpool_submit(sv->pool, sha256, data, len,
		    PAGE_THUMB_SIDE, sv) == -1) {
			free(w);
			evhttp_add_header(evhttp_request_get_output_headers(
			    cl->req), "Retry-After", "1");
			reply_error(cl, 503, "Service Unavailable", "Too many "
			    "thumbnails are being made; try again.");
			goto done;
		}
		data = NULL;
	}
	w->cl = *cl;
	snprintf(w->sha256, sizeof(w->sha256), "%s", sha256);
	TAILQ_INSERT_TAIL(&sv->waits, w, entry);
	httpguard_on_close(cl->conn, on_thumb_client_gone, w);
done:
	free(data);
}

/* Sends data (taking it) or its thumbnail, with ETag and a year's caching. */
static void
send_bytes(struct call *cl, unsigned char *data, size_t len,
    const char *sha256, int thumb)
{
	struct evbuffer *out = evbuffer_new();
	struct img_info info;
	const char *ctype;
	char hex[SHA256_HEX_LEN + 1], etag[96], err[256];

	if (out == NULL)
		goto fail;
	if (sha256 == NULL || *sha256 == '\0') {
		sha256_hex(data, len, hex);
		sha256 = hex;
	}
	etag_of(etag, sizeof(etag), sha256, thumb);
	evhttp_add_header(evhttp_request_get_output_headers(cl->req), "ETag",
	    etag);
	if (not_modified(cl, etag)) {
		reply(cl, HTTP_NOTMODIFIED, "Not Modified", NULL, IMMUTABLE, NULL);
		goto done;
	}
	if (!thumb) {
		ctype = img_probe(data, len, &info, err, sizeof(err)) == 0 ?
		    img_mime(info.format) : "application/octet-stream";
		if (evbuffer_add_reference(out, data, len, free_bytes, NULL) == -1)
			goto fail;
		data = NULL;
		reply(cl, HTTP_OK, "OK", ctype, IMMUTABLE, out);
		goto done;
	}
	send_thumb(cl, data, len, sha256);
	data = NULL;
	goto done;
fail:
	evhttp_send_error(cl->req, HTTP_INTERNAL, NULL);
done:
	free(data);
	if (out != NULL)
		evbuffer_free(out);
}

/* A 304 from the stored SHA-256 alone, before any byte is read. */
static int
early_304(struct call *cl, const char *sha256, int thumb)
{
	char etag[96];

	if (*sha256 == '\0')
		return 0;
	etag_of(etag, sizeof(etag), sha256, thumb);
	if (!not_modified(cl, etag))
		return 0;
	evhttp_add_header(evhttp_request_get_output_headers(cl->req), "ETag",
	    etag);
	reply(cl, HTTP_NOTMODIFIED, "Not Modified", NULL, IMMUTABLE, NULL);
	return 1;
}

static void
h_image(struct call *cl, int64_t id, int thumb)
{
	struct catalog *cat = cl->sv->c->cat;
	struct catalog_bytes_meta m;
	struct buf b = { 0 };
	size_t tlen;
	int rc;

	if ((rc = catalog_image_meta(cat, id, &m)) == CATALOG_NOTFOUND) {
		reply_error(cl, HTTP_NOTFOUND, "Not Found", "No such image.");
		return;
	}
	if (rc != CATALOG_OK) {
		reply_db_error(cl);
		return;
	}
	if (early_304(cl, m.sha256, thumb))
		return;
	if (m.size > SERVE_IMAGE_MAX) {
		reply_error(cl, HTTP_INTERNAL, "Internal Server Error",
		    "This image is too large to be served.");
		return;
	}
	/* a cached thumbnail, or one being made, needs no bytes */
	if (thumb && m.sha256[0] != '\0' &&
	    (thumbcache_get(cl->sv->thumbs, m.sha256, &tlen) != NULL ||
	    thumbcache_failure(cl->sv->thumbs, m.sha256) != NULL ||
	    thumb_waited(cl->sv, m.sha256))) {
		send_bytes(cl, NULL, 0, m.sha256, 1);
		return;
	}
	if ((rc = catalog_image_read(cat, id, buf_sink, &b)) != CATALOG_OK) {
		buf_free(&b);
		if (rc == CATALOG_NOTFOUND)
			reply_error(cl, HTTP_NOTFOUND, "Not Found",
			    "No such image.");
		else
			reply_db_error(cl);
		return;
	}
	send_bytes(cl, b.data, b.len, m.sha256, thumb);
}

static void
h_input(struct call *cl, int64_t job, const char *role, int64_t ordinal,
    int thumb)
{
	struct catalog_bytes_meta m;
	unsigned char *data = NULL;
	size_t len = 0;
	int rc;

	rc = catalog_input_get(cl->sv->c->cat, job, input_role_of(role),
	    (int)ordinal, STORE_INPUT_MAX, &data,
	    &len, &m);
	if (rc == CATALOG_NOTFOUND) {
		reply_error(cl, HTTP_NOTFOUND, "Not Found", "No such input.");
		return;
	}
	if (rc != CATALOG_OK) {
		reply_db_error(cl);
		return;
	}
	send_bytes(cl, data, len, m.sha256, thumb);
}

/* ---- routing ---- */

/* Splits path into at most n segments (in buf). Returns the count, or -1
 * if there are more. */
static int
split_path(const char *path, char *buf, size_t buflen, char **seg, int n)
{
	char *p, *save = NULL;
	int k = 0;

	if (strlen(path) >= buflen)
		return -1;
	strcpy(buf, path);
	for (p = strtok_r(buf, "/", &save); p != NULL;
	    p = strtok_r(NULL, "/", &save)) {
		if (k == n)
			return -1;
		seg[k++] = p;
	}
	return k;
}

static int
is_thumb(int n, char **seg, int at)
{
	return n == at + 1 && strcmp(seg[at], "thumb") == 0;
}

/* /images/ID[/thumb], /inputs/ID/ROLE/N[/thumb] */
static int
route_bytes(struct call *cl, int n, char **seg)
{
	int64_t id;
	long ord;

	if (strcmp(seg[0], "images") == 0 && n >= 2 && n <= 3 &&
	    parse_id(seg[1], &id) == 0 && (n == 2 || is_thumb(n, seg, 2))) {
		h_image(cl, id, n == 3);
		return 1;
	}
	if (strcmp(seg[0], "inputs") == 0 && n >= 4 && n <= 5 &&
	    parse_id(seg[1], &id) == 0 && (strcmp(seg[2], "image") == 0 ||
	    strcmp(seg[2], "mask") == 0 || strcmp(seg[2], "markup") == 0) &&
	    parse_long(seg[3], 0, 99, &ord) == 0 &&
	    (n == 4 || is_thumb(n, seg, 4))) {
		h_input(cl, id, seg[2], ord, n == 5);
		return 1;
	}
	return 0;
}

static int
route_static(struct call *cl, const char *path)
{
	struct evbuffer *b;
	const char *text, *ctype;

	if (strcmp(path, "/favicon.ico") == 0) {  /* none: said once a day */
		reply(cl, HTTP_NOCONTENT, "No Content", NULL, "public, "
		    "max-age=86400", NULL);
		return 1;
	}
	if (strcmp(path, "/app.css") == 0)
		text = page_css, ctype = "text/css; charset=utf-8";
	else if (strcmp(path, "/app.js") == 0)
		text = page_js, ctype = "text/javascript; charset=utf-8";
	else
		return 0;
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(cl->req, HTTP_INTERNAL, NULL);
		return 1;
	}
	evbuffer_add(b, text, strlen(text));
	reply(cl, HTTP_OK, "OK", ctype, "public, max-age=300", b);
	evbuffer_free(b);
	return 1;
}

static void
route(struct call *cl, const char *path, struct evkeyvalq *q)
{
	char buf[512], *seg[6];
	int64_t id;
	int n = split_path(path, buf, sizeof(buf), seg, 6);

	if (n == 0) {
		h_index(cl, q);
		return;
	}
	if (n < 0 || route_static(cl, path) || route_bytes(cl, n, seg))
		goto end;
	if (n == 2 && strcmp(seg[0], "jobs") == 0 && parse_id(seg[1], &id) == 0)
		h_job(cl, id);
	else if (n == 3 && strcmp(seg[0], "fragment") == 0 &&
	    strcmp(seg[1], "row") == 0 && parse_id(seg[2], &id) == 0)
		h_fragment_row(cl, id);
	else if (n == 2 && strcmp(seg[0], "fragment") == 0 &&
	    strcmp(seg[1], "summary") == 0)
		h_fragment_summary(cl);
	else if (n == 1 && strcmp(seg[0], "events") == 0) {
		if (live_count(cl->sv->live) >= cl->sv->conns_max / 2)
			httpguard_refuse(cl->req);
		else
			live_attach(cl->sv->live, cl->req, cl->conn, q);
	}
	else
		reply_error(cl, HTTP_NOTFOUND, "Not Found", "Nothing here.");
	return;
end:
	if (n < 0)
		reply_error(cl, HTTP_NOTFOUND, "Not Found", "Nothing here.");
}

/* With --allow-host, Host must be one of those names. Else, on loopback,
 * a Host header naming another machine is a page elsewhere reaching this
 * one through DNS rebinding: it must not read the queue. */
static int
host_allowed(const struct serve *sv, struct evhttp_request *req)
{
	const char *host = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Host");

	if (sv->allow_hosts[0] != '\0')
		return host != NULL && listen_addr_host_allowed(host,
		    sv->allow_hosts);
	return !sv->loopback || host == NULL ||
	    listen_addr_host_header_loopback(host);
}

/* --token: the request carries it (header or cookie), or a link does
 * (?token=): then the cookie is set and the browser sent on without it.
 * Returns 1 to go on, 0 when answered (303 or 401). */
static int
token_ok(struct call *cl, const char *path, const char *query,
    struct evkeyvalq *q)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(cl->req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(cl->req);
	char rest[1024], loc[2048], cookie[WEBAUTH_TOKEN_MAX + 64];

	if (cl->sv->token[0] == '\0' || webauth_request_ok(cl->sv->token,
	    evhttp_find_header(in, "Authorization"),
	    evhttp_find_header(in, "Cookie")))
		return 1;
	if (webauth_equal(cl->sv->token, evhttp_find_header(q, "token")) &&
	    webauth_strip_query(query, rest, sizeof(rest)) == 0) {
		snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; "
		    "SameSite=Strict", WEBAUTH_COOKIE, cl->sv->token);
		snprintf(loc, sizeof(loc), "%s%s%s", path, rest[0] ? "?" : "",
		    rest);
		evhttp_add_header(out, "Set-Cookie", cookie);
		evhttp_add_header(out, "Location", loc);
		reply(cl, 303, "See Other", NULL, NULL, NULL);
		return 0;
	}
	evhttp_add_header(out, "WWW-Authenticate", "Bearer realm=\"imgedit\"");
	reply_error(cl, 401, "Unauthorized", "This view asks for its token: "
	    "open it once as /?token=TOKEN (serve --token names the file).");
	return 0;
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct call cl = { .sv = arg, .req = req, .now = now_ms() };
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq q;

	clock_gettime(CLOCK_MONOTONIC, &cl.t0);
	if ((cl.conn = httpguard_admit(cl.sv->guard, req)) == NULL) {
		httpguard_refuse(req);
		return;
	}
	if (!host_allowed(cl.sv, req)) {
		reply_error(&cl, 403, "Forbidden", cl.sv->allow_hosts[0] ?
		    "This view answers to the names of --allow-host only." :
		    "This view answers to localhost names only (it listens "
		    "on loopback).");
		return;
	}
	TAILQ_INIT(&q);
	if (path == NULL || *path != '/' ||
	    (query != NULL && evhttp_parse_query_str(query, &q) == -1)) {
		reply_error(&cl, HTTP_BADREQUEST, "Bad Request",
		    "That address cannot be read.");
		return;
	}
	if (token_ok(&cl, path, query != NULL ? query : "", &q))
		route(&cl, path, &q);
	evhttp_clear_headers(&q);
}

/* ---- listening ---- */

/* Prints where serve listens: "serving DB at http://ADDR:PORT/". */
static int
say_address(struct serve *sv, struct evhttp_bound_socket *bound)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[INET6_ADDRSTRLEN], url[INET6_ADDRSTRLEN + 32];
	int port;

	if (getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&ss, &sl) == -1)
		return -1;
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr,
		    sizeof(addr));
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		snprintf(url, sizeof(url), "http://[%s]:%d/", addr, port);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr,
		    sizeof(addr));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		snprintf(url, sizeof(url), "http://%s:%d/", addr, port);
	}
	if (sv->c->json)
		print_json_new(json_pack("{s:s,s:s,s:i}", "url", url, "db",
		    sv->c->db_name, "port", port));
	else
		printf("serving %s read-only at %s\n", sv->c->db_name, url);
	fflush(stdout);
	return 0;
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopexit(arg, NULL);
}

static int
serve_start(struct serve *sv, const char *host, int port)
{
	struct evhttp_bound_socket *bound;

	if ((sv->base = event_base_new()) == NULL ||
	    (sv->http = evhttp_new(sv->base)) == NULL ||
	    (sv->thumbs = thumbcache_new(SERVE_THUMB_CACHE)) == NULL ||
	    (sv->pool = thumbpool_new(sv->base, SERVE_THUMB_THREADS,
	    SERVE_THUMB_QUEUE, on_thumb_done)) == NULL) {
		ctl_err("out of memory");
		return CTL_FAIL;
	}
	evhttp_set_allowed_methods(sv->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(sv->http, 16384);
	evhttp_set_timeout(sv->http, SERVE_IDLE_TIMEOUT_S);
	evhttp_set_max_body_size(sv->http, 0);
	evhttp_set_gencb(sv->http, on_request, sv);
	if ((bound = evhttp_bind_socket_with_handle(sv->http, host, port)) ==
	    NULL) {
		ctl_err("cannot listen on %s:%d: %s", host, port, strerror(errno));
		return CTL_FAIL;
	}
	sv->loopback = listen_addr_loopback(host);
	if (!sv->loopback && sv->token[0] == '\0')
		ctl_err("warning: listening on %s, not a loopback address: the "
		    "pages show every prompt and image to whoever can reach it "
		    "(use 127.0.0.1, --token FILE, or a proxy with "
		    "authentication)", host);
	sv->live = live_new(sv->base, sv->c->cat);
	sv->sigint = evsignal_new(sv->base, SIGINT, on_signal, sv->base);
	sv->sigterm = evsignal_new(sv->base, SIGTERM, on_signal, sv->base);
	if (sv->live == NULL || sv->sigint == NULL || sv->sigterm == NULL ||
	    event_add(sv->sigint, NULL) == -1 ||
	    event_add(sv->sigterm, NULL) == -1 ||
	    say_address(sv, bound) == -1) {
		ctl_err("cannot start serving: %s", strerror(errno));
		return CTL_FAIL;
	}
	/* counted once the rest is open; at most half of them on /events,
	 * so that pages still load */
	sv->conns_max = httpguard_cap(SERVE_CONNS_MAX, SERVE_FDS_MARGIN);
	if ((sv->guard = httpguard_new(sv->base, bound, sv->conns_max)) ==
	    NULL) {
		ctl_err("out of memory");
		return CTL_FAIL;
	}
	return CTL_OK;
}

static void
serve_stop(struct serve *sv)
{
	struct thumb_wait *w;

	if (sv->http != NULL)
		evhttp_free(sv->http); /* closes /events: live's callbacks */
	httpguard_free(sv->guard);
	thumbpool_free(sv->pool);
	while ((w = TAILQ_FIRST(&sv->waits)) != NULL) {
		TAILQ_REMOVE(&sv->waits, w, entry);
		free(w);
	}
	live_free(sv->live);
	if (sv->sigint != NULL)
		event_free(sv->sigint);
	if (sv->sigterm != NULL)
		event_free(sv->sigterm);
	if (sv->base != NULL)
		event_base_free(sv->base);
	thumbcache_free(sv->thumbs);
}

/* Reads --token's file: not readable by others, a valid token on its
 * first line. Returns CTL_OK or CTL_USAGE (said). */
static int
read_token(const char *path, char *tok, size_t n)
{
	struct stat sb;
	ssize_t got;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return ctl_usage(serve_help, "--token %s: %s", path,
		    strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (sb.st_mode & 0004) != 0) {
		close(fd);
		return ctl_usage(serve_help, "--token %s: not a file, or "
		    "readable by every user (chmod o-r it)", path);
	}
	got = read(fd, tok, n - 1);
	close(fd);
	tok[got > 0 ? got : 0] = '\0';
	tok[strcspn(tok, "\r\n")] = '\0';
	if (!webauth_token_valid(tok))
		return ctl_usage(serve_help, "--token %s: the first line is not "
		    "a token (%d to %d visible characters, none of \"',;\\&=%%+)",
		    path, WEBAUTH_TOKEN_MIN, WEBAUTH_TOKEN_MAX);
	return CTL_OK;
}

/* --allow-host NAME: added to the comma-separated list. */
static int
add_allow_host(char *list, size_t n, const char *name)
{
	size_t len = strlen(list);

	if (strchr(name, ',') != NULL || !listen_addr_allow_valid(name) ||
	    len + strlen(name) + 2 > n)
		return ctl_usage(serve_help, "--allow-host: '%s' is not a host "
		    "name", name);
	snprintf(list + len, n - len, "%s%s", len ? "," : "", name);
	return CTL_OK;
}

int
verb_serve(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "token", required_argument, NULL, 't' },
		{ "allow-host", required_argument, NULL, 'H' },
		CTL_COMMON_OPTS,
		{ 0, 0, 0, 0 },
	};
	const char *listen = "127.0.0.1:8080";
	struct serve sv;
	char host[256], why[256], zone[128], token[WEBAUTH_TOKEN_MAX + 2] = "",
	    allow[1024] = "";
	int opt, rc, done = 0, port;

	while ((opt = getopt_long(argc, argv, ":hl:", opts, NULL)) != -1) {
		if (opt == 'l') {
			listen = optarg;
			continue;
		}
		if (opt == 't') {
			if ((rc = read_token(optarg, token, sizeof(token))) !=
			    CTL_OK)
				return rc;
			continue;
		}
		if (opt == 'H') {
			if ((rc = add_allow_host(allow, sizeof(allow),
			    optarg)) != CTL_OK)
				return rc;
			continue;
		}
		if ((rc = ctl_common_opt(c, opt, argv, serve_help, &done)) !=
		    CTL_OK || done)
			return rc == -1 ? ctl_usage(serve_help, NULL) : rc;
	}
	if (optind != argc)
		return ctl_usage(serve_help, "serve takes no arguments");
	if (listen_addr_parse(listen, host, sizeof(host), &port, why,
	    sizeof(why)) == -1)
		return ctl_usage(serve_help, "--listen %s", why);
	c->readonly = 1;
	if ((rc = ctl_open(c)) != CTL_OK)
		return rc;
	/* before any thread: spending's days in the settings' time zone */
	ctl_settings_zone(zone, sizeof(zone));
	memset(&sv, 0, sizeof(sv));
	TAILQ_INIT(&sv.waits);
	sv.c = c;
	memcpy(sv.token, token, strlen(token) + 1); /* valid: fits */
	snprintf(sv.allow_hosts, sizeof(sv.allow_hosts), "%s", allow);
	if ((rc = serve_start(&sv, host, port)) == CTL_OK)
		event_base_dispatch(sv.base);
	serve_stop(&sv);
	return rc;
}
