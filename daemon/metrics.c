/* metrics.c: the daemon's counters, gauges and histograms, rendered in the
 * Prometheus text format 0.0.4, and the evhttp endpoint that serves them. */
#include "metrics.h"
#include "httpguard.h"
#include "listenaddr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

const char *const metrics_job_states[METRICS_STATES] = { "queued", "running",
    "retry_wait", "succeeded", "failed", "canceled" };
const char *const metrics_outcomes[METRICS_OUTCOMES] = { "succeeded", "retry",
    "failed", "canceled", "interrupted", "paused" };
static const char *const classes[METRICS_CLASSES] = { "1xx", "2xx", "3xx",
    "4xx", "5xx", "other" };
static const char *const kinds[METRICS_KINDS] = { "partial", "final" };

/* Upstream's first byte: a local fake answers in ms, the API in seconds. */
static const int64_t ttfb_bounds[] = { 10, 25, 50, 100, 250, 500, 1000, 2500,
    5000, 10000, 30000, 60000, 120000 };
/* A whole attempt: a streamed gpt-image edit takes a minute or more. */
static const int64_t duration_bounds[] = { 100, 250, 500, 1000, 2500, 5000,
    10000, 20000, 30000, 60000, 120000, 300000, 600000 };

#define NBOUNDS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- counting ---- */

void
metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->ttfb.bounds_ms = ttfb_bounds;
	m->ttfb.nbounds = NBOUNDS(ttfb_bounds);
	m->duration.bounds_ms = duration_bounds;
	m->duration.nbounds = NBOUNDS(duration_bounds);
}

void
metrics_attempt(struct metrics *m, const char *outcome)
{
	int i;

	for (i = 0; outcome != NULL && i < METRICS_OUTCOMES; i++)
		if (strcmp(outcome, metrics_outcomes[i]) == 0) {
			m->attempts[i]++;
			return;
		}
}

/* The slot of model, taken if new; past the table's room, "other". */
static struct metrics_model *
model_slot(struct metrics *m, const char *model)
{
	char name[METRICS_MODEL_LEN];
	int i;

	strlcpy_safe(name, model != NULL ? model : "", sizeof(name));
	for (i = 0; i < m->nmodels; i++)
		if (strcmp(m->models[i].name, name) == 0)
			return &m->models[i];
	if (m->nmodels == METRICS_MODELS - 1) {
		m->nmodels++;
		strlcpy_safe(m->models[METRICS_MODELS - 1].name, "other",
		    METRICS_MODEL_LEN);
	}
	if (m->nmodels == METRICS_MODELS)
		return &m->models[METRICS_MODELS - 1];
	strlcpy_safe(m->models[m->nmodels].name, name, METRICS_MODEL_LEN);
	return &m->models[m->nmodels++];
}

void
metrics_cost(struct metrics *m, const char *model, int64_t micro,
    int64_t text_in, int64_t image_in, int64_t output)
{
	struct metrics_model *mm = model_slot(m, model);

	if (micro > 0)
		mm->cost_micro += (uint64_t)micro;
	mm->tokens[0] += text_in > 0 ? (uint64_t)text_in : 0;
	mm->tokens[1] += image_in > 0 ? (uint64_t)image_in : 0;
	mm->tokens[2] += output > 0 ? (uint64_t)output : 0;
}

void
metrics_response(struct metrics *m, long status)
{
	m->responses[status >= 100 && status <= 599 ? status / 100 - 1 :
	    METRICS_CLASSES - 1]++;
}

void
metrics_image(struct metrics *m, int kind, size_t bytes)
{
	if (kind < 0 || kind >= METRICS_KINDS)
		return;
	m->images[kind]++;
	m->image_bytes[kind] += bytes;
}

void
metrics_observe(struct metrics_hist *h, int64_t ms)
{
	int i;

	if (ms < 0)
		return;
	for (i = 0; i < h->nbounds && ms > h->bounds_ms[i]; i++)
		;
	h->counts[i]++;
	h->count++;
	h->sum_ms += ms;
}

void
metrics_ratelimit(struct metrics *m, int waiting, int64_t now)
{
	if (waiting && m->ratelimit_since == 0) {
		m->ratelimit_waits++;
		m->ratelimit_since = now > 0 ? now : 1;
	} else if (!waiting && m->ratelimit_since != 0) {
		m->ratelimit_wait_ms += now - m->ratelimit_since;
		m->ratelimit_since = 0;
	}
}

/* ---- rendering ---- */

/* Where the text goes; err sticks once an append failed. */
struct out {
	struct buf *b;
	int err;
};

