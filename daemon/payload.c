/* payload.c: a streaming JSON lexer that finds "b64_json" string members and
 * decodes their values straight from the input into reusable image buffers. */
#define _GNU_SOURCE /* mremap */
#include "payload.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "b64.h"
#include "util.h"

#define IMAGE_MINCAP 65536
#define POOL_MAX_MAPPING (8u << 20) /* bigger buffers go back at once */

static const char b64_key[] = "b64_json";
#define B64_KEYLEN ((int)sizeof(b64_key) - 1)

enum lex_state {
	LX_OUT,		/* between tokens */
	LX_STR,		/* in a string that is not a b64_json value */
	LX_STR_ESC,	/* just after a backslash in such a string */
	LX_AFTER_KEY,	/* after the string "b64_json": a ':' makes it a key */
	LX_AFTER_COLON,	/* after "b64_json" and ':': a '"' starts its value */
	LX_B64		/* in a b64_json value: decoding */
};

struct payload_stream {
	size_t max;		/* bound of text + decoded bytes per document */
	size_t used;		/* text + decoded bytes so far */
	struct buf text;	/* the document with b64_json values blanked */
	struct payload_image *imgs; /* nimgs complete, imgs[nimgs] decoding */
	int nimgs, slots;
	enum lex_state state;
	int keypos;		/* chars of b64_key matched so far; -1: none */
	int over;		/* the document passed max */
	struct b64_decoder dec;
	struct payload_pool *pool; /* or NULL */
};

struct payload_pool {
	struct payload_image *spares;
	int n, max;
	size_t lent;		/* bytes mapped by buffers not in spares */
	size_t lent_peak;	/* the most lent ever */
};

static void
lend(struct payload_pool *pool, size_t bytes)
{
	pool->lent += bytes;
	if (pool->lent > pool->lent_peak)
		pool->lent_peak = pool->lent;
}

static void release_image(struct payload_pool *, struct payload_image *);

struct payload_stream *
payload_stream_new(size_t max_bytes, struct payload_pool *pool)
{
	struct payload_stream *ps;

	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return NULL;
	ps->max = max_bytes;
	ps->pool = pool;
	return ps;
}

void
payload_stream_reset(struct payload_stream *ps)
{
	int i;

	/* images nobody took (an ignored event's) go back: a stream between
	 * documents holds no image memory */
	for (i = 0; ps->pool != NULL && i < ps->slots; i++)
		release_image(ps->pool, &ps->imgs[i]);
	ps->used = ps->text.len = 0;
	ps->nimgs = 0;
	ps->over = 0;
	ps->state = LX_OUT;
}

/* Image buffers are mappings of their own, grown with mremap: untouched
 * capacity costs no memory, growth copies nothing, and a finished stream's
 * pages go back to the system at once instead of fragmenting the heap
 * (256 streams of ~2 MB images). */
static int
grow_image(struct payload_pool *pool, struct payload_image *img, size_t need)
{
	size_t ncap = img->mapped ? img->mapped : IMAGE_MINCAP;
	void *p;

	if (need <= img->mapped)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -1;
		ncap *= 2;
	}
	p = img->mapped ? mremap(img->data, img->mapped, ncap, MREMAP_MAYMOVE) :
	    mmap(NULL, ncap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return -1;
	if (pool != NULL)
		lend(pool, ncap - img->mapped);
	img->data = p;
	img->mapped = ncap;
	return 0;
}

static void
unmap_image(struct payload_image *img)
{
	if (img->mapped)
		munmap(img->data, img->mapped);
	img->data = NULL;
	img->mapped = 0;
}

struct payload_pool *
payload_pool_new(int max_spares)
{
	struct payload_pool *pool;

	if ((pool = calloc(1, sizeof(*pool))) == NULL)
		return NULL;
	if (max_spares > 0 && (pool->spares = calloc((size_t)max_spares,
	    sizeof(*pool->spares))) == NULL) {
		free(pool);
		return NULL;
	}
	pool->max = max_spares > 0 ? max_spares : 0;
	return pool;
}

void
payload_pool_trim(struct payload_pool *pool)
{
	while (pool != NULL && pool->n > 0)
		unmap_image(&pool->spares[--pool->n]);
}

int
payload_pool_count(const struct payload_pool *pool)
{
	return pool != NULL ? pool->n : 0;
}

size_t
payload_pool_lent(const struct payload_pool *pool)
{
	return pool != NULL ? pool->lent : 0;
}

