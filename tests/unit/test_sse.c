/* test_sse.c: the SSE parser against a recorded-style image_edit stream in
 * every framing and every chunking, plus the corners of the WHATWG rules.
 * Everything runs twice: data buffered by the parser, then data handed to a
 * sink as it arrives (sse_set_data_sink, what the daemon uses), which must
 * add up to the same bytes per event. */
#include "sse.h"
#include "testutil.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#define MAXEV 16

struct event {
	const char *name;
	char *data;
	size_t dlen;
};

/* What the callback compares against, and what it saw. */
struct sink {
	const struct event *want;
	size_t nwant;
	size_t got;		/* callbacks so far */
	size_t bad;		/* callbacks that did not match */
	int stop_at;		/* return stop_rv on this callback (1-based) */
	int stop_rv;
	struct event rec[MAXEV];	/* copies, when want == NULL */
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

/* Sink mode: data bytes are collected here, one event's worth at a time. */
static int sink_mode;
static char *sunk;
static size_t sunk_len, sunk_cap;

static int
on_data(void *arg, const char *s, size_t n)
{
	char *grown;

	(void)arg;
	if (sunk_len + n + 1 > sunk_cap) {
		sunk_cap = (sunk_len + n + 1) * 2;
		if ((grown = realloc(sunk, sunk_cap)) == NULL)
			abort();
		sunk = grown;
	}
	memcpy(sunk + sunk_len, s, n);
	sunk_len += n;
	sunk[sunk_len] = '\0';
	return 0;
}

static struct sse_parser *new_parser(struct sink *k, size_t max);

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static int
on_event(void *arg, const char *event, size_t event_len, char *data,
    size_t data_len)
{
	struct sink *k = arg;
	const struct event *w;
	size_t i = k->got++;

	if (event[event_len] != '\0' || strlen(event) != event_len ||
	    data[data_len] != '\0')
		k->bad++;
	if (sink_mode) {	/* the bytes went to on_data */
		if (data_len != 0)
			k->bad++;
		on_data(NULL, "", 0); /* sunk is allocated and terminated */
		data = sunk;
		data_len = sunk_len;
		sunk_len = 0;
	}
	if (k->want != NULL) {
		w = &k->want[i];
		if (i >= k->nwant || strlen(w->name) != event_len ||
		    memcmp(w->name, event, event_len) != 0 ||
		    w->dlen != data_len || memcmp(w->data, data, data_len) != 0)
			k->bad++;
	} else if (i < MAXEV) {
		k->rec[i].name = strdup(event);
		k->rec[i].data = malloc(data_len + 1);
		memcpy(k->rec[i].data, data, data_len + 1);
		k->rec[i].dlen = data_len;
	}
	/* The callee may scribble on data: the parser must not reuse it. */
	memset(data, 'Z', data_len);
	if (k->stop_at != 0 && (int)k->got == k->stop_at)
		return k->stop_rv;
	return 0;
}

static void
sink_clear(struct sink *k)
{
	size_t i;

	for (i = 0; i < k->got && i < MAXEV && k->want == NULL; i++) {
		free((char *)k->rec[i].name);
		free(k->rec[i].data);
	}
	memset(k, 0, sizeof(*k));
}

/* A parser calling back into k; in sink mode with on_data as its sink. */
static struct sse_parser *
new_parser(struct sink *k, size_t max)
{
	struct sse_parser *p = sse_new(on_event, k, max);

	sunk_len = 0;
	if (p != NULL && sink_mode)
		sse_set_data_sink(p, on_data);
	return p;
}

/* Parses text in one go (or byte by byte) with no expectations; returns
 * sse_finish's verdict and leaves the events in k->rec. */
static int
parse(struct sink *k, const char *text, size_t len, int bytewise,
    size_t max, int *feed_rv)
{
	struct sse_parser *p = new_parser(k, max);
	size_t i;
	int rv = 0, fin;

	if (bytewise) {
		for (i = 0; i < len && rv == 0; i++)
			rv = sse_feed(p, text + i, 1);
	} else
		rv = sse_feed(p, text, len);
	if (feed_rv != NULL)
		*feed_rv = rv;
	CHECK_INT(sse_events(p), k->got);
	fin = sse_finish(p);
	sse_free(p);
	return fin;
}

/* Checks that text yields exactly the n events given as name/data pairs,
 * fed whole and byte by byte; returns sse_finish's verdict. */
static int
expect(const char *text, size_t len, int n, ...)
{
	struct sink k;
	va_list ap;
	int bytewise, i, fin = -1, f;
	const char *name, *data;

	for (bytewise = 0; bytewise < 2; bytewise++) {
		memset(&k, 0, sizeof(k));
		f = parse(&k, text, len, bytewise, 1 << 20, NULL);
		CHECK(fin == -1 || f == fin);
		fin = f;
		CHECK_INT(k.got, n);
		CHECK_INT(k.bad, 0);
		va_start(ap, n);
		for (i = 0; i < n; i++) {
			name = va_arg(ap, const char *);
			data = va_arg(ap, const char *);
			if ((size_t)i >= k.got)
				continue;
			CHECK_STR(k.rec[i].name, name);
			CHECK_INT(k.rec[i].dlen, strlen(data));
			CHECK_STR(k.rec[i].data, data);
		}
		va_end(ap);
		sink_clear(&k);
	}
	return fin;
}

#define EXPECT(text, ...) expect((text), sizeof(text) - 1, __VA_ARGS__)

/* ---- the recorded stream ---- */

struct stream {
	char *text;
	size_t len, cap;
	struct event ev[MAXEV];
	size_t nev;
	size_t *evend;		/* evend[k]: events complete after k bytes */
	unsigned char *clean;	/* clean[k]: k bytes end between events */
};

/* Appends bytes; each is marked "inside an event" with the events so far. */
static void
put(struct stream *s, const char *p, size_t n)
{
	size_t i;

	while (s->len + n + 1 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->text = realloc(s->text, s->cap);
		s->clean = realloc(s->clean, s->cap);
		s->evend = realloc(s->evend, s->cap * sizeof(size_t));
	}
	for (i = 1; i <= n; i++) {
		s->clean[s->len + i] = 0;
		s->evend[s->len + i] = s->nev;
	}
	memcpy(s->text + s->len, p, n);
	s->len += n;
	s->text[s->len] = '\0';
}

static void
puts_(struct stream *s, const char *p)
{
	put(s, p, strlen(p));
}

static char *
random_b64(size_t n)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *b = malloc(n + 1);
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = alpha[rnd() % 64];
	b[n] = '\0';
	return b;
}

