/* fake_upstream.c: a fake OpenAI POST /v1/images/edits server (libevent evhttp)
 * for the tests and the benchmark: CLI, routing, request life cycle, log, files. */

/*
 * fake-upstream [--port N] [--bind ADDR] [--key KEY] [--log FILE]
 *               [--image-bytes N] [--rpm N] [--rpm-window-ms N]
 *               [--latency-ms N] [--derive] [--framing MODE] [--seed N]
 *               [--log-lie N] [--bill-table]
 *
 *   --port N         port to listen on, 0 (default) = any free port
 *   --bind ADDR      address, default 127.0.0.1
 *   --key KEY        the API key expected as "Authorization: Bearer KEY",
 *                    default sk-test
 *   --log FILE       one JSON line per request (below), flushed each
 *   --image-bytes N  size of each PNG sent, about (default 20000)
 *   --rpm N          requests per minute, a fixed 60 s window; 0 = no limit
 *   --rpm-window-ms N  that window, shorter for tests (default 60000)
 *   --latency-ms N   pause between two SSE events (default 0)
 *   --derive     make each image from the request's first input (a demo):
 *                partials pixelated less and less, finals tinted with a
 *                colour from the prompt and a band of it, at the asked size
 *   --framing MODE   how SSE replies are cut, the same image bytes in each:
 *                whole      each event as it is, written in chunks of up to
 *                           256 KiB (the default)
 *                pieces     every reply written in random 1..7000-byte
 *                           chunks, each drained before the next, as
 *                           proxies and TLS record boundaries cut them
 *                crlf       lines end with \r\n
 *                comments   a ": keep-alive" line and a blank line before
 *                           each event, a ": ping" line inside it
 *                multiline  each event's JSON over several data: lines, a
 *                           new one after every '{' and ',' outside strings
 *                           (the b64_json member on a line of its own)
 *   --seed N     seeds the pieces' sizes (default 1): request seq k of a
 *                given seed always gets the same sizes
 *   --log-lie N  the Nth image the log lists gets a wrong sha256 (its first
 *                hex digit changed): for a test that a check catches it
 *   --bill-table usage from gpt-image-2's published token table by quality
 *                and size, input images by their patches, text by the
 *                prompt's length (bill.c), instead of the fixed counts
 *
 * Prints "port=NNNN\n" on stdout once listening; serves until SIGTERM or
 * SIGINT, then exits 0.
 *
 * POST /v1/images/edits (multipart/form-data), checked in this order:
 *   401 invalid_api_key     wrong or missing Authorization
 *   429 rate_limit_exceeded over --rpm (log fault "ratelimit"); with --rpm
 *                           every reply has x-ratelimit-{limit,remaining,
 *                           reset}-requests, the 429 retry-after(-ms) too
 *   400                     body not multipart, malformed; missing prompt
 *                           (param "prompt") or no image/image[] part
 *                           (param "image"); n not 1..10; partial_images
 *                           not 0..3
 *   the fault of the prompt, if any (below)
 *   200 stream=true: text/event-stream, partial_images events
 *       "image_edit.partial_image" (partial_image_index 0..K-1), then n
 *       "image_edit.completed", each with the whole request's usage.
 *   200 otherwise: {"created","data":[...n],"usage"}; data items are
 *       {"url":"http://HOST:PORT/files/<token>.png"} if response_format=url,
 *       or if model is dall-e-2 (the default) and response_format is absent;
 *       else {"b64_json"}.  GET /files/<token>.png serves that PNG until it
 *       was sent whole once; unknown tokens get 404.
 *   Echoed: size (1024x1024), quality (high), background (opaque),
 *   output_format (png; the bytes are PNG whatever it says).  Usage:
 *   text_tokens 50, image_tokens 10 per image part, output_tokens 1000 * n.
 *   Every reply has x-request-id: req_<seq>, seq counting all requests from
 *   1.  SSE replies are chunked; all others have a Content-Length.
 *
 * Images: one noisy RGB PNG of about --image-bytes, built at start; each
 * image sent adds a tEXt chunk imgedit-fake="<seq>-<kind>-<index>" (kind
 * partial or final) before IEND, so every image has its own SHA-256.
 *
 * Log line (POST):
 *   {"seq":N,"method":"POST","path":"/v1/images/edits","t_start_ms":MS,
 *    "t_end_ms":MS,"auth_ok":true,"status":200,"fields":{every text field},
 *    "files":[{"name":"image[]","filename":"a.png"|null,"content_type":
 *    "image/png"|null,"size":N,"sha256":HEX}],"stream":true,
 *    "fault":"status=500"|"ratelimit"|null,"sent":[{"kind":"partial"|
 *    "final","index":I,"sha256":HEX,"size":N}],"client_closed":false,
 *    "cut":false,"writes":N}
 *   plus, in url mode, "urls":[{"index","url","sha256","size"}].
 *   Other requests: {"seq","method","path","t_start_ms","t_end_ms","status",
 *   "sent","client_closed","cut","writes"}.  "writes" counts the chunks
 *   queued to the socket (one write each, short of --framing pieces).  A line is written when the reply has
 *   gone out whole, when the client closed (client_closed true), or when a
 *   cut fault closed it (cut true).  Requests still open at SIGTERM are
 *   logged client_closed true.  "sent" lists the images whose last byte was
 *   written to the socket.
 *
 * Faults: a prompt containing [[fault:F1;F2;...]].  Requests with the same
 * prompt string are counted (only those past the 401, 429 --rpm and 400
 * checks above); the k-th applies Fk, those past the list are normal.  An
 * item is comma-separated options:
 *   ok                       normal
 *   status=CODE              CODE (400..599) with an OpenAI error body:
 *                            429 type requests code rate_limit_exceeded,
 *                            5xx type server_error, 4xx invalid_request_error
 *   type=S code=S param=S message=S   override the error body (no , ; ]])
 *   retry-after-ms=MS retry-after=SECS retry-after-date=SECS (an HTTP-date
 *   SECS ahead) x-should-retry=true|false   headers, on any reply
 *   quota       429 insufficient_quota      auth        401 invalid_api_key
 *   forbidden   403                         moderation  400 moderation_blocked
 *   cut         close the connection half way through the first SSE event
 *               (the JSON body if not streaming)
 *   cut-after=K close it after K complete events: 0 = right after the
 *               headers; past the last event = every event sent but the end
 *               of the chunked body missing.  A JSON body is one event.
 *   error-event one partial, then "event: error" {"type":"error","error":{
 *               "type":"server_error","code":"server_error",...}}, then end
 *   garbage     one partial, then "data: this is not json", then end
 *   usage-total=N  usage's total_tokens is N (any integer, however
 *               hostile), the other counts as usual
 *   usage-nodetails  usage without input_tokens_details (a gateway's)
 *   finals=K    only K (0..10) of the n "image_edit.completed" events, then
 *               a clean end of the stream; not streaming, K items in data
 *   unknown-event  first an "event: image_edit.something_new" frame,
 *               {"type":"image_edit.something_new"}, no image
 *   trailing-event  after the last completed, an "event:
 *               image_edit.usage_summary" frame, {"type":
 *               "image_edit.usage_summary","note":"newer API event"}
 *   trailing-garbage  after the last completed, "data: this is not json"
 *   trailing-error  after the last completed, the error-event frame
 *   url-host=H  url results name host H (our port), e.g. 127.0.0.2
 *   url-port=P  url results name port P (our host, or url-host's)
 *   url-ctype=T their GET answers with Content-Type T
 *   url-redirect  their GET answers 302 to the same file on 127.0.0.2
 *   html        a 200 with an HTML page (text/html), as a proxy sends
 *   gzip        a 200 JSON answer with Content-Encoding: gzip
 *   hang        send the headers, then nothing until the client goes
 *   slow[=BYTES/MS]  the body in BYTES pieces every MS (default 64/1)
 *   delay=MS    wait MS before replying at all
 *   crlf cr     line ends \r\n or \r          noevent  no "event:" lines
 *   comments    a ": keep-alive" line and a blank line before each event,
 *               a ": ping" line inside it
 *   done        a final "data: [DONE]"
 *   split       each event's JSON over several data: lines, a new one after
 *               every '{' and ',' outside strings
 * e.g. "make it blue [[fault:status=429,retry-after-ms=200;cut;ok]]".
 * A bad item gets 400 code fake_upstream_fault, and a line on stderr.
 *
 * Memory: every reply is the shared base image, added to the socket buffers
 * by reference, and a few hundred bytes of its own, queued a chunk at a
 * time when the last drained: 256 concurrent 1.5 MB streams take ~7 MB.
 * Request bodies are held by evhttp until they are complete (libevent 2.1
 * cannot stream them), then parsed and freed at once.
 */
