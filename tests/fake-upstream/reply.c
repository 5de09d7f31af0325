/* reply.c: sending one reply: its headers, then its pieces in bounded chunks
 * (random small ones with --framing pieces), each queued once the previous
 * drained; pauses, hang, delay and cut. */
#include "fake_upstream.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#define CHUNK_MAX	(256 * 1024)

static void	pump(struct reqctx *);

static const char *const framing_names[] = {
	[FRAMING_WHOLE] = "whole",
	[FRAMING_PIECES] = "pieces",
	[FRAMING_CRLF] = "crlf",
	[FRAMING_COMMENTS] = "comments",
	[FRAMING_MULTILINE] = "multiline",
};

/* A --framing name into *out; -1 if it names none. */
int
framing_parse(const char *name, enum framing *out)
{
	size_t	 i;

	for (i = 0; i < sizeof(framing_names) / sizeof(framing_names[0]); i++)
		if (strcmp(name, framing_names[i]) == 0) {
			*out = (enum framing)i;
			return 0;
		}
	return -1;
}

const char *
framing_name(enum framing f)
{
	return framing_names[f];
}

/* splitmix64: the next of a request's reproducible piece sizes. */
static uint64_t
rng_next(uint64_t *state)
{
	uint64_t	 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static struct piece *
piece_new(struct reqctx *ctx, const char *data, size_t len)
{
	struct piece	*p;

	if (ctx->npieces == ctx->piececap) {
		ctx->piececap = ctx->piececap ? 2 * ctx->piececap : 16;
		ctx->pieces = xreallocarray(ctx->pieces, ctx->piececap,
		    sizeof(*ctx->pieces));
	}
	p = &ctx->pieces[ctx->npieces++];
	memset(p, 0, sizeof(*p));
	p->data = data;
	p->len = len;
	p->image = -1;
	ctx->total += len;
	return p;
}

/* Bytes to send: copied, or (shared) the server's own, added by reference. */
void
reply_add(struct reqctx *ctx, const char *data, size_t len, int shared)
{
	char	*copy;

	if (len == 0)
		return;
	if (shared) {
		piece_new(ctx, data, len)->shared = 1;
		return;
	}
	copy = xreallocarray(NULL, len, 1);
	memcpy(copy, data, len);
	reply_add_owned(ctx, copy, len);
}

void
reply_add_owned(struct reqctx *ctx, char *data, size_t len)
{
	if (len == 0) {
		free(data);
		return;
	}
	piece_new(ctx, data, len)->owned = 1;
}

/* Image i: the shared body (base64 or raw), then its own small tail, which
 * is copied (the request may end before the chunk is written). */
void
reply_add_image(struct reqctx *ctx, int i, int b64)
{
	const struct pngbase	*pb = &ctx->srv->png;
	const struct image	*img = &ctx->images[i];

	if (img->own != NULL) {	/* --derive: bytes of its own */
		if (b64)
			piece_new(ctx, img->own_b64, img->own_b64_len)->image = i;
		else
			piece_new(ctx, (const char *)img->own,
			    img->own_len)->image = i;
		return;
	}
	if (b64) {
		reply_add(ctx, pb->b64, pb->b64_len, 1);
		piece_new(ctx, img->b64tail, img->b64tail_len)->image = i;
	} else {
		reply_add(ctx, (const char *)pb->data, pb->body_len, 1);
		piece_new(ctx, (const char *)img->tail, img->tail_len)->image = i;
	}
}

/* An SSE event (or the whole body) ends with the last piece. */
void
reply_end_event(struct reqctx *ctx)
{
	if (ctx->npieces > 0)
		ctx->pieces[ctx->npieces - 1].event_end = 1;
}

void
reply_header(struct reqctx *ctx, const char *key, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(ctx->req), key,
	    value);
}

