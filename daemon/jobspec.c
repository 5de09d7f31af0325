/* jobspec.c: checks an edit job before it is sent, by the rules of its model
 * family (models.c) and of the API; a parameter is one row of `params`. */
#include "jobspec.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "models.h"
#include "util.h"

#define MIB		((size_t)1024 * 1024)
#define FMT(f)		MODEL_FMT(f)

/* Where a string parameter's allowed values come from. */
enum vlist { V_ANY, V_FIXED, V_SIZES, V_QUALITIES, V_FIDELITIES, V_OUTPUTS };

struct param {
	const char		*name;
	unsigned		 bit;
	int			 is_int;
	long long		 min, max;	/* integers */
	int			 range_always;	/* range checked for unknown models too */
	enum vlist		 list;		/* strings */
	const char *const	*values;	/* V_FIXED */
};

static const char *const backgrounds[] = { "transparent", "opaque", "auto", NULL };
static const char *const complexities[] = { "low", "medium", "high", NULL };
static const char *const response_formats[] = { "url", "b64_json", NULL };

static const struct param params[] = {
	{ "n", MP_N, 1, 1, 10, 1, V_ANY, NULL },
	{ "size", MP_SIZE, 0, 0, 0, 0, V_SIZES, NULL },
	{ "quality", MP_QUALITY, 0, 0, 0, 0, V_QUALITIES, NULL },
	{ "background", MP_BACKGROUND, 0, 0, 0, 0, V_FIXED, backgrounds },
	{ "output_format", MP_OUTPUT_FORMAT, 0, 0, 0, 0, V_OUTPUTS, NULL },
	{ "output_compression", MP_OUTPUT_COMPRESSION, 1, 0, 100, 0, V_ANY, NULL },
	{ "input_fidelity", MP_INPUT_FIDELITY, 0, 0, 0, 0, V_FIDELITIES, NULL },
	{ "partial_images", MP_PARTIAL_IMAGES, 1, 0, 3, 0, V_ANY, NULL },
	{ "response_format", MP_RESPONSE_FORMAT, 0, 0, 0, 0, V_FIXED, response_formats },
	{ "user", MP_USER, 0, 0, 0, 0, V_ANY, NULL },
	{ "safety_identifier", MP_SAFETY_IDENTIFIER, 0, 0, 0, 0, V_ANY, NULL },
	{ "complexity", MP_COMPLEXITY, 0, 0, 0, 0, V_FIXED, complexities },
	{ "frame_count", MP_FRAME_COUNT, 1, MODELS_FRAMES_MIN, MODELS_FRAMES_MAX, 1,
	  V_ANY, NULL },
	{ "frame_duration_ms", MP_FRAME_DURATION_MS, 1, 1, INT32_MAX, 1, V_ANY, NULL },
};
#define NPARAMS (sizeof(params) / sizeof(params[0]))

struct ctx {
	const struct model_family *m;
	const char		*model_name;	/* "" when none was given */
	const char		*out_format;	/* output_format, or NULL */
	char			*err;
	size_t			 errlen;
};
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
allowed_values(const struct model_family *m, const struct param *p)
{
	switch (p->list) {
	case V_FIXED:
		return p->values;
	case V_SIZES:
		return m->sizes;
	case V_QUALITIES:
		return m->qualities;
	case V_FIDELITIES:
		return m->fidelities;
	case V_OUTPUTS:
		return m->output_formats;
	default:
		return NULL;
	}
}

/* Checks one present value of p for model m; err may be NULL (a probe). */
static int
check_value(const struct model_family *m, const char *model_name,
    const struct param *p, const json_t *v, char *err, size_t errlen)
{
	const char *const *vals = allowed_values(m, p);
	char shown[64], list[128], why[160];
	long long x;

	if (p->list == V_OUTPUTS && json_is_string(v) &&
	    strcmp(json_string_value(v), "svg") == 0)
		return errorf(err, errlen, "%s: 'svg' is for image generations "
		    "only, edits take png, jpeg, webp or gif", p->name);
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
	if (p->list == V_SIZES && !m->generic) {
		if (models_check_size(m, json_string_value(v), why, sizeof(why)) == 0)
			return 0;
		return errorf(err, errlen, "%s: %s for %s", p->name, why, model_name);
	}
	if (m->generic || vals == NULL || models_in_list(vals, json_string_value(v)))
		return 0;
	join(vals, list, sizeof(list));
	return errorf(err, errlen, "%s: '%.40s' is not one of %s for %s", p->name,
	    json_string_value(v), list, model_name);
}

/* The model field as sent: no inference (upstream picks its own default
 * when there is none, and the rules applied are then the generic ones). */
