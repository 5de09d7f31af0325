/* fuzz_sse.c: the SSE parser in random chunkings, buffered and with a data
 * sink, against a whole-stream reference parser written from the standard. */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "sse.h"
#include "util.h"

#define STOP_RC 42

/* Events as a byte string: per event its name and data, each length-first,
 * so one list is a prefix of another exactly when its events are. */
struct rec {
	struct buf	 ev;
	struct buf	 sunk;		/* sink mode: data since the last event */
	size_t		 n, stop_at;	/* callback returns STOP_RC at event stop_at */
};

static void
rec_put(struct buf *b, const void *s, size_t n)
{
	if (buf_append(b, &n, sizeof(n)) == -1 ||
	    (n > 0 && buf_append(b, s, n) == -1))
		abort();
}

static void
rec_event(struct rec *r, const char *ev, size_t elen, const void *d, size_t dlen)
{
	rec_put(&r->ev, ev, elen);
	rec_put(&r->ev, d, dlen);
	r->n++;
}

/* The standard's algorithm over the whole stream: lines end at CRLF, CR or
 * LF; returns what sse_finish should (1 when something was left pending). */
static int
ref_parse(const char *s, size_t n, struct rec *r)
{
	struct buf data = { 0 }, ev = { 0 };
	size_t i = 0, le, nfields = 0, ndata = 0, nl;
	const char *colon, *val;

	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	else if (n > 0 && n < 3 && memcmp(s, "\xef\xbb\xbf", n) == 0)
		return 1;
	for (; i < n; i = le + 1 + (s[le] == '\r' && le + 1 < n &&
	    s[le + 1] == '\n')) {
		for (le = i; le < n && s[le] != '\r' && s[le] != '\n'; le++)
			;
		if (le == n)
			break;
		if (le == i) {		/* blank line: dispatch */
			if (ndata > 0)
				rec_event(r, (char *)ev.data, ev.len,
				    data.data, data.len);
			data.len = ev.len = 0;
			ndata = nfields = 0;
			continue;
		}
		if (s[i] == ':')
			continue;
		nfields++;
		if ((colon = memchr(s + i, ':', le - i)) == NULL)
			colon = val = s + le;
		else
			val = colon + 1 + (colon + 1 < s + le && colon[1] == ' ');
		nl = (size_t)(colon - (s + i));
		if (nl == 4 && memcmp(s + i, "data", 4) == 0) {
			if (ndata++ > 0 && buf_append(&data, "\n", 1) == -1)
				abort();
			if (buf_append(&data, val, (size_t)(s + le - val)) == -1)
				abort();
		} else if (nl == 5 && memcmp(s + i, "event", 5) == 0) {
			ev.len = 0;
			if (buf_append(&ev, val, (size_t)(s + le - val)) == -1)
				abort();
		}
	}
	buf_free(&data);
	buf_free(&ev);
	return i < n || nfields > 0;
}

static int
on_event(void *arg, const char *event, size_t event_len, char *data,
    size_t data_len)
{
	struct rec *r = arg;

	FZ_ASSERT(event[event_len] == '\0' && data[data_len] == '\0');
	FZ_ASSERT(strlen(event) <= event_len);
	rec_event(r, event, event_len, data, data_len);
	memset(data, 'X', data_len);	/* the callee may write there */
	return r->n - 1 == r->stop_at ? STOP_RC : 0;
}

static int
on_sunk_event(void *arg, const char *event, size_t event_len, char *data,
    size_t data_len)
{
	struct rec *r = arg;

	FZ_ASSERT(data_len == 0 && data[0] == '\0');
	FZ_ASSERT(event[event_len] == '\0');
	rec_event(r, event, event_len, r->sunk.data, r->sunk.len);
	r->sunk.len = 0;
	return r->n - 1 == r->stop_at ? STOP_RC : 0;
}

static int
on_data(void *arg, const char *s, size_t n)
{
	struct rec *r = arg;

	FZ_ASSERT(n > 0);
	if (buf_append(&r->sunk, s, n) == -1)
		abort();
	return 0;
}

/* Feeds s in chunks; returns the first nonzero sse_feed result (checking
 * it sticks), else 0; *pending gets sse_finish's answer. */
static int
run(const char *s, size_t n, size_t max, int sink, unsigned seed,
    struct rec *r, int *pending)
{
	struct sse_parser *p;
	struct fz_chunks ch;
	size_t off = 0, k;
	int rc = 0;

	if ((p = sse_new(sink ? on_sunk_event : on_event, r, max)) == NULL)
		abort();
	if (sink)
		sse_set_data_sink(p, on_data);
	fz_chunks_init(&ch, seed);
	while (off < n && rc == 0) {
		k = fz_chunk(&ch, n - off);
		rc = sse_feed(p, s + off, k);
		off += k;
	}
	if (rc != 0)
		FZ_ASSERT(sse_feed(p, "\n\n", 2) == rc);
	FZ_ASSERT(sse_events(p) == r->n);
	*pending = sse_finish(p);
	sse_free(p);
	return rc;
}

static void
rec_free(struct rec *r)
{
	buf_free(&r->ev);
	buf_free(&r->sunk);
}

static int
same(const struct rec *a, const struct rec *b)
{
	return a->n == b->n && a->ev.len == b->ev.len &&
	    (a->ev.len == 0 || memcmp(a->ev.data, b->ev.data, a->ev.len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	unsigned seed = fz_byte(&f), stop = fz_byte(&f), max = fz_byte(&f);
	const char *s = (const char *)f.p;
	struct rec want = { .stop_at = SIZE_MAX }, got;
	int pending, want_pending, sink, rc;

	want_pending = ref_parse(s, f.n, &want);
	/* big enough for anything: every event as the reference has it */
	for (sink = 0; sink < 2; sink++) {
		memset(&got, 0, sizeof(got));
		got.stop_at = SIZE_MAX;
		FZ_ASSERT(run(s, f.n, f.n + 1, sink, seed, &got, &pending) == 0);
		FZ_ASSERT(same(&got, &want));
		FZ_ASSERT(pending == want_pending);
		rec_free(&got);
	}
	/* small limits and a callback that stops: a prefix of those events */
	for (sink = 0; sink < 2; sink++) {
		memset(&got, 0, sizeof(got));
		got.stop_at = stop % 8;
		rc = run(s, f.n, max, sink, seed >> 3, &got, &pending);
		FZ_ASSERT(rc == 0 || rc == STOP_RC || rc == SSE_ETOOBIG);
		FZ_ASSERT(got.ev.len <= want.ev.len && (got.ev.len == 0 ||
		    memcmp(got.ev.data, want.ev.data, got.ev.len) == 0));
		FZ_ASSERT(rc != STOP_RC || got.n == got.stop_at + 1);
		FZ_ASSERT(rc != SSE_ETOOBIG || max <= f.n);
		FZ_ASSERT(rc != 0 || (same(&got, &want) && pending == want_pending));
		rec_free(&got);
	}
	rec_free(&want);
	return 0;
}
