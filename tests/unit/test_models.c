/* test_models.c: every row of the model table (models.c) against expectations
 * written here from the sources, through models_* and jobspec_validate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <png.h>

#include "jobspec.h"
#include "models.h"
#include "testpng.h"
#include "testutil.h"

/* What the sources say of each family, written independently of the table. */
struct expect {
	const char	*name;
	const char	*shutdown, *replacement;	/* replacement: a substring */
	const char	*params;	/* "|param|...|" accepted singly */
	const char	*qualities, *outputs, *fidelities;
	int		 flexible, markup, streams;
	size_t		 max_images, prompt_max;
};

#define GPT1_P "|n|size|quality|background|output_format|input_fidelity|user|safety_identifier|"
#define GPT2_P "|n|size|quality|background|output_format|user|safety_identifier|"
#define GPT25_P "|n|size|quality|background|output_format|input_fidelity|user|" \
	"safety_identifier|"
#define Q1 "|low|medium|high|auto|"
#define Q25 "|low|medium|high|xhigh|max|auto|"

static const struct expect expects[] = {
	{ "dall-e-2", "2026-05-12", "gpt-image-2.6-sunburst", "|n|size|quality|"
	  "response_format|user|", "|standard|", "", "", 0, 0, 0, 1, 1000 },
	{ "dall-e-3", "2026-05-12", "gpt-image-2.6-sunburst", NULL, NULL, NULL,
	  NULL, 0, 0, 0, 0, 0 },
	{ "gpt-image-1", "2026-10-23", "gpt-image-2.5-sunburst or gpt-image-2.5-flare",
	  GPT1_P, Q1, "|png|jpeg|webp|", "|high|low|", 0, 0, 1, 16, 32000 },
	{ "gpt-image-1-mini", "2026-12-01", "gpt-image-2.6-sunburst or gpt-image-2.6-flare",
	  GPT1_P, Q1, "|png|jpeg|webp|", "|low|", 0, 0, 1, 16, 32000 },
	{ "gpt-image-1.5", "2026-12-01", "gpt-image-2.6-sunburst or gpt-image-2.6-flare",
	  GPT1_P, Q1, "|png|jpeg|webp|", "|high|low|", 0, 0, 1, 16, 32000 },
	{ "chatgpt-image-latest", "2026-12-01", "gpt-image-2.6-sunburst or "
	  "gpt-image-2.6-flare", GPT1_P, Q1, "|png|jpeg|webp|", "|high|low|", 0, 0,
	  1, 16, 32000 },
	{ "gpt-image-2", NULL, NULL, GPT2_P, Q1, "|png|jpeg|webp|", "", 1, 0, 1,
	  16, 32000 },
	{ "gpt-image-2.5-sunburst", NULL, NULL, GPT25_P, Q25, "|png|jpeg|webp|gif|",
	  "|high|low|", 1, 1, 1, 16, 32000 },
	{ "gpt-image-2.5-flare", NULL, NULL, GPT25_P, Q25, "|png|jpeg|webp|gif|",
	  "|high|low|", 1, 1, 1, 16, 32000 },
	{ "gpt-image-2.6-sunburst", NULL, NULL, GPT25_P "complexity|", Q25,
	  "|png|jpeg|webp|gif|", "|high|low|", 1, 1, 1, 16, 32000 },
	{ "gpt-image-2.6-flare", NULL, NULL, GPT25_P "complexity|", Q25,
	  "|png|jpeg|webp|gif|", "|high|low|", 1, 1, 1, 16, 32000 },
};
#define NEXPECT (sizeof(expects) / sizeof(expects[0]))

/* One good value for each parameter, alone (no combination needed). */
static const struct {
	const char *name, *json;
} singles[] = {
	{ "n", "2" }, { "size", "\"1024x1024\"" }, { "background", "\"opaque\"" },
	{ "output_format", "\"jpeg\"" }, { "input_fidelity", "\"low\"" },
	{ "response_format", "\"b64_json\"" }, { "user", "\"u-1\"" },
	{ "safety_identifier", "\"h-1\"" }, { "complexity", "\"medium\"" },
};

static struct membuf png256, png512, rgb256, gif_bytes;

