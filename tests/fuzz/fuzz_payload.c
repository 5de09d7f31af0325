/* fuzz_payload.c: the streaming b64_json lexer in random chunkings, against
 * payload_extract, against itself reused and bounded, and its decoded images
 * byte for byte against ref_b64.c for documents {"b64_json":"..."}. */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "payload.h"
#include "ref_b64.h"
#include "util.h"

/* What a document came to: the blanked text and the images, each image
 * length-first. rc: the number of images, -1 or PAYLOAD_TOO_BIG. */
struct res {
	int		 rc;
	struct buf	 text, imgs;
	size_t		 used;		/* text plus decoded bytes */
};

static void
put_img(struct res *r, const void *p, size_t n)
{
	if (buf_append(&r->imgs, &n, sizeof(n)) == -1 ||
	    (n > 0 && buf_append(&r->imgs, p, n) == -1))
		abort();
	r->used += n;
}

static void
put_text(struct res *r, const char *text, size_t tlen, size_t doclen)
{
	FZ_ASSERT(text[tlen] == '\0' && tlen <= doclen);
	if (buf_append(&r->text, text, tlen) == -1)
		abort();
	r->used += tlen;
}

/* err must hold a NUL-terminated reason after a failure. */
static void
check_err(const char *err, size_t errlen)
{
	FZ_ASSERT(memchr(err, '\0', errlen) != NULL && err[0] != '\0');
}

static void
run_stream(struct payload_stream *ps, const char *doc, size_t len,
    unsigned seed, struct res *r)
{
	const struct payload_image *imgs;
	struct fz_chunks ch;
	char err[96], *text;
	size_t off = 0, k, tlen;
	int i;

	memset(r, 0, sizeof(*r));
	memset(err, 'Z', sizeof(err));
	fz_chunks_init(&ch, seed);
	while (off < len) {
		k = fz_chunk(&ch, len - off);
		if ((r->rc = payload_stream_feed(ps, doc + off, k, err,
		    sizeof(err))) != 0) {
			FZ_ASSERT(r->rc == -1 || r->rc == PAYLOAD_TOO_BIG);
			check_err(err, sizeof(err));
			return;
		}
		off += k;
	}
	if ((r->rc = payload_stream_end(ps, &text, &tlen, &imgs, err,
	    sizeof(err))) < 0) {
		FZ_ASSERT(r->rc == -1);
		check_err(err, sizeof(err));
		return;
	}
	put_text(r, text, tlen, len);
	for (i = 0; i < r->rc; i++)
		put_img(r, imgs[i].data, imgs[i].size);
}

static void
run_extract(const char *doc, size_t len, struct res *r)
{
	struct payload_image *imgs;
	char err[96], *copy;
	size_t n = len;
	int i;

	memset(r, 0, sizeof(*r));
	memset(err, 'Z', sizeof(err));
	/* the caller leaves room for the NUL (upstream.c does) */
	if ((copy = malloc(len + 1)) == NULL)
		abort();
	memcpy(copy, doc, len);
	if ((r->rc = payload_extract(copy, &n, &imgs, err, sizeof(err))) < 0) {
		FZ_ASSERT(r->rc == -1 && imgs == NULL);
		check_err(err, sizeof(err));
	} else {
		put_text(r, copy, n, len);
		for (i = 0; i < r->rc; i++)
			put_img(r, imgs[i].data, imgs[i].size);
		payload_free(imgs, r->rc);
	}
	free(copy);
}

static int
buf_eq(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->data, b->data, a->len) == 0);
}

static int
res_eq(const struct res *a, const struct res *b)
{
	if (a->rc < 0 || b->rc < 0)
		return a->rc < 0 && b->rc < 0;
	return a->rc == b->rc && buf_eq(&a->text, &b->text) &&
	    buf_eq(&a->imgs, &b->imgs);
}

static void
res_free(struct res *r)
{
	buf_free(&r->text);
	buf_free(&r->imgs);
}

