/* sse.c: the text/event-stream framing parser (WHATWG SSE): lines, fields,
 * event dispatch; data-field bytes go straight from the input to the event. */
#include "sse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SSE_MINCAP 256
#define SSE_NAMEMAX 8	/* longest field name we tell apart, "event" is 5 */

enum sse_state {
	ST_START,	/* at the start of a line */
	ST_NAME,	/* in the field name */
	ST_SPACE,	/* just after the colon: one space is dropped */
	ST_VALUE,	/* in the field value */
	ST_COMMENT	/* in a comment line, skipped to its end */
};

enum sse_field {
	FLD_IGNORE,	/* id, retry and unknown fields */
	FLD_DATA,
	FLD_EVENT
};

struct sse_parser {
	sse_event_cb cb;
	sse_data_cb sink;	/* NULL: data is buffered */
	void *arg;
	size_t max;		/* max_event_bytes */

	char *data;		/* data lines joined with '\n' */
	size_t dlen, dcap;
	size_t ndata;		/* data fields seen in this event */
	char *ev;		/* the event name */
	size_t elen, ecap;
	size_t nfields;		/* field lines seen since the last blank line */

	enum sse_state state;
	enum sse_field field;	/* where the current value goes */
	char name[SSE_NAMEMAX];	/* start of the current field name */
	size_t nlen;		/* its full length */
	int cr;			/* the last line ended with '\r' */
	int bom;		/* BOM bytes matched; 3 when past the check */
	int err;		/* sticky: the value that stopped parsing */
	size_t nevents;
};

/* The next '\r' or '\n' in one feed's buffer, remembering earlier memchr
 * results so a '\r'-only (or '\n'-only) stream is scanned once, not per line. */
struct eol_scan {
	const char *lf, *cr;	/* NULL until searched; end if none */
};

static const char sse_bom[3] = { '\xef', '\xbb', '\xbf' };

static int feed_lines(struct sse_parser *, const char *, size_t, size_t *);

struct sse_parser *
sse_new(sse_event_cb cb, void *arg, size_t max_event_bytes)
{
	struct sse_parser *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->cb = cb;
	p->arg = arg;
	p->max = max_event_bytes;
	return p;
}

void
sse_free(struct sse_parser *p)
{
	if (p == NULL)
		return;
	free(p->data);
	free(p->ev);
	free(p);
}

void
sse_set_data_sink(struct sse_parser *p, sse_data_cb sink)
{
	p->sink = sink;
}

size_t
sse_events(const struct sse_parser *p)
{
	return p->nevents;
}

/* Makes *buf hold need bytes, doubling, never past limit. */
static int
grow(char **buf, size_t *cap, size_t need, size_t limit)
{
	size_t ncap;
	char *nbuf;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : SSE_MINCAP;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? SIZE_MAX : ncap * 2;
	if (ncap > limit)
		ncap = limit;
	if ((nbuf = realloc(*buf, ncap)) == NULL)
		return SSE_ENOMEM;
	*buf = nbuf;
	*cap = ncap;
	return 0;
}

/* Room for n more bytes (plus the NUL) in the data buffer or the event
 * name; both count against max_event_bytes. */
static int
reserve(struct sse_parser *p, int to_data, size_t n)
{
	size_t used = p->dlen + p->elen, limit;

	if (n > p->max || used > p->max - n)
		return SSE_ETOOBIG;
	limit = p->max < SIZE_MAX ? p->max + 1 : SIZE_MAX;
	if (to_data)
		return grow(&p->data, &p->dcap, p->dlen + n + 1, limit);
	return grow(&p->ev, &p->ecap, p->elen + n + 1, limit);
}

/* Data bytes for the sink: counted against the limit, not stored. */
static int
to_sink(struct sse_parser *p, const char *s, size_t n)
{
	size_t used = p->dlen + p->elen;

	if (n > p->max || used > p->max - n)
		return SSE_ETOOBIG;
	p->dlen += n;
	return n > 0 ? p->sink(p->arg, s, n) : 0;
}

