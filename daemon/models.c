/* models.c: the table of edit models (one row per family) and the rules that
 * are data rather than code: sizes, qualities, formats, shutdown dates.
 *
 * Checked on 2026-12-07 (MODELS_CHECKED) against:
 *  - the official Node SDK, npm `openai` 7.55.0, resources/images.d.ts:
 *    ImageEditParamsBase (models, sizes, qualities, complexity, output_format
 *    with gif, frame_count 2..16, frame_duration_ms, markup, input_fidelity,
 *    safety_identifier, response_format legacy) and ImageModel;
 *  - OpenAI's deprecations page, developers.openai.com/api/docs/deprecations
 *    (gpt-image-1-mini, gpt-image-1.5, chatgpt-image-latest: 2026-12-01, use
 *    gpt-image-2.6-sunburst or -flare) and the images API reference,
 *    developers.openai.com/api/reference/resources/images (gpt-image-1 shut
 *    down 2026-10-23, use gpt-image-2.5-sunburst or -flare; dall-e-2 and
 *    dall-e-3 retired 2026-05-12, "use a GPT image model");
 *  - the model pages developers.openai.com/api/docs/models/gpt-image-2.6-*
 *    (complexity, markup, GIF output) and the image generation guide.
 * Where the sources are silent: complexity is 2.6's alone (2.5 plans at a
 * fixed depth), GIF output and markup are 2.5's and 2.6's, input_fidelity
 * is every GPT image model's but gpt-image-2's (gpt-image-1-mini: low). */
#include "models.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

#define MIB		((size_t)1024 * 1024)
#define IN_ALL		(MODEL_FMT(IMG_PNG) | MODEL_FMT(IMG_JPEG) | MODEL_FMT(IMG_WEBP))

static const char *const dalle2_sizes[] = { "256x256", "512x512", "1024x1024", NULL };
static const char *const gpt_sizes[] = { "1024x1024", "1536x1024", "1024x1536", "auto", NULL };
static const char *const dalle2_qualities[] = { "standard", NULL };
static const char *const gpt_qualities[] = { "low", "medium", "high", "auto", NULL };
static const char *const gpt25_qualities[] = { "low", "medium", "high", "xhigh", "max",
	"auto", NULL };
static const char *const fidelities[] = { "high", "low", NULL };
static const char *const fidelity_low[] = { "low", NULL };
static const char *const outputs[] = { "png", "jpeg", "webp", NULL };
static const char *const outputs_gif[] = { "png", "jpeg", "webp", "gif", NULL };

/* What every GPT image model takes; the newer ones add to it. */
#define GPT_PARAMS (MP_N | MP_SIZE | MP_QUALITY | MP_BACKGROUND | \
	MP_OUTPUT_FORMAT | MP_OUTPUT_COMPRESSION | MP_PARTIAL_IMAGES | MP_USER | \
	MP_SAFETY_IDENTIFIER)
#define GIF_PARAMS (MP_FRAME_COUNT | MP_FRAME_DURATION_MS)

#define TO_25	"gpt-image-2.5-sunburst or gpt-image-2.5-flare"
#define TO_26	"gpt-image-2.6-sunburst or gpt-image-2.6-flare"

/* A retired GPT image model of 2025: listed sizes, fidelity, no GIF. */
#define GPT1_ROW(name, date, repl, fid) \
	{ name, date, repl, 16, IN_ALL, 50 * MIB, 0, 1, 4 * MIB, 0, 32000, \
	  SIZE_LISTED, gpt_sizes, gpt_qualities, fid, outputs, \
	  GPT_PARAMS | MP_INPUT_FIDELITY, 1, 0 }
/* A current family of 2026: any size by the rule, markup, GIF. */
#define GPT25_ROW(name, extra) \
	{ name, NULL, NULL, 16, IN_ALL, 50 * MIB, 0, 1, 4 * MIB, 1, 32000, \
	  SIZE_FLEXIBLE, gpt_sizes, gpt25_qualities, fidelities, outputs_gif, \
	  GPT_PARAMS | MP_INPUT_FIDELITY | GIF_PARAMS | (extra), 1, 0 }