const char *
jobspec_model(const json_t *params_obj)
{
	const json_t *v;

	if (!json_is_object(params_obj))
		return NULL;
	if ((v = get(params_obj, "model")) != NULL && json_is_string(v) &&
	    json_string_length(v) > 0 &&
	    strlen(json_string_value(v)) == json_string_length(v))
		return json_string_value(v);
	return NULL;
}

/* GIF output (and SVG, which edits refuse anyway) is never streamed. */
static int
format_streams(const json_t *params_obj)
{
	const json_t *v = json_is_object(params_obj) ?
	    get(params_obj, "output_format") : NULL;
	const char *f = json_string_value(v);

	return f == NULL || (strcmp(f, "gif") != 0 && strcmp(f, "svg") != 0);
}

int
jobspec_can_stream(const json_t *params_obj)
{
	return models_find(jobspec_model(params_obj))->streaming &&
	    format_streams(params_obj);
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

int
jobspec_partial_images(const json_t *params_obj)
{
	const json_t *v = json_is_object(params_obj) ?
	    get(params_obj, "partial_images") : NULL;
	long long n;

	if (v != NULL && int_value(v, &n) == 0 && n >= 0 && n <= 3)
		return (int)n;
	return 0;
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
	if (v != NULL && strlen(json_string_value(v)) != json_string_length(v))
		return errorf(c->err, c->errlen, "model: contains a NUL character");
	c->model_name = v != NULL ? json_string_value(v) : "";
	c->m = models_find(v != NULL ? c->model_name : NULL);
	v = get(p, "output_format");
	c->out_format = json_is_string(v) ? json_string_value(v) : NULL;
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
	if (c->m->prompt_max != 0 && (size_t)n > c->m->prompt_max)
		return errorf(c->err, c->errlen, "prompt: %ld characters, at most "
		    "%zu allowed for %s", n, c->m->prompt_max, c->model_name);
	return 0;
}

static int
check_params(struct ctx *c, const json_t *p)
{
	static const char *const files[] = { "image", "image[]", "mask", "markup",
	    NULL };
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
			return -1;
	}
	return 0;
}

/* Whether the output is a GIF: what GIF excludes is refused around it. */
static int
is_gif(const struct ctx *c)
{
	return c->out_format != NULL && strcmp(c->out_format, "gif") == 0;
}

/* GIF's own rules: frames only with it; no partial images with it (the
 * stream flag is check_stream's, the mask check_mask's). */
static int
check_gif(struct ctx *c, const json_t *p)
{
	static const char *const frame_keys[] = { "frame_count",
	    "frame_duration_ms", NULL };
	size_t i;

	for (i = 0; !is_gif(c) && frame_keys[i] != NULL; i++)
		if (get(p, frame_keys[i]) != NULL)
			return errorf(c->err, c->errlen, "%s: only with "
			    "output_format gif, got %s", frame_keys[i],
			    c->out_format != NULL ? c->out_format : "png (the default)");
	if (is_gif(c) && get(p, "partial_images") != NULL)
		return errorf(c->err, c->errlen, "partial_images: not with "
		    "output_format gif (a GIF is never streamed)");
	return 0;
}

/* Rules between parameters (known models only). */
static int
check_combinations(struct ctx *c, const json_t *p, int stream)
{
	const json_t *bg = get(p, "background");
	const char *fmt = c->out_format != NULL ? c->out_format : "png";

	if (c->m->generic)
		return 0;
	if (check_gif(c, p) == -1)
		return -1;
	if (bg != NULL && strcmp(json_string_value(bg), "transparent") == 0 &&
	    strcmp(fmt, "png") != 0 && strcmp(fmt, "webp") != 0)
		return errorf(c->err, c->errlen, "background: 'transparent' needs "
		    "output_format png or webp, got %s", fmt);
	if (get(p, "output_compression") != NULL && strcmp(fmt, "jpeg") != 0 &&
	    strcmp(fmt, "webp") != 0)
		return errorf(c->err, c->errlen, "output_compression: only supported "
		    "with output_format jpeg or webp, got %s%s", fmt,
		    c->out_format == NULL ? " (the default)" : "");
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
	if (stream && !c->m->streaming)
		return errorf(c->err, c->errlen, "stream: %s does not support "
		    "streaming", c->model_name);
	if (stream && !c->m->generic && !format_streams(p))
		return errorf(c->err, c->errlen, "stream: output_format %s is not "
		    "streamed (use --no-stream)", c->out_format);
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
	return f == IMG_PNG ? "PNG" : f == IMG_JPEG ? "JPEG" : f == IMG_WEBP ? "WebP" :
	    f == IMG_GIF ? "GIF" : "?";
}

