/* test_jobspec.c: jobspec_validate / jobspec_model / jobspec_n against the
 * rules of SPEC §1, table-driven, with test images built in memory. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <png.h>

#include "jobspec.h"
#include "testpng.h"
#include "testutil.h"

#define MIB ((size_t)1024 * 1024)

/* ---- test images ---- */

/* A w x h 8-bit PNG of colour type ctype; caller frees. */
static unsigned char *
make_png(uint32_t w, uint32_t h, int ctype, int trns, size_t *len)
{
	struct membuf b = testpng_make(w, h, ctype, 8, trns);

	*len = b.len;
	return b.p;
}

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

/* Grows a PNG to exactly total bytes with a private ancillary chunk before
 * IEND (CRC left zero: only the chunk lengths are walked). */
static unsigned char *
pad_png(unsigned char *png, size_t len, size_t total)
{
	unsigned char *out = calloc(1, total);
	size_t body = len - 12, clen = total - len - 12;

	if (out == NULL || total < len + 12)
		abort();
	memcpy(out, png, body);
	put_be32(out + body, (uint32_t)clen);
	memcpy(out + body + 4, "zzZz", 4);
	memcpy(out + total - 12, png + body, 12);
	free(png);
	return out;
}

/* SOI + SOF0 (3 components) and EOI, padded with zeros to total bytes. */
static unsigned char *
make_jpeg(uint32_t w, uint32_t h, size_t total, size_t *len)
{
	static const unsigned char sof[] = { 0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0, 0, 0, 0,
	    3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xff, 0xd9 };
	unsigned char *p;

	if (total < sizeof(sof))
		total = sizeof(sof);
	if ((p = calloc(1, total)) == NULL)
		abort();
	memcpy(p, sof, sizeof(sof));
	p[7] = h >> 8, p[8] = h, p[9] = w >> 8, p[10] = w;
	*len = total;
	return p;
}

/* RIFF/WEBP with a VP8X chunk (alpha flag) and an empty VP8L chunk. */
static unsigned char *
make_webp(uint32_t w, uint32_t h, size_t *len)
{
	unsigned char *p = calloc(1, 38);

	if (p == NULL)
		abort();
	memcpy(p, "RIFF\x1e\0\0\0WEBPVP8X\x0a\0\0\0", 20);
	p[20] = 0x10;
	p[24] = (w - 1), p[25] = (w - 1) >> 8, p[26] = (w - 1) >> 16;
	p[27] = (h - 1), p[28] = (h - 1) >> 8, p[29] = (h - 1) >> 16;
	memcpy(p + 30, "VP8L\0\0\0\0", 8);
	*len = 38;
	return p;
}

/* ---- named inputs ---- */

struct named_input {
	const char		*key;
	struct jobspec_input	 in;
};

static struct named_input named[64];
static size_t nnamed;

static void
add_named(const char *key, enum input_role role, const char *filename,
    const char *ctype, unsigned char *data, size_t size)
{
	struct named_input *n = &named[nnamed++];

	n->key = key;
	n->in.role = role;
	n->in.filename = filename;
	n->in.data = data;
	n->in.size = size;
	n->in.content_type = ctype;
}

static void
build_inputs(void)
{
	size_t len;
	unsigned char *p;

	p = make_png(256, 256, PNG_COLOR_TYPE_RGBA, 0, &len);
	add_named("P", INPUT_IMAGE, "a.png", NULL, p, len);
	add_named("Pdecl", INPUT_IMAGE, "a.png", "image/png", p, len);
	add_named("Pasjpeg", INPUT_IMAGE, "a.png", "image/jpeg", p, len);
	add_named("Pasgif", INPUT_IMAGE, "a.png", "image/gif", p, len);
	add_named("Pnoname", INPUT_IMAGE, NULL, NULL, p, len);
	add_named("M", INPUT_MASK, "m.png", NULL, p, len);
	add_named("Mdecl", INPUT_MASK, "m.png", "image/png", p, len);
	add_named("Masjpeg", INPUT_MASK, "m.png", "image/jpeg", p, len);
	add_named("K", INPUT_MARKUP, "k.png", NULL, p, len);
	p = make_png(256, 256, PNG_COLOR_TYPE_RGB, 0, &len);
	add_named("Prgb", INPUT_IMAGE, "rgb.png", NULL, p, len);
	add_named("Mrgb", INPUT_MASK, "m.png", NULL, p, len);
	add_named("Krgb", INPUT_MARKUP, "k.png", NULL, p, len);
	p = make_png(256, 256, PNG_COLOR_TYPE_PALETTE, 1, &len);
	add_named("Mpal", INPUT_MASK, "m.png", NULL, p, len);
	p = make_png(256, 256, PNG_COLOR_TYPE_GRAY_ALPHA, 0, &len);
	add_named("Mga", INPUT_MASK, "m.png", NULL, p, len);
	p = make_png(512, 256, PNG_COLOR_TYPE_RGBA, 0, &len);
	add_named("Pwide", INPUT_IMAGE, "wide.png", NULL, p, len);
	add_named("Mwide", INPUT_MASK, "m.png", NULL, p, len);
	p = make_png(256, 512, PNG_COLOR_TYPE_RGBA, 0, &len);
	add_named("Ptall", INPUT_IMAGE, "tall.png", NULL, p, len);
	add_named("Mtall", INPUT_MASK, "m.png", NULL, p, len);
	p = make_png(512, 512, PNG_COLOR_TYPE_RGBA, 0, &len);
	add_named("P512", INPUT_IMAGE, "b.png", NULL, p, len);
	add_named("M512", INPUT_MASK, "m.png", NULL, p, len);
	add_named("K512", INPUT_MARKUP, "k.png", NULL, p, len);
	p = make_jpeg(256, 256, 0, &len);
	add_named("J", INPUT_IMAGE, "a.jpg", NULL, p, len);
	add_named("Jdecl", INPUT_IMAGE, "a.jpg", "image/jpeg", p, len);
	add_named("Jaspng", INPUT_IMAGE, "a.jpg", "image/png", p, len);
	add_named("Mjpg", INPUT_MASK, "m.jpg", NULL, p, len);
	add_named("Kjpg", INPUT_MARKUP, "k.jpg", NULL, p, len);
	p = make_webp(256, 256, &len);
	add_named("W", INPUT_IMAGE, "a.webp", NULL, p, len);
	add_named("Wdecl", INPUT_IMAGE, "a.webp", "image/webp", p, len);
	add_named("Mwebp", INPUT_MASK, "m.webp", NULL, p, len);
	p = (unsigned char *)strdup("this is not an image at all");
	add_named("X", INPUT_IMAGE, "x.png", NULL, p, strlen((char *)p));
	add_named("Mx", INPUT_MASK, "m.png", NULL, p, strlen((char *)p));
	add_named("Xnoname", INPUT_IMAGE, "", NULL, p, strlen((char *)p));
	add_named("Empty", INPUT_IMAGE, "e.png", NULL, p, 0);
	p = make_png(256, 256, PNG_COLOR_TYPE_RGBA, 0, &len);
	p = pad_png(p, len, 4 * MIB - 1);
	add_named("P4m-", INPUT_IMAGE, "big.png", NULL, p, 4 * MIB - 1);
	add_named("M4m-", INPUT_MASK, "bigm.png", NULL, p, 4 * MIB - 1);
	p = make_png(256, 256, PNG_COLOR_TYPE_RGBA, 0, &len);
	p = pad_png(p, len, 4 * MIB);
	add_named("P4m", INPUT_IMAGE, "big.png", NULL, p, 4 * MIB);
	add_named("M4m", INPUT_MASK, "bigm.png", NULL, p, 4 * MIB);
	p = make_jpeg(256, 256, 50 * MIB - 1, &len);
	add_named("J50m-", INPUT_IMAGE, "big.jpg", NULL, p, len);
	p = make_jpeg(256, 256, 50 * MIB, &len);
	add_named("J50m", INPUT_IMAGE, "big.jpg", NULL, p, len);
}