static char *
event_json(const char *type, size_t b64len, int index)
{
	char *b64 = random_b64(b64len), *j;
	size_t n = b64len + 512;

	j = malloc(n);
	if (index >= 0)
		snprintf(j, n, "{\"type\":\"%s\",\"b64_json\":\"%s\","
		    "\"created_at\":1764050000,\"size\":\"1024x1024\","
		    "\"quality\":\"high\",\"background\":\"opaque\","
		    "\"output_format\":\"png\",\"partial_image_index\":%d}",
		    type, b64, index);
	else
		snprintf(j, n, "{\"type\":\"%s\",\"b64_json\":\"%s\","
		    "\"created_at\":1764050001,\"size\":\"1024x1024\","
		    "\"quality\":\"high\",\"background\":\"opaque\","
		    "\"output_format\":\"png\",\"usage\":{\"total_tokens\":4388,"
		    "\"input_tokens\":228,\"output_tokens\":4160,"
		    "\"input_tokens_details\":{\"text_tokens\":16,"
		    "\"image_tokens\":212}}}", type, b64);
	free(b64);
	return j;
}

/* Ends a line. between: the stream is between events after it, so a
 * truncation there is clean (from the "\r" of a "\r\n" on). */
static void
eol(struct stream *s, const char *nl, int between)
{
	size_t i;

	for (i = 0; nl[i] != '\0'; i++) {
		put(s, nl + i, 1);
		s->clean[s->len] = between;
	}
}

static void
add_event(struct stream *s, const char *name, char *data, const char *nl)
{
	size_t i, at;

	if (name != NULL) {
		puts_(s, "event: ");
		puts_(s, name);
		eol(s, nl, 0);
	}
	puts_(s, "data: ");
	puts_(s, data);
	eol(s, nl, 0);
	at = s->len;
	eol(s, nl, 1);
	/* The blank line's first byte dispatches the event. */
	for (i = at + 1; i <= s->len; i++)
		s->evend[i] = s->nev + 1;
	s->ev[s->nev].name = name != NULL ? name : "";
	s->ev[s->nev].data = data;
	s->ev[s->nev].dlen = strlen(data);
	s->nev++;
}