/* An OpenAI error body; empty type, param or code are null. */
void
reply_error(struct reqctx *ctx, int status, const char *message,
    const char *type, const char *param, const char *code)
{
	json_t	*e;
	char	*s;

#define EMPTY_NULL(v)	((v) != NULL && *(v) != '\0' ? (v) : NULL)
	e = json_pack("{s:{s:o,s:o,s:o,s:o}}", "error",
	    "message", jtext_or_null(EMPTY_NULL(message)),
	    "type", jtext_or_null(EMPTY_NULL(type)),
	    "param", jtext_or_null(EMPTY_NULL(param)),
	    "code", jtext_or_null(EMPTY_NULL(code)));
#undef EMPTY_NULL
	if (e == NULL || (s = json_dumps(e, JSON_COMPACT)) == NULL)
		abort();
	json_decref(e);
	ctx->status = status;
	reply_header(ctx, "Content-Type", "application/json");
	reply_add_owned(ctx, s, strlen(s));
	reply_end_event(ctx);
}

/* Pieces fully queued before the last drain went out: log their images. */
void
reply_confirm(struct reqctx *ctx)
{
	const struct image	*img;
	char			 sha[65];
	size_t			 i;
	short			 k;

	for (i = ctx->confirmed; i < ctx->cur; i++) {
		if ((k = ctx->pieces[i].image) < 0)
			continue;
		img = &ctx->images[k];
		memcpy(sha, img->sha256, sizeof(sha));
		if (++ctx->srv->logged == ctx->srv->log_lie)	/* --log-lie */
			sha[0] = sha[0] == '0' ? '1' : '0';
		json_array_append_new(ctx->sent, json_pack("{s:s,s:i,s:s,s:I}",
		    "kind", img->kind, "index", img->index,
		    "sha256", sha, "size", (json_int_t)img->size));
	}
	ctx->confirmed = ctx->cur;
}

/* The server drops the connection mid-reply (fault cut, cut-after). */
static void
cut(struct reqctx *ctx)
{
	struct evhttp_connection	*evcon = ctx->evcon;

	reply_confirm(ctx);
	ctx_done(ctx, DONE_CUT);
	evhttp_connection_free(evcon);
}

static int
output_pending(struct reqctx *ctx)
{
	struct bufferevent	*bev;

	bev = evhttp_connection_get_bufferevent(ctx->evcon);
	return evbuffer_get_length(bufferevent_get_output(bev)) > 0;
}

/* The timer, for wait_ms: a delay, a pause between chunks or events. */
static void
arm(struct reqctx *ctx)
{
	struct timeval	 tv;

	tv.tv_sec = ctx->wait_ms / 1000;
	tv.tv_usec = ctx->wait_ms % 1000 * 1000;
	ctx->wait_ms = 0;
	evtimer_add(ctx->timer, &tv);
}

static void
drained(struct evhttp_connection *evcon, void *arg)
{
	struct reqctx	*ctx = arg;

	(void)evcon;
	reply_confirm(ctx);
	if (ctx->wait_ms > 0)
		arm(ctx);
	else
		pump(ctx);
}

/* Up to room bytes of the pieces into buf; stops early after an SSE event
 * when events are paced. */
static void
fill(struct reqctx *ctx, struct evbuffer *buf, size_t room)
{
	struct piece	*p;
	size_t		 n;

	while (room > 0 && ctx->cur < ctx->npieces) {
		p = &ctx->pieces[ctx->cur];
		n = p->len - ctx->cur_off;
		if (n > room)
			n = room;
		if (p->shared)
			evbuffer_add_reference(buf, p->data + ctx->cur_off, n,
			    NULL, NULL);
		else
			evbuffer_add(buf, p->data + ctx->cur_off, n);
		ctx->cur_off += n;
		ctx->off += n;
		room -= n;
		if (ctx->cur_off < p->len)
			continue;
		ctx->cur++;
		ctx->cur_off = 0;
		if (p->event_end && ctx->gap_ms > 0 &&
		    ctx->cur < ctx->npieces) {
			ctx->wait_ms = ctx->gap_ms;
			break;
		}
	}
}