static void
free_inputs(void)
{
	size_t i, j;

	for (i = 0; i < nnamed; i++) {
		for (j = 0; j < i; j++)
			if (named[j].in.data == named[i].in.data)
				break;
		if (j == i)
			free((void *)named[i].in.data);
	}
}

static const struct jobspec_input *
find_input(const char *key, size_t n)
{
	size_t i;

	for (i = 0; i < nnamed; i++)
		if (strlen(named[i].key) == n && strncmp(named[i].key, key, n) == 0)
			return &named[i].in;
	fprintf(stderr, "test bug: no input '%.*s'\n", (int)n, key);
	abort();
}

/* "P,P*3,M" -> inputs; returns how many. */
static size_t
parse_inputs(const char *spec, struct jobspec_input *out, size_t max)
{
	size_t n = 0, len, rep, k;
	const char *star;

	while (spec != NULL && *spec != '\0') {
		len = strcspn(spec, ",");
		star = memchr(spec, '*', len);
		rep = star ? strtoul(star + 1, NULL, 10) : 1;
		for (k = 0; k < rep && n < max; k++)
			out[n++] = *find_input(spec, star ? (size_t)(star - spec) : len);
		spec += len + (spec[len] == ',');
	}
	return n;
}

/* ---- the case runner ---- */

struct tcase {
	const char	*params;	/* JSON text */
	int		 stream;
	const char	*inputs;
	const char	*want;		/* NULL: accepted; else the error's start */
};

static int
run_one(const char *where, json_t *params, int stream, const char *inputs,
    const char *want)
{
	struct jobspec_input in[40];
	size_t n = parse_inputs(inputs, in, 40);
	char err[512], *text;
	int rc, ok;

	memset(err, 'Z', sizeof(err));
	rc = jobspec_validate(params, stream, in, n, err, sizeof(err));
	if (want == NULL)
		ok = rc == 0 && err[0] == '\0';
	else
		ok = rc == -1 && strncmp(err, want, strlen(want)) == 0;
	tu_checked++;
	if (!ok) {
		tu_failed++;
		text = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
		fprintf(stderr, "%s: validate(%.200s) stream=%d inputs=%s -> %d \"%.300s\", "
		    "expected %s\n", where, text ? text : "?", stream, inputs, rc,
		    rc == 0 ? "" : err, want ? want : "success");
		free(text);
	}
	return rc;
}