#include "fake_upstream.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#define WRITE_MAX	(256 * 1024)	/* bytes per write(2) */

struct file_entry {
	struct file_entry	*next;
	char			 token[IMG_TAG_MAX + 8];
	char			 tag[IMG_TAG_MAX];
	int			 index;
	char			 ctype[64];	/* "" = image/png */
	char			 redirect[64];	/* host to send a 302 to, or "" */
	unsigned char		*own;		/* --derive: the image's bytes */
	size_t			 own_len;
};

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n, size)) == NULL) {
		fprintf(stderr, "fake-upstream: out of memory\n");
		abort();
	}
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		abort();
	if ((p = realloc(p, n * size)) == NULL) {
		fprintf(stderr, "fake-upstream: out of memory\n");
		abort();
	}
	return p;
}

char *
xstrdup(const char *s)
{
	size_t	 len = strlen(s) + 1;

	return memcpy(xreallocarray(NULL, len, 1), s, len);
}

/* Bytes as a JSON string, whatever they are: not UTF-8 becomes '?'s. */
json_t *
jtext(const void *p, size_t len)
{
	const unsigned char	*s = p;
	json_t			*v;
	char			*lossy;
	size_t			 i;

	if ((v = json_stringn(p, len)) != NULL)
		return v;
	lossy = xreallocarray(NULL, len + 1, 1);
	for (i = 0; i < len; i++)
		lossy[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if ((v = json_stringn(lossy, len)) == NULL)
		abort();
	free(lossy);
	return v;
}

json_t *
jtext_or_null(const char *s)
{
	return s != NULL ? jtext(s, strlen(s)) : json_null();
}

int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- url-mode files */

void
files_add(struct fake_server *srv, const char *tag, int index,
    const struct fault *f, const struct image *img, char *token, size_t len)
{
	struct file_entry	*e = xcalloc(1, sizeof(*e));

	if (img->own != NULL) {
		e->own = xcalloc(img->own_len, 1);
		memcpy(e->own, img->own, img->own_len);
		e->own_len = img->own_len;
	}
	snprintf(e->token, sizeof(e->token), "img-%s", tag);
	snprintf(e->tag, sizeof(e->tag), "%s", tag);
	e->index = index;
	snprintf(e->ctype, sizeof(e->ctype), "%s", f->url_ctype);
	if (f->url_redirect)	/* to the same file on another loopback host */
		snprintf(e->redirect, sizeof(e->redirect), "127.0.0.2");
	e->next = srv->files;
	srv->files = e;
	snprintf(token, len, "%s", e->token);
}

static struct file_entry **
files_find(struct fake_server *srv, const char *token)
{
	struct file_entry	**e;

	for (e = &srv->files; *e != NULL; e = &(*e)->next)
		if (strcmp((*e)->token, token) == 0)
			return e;
	return NULL;
}

static void
files_remove(struct fake_server *srv, const char *token)
{
	struct file_entry	**e, *dead;

	if ((e = files_find(srv, token)) == NULL)
		return;
	dead = *e;
	*e = dead->next;
	free(dead->own);
	free(dead);
}

static void
files_free(struct fake_server *srv)
{
	while (srv->files != NULL)
		files_remove(srv, srv->files->token);
}

/* GET /files/<token>.png */
static void
files_handle(struct reqctx *ctx, const char *name)
{
	struct file_entry	**e;
	char			 token[IMG_TAG_MAX + 8];
	size_t			 n = strlen(name);

	if (n < 5 || n - 4 >= sizeof(token) || strcmp(name + n - 4, ".png")) {
		reply_error(ctx, 404, "No such file.", "invalid_request_error",
		    NULL, "not_found");
		return;
	}
	memcpy(token, name, n - 4);
	token[n - 4] = '\0';
	if ((e = files_find(ctx->srv, token)) == NULL) {
		reply_error(ctx, 404, "No such file.", "invalid_request_error",
		    NULL, "not_found");
		return;
	}
	if ((*e)->redirect[0] != '\0') {
		char	 loc[256];
		const char *port = strrchr(ctx->srv->origin, ':');

		snprintf(loc, sizeof(loc), "http://%s%s/files/%s", (*e)->redirect,
		    port ? port : "", name);
		ctx->status = 302;
		reply_header(ctx, "Location", loc);
		reply_add(ctx, "", 0, 0);
		reply_end_event(ctx);
		return;
	}
	ctx->images = xcalloc(1, sizeof(*ctx->images));
	ctx->nimages = 1;
	if (image_make(&ctx->srv->png, (*e)->tag, "final", (*e)->index,
	    ctx->images) == -1)
		abort();
	if ((*e)->own != NULL) {
		unsigned char	*copy = xcalloc((*e)->own_len, 1);

		memcpy(copy, (*e)->own, (*e)->own_len);
		image_own(ctx->images, copy, (*e)->own_len);
	}
	ctx->file_token = xstrdup(token);
	ctx->status = 200;
	reply_header(ctx, "Content-Type", (*e)->ctype[0] ? (*e)->ctype :
	    "image/png");
	reply_add_image(ctx, 0, 0);
	reply_end_event(ctx);
}

/* ---- the request life cycle */

static void
log_line(struct fake_server *srv, json_t *line)
{
	char	*s;

	if (srv->log == NULL)
		return;
	if ((s = json_dumps(line, JSON_COMPACT)) == NULL)
		abort();
	fprintf(srv->log, "%s\n", s);
	fflush(srv->log);
	free(s);
}

static void
ctx_free(struct reqctx *ctx)
{
	size_t	 i;

	if (ctx->timer != NULL)
		event_free(ctx->timer);
	for (i = 0; i < ctx->npieces; i++)
		if (ctx->pieces[i].owned)
			free((char *)ctx->pieces[i].data);
	free(ctx->pieces);
	for (i = 0; ctx->images != NULL && i < ctx->nimages; i++)
		image_free(&ctx->images[i]);
	free(ctx->images);
	free(ctx->first_input);
	free(ctx->file_token);
	json_decref(ctx->log);
	free(ctx);
}

/*
 * The request is over: sent whole (on_complete), the client went (on_close)
 * or a cut fault closed it.  Logs it and frees its state, not the request.
 */
void
ctx_done(struct reqctx *ctx, enum done_how how)
{
	if (how == DONE_SENT)
		reply_confirm(ctx);
	json_object_set_new(ctx->log, "t_end_ms", json_integer(now_ms()));
	json_object_set_new(ctx->log, "status", json_integer(ctx->status));
	json_object_set_new(ctx->log, "client_closed",
	    json_boolean(how == DONE_CLOSED));
	json_object_set_new(ctx->log, "cut", json_boolean(how == DONE_CUT));
	json_object_set_new(ctx->log, "writes", json_integer(ctx->writes));
	log_line(ctx->srv, ctx->log);
	if (how == DONE_SENT && ctx->file_token != NULL)
		files_remove(ctx->srv, ctx->file_token);
	evhttp_connection_set_closecb(ctx->evcon, NULL, NULL);
	ctx_free(ctx);
}

static void
on_complete(struct evhttp_request *req, void *arg)
{
	(void)req;
	ctx_done(arg, DONE_SENT);
}

/*
 * The client closed before the end.  A request libevent has let go of (the
 * reply was not finished) is ours to free; otherwise libevent frees it.
 */
static void
on_close(struct evhttp_connection *evcon, void *arg)
{
	struct reqctx		*ctx = arg;
	struct evhttp_request	*req = ctx->req;
	int			 orphan;

	(void)evcon;
	orphan = evhttp_request_get_connection(req) == NULL;
	ctx_done(ctx, DONE_CLOSED);
	if (orphan)
		evhttp_request_free(req);
}

static struct reqctx *
ctx_new(struct fake_server *srv, struct evhttp_request *req, const char *path,
    int post)
{
	struct reqctx		*ctx = xcalloc(1, sizeof(*ctx));
	struct bufferevent	*bev;
	evutil_socket_t		 fd;
	char			 id[32];
	int			 one = 1;

	ctx->srv = srv;
	ctx->req = req;
	ctx->evcon = evhttp_request_get_connection(req);
	ctx->seq = ++srv->seq;
	ctx->cut_at = NO_CUT;
	ctx->rng = srv->seed ^ (uint64_t)ctx->seq << 32;
	ctx->status = 500;
	ctx->sent = json_array();
	ctx->log = json_pack("{s:I,s:s,s:o,s:I,s:n,s:n}", "seq",
	    (json_int_t)ctx->seq, "method", post ? "POST" : "GET", "path",
	    jtext_or_null(path), "t_start_ms", (json_int_t)now_ms(),
	    "t_end_ms", "status");
	if (ctx->log == NULL)
		abort();
	if (post) {
		json_object_set_new(ctx->log, "auth_ok", json_null());
		json_object_set_new(ctx->log, "fields", json_object());
		json_object_set_new(ctx->log, "files", json_array());
		json_object_set_new(ctx->log, "stream", json_false());
		json_object_set_new(ctx->log, "fault", json_null());
	}
	json_object_set_new(ctx->log, "sent", ctx->sent);	/* borrowed */
	json_object_set_new(ctx->log, "client_closed", json_false());
	snprintf(id, sizeof(id), "req_%lu", ctx->seq);
	reply_header(ctx, "x-request-id", id);
	evhttp_request_set_on_complete_cb(req, on_complete, ctx);
	evhttp_connection_set_closecb(ctx->evcon, on_close, ctx);
	bev = evhttp_connection_get_bufferevent(ctx->evcon);
	bufferevent_set_max_single_write(bev, WRITE_MAX);
	fd = bufferevent_getfd(bev);	/* slow: each tiny chunk a segment */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return ctx;
}

static void
route(struct evhttp_request *req, void *arg)
{
	struct fake_server	*srv = arg;
	struct reqctx		*ctx;
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);
	char			 path[1024], msg[1100];

	snprintf(path, sizeof(path), "%s", evhttp_request_get_uri(req));
	path[strcspn(path, "?")] = '\0';
	ctx = ctx_new(srv, req, path, cmd == EVHTTP_REQ_POST);
	if (cmd == EVHTTP_REQ_POST && strcmp(path, "/v1/images/edits") == 0) {
		edits_handle(ctx);
		return;
	}
	evbuffer_drain(in, evbuffer_get_length(in));
	if (cmd == EVHTTP_REQ_GET && strncmp(path, "/files/", 7) == 0)
		files_handle(ctx, path + 7);
	else {
		snprintf(msg, sizeof(msg), "Invalid URL (%s %s)",
		    cmd == EVHTTP_REQ_POST ? "POST" : "GET", path);
		reply_error(ctx, 404, msg, "invalid_request_error", NULL, NULL);
	}
	reply_go(ctx);
}

