/* edits.c: POST /v1/images/edits: the form, auth, --rpm, the checks, the fault
 * this request draws, and the reply built from them: SSE, JSON or an error. */
#include "fake_upstream.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <zlib.h>

#define B64_MARK	"@@B64@@"	/* where an image goes in a dumped JSON */

struct sbuf {
	char	*p;
	size_t	 len, cap;
};

/* What the request asked for, with the API's defaults. */
struct params {
	const char	*prompt, *model, *size, *quality, *background;
	const char	*output_format, *response_format;
	long		 n, partials;
	long		 frames, frame_ms;	/* output_format=gif */
	int		 stream;
	int		 nimages;	/* image and image[] parts */
	int		 has_mask;
	long		 image_tokens;	/* --bill-table: the inputs' */
	int		 bill;		/* --bill-table */
};

struct form {
	json_t		*fields, *files;
	int		 nimages, nmasks;
	long		 image_tokens;	/* --bill-table */
	struct mp_part	 parts[64];	/* the file parts: bytes in the body, */
	char		 names[64][3][128];	/* names copied here */
	size_t		 nparts;
	int		 rule_bad;	/* the table's rules refuse it: */
	char		 rule_param[64], rule_msg[600];
	struct reqctx	*ctx;		/* keeps the first image (--derive) */
};

struct lines {
	const char	*eol;
	int		 noevent, comments, split;
};

static void
sb_add(struct sbuf *sb, const char *s, size_t len)
{
	if (sb->len + len + 1 > sb->cap) {
		sb->cap = (sb->len + len + 1) * 2;
		sb->p = xreallocarray(sb->p, sb->cap, 1);
	}
	memcpy(sb->p + sb->len, s, len);
	sb->len += len;
	sb->p[sb->len] = '\0';
}

static void
sb_str(struct sbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

/* ---- the form */

/* A file part for rules_check: its strings live only in the callback. */
static void
keep_part(struct form *form, const struct mp_part *part)
{
	char		(*n)[128] = form->names[form->nparts];
	struct mp_part	*k = &form->parts[form->nparts++];

	*k = *part;
	snprintf(n[0], sizeof(n[0]), "%s", part->name);
	k->name = n[0];
	if (part->filename != NULL) {
		snprintf(n[1], sizeof(n[1]), "%s", part->filename);
		k->filename = n[1];
	}
	if (part->ctype != NULL) {
		snprintf(n[2], sizeof(n[2]), "%s", part->ctype);
		k->ctype = n[2];
	}
}

static void
on_part(const struct mp_part *part, void *arg)
{
	struct form	*form = arg;
	json_t		*name;
	char		 hex[65];
	int		 image;

	image = strcmp(part->name, "image") == 0 ||
	    strcmp(part->name, "image[]") == 0;
	name = jtext(part->name, strlen(part->name));
	if (part->filename == NULL && !image && strcmp(part->name, "mask") != 0 &&
	    strcmp(part->name, "markup") != 0) {
		json_object_set_new(form->fields, json_string_value(name),
		    jtext(part->data, part->len));
		json_decref(name);
		return;
	}
	form->nimages += image;
	if (form->nparts < sizeof(form->parts) / sizeof(form->parts[0]))
		keep_part(form, part);
	form->nmasks += strcmp(part->name, "mask") == 0;
	if (image && form->ctx->srv->bill_table)
		form->image_tokens += bill_image_tokens(part->data, part->len);
	if (image && form->ctx->srv->derive && form->ctx->first_input == NULL) {
		form->ctx->first_input = xcalloc(part->len + 1, 1);
		memcpy(form->ctx->first_input, part->data, part->len);
		form->ctx->first_len = part->len;
	}
	sha256_hex(part->data, part->len, hex);
	json_array_append_new(form->files, json_pack("{s:o,s:o,s:o,s:I,s:s}",
	    "name", name, "filename", jtext_or_null(part->filename),
	    "content_type", jtext_or_null(part->ctype),
	    "size", (json_int_t)part->len, "sha256", hex));
}

/* Parses the body into the log's fields and files, then frees the body. */
static int
parse_form(struct reqctx *ctx, struct form *form, char *err, size_t errlen)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(ctx->req);
	const char	*ctype;
	char		 boundary[128];
	size_t		 len = evbuffer_get_length(in);
	unsigned char	*body;
	int		 r;

	form->fields = json_object_get(ctx->log, "fields");
	form->files = json_object_get(ctx->log, "files");
	form->nimages = form->nmasks = 0;
	form->image_tokens = 0;
	form->nparts = 0;
	form->rule_bad = 0;
	form->ctx = ctx;
	ctype = evhttp_find_header(evhttp_request_get_input_headers(ctx->req),
	    "Content-Type");
	if (mp_boundary(ctype, boundary, sizeof(boundary)) == -1) {
		snprintf(err, errlen, "Invalid Content-Type header (%s), "
		    "expected multipart/form-data with a boundary.",
		    ctype ? ctype : "none");
		evbuffer_drain(in, len);
		return -1;
	}
	body = evbuffer_pullup(in, -1);
	r = mp_parse(body, len, boundary, on_part, form, err, errlen);
	/* while the parts' bytes are there */
	if (r == 0 && form->nimages > 0 && json_object_get(form->fields,
	    "prompt") != NULL)
		form->rule_bad = rules_check(form->fields, form->parts,
		    form->nparts, form->rule_param, sizeof(form->rule_param),
		    form->rule_msg, sizeof(form->rule_msg)) == -1;
	form->nparts = 0;
	evbuffer_drain(in, len);
	return r;
}