static void
run_case(const struct tcase *t, size_t i)
{
	json_error_t jerr;
	json_t *params = json_loads(t->params, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	char where[32];

	snprintf(where, sizeof(where), "case %zu", i);
	if (params == NULL) {
		fprintf(stderr, "%s: test bug: bad JSON %s: %s\n", where, t->params, jerr.text);
		tu_failed++;
		return;
	}
	run_one(where, params, t->stream, t->inputs, t->want);
	json_decref(params);
}

#define D2 "\"model\":\"dall-e-2\",\"prompt\":\"p\""
#define G1 "\"model\":\"gpt-image-1\",\"prompt\":\"p\""
#define GX "\"model\":\"gpt-image-9\",\"prompt\":\"p\""

static const struct tcase cases[] = {
	/* params shape and prompt */
	{ "[]", 0, "P", "params: " },
	{ "\"x\"", 0, "P", "params: " },
	{ "null", 0, "P", "params: " },
	{ "{}", 0, "P", "prompt: required" },
	{ "{\"prompt\":null}", 0, "P", "prompt: required" },
	{ "{\"prompt\":\"\"}", 0, "P", "prompt: " },
	{ "{\"prompt\":5}", 0, "P", "prompt: must be a string" },
	{ "{\"prompt\":[\"a\"]}", 0, "P", "prompt: " },
	{ "{\"prompt\":\"x\"}", 0, "P", NULL },
	{ "{" D2 "}", 0, "P", NULL },
	{ "{" G1 "}", 0, "P", NULL },
	{ "{" GX "}", 0, "P", NULL },
	{ "{\"model\":\"gpt-image-1\",\"prompt\":\"\"}", 0, "P", "prompt: " },
	{ "{\"model\":\"gpt-image-9\",\"prompt\":\"\"}", 0, "P", "prompt: " },
	{ "{\"model\":\"gpt-image-9\",\"prompt\":7}", 0, "P", "prompt: " },
	{ "{\"model\":\"gpt-image-9\"}", 0, "P", "prompt: " },
	/* model field */
	{ "{\"model\":5,\"prompt\":\"p\"}", 0, "P", "model: " },
	{ "{\"model\":\"\",\"prompt\":\"p\"}", 0, "P", "model: " },
	{ "{\"model\":true,\"prompt\":\"p\"}", 0, "P", "model: " },
	{ "{\"model\":null,\"prompt\":\"p\"}", 0, "P", NULL },
	{ "{\"model\":\"\\u0000x\",\"prompt\":\"p\"}", 0, "P", "model: contains a NUL" },
	{ "{\"model\":\"gpt-image-2\\u0000\",\"prompt\":\"p\"}", 0, "P", "model: contains a NUL" },
	/* images: count */
	{ "{" D2 "}", 0, "", "image: " },
	{ "{" G1 "}", 0, "", "image: " },
	{ "{" GX "}", 0, "", "image: " },
	{ "{" D2 "}", 0, "M", "image: " },
	{ "{" G1 "}", 0, "M", "image: " },
	{ "{" D2 "}", 0, "P,P", "image: dall-e-2 accepts exactly 1 image, got 2" },
	{ "{" G1 "}", 0, "P,P", NULL },
	{ "{" G1 "}", 0, "P*16", NULL },
	{ "{" G1 "}", 0, "P*16,M", NULL },
	{ "{" G1 "}", 0, "P*17", "image: gpt-image-1 accepts at most 16 images, got 17" },
	{ "{" GX "}", 0, "P*17", NULL },
	{ "{" GX "}", 0, "P*30", NULL },
	{ "{\"prompt\":\"p\"}", 0, "P,P", NULL },
	/* images: formats */
	{ "{" D2 "}", 0, "J", "image: a.jpg: dall-e-2 accepts only PNG images" },
	{ "{" D2 "}", 0, "W", "image: a.webp: dall-e-2 accepts only PNG images" },
	{ "{" D2 "}", 0, "Prgb", NULL },
	{ "{" G1 "}", 0, "J", NULL },
	{ "{" G1 "}", 0, "W", NULL },
	{ "{" G1 "}", 0, "P,J,W", NULL },
	{ "{" GX "}", 0, "P,J,W", NULL },
	{ "{\"prompt\":\"p\"}", 0, "J", NULL },
	{ "{" D2 "}", 0, "X", "image: x.png: " },
	{ "{" G1 "}", 0, "X", "image: x.png: " },
	{ "{" GX "}", 0, "X", "image: x.png: " },
	{ "{" G1 "}", 0, "P,X", "image: x.png: " },
	{ "{" GX "}", 0, "Empty", "image: e.png: " },
	{ "{" D2 "}", 0, "Empty", "image: e.png: " },
	{ "{" D2 "}", 0, "Pnoname", NULL },
	{ "{" G1 "}", 0, "J,X", "image: x.png: " },
	{ "{" G1 "}", 0, "J,Xnoname", "image: (input 2): " },
	/* images: square (dall-e-2 only) */
	{ "{" D2 "}", 0, "Pwide", "image: wide.png: dall-e-2 needs a square image" },
	{ "{" G1 "}", 0, "Pwide", NULL },
	{ "{" GX "}", 0, "Pwide", NULL },
	{ "{" D2 "}", 0, "P512", NULL },
	/* images: size limits */
	{ "{" D2 "}", 0, "P4m-", NULL },
	{ "{" D2 "}", 0, "P4m", "image: big.png: " },
	{ "{" G1 "}", 0, "P4m", NULL },
	{ "{" G1 "}", 0, "J50m-", NULL },
	{ "{" G1 "}", 0, "J50m", "image: big.jpg: " },
	{ "{" GX "}", 0, "J50m-", NULL },
	{ "{" GX "}", 0, "J50m", "image: big.jpg: " },
	{ "{" G1 "}", 0, "P,J50m", "image: big.jpg: " },
	/* images: declared content type */
	{ "{" D2 "}", 0, "Pdecl", NULL },
	{ "{" G1 "}", 0, "Jdecl", NULL },
	{ "{" G1 "}", 0, "Wdecl", NULL },
	{ "{" G1 "}", 0, "Jaspng", "image: a.jpg: declared image/png but the bytes are" },
	{ "{" D2 "}", 0, "Jaspng", "image: a.jpg: " },
	{ "{" G1 "}", 0, "Pasjpeg", "image: a.png: declared image/jpeg" },
	{ "{" GX "}", 0, "Pasjpeg", "image: a.png: declared image/jpeg" },
	{ "{" G1 "}", 0, "Pasgif", "image: a.png: declared image/gif but the bytes are a PNG" },
	/* mask */
	{ "{" D2 "}", 0, "P,M", NULL },
	{ "{" G1 "}", 0, "P,M", NULL },
	{ "{" G1 "}", 0, "J,M", NULL },
	{ "{" G1 "}", 0, "M,J", NULL },
	{ "{" D2 "}", 0, "P,Mdecl", NULL },
	{ "{" D2 "}", 0, "P,Masjpeg", "mask: m.png: declared image/jpeg" },
	{ "{" D2 "}", 0, "P,Mpal", NULL },
	{ "{" D2 "}", 0, "P,Mga", NULL },
	{ "{" D2 "}", 0, "P,Mrgb", "mask: m.png: must have an alpha channel" },
	{ "{" G1 "}", 0, "P,Mrgb", "mask: m.png: must have an alpha channel" },
	{ "{" D2 "}", 0, "P,Mjpg", "mask: m.jpg: must be a PNG" },
	{ "{" G1 "}", 0, "P,Mjpg", "mask: m.jpg: must be a PNG" },
	{ "{" G1 "}", 0, "P,Mwebp", "mask: m.webp: must be a PNG" },
	{ "{" D2 "}", 0, "P,M512", "mask: m.png: 512x512, must match the first image's 256x256" },
	{ "{" G1 "}", 0, "P,M512", "mask: m.png: " },
	{ "{" G1 "}", 0, "P512,M512", NULL },
	{ "{" G1 "}", 0, "P512,P,M512", NULL },
	{ "{" G1 "}", 0, "P,P512,M512", "mask: m.png: " },
	{ "{" G1 "}", 0, "Pwide,Mwide", NULL },
	{ "{" G1 "}", 0, "Ptall,Mtall", NULL },
	{ "{" G1 "}", 0, "P,Mwide", "mask: m.png: 512x256, must match the first image's 256x256" },
	{ "{" G1 "}", 0, "P,Mtall", "mask: m.png: 256x512, must match" },
	{ "{" G1 "}", 0, "Pwide,Mtall", "mask: m.png: " },
	{ "{" G1 "}", 0, "Ptall,Mwide", "mask: m.png: " },
	{ "{" D2 "}", 0, "Ptall", "image: tall.png: dall-e-2 needs a square image, got 256x512" },
	{ "{" D2 "}", 0, "P,Mx", "mask: m.png: " },
	{ "{" G1 "}", 0, "P,M,M", "mask: " },
	{ "{" D2 "}", 0, "P,M4m-", NULL },
	{ "{" G1 "}", 0, "P,M4m", "mask: bigm.png: " },
	{ "{" D2 "}", 0, "P,M4m", "mask: bigm.png: " },
	{ "{" GX "}", 0, "P,Mrgb", NULL },
	{ "{" GX "}", 0, "P,Mjpg", NULL },
	{ "{" GX "}", 0, "P,M512", NULL },
	{ "{" GX "}", 0, "P,Mx", "mask: m.png: " },
	/* n */
	{ "{" D2 ",\"n\":1}", 0, "P", NULL },
	{ "{" D2 ",\"n\":10}", 0, "P", NULL },
	{ "{" D2 ",\"n\":0}", 0, "P", "n: must be an integer between 1 and 10, got 0" },
	{ "{" D2 ",\"n\":11}", 0, "P", "n: must be an integer between 1 and 10, got 11" },
	{ "{" G1 ",\"n\":11}", 0, "P", "n: must be an integer between 1 and 10, got 11" },
	{ "{" GX ",\"n\":11}", 0, "P", "n: " },
	{ "{" GX ",\"n\":10}", 0, "P", NULL },
	{ "{" G1 ",\"n\":-1}", 0, "P", "n: " },
	{ "{" G1 ",\"n\":\"3\"}", 0, "P", NULL },
	{ "{" G1 ",\"n\":\"10\"}", 0, "P", NULL },
	{ "{" G1 ",\"n\":\"11\"}", 0, "P", "n: " },
	{ "{" G1 ",\"n\":\"0\"}", 0, "P", "n: " },
	{ "{" G1 ",\"n\":\"3.0\"}", 0, "P", "n: " },
	{ "{" G1 ",\"n\":\" 3\"}", 0, "P", "n: " },
	{ "{" G1 ",\"n\":\"\"}", 0, "P", "n: " },
	{ "{" G1 ",\"n\":\"three\"}", 0, "P", "n: " },
	{ "{" G1 ",\"n\":\"99999999999999999999999\"}", 0, "P", "n: " },
	{ "{" G1 ",\"n\":2.5}", 0, "P", "n: " },
	{ "{" G1 ",\"n\":2.0}", 0, "P", "n: " },
	{ "{" G1 ",\"n\":true}", 0, "P", "n: " },
	{ "{" G1 ",\"n\":[1]}", 0, "P", "n: " },
	{ "{" GX ",\"n\":\"x\"}", 0, "P", "n: " },
	{ "{" G1 ",\"n\":null}", 0, "P", NULL },
	/* size */
	{ "{" D2 ",\"size\":\"256x256\"}", 0, "P", NULL },
	{ "{" D2 ",\"size\":\"2048x2048\"}", 0, "P",
	  "size: '2048x2048' is not one of 256x256, 512x512, 1024x1024 for dall-e-2" },
	{ "{" G1 ",\"size\":\"2048x2048\"}", 0, "P",
	  "size: '2048x2048' is not one of 1024x1024, 1536x1024, 1024x1536, auto for gpt-image-1" },
	{ "{" GX ",\"size\":\"2048x2048\"}", 0, "P", NULL },
	{ "{" GX ",\"size\":1024}", 0, "P", "size: must be a string" },
	{ "{" G1 ",\"size\":1024}", 0, "P", "size: must be a string" },
	/* quality */
	{ "{" D2 ",\"quality\":\"standard\"}", 0, "P", NULL },
	{ "{" D2 ",\"quality\":\"hd\"}", 0, "P", "quality: 'hd' is not one of standard for dall-e-2" },
	{ "{" G1 ",\"quality\":\"standard\"}", 0, "P", "quality: " },
	{ "{" G1 ",\"quality\":\"high\"}", 0, "P", NULL },
	{ "{" GX ",\"quality\":\"ultra\"}", 0, "P", NULL },
	{ "{" GX ",\"quality\":{}}", 0, "P", "quality: " },
	/* background */
	{ "{" G1 ",\"background\":\"transparent\"}", 0, "P", NULL },
	{ "{" G1 ",\"background\":\"transparent\",\"output_format\":\"png\"}", 0, "P", NULL },
	{ "{" G1 ",\"background\":\"transparent\",\"output_format\":\"webp\"}", 0, "P", NULL },
	{ "{" G1 ",\"background\":\"transparent\",\"output_format\":\"jpeg\"}", 0, "P",
	  "background: 'transparent' needs output_format png or webp, got jpeg" },
	{ "{" G1 ",\"background\":\"opaque\",\"output_format\":\"jpeg\"}", 0, "P", NULL },
	{ "{" G1 ",\"background\":\"auto\",\"output_format\":\"jpeg\"}", 0, "P", NULL },
	{ "{" G1 ",\"background\":\"clear\"}", 0, "P", "background: 'clear' is not one of" },
	{ "{" G1 ",\"background\":1}", 0, "P", "background: must be a string" },
	{ "{" D2 ",\"background\":\"opaque\"}", 0, "P", "background: not supported by dall-e-2" },
	{ "{" GX ",\"background\":\"transparent\",\"output_format\":\"jpeg\"}", 0, "P", NULL },
	{ "{" GX ",\"background\":\"neon\"}", 0, "P", NULL },
	/* output_format */
	{ "{" G1 ",\"output_format\":\"jpeg\"}", 0, "P", NULL },
	{ "{" G1 ",\"output_format\":\"jpg\"}", 0, "P", "output_format: 'jpg' is not one of png, jpeg, webp" },
	{ "{" G1 ",\"output_format\":\"PNG\"}", 0, "P", "output_format: " },
	{ "{" D2 ",\"output_format\":\"png\"}", 0, "P", "output_format: not supported by dall-e-2" },
	{ "{" GX ",\"output_format\":\"avif\"}", 0, "P", NULL },
	/* output_compression */
	{ "{" G1 ",\"output_format\":\"jpeg\",\"output_compression\":0}", 0, "P", NULL },
	{ "{" G1 ",\"output_format\":\"webp\",\"output_compression\":100}", 0, "P", NULL },
	{ "{" G1 ",\"output_format\":\"jpeg\",\"output_compression\":\"50\"}", 0, "P", NULL },
	{ "{" G1 ",\"output_format\":\"jpeg\",\"output_compression\":101}", 0, "P",
	  "output_compression: must be an integer between 0 and 100, got 101" },
	{ "{" G1 ",\"output_format\":\"jpeg\",\"output_compression\":-1}", 0, "P", "output_compression: " },
	{ "{" G1 ",\"output_format\":\"jpeg\",\"output_compression\":50.5}", 0, "P", "output_compression: " },
	{ "{" G1 ",\"output_format\":\"png\",\"output_compression\":50}", 0, "P", "output_compression: " },
	{ "{" G1 ",\"output_compression\":50}", 0, "P", "output_compression: only supported with" },
	{ "{" D2 ",\"output_compression\":50}", 0, "P", "output_compression: not supported by dall-e-2" },
	{ "{" GX ",\"output_compression\":500}", 0, "P", NULL },
	{ "{" GX ",\"output_compression\":\"high\"}", 0, "P", "output_compression: " },
	/* input_fidelity */
	{ "{" G1 ",\"input_fidelity\":\"high\"}", 0, "P", NULL },
	{ "{" G1 ",\"input_fidelity\":\"low\"}", 0, "P", NULL },
	{ "{" G1 ",\"input_fidelity\":\"medium\"}", 0, "P", "input_fidelity: 'medium' is not one of high, low" },
	{ "{" D2 ",\"input_fidelity\":\"high\"}", 0, "P", "input_fidelity: not supported by dall-e-2" },
	{ "{" GX ",\"input_fidelity\":\"max\"}", 0, "P", NULL },
	/* partial_images and stream */
	{ "{" G1 ",\"partial_images\":0}", 1, "P", NULL },
	{ "{" G1 ",\"partial_images\":3}", 1, "P", NULL },
	{ "{" G1 ",\"partial_images\":\"2\"}", 1, "P", NULL },
	{ "{" G1 ",\"partial_images\":4}", 1, "P", "partial_images: must be an integer between 0 and 3, got 4" },
	{ "{" G1 ",\"partial_images\":-1}", 1, "P", "partial_images: " },
	{ "{" G1 ",\"partial_images\":2}", 0, "P", "partial_images: only allowed when streaming" },
	{ "{" D2 ",\"partial_images\":2}", 1, "P", "partial_images: not supported by dall-e-2" },
	{ "{" GX ",\"partial_images\":9}", 1, "P", NULL },
	{ "{" GX ",\"partial_images\":2}", 0, "P", NULL },
	{ "{" G1 "}", 1, "P", NULL },
	{ "{" G1 "}", 1, "J,W,P", NULL },
	{ "{" GX "}", 1, "P", NULL },
	{ "{" D2 "}", 1, "P", "stream: dall-e-2 does not support streaming" },
	{ "{\"prompt\":\"p\"}", 1, "P", NULL },
	{ "{" G1 ",\"stream\":true}", 1, "P", NULL },
	{ "{" G1 ",\"stream\":false}", 0, "P", NULL },
	{ "{" G1 ",\"stream\":true}", 0, "P", "stream: " },
	{ "{" G1 ",\"stream\":false}", 1, "P", "stream: " },
	{ "{" G1 ",\"stream\":\"yes\"}", 1, "P", "stream: " },
	{ "{" G1 ",\"stream\":null}", 0, "P", NULL },
	/* response_format */
	{ "{" D2 ",\"response_format\":\"url\"}", 0, "P", NULL },
	{ "{" D2 ",\"response_format\":\"b64_json\"}", 0, "P", NULL },
	{ "{" D2 ",\"response_format\":\"json\"}", 0, "P", "response_format: 'json' is not one of url, b64_json" },
	{ "{" D2 ",\"response_format\":1}", 0, "P", "response_format: must be a string" },
	{ "{" G1 ",\"response_format\":\"b64_json\"}", 0, "P", "response_format: not supported by gpt-image-1" },
	{ "{\"prompt\":\"p\",\"response_format\":\"url\"}", 0, "P", NULL },
	{ "{" GX ",\"response_format\":\"b64_json\"}", 0, "P", NULL },
	/* user */
	{ "{" D2 ",\"user\":\"u-1\"}", 0, "P", NULL },
	{ "{" G1 ",\"user\":\"u-1\"}", 0, "P", NULL },
	{ "{" GX ",\"user\":\"u-1\"}", 0, "P", NULL },
	{ "{" D2 ",\"user\":42}", 0, "P", "user: must be a string" },
	{ "{" G1 ",\"user\":{\"id\":1}}", 0, "P", "user: must be a string" },
	{ "{" GX ",\"user\":42}", 0, "P", "user: must be a string" },
	/* unknown keys pass through, whatever their value */
	{ "{" D2 ",\"moderation\":\"low\"}", 0, "P", NULL },
	{ "{" G1 ",\"future_knob\":[1,{\"a\":null}]}", 0, "P", NULL },
	{ "{" G1 ",\"style\":42}", 0, "P", NULL },
	{ "{\"prompt\":\"p\",\"x_extra\":true}", 0, "P", NULL },
	{ "{" GX ",\"moderation\":\"low\",\"whatever\":1}", 0, "P", NULL },
	/* file fields do not belong in params */
	{ "{" G1 ",\"image\":\"a.png\"}", 0, "P", "image: " },
	{ "{" G1 ",\"image[]\":\"a.png\"}", 0, "P", "image[]: " },
	{ "{" G1 ",\"mask\":\"m.png\"}", 0, "P", "mask: " },
	/* no model: sent without one, checked generically */
	{ "{\"prompt\":\"p\",\"background\":\"transparent\"}", 0, "J", NULL },
	{ "{\"prompt\":\"p\",\"output_format\":\"webp\"}", 0, "P,J,W", NULL },
	{ "{\"prompt\":\"p\",\"quality\":\"standard\"}", 0, "Pwide", NULL },
	{ "{\"prompt\":\"p\",\"size\":\"999x999\"}", 0, "P", NULL },
	{ "{\"prompt\":\"p\",\"partial_images\":1}", 1, "P", NULL },
	{ "{\"prompt\":\"p\",\"background\":\"transparent\",\"response_format\":\"url\"}", 0, "P", NULL },
	{ "{\"prompt\":\"p\",\"n\":11}", 0, "P", "n: " },
	{ "{\"prompt\":\"p\",\"output_format\":\"svg\"}", 0, "P", "output_format: 'svg' is for image generations only" },
	{ "{\"prompt\":\"p\",\"frame_count\":17,\"output_format\":\"gif\"}", 0, "P", "frame_count: " },
	{ "{\"prompt\":\"p\",\"output_format\":\"gif\"}", 1, "P", NULL },
	{ "{\"prompt\":\"p\"}", 0, "P,K", NULL },
	{ "{\"prompt\":\"p\"}", 0, "P,M,K", "markup: cannot be combined with mask" },
};

/* ---- the value matrix: every enumerated parameter x value x model ---- */

struct model_rule {
	const char	*model;	/* as given in params; NULL: omitted */
	const char	*sizes, *qualities, *backgrounds, *formats, *fidelities, *responses;
};

static const char ALL[] = "*";

static const struct model_rule rules[] = {
	{ "dall-e-2", "|256x256|512x512|1024x1024|", "|standard|", NULL, NULL, NULL,
	  "|url|b64_json|" },
	{ "gpt-image-1", "|1024x1024|1536x1024|1024x1536|auto|", "|low|medium|high|auto|",
	  "|transparent|opaque|auto|", "|png|jpeg|webp|", "|high|low|", NULL },
	{ "gpt-image-1.5", "|1024x1024|1536x1024|1024x1536|auto|", "|low|medium|high|auto|",
	  "|transparent|opaque|auto|", "|png|jpeg|webp|", "|high|low|", NULL },
	{ "gpt-image-1-mini", "|1024x1024|1536x1024|1024x1536|auto|", "|low|medium|high|auto|",
	  "|transparent|opaque|auto|", "|png|jpeg|webp|", "|low|", NULL },
	{ "gpt-image-2", "|256x256|512x512|1024x1024|1536x1024|1024x1536|auto|1792x1024|"
	  "2048x2048|", "|low|medium|high|auto|", "|transparent|opaque|auto|",
	  "|png|jpeg|webp|", NULL, NULL },
	{ "gpt-image-2.5-flare-2026-09-08", "|256x256|512x512|1024x1024|1536x1024|"
	  "1024x1536|auto|1792x1024|2048x2048|", "|low|medium|high|xhigh|max|auto|",
	  "|transparent|opaque|auto|", "|png|jpeg|webp|gif|", "|high|low|", NULL },
	{ "gpt-image-2.6-sunburst", "|256x256|512x512|1024x1024|1536x1024|"
	  "1024x1536|auto|1792x1024|2048x2048|", "|low|medium|high|xhigh|max|auto|",
	  "|transparent|opaque|auto|", "|png|jpeg|webp|gif|", "|high|low|", NULL },
	{ "dall-e-3", ALL, ALL, ALL, ALL, ALL, ALL },
	{ "gpt-image-9", ALL, ALL, ALL, ALL, ALL, ALL },
};

static const char *const probe_values[] = {
	"256x256", "512x512", "1024x1024", "1536x1024", "1024x1536", "auto",
	"1792x1024", "2048x2048", "standard", "hd", "low", "medium", "high",
	"transparent", "opaque", "png", "jpeg", "webp", "gif", "jpg", "url", "b64_json",
	"xhigh", "max", "1000x1000", "4096x2160",
	"", "AUTO", NULL
};

static int
allowed(const char *list, const char *v)
{
	char buf[64];

	if (list == ALL)
		return 1;
	if (list == NULL)
		return 0;
	snprintf(buf, sizeof(buf), "|%s|", v);
	return strstr(list, buf) != NULL;
}

static void
value_matrix(void)
{
	static const char *const names[] = { "size", "quality", "background",
	    "output_format", "input_fidelity", "response_format" };
	const struct model_rule *r;
	const char *list, *want;
	char where[128], wantbuf[64];
	size_t i, k, j;
	json_t *p;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		r = &rules[i];
		for (k = 0; k < 6; k++) {
			list = (&r->sizes)[k];
			for (j = 0; probe_values[j] != NULL; j++) {
				p = json_pack("{s:s, s:s, s:s}", "model", r->model, "prompt",
				    "p", names[k], probe_values[j]);
				snprintf(wantbuf, sizeof(wantbuf), "%s: ", names[k]);
				want = allowed(list, probe_values[j]) ? NULL : wantbuf;
				snprintf(where, sizeof(where), "matrix %s %s=%s", r->model,
				    names[k], probe_values[j]);
				/* jpeg output: still valid with the default background */
				run_one(where, p, 0, "P", want);
				json_decref(p);
			}
		}
	}
}