/* Size, real format, and the declared content type of one input. */
static int
check_bytes(struct ctx *c, const struct jobspec_input *in, const char *role,
    const char *name, size_t max, struct img_info *info)
{
	char why[160];
	enum img_format declared;

	if (in->size >= max)
		return errorf(c->err, c->errlen, "%s: %s: %zu bytes, must be less "
		    "than %zu MB%s%s", role, name, in->size, max / MIB,
		    c->m->generic ? "" : " for ", c->m->generic ? "" : c->model_name);
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
	if (!(c->m->image_formats & FMT(info->format))) {
		format_list(c->m->image_formats, list, sizeof(list));
		return errorf(c->err, c->errlen, "image: %s: %s accepts only %s "
		    "images, got %s", name, c->m->generic ? "the API" :
		    c->model_name, list, upper_name(info->format));
	}
	if (c->m->square && info->width != info->height)
		return errorf(c->err, c->errlen, "image: %s: %s needs a square "
		    "image, got %ux%u", name, c->model_name, info->width,
		    info->height);
	return 0;
}

/* A mask or a markup: a PNG with alpha the size of the first image. */
static int
check_overlay(struct ctx *c, const struct jobspec_input *in, const char *role,
    const char *name, size_t max, const struct img_info *first)
{
	struct img_info info;

	if (check_bytes(c, in, role, name, max, &info) == -1)
		return -1;
	if (c->m->generic)
		return 0;
	if (info.format != IMG_PNG)
		return errorf(c->err, c->errlen, "%s: %s: must be a PNG image, got %s",
		    role, name, upper_name(info.format));
	if (!info.has_alpha)
		return errorf(c->err, c->errlen, "%s: %s: must have an alpha channel "
		    "(%s)", role, name, strcmp(role, "mask") == 0 ? "transparent "
		    "areas mark where to edit" : "transparent where it adds nothing");
	if (info.width != first->width || info.height != first->height)
		return errorf(c->err, c->errlen, "%s: %s: %ux%u, must match the first "
		    "image's %ux%u", role, name, info.width, info.height, first->width,
		    first->height);
	return 0;
}

static int
check_count(struct ctx *c, size_t nimg, size_t nmask, size_t nmarkup)
{
	if (nimg == 0)
		return errorf(c->err, c->errlen, "image: at least one image is required");
	if (c->m->max_images != 0 && nimg > c->m->max_images)
		return errorf(c->err, c->errlen, "image: %s accepts %s %zu image%s, "
		    "got %zu", c->model_name, c->m->max_images == 1 ? "exactly" :
		    "at most", c->m->max_images, c->m->max_images == 1 ? "" : "s",
		    nimg);
	if (nmask > 1)
		return errorf(c->err, c->errlen, "mask: at most one mask, got %zu", nmask);
	if (nmarkup > 1)
		return errorf(c->err, c->errlen, "markup: at most one markup, got %zu",
		    nmarkup);
	if (nmarkup > 0 && nmask > 0)
		return errorf(c->err, c->errlen, "markup: cannot be combined with mask");
	if (nmask > 0 && !c->m->generic && is_gif(c))
		return errorf(c->err, c->errlen, "mask: not with output_format gif");
	if (nmask > 0 && !c->m->mask)
		return errorf(c->err, c->errlen, "mask: not supported by %s",
		    c->model_name);
	if (nmarkup > 0 && !c->m->markup)
		return errorf(c->err, c->errlen, "markup: not supported by %s",
		    c->model_name);
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

/* Images first (mask and markup are checked against the first one). */
static int
check_inputs(struct ctx *c, const struct jobspec_input *in, size_t n)
{
	struct img_info info, first;
	char buf[32];
	size_t i, nimg = 0, nmask = 0, nmarkup = 0;

	for (i = 0; i < n; i++) {
		nmask += in[i].role == INPUT_MASK;
		nmarkup += in[i].role == INPUT_MARKUP;
	}
	if (check_count(c, n - nmask - nmarkup, nmask, nmarkup) == -1)
		return -1;
	memset(&first, 0, sizeof(first));
	for (i = 0; i < n; i++) {
		if (in[i].role != INPUT_IMAGE)
			continue;
		if (check_image(c, &in[i], input_name(&in[i], i, buf, sizeof(buf)),
		    &info) == -1)
			return -1;
		if (nimg++ == 0)
			first = info;
	}
	for (i = 0; i < n; i++) {
		if (in[i].role == INPUT_IMAGE)
			continue;
		if (check_overlay(c, &in[i], input_role_name(in[i].role),
		    input_name(&in[i], i, buf, sizeof(buf)),
		    in[i].role == INPUT_MASK ? c->m->mask_max_bytes :
		    c->m->max_image_bytes, &first) == -1)
			return -1;
	}
	return 0;
}

int
jobspec_validate(const json_t *params_obj, int stream,
    const struct jobspec_input *inputs, size_t ninputs, char *err, size_t errlen)
{
	struct ctx c = { NULL, "", NULL, err, errlen };

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