/* ---- main */

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: fake-upstream [--port N] [--bind ADDR] "
	    "[--key KEY] [--log FILE]\n"
	    "                     [--image-bytes N] [--rpm N] "
	    "[--rpm-window-ms N] [--latency-ms N] [--derive]\n"
	    "                     [--framing whole|pieces|crlf|comments|"
	    "multiline]\n"
	    "                     [--seed N] [--log-lie N]\n");
	exit(2);
}

static long
numarg(const char *opt, const char *v, long min, long max)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *v == '\0' || *end != '\0' || n < min || n > max) {
		fprintf(stderr, "fake-upstream: --%s: '%s' is not a number "
		    "in %ld..%ld\n", opt, v, min, max);
		exit(2);
	}
	return n;
}

static int
listen_on(struct fake_server *srv, const char *bind, int port)
{
	struct evhttp_bound_socket	*bs;
	struct sockaddr_storage		 ss;
	socklen_t			 sslen = sizeof(ss);
	evutil_socket_t			 fd;

	if ((bs = evhttp_bind_socket_with_handle(srv->http, bind, port)) ==
	    NULL) {
		fprintf(stderr, "fake-upstream: cannot listen on %s:%d\n",
		    bind, port);
		return -1;
	}
	fd = evhttp_bound_socket_get_fd(bs);
	listen(fd, 1024);	/* many clients connect at once */
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1) {
		perror("fake-upstream: getsockname");
		return -1;
	}
	port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	snprintf(srv->origin, sizeof(srv->origin), "http://%s%s%s:%d",
	    strchr(bind, ':') ? "[" : "",
	    strcmp(bind, "0.0.0.0") == 0 ? "127.0.0.1" :
	    strcmp(bind, "::") == 0 ? "::1" : bind,
	    strchr(bind, ':') ? "]" : "", port);
	printf("port=%d\n", port);
	fflush(stdout);
	return 0;
}