/* Integers: n, output_compression, partial_images over a range of values. */
static void
int_matrix(void)
{
	static const struct {
		const char *name, *model, *extra;
		int stream;
		long long lo, hi;	/* lo > hi: not supported */
	} rows[] = {
		{ "n", "dall-e-2", NULL, 0, 1, 10 },
		{ "n", "gpt-image-1", NULL, 0, 1, 10 },
		{ "n", "gpt-image-2", NULL, 0, 1, 10 },
		{ "output_compression", "gpt-image-1", "webp", 0, 0, 100 },
		{ "output_compression", "gpt-image-1", "jpeg", 0, 0, 100 },
		{ "output_compression", "dall-e-2", NULL, 0, 1, 0 },
		{ "output_compression", "gpt-image-9", NULL, 0, -2000000, 2000000 },
		{ "output_compression", "gpt-image-2", NULL, 0, 1, 0 },
		{ "output_compression", "gpt-image-2", "jpeg", 0, 0, 100 },
		{ "output_compression", "gpt-image-2.6-flare", "gif", 0, 1, 0 },
		{ "frame_count", "gpt-image-2.6-flare", "gif", 0, 2, 16 },
		{ "frame_count", "gpt-image-2.5-sunburst", "gif", 0, 2, 16 },
		{ "frame_count", "gpt-image-2.5-sunburst", "png", 0, 1, 0 },
		{ "frame_duration_ms", "gpt-image-2.6-flare", "gif", 0, 1, 2147483647 },
		{ "frame_duration_ms", "gpt-image-2.6-flare", "webp", 0, 1, 0 },
		{ "partial_images", "gpt-image-1", NULL, 1, 0, 3 },
		{ "partial_images", "dall-e-2", NULL, 1, 1, 0 },
		{ "partial_images", "gpt-image-9", NULL, 1, -2000000, 2000000 },
		{ "partial_images", "gpt-image-2", NULL, 1, 0, 3 },
		{ "partial_images", "gpt-image-2.6-flare", "gif", 0, 1, 0 },
	};
	static const long long probes[] = { -1000, -1, 0, 1, 2, 3, 4, 9, 10, 11, 15,
	    16, 17, 50, 99, 100, 101, 1000, 655350, 1000000, 1000001 };
	char where[128], wantbuf[64], text[32];
	const char *want;
	size_t i, j;
	int as_string;
	json_t *p;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		for (j = 0; j < sizeof(probes) / sizeof(probes[0]); j++)
			for (as_string = 0; as_string < 2; as_string++) {
				p = json_pack("{s:s, s:s}", "model", rows[i].model, "prompt", "p");
				snprintf(text, sizeof(text), "%lld", probes[j]);
				json_object_set_new(p, rows[i].name, as_string ?
				    json_string(text) : json_integer(probes[j]));
				if (rows[i].extra)
					json_object_set_new(p, "output_format",
					    json_string(rows[i].extra));
				snprintf(wantbuf, sizeof(wantbuf), "%s: ", rows[i].name);
				want = probes[j] >= rows[i].lo && probes[j] <= rows[i].hi ?
				    NULL : wantbuf;
				snprintf(where, sizeof(where), "int %s %s=%s%s", rows[i].model,
				    rows[i].name, text, as_string ? " (string)" : "");
				run_one(where, p, rows[i].stream, "P", want);
				json_decref(p);
			}
}