static int
listed(const char *list, const char *v)
{
	char buf[64];

	if (list == NULL)
		return 0;
	snprintf(buf, sizeof(buf), "|%s|", v);
	return strstr(list, buf) != NULL;
}

static struct jobspec_input
input(enum input_role role, const char *name, const struct membuf *b)
{
	struct jobspec_input in = { role, name, b->p, b->len, NULL };

	return in;
}

/* validate(model + extra JSON members) on inputs; want NULL: accepted. */
static void
try(const char *model, const char *extra, int stream, const struct jobspec_input *in,
    size_t n, const char *want)
{
	char text[512], err[512];
	json_t *p;
	int rc;

	snprintf(text, sizeof(text), "{\"prompt\":\"p\"%s%s%s%s%s}",
	    model ? ",\"model\":\"" : "", model ? model : "", model ? "\"" : "",
	    extra && *extra ? "," : "", extra ? extra : "");
	if ((p = json_loads(text, 0, NULL)) == NULL) {
		fprintf(stderr, "test bug: %s\n", text);
		abort();
	}
	rc = jobspec_validate(p, stream, in, n, err, sizeof(err));
	tu_checked++;
	if (want == NULL ? rc != 0 : rc != -1 || strncmp(err, want, strlen(want)) != 0) {
		tu_failed++;
		fprintf(stderr, "%s stream=%d n=%zu -> %d \"%s\", expected %s\n", text,
		    stream, n, rc, rc ? err : "", want ? want : "success");
	}
	json_decref(p);
}

static void
one_image(const char *model, const char *extra, int stream, const char *want)
{
	struct jobspec_input in = input(INPUT_IMAGE, "a.png", &png256);

	try(model, extra, stream, &in, 1, want);
}

/* Lookup, snapshots, shutdown: each row and the table's own order. */
static void
rows(void)
{
	const struct model_family *f;
	char name[96];
	size_t i;

	for (i = 0; i < NEXPECT; i++) {
		f = models_find(expects[i].name);
		CHECK_STR(f->name, expects[i].name);
		snprintf(name, sizeof(name), "%s-2026-09-08", expects[i].name);
		CHECK(models_find(name) == f);
		snprintf(name, sizeof(name), "%s-2026-09", expects[i].name);
		CHECK(models_find(name)->generic);
		snprintf(name, sizeof(name), "%s-2026-09-08x", expects[i].name);
		CHECK(models_find(name)->generic);
		CHECK(models_row(i) == f);
		if (expects[i].shutdown == NULL) {
			CHECK(f->shutdown == NULL);
			CHECK(!models_is_shut_down(f, "2099-01-01"));
			continue;
		}
		CHECK_STR(f->shutdown, expects[i].shutdown);
		CHECK(f->replacement != NULL &&
		    strstr(f->replacement, expects[i].replacement) != NULL);
		CHECK(models_is_shut_down(f, expects[i].shutdown));
		CHECK(models_is_shut_down(f, MODELS_CHECKED));
		CHECK(!models_is_shut_down(f, "2026-05-11"));
	}
	CHECK(models_row(NEXPECT)->generic && models_row(NEXPECT)->name == NULL);
	CHECK(models_row(NEXPECT + 1) == NULL);
	CHECK(models_find(NULL)->generic);
	CHECK(models_find("gpt-image-1.5-2025-12-16") == models_find("gpt-image-1.5"));
	CHECK(models_find("gpt-image-2-2026-04-21") == models_find("gpt-image-2"));
	CHECK(models_find("gpt-image-2.7-flare")->generic);
	CHECK(models_find("GPT-IMAGE-2")->generic);
	CHECK(!models_is_shut_down(models_find("gpt-image-1"), "2026-10-22"));
	CHECK(models_is_shut_down(models_find("gpt-image-1"), "2026-10-23"));
	CHECK(!models_is_shut_down(models_find("gpt-image-1.5"), "2026-11-30"));
}

