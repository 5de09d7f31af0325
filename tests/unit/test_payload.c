/* test_payload.c: the streaming b64_json extractor: images decoded and text
 * blanked at every split point, nesting, escapes, errors, buffer reuse. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"
#include "testutil.h"

struct expect {
	const char *doc;
	const char *text;	/* NULL: the document must be refused */
	int nimgs;
	const char *imgs[3];	/* decoded bytes, as C strings */
};

static const struct expect cases[] = {
	{ "{\"type\":\"image_edit.partial_image\",\"b64_json\":\"aGVsbG8=\","
	  "\"partial_image_index\":0}",
	  "{\"type\":\"image_edit.partial_image\",\"b64_json\":\"\","
	  "\"partial_image_index\":0}", 1, { "hello" } },
	{ "{\"created\":1,\"data\":[{\"b64_json\":\"YWJj\"},{\"b64_json\":"
	  "\"ZGVm\"},{\"url\":\"x\"}],\"usage\":{\"total_tokens\":3}}",
	  "{\"created\":1,\"data\":[{\"b64_json\":\"\"},{\"b64_json\":\"\"},"
	  "{\"url\":\"x\"}],\"usage\":{\"total_tokens\":3}}", 2, { "abc", "def" } },
	/* whitespace around the colon, JSON escapes inside the value */
	{ "{ \"b64_json\" :\t\"P\\/8\\n/\" }", "{ \"b64_json\" :\t\"\" }", 1,
	  { "?\xff?" } },
	/* the string "b64_json" as a value, and inside another string */
	{ "{\"a\":\"b64_json\",\"m\":\"say \\\"b64_json\\\"\",\"b64_json\":\"eHl6\"}",
	  "{\"a\":\"b64_json\",\"m\":\"say \\\"b64_json\\\"\",\"b64_json\":\"\"}",
	  1, { "xyz" } },
	/* a value that is not a string is left alone */
	{ "{\"b64_json\":null,\"b64_jsonx\":\"YQ==\"}",
	  "{\"b64_json\":null,\"b64_jsonx\":\"YQ==\"}", 0, { NULL } },
	{ "[DONE]", "[DONE]", 0, { NULL } },
	{ "", "", 0, { NULL } },
	/* refused: bad base64, truncated quantum, escaped quote, unterminated */
	{ "{\"b64_json\":\"aGV*bG8=\"}", NULL, 0, { NULL } },
	{ "{\"b64_json\":\"aGVsbG8\"}", "{\"b64_json\":\"\"}", 1, { "hello" } },
	{ "{\"b64_json\":\"aGVsb\"}", NULL, 0, { NULL } },
	{ "{\"b64_json\":\"aGVs\\\"bG8=\"}", NULL, 0, { NULL } },
	{ "{\"b64_json\":\"aGVsbG8=", NULL, 0, { NULL } },
	{ "{\"type\":\"image_edit.compl", NULL, 0, { NULL } },
};

/* Feeds doc in pieces cut at cut1 and cut2 and checks the outcome. */
static void
run_case(struct payload_stream *ps, const struct expect *c, size_t cut1,
    size_t cut2)
{
	const struct payload_image *imgs;
	size_t len = strlen(c->doc), tlen;
	char err[128], *text;
	int n = -1, i;

	payload_stream_reset(ps);
	if (payload_stream_feed(ps, c->doc, cut1, err, sizeof(err)) == 0 &&
	    payload_stream_feed(ps, c->doc + cut1, cut2 - cut1, err,
	    sizeof(err)) == 0 &&
	    payload_stream_feed(ps, c->doc + cut2, len - cut2, err,
	    sizeof(err)) == 0)
		n = payload_stream_end(ps, &text, &tlen, &imgs, err,
		    sizeof(err));
	if (c->text == NULL) {
		CHECK_INT(n, -1);
		CHECK(err[0] != '\0');
		return;
	}
	CHECK_INT(n, c->nimgs);
	if (n != c->nimgs)
		return;
	CHECK_STR(text, c->text);
	CHECK_INT(tlen, strlen(c->text));
	for (i = 0; i < n; i++) {
		CHECK_INT(imgs[i].size, strlen(c->imgs[i]));
		if (imgs[i].size == strlen(c->imgs[i]))
			CHECK_MEM(imgs[i].data, c->imgs[i], imgs[i].size);
	}
}