/* ---- prompts: UTF-8 counting ---- */

static json_t *
repeat_prompt(const char *model, const char *unit, size_t count)
{
	size_t ul = strlen(unit), i;
	char *s = malloc(ul * count + 1);
	json_t *p;

	if (s == NULL)
		abort();
	for (i = 0; i < count; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * count] = '\0';
	p = json_object();
	if (model)
		json_object_set_new(p, "model", json_string(model));
	json_object_set_new(p, "prompt", json_string(s));
	free(s);
	return p;
}

static void
prompt_lengths(void)
{
	static const char *const units[] = { "a", "\xc3\xa9", "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80" };
	static const struct {
		const char *model;
		size_t max;
		const char *inputs;
	} lims[] = {
		{ "dall-e-2", 1000, "P" }, { NULL, 200000, "P" },
		{ "gpt-image-1", 32000, "P" }, { "gpt-image-2", 32000, "P" },
		{ "gpt-image-2.6-flare", 32000, "P" }, { "gpt-image-9", 200000, "P" },
	};
	char where[96];
	size_t i, u;
	json_t *p;

	for (i = 0; i < sizeof(lims) / sizeof(lims[0]); i++)
		for (u = 0; u < 4; u++) {
			snprintf(where, sizeof(where), "prompt %s %zu x U+%zub",
			    lims[i].model ? lims[i].model : "(default)", lims[i].max,
			    strlen(units[u]));
			p = repeat_prompt(lims[i].model, units[u], lims[i].max);
			run_one(where, p, 0, lims[i].inputs, NULL);
			json_decref(p);
			p = repeat_prompt(lims[i].model, units[u], lims[i].max + 1);
			run_one(where, p, 0, lims[i].inputs,
			    lims[i].max == 200000 ? NULL : "prompt: ");
			json_decref(p);
		}
}