static int
serve(struct fake_server *srv, const char *bind, int port)
{
	struct event	*sigterm = NULL, *sigint = NULL;
	int		 rc = -1;

	srv->http = evhttp_new(srv->base);
	sigterm = evsignal_new(srv->base, SIGTERM, on_signal, srv->base);
	sigint = evsignal_new(srv->base, SIGINT, on_signal, srv->base);
	if (srv->http == NULL || sigterm == NULL || sigint == NULL ||
	    evsignal_add(sigterm, NULL) == -1 || evsignal_add(sigint, NULL) == -1)
		goto fail;
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_gencb(srv->http, route, srv);
	if (listen_on(srv, bind, port) == -1)
		goto fail;
	event_base_dispatch(srv->base);
	rc = 0;
fail:
	if (srv->http != NULL)
		evhttp_free(srv->http);	/* ends the requests still going */
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "key", required_argument, NULL, 'k' },
		{ "log", required_argument, NULL, 'l' },
		{ "image-bytes", required_argument, NULL, 'i' },
		{ "rpm", required_argument, NULL, 'r' },
		{ "latency-ms", required_argument, NULL, 'L' },
		{ "rpm-window-ms", required_argument, NULL, 'W' },
		{ "derive", no_argument, NULL, 'D' },
		{ "framing", required_argument, NULL, 'F' },
		{ "seed", required_argument, NULL, 'S' },
		{ "log-lie", required_argument, NULL, 'Y' },
		{ "bill-table", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct fake_server	 srv;
	const char		*bind = "127.0.0.1", *logpath = NULL;
	long			 port = 0, image_bytes = 20000;
	char			 err[128];
	int			 ch, rc = 1;

	memset(&srv, 0, sizeof(srv));
	srv.key = "sk-test";
	srv.rpm_window_ms = 60000;
	srv.seed = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': port = numarg("port", optarg, 0, 65535); break;
		case 'b': bind = optarg; break;
		case 'k': srv.key = optarg; break;
		case 'l': logpath = optarg; break;
		case 'i': image_bytes = numarg("image-bytes", optarg, 1,
		    1L << 30); break;
		case 'r': srv.rpm = numarg("rpm", optarg, 0, LONG_MAX); break;
		case 'L': srv.latency_ms = numarg("latency-ms", optarg, 0,
		    3600000); break;
		case 'W': srv.rpm_window_ms = numarg("rpm-window-ms", optarg,
		    1, 3600000); break;
		case 'D': srv.derive = 1; break;
		case 'B': srv.bill_table = 1; break;
		case 'F':
			if (framing_parse(optarg, &srv.framing) == -1) {
				fprintf(stderr, "fake-upstream: --framing: "
				    "'%s' is not whole, pieces, crlf, comments "
				    "or multiline\n", optarg);
				exit(2);
			}
			break;
		case 'S': srv.seed = (uint64_t)numarg("seed", optarg, 0,
		    LONG_MAX); break;
		case 'Y': srv.log_lie = (unsigned long)numarg("log-lie",
		    optarg, 1, LONG_MAX); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (logpath != NULL && (srv.log = fopen(logpath, "a")) == NULL) {
		fprintf(stderr, "fake-upstream: %s: %s\n", logpath,
		    strerror(errno));
		return 1;
	}
	if (pngbase_init(&srv.png, image_bytes, err, sizeof(err)) == -1) {
		fprintf(stderr, "fake-upstream: %s\n", err);
		goto fail;
	}
	srv.counts = fc_new();
	if ((srv.base = event_base_new()) == NULL)
		goto fail;
	if (serve(&srv, bind, port) == 0)
		rc = 0;
fail:
	files_free(&srv);
	fc_free(srv.counts);
	pngbase_free(&srv.png);
	if (srv.base != NULL)
		event_base_free(srv.base);
	if (srv.log != NULL)
		fclose(srv.log);
	return rc;
}
