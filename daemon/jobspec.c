/* jobspec.c: checks an edit job by the per-model rules of SPEC §1 before it is
 * sent. A model is one row of `models`, a parameter one row of `params`. */
#include "jobspec.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "util.h"

#define MIB		((size_t)1024 * 1024)
#define FMT(f)		(1U << (f))
#define ALL_FORMATS	(FMT(IMG_PNG) | FMT(IMG_JPEG) | FMT(IMG_WEBP))

/* One bit per row of `params`: which parameters a model supports. */
enum {
	P_N = 1 << 0, P_SIZE = 1 << 1, P_QUALITY = 1 << 2, P_BACKGROUND = 1 << 3,
	P_OUTPUT_FORMAT = 1 << 4, P_OUTPUT_COMPRESSION = 1 << 5,
	P_INPUT_FIDELITY = 1 << 6, P_PARTIAL_IMAGES = 1 << 7,
	P_RESPONSE_FORMAT = 1 << 8, P_USER = 1 << 9, P_ALL = (1 << 10) - 1
};

/* Where a string parameter's allowed values come from. */
enum vlist { V_ANY, V_FIXED, V_SIZES, V_QUALITIES };

struct model {
	const char		*name;
	size_t			 max_images;	/* 0: no limit */
	unsigned		 formats;	/* FMT(IMG_*) accepted as an image */
	size_t			 max_image_bytes; /* each image must be smaller */
	int			 square;	/* images must be square */
	size_t			 mask_max_bytes;
	size_t			 prompt_max;	/* code points; 0: no limit */
	const char *const	*sizes, *const *qualities;
	unsigned		 params;	/* P_* supported */
	int			 streaming;
	int			 generic;	/* unknown model: types only */
};

struct param {
	const char		*name;
	unsigned		 bit;
	int			 is_int;
	long long		 min, max;	/* integers */
	int			 range_always;	/* range checked for unknown models too */
	enum vlist		 list;		/* strings */
	const char *const	*values;	/* V_FIXED */
};

static const char *const dalle2_sizes[] = { "256x256", "512x512", "1024x1024", NULL };
static const char *const gpt1_sizes[] = { "1024x1024", "1536x1024", "1024x1536", "auto", NULL };
static const char *const dalle2_qualities[] = { "standard", NULL };
static const char *const gpt1_qualities[] = { "low", "medium", "high", "auto", NULL };
static const char *const backgrounds[] = { "transparent", "opaque", "auto", NULL };
static const char *const output_formats[] = { "png", "jpeg", "webp", NULL };
static const char *const fidelities[] = { "high", "low", NULL };
static const char *const response_formats[] = { "url", "b64_json", NULL };

#define GPT_PARAMS (P_N | P_SIZE | P_QUALITY | P_BACKGROUND | P_OUTPUT_FORMAT | \
	P_OUTPUT_COMPRESSION | P_INPUT_FIDELITY | P_PARTIAL_IMAGES | P_USER)

/* Row 0 is the API's default model, row 1 the one it switches to when a
 * parameter only row 1 accepts is used; the last row serves unknown models. */
static const struct model models[] = {
	{ "dall-e-2", 1, FMT(IMG_PNG), 4 * MIB, 1, 4 * MIB, 1000,
	  dalle2_sizes, dalle2_qualities,
	  P_N | P_SIZE | P_QUALITY | P_RESPONSE_FORMAT | P_USER, 0, 0 },
	{ "gpt-image-1", 16, ALL_FORMATS, 50 * MIB, 0, 4 * MIB, 32000,
	  gpt1_sizes, gpt1_qualities, GPT_PARAMS, 1, 0 },
	{ NULL, 0, ALL_FORMATS, 50 * MIB, 0, 50 * MIB, 0, NULL, NULL, P_ALL, 1, 1 },
};
#define DEFAULT_MODEL	(&models[0])
#define INFERRED_MODEL	(&models[1])
#define GENERIC_MODEL	(&models[sizeof(models) / sizeof(models[0]) - 1])