/* Invalid UTF-8 cannot come from json_loads; build such strings directly. */
static void
prompt_utf8(void)
{
	static const struct {
		const char *s;
		size_t len;
		int ok;
	} v[] = {
		{ "plain", 5, 1 },
		{ "caf\xc3\xa9", 5, 1 },
		{ "\xe2\x82\xac", 3, 1 },
		{ "\xf0\x9f\x98\x80", 4, 1 },
		{ "\xf4\x8f\xbf\xbf", 4, 1 },		/* U+10FFFF */
		{ "\xed\x9f\xbf", 3, 1 },		/* U+D7FF */
		{ "\x80", 1, 0 },			/* lone continuation */
		{ "a\xbf", 2, 0 },
		{ "\xc0\x80", 2, 0 },			/* overlong NUL */
		{ "\xc1\xbf", 2, 0 },			/* overlong */
		{ "\xe0\x80\x80", 3, 0 },		/* overlong */
		{ "\xe0\x9f\xbf", 3, 0 },		/* overlong U+07FF */
		{ "\xf0\x8f\xbf\xbf", 4, 0 },		/* overlong U+FFFF */
		{ "\xed\xa0\x80", 3, 0 },		/* surrogate */
		{ "\xed\xbf\xbf", 3, 0 },		/* surrogate */
		{ "\xf4\x90\x80\x80", 4, 0 },		/* > U+10FFFF */
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\xff", 1, 0 },
		{ "\xe2\x82", 2, 0 },			/* truncated */
		{ "ab\xf0\x9f\x98", 5, 0 },		/* truncated at end */
		{ "\xc3(", 2, 0 },			/* bad continuation */
		{ "a\0b", 3, 0 },			/* embedded NUL */
	};
	static const char *const models[] = { "dall-e-2", "gpt-image-1", "gpt-image-5" };
	char where[64];
	size_t i, m;
	json_t *p;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		for (m = 0; m < 3; m++) {
			p = json_pack("{s:s}", "model", models[m]);
			json_object_set_new(p, "prompt", json_stringn_nocheck(v[i].s, v[i].len));
			snprintf(where, sizeof(where), "utf8 #%zu %s", i, models[m]);
			run_one(where, p, 0, "P", v[i].ok ? NULL : "prompt: ");
			json_decref(p);
		}
}