/* {"b64_json":"<value>"}: one image, exactly what the reference decodes,
 * or a refusal where the reference refuses. */
static void
differential(const char *val, size_t vlen, unsigned seed)
{
	static const char head[] = "{\"b64_json\":\"", tail[] = "\"}";
	struct payload_stream *ps;
	struct buf doc = { 0 };
	struct res want = { 0 }, got;
	unsigned char *ref;
	size_t bad;
	long n;

	if ((ref = malloc(vlen / 4 * 3 + 3)) == NULL)
		abort();
	if (buf_append(&doc, head, sizeof(head) - 1) == -1 ||
	    buf_append(&doc, val, vlen) == -1 ||
	    buf_append(&doc, tail, sizeof(tail) - 1) == -1)
		abort();
	if ((n = ref_b64_decode((const unsigned char *)val, vlen, 1, ref,
	    &bad)) < 0)
		want.rc = -1;
	else {
		want.rc = 1;
		put_text(&want, "{\"b64_json\":\"\"}", 15, doc.len);
		put_img(&want, ref, (size_t)n);
	}
	if ((ps = payload_stream_new(SIZE_MAX, NULL)) == NULL)
		abort();
	run_stream(ps, (char *)doc.data, doc.len, seed, &got);
	FZ_ASSERT(res_eq(&got, &want));
	res_free(&got);
	payload_stream_free(ps);
	run_extract((char *)doc.data, doc.len, &got);
	FZ_ASSERT(res_eq(&got, &want));
	res_free(&got);
	res_free(&want);
	buf_free(&doc);
	free(ref);
}

/* Any document: chunked = whole = payload_extract = a reused stream, and
 * a bounded stream refuses exactly the documents past its bound. */
static void
general(const char *doc, size_t len, unsigned seed, size_t max, int spares)
{
	struct payload_pool *pool;
	struct payload_stream *ps, *small;
	struct payload_image img;
	struct res a, b;

	if ((pool = payload_pool_new(spares)) == NULL ||
	    (ps = payload_stream_new(SIZE_MAX, pool)) == NULL ||
	    (small = payload_stream_new(max, pool)) == NULL)
		abort();
	run_stream(ps, doc, len, seed, &a);
	FZ_ASSERT(a.rc != PAYLOAD_TOO_BIG);
	run_extract(doc, len, &b);
	FZ_ASSERT(res_eq(&a, &b));
	res_free(&b);
	if (a.rc > 0) {		/* a buffer out to the pool and back */
		payload_stream_take(ps, 0, &img);
		payload_pool_put(pool, &img);
		FZ_ASSERT(img.size == 0);
	}
	payload_stream_reset(ps);
	run_stream(ps, doc, len, 0, &b);
	FZ_ASSERT(res_eq(&a, &b));
	res_free(&b);
	run_stream(small, doc, len, seed >> 3, &b);
	if (a.rc < 0)
		FZ_ASSERT(b.rc < 0);
	else if (a.used > max)
		FZ_ASSERT(b.rc == PAYLOAD_TOO_BIG);
	else
		FZ_ASSERT(res_eq(&a, &b));
	res_free(&a);
	res_free(&b);
	if (payload_image_copy(pool, doc, len, &img) == 0) {
		FZ_ASSERT(img.size == len &&
		    (len == 0 || memcmp(img.data, doc, len) == 0));
		payload_pool_put(pool, &img);
	}
	payload_stream_free(small);
	payload_stream_free(ps);
	FZ_ASSERT(payload_pool_count(pool) <= spares);
	payload_pool_free(pool);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	unsigned mode = fz_byte(&f), seed = fz_byte(&f), max = fz_u16(&f);
	const char *s = (const char *)f.p, *q;

	if (mode & 1) {
		q = memchr(s, '"', f.n);
		differential(s, q ? (size_t)(q - s) : f.n, seed);
	} else
		general(s, f.n, seed, max, (int)(mode >> 1) % 4);
	return 0;
}