/* ---- auth and --rpm */

static int
auth_ok(struct reqctx *ctx)
{
	const char	*h;

	h = evhttp_find_header(evhttp_request_get_input_headers(ctx->req),
	    "Authorization");
	return h != NULL && strncmp(h, "Bearer ", 7) == 0 &&
	    strcmp(h + 7, ctx->srv->key) == 0;
}

/* A duration as OpenAI writes it: "850ms", "1s", "17.5s", "6m0s". */
static void
go_duration(int64_t ms, char *buf, size_t len)
{
	char	 sec[32];
	size_t	 n;

	if (ms < 1000) {
		snprintf(buf, len, "%lldms", (long long)ms);
		return;
	}
	snprintf(sec, sizeof(sec), "%lld.%03lld", (long long)(ms % 60000 / 1000),
	    (long long)(ms % 1000));
	for (n = strlen(sec); sec[n - 1] == '0'; n--)
		sec[n - 1] = '\0';
	if (sec[n - 1] == '.')
		sec[n - 1] = '\0';
	if (ms < 60000)
		snprintf(buf, len, "%ss", sec);
	else
		snprintf(buf, len, "%lldm%ss", (long long)(ms / 60000), sec);
}

static void
header_num(struct reqctx *ctx, const char *key, long long v)
{
	char	 buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	reply_header(ctx, key, buf);
}

/*
 * --rpm: a fixed window (60 s) opened by its first request.  Every response
 * has the x-ratelimit-*-requests headers; a request over the limit (when
 * counted) gets 429 and returns -1.
 */
static int
rate_check(struct reqctx *ctx, int count)
{
	struct fake_server	*srv = ctx->srv;
	int64_t			 now = now_ms(), reset;
	char			 dur[32], msg[256];
	int			 full;

	if (srv->rpm <= 0)
		return 0;
	if (srv->rate_start == 0 ||
	    now - srv->rate_start >= srv->rpm_window_ms) {
		srv->rate_start = now;
		srv->rate_used = 0;
	}
	reset = srv->rate_start + srv->rpm_window_ms - now;
	full = count && srv->rate_used >= srv->rpm;
	if (count && !full)
		srv->rate_used++;
	go_duration(reset, dur, sizeof(dur));
	header_num(ctx, "x-ratelimit-limit-requests", srv->rpm);
	header_num(ctx, "x-ratelimit-remaining-requests",
	    srv->rpm - srv->rate_used);
	reply_header(ctx, "x-ratelimit-reset-requests", dur);
	if (!full)
		return 0;
	header_num(ctx, "retry-after-ms", reset);
	header_num(ctx, "retry-after", (reset + 999) / 1000);
	json_object_set_new(ctx->log, "fault", json_string("ratelimit"));
	snprintf(msg, sizeof(msg), "Rate limit reached for requests per min "
	    "(RPM): Limit %ld, Used %ld, Requested 1. Please try again in %s.",
	    srv->rpm, srv->rate_used, dur);
	reply_error(ctx, 429, msg, "requests", NULL, "rate_limit_exceeded");
	return -1;
}