/* 3 partial images, a completed one, a comment, and "data: [DONE]". */
static void
build_stream(struct stream *s, const char *nl, size_t b64len)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	put(s, "", 0);
	s->clean[0] = 1;
	s->evend[0] = 0;
	puts_(s, ": OPENROUTER PROCESSING");
	eol(s, nl, 1);
	for (i = 0; i < 3; i++)
		add_event(s, "image_edit.partial_image",
		    event_json("image_edit.partial_image", b64len + i,
		    (int)i), nl);
	add_event(s, "image_edit.completed",
	    event_json("image_edit.completed", b64len + 7, -1), nl);
	add_event(s, NULL, strdup("[DONE]"), nl);
}

static void
free_stream(struct stream *s)
{
	size_t i;

	for (i = 0; i < s->nev; i++)
		free(s->ev[i].data);
	free(s->text);
	free(s->clean);
	free(s->evend);
}

/* Feeds the stream cut at the given offsets; checks every event and the
 * verdict of sse_finish. */
static void
run_cuts(const struct stream *s, const size_t *cuts, size_t ncuts)
{
	struct sink k;
	struct sse_parser *p;
	size_t i, from = 0, to;
	int rv = 0;

	memset(&k, 0, sizeof(k));
	k.want = s->ev;
	k.nwant = s->nev;
	p = new_parser(&k, 1 << 20);
	for (i = 0; i <= ncuts && rv == 0; i++, from = to) {
		to = i < ncuts ? cuts[i] : s->len;
		rv = sse_feed(p, s->text + from, to - from);
	}
	CHECK_INT(rv, 0);
	CHECK_INT(k.got, s->nev);
	CHECK_INT(k.bad, 0);
	CHECK_INT(sse_events(p), s->nev);
	CHECK_INT(sse_finish(p), 0);
	sse_free(p);
}

static void
test_stream(const char *nl, const char *what)
{
	struct stream s;
	struct sink k;
	struct sse_parser *p;
	size_t cut[64], i, j, n;
	int fin;

	build_stream(&s, nl, 1500);
	CHECK_INT(s.nev, 5);
	CHECK_INT(s.evend[s.len], 5);	/* the test's own bookkeeping */

	run_cuts(&s, NULL, 0);
	for (i = 0; i <= s.len; i++)
		run_cuts(&s, &i, 1);
	/* Byte at a time. */
	memset(&k, 0, sizeof(k));
	k.want = s.ev;
	k.nwant = s.nev;
	p = new_parser(&k, 1 << 20);
	for (i = 0; i < s.len; i++)
		CHECK_INT(sse_feed(p, s.text + i, 1), 0);
	CHECK_INT(k.got, 5);
	CHECK_INT(k.bad, 0);
	CHECK_INT(sse_finish(p), 0);
	sse_free(p);
	/* Random chunkings: short pieces, network-sized ones, and a mix. */
	for (j = 0; j < 300; j++) {
		size_t at = 0, maxpiece = j % 3 == 0 ? 7 : j % 3 == 1 ? 2000 :
		    s.len / 2;

		for (n = 0; n < 63; n++) {
			at += 1 + rnd() % maxpiece;
			if (at >= s.len)
				break;
			cut[n] = at;
		}
		run_cuts(&s, cut, n);
	}
	/* Truncation at every point: only a cut between events is clean,
	 * and exactly the events completed before the cut are delivered. */
	for (i = 0; i <= s.len; i++) {
		memset(&k, 0, sizeof(k));
		k.want = s.ev;
		k.nwant = s.nev;
		p = new_parser(&k, 1 << 20);
		CHECK_INT(sse_feed(p, s.text, i / 2), 0);
		CHECK_INT(sse_feed(p, s.text + i / 2, i - i / 2), 0);
		fin = sse_finish(p);
		if (fin != !s.clean[i] || k.got != s.evend[i] || k.bad != 0)
			fprintf(stderr, "%s: truncated at %zu/%zu: finish %d, "
			    "%zu events\n", what, i, s.len, fin, k.got);
		CHECK_INT(fin, !s.clean[i]);
		CHECK_INT(k.got, s.evend[i]);
		CHECK_INT(k.bad, 0);
		sse_free(p);
	}
	free_stream(&s);
}