/* ---- jobspec_model and jobspec_n ---- */

static void
model_rule(void)
{
	static const struct {
		const char *params, *model;
	} v[] = {
		{ "{}", NULL },
		{ "{\"prompt\":\"p\"}", NULL },
		{ "{\"model\":\"gpt-image-1\"}", "gpt-image-1" },
		{ "{\"model\":\"gpt-image-2.6-flare\"}", "gpt-image-2.6-flare" },
		{ "{\"model\":null,\"background\":\"auto\"}", NULL },
		{ "{\"model\":\"\"}", NULL },
		{ "{\"model\":7}", NULL },
		{ "{\"background\":\"transparent\"}", NULL },
		{ "{\"quality\":\"standard\"}", NULL },
	};
	json_t *p;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		p = json_loads(v[i].params, 0, NULL);
		CHECK(p != NULL);
		if (v[i].model == NULL)
			CHECK(jobspec_model(p) == NULL);
		else
			CHECK_STR(jobspec_model(p), v[i].model);
		json_decref(p);
	}
	CHECK(jobspec_model(NULL) == NULL);
	p = json_array();
	CHECK(jobspec_model(p) == NULL);
	CHECK_INT(jobspec_n(p), 1);
	json_decref(p);
}

static void
n_values(void)
{
	static const struct {
		const char *params;
		int n;
	} v[] = {
		{ "{}", 1 }, { "{\"n\":1}", 1 }, { "{\"n\":4}", 4 }, { "{\"n\":10}", 10 },
		{ "{\"n\":\"7\"}", 7 }, { "{\"n\":null}", 1 }, { "{\"n\":0}", 1 },
		{ "{\"n\":11}", 1 }, { "{\"n\":\"x\"}", 1 }, { "{\"n\":2.0}", 1 },
		{ "{\"n\":-3}", 1 },
	};
	json_t *p;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		p = json_loads(v[i].params, 0, NULL);
		CHECK(p != NULL);
		CHECK_INT(jobspec_n(p), v[i].n);
		json_decref(p);
	}
	CHECK_INT(jobspec_n(NULL), 1);
}