/* ---- the request's parameters */

static const char *
field(json_t *fields, const char *key, const char *def)
{
	const char	*v = json_string_value(json_object_get(fields, key));

	return v != NULL ? v : def;
}

static int
int_field(json_t *fields, const char *key, long def, long min, long max,
    long *out)
{
	const char	*v = field(fields, key, NULL);
	char		*end;

	*out = def;
	if (v == NULL)
		return 0;
	*out = strtol(v, &end, 10);
	return *v != '\0' && *end == '\0' && *out >= min && *out <= max ? 0 : -1;
}

static int
invalid(struct reqctx *ctx, const char *param, const char *message)
{
	reply_error(ctx, 400, message, "invalid_request_error", param,
	    "invalid_value");
	return -1;
}

/* The API's output format rules (models.c's, as upstream answers them):
 * svg is not for edits; gif takes frames 2..16 and excludes streaming,
 * partial images, a mask and compression; frames need gif. */
static int
check_formats(struct reqctx *ctx, json_t *f, struct params *p)
{
	int gif = strcmp(p->output_format, "gif") == 0;

	if (strcmp(p->output_format, "svg") == 0)
		return invalid(ctx, "output_format", "SVG output is not supported "
		    "for image edits.");
	if (!gif && (json_object_get(f, "frame_count") != NULL ||
	    json_object_get(f, "frame_duration_ms") != NULL))
		return invalid(ctx, json_object_get(f, "frame_count") ?
		    "frame_count" : "frame_duration_ms", "Frame options are "
		    "only supported with output_format=gif.");
	if (int_field(f, "frame_count", 9, 2, 16, &p->frames) == -1)
		return invalid(ctx, "frame_count", "Invalid value for "
		    "'frame_count': expected an integer between 2 and 16.");
	if (int_field(f, "frame_duration_ms", 200, 1, 2147483647L,
	    &p->frame_ms) == -1)
		return invalid(ctx, "frame_duration_ms", "Invalid value for "
		    "'frame_duration_ms'.");
	if (gif && p->stream)
		return invalid(ctx, "stream", "GIF output does not support "
		    "streaming.");
	if (gif && json_object_get(f, "partial_images") != NULL)
		return invalid(ctx, "partial_images", "GIF output does not "
		    "support partial images.");
	if (gif && json_object_get(f, "output_compression") != NULL)
		return invalid(ctx, "output_compression", "GIF output does not "
		    "support output_compression.");
	if (gif && p->has_mask)
		return invalid(ctx, "mask", "GIF output does not support masks.");
	return 0;
}

/* The fields with their defaults; replies 400 and returns -1 if unusable. */
static int
get_params(struct reqctx *ctx, const struct form *form, struct params *p)
{
	json_t	*f = form->fields;

	p->prompt = field(f, "prompt", NULL);
	p->model = field(f, "model", "dall-e-2");
	p->size = field(f, "size", "1024x1024");
	p->quality = field(f, "quality", "high");
	p->background = field(f, "background", "opaque");
	p->output_format = field(f, "output_format", "png");
	p->response_format = field(f, "response_format", NULL);
	p->stream = strcmp(field(f, "stream", ""), "true") == 0;
	p->nimages = form->nimages;
	p->has_mask = form->nmasks > 0;
	p->image_tokens = form->image_tokens;
	p->bill = ctx->srv->bill_table;
	if (p->prompt == NULL)
		reply_error(ctx, 400, "Missing required parameter: 'prompt'.",
		    "invalid_request_error", "prompt",
		    "missing_required_parameter");
	else if (form->nimages == 0)
		reply_error(ctx, 400, "Missing required parameter: 'image'.",
		    "invalid_request_error", "image",
		    "missing_required_parameter");
	else if (int_field(f, "n", 1, 1, 10, &p->n) == -1)
		reply_error(ctx, 400, "Invalid value for 'n': expected an "
		    "integer between 1 and 10.", "invalid_request_error", "n",
		    "invalid_value");
	else if (int_field(f, "partial_images", 0, 0, 3, &p->partials) == -1)
		reply_error(ctx, 400, "Invalid value for 'partial_images': "
		    "expected an integer between 0 and 3.",
		    "invalid_request_error", "partial_images", "invalid_value");
	else if (form->rule_bad)
		reply_error(ctx, 400, form->rule_msg, "invalid_request_error",
		    form->rule_param, "invalid_value");
	else
		return check_formats(ctx, f, p);
	return -1;
}