static void
pump(struct reqctx *ctx)
{
	struct evbuffer	*buf;
	size_t		 room;

	if (ctx->off == ctx->cut_at) {
		if (output_pending(ctx)) {	/* the headers, at cut-after=0 */
			ctx->wait_ms = 1;
			arm(ctx);
		} else
			cut(ctx);
		return;
	}
	if (ctx->cur == ctx->npieces) {
		evhttp_send_reply_end(ctx->req);	/* ctx_done may run now */
		return;
	}
	room = ctx->slow_bytes > 0 ? (size_t)ctx->slow_bytes : CHUNK_MAX;
	if (ctx->slow_bytes == 0 && ctx->srv->framing == FRAMING_PIECES)
		room = 1 + rng_next(&ctx->rng) % PIECE_MAX;
	if (ctx->cut_at != NO_CUT && room > ctx->cut_at - ctx->off)
		room = ctx->cut_at - ctx->off;
	if ((buf = evbuffer_new()) == NULL)
		abort();
	fill(ctx, buf, room);
	ctx->writes++;
	if (ctx->slow_bytes > 0)
		ctx->wait_ms = ctx->slow_ms;
	evhttp_send_reply_chunk_with_cb(ctx->req, buf, drained, ctx);
	evbuffer_free(buf);
}

static void
start(struct reqctx *ctx)
{
	char	 len[32];

	if (!ctx->chunked) {
		snprintf(len, sizeof(len), "%llu",
		    (unsigned long long)ctx->total);
		reply_header(ctx, "Content-Length", len);
	}
	evhttp_send_reply_start(ctx->req, ctx->status,
	    ctx->status == 429 ? "Too Many Requests" : NULL);
	ctx->started = 1;
	if (!ctx->hang)
		pump(ctx);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct reqctx	*ctx = arg;

	(void)fd;
	(void)what;
	if (ctx->started)
		pump(ctx);
	else
		start(ctx);
}

/*
 * Where a cut fault drops the connection: after the given number of complete
 * events (or all of them), or (half) in the middle of the first one.  A
 * non-SSE body counts as one event.
 */
void
reply_cut(struct reqctx *ctx, long events, int half)
{
	uint64_t	 off = 0;
	size_t		 i;

	ctx->cut_at = half || events > 0 ? ctx->total : 0;
	for (i = 0; i < ctx->npieces; i++) {
		off += ctx->pieces[i].len;
		if (!ctx->pieces[i].event_end)
			continue;
		if (half) {
			ctx->cut_at = off / 2;
			return;
		}
		if (--events == 0) {
			ctx->cut_at = off;
			return;
		}
	}
}

/*
 * Before a reply starts evhttp does not read, so it would not see the client
 * go.  Watch for EOF the way evhttp does while it writes: reading on, no read
 * callback (bytes wait in the buffer), its event callback left in place.
 */
static void
watch_close(struct reqctx *ctx)
{
	struct bufferevent	*bev;
	bufferevent_data_cb	 wcb;
	bufferevent_event_cb	 ecb;
	void			*arg;

	bev = evhttp_connection_get_bufferevent(ctx->evcon);
	bufferevent_getcb(bev, NULL, &wcb, &ecb, &arg);
	bufferevent_setcb(bev, NULL, wcb, ecb, arg);
	bufferevent_enable(bev, EV_READ);
}

/* Sends what was built, after --delay; the request ends in ctx_done. */
void
reply_go(struct reqctx *ctx)
{
	if ((ctx->timer = evtimer_new(ctx->srv->base, timer_cb, ctx)) == NULL)
		abort();
	if (ctx->delay_ms > 0) {
		watch_close(ctx);
		ctx->wait_ms = ctx->delay_ms;
		arm(ctx);
		return;
	}
	start(ctx);
}