/* partial_images as the estimate reads it: the same forms the checks take. */
static void
partial_values(void)
{
	static const struct {
		const char *params;
		int n;
	} v[] = {
		{ "{}", 0 }, { "{\"partial_images\":3}", 3 },
		{ "{\"partial_images\":\"2\"}", 2 }, { "{\"partial_images\":4}", 0 },
		{ "{\"partial_images\":-1}", 0 }, { "{\"partial_images\":\"x\"}", 0 },
	};
	json_t *p;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		p = json_loads(v[i].params, 0, NULL);
		CHECK(p != NULL);
		CHECK_INT(jobspec_partial_images(p), v[i].n);
		json_decref(p);
	}
	CHECK_INT(jobspec_partial_images(NULL), 0);
}

/* err is always terminated, and left alone when it has no room. */
static void
messages(void)
{
	struct jobspec_input in[2];
	char err[512], small[8];
	json_t *p = json_pack("{s:s, s:s}", "prompt", "p", "model", "dall-e-2");
	size_t n;

	n = parse_inputs("J", in, 2);
	CHECK_INT(jobspec_validate(p, 0, in, n, err, sizeof(err)), -1);
	CHECK_STR(err, "image: a.jpg: dall-e-2 accepts only PNG images, got JPEG");
	CHECK_INT(jobspec_validate(p, 0, in, n, small, sizeof(small)), -1);
	CHECK_INT(strlen(small), sizeof(small) - 1);
	CHECK_INT(jobspec_validate(p, 0, in, n, NULL, 0), -1);
	/* a buffer given with no room (fuzz_jobspec found strlen() on it
	 * unwritten): left as it was */
	memset(small, 'Z', sizeof(small));
	CHECK_INT(jobspec_validate(p, 0, in, n, small, 0), -1);
	CHECK_MEM(small, "ZZZZZZZZ", sizeof(small));
	n = parse_inputs("P", in, 2);
	CHECK_INT(jobspec_validate(p, 0, in, n, NULL, 0), 0);
	json_object_set_new(p, "n", json_integer(11));
	CHECK_INT(jobspec_validate(p, 0, in, n, err, sizeof(err)), -1);
	CHECK_STR(err, "n: must be an integer between 1 and 10, got 11");
	json_decref(p);
}

int
main(void)
{
	size_t i;

	build_inputs();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i], i);
	value_matrix();
	int_matrix();
	prompt_lengths();
	prompt_utf8();
	model_rule();
	n_values();
	partial_values();
	messages();
	free_inputs();
	return tu_finish("test_jobspec");
}