/* Every pair of split points, through one reused extractor. */
static void
test_splits(void)
{
	struct payload_stream *ps = payload_stream_new(1 << 20, NULL);
	size_t k, len, a, b;

	CHECK(ps != NULL);
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		len = strlen(cases[k].doc);
		for (a = 0; a <= len; a++)
			for (b = a; b <= len; b++)
				run_case(ps, &cases[k], a, b);
	}
	payload_stream_free(ps);
}

/* A megabyte image, byte by byte and in 4 KB pieces; the error offset. */
static void
test_big_and_offsets(void)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct payload_stream *ps = payload_stream_new(4 << 20, NULL);
	const struct payload_image *imgs;
	size_t nchars = 1 << 20, len, i, tlen, step;
	char *doc, err[128], *text;
	int n;

	doc = malloc(nchars + 64);
	CHECK(doc != NULL && ps != NULL);
	len = (size_t)sprintf(doc, "{\"b64_json\":\"");
	for (i = 0; i < nchars; i++)
		doc[len++] = alphabet[(i * 7) % 64];
	len += (size_t)sprintf(doc + len, "\"}");
	for (step = 1; step <= 4096; step *= 4096) {
		payload_stream_reset(ps);
		for (i = 0; i < len; i += step)
			CHECK_INT(payload_stream_feed(ps, doc + i, len - i < step ?
			    len - i : step, err, sizeof(err)), 0);
		n = payload_stream_end(ps, &text, &tlen, &imgs, err, sizeof(err));
		CHECK_INT(n, 1);
		CHECK_STR(text, "{\"b64_json\":\"\"}");
		CHECK_INT(imgs[0].size, nchars / 4 * 3);
		/* chars 0..3 are A, H, O, V: 000000 000111 001110 010101 */
		CHECK_INT(imgs[0].data[0], 0x00);
		CHECK_INT(imgs[0].data[1], 0x73);
		CHECK_INT(imgs[0].data[2], 0x95);
	}
	/* a bad character 1000 bytes into the value */
	doc[13 + 1000] = '*';
	payload_stream_reset(ps);
	CHECK_INT(payload_stream_feed(ps, doc, len, err, sizeof(err)), -1);
	CHECK(strstr(err, "offset 1000") != NULL);
	payload_stream_free(ps);
	/* the document bound */
	ps = payload_stream_new(100, NULL);
	doc[13 + 1000] = 'A';
	CHECK_INT(payload_stream_feed(ps, doc, len, err, sizeof(err)),
	    PAYLOAD_TOO_BIG);
	CHECK(strstr(err, "larger than 100 bytes") != NULL);
	payload_stream_free(ps);
	free(doc);
}

/* The one-shot form compacts the buffer in place and hands over images. */
static void
test_extract(void)
{
	char buf[] = "{\"data\":[{\"b64_json\":\"YWJj\"},{\"b64_json\":\"ZGVm\"}]}";
	char bad[] = "{\"b64_json\":\"YW*j\"}";
	struct payload_image *imgs;
	size_t len = strlen(buf);
	char err[128];
	int n;

	n = payload_extract(buf, &len, &imgs, err, sizeof(err));
	CHECK_INT(n, 2);
	CHECK_STR(buf, "{\"data\":[{\"b64_json\":\"\"},{\"b64_json\":\"\"}]}");
	CHECK_INT(len, strlen(buf));
	if (n == 2) {
		CHECK_MEM(imgs[0].data, "abc", 3);
		CHECK_MEM(imgs[1].data, "def", 3);
	}
	payload_free(imgs, n);
	len = strlen(bad);
	CHECK_INT(payload_extract(bad, &len, &imgs, err, sizeof(err)), -1);
	CHECK(imgs == NULL);
	CHECK(strstr(err, "invalid base64") != NULL);
}

/* Decodes doc through a new stream on pool; returns the first image's
 * buffer (valid until the stream is freed) in *data and the stream. */