/* ---- the rules, one by one ---- */

static void
test_fields(void)
{
	/* No event: line: the name is "". */
	CHECK_INT(EXPECT("data: {\"type\":\"image_edit.completed\"}\n\n", 1,
	    "", "{\"type\":\"image_edit.completed\"}"), 0);
	/* Multi-line data joined with '\n'; one space dropped, not two. */
	EXPECT("data: a\ndata:b\ndata\ndata:  c\ndata:\n\n", 1,
	    "", "a\nb\n\n c\n");
	EXPECT("data\n\n", 1, "", "");
	EXPECT("data:\n\n", 1, "", "");
	EXPECT("data:\ndata\n\n", 1, "", "\n");
	/* No space after the colon; a colon inside the value. */
	EXPECT("event:x:y\ndata:{\"a\":1}\n\n", 1, "x:y", "{\"a\":1}");
	EXPECT("event:\tx\ndata:\t1\n\n", 1, "\tx", "\t1");
	/* Lines with no colon name a field with an empty value. */
	EXPECT("event\ndata: x\n\n", 1, "", "x");
	EXPECT("event: a\nevent\ndata: x\n\n", 1, "", "x");
	EXPECT("event: a\nevent: b\ndata: x\n\n", 1, "b", "x");
	/* Unknown, misspelt or case-changed fields are ignored. */
	EXPECT("Data: x\ndat: x\ndataa: x\ndatadatadata: x\neventevent: y\n"
	    "foo\nfoo: bar\n\n", 0);
	EXPECT("dataa\ndata: 1\nevents: e\n\n", 1, "", "1");
	/* id and retry are ignored, with or without values. */
	EXPECT("id: 7\nretry: 1000\ndata: x\nid\nretry\nid:\n\n", 1, "", "x");
	CHECK_INT(EXPECT("id: 7\nretry: 10\n\n", 0), 0);
	/* The event name resets after each dispatch, and on a blank line
	 * that dispatches nothing. */
	EXPECT("event: a\ndata: 1\n\ndata: 2\n\nevent: b\n\ndata: 3\n\n", 3,
	    "a", "1", "", "2", "", "3");
	/* Field order inside an event does not matter. */
	EXPECT("data: 1\nevent: late\n\n", 1, "late", "1");
	/* NUL and high bytes pass through the value. */
	{
		static const char t[] = "data: a\0b\xff\n\n";
		struct sink k;

		memset(&k, 0, sizeof(k));
		CHECK_INT(parse(&k, t, sizeof(t) - 1, 0, 100, NULL), 0);
		CHECK_INT(k.got, 1);
		if (k.got == 1) {
			CHECK_INT(k.rec[0].dlen, 4);
			CHECK_MEM(k.rec[0].data, "a\0b\xff", 5);
		}
		sink_clear(&k);
	}
}

static void
test_blank_and_comments(void)
{
	CHECK_INT(EXPECT("\n\n\r\n\r\r\n\n", 0), 0);
	CHECK_INT(EXPECT("", 0), 0);
	CHECK_INT(EXPECT(": hello\n: x: y\r\n:\r\n", 0), 0);
	/* A comment inside an event neither ends nor joins it. */
	EXPECT("data: a\n: c\ndata: b\n\n", 1, "", "a\nb");
	EXPECT(":data: no\n\n", 0);
	/* An event: error frame mid-stream. */
	EXPECT("event: image_edit.partial_image\ndata: {\"p\":0}\n\n"
	    "event: error\ndata: {\"error\":{\"message\":\"boom\","
	    "\"type\":\"server_error\"}}\n\n"
	    "data: [DONE]\n\n", 3,
	    "image_edit.partial_image", "{\"p\":0}",
	    "error", "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}",
	    "", "[DONE]");
}