static int
append(struct sse_parser *p, const char *s, size_t n)
{
	int rv;

	switch (p->field) {
	case FLD_DATA:
		if (p->sink != NULL)
			return to_sink(p, s, n);
		if ((rv = reserve(p, 1, n)) != 0)
			return rv;
		memcpy(p->data + p->dlen, s, n);
		p->dlen += n;
		break;
	case FLD_EVENT:
		if ((rv = reserve(p, 0, n)) != 0)
			return rv;
		memcpy(p->ev + p->elen, s, n);
		p->elen += n;
		break;
	case FLD_IGNORE:
		break;
	}
	return 0;
}

/* The field name is complete: pick where its value goes. A data field
 * after the first starts with the '\n' that joins it to the previous one. */
static int
begin_value(struct sse_parser *p)
{
	int rv;

	p->field = FLD_IGNORE;
	if (p->nlen == 4 && memcmp(p->name, "data", 4) == 0) {
		p->field = FLD_DATA;
		if (p->sink != NULL)
			return p->ndata++ > 0 ? to_sink(p, "\n", 1) : 0;
		if ((rv = reserve(p, 1, 1)) != 0)
			return rv;
		if (p->ndata++ > 0)
			p->data[p->dlen++] = '\n';
	} else if (p->nlen == 5 && memcmp(p->name, "event", 5) == 0) {
		p->elen = 0;
		p->field = FLD_EVENT;
	}
	return 0;
}

static void
add_name(struct sse_parser *p, const char *s, size_t n)
{
	size_t room = p->nlen < SSE_NAMEMAX ? SSE_NAMEMAX - p->nlen : 0;

	/* a name past SSE_NAMEMAX is no field we know: only its length grows
	 * (and p->name + p->nlen would point past the array) */
	if (room > 0)
		memcpy(p->name + p->nlen, s, n < room ? n : room);
	p->nlen += n;
}

/* A blank line: hand over the event if it has data, then start afresh. */
static int
dispatch(struct sse_parser *p)
{
	char none[1] = "";
	int rv = 0;

	if (p->ndata > 0) {
		if (p->sink == NULL)
			p->data[p->dlen] = '\0';
		if (p->ev != NULL)
			p->ev[p->elen] = '\0';
		p->nevents++;
		rv = p->cb(p->arg, p->ev != NULL ? p->ev : "", p->elen,
		    p->sink ? none : p->data, p->sink ? 0 : p->dlen);
	}
	p->dlen = p->elen = 0;
	p->ndata = p->nfields = 0;
	return rv;
}

static const char *
next_eol(struct eol_scan *e, const char *s, const char *end)
{
	if (e->lf == NULL || e->lf < s)
		if ((e->lf = memchr(s, '\n', end - s)) == NULL)
			e->lf = end;
	if (e->cr == NULL || e->cr < s)
		if ((e->cr = memchr(s, '\r', end - s)) == NULL)
			e->cr = end;
	return e->lf < e->cr ? e->lf : e->cr;
}

static void
end_line(struct sse_parser *p, char c)
{
	p->cr = c == '\r';
	p->state = ST_START;
}

/* At the start of a line: a blank line, a comment or a field. Consumes
 * the '\n' of a "\r\n" whose '\r' ended the previous line (maybe in the
 * previous feed). */
static int
step_start(struct sse_parser *p, const char **sp)
{
	char c = **sp;

	if (p->cr) {
		p->cr = 0;
		if (c == '\n') {
			(*sp)++;
			return 0;
		}
	}
	if (c == '\r' || c == '\n') {
		(*sp)++;
		end_line(p, c);
		return dispatch(p);
	}
	if (c == ':') {
		(*sp)++;
		p->state = ST_COMMENT;
		return 0;
	}
	p->nlen = 0;
	p->nfields++;
	p->state = ST_NAME;
	return 0;
}