void
payload_pool_adopt(struct payload_pool *pool, const struct payload_image *img)
{
	if (pool != NULL)
		lend(pool, img->mapped);
}

size_t
payload_pool_lent_peak(const struct payload_pool *pool)
{
	return pool != NULL ? pool->lent_peak : 0;
}

void
payload_pool_free(struct payload_pool *pool)
{
	if (pool == NULL)
		return;
	payload_pool_trim(pool);
	free(pool->spares);
	free(pool);
}

/* A buffer the stream no longer needs: kept in the pool if there is room. */
static void
release_image(struct payload_pool *pool, struct payload_image *img)
{
	/* never below zero: a count that wrapped would pause every stream */
	if (pool != NULL)
		pool->lent -= img->mapped < pool->lent ? img->mapped : pool->lent;
	if (pool != NULL && img->mapped > 0 && pool->n < pool->max &&
	    img->mapped <= POOL_MAX_MAPPING) {
		pool->spares[pool->n] = *img;
		pool->spares[pool->n++].size = 0;
		img->data = NULL;
		img->mapped = 0;
		return;
	}
	unmap_image(img);
}

void
payload_stream_free(struct payload_stream *ps)
{
	int i;

	if (ps == NULL)
		return;
	for (i = 0; i < ps->slots; i++)
		release_image(ps->pool, &ps->imgs[i]);
	free(ps->imgs);
	buf_free(&ps->text);
	free(ps);
}

static int
too_big(struct payload_stream *ps, size_t more, char *err, size_t errlen)
{
	if (more <= ps->max && ps->used <= ps->max - more)
		return 0;
	ps->over = 1;
	snprintf(err, errlen, "JSON document larger than %zu bytes", ps->max);
	return 1;
}