static void
test_line_ends(void)
{
	EXPECT("data: a\r\ndata: b\r\n\r\n", 1, "", "a\nb");
	EXPECT("data: a\rdata: b\r\r", 1, "", "a\nb");
	/* Mixed in one stream; "\n\r" is two line ends, "\r\n" one. */
	EXPECT("data: a\n\rdata: b\r\n\ndata: c\r\n\r\n", 3, "", "a",
	    "", "b", "", "c");
	EXPECT("data: a\r\n\r\ndata: b\n\r", 2, "", "a", "", "b");
	/* "\r" at the end of one feed and "\n" at the start of the next are
	 * one line end: otherwise the "\n" would be a blank line. */
	{
		struct sink k;
		struct sse_parser *p;

		memset(&k, 0, sizeof(k));
		p = new_parser(&k, 1000);
		CHECK_INT(sse_feed(p, "data: a\r", 8), 0);
		CHECK_INT(sse_feed(p, "\n", 1), 0);
		CHECK_INT(sse_feed(p, "data: b\r", 8), 0);
		CHECK_INT(sse_feed(p, "\n", 1), 0);
		CHECK_INT(k.got, 0);
		CHECK_INT(sse_feed(p, "\r", 1), 0);
		CHECK_INT(k.got, 1);
		CHECK_INT(sse_feed(p, "\n", 1), 0);
		CHECK_INT(sse_feed(p, "\r", 1), 0);
		CHECK_INT(sse_feed(p, "", 0), 0);
		CHECK_INT(sse_feed(p, "\n", 1), 0);
		CHECK_INT(k.got, 1);
		CHECK_INT(sse_finish(p), 0);
		if (k.got == 1)
			CHECK_STR(k.rec[0].data, "a\nb");
		sse_free(p);
		sink_clear(&k);
	}
	/* '\r'-only framing with many short lines in one buffer. */
	{
		struct sink k;
		char *t = malloc(200000);
		size_t len = 0, i;
		int rv;

		for (i = 0; i < 10000; i++)
			len += (size_t)sprintf(t + len, "data: %zu\r", i % 10);
		t[len++] = '\r';
		memset(&k, 0, sizeof(k));
		CHECK_INT(parse(&k, t, len, 0, 1 << 20, &rv), 0);
		CHECK_INT(rv, 0);
		CHECK_INT(k.got, 1);
		if (k.got == 1) {
			CHECK_INT(k.rec[0].dlen, 20000 - 1);
			CHECK_MEM(k.rec[0].data, "0\n1\n2\n", 6);
			CHECK_MEM(k.rec[0].data + 19989, "\n5\n6\n7\n8\n9", 10);
		}
		sink_clear(&k);
		free(t);
	}
}

static void
test_bom(void)
{
	EXPECT("\xef\xbb\xbf" "data: x\n\n", 1, "", "x");
	EXPECT("\xef\xbb\xbf" ": c\r\ndata: x\r\n\r\n", 1, "", "x");
	EXPECT("\xef\xbb\xbf" "\n" "data: x\n\n", 1, "", "x");
	CHECK_INT(EXPECT("\xef\xbb\xbf", 0), 0);
	/* Only one, only at the start: a second one is part of a field
	 * name, so that field is unknown. */
	EXPECT("\xef\xbb\xbf\xef\xbb\xbf" "data: x\n\n", 0);
	EXPECT("data: a\n\n\xef\xbb\xbf" "data: b\n\n", 1, "", "a");
	/* A partial BOM is not dropped: its bytes start a field name. */
	EXPECT("\xef" "data: x\n\n", 0);
	EXPECT("\xef\xbb" "data: x\n\n", 0);
	EXPECT("\xef\xbb\n" "data: x\n\n", 1, "", "x");
	EXPECT("\xef\xbb" "event: e\n" "data: x\n\n", 1, "", "x");
	/* A BOM-like byte sequence in a value is data. */
	EXPECT("data: \xef\xbb\xbf\n\n", 1, "", "\xef\xbb\xbf");
	/* A partial BOM at end of stream is a partial line. */
	CHECK_INT(EXPECT("\xef\xbb", 0), 1);
}

static void
test_finish(void)
{
	CHECK_INT(EXPECT("data: x\n\n", 1, "", "x"), 0);
	CHECK_INT(EXPECT("data: x\n", 0), 1);
	CHECK_INT(EXPECT("data: x", 0), 1);
	CHECK_INT(EXPECT("data: x\r", 0), 1);
	CHECK_INT(EXPECT("data: x\r\r", 1, "", "x"), 0);
	CHECK_INT(EXPECT("data: x\r\n\r", 1, "", "x"), 0);
	CHECK_INT(EXPECT("event: e\n", 0), 1);
	CHECK_INT(EXPECT("id: 1\n", 0), 1);
	CHECK_INT(EXPECT("data", 0), 1);
	CHECK_INT(EXPECT("d", 0), 1);
	CHECK_INT(EXPECT("data: x\n\n: comment", 1, "", "x"), 1);
	CHECK_INT(EXPECT("data: x\n\n: comment\n", 1, "", "x"), 0);
	CHECK_INT(EXPECT("data: x\n\ndata: [DONE]\n", 1, "", "x"), 1);
	/* After sse_finish the pending event is gone. */
	{
		struct sink k;
		struct sse_parser *p;

		memset(&k, 0, sizeof(k));
		p = new_parser(&k, 1000);
		CHECK_INT(sse_feed(p, "data: x\n", 8), 0);
		CHECK_INT(sse_finish(p), 1);
		CHECK_INT(sse_finish(p), 0);
		CHECK_INT(k.got, 0);
		sse_free(p);
	}
}