static const struct param params[] = {
	{ "n", P_N, 1, 1, 10, 1, V_ANY, NULL },
	{ "size", P_SIZE, 0, 0, 0, 0, V_SIZES, NULL },
	{ "quality", P_QUALITY, 0, 0, 0, 0, V_QUALITIES, NULL },
	{ "background", P_BACKGROUND, 0, 0, 0, 0, V_FIXED, backgrounds },
	{ "output_format", P_OUTPUT_FORMAT, 0, 0, 0, 0, V_FIXED, output_formats },
	{ "output_compression", P_OUTPUT_COMPRESSION, 1, 0, 100, 0, V_ANY, NULL },
	{ "input_fidelity", P_INPUT_FIDELITY, 0, 0, 0, 0, V_FIXED, fidelities },
	{ "partial_images", P_PARTIAL_IMAGES, 1, 0, 3, 0, V_ANY, NULL },
	{ "response_format", P_RESPONSE_FORMAT, 0, 0, 0, 0, V_FIXED, response_formats },
	{ "user", P_USER, 0, 0, 0, 0, V_ANY, NULL },
};
#define NPARAMS (sizeof(params) / sizeof(params[0]))

struct ctx {
	const struct model	*m;
	const char		*model_name;
	int			 implicit_default; /* no model given, dall-e-2 chosen */
	char			*err;
	size_t			 errlen;
};

/* A failure under the default model that the inferred one would not have:
 * says the model was only a default. */
static int
model_fail(const struct ctx *c, int inferred_ok)
{
	size_t n;

	/* err holds a message only when there was room for one */
	if (inferred_ok && c->implicit_default && c->err != NULL &&
	    c->errlen > 0 && (n = strnlen(c->err, c->errlen)) < c->errlen)
		snprintf(c->err + n, c->errlen - n, " (no model given, so %s; set model "
		    "to %s for this)", DEFAULT_MODEL->name, INFERRED_MODEL->name);
	return -1;
}

/* A JSON value as text for messages, cut to fit buf. */
static const char *
show(const json_t *v, char *buf, size_t size)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

	snprintf(buf, size, "%s", s != NULL ? s : "?");
	if (s != NULL && strlen(s) >= size && size > 4)
		memcpy(buf + size - 4, "...", 4);
	free(s);
	return buf;
}