static json_t *
usage_json(const struct params *p, const struct fault *f)
{
	json_t		*u;
	json_int_t	 text = 50, image = 10 * p->nimages, out = 1000 * p->n;

	if (p->bill) {
		text = bill_text_tokens(p->prompt);
		image = p->image_tokens;
		out = p->n * (bill_output_tokens(p->quality, p->size) +
		    (p->stream ? 100 * p->partials : 0));
	}

	u = json_pack("{s:I,s:I,s:I,s:{s:I,s:I}}",
	    "total_tokens", f->usage_total_set ? (json_int_t)f->usage_total :
	    text + image + out, "input_tokens", text + image,
	    "output_tokens", out, "input_tokens_details",
	    "text_tokens", text, "image_tokens", image);
	if (u != NULL && f->usage_nodetails)
		json_object_del(u, "input_tokens_details");
	return u;
}

/* --derive: each image made from the first input, by kind and index. */
static void
derive_images(struct reqctx *ctx, const struct params *p, int partials)
{
	unsigned char	*buf;
	size_t		 i, len;
	int		 final;

	if (!ctx->srv->derive)
		return;
	for (i = 0; i < ctx->nimages; i++) {
		final = (int)i >= partials;
		if (derive_image(ctx->first_input, ctx->first_len, p->size,
		    p->prompt, final, final ? (int)i - partials : (int)i, &buf,
		    &len) == 0)
			image_own(&ctx->images[i], buf, len);
	}
}

/* output_format=gif: each image a GIF of the frames asked, 32x32. */
static void
gif_images(struct reqctx *ctx, const struct params *p)
{
	unsigned char	*buf;
	size_t		 i, len;

	if (strcmp(p->output_format, "gif") != 0)
		return;
	for (i = 0; i < ctx->nimages; i++)
		if (gif_make(32 + 16 * (unsigned)i, 32, (unsigned)p->frames,
		    (unsigned)p->frame_ms, &buf, &len) == 0)
			image_own(&ctx->images[i], buf, len);
}

static void
make_images(struct reqctx *ctx, int partials, int finals)
{
	struct fake_server	*srv = ctx->srv;
	char			 tag[IMG_TAG_MAX];
	int			 i, final;

	ctx->nimages = partials + finals;
	ctx->images = xcalloc(ctx->nimages + 1, sizeof(*ctx->images));
	for (i = 0; i < partials + finals; i++) {
		final = i >= partials;
		snprintf(tag, sizeof(tag), "%lu-%s-%d", ctx->seq,
		    final ? "final" : "partial", final ? i - partials : i);
		if (image_make(&srv->png, tag, final ? "final" : "partial",
		    final ? i - partials : i, &ctx->images[i]) == -1)
			abort();
	}
}

/* ---- SSE */

/*
 * JSON text into data lines; with split, a new "data: " line after every
 * '{' and ',' outside strings (the lines join with '\n', which JSON allows
 * there).  in_str: the text starts inside a string.
 */
static void
framed(struct sbuf *sb, const struct lines *fr, const char *s, size_t len,
    int in_str)
{
	size_t	 i, from = 0;
	int	 esc = 0;

	for (i = 0; fr->split && i < len; i++) {
		if (in_str) {
			if (esc)
				esc = 0;
			else if (s[i] == '\\')
				esc = 1;
			else if (s[i] == '"')
				in_str = 0;
		} else if (s[i] == '"')
			in_str = 1;
		else if (s[i] == ',' || s[i] == '{') {
			sb_add(sb, s + from, i + 1 - from);
			sb_str(sb, fr->eol);
			sb_str(sb, "data: ");
			from = i + 1;
		}
	}
	sb_add(sb, s + from, len - from);
}