static struct payload_stream *
decode_one(struct payload_pool *pool, const char *doc, const unsigned char **data,
    size_t *size)
{
	struct payload_stream *ps = payload_stream_new(1 << 20, pool);
	const struct payload_image *imgs;
	char err[128], *text;
	size_t tlen;

	*data = NULL;
	*size = 0;
	CHECK(ps != NULL);
	CHECK_INT(payload_stream_feed(ps, doc, strlen(doc), err, sizeof(err)), 0);
	if (payload_stream_end(ps, &text, &tlen, &imgs, err, sizeof(err)) == 1) {
		*data = imgs[0].data;
		*size = imgs[0].size;
	}
	return ps;
}

/* An image taken out of a stream outlives the next document, and goes
 * back to the pool when given back; the stream uses a spare meanwhile. */
static void
test_take(void)
{
	struct payload_pool *pool = payload_pool_new(2);
	struct payload_stream *ps = payload_stream_new(1 << 20, pool);
	const struct payload_image *imgs;
	struct payload_image kept, copy;
	char err[256], *text;
	size_t tlen;
	const char *doc1 = "{\"b64_json\":\"YWJj\"}", *doc2 = "{\"b64_json\":\"eHl6\"}";

	CHECK_INT(payload_stream_feed(ps, doc1, strlen(doc1), err, sizeof(err)), 0);
	CHECK_INT(payload_stream_end(ps, &text, &tlen, &imgs, err, sizeof(err)), 1);
	payload_stream_take(ps, 0, &kept);
	CHECK(kept.data != NULL && kept.size == 3 && memcmp(kept.data, "abc", 3) == 0);
	CHECK(imgs[0].data == NULL && imgs[0].mapped == 0);
	CHECK_INT(payload_image_copy(pool, "hello", 5, &copy), 0);
	CHECK(copy.size == 5 && memcmp(copy.data, "hello", 5) == 0);
	payload_pool_put(pool, &copy);
	CHECK(copy.data == NULL && copy.size == 0);
	CHECK_INT(payload_pool_count(pool), 1);
	payload_stream_reset(ps);
	CHECK_INT(payload_stream_feed(ps, doc2, strlen(doc2), err, sizeof(err)), 0);
	CHECK_INT(payload_pool_count(pool), 0); /* the new document took it */
	CHECK_INT(payload_stream_end(ps, &text, &tlen, &imgs, err, sizeof(err)), 1);
	CHECK(memcmp(imgs[0].data, "xyz", 3) == 0);
	CHECK(memcmp(kept.data, "abc", 3) == 0); /* untouched by doc2 */
	payload_pool_put(pool, &kept);
	CHECK_INT(payload_pool_count(pool), 1);
	payload_stream_free(ps);
	payload_pool_free(pool);
}

/* What --memory-max counts: a buffer is lent from its first decoded byte
 * until it is put back; a taken image stays lent after its stream moves
 * on; an image nobody took goes back at the reset; busy while a document
 * holds an image. */