/* Every parameter alone on every row; every value of the enumerations. */
static void
parameters(void)
{
	static const char *const qualities[] = { "low", "medium", "high", "xhigh",
	    "max", "auto", "standard", "hd" };
	static const char *const outputs[] = { "png", "jpeg", "webp", "gif", "avif" };
	static const char *const fidelities[] = { "high", "low", "medium" };
	char extra[96], want[64];
	const struct expect *e;
	size_t i, k;

	for (i = 0; i < NEXPECT; i++) {
		e = &expects[i];
		if (e->params == NULL)	/* dall-e-3: generic */
			continue;
		one_image(e->name, "", 0, NULL);
		for (k = 0; k < sizeof(singles) / sizeof(singles[0]); k++) {
			snprintf(extra, sizeof(extra), "\"%s\":%s", singles[k].name,
			    singles[k].json);
			snprintf(want, sizeof(want), "%s: not supported by %s",
			    singles[k].name, e->name);
			one_image(e->name, extra, 0, listed(e->params,
			    singles[k].name) ? NULL : want);
		}
		for (k = 0; k < sizeof(qualities) / sizeof(qualities[0]); k++) {
			snprintf(extra, sizeof(extra), "\"quality\":\"%s\"", qualities[k]);
			one_image(e->name, extra, 0, listed(e->qualities, qualities[k]) ?
			    NULL : "quality: ");
		}
		for (k = 0; k < sizeof(outputs) / sizeof(outputs[0]); k++) {
			snprintf(extra, sizeof(extra), "\"output_format\":\"%s\"", outputs[k]);
			one_image(e->name, extra, 0, listed(e->outputs, outputs[k]) ?
			    NULL : "output_format: ");
		}
		for (k = 0; k < sizeof(fidelities) / sizeof(fidelities[0]); k++) {
			snprintf(extra, sizeof(extra), "\"input_fidelity\":\"%s\"",
			    fidelities[k]);
			one_image(e->name, extra, 0, listed(e->fidelities, fidelities[k]) ?
			    NULL : "input_fidelity: ");
		}
		one_image(e->name, "\"output_format\":\"svg\"", 0,
		    "output_format: 'svg' is for image generations only");
		one_image(e->name, "", 1, e->streams ? NULL : "stream: ");
		one_image(e->name, "\"complexity\":\"extreme\"", 0, "complexity: ");
	}
}

/* Size rule boundaries on a flexible family, and listed sizes elsewhere. */
static void
sizes(void)
{
	static const struct {
		const char *size;
		int ok;
	} v[] = {
		{ "auto", 1 }, { "1024x1024", 1 }, { "1536x1024", 1 }, { "1024x1536", 1 },
		{ "1536x864", 1 }, { "3840x2160", 1 }, { "2160x3840", 1 },
		{ "3840x1280", 1 }, { "1280x3840", 1 }, { "48x16", 1 }, { "16x48", 1 },
		{ "16x16", 1 }, { "2160x2160", 1 }, { "2560x1440", 1 },
		{ "3856x2160", 0 }, { "3840x2176", 0 }, { "2176x2176", 0 },
		{ "2176x3840", 0 }, { "64x16", 0 }, { "3840x1264", 0 },
		{ "1000x1000", 0 }, { "1024x1000", 0 }, { "0x0", 0 }, { "0x16", 0 },
		{ "x1024", 0 }, { "1024x", 0 }, { "1024", 0 }, { "1024X1024", 0 },
		{ "+1024x1024", 0 }, { "1024x1024x16", 0 }, { "999999x16", 0 },
		{ "1024 x1024", 0 }, { "", 0 }, { "AUTO", 0 }, { "4096x2160", 0 },
		{ "7680x4320", 0 }, { "-16x16", 0 },
	};
	static const char *const flexible[] = { "gpt-image-2", "gpt-image-2.5-flare",
	    "gpt-image-2.6-sunburst-2026-09-08" };
	char extra[96], why[160];
	size_t i, m;

	for (m = 0; m < 3; m++)
		for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			snprintf(extra, sizeof(extra), "\"size\":\"%s\"", v[i].size);
			one_image(flexible[m], extra, 0, v[i].ok ? NULL : "size: ");
			CHECK_INT(models_check_size(models_find(flexible[m]),
			    v[i].size, why, sizeof(why)), v[i].ok ? 0 : -1);
		}
	one_image("gpt-image-1.5", "\"size\":\"1536x864\"", 0,
	    "size: '1536x864' is not one of 1024x1024, 1536x1024, 1024x1536, auto");
	one_image("dall-e-2", "\"size\":\"512x512\"", 0, NULL);
	one_image("dall-e-2", "\"size\":\"auto\"", 0, "size: ");
	one_image("gpt-image-2", "\"size\":\"4096x2160\"", 0,
	    "size: 4096x2160: at most 3840x2160 (or 2160x3840) for gpt-image-2");
	one_image("gpt-image-2", "\"size\":\"64x16\"", 0,
	    "size: 64x16: the aspect ratio must be between 1:3 and 3:1");
	one_image("gpt-image-9", "\"size\":\"5x7\"", 0, NULL);
	one_image("gpt-image-2", "\"size\":\"0x16\"", 0, "size: 0x16: width "
	    "and height must both be positive multiples of 16");
}