/* One event; image >= 0 goes where B64_MARK is in ev (which is consumed). */
static void
add_event(struct reqctx *ctx, const struct lines *fr, const char *name,
    json_t *ev, int image)
{
	struct sbuf	 sb = { NULL, 0, 0 };
	char		*text, *mark, *rest;

	if (ev == NULL || (text = json_dumps(ev, JSON_COMPACT)) == NULL)
		abort();
	json_decref(ev);
	mark = image >= 0 ? strstr(text, B64_MARK) : NULL;
	rest = mark != NULL ? mark + strlen(B64_MARK) : text + strlen(text);
	if (fr->comments) {
		sb_str(&sb, ": keep-alive");
		sb_str(&sb, fr->eol);
		sb_str(&sb, fr->eol);
	}
	if (!fr->noevent) {
		sb_str(&sb, "event: ");
		sb_str(&sb, name);
		sb_str(&sb, fr->eol);
	}
	if (fr->comments) {
		sb_str(&sb, ": ping");
		sb_str(&sb, fr->eol);
	}
	sb_str(&sb, "data: ");
	framed(&sb, fr, text, (mark != NULL ? mark : rest) - text, 0);
	if (mark != NULL) {
		reply_add_owned(ctx, sb.p, sb.len);
		memset(&sb, 0, sizeof(sb));
		reply_add_image(ctx, image, 1);
		framed(&sb, fr, rest, strlen(rest), 1);
	}
	sb_str(&sb, fr->eol);
	sb_str(&sb, fr->eol);
	reply_add_owned(ctx, sb.p, sb.len);
	reply_end_event(ctx);
	free(text);
}

/* A data-only frame: garbage, [DONE]. */
static void
add_data_line(struct reqctx *ctx, const struct lines *fr, const char *data,
    int event)
{
	struct sbuf	 sb = { NULL, 0, 0 };

	sb_str(&sb, "data: ");
	sb_str(&sb, data);
	sb_str(&sb, fr->eol);
	sb_str(&sb, fr->eol);
	reply_add_owned(ctx, sb.p, sb.len);
	if (event)
		reply_end_event(ctx);
}

static json_t *
event_json(const char *type, const struct params *p)
{
	return json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:s}", "type", type,
	    "b64_json", B64_MARK, "created_at", (json_int_t)time(NULL),
	    "size", p->size, "quality", p->quality, "background", p->background,
	    "output_format", p->output_format);
}

static void
add_error_event(struct reqctx *ctx, const struct lines *fr)
{
	add_event(ctx, fr, "error", json_pack("{s:s,s:{s:s,s:s,s:s}}",
	    "type", "error", "error", "type", "server_error", "code",
	    "server_error", "message", "The server had an error while "
	    "processing your request."), -1);
}

/*
 * partial_images partials then n completed (finals=K: only K); error-event
 * and garbage send one partial then their bad frame instead.  unknown-event
 * puts an event of a new type before the partials; trailing-event,
 * trailing-garbage and trailing-error add their frame after the last
 * completed.
 */
static void
build_stream(struct reqctx *ctx, const struct params *p, const struct fault *f)
{
	enum framing	 mode = ctx->srv->framing;
	struct lines	 fr = { f->crlf || mode == FRAMING_CRLF ? "\r\n" :
	    f->cr ? "\r" : "\n", f->noevent,
	    f->comments || mode == FRAMING_COMMENTS,
	    f->split || mode == FRAMING_MULTILINE };
	int		 broken = f->error_event || f->garbage, i;
	int		 np = broken ? 1 : p->partials, nf = broken ? 0 : p->n;
	json_t		*ev;

	if (f->finals >= 0 && f->finals < nf)
		nf = f->finals;
	make_images(ctx, np, nf);
	derive_images(ctx, p, np);
	gif_images(ctx, p);
	ctx->status = 200;
	ctx->chunked = 1;
	ctx->gap_ms = ctx->srv->latency_ms;
	reply_header(ctx, "Content-Type", "text/event-stream");
	reply_header(ctx, "Cache-Control", "no-cache");
	if (f->unknown_event)
		add_event(ctx, &fr, "image_edit.something_new",
		    json_pack("{s:s}", "type", "image_edit.something_new"), -1);
	for (i = 0; i < np; i++) {
		ev = event_json("image_edit.partial_image", p);
		json_object_set_new(ev, "partial_image_index", json_integer(i));
		add_event(ctx, &fr, "image_edit.partial_image", ev, i);
	}
	if (f->error_event)
		add_error_event(ctx, &fr);
	if (f->garbage)
		add_data_line(ctx, &fr, "this is not json", 1);
	for (i = 0; i < nf; i++) {
		ev = event_json("image_edit.completed", p);
		json_object_set_new(ev, "usage", usage_json(p, f));
		add_event(ctx, &fr, "image_edit.completed", ev, np + i);
	}
	if (f->trailing_event)
		add_event(ctx, &fr, "image_edit.usage_summary",
		    json_pack("{s:s,s:s}", "type", "image_edit.usage_summary",
		    "note", "newer API event"), -1);
	if (f->trailing_garbage)
		add_data_line(ctx, &fr, "this is not json", 1);
	if (f->trailing_error)
		add_error_event(ctx, &fr);
	if (f->done)
		add_data_line(ctx, &fr, "[DONE]", 0);
}