/* Feeds text whole and byte by byte with a small limit; returns the
 * first nonzero sse_feed result of each (they must agree). */
static int
limit_rv(const char *text, size_t max)
{
	struct sink k;
	int rv1, rv2;

	memset(&k, 0, sizeof(k));
	parse(&k, text, strlen(text), 0, max, &rv1);
	sink_clear(&k);
	memset(&k, 0, sizeof(k));
	parse(&k, text, strlen(text), 1, max, &rv2);
	sink_clear(&k);
	CHECK_INT(rv1, rv2);
	return rv1;
}

static void
test_limits(void)
{
	char t[4096], d[2048];
	struct sink k;
	struct sse_parser *p;
	int rv;

	memset(d, 'x', sizeof(d));
	/* Data of exactly max bytes fits (and its NUL must too: ASan). */
	snprintf(t, sizeof(t), "data: %.100s\n\n", d);
	CHECK_INT(limit_rv(t, 100), 0);
	CHECK_INT(limit_rv(t, 99), SSE_ETOOBIG);
	snprintf(t, sizeof(t), "data: %.1000s\n\n", d);
	CHECK_INT(limit_rv(t, 1000), 0);
	CHECK_INT(limit_rv(t, 999), SSE_ETOOBIG);
	/* The event name and the joining '\n' count too. */
	snprintf(t, sizeof(t), "event: %.10s\ndata: %.40s\ndata: %.49s\n\n",
	    d, d, d);
	CHECK_INT(limit_rv(t, 100), 0);
	CHECK_INT(limit_rv(t, 99), SSE_ETOOBIG);
	/* An event without a blank line still cannot grow past the limit. */
	snprintf(t, sizeof(t), "data: %.1000s", d);
	CHECK_INT(limit_rv(t, 500), SSE_ETOOBIG);
	/* Ignored fields and comments do not count. */
	snprintf(t, sizeof(t), ": %.1000s\nid: %.1000s\ndata: x\n\n", d, d);
	CHECK_INT(limit_rv(t, 10), 0);
	/* The limit is per event, not per stream. */
	snprintf(t, sizeof(t), "data: %.60s\n\ndata: %.60s\n\n", d, d);
	CHECK_INT(limit_rv(t, 60), 0);
	/* The error is sticky and no event is delivered after it. */
	memset(&k, 0, sizeof(k));
	p = new_parser(&k, 50);
	snprintf(t, sizeof(t), "data: %.51s\n\n", d);
	CHECK_INT(sse_feed(p, t, strlen(t)), SSE_ETOOBIG);
	CHECK_INT(sse_feed(p, "data: y\n\n", 9), SSE_ETOOBIG);
	CHECK_INT(k.got, 0);
	sse_free(p);
	/* A one-byte limit: one newline joining two data lines is too much. */
	CHECK_INT(limit_rv("data: x\n\n", 1), 0);
	CHECK_INT(limit_rv("data\ndata: x\n\n", 1), SSE_ETOOBIG);
	CHECK_INT(limit_rv("event: e\ndata: x\n\n", 1), SSE_ETOOBIG);
	(void)rv;
}