/* The value of key, with JSON null read as absent (upstream skips nulls). */
static const json_t *
get(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

/* A JSON integer, or a string of decimal digits (form fields are strings). */
static int
int_value(const json_t *v, long long *out)
{
	const char *s;
	size_t i, len;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	len = json_string_length(v);
	i = (len > 0 && s[0] == '-');
	if (len == i || len - i > 18 || strspn(s + i, "0123456789") != len - i)
		return -1;
	*out = strtoll(s, NULL, 10);
	return 0;
}

static int
in_list(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static void
join(const char *const *list, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; *list != NULL && n < size; list++) {
		snprintf(buf + n, size - n, "%s%s", n ? ", " : "", *list);
		n += strlen(buf + n);
	}
}

static const char *const *
allowed_values(const struct model *m, const struct param *p)
{
	switch (p->list) {
	case V_FIXED:
		return p->values;
	case V_SIZES:
		return m->sizes;
	case V_QUALITIES:
		return m->qualities;
	default:
		return NULL;
	}
}

/* Checks one present value of p for model m; err may be NULL (a probe). */
static int
check_value(const struct model *m, const char *model_name, const struct param *p,
    const json_t *v, char *err, size_t errlen)
{
	const char *const *vals = allowed_values(m, p);
	char shown[64], list[128];
	long long x;

	if (!(m->params & p->bit))
		return errorf(err, errlen, "%s: not supported by %s", p->name, model_name);
	if (p->is_int) {
		if (int_value(v, &x) == -1 || ((!m->generic || p->range_always) &&
		    (x < p->min || x > p->max)))
			return errorf(err, errlen, "%s: must be an integer between %lld "
			    "and %lld, got %s", p->name, p->min, p->max,
			    show(v, shown, sizeof(shown)));
		return 0;
	}
	if (!json_is_string(v))
		return errorf(err, errlen, "%s: must be a string, got %s", p->name,
		    show(v, shown, sizeof(shown)));
	if (m->generic || vals == NULL || in_list(vals, json_string_value(v)))
		return 0;
	join(vals, list, sizeof(list));
	return errorf(err, errlen, "%s: '%.40s' is not one of %s for %s", p->name,
	    json_string_value(v), list, model_name);
}

static const struct model *
find_model(const char *name)
{
	size_t i;

	for (i = 0; models[i].name != NULL; i++)
		if (strcmp(models[i].name, name) == 0)
			return &models[i];
	return GENERIC_MODEL;
}

/* The API's rule: the default model unless a parameter (or value) is used
 * that only the inferred model accepts, e.g. background, output_format,
 * output_compression, input_fidelity, partial_images, quality low/medium/
 * high/auto, size 1536x1024/1024x1536/auto. Invalid values for both models
 * switch nothing. Only params decide, never the stream flag or the inputs:
 * with no model field upstream applies its documented default, so a stream,
 * several images or a JPEG with no model is refused, with a hint to set it. */
const char *
jobspec_model(const json_t *params_obj)
{
	const json_t *v;
	size_t i;

	if (!json_is_object(params_obj))
		return DEFAULT_MODEL->name;
	if ((v = get(params_obj, "model")) != NULL && json_is_string(v))
		return json_string_value(v);
	for (i = 0; i < NPARAMS; i++) {
		if ((v = get(params_obj, params[i].name)) == NULL)
			continue;
		if (check_value(INFERRED_MODEL, INFERRED_MODEL->name, &params[i], v,
		    NULL, 0) == 0 && check_value(DEFAULT_MODEL, DEFAULT_MODEL->name,
		    &params[i], v, NULL, 0) == -1)
			return INFERRED_MODEL->name;
	}
	return DEFAULT_MODEL->name;
}

int
jobspec_can_stream(const json_t *params_obj)
{
	return find_model(jobspec_model(params_obj))->streaming;
}

int
jobspec_n(const json_t *params_obj)
{
	const json_t *v = json_is_object(params_obj) ? get(params_obj, "n") : NULL;
	long long n;

	if (v != NULL && int_value(v, &n) == 0 && n >= 1 && n <= 10)
		return (int)n;
	return 1;
}

static int
check_model(struct ctx *c, const json_t *p)
{
	const json_t *v = get(p, "model");
	char shown[64];

	if (v != NULL && !json_is_string(v))
		return errorf(c->err, c->errlen, "model: must be a string, got %s",
		    show(v, shown, sizeof(shown)));
	if (v != NULL && json_string_length(v) == 0)
		return errorf(c->err, c->errlen, "model: must not be empty");
	c->model_name = jobspec_model(p);
	c->m = find_model(c->model_name);
	c->implicit_default = v == NULL && c->m == DEFAULT_MODEL;
	return 0;
}

/* Code points in s[0..len), or -1 (and the bad offset) if not UTF-8. */
static long
utf8_count(const unsigned char *s, size_t len, size_t *bad)
{
	size_t i = 0, k, need;
	uint32_t cp, min;
	long n = 0;

	while (i < len) {
		*bad = i;
		if (s[i] < 0x80) {
			i++, n++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			need = 1, cp = s[i] & 0x1f, min = 0x80;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			need = 2, cp = s[i] & 0x0f, min = 0x800;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			need = 3, cp = s[i] & 0x07, min = 0x10000;
		else
			return -1;
		if (len - i <= need)
			return -1;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		i += need + 1;
		n++;
	}
	return n;
}

static int
check_prompt(struct ctx *c, const json_t *p)
{
	const json_t *v = get(p, "prompt");
	char shown[64];
	size_t len, bad = 0;
	long n;

	if (v == NULL)
		return errorf(c->err, c->errlen, "prompt: required");
	if (!json_is_string(v))
		return errorf(c->err, c->errlen, "prompt: must be a string, got %s",
		    show(v, shown, sizeof(shown)));
	if ((len = json_string_length(v)) == 0)
		return errorf(c->err, c->errlen, "prompt: must not be empty");
	if (memchr(json_string_value(v), '\0', len) != NULL)
		return errorf(c->err, c->errlen, "prompt: contains a NUL character");
	n = utf8_count((const unsigned char *)json_string_value(v), len, &bad);
	if (n < 0)
		return errorf(c->err, c->errlen, "prompt: not valid UTF-8 at byte %zu", bad);
	if (c->m->prompt_max != 0 && (size_t)n > c->m->prompt_max) {
		errorf(c->err, c->errlen, "prompt: %ld characters, at most %zu allowed "
		    "for %s", n, c->m->prompt_max, c->model_name);
		return model_fail(c, (size_t)n <= INFERRED_MODEL->prompt_max);
	}
	return 0;
}

static int
check_params(struct ctx *c, const json_t *p)
{
	static const char *const files[] = { "image", "image[]", "mask", NULL };
	const json_t *v;
	size_t i;

	for (i = 0; files[i] != NULL; i++)
		if (json_object_get(p, files[i]) != NULL)
			return errorf(c->err, c->errlen, "%s: files go in the job's "
			    "inputs, not in params", files[i]);
	for (i = 0; i < NPARAMS; i++) {
		if ((v = get(p, params[i].name)) == NULL)
			continue;
		if (check_value(c->m, c->model_name, &params[i], v, c->err,
		    c->errlen) == -1)
			return model_fail(c, check_value(INFERRED_MODEL, "",
			    &params[i], v, NULL, 0) == 0);
	}
	return 0;
}

/* Rules between parameters (known models only). */
static int
check_combinations(struct ctx *c, const json_t *p, int stream)
{
	const json_t *bg = get(p, "background"), *of = get(p, "output_format");
	const char *fmt = of != NULL ? json_string_value(of) : "png";

	if (c->m->generic)
		return 0;
	if (bg != NULL && strcmp(json_string_value(bg), "transparent") == 0 &&
	    strcmp(fmt, "png") != 0 && strcmp(fmt, "webp") != 0)
		return errorf(c->err, c->errlen, "background: 'transparent' needs "
		    "output_format png or webp, got %s", fmt);
	if (get(p, "output_compression") != NULL && strcmp(fmt, "jpeg") != 0 &&
	    strcmp(fmt, "webp") != 0)
		return errorf(c->err, c->errlen, "output_compression: only supported "
		    "with output_format jpeg or webp, got %s%s", fmt,
		    of == NULL ? " (the default)" : "");
	if (get(p, "partial_images") != NULL && !stream)
		return errorf(c->err, c->errlen, "partial_images: only allowed when "
		    "streaming (the job's stream flag is off)");
	return 0;
}

/* The stream flag, and a "stream" key in params that upstream would drop. */
static int
check_stream(struct ctx *c, const json_t *p, int stream)
{
	const json_t *v = get(p, "stream");

	if (v != NULL && !json_is_boolean(v))
		return errorf(c->err, c->errlen, "stream: must be a boolean");
	if (v != NULL && json_is_true(v) != (stream != 0))
		return errorf(c->err, c->errlen, "stream: params say %s but the job's "
		    "stream flag is %s", json_is_true(v) ? "true" : "false",
		    stream ? "on" : "off");
	if (stream && !c->m->streaming) {
		errorf(c->err, c->errlen, "stream: %s does not support streaming",
		    c->model_name);
		return model_fail(c, INFERRED_MODEL->streaming);
	}
	return 0;
}

static void
format_list(unsigned formats, char *buf, size_t size)
{
	static const enum img_format all[] = { IMG_PNG, IMG_JPEG, IMG_WEBP };
	const char *names[4] = { NULL };
	size_t i, n = 0;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (formats & FMT(all[i]))
			names[n++] = all[i] == IMG_WEBP ? "WebP" :
			    all[i] == IMG_PNG ? "PNG" : "JPEG";
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s",
		    i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
}

static const char *
upper_name(enum img_format f)
{
	return f == IMG_PNG ? "PNG" : f == IMG_JPEG ? "JPEG" : f == IMG_WEBP ? "WebP" : "?";
}

/* Size, real format, and the declared content type of one input. */
static int
check_bytes(struct ctx *c, const struct jobspec_input *in, const char *role,
    const char *name, size_t max, struct img_info *info)
{
	char why[160];
	enum img_format declared;

	if (in->size >= max) {
		errorf(c->err, c->errlen, "%s: %s: %zu bytes, must be less than %zu MB "
		    "for %s", role, name, in->size, max / MIB, c->model_name);
		return model_fail(c, strcmp(role, "image") == 0 &&
		    in->size < INFERRED_MODEL->max_image_bytes);
	}
	if (img_probe(in->data, in->size, info, why, sizeof(why)) == -1)
		return errorf(c->err, c->errlen, "%s: %s: %s", role, name, why);
	if (in->content_type == NULL || in->content_type[0] == '\0')
		return 0;
	if ((declared = img_format_from_name(in->content_type)) == IMG_UNKNOWN)
		return errorf(c->err, c->errlen, "%s: %s: declared type '%s' is not "
		    "image/png, image/jpeg or image/webp", role, name, in->content_type);
	if (declared != info->format)
		return errorf(c->err, c->errlen, "%s: %s: declared %s but the bytes are "
		    "a %s image", role, name, img_mime(declared), upper_name(info->format));
	return 0;
}

static int
check_image(struct ctx *c, const struct jobspec_input *in, const char *name,
    struct img_info *info)
{
	char list[64];

	if (check_bytes(c, in, "image", name, c->m->max_image_bytes, info) == -1)
		return -1;
	if (!(c->m->formats & FMT(info->format))) {
		format_list(c->m->formats, list, sizeof(list));
		errorf(c->err, c->errlen, "image: %s: %s accepts only %s images, got %s",
		    name, c->model_name, list, upper_name(info->format));
		return model_fail(c, (INFERRED_MODEL->formats & FMT(info->format)) != 0);
	}
	if (c->m->square && info->width != info->height) {
		errorf(c->err, c->errlen, "image: %s: %s needs a square image, got "
		    "%ux%u", name, c->model_name, info->width, info->height);
		return model_fail(c, !INFERRED_MODEL->square);
	}
	return 0;
}

static int
check_mask(struct ctx *c, const struct jobspec_input *in, const char *name,
    const struct img_info *first)
{
	struct img_info info;

	if (check_bytes(c, in, "mask", name, c->m->mask_max_bytes, &info) == -1)
		return -1;
	if (c->m->generic)
		return 0;
	if (info.format != IMG_PNG)
		return errorf(c->err, c->errlen, "mask: %s: must be a PNG image, got %s",
		    name, upper_name(info.format));
	if (!info.has_alpha)
		return errorf(c->err, c->errlen, "mask: %s: must have an alpha channel "
		    "(transparent areas mark where to edit)", name);
	if (info.width != first->width || info.height != first->height)
		return errorf(c->err, c->errlen, "mask: %s: %ux%u, must match the first "
		    "image's %ux%u", name, info.width, info.height, first->width,
		    first->height);
	return 0;
}

static int
check_count(struct ctx *c, size_t nimg, size_t nmask)
{
	if (nimg == 0)
		return errorf(c->err, c->errlen, "image: at least one image is required");
	if (c->m->max_images != 0 && nimg > c->m->max_images) {
		errorf(c->err, c->errlen, "image: %s accepts %s %zu image%s, got %zu",
		    c->model_name, c->m->max_images == 1 ? "exactly" : "at most",
		    c->m->max_images, c->m->max_images == 1 ? "" : "s", nimg);
		return model_fail(c, nimg <= INFERRED_MODEL->max_images);
	}
	if (nmask > 1)
		return errorf(c->err, c->errlen, "mask: at most one mask, got %zu", nmask);
	return 0;
}

static const char *
input_name(const struct jobspec_input *in, size_t i, char *buf, size_t size)
{
	if (in->filename != NULL && in->filename[0] != '\0')
		return in->filename;
	snprintf(buf, size, "(input %zu)", i + 1);
	return buf;
}

/* Images first (the mask is checked against the first one), then the mask. */
static int
check_inputs(struct ctx *c, const struct jobspec_input *in, size_t n)
{
	struct img_info info, first;
	char buf[32];
	size_t i, nimg = 0, nmask = 0;

	for (i = 0; i < n; i++)
		nmask += in[i].role == JOBSPEC_MASK;
	if (check_count(c, n - nmask, nmask) == -1)
		return -1;
	memset(&first, 0, sizeof(first));
	for (i = 0; i < n; i++) {
		if (in[i].role == JOBSPEC_MASK)
			continue;
		if (check_image(c, &in[i], input_name(&in[i], i, buf, sizeof(buf)),
		    &info) == -1)
			return -1;
		if (nimg++ == 0)
			first = info;
	}
	for (i = 0; i < n; i++)
		if (in[i].role == JOBSPEC_MASK && check_mask(c, &in[i],
		    input_name(&in[i], i, buf, sizeof(buf)), &first) == -1)
			return -1;
	return 0;
}

int
jobspec_validate(const json_t *params_obj, int stream,
    const struct jobspec_input *inputs, size_t ninputs, char *err, size_t errlen)
{
	struct ctx c = { NULL, NULL, 0, err, errlen };

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (!json_is_object(params_obj))
		return errorf(err, errlen, "params: must be a JSON object");
	if (ninputs > 0 && inputs == NULL)
		return errorf(err, errlen, "image: no input data");
	if (check_model(&c, params_obj) == -1 ||
	    check_prompt(&c, params_obj) == -1 ||
	    check_params(&c, params_obj) == -1 ||
	    check_combinations(&c, params_obj, stream) == -1 ||
	    check_stream(&c, params_obj, stream) == -1 ||
	    check_inputs(&c, inputs, ninputs) == -1)
		return -1;
	return 0;
}