/* ---- JSON */

/* http://HOST:PORT of url results: ours, or url-host's and url-port's. */
static void
url_origin(struct reqctx *ctx, const struct fault *f, char *buf, size_t len)
{
	const char	*port = strrchr(ctx->srv->origin, ':');
	const char	*host = ctx->srv->origin + strlen("http://");
	int		 hostlen;

	if (port == NULL || strncmp(ctx->srv->origin, "http://", 7) != 0) {
		snprintf(buf, len, "%s", ctx->srv->origin);
		return;
	}
	hostlen = (int)(port - host);
	if (f->url_host[0] != '\0') {
		host = f->url_host;
		hostlen = (int)strlen(host);
	}
	if (f->url_port != 0)
		snprintf(buf, len, "http://%.*s:%ld", hostlen, host, f->url_port);
	else
		snprintf(buf, len, "http://%.*s%s", hostlen, host, port);
}

static json_t *
url_item(struct reqctx *ctx, const struct fault *f, int i)
{
	const struct image	*img = &ctx->images[i];
	char			 tag[IMG_TAG_MAX], token[64], url[256];
	char			 origin[128];

	snprintf(tag, sizeof(tag), "%lu-final-%d", ctx->seq, i);
	files_add(ctx->srv, tag, i, f, img, token, sizeof(token));
	url_origin(ctx, f, origin, sizeof(origin));
	snprintf(url, sizeof(url), "%s/files/%s.png", origin, token);
	json_array_append_new(json_object_get(ctx->log, "urls"),
	    json_pack("{s:i,s:s,s:s,s:I}", "index", i, "url", url,
	    "sha256", img->sha256, "size", (json_int_t)img->size));
	return json_pack("{s:s}", "url", url);
}

/* {"created","data":[{"b64_json"}|{"url"}...],"usage"}; url for
 * response_format=url, and for dall-e-2 when it is absent.  n items in
 * data, or K with finals=K. */
static void
build_json(struct reqctx *ctx, const struct params *p, const struct fault *f)
{
	json_t	*data = json_array(), *body;
	char	*text, *s, *mark;
	int	 url, i, nf = p->n;

	url = p->response_format != NULL ?
	    strcmp(p->response_format, "url") == 0 :
	    strcmp(p->model, "dall-e-2") == 0;
	if (f->finals >= 0 && f->finals < nf)
		nf = f->finals;
	make_images(ctx, 0, nf);
	derive_images(ctx, p, 0);
	gif_images(ctx, p);
	if (url)
		json_object_set_new(ctx->log, "urls", json_array());
	for (i = 0; i < nf; i++)
		json_array_append_new(data, url ? url_item(ctx, f, i) :
		    json_pack("{s:s}", "b64_json", B64_MARK));
	body = json_pack("{s:I,s:o,s:o}", "created", (json_int_t)time(NULL),
	    "data", data, "usage", usage_json(p, f));
	if (body == NULL || (text = json_dumps(body, JSON_COMPACT)) == NULL)
		abort();
	json_decref(body);
	ctx->status = 200;
	reply_header(ctx, "Content-Type", "application/json");
	for (s = text, i = 0; (mark = strstr(s, B64_MARK)) != NULL; i++) {
		reply_add(ctx, s, mark - s, 0);
		reply_add_image(ctx, i, 1);
		s = mark + strlen(B64_MARK);
	}
	reply_add(ctx, s, strlen(s), 0);
	reply_end_event(ctx);
	free(text);
}

/* ---- faults */

/*
 * A 200 that is not what the API sends: an HTML page (a proxy's), or a
 * JSON answer gzip-encoded although nobody asked for it.
 */