/* WxH read once for the checks and the estimate: digits only, 1 to 5 of
 * them an edge; an edge of 0 is told apart. */
static void
parse_size(void)
{
	static const struct {
		const char *size;
		int rc;
		uint32_t w, h;
	} v[] = {
		{ "1024x1536", 1, 1024, 1536 }, { "99999x1", 1, 99999, 1 },
		{ "01024x7", 1, 1024, 7 }, { "0x16", 0, 0, 16 }, { "16x0", 0, 16, 0 },
		{ "100000x16", -1, 0, 0 }, { "+16x16", -1, 0, 0 },
		{ " 16x16", -1, 0, 0 }, { "16x16 ", -1, 0, 0 }, { "-1x16", -1, 0, 0 },
		{ "16x", -1, 0, 0 }, { "x16", -1, 0, 0 }, { "16x16x16", -1, 0, 0 },
		{ "16X16", -1, 0, 0 }, { "auto", -1, 0, 0 }, { "", -1, 0, 0 },
	};
	uint32_t w, h;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		w = h = 7777;
		CHECK_INT(models_parse_size(v[i].size, &w, &h), v[i].rc);
		if (v[i].rc >= 0) {
			CHECK_INT(w, v[i].w);
			CHECK_INT(h, v[i].h);
		}
	}
}