static void out_printf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (o->err || n < 0 || buf_reserve(o->b, (size_t)n + 1) == -1) {
		o->err = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf((char *)o->b->data + o->b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	o->b->len += (size_t)n;
}

/* The length of the valid UTF-8 sequence at p (1..4), or 0. */
static size_t
utf8_len(const unsigned char *p)
{
	uint32_t cp;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 ||
	    cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int
metrics_label_append(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;
	int rc = 0;

	while (p != NULL && *p != '\0' && rc == 0) {
		if (*p == '\\' || *p == '"') {
			rc = buf_append(out, "\\", 1) == -1 ||
			    buf_append(out, p, 1) == -1 ? -1 : 0;
			n = 1;
		} else if (*p == '\n') {
			rc = buf_append(out, "\\n", 2);
			n = 1;
		} else if (*p < 0x20 || *p == 0x7f || (n = utf8_len(p)) == 0) {
			rc = buf_append(out, "?", 1);
			n = 1;
		} else
			rc = buf_append(out, p, n);
		p += n;
	}
	return rc;
}

static void
family(struct out *o, const char *name, const char *type, const char *help)
{
	out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{label="value"} n */
/* A family of one unlabeled sample. */
static void
single(struct out *o, const char *name, const char *type, const char *help,
    long long value)
{
	family(o, name, type, help);
	out_printf(o, "%s %lld\n", name, value);
}

static void
labeled(struct out *o, const char *name, const char *label, const char *value,
    uint64_t n)
{
	out_printf(o, "%s{%s=\"", name, label);
	if (!o->err && metrics_label_append(o->b, value) == -1)
		o->err = 1;
	out_printf(o, "\"} %llu\n", (unsigned long long)n);
}

/* Milliseconds as seconds, exactly: 1250 -> 1.250. */
static void
seconds(struct out *o, const char *name, int64_t ms)
{
	out_printf(o, "%s %lld.%03lld\n", name, (long long)(ms / 1000),
	    (long long)(ms % 1000));
}

static void
histogram(struct out *o, const char *name, const char *help,
    const struct metrics_hist *h)
{
	uint64_t cum = 0;
	char sum[128];
	int i;

	family(o, name, "histogram", help);
	for (i = 0; i < h->nbounds; i++) {
		cum += h->counts[i];
		out_printf(o, "%s_bucket{le=\"%g\"} %llu\n", name,
		    (double)h->bounds_ms[i] / 1000.0, (unsigned long long)cum);
	}
	out_printf(o, "%s_bucket{le=\"+Inf\"} %llu\n", name,
	    (unsigned long long)h->count);
	snprintf(sum, sizeof(sum), "%s_sum", name);
	seconds(o, sum, h->sum_ms);
	out_printf(o, "%s_count %llu\n", name, (unsigned long long)h->count);
}

static void
render_queue(struct out *o, const struct metrics *m)
{
	int i;

	family(o, "imgedit_jobs", "gauge", "Jobs in the database by state, "
	    "refreshed every heartbeat interval.");
	for (i = 0; m->jobs_known && i < METRICS_STATES; i++)
		labeled(o, "imgedit_jobs", "state", metrics_job_states[i],
		    (uint64_t)m->jobs[i]);
	family(o, "imgedit_attempts_total", "counter", "Attempts this daemon "
	    "ended, by outcome (attempts.outcome), counted once stored.");
	for (i = 0; i < METRICS_OUTCOMES; i++)
		labeled(o, "imgedit_attempts_total", "outcome",
		    metrics_outcomes[i], m->attempts[i]);
	family(o, "imgedit_http_responses_total", "counter", "Answers from "
	    "upstream to edit requests, by HTTP status class.");
	for (i = 0; i < METRICS_CLASSES; i++)
		labeled(o, "imgedit_http_responses_total", "class", classes[i],
		    m->responses[i]);
	family(o, "imgedit_images_stored_total", "counter", "Images committed "
	    "to the database, by kind.");
	for (i = 0; i < METRICS_KINDS; i++)
		labeled(o, "imgedit_images_stored_total", "kind", kinds[i],
		    m->images[i]);
	family(o, "imgedit_images_stored_bytes_total", "counter", "Bytes of "
	    "the images committed to the database, by kind.");
	for (i = 0; i < METRICS_KINDS; i++)
		labeled(o, "imgedit_images_stored_bytes_total", "kind", kinds[i],
		    m->image_bytes[i]);
}

static void
model_label(struct out *o, const char *name, const struct metrics_model *mm)
{
	out_printf(o, "%s{model=\"", name);
	if (!o->err && metrics_label_append(o->b, mm->name) == -1)
		o->err = 1;
}

static void
render_cost(struct out *o, const struct metrics *m)
{
	static const char *const token_kinds[METRICS_TOKEN_KINDS] = {
		"text_input", "image_input", "output" };
	const struct metrics_model *mm;
	int i, k;

	family(o, "imgedit_cost_usd_total", "counter", "What the attempts this "
	    "daemon ended cost, in USD, by model (those whose cost is known: "
	    "usage times the price in force when each ended).");
	for (i = 0; i < m->nmodels; i++) {
		mm = &m->models[i];
		model_label(o, "imgedit_cost_usd_total", mm);
		out_printf(o, "\"} %llu.%06llu\n",
		    (unsigned long long)(mm->cost_micro / 1000000),
		    (unsigned long long)(mm->cost_micro % 1000000));
	}
	family(o, "imgedit_tokens_total", "counter", "Tokens upstream's usage "
	    "reported for the attempts this daemon ended, by model and kind.");
	for (i = 0; i < m->nmodels; i++)
		for (k = 0; k < METRICS_TOKEN_KINDS; k++) {
			mm = &m->models[i];
			model_label(o, "imgedit_tokens_total", mm);
			out_printf(o, "\",kind=\"%s\"} %llu\n", token_kinds[k],
			    (unsigned long long)mm->tokens[k]);
		}
}

static void
render_timing(struct out *o, const struct metrics *m, int64_t now)
{
	int64_t wait_ms = m->ratelimit_wait_ms;

	if (m->ratelimit_since != 0 && now > m->ratelimit_since)
		wait_ms += now - m->ratelimit_since;
	histogram(o, "imgedit_upstream_ttfb_seconds", "Time from sending an "
	    "edit request to the first byte of its answer.", &m->ttfb);
	histogram(o, "imgedit_attempt_duration_seconds", "Time from claiming "
	    "a job to the outcome of the attempt.", &m->duration);
	single(o, "imgedit_ratelimit_waits_total", "counter", "Times the rate "
	    "limiter (rpm, ipm, a 429, x-ratelimit headers) held starts back.",
	    (long long)m->ratelimit_waits);
	family(o, "imgedit_ratelimit_wait_seconds_total", "counter", "Time "
	    "starts were held back by the rate limiter.");
	seconds(o, "imgedit_ratelimit_wait_seconds_total", wait_ms);
}

static void
render_state(struct out *o, const struct metrics *m)
{
	family(o, "imgedit_paused", "gauge", "1 while the dispatcher starts "
	    "nothing (operator, upstream refusal, failing disk), with why.");
	labeled(o, "imgedit_paused", "reason", m->paused ? m->pause_reason : "",
	    m->paused ? 1 : 0);
	single(o, "imgedit_transfers_in_flight", "gauge", "Edit requests "
	    "whose transfer is going on.",
	    (long long)m->in_flight);
	single(o, "imgedit_images_waiting_bytes", "gauge", "Image bytes "
	    "received and held in memory until the database commits them.",
	    (long long)m->pending_bytes);
	single(o, "imgedit_image_memory_bytes", "gauge", "Image buffers in "
	    "memory, being received or waiting for the database: what "
	    "--memory-max bounds.",
	    (long long)m->held_bytes);
	single(o, "imgedit_store_requests_waiting", "gauge", "Requests queued "
	    "for the database writer thread.",
	    (long long)m->store_queue);
	single(o, "imgedit_db_lock_waits_total", "counter", "Database writes "
	    "that met another connection's lock and waited for it.",
	    (long long)m->db_lock_waits);
	family(o, "imgedit_db_lock_wait_seconds_total", "counter", "Time "
	    "database writes waited for another connection's lock.");
	seconds(o, "imgedit_db_lock_wait_seconds_total", m->db_lock_wait_ms);
}

int
metrics_render(const struct metrics *m, int64_t now, struct buf *out)
{
	struct out o = { out, 0 };

	render_queue(&o, m);
	render_cost(&o, m);
	render_timing(&o, m, now);
	render_state(&o, m);
	return o.err ? -1 : 0;
}

/* ---- the endpoint ---- */

#define HTTP_TIMEOUT_S 10
#define HTTP_HEADERS_MAX 8192
#define HTTP_BODY_MAX 1024
/* scrapers are few; the transfers need the descriptors */
#define HTTP_CONNS_MAX 16

struct metrics_server {
	struct evhttp *http;
	struct httpguard *guard;
	char *allow_hosts;         /* Host names answered, or NULL */
	int loopback;              /* bound to loopback */
	struct metrics *m;
	metrics_sample_fn sample;
	void *arg;
	char address[80];
};

static void
reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer *body = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	if (body != NULL)
		evbuffer_add(body, text, strlen(text));
	evhttp_send_reply(req, code, reason, body);
	if (body != NULL)
		evbuffer_free(body);
}

/* DNS rebinding (a page elsewhere whose name now points here sends its
 * own name) and names nobody meant to serve: Host must be allowed. */
static int
host_ok(const struct metrics_server *s, struct evhttp_request *req)
{
	const char *host = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Host");

	if (s->allow_hosts != NULL)
		return host != NULL && listen_addr_host_allowed(host,
		    s->allow_hosts);
	return !s->loopback || host == NULL ||
	    listen_addr_host_header_loopback(host);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct metrics_server *s = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	struct buf text = { 0 };
	struct evbuffer *body;

	if (httpguard_admit(s->guard, req) == NULL) {
		httpguard_refuse(req);
		return;
	}
	if (!host_ok(s, req)) {
		reply_text(req, 403, "Forbidden", "forbidden: this Host is not "
		    "one the metrics answer to (metrics-allow-host)\n");
		return;
	}
	if (path == NULL || strcmp(path, "/metrics") != 0) {
		reply_text(req, HTTP_NOTFOUND, "Not Found",
		    "not found: the metrics are at /metrics\n");
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(hdr, "Allow", "GET, HEAD");
		reply_text(req, 405, "Method Not Allowed",
		    "method not allowed: GET /metrics\n");
		return;
	}
	s->sample(s->arg, s->m);
	if (metrics_render(s->m, mono_ms(), &text) == -1 ||
	    (body = evbuffer_new()) == NULL) {
		buf_free(&text);
		reply_text(req, HTTP_INTERNAL, "Internal Server Error",
		    "out of memory\n");
		return;
	}
	evbuffer_add(body, text.data, text.len);
	buf_free(&text);
	evhttp_add_header(hdr, "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	evhttp_add_header(hdr, "Cache-Control", "no-store");
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

/* The bound address, with the port the kernel chose for port 0. */
static void
bound_address(struct metrics_server *s, struct evhttp_bound_socket *bs,
    const char *host)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int port = 0;

	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss,
	    &len) == 0)
		port = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	snprintf(s->address, sizeof(s->address), strchr(host, ':') ?
	    "[%s]:%d" : "%s:%d", host, port);
}

struct metrics_server *
metrics_server_new(struct event_base *base, const char *listen,
    struct metrics *m, metrics_sample_fn sample, void *arg, char *err,
    size_t errlen)
{
	struct metrics_server *s;
	struct evhttp_bound_socket *bs;
	char host[64];
	int port;

	if (listen_addr_parse(listen, host, sizeof(host), &port, err,
	    errlen) == -1)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->http = evhttp_new(base)) == NULL) {
		errorf(err, errlen, "out of memory");
		goto fail;
	}
	s->m = m;
	s->sample = sample;
	s->arg = arg;
	/* every method reaches on_request, which answers 405 itself */
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_timeout(s->http, HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(s->http, HTTP_HEADERS_MAX);
	evhttp_set_max_body_size(s->http, HTTP_BODY_MAX);
	evhttp_set_gencb(s->http, on_request, s);
	if ((bs = evhttp_bind_socket_with_handle(s->http, host,
	    (ev_uint16_t)port)) == NULL) {
		errorf(err, errlen, "cannot listen on %s (in use, or not an "
		    "address of this host)", listen);
		goto fail;
	}
	if ((s->guard = httpguard_new(base, bs, HTTP_CONNS_MAX)) == NULL) {
		errorf(err, errlen, "out of memory");
		goto fail;
	}
	bound_address(s, bs, host);
	s->loopback = listen_addr_loopback(host);
	return s;
fail:
	metrics_server_free(s);
	return NULL;
}

int
metrics_server_allow_hosts(struct metrics_server *s, const char *allow)
{
	char *copy = NULL;

	if (allow != NULL && (copy = strdup(allow)) == NULL)
		return -1;
	free(s->allow_hosts);
	s->allow_hosts = copy;
	return 0;
}

const char *
metrics_server_address(const struct metrics_server *s)
{
	return s->address;
}

void
metrics_server_free(struct metrics_server *s)
{
	if (s == NULL)
		return;
	if (s->http != NULL)
		evhttp_free(s->http);
	httpguard_free(s->guard);
	free(s->allow_hosts);
	free(s);
}