static void
build_odd(struct reqctx *ctx, const struct fault *f)
{
	static const char page[] = "<html><head><title>502 Bad Gateway"
	    "</title></head><body>nginx</body></html>\n";
	static const char json[] = "{\"created\":1,\"data\":[{\"b64_json\":"
	    "\"iVBORw0KGgo=\"}]}";
	z_stream	 z;
	char		*out;
	size_t		 cap = 256;

	ctx->status = 200;
	if (f->html) {
		reply_header(ctx, "Content-Type", "text/html");
		reply_add(ctx, page, sizeof(page) - 1, 0);
		reply_end_event(ctx);
		return;
	}
	memset(&z, 0, sizeof(z));
	out = xcalloc(cap, 1);
	if (deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	z.next_in = (unsigned char *)(uintptr_t)json;
	z.avail_in = sizeof(json) - 1;
	z.next_out = (unsigned char *)out;
	z.avail_out = cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	reply_header(ctx, "Content-Type", "application/json");
	reply_header(ctx, "Content-Encoding", "gzip");
	reply_add_owned(ctx, out, cap - z.avail_out);
	reply_end_event(ctx);
	deflateEnd(&z);
}

static void
fault_apply(struct reqctx *ctx, const struct fault *f)
{
	char		 date[64];
	time_t		 t;
	struct tm	 tm;

	if (f->retry_after_ms >= 0)
		header_num(ctx, "retry-after-ms", f->retry_after_ms);
	if (f->retry_after >= 0)
		header_num(ctx, "retry-after", f->retry_after);
	if (f->retry_after_date >= 0) {
		t = time(NULL) + f->retry_after_date;
		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		reply_header(ctx, "Retry-After", date);
	}
	if (f->should_retry >= 0)
		reply_header(ctx, "x-should-retry",
		    f->should_retry ? "true" : "false");
	ctx->delay_ms = f->delay_ms;
	ctx->slow_bytes = f->slow_bytes;
	ctx->slow_ms = f->slow_ms;
	ctx->hang = f->hang;
}

/* The item of the prompt's fault list for this request; -1 if it replied. */
static int
fault_get(struct reqctx *ctx, const char *prompt, struct fault *f)
{
	char		 item[256], err[300];
	unsigned long	 k = 0;
	int		 r;

	fault_clear(f);
	if (strstr(prompt, "[[fault:") != NULL)
		k = fc_next(ctx->srv->counts, prompt);
	if ((r = fault_pick(prompt, k, item, sizeof(item))) == -1) {
		reply_error(ctx, 400, "fake-upstream: [[fault: without ]]",
		    "invalid_request_error", "prompt", "fake_upstream_fault");
		return -1;
	}
	if (r == 0 || item[0] == '\0')
		return 0;
	if (strcmp(item, "ok") != 0)
		json_object_set_new(ctx->log, "fault", json_string(item));
	if (fault_parse(item, f, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		reply_error(ctx, 400, err, "invalid_request_error", "prompt",
		    "fake_upstream_fault");
		return -1;
	}
	return 0;
}

void
edits_handle(struct reqctx *ctx)
{
	struct form	 form;
	struct params	 p;
	struct fault	 f;
	char		 err[256];
	int		 bad, ok;

	bad = parse_form(ctx, &form, err, sizeof(err)) == -1;
	ok = auth_ok(ctx);
	json_object_set_new(ctx->log, "auth_ok", json_boolean(ok));
	json_object_set_new(ctx->log, "stream",
	    json_boolean(strcmp(field(form.fields, "stream", ""), "true") == 0));
	if (!ok) {
		rate_check(ctx, 0);
		reply_error(ctx, 401, "Incorrect API key provided.",
		    "invalid_request_error", NULL, "invalid_api_key");
	} else if (rate_check(ctx, 1) == -1)
		;
	else if (bad)
		reply_error(ctx, 400, err, "invalid_request_error", NULL, NULL);
	else if (get_params(ctx, &form, &p) == 0 &&
	    fault_get(ctx, p.prompt, &f) == 0) {
		fault_apply(ctx, &f);
		if (f.status != 0)
			reply_error(ctx, f.status, f.message, f.type, f.param,
			    f.code);
		else if (f.html || f.gzip)
			build_odd(ctx, &f);
		else if (p.stream)
			build_stream(ctx, &p, &f);
		else
			build_json(ctx, &p, &f);
		if (f.cut)
			reply_cut(ctx, 0, 1);
		else if (f.cut_after >= 0)
			reply_cut(ctx, f.cut_after, 0);
	}
	reply_go(ctx);
}