static int
put_text(struct payload_stream *ps, char c, char *err, size_t errlen)
{
	if (too_big(ps, 1, err, errlen))
		return -1;
	if (buf_append(&ps->text, &c, 1) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ps->used++;
	return 0;
}

/* A b64_json value starts: a slot for its image (reused if there is one). */
static int
begin_image(struct payload_stream *ps, char *err, size_t errlen)
{
	void *grown;

	if (ps->nimgs == ps->slots) {
		if ((grown = reallocarray(ps->imgs, ps->slots + 1,
		    sizeof(*ps->imgs))) == NULL)
			goto nomem;
		ps->imgs = grown;
		memset(&ps->imgs[ps->slots], 0, sizeof(*ps->imgs));
		ps->slots++;
	}
	/* a new slot, or one whose buffer was taken: a spare if there is one */
	if (ps->imgs[ps->nimgs].mapped == 0 && ps->pool != NULL &&
	    ps->pool->n > 0) {
		ps->imgs[ps->nimgs] = ps->pool->spares[--ps->pool->n];
		lend(ps->pool, ps->imgs[ps->nimgs].mapped);
	}
	ps->imgs[ps->nimgs].size = 0;
	b64_init(&ps->dec, B64_JSON_ESCAPES);
	ps->state = LX_B64;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* One character outside a b64_json value: kept, and the lexer advanced. */
static int
lex_char(struct payload_stream *ps, char c, char *err, size_t errlen)
{
	switch (ps->state) {
	case LX_AFTER_KEY:
		if (c == ':')
			ps->state = LX_AFTER_COLON;
		else if (!is_ws(c))
			ps->state = LX_OUT; /* the string "b64_json" was a value */
		break;
	case LX_AFTER_COLON:
		if (c == '"') {
			if (put_text(ps, c, err, errlen) == -1)
				return -1;
			return begin_image(ps, err, errlen);
		}
		if (!is_ws(c))
			ps->state = LX_OUT; /* not a string value: left alone */
		break;
	case LX_STR_ESC:
		ps->state = LX_STR;
		return put_text(ps, c, err, errlen);
	case LX_STR:
		if (c == '\\') {
			ps->state = LX_STR_ESC;
			ps->keypos = -1;
		} else if (c == '"') {
			ps->state = ps->keypos == B64_KEYLEN ? LX_AFTER_KEY :
			    LX_OUT;
		} else if (ps->keypos >= 0) {
			ps->keypos = ps->keypos < B64_KEYLEN &&
			    c == b64_key[ps->keypos] ? ps->keypos + 1 : -1;
		}
		return put_text(ps, c, err, errlen);
	default:
		break;
	}
	if (ps->state == LX_OUT && c == '"') {
		ps->state = LX_STR;
		ps->keypos = 0;
	}
	return put_text(ps, c, err, errlen);
}

/* Inside a b64_json value: decodes up to its closing quote or the end of
 * the input. Returns where lexing goes on, or NULL with err set. */
static const char *
feed_b64(struct payload_stream *ps, const char *s, const char *end, char *err,
    size_t errlen)
{
	struct payload_image *img = &ps->imgs[ps->nimgs];
	const char *q = memchr(s, '"', (size_t)(end - s));
	const char *stop = q ? q : end;
	size_t span = (size_t)(stop - s);
	long got;

	if (grow_image(ps->pool, img, img->size + b64_decoded_max(span)) == -1) {
		snprintf(err, errlen, "out of memory decoding an image");
		return NULL;
	}
	if ((got = b64_decode_update(&ps->dec, s, span,
	    img->data + img->size)) < 0 || (q != NULL && ps->dec.escape))
		goto bad;
	if (too_big(ps, (size_t)got, err, errlen))
		return NULL;
	img->size += (size_t)got;
	ps->used += (size_t)got;
	if (q == NULL)
		return end;
	if (b64_decode_final(&ps->dec) != 0)
		goto bad;
	ps->nimgs++;
	ps->state = LX_OUT;
	return put_text(ps, '"', err, errlen) == -1 ? NULL : q + 1;
bad:
	snprintf(err, errlen, "b64_json: invalid base64 at offset %zu",
	    ps->dec.consumed);
	return NULL;
}

int
payload_stream_feed(struct payload_stream *ps, const char *s, size_t n,
    char *err, size_t errlen)
{
	const char *end = s + n;

	while (s < end) {
		if (ps->state == LX_B64) {
			if ((s = feed_b64(ps, s, end, err, errlen)) == NULL)
				return ps->over ? PAYLOAD_TOO_BIG : -1;
			continue;
		}
		if (lex_char(ps, *s, err, errlen) == -1)
			return ps->over ? PAYLOAD_TOO_BIG : -1;
		s++;
	}
	return 0;
}

int
payload_stream_busy(const struct payload_stream *ps)
{
	return ps->state == LX_B64 || ps->nimgs > 0;
}

int
payload_stream_end(struct payload_stream *ps, char **text, size_t *text_len,
    const struct payload_image **imgs, char *err, size_t errlen)
{
	if (ps->state == LX_STR || ps->state == LX_STR_ESC ||
	    ps->state == LX_B64) {
		snprintf(err, errlen, "unterminated JSON string");
		return -1;
	}
	if (buf_reserve(&ps->text, 1) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ps->text.data[ps->text.len] = '\0';
	*text = (char *)ps->text.data;
	*text_len = ps->text.len;
	*imgs = ps->imgs;
	return ps->nimgs;
}

void
payload_stream_take(struct payload_stream *ps, int i, struct payload_image *out)
{
	*out = ps->imgs[i];
	ps->imgs[i].data = NULL;
	ps->imgs[i].size = ps->imgs[i].mapped = 0;
}

void
payload_pool_put(struct payload_pool *pool, struct payload_image *img)
{
	release_image(pool, img);
	img->size = 0;
}

int
payload_image_copy(struct payload_pool *pool, const void *data, size_t size,
    struct payload_image *out)
{
	memset(out, 0, sizeof(*out));
	if (pool != NULL && pool->n > 0) {
		*out = pool->spares[--pool->n];
		lend(pool, out->mapped);
	}
	if (grow_image(pool, out, size ? size : 1) == -1) {
		release_image(pool, out);
		return -1;
	}
	memcpy(out->data, data, size);
	out->size = size;
	return 0;
}

int
payload_extract(char *buf, size_t *len, struct payload_image **imgs, char *err,
    size_t errlen)
{
	struct payload_stream *ps;
	const struct payload_image *got;
	char *text;
	size_t tlen;
	int n = -1;

	*imgs = NULL;
	if ((ps = payload_stream_new(SIZE_MAX, NULL)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (payload_stream_feed(ps, buf, *len, err, errlen) == -1 ||
	    (n = payload_stream_end(ps, &text, &tlen, &got, err, errlen)) < 0)
		goto out;
	memcpy(buf, text, tlen + 1); /* never longer than the input */
	*len = tlen;
	/* every slot holds a complete image: hand them over */
	*imgs = ps->imgs;
	ps->imgs = NULL;
	ps->slots = 0;
out:
	payload_stream_free(ps);
	return n;
}

void
payload_free(struct payload_image *imgs, int n)
{
	int i;

	for (i = 0; i < n && imgs; i++)
		unmap_image(&imgs[i]);
	free(imgs);
}