static int
step_name(struct sse_parser *p, const char **sp, const char *end,
    struct eol_scan *e)
{
	const char *s = *sp, *eol = next_eol(e, s, end), *colon;
	int rv;

	if ((colon = memchr(s, ':', eol - s)) != NULL) {
		add_name(p, s, colon - s);
		*sp = colon + 1;
		p->state = ST_SPACE;
		return begin_value(p);
	}
	add_name(p, s, eol - s);
	*sp = eol;
	if (eol == end)
		return 0;
	/* A line without a colon: the whole line names a field, value "". */
	if ((rv = begin_value(p)) != 0)
		return rv;
	*sp = eol + 1;
	end_line(p, *eol);
	return 0;
}

static int
step_value(struct sse_parser *p, const char **sp, const char *end,
    struct eol_scan *e)
{
	const char *s = *sp, *eol = next_eol(e, s, end);
	int rv;

	if ((rv = append(p, s, eol - s)) != 0)
		return rv;
	*sp = eol;
	if (eol < end) {
		*sp = eol + 1;
		end_line(p, *eol);
	}
	return 0;
}

/* Parses len bytes; *used: how many, fewer when a callback said pause. */
static int
feed_lines(struct sse_parser *p, const char *buf, size_t len, size_t *used)
{
	const char *s = buf, *end = buf + len, *eol;
	struct eol_scan e = { NULL, NULL };
	int rv = 0;

	while (s < end && rv == 0) {
		switch (p->state) {
		case ST_START:
			rv = step_start(p, &s);
			break;
		case ST_NAME:
			rv = step_name(p, &s, end, &e);
			break;
		case ST_SPACE:
			if (*s == ' ')
				s++;
			p->state = ST_VALUE;
			break;
		case ST_VALUE:
			rv = step_value(p, &s, end, &e);
			break;
		case ST_COMMENT:
			if ((s = eol = next_eol(&e, s, end)) < end) {
				s++;
				end_line(p, *eol);
			}
			break;
		}
	}
	*used = (size_t)(s - buf);
	return rv;
}

/* Drops one UTF-8 BOM at the very start of the stream; the bytes of a
 * partial match that turns out not to be a BOM are parsed as text. */
static int
skip_bom(struct sse_parser *p, const char **sp, const char *end)
{
	const char *s = *sp;
	int matched;

	while (p->bom < 3 && s < end && *s == sse_bom[p->bom]) {
		p->bom++;
		s++;
	}
	*sp = s;
	if (p->bom == 3 || s == end)
		return 0;
	size_t used;

	matched = p->bom;
	p->bom = 3;
	/* no line ends among them: no event, no pause */
	return feed_lines(p, sse_bom, matched, &used);
}

int
sse_feed_some(struct sse_parser *p, const char *buf, size_t len,
    size_t *used)
{
	const char *s = buf, *end = buf + len;
	size_t n = 0;
	int rv;

	*used = 0;
	if (p->err != 0)
		return p->err;
	if (p->bom < 3 && (rv = skip_bom(p, &s, end)) != 0)
		goto fail;
	rv = feed_lines(p, s, end - s, &n);
	*used = (size_t)(s - buf) + n;
	if (rv == SSE_PAUSE)
		return rv;
	if (rv != 0)
		goto fail;
	return 0;
 fail:
	p->err = rv;
	return rv;
}

int
sse_feed(struct sse_parser *p, const char *buf, size_t len)
{
	size_t used;
	int rv;

	if ((rv = sse_feed_some(p, buf, len, &used)) == SSE_PAUSE)
		p->err = rv; /* a caller of sse_feed cannot go on from there */
	return rv;
}

int
sse_finish(struct sse_parser *p)
{
	int pending;

	pending = p->state != ST_START || p->nfields > 0 ||
	    (p->bom > 0 && p->bom < 3);
	p->state = ST_START;
	p->dlen = p->elen = 0;
	p->ndata = p->nfields = 0;
	p->cr = 0;
	p->bom = 3;
	return pending;
}