static const struct model_family families[] = {
	{ "dall-e-2", "2026-05-12", TO_26, 1, MODEL_FMT(IMG_PNG), 4 * MIB, 1,
	  1, 4 * MIB, 0, 1000, SIZE_LISTED, dalle2_sizes, dalle2_qualities, NULL,
	  NULL, MP_N | MP_SIZE | MP_QUALITY | MP_RESPONSE_FORMAT | MP_USER, 0, 0 },
	/* never an edits model: nothing known beyond its shutdown */
	{ "dall-e-3", "2026-05-12", TO_26, 0, IN_ALL, 50 * MIB, 0, 1, 50 * MIB,
	  1, 0, SIZE_LISTED, NULL, NULL, NULL, NULL, MP_ALL, 0, 1 },
	GPT1_ROW("gpt-image-1", "2026-10-23", TO_25, fidelities),
	GPT1_ROW("gpt-image-1-mini", "2026-12-01", TO_26, fidelity_low),
	GPT1_ROW("gpt-image-1.5", "2026-12-01", TO_26, fidelities),
	GPT1_ROW("chatgpt-image-latest", "2026-12-01", TO_26, fidelities),
	{ "gpt-image-2", NULL, NULL, 16, IN_ALL, 50 * MIB, 0, 1, 4 * MIB, 0,
	  32000, SIZE_FLEXIBLE, gpt_sizes, gpt_qualities, NULL, outputs,
	  GPT_PARAMS, 1, 0 },
	GPT25_ROW("gpt-image-2.5-sunburst", 0),
	GPT25_ROW("gpt-image-2.5-flare", 0),
	GPT25_ROW("gpt-image-2.6-sunburst", MP_COMPLEXITY),
	GPT25_ROW("gpt-image-2.6-flare", MP_COMPLEXITY),
	/* unknown models: types and the API-wide ranges only */
	{ NULL, NULL, NULL, 0, IN_ALL, 50 * MIB, 0, 1, 50 * MIB, 1, 0,
	  SIZE_LISTED, NULL, NULL, NULL, NULL, MP_ALL, 1, 1 },
};
#define NFAMILIES	(sizeof(families) / sizeof(families[0]))
#define GENERIC		(&families[NFAMILIES - 1])

/* "-YYYY-MM-DD" exactly. */
static int
is_snapshot_suffix(const char *s)
{
	static const char pattern[] = "-dddd-dd-dd";
	size_t i;

	for (i = 0; pattern[i] != '\0'; i++) {
		if (pattern[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pattern[i])
			return 0;
	}
	return s[i] == '\0';
}

const struct model_family *
models_find(const char *name)
{
	size_t i, len;

	if (name == NULL)
		return GENERIC;
	for (i = 0; i + 1 < NFAMILIES; i++) {
		len = strlen(families[i].name);
		if (strncmp(name, families[i].name, len) == 0 &&
		    (name[len] == '\0' || is_snapshot_suffix(name + len)))
			return &families[i];
	}
	return GENERIC;
}

const struct model_family *
models_row(size_t i)
{
	return i < NFAMILIES ? &families[i] : NULL;
}

int
models_is_shut_down(const struct model_family *f, const char *today)
{
	return f->shutdown != NULL && today != NULL && strcmp(today, f->shutdown) >= 0;
}

int
models_in_list(const char *const *list, const char *s)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/* Decimal digits only, no sign, at most 5 of them. */
static int
edge(const char *s, size_t len, uint32_t *out)
{
	size_t i;

	if (len == 0 || len > 5)
		return -1;
	*out = 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*out = *out * 10 + (uint32_t)(s[i] - '0');
	}
	return 0;
}

int
models_parse_size(const char *size, uint32_t *w, uint32_t *h)
{
	const char *x = strchr(size, 'x');

	if (x == NULL || edge(size, (size_t)(x - size), w) == -1 ||
	    edge(x + 1, strlen(x + 1), h) == -1)
		return -1;
	return *w != 0 && *h != 0;
}

static int
flexible_size(const char *size, char *why, size_t whylen)
{
	uint32_t w, h, lo, hi;

	if (models_parse_size(size, &w, &h) == -1)
		return snprintf(why, whylen, "'%.40s' is not WIDTHxHEIGHT, "
		    "auto, 1024x1024, 1536x1024 or 1024x1536", size), -1;
	if (w == 0 || h == 0 || w % 16 != 0 || h % 16 != 0)
		return snprintf(why, whylen, "%ux%u: width and height must both "
		    "be positive multiples of 16", w, h), -1;
	lo = w < h ? w : h;
	hi = w < h ? h : w;
	if (hi > 3 * lo)
		return snprintf(why, whylen, "%ux%u: the aspect ratio must be "
		    "between 1:3 and 3:1", w, h), -1;
	if (hi > MODELS_LONG_EDGE_MAX || lo > MODELS_SHORT_EDGE_MAX)
		return snprintf(why, whylen, "%ux%u: at most %ux%u (or %ux%u)",
		    w, h, MODELS_LONG_EDGE_MAX, MODELS_SHORT_EDGE_MAX,
		    MODELS_SHORT_EDGE_MAX, MODELS_LONG_EDGE_MAX), -1;
	return 0;
}

int
models_check_size(const struct model_family *f, const char *size, char *why,
    size_t whylen)
{
	const char *const *l;
	size_t n = 0;

	if (f->generic || models_in_list(f->sizes, size))
		return 0;
	if (f->size_rule == SIZE_FLEXIBLE)
		return flexible_size(size, why, whylen);
	n = (size_t)snprintf(why, whylen, "'%.40s' is not one of ", size);
	for (l = f->sizes; l != NULL && *l != NULL && n < whylen; l++)
		n += (size_t)snprintf(why + n, whylen - n, "%s%s", *l,
		    l[1] != NULL ? ", " : "");
	return -1;
}