/* GIF's and markup's rules between parameters and inputs. */
static void
combinations(void)
{
	struct jobspec_input in[3];
	static const char *const gifs[] = { "gpt-image-2.5-sunburst",
	    "gpt-image-2.5-flare", "gpt-image-2.6-sunburst", "gpt-image-2.6-flare" };
	size_t m;

	for (m = 0; m < 4; m++) {
		const char *g = gifs[m];

		one_image(g, "\"output_format\":\"gif\",\"frame_count\":3", 0, NULL);
		one_image(g, "\"output_format\":\"gif\",\"frame_count\":2,"
		    "\"frame_duration_ms\":100", 0, NULL);
		one_image(g, "\"output_format\":\"gif\"", 1, "stream: output_format gif");
		one_image(g, "\"output_format\":\"gif\",\"partial_images\":1", 1,
		    "partial_images: not with output_format gif");
		one_image(g, "\"output_format\":\"gif\",\"output_compression\":50", 0,
		    "output_compression: only supported with output_format jpeg or webp, got gif");
		one_image(g, "\"output_format\":\"png\",\"output_compression\":50", 0,
		    "output_compression: only supported with output_format jpeg or webp, got png");
		one_image(g, "\"output_compression\":50", 0, "output_compression: ");
		one_image(g, "\"frame_count\":3", 0,
		    "frame_count: only with output_format gif, got png (the default)");
		one_image(g, "\"output_format\":\"webp\",\"frame_duration_ms\":100", 0,
		    "frame_duration_ms: only with output_format gif, got webp");
		one_image(g, "\"output_format\":\"gif\",\"frame_count\":1", 0, "frame_count: ");
		one_image(g, "\"output_format\":\"gif\",\"frame_count\":17", 0, "frame_count: ");
		one_image(g, "\"output_format\":\"gif\",\"frame_duration_ms\":0", 0,
		    "frame_duration_ms: ");
		in[0] = input(INPUT_IMAGE, "a.png", &png256);
		in[1] = input(INPUT_MASK, "m.png", &png256);
		try(g, "\"output_format\":\"gif\"", 0, in, 2,
		    "mask: not with output_format gif");
		try(g, "", 0, in, 2, NULL);
		in[1] = input(INPUT_MARKUP, "k.png", &png256);
		try(g, "", 0, in, 2, NULL);
		try(g, "\"output_format\":\"gif\"", 0, in, 2, NULL);
		in[2] = input(INPUT_MASK, "m.png", &png256);
		try(g, "", 0, in, 3, "markup: cannot be combined with mask");
		in[1] = input(INPUT_MARKUP, "k.png", &png512);
		try(g, "", 0, in, 2, "markup: k.png: 512x512, must match the first image's 256x256");
		in[1] = input(INPUT_MARKUP, "k.png", &rgb256);
		try(g, "", 0, in, 2, "markup: k.png: must have an alpha channel");
		in[1] = input(INPUT_MARKUP, "k.gif", &gif_bytes);
		try(g, "", 0, in, 2, "markup: k.gif: ");
		in[1] = input(INPUT_MARKUP, "k.png", &png256);
		in[2] = input(INPUT_MARKUP, "k2.png", &png256);
		try(g, "", 0, in, 3, "markup: at most one");
	}
	in[0] = input(INPUT_IMAGE, "a.png", &png256);
	in[1] = input(INPUT_MARKUP, "k.png", &png256);
	try("gpt-image-2", "", 0, in, 2, "markup: not supported by gpt-image-2");
	try("gpt-image-1.5", "", 0, in, 2, "markup: not supported by gpt-image-1.5");
	try("dall-e-2", "", 0, in, 2, "markup: not supported by dall-e-2");
	try(NULL, "", 0, in, 2, NULL);
	one_image("gpt-image-2", "\"output_format\":\"gif\"", 0, "output_format: ");
	one_image("gpt-image-2", "\"complexity\":\"low\"", 0,
	    "complexity: not supported by gpt-image-2");
	one_image("gpt-image-2.5-flare", "\"complexity\":\"low\"", 0,
	    "complexity: not supported by gpt-image-2.5-flare");
	one_image("gpt-image-2", "\"input_fidelity\":\"high\"", 0,
	    "input_fidelity: not supported by gpt-image-2");
	one_image("gpt-image-2", "\"response_format\":\"url\"", 0,
	    "response_format: not supported by gpt-image-2");
	one_image("gpt-image-2.6-flare", "\"background\":\"transparent\","
	    "\"output_format\":\"gif\"", 0, "background: ");
	/* no model: generic, but the API-wide ranges and svg still hold */
	one_image(NULL, "\"output_format\":\"gif\",\"frame_count\":3", 0, NULL);
	one_image(NULL, "\"output_format\":\"svg\"", 0, "output_format: ");
	one_image(NULL, "\"frame_count\":1", 0, "frame_count: ");
	one_image(NULL, "\"quality\":\"max\",\"complexity\":\"low\"", 0, NULL);
}

/* Streaming by default: by the model, and never for GIF. */
static void
can_stream(void)
{
	static const struct {
		const char *params;
		int streams;
	} v[] = {
		{ "{}", 1 }, { "{\"model\":\"dall-e-2\"}", 0 },
		{ "{\"model\":\"gpt-image-2\"}", 1 },
		{ "{\"model\":\"gpt-image-2.6-flare\",\"output_format\":\"gif\"}", 0 },
		{ "{\"output_format\":\"gif\"}", 0 },
		{ "{\"model\":\"gpt-image-2.5-flare\",\"output_format\":\"webp\"}", 1 },
	};
	json_t *p;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		p = json_loads(v[i].params, 0, NULL);
		CHECK_INT(jobspec_can_stream(p), v[i].streams);
		json_decref(p);
	}
}

int
main(void)
{
	static const unsigned char gif[] = "GIF89a\x10\0\x10\0\0\0\0;";

	png256 = testpng_make(256, 256, PNG_COLOR_TYPE_RGBA, 8, 0);
	png512 = testpng_make(512, 512, PNG_COLOR_TYPE_RGBA, 8, 0);
	rgb256 = testpng_make(256, 256, PNG_COLOR_TYPE_RGB, 8, 0);
	gif_bytes.p = malloc(sizeof(gif));
	memcpy(gif_bytes.p, gif, sizeof(gif));
	gif_bytes.len = sizeof(gif) - 1;
	rows();
	parameters();
	sizes();
	parse_size();
	combinations();
	can_stream();
	free(png256.p);
	free(png512.p);
	free(rgb256.p);
	free(gif_bytes.p);
	return tu_finish("test_models");
}