static void
test_stop(void)
{
	static const char t[] = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
	struct sink k;
	struct sse_parser *p;
	size_t i;
	int rv = 0;

	memset(&k, 0, sizeof(k));
	k.stop_at = 2;
	k.stop_rv = 42;
	p = new_parser(&k, 100);
	CHECK_INT(sse_feed(p, t, sizeof(t) - 1), 42);
	CHECK_INT(k.got, 2);
	CHECK_INT(sse_events(p), 2);
	sse_free(p);
	sink_clear(&k);
	/* Negative values too, and byte by byte. */
	memset(&k, 0, sizeof(k));
	k.stop_at = 1;
	k.stop_rv = -1;
	p = new_parser(&k, 100);
	for (i = 0; i < sizeof(t) - 1 && rv == 0; i++)
		rv = sse_feed(p, t + i, 1);
	CHECK_INT(rv, -1);
	CHECK_INT(i, 9);
	CHECK_INT(k.got, 1);
	sse_free(p);
	sink_clear(&k);
}

/* A callback's SSE_PAUSE stops right after its event, with the bytes used
 * counted to the end of the blank line; the parser goes on from the rest
 * (CRLF split across the pause included) and sees every event once. */
static void
test_pause(void)
{
	static const char t[] = "data: 1\r\n\r\ndata: 2\n\ndata: 3\n\n";
	struct sink k;
	struct sse_parser *p;
	size_t used, off = 0;

	memset(&k, 0, sizeof(k));
	k.stop_at = 1;
	k.stop_rv = SSE_PAUSE;
	p = new_parser(&k, 100);
	CHECK_INT(sse_feed_some(p, t, sizeof(t) - 1, &used), SSE_PAUSE);
	CHECK_INT(used, 10);              /* "data: 1\r\n\r" */
	CHECK_INT(k.got, 1);
	off += used;
	k.stop_at = 2;
	CHECK_INT(sse_feed_some(p, t + off, sizeof(t) - 1 - off, &used),
	    SSE_PAUSE);
	CHECK_INT(used, 10);              /* "\ndata: 2\n\n" */
	off += used;
	CHECK_INT(sse_feed_some(p, t + off, sizeof(t) - 1 - off, &used), 0);
	CHECK_INT(used, sizeof(t) - 1 - off);
	CHECK_INT(k.got, 3);
	CHECK_INT(sse_finish(p), 0);
	sse_free(p);
	sink_clear(&k);
	/* through sse_feed, a pause is an end like any other return */
	memset(&k, 0, sizeof(k));
	k.stop_at = 1;
	k.stop_rv = SSE_PAUSE;
	p = new_parser(&k, 100);
	CHECK_INT(sse_feed(p, t, sizeof(t) - 1), SSE_PAUSE);
	CHECK_INT(sse_feed(p, "data: 4\n\n", 9), SSE_PAUSE);
	CHECK_INT(k.got, 1);
	sse_free(p);
	sink_clear(&k);
}

/* A realistic 2 MB event in 16 KB reads, twice, to check the data and
 * that the buffer is reused for the second event. */
static void
test_big(void)
{
	struct stream s;
	struct sink k;
	struct sse_parser *p;
	size_t i, n;

	build_stream(&s, "\r\n", 2 << 20);
	memset(&k, 0, sizeof(k));
	k.want = s.ev;
	k.nwant = s.nev;
	p = new_parser(&k, 3 << 20);
	for (i = 0; i < s.len; i += n) {
		n = s.len - i < 16384 ? s.len - i : 16384;
		CHECK_INT(sse_feed(p, s.text + i, n), 0);
	}
	CHECK_INT(k.got, 5);
	CHECK_INT(k.bad, 0);
	CHECK_INT(sse_finish(p), 0);
	sse_free(p);
	/* One byte under the biggest event. */
	memset(&k, 0, sizeof(k));
	k.want = s.ev;
	k.nwant = s.nev;
	p = new_parser(&k, s.ev[3].dlen + strlen(s.ev[3].name) - 1);
	CHECK_INT(sse_feed(p, s.text, s.len), SSE_ETOOBIG);
	CHECK_INT(k.got, 3);
	CHECK_INT(k.bad, 0);
	sse_free(p);
	free_stream(&s);
}

static void
test_null(void)
{
	sse_free(NULL);
}

static void
all_cases(void)
{
	test_fields();
	test_blank_and_comments();
	test_line_ends();
	test_bom();
	test_finish();
	test_limits();
	test_stop();
	test_pause();
	test_null();
	test_stream("\n", "LF");
	test_stream("\r\n", "CRLF");
	test_stream("\r", "CR");
	test_big();
}

int
main(void)
{
	sink_mode = 0;
	all_cases();
	sink_mode = 1;
	all_cases();
	free(sunk);
	return tu_finish("test_sse");
}