static void
test_lent(void)
{
	struct payload_pool *pool = payload_pool_new(4);
	struct payload_stream *ps = payload_stream_new(1 << 20, pool);
	const struct payload_image *imgs;
	struct payload_image kept;
	char err[256], *text;
	size_t tlen, cap;
	const char *head = "{\"type\":\"x\",\"b64_json\":\"YW", *tail = "Jj\"}";

	CHECK_INT(payload_pool_lent(pool), 0);
	CHECK_INT(payload_stream_feed(ps, head, 13, err, sizeof(err)), 0);
	CHECK_INT(payload_stream_busy(ps), 0);    /* no image begun yet */
	CHECK_INT(payload_pool_lent(pool), 0);
	CHECK_INT(payload_stream_feed(ps, head + 13, strlen(head) - 13, err,
	    sizeof(err)), 0);
	CHECK_INT(payload_stream_busy(ps), 1);
	cap = payload_pool_lent(pool);
	CHECK(cap >= 3);
	CHECK_INT(payload_stream_feed(ps, tail, strlen(tail), err, sizeof(err)), 0);
	CHECK_INT(payload_stream_busy(ps), 1);    /* decoded, not yet ended */
	CHECK_INT(payload_stream_end(ps, &text, &tlen, &imgs, err, sizeof(err)), 1);
	payload_stream_take(ps, 0, &kept);
	payload_stream_reset(ps);
	CHECK_INT(payload_stream_busy(ps), 0);
	CHECK_INT(payload_pool_lent(pool), cap);  /* kept waits for the store */
	/* a second document, ended but not taken: back to the pool at reset */
	CHECK_INT(payload_stream_feed(ps, "{\"b64_json\":\"eHl6\"}", 19, err,
	    sizeof(err)), 0);
	CHECK_INT(payload_pool_lent(pool), 2 * cap);
	CHECK_INT(payload_stream_end(ps, &text, &tlen, &imgs, err, sizeof(err)), 1);
	payload_stream_reset(ps);
	CHECK_INT(payload_pool_lent(pool), cap);
	CHECK_INT(payload_pool_count(pool), 1);
	payload_pool_put(pool, &kept);
	CHECK_INT(payload_pool_lent(pool), 0);
	CHECK_INT(payload_pool_count(pool), 2);
	CHECK_INT(payload_pool_lent_peak(pool), 2 * cap);
	/* a copy from a spare is lent as well */
	CHECK_INT(payload_image_copy(pool, "hello", 5, &kept), 0);
	CHECK_INT(payload_pool_lent(pool), cap);
	payload_pool_put(pool, &kept);
	CHECK_INT(payload_pool_lent(pool), 0);
	/* a buffer of payload_extract's, adopted, then given back */
	{
		struct payload_image *ex;
		char doc[] = "{\"data\":[{\"b64_json\":\"YWJj\"}]}";
		size_t dlen = strlen(doc);

		CHECK_INT(payload_extract(doc, &dlen, &ex, err, sizeof(err)), 1);
		CHECK_INT(payload_pool_lent(pool), 0);
		payload_pool_adopt(pool, &ex[0]);
		CHECK(payload_pool_lent(pool) > 0);
		kept = ex[0];
		memset(&ex[0], 0, sizeof(ex[0]));
		payload_pool_put(pool, &kept);
		CHECK_INT(payload_pool_lent(pool), 0);
		payload_free(ex, 1);
	}
	payload_stream_free(ps);
	payload_pool_free(pool);
	CHECK_INT(payload_pool_lent(NULL), 0);
}

/* Buffers go back to the pool when a stream is freed (as many as it holds),
 * the next stream decodes into them, trim empties it. */
static void
test_pool(void)
{
	struct payload_pool *pool = payload_pool_new(1);
	struct payload_stream *a, *b, *c;
	const unsigned char *da, *db, *dc;
	size_t na, nb, nc;

	CHECK(pool != NULL);
	CHECK_INT(payload_pool_count(pool), 0);
	a = decode_one(pool, "{\"b64_json\":\"YWJj\"}", &da, &na);
	b = decode_one(pool, "{\"b64_json\":\"eHl6\"}", &db, &nb);
	CHECK(da != NULL && db != NULL && da != db);
	payload_stream_free(a);
	payload_stream_free(b);
	CHECK_INT(payload_pool_count(pool), 1); /* room for one: b's unmapped */
	c = decode_one(pool, "{\"b64_json\":\"ZGVmZ2hp\"}", &dc, &nc);
	CHECK_INT(payload_pool_count(pool), 0);
	CHECK(dc == da);                        /* a's buffer, reused */
	CHECK_INT(nc, 6);
	CHECK_MEM(dc, "defghi", 6);
	payload_stream_free(c);
	CHECK_INT(payload_pool_count(pool), 1);
	payload_pool_trim(pool);
	CHECK_INT(payload_pool_count(pool), 0);
	c = decode_one(pool, "{\"b64_json\":\"YWJj\"}", &dc, &nc);
	CHECK_INT(nc, 3);
	CHECK_MEM(dc, "abc", 3);
	payload_stream_free(c);
	payload_pool_free(pool); /* with a spare in it: ASan sees no leak */
	test_take();
	CHECK_INT(payload_pool_count(NULL), 0);
	payload_pool_trim(NULL);
}

int
main(void)
{
	test_splits();
	test_big_and_offsets();
	test_extract();
	test_pool();
	test_lent();
	return tu_finish("test_payload");
}
