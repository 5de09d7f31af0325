/* upstream.c: one edit attempt: the multipart POST built with curl_mime, the
 * answer parsed as it arrives (SSE events or a JSON body), URL results fetched. */
#define _GNU_SOURCE
#include "upstream.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "image.h"
#include "log.h"
#include "payload.h"
#include "retry.h"
#include "sse.h"
#include "urlpolicy.h"
#include "util.h"

enum body_mode { MODE_UNKNOWN, MODE_SSE, MODE_BODY };

/* One HTTP transfer: the edit itself, or the download of one URL result. */
struct xfer {
	struct edit_call *call;
	CURL *easy;
	int download_idx;          /* -1 for the edit request */
	int added;                 /* in the multi handle (evcurl) now */
	char *url;                 /* a download's, until it starts */
	struct buf body;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	/* a download through the operator's download proxy: first a probe
	 * resolves the url's host (no connection), then the tunnel goes to
	 * the address it checked */
	int resolving;
	char pinned[72];           /* that address, [v6] bracketed, or "" */
	char refused_ip[64];       /* an internal address seen, or "" */
	struct curl_slist *connect_to;
};

/* Bytes of one input image sent as a mime part, read in place. */
struct part_src {
	const unsigned char *data;
	size_t size, pos;
};

struct edit_call {
	struct evcurl *ec;
	const struct upstream_config *cfg;
	const struct claimed_job *job;
	struct edit_callbacks cb;
	void *arg;

	struct xfer main;
	curl_mime *mime;
	struct part_src *parts;     /* one per job input */
	struct xfer *downloads;
	int ndownloads, next_download; /* one at a time: one slot, one transfer */

	enum body_mode mode;
	struct sse_parser *sse;
	struct payload_stream *payload; /* decodes each event's data as it streams */
	int partials, finals, expect_finals;
	int aborted, error_event, bad, too_large;
	int refused;                /* a url result the policy refused */
	int local_fault;            /* no descriptor for a socket (EMFILE) */
	char base_ip[64];           /* the address the edit request went to */
	long base_port;             /* and its port */
	int complete;               /* expect_finals delivered */
	int paused;                 /* should_pause said so */
	int was_paused;             /* ... at some time in this call */
	size_t skip;                /* bytes curl delivers again that were parsed */
	long http_status;           /* of the answer, once it began */

	char request_id[128];
	char content_type[128];
	char error_type[64], error_code[64], error_message[1024];
	int64_t input_tokens, output_tokens, total_tokens;
	char *usage_json;
	int64_t retry_after_ms;
	int retry_after_is_ms;      /* set by retry-after-ms: keep it */
	int should_retry;
	struct ratelimit_headers rl;
};

static void call_free(struct edit_call *call);

/* ---- the request ---- */

static size_t
part_read(char *buffer, size_t size, size_t nitems, void *arg)
{
	struct part_src *p = arg;
	size_t n = size * nitems;

	if (p->data == NULL)	/* released after the upload (never reached) */
		return CURL_READFUNC_ABORT;
	if (n > p->size - p->pos)
		n = p->size - p->pos;
	memcpy(buffer, p->data + p->pos, n);
	p->pos += n;
	return n;
}

static int
part_seek(void *arg, curl_off_t offset, int origin)
{
	struct part_src *p = arg;

	if (p->data == NULL || origin != SEEK_SET || offset < 0 ||
	    (size_t)offset > p->size)
		return CURL_SEEKFUNC_CANTSEEK;
	p->pos = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

/* The text a form field carries for a JSON value; caller frees. */
static char *
field_text(json_t *v)
{
	char *s = NULL;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return strdup(json_string_value(v));
	case JSON_INTEGER:
		if (asprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) == -1)
			return NULL;
		return s;
	case JSON_REAL:
		if (asprintf(&s, "%.17g", json_real_value(v)) == -1)
			return NULL;
		return s;
	case JSON_TRUE:
		return strdup("true");
	case JSON_FALSE:
		return strdup("false");
	case JSON_NULL:
		return NULL;
	default:
		return json_dumps(v, JSON_COMPACT);
	}
}

static int
add_field(curl_mime *mime, const char *name, const char *value)
{
	curl_mimepart *part = curl_mime_addpart(mime);

	if (part == NULL || curl_mime_name(part, name) != CURLE_OK ||
	    curl_mime_data(part, value, CURL_ZERO_TERMINATED) != CURLE_OK)
		return -1;
	return 0;
}

static int
add_params(curl_mime *mime, const char *params_text, int stream, char *err,
    size_t errlen)
{
	json_t *root, *v;
	json_error_t jerr;
	const char *key;
	char *text;
	int rc = -1;

	root = json_loads(params_text ? params_text : "", 0, &jerr);
	if (root == NULL || !json_is_object(root)) {
		snprintf(err, errlen, "params: not a JSON object (%s)",
		    root ? "other JSON type" : jerr.text);
		goto out;
	}
	json_object_foreach(root, key, v) {
		if (strcmp(key, "stream") == 0 || json_is_null(v))
			continue;
		if ((text = field_text(v)) == NULL ||
		    add_field(mime, key, text) == -1) {
			free(text);
			snprintf(err, errlen, "%s: cannot add to the request", key);
			goto out;
		}
		free(text);
	}
	if (stream && add_field(mime, "stream", "true") == -1)
		goto out;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static const char *
input_type(const struct job_input *in)
{
	struct img_info info;
	char err[128];

	if (in->content_type && *in->content_type)
		return in->content_type;
	if (img_probe(in->data, in->size, &info, err, sizeof(err)) == 0)
		return img_mime(info.format);
	return "application/octet-stream";
}

static int
add_inputs(struct edit_call *call, char *err, size_t errlen)
{
	const struct claimed_job *job = call->job;
	size_t i, nimages = 0;
	curl_mimepart *part;
	const char *name;

	for (i = 0; i < job->ninputs; i++)
		nimages += job->inputs[i].role == INPUT_IMAGE;
	if ((call->parts = calloc(job->ninputs ? job->ninputs : 1,
	    sizeof(*call->parts))) == NULL)
		goto nomem;
	for (i = 0; i < job->ninputs; i++) {
		const struct job_input *in = &job->inputs[i];
		if (in->role != INPUT_IMAGE)
			name = input_role_name(in->role);	/* mask, markup */
		else
			name = nimages > 1 ? "image[]" : "image";
		call->parts[i].data = in->data;
		call->parts[i].size = in->size;
		if ((part = curl_mime_addpart(call->mime)) == NULL ||
		    curl_mime_name(part, name) != CURLE_OK ||
		    curl_mime_filename(part, in->filename ? in->filename :
		    "image") != CURLE_OK ||
		    curl_mime_type(part, input_type(in)) != CURLE_OK ||
		    curl_mime_data_cb(part, (curl_off_t)in->size, part_read,
		    part_seek, NULL, &call->parts[i]) != CURLE_OK)
			goto nomem;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory building the request");
	return -1;
}

/* ---- the answer ---- */

static void
copy_str(char *dst, size_t n, const char *src)
{
	strlcpy_safe(dst, src, n);
}

static int
header_is(const char *line, size_t len, const char *name, const char **value,
    size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return 0;
	*value = line + n + 1;
	*vlen = len - n - 1;
	while (*vlen && (**value == ' ' || **value == '\t')) {
		(*value)++;
		(*vlen)--;
	}
	while (*vlen && isspace((unsigned char)(*value)[*vlen - 1]))
		(*vlen)--;
	return 1;
}

static void
header_copy(char *dst, size_t n, const char *v, size_t vlen)
{
	if (vlen >= n)
		vlen = n - 1;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
}

/* retry-after-ms wins over retry-after, whichever comes first. */
static void
parse_retry_after(struct edit_call *call, const char *v, size_t vlen, int in_ms)
{
	char tmp[128];
	int64_t ms;

	header_copy(tmp, sizeof(tmp), v, vlen);
	if ((in_ms || !call->retry_after_is_ms) &&
	    retry_after_parse(tmp, in_ms, now_ms(), &ms) == 0) {
		call->retry_after_ms = ms;
		call->retry_after_is_ms = in_ms;
	}
}

/* Records x-ratelimit-{limit,remaining,reset}-{requests,tokens}. */
static int
take_ratelimit_header(struct edit_call *call, const char *line, size_t len)
{
	static const struct { const char *name; int reset; size_t off; } h[] = {
	{ "x-ratelimit-limit-requests", 0, offsetof(struct ratelimit_headers, limit_requests) },
	{ "x-ratelimit-remaining-requests", 0, offsetof(struct ratelimit_headers, remaining_requests) },
	{ "x-ratelimit-reset-requests", 1, offsetof(struct ratelimit_headers, reset_requests_ms) },
	{ "x-ratelimit-limit-tokens", 0, offsetof(struct ratelimit_headers, limit_tokens) },
	{ "x-ratelimit-remaining-tokens", 0, offsetof(struct ratelimit_headers, remaining_tokens) },
	{ "x-ratelimit-reset-tokens", 1, offsetof(struct ratelimit_headers, reset_tokens_ms) },
	};
	const char *v;
	char tmp[64], *end;
	size_t i, vlen;
	int64_t *field, val;

	if (len < 12 || strncasecmp(line, "x-ratelimit-", 12) != 0)
		return 0;
	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		if (!header_is(line, len, h[i].name, &v, &vlen))
			continue;
		header_copy(tmp, sizeof(tmp), v, vlen);
		field = (int64_t *)(void *)((char *)&call->rl + h[i].off);
		if (h[i].reset) {
			if (ratelimit_parse_reset(tmp, &val) == 0)
				*field = val;
		} else {
			val = strtoll(tmp, &end, 10);
			if (end != tmp && *end == '\0' && val >= 0)
				*field = val;
		}
		return 1;
	}
	return 1;
}

static size_t
on_header(char *line, size_t size, size_t nitems, void *arg)
{
	struct xfer *x = arg;
	struct edit_call *call = x->call;
	size_t len = size * nitems, vlen;
	const char *v;

	if (x->download_idx >= 0)
		return len;
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue or a redirect) */
		call->request_id[0] = call->content_type[0] = '\0';
		call->retry_after_ms = -1;
		call->retry_after_is_ms = 0;
		call->should_retry = -1;
		ratelimit_headers_clear(&call->rl);
	} else if (take_ratelimit_header(call, line, len)) {
		;
	} else if (header_is(line, len, "x-request-id", &v, &vlen))
		header_copy(call->request_id, sizeof(call->request_id), v, vlen);
	else if (header_is(line, len, "content-type", &v, &vlen))
		header_copy(call->content_type, sizeof(call->content_type), v, vlen);
	else if (header_is(line, len, "retry-after-ms", &v, &vlen))
		parse_retry_after(call, v, vlen, 1);
	else if (header_is(line, len, "retry-after", &v, &vlen))
		parse_retry_after(call, v, vlen, 0);
	else if (header_is(line, len, "x-should-retry", &v, &vlen)) {
		if (vlen == 4 && strncasecmp(v, "true", 4) == 0)
			call->should_retry = 1;
		else if (vlen == 5 && strncasecmp(v, "false", 5) == 0)
			call->should_retry = 0;
	}
	return len;
}

static const char *
json_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static void
take_error(struct edit_call *call, json_t *error)
{
	json_t *code = json_object_get(error, "code");

	copy_str(call->error_type, sizeof(call->error_type),
	    json_str(error, "type"));
	if (json_is_string(code))
		copy_str(call->error_code, sizeof(call->error_code),
		    json_string_value(code));
	else if (json_is_integer(code))
		snprintf(call->error_code, sizeof(call->error_code),
		    "%" JSON_INTEGER_FORMAT, json_integer_value(code));
	copy_str(call->error_message, sizeof(call->error_message),
	    json_str(error, "message") ? json_str(error, "message") :
	    "upstream reported an error without a message");
}

/* The usage of the whole request. With n > 1 every image_edit.completed
 * repeats it, so the last one stands; it is never summed. */
static void
take_usage(struct edit_call *call, json_t *usage)
{
	if (!json_is_object(usage))
		return;
	call->input_tokens = json_integer_value(json_object_get(usage,
	    "input_tokens"));
	call->output_tokens = json_integer_value(json_object_get(usage,
	    "output_tokens"));
	call->total_tokens = json_integer_value(json_object_get(usage,
	    "total_tokens"));
	free(call->usage_json);
	call->usage_json = json_dumps(usage, JSON_COMPACT);
}

/* Over --max-event-bytes: the same answer would come again, so the
 * attempt fails for good rather than being paid for again. */
static void
set_too_large(struct edit_call *call, const char *what)
{
	if (call->bad || call->error_event)
		return;
	call->bad = call->too_large = 1;
	copy_str(call->error_type, sizeof(call->error_type),
	    "response_too_large");
	snprintf(call->error_message, sizeof(call->error_message),
	    "%s larger than %zu bytes (max-event-bytes)", what,
	    call->cfg->max_event_bytes);
}

/* A url result that points where it must not (urlpolicy.h): the attempt
 * fails for good, naming why; asking again would get the same. */
static void
set_refused(struct edit_call *call, const char *why)
{
	if (call->bad || call->error_event)
		return;
	call->bad = call->refused = 1;
	copy_str(call->error_type, sizeof(call->error_type), "url_refused");
	copy_str(call->error_message, sizeof(call->error_message), why);
}

static void
set_bad(struct edit_call *call, const char *fmt, const char *detail)
{
	if (call->bad || call->error_event)
		return;
	call->bad = 1;
	copy_str(call->error_type, sizeof(call->error_type), "bad_response");
	snprintf(call->error_message, sizeof(call->error_message), fmt,
	    detail ? detail : "");
}

/* Hands one decoded image to the caller. Returns 0, or -1 to abort. */
static int
deliver(struct edit_call *call, enum image_kind kind, int idx,
    int partial_index, const struct payload_image *pi, int slot,
    struct payload_image *buf, json_t *meta)
{
	struct upstream_image img = { 0 };
	struct img_info info;
	char err[128];

	img.call = call;
	img.slot = slot;
	img.buf = buf;
	img.kind = kind;
	img.idx = idx;
	img.partial_index = partial_index;
	img.data = pi->data;
	img.size = pi->size;
	img.quality = json_str(meta, "quality");
	img.background = json_str(meta, "background");
	img.reported_size = json_str(meta, "size");
	if (img_probe(pi->data, pi->size, &info, err, sizeof(err)) == 0) {
		img.format = img_name(info.format);
		img.width = (int)info.width;
		img.height = (int)info.height;
	} else {
		img.format = json_str(meta, "output_format") ?
		    json_str(meta, "output_format") : "bin";
		log_warn("image_unrecognised job=%lld kind=%s idx=%d reason=%s",
		    (long long)call->job->id, kind == IMAGE_FINAL ? "final" :
		    "partial", idx, LOG_Q(err));
	}
	if (kind == IMAGE_FINAL && ++call->finals >= call->expect_finals)
		call->complete = 1;
	if (call->cb.on_image(call->arg, &img) == -1) {
		call->aborted = 1;
		return -1;
	}
	return 0;
}

int
upstream_image_keep(const struct upstream_image *img, struct payload_image *out)
{
	if (img->slot >= 0) {
		payload_stream_take(img->call->payload, img->slot, out);
		return 0;
	}
	if (img->buf != NULL) { /* payload_extract's: not the pool's yet */
		*out = *img->buf;
		memset(img->buf, 0, sizeof(*img->buf));
		payload_pool_adopt(img->call->cfg->pool, out);
		return 0;
	}
	return payload_image_copy(img->call->cfg->pool, img->data, img->size,
	    out);
}

static const char *
event_type(const char *event, json_t *root)
{
	if (event[0] != '\0' && strcmp(event, "message") != 0)
		return event;
	return json_str(root, "type") ? json_str(root, "type") : "";
}

/* Data bytes of the current SSE event: decoded as they arrive. */
static int
on_sse_data(void *arg, const char *s, size_t n)
{
	struct edit_call *call = arg;
	char err[256];

	if (call->complete)
		return 0; /* every image came: the rest is not read */
	switch (payload_stream_feed(call->payload, s, n, err, sizeof(err))) {
	case 0:
		return 0;
	case PAYLOAD_TOO_BIG:
		set_too_large(call, "stream event");
		return 1;
	default:
		set_bad(call, "stream event: %s", err);
		return 1;
	}
}

/* A complete event's images, by its type; root is its JSON remainder. */
static int
take_event(struct edit_call *call, const char *type, json_t *root,
    const struct payload_image *imgs, int n)
{
	json_t *v;

	if (strcmp(type, "error") == 0 || json_is_object(json_object_get(root,
	    "error"))) {
		v = json_object_get(root, "error");
		take_error(call, json_is_object(v) ? v : root);
		call->error_event = 1;
		return 1;
	}
	if (strcmp(type, "image_edit.partial_image") == 0 && n == 1) {
		v = json_object_get(root, "partial_image_index");
		return deliver(call, IMAGE_PARTIAL, call->partials++,
		    json_is_integer(v) ? (int)json_integer_value(v) : -1,
		    &imgs[0], 0, NULL, root) == -1;
	}
	if (strcmp(type, "image_edit.completed") == 0 && n == 1) {
		take_usage(call, json_object_get(root, "usage"));
		return deliver(call, IMAGE_FINAL, call->finals, -1, &imgs[0], 0,
		    NULL, root) == -1;
	}
	if (strcmp(type, "image_edit.partial_image") == 0 ||
	    strcmp(type, "image_edit.completed") == 0) {
		set_bad(call, "stream event %s without exactly one b64_json", type);
		return 1;
	}
	return 0; /* other event types: ignored, for forward compatibility */
}

/* One SSE event: a partial image, the final image, or an error frame. Its
 * data went through on_sse_data; the images are already decoded. */
static int
on_sse_event(void *arg, const char *event, size_t event_len, char *unused,
    size_t unused_len)
{
	struct edit_call *call = arg;
	const struct payload_image *imgs;
	json_t *root = NULL;
	json_error_t jerr;
	char err[256], *data;
	size_t data_len;
	int n, rc = 1;

	(void)event_len, (void)unused, (void)unused_len;
	if (call->complete) { /* a frame after the last final, in the same read */
		payload_stream_reset(call->payload);
		return 0;
	}
	if ((n = payload_stream_end(call->payload, &data, &data_len, &imgs, err,
	    sizeof(err))) < 0) {
		set_bad(call, "stream event: %s", err);
		return 1;
	}
	if (data_len == 6 && memcmp(data, "[DONE]", 6) == 0) {
		rc = 0;
		goto out;
	}
	if ((root = json_loadb(data, data_len, 0, &jerr)) == NULL ||
	    !json_is_object(root)) {
		snprintf(err, sizeof(err), "%.80s", data);
		set_bad(call, "stream event data is not a JSON object: %s", err);
		goto out;
	}
	rc = take_event(call, event_type(event, root), root, imgs, n);
out:
	json_decref(root);
	payload_stream_reset(call->payload); /* what nobody took goes back */
	/* past the memory budget, the next event waits: paused here, between
	 * events, the stream holds no image buffer */
	if (rc == 0 && !call->complete && call->cb.should_pause != NULL &&
	    call->cb.should_pause(call->arg))
		rc = SSE_PAUSE;
	return rc;
}

static int
start_sse(struct edit_call *call)
{
	if ((call->sse = sse_new(on_sse_event, call,
	    call->cfg->max_event_bytes)) == NULL ||
	    (call->payload = payload_stream_new(call->cfg->max_event_bytes,
	    call->cfg->pool)) ==
	    NULL)
		return -1;
	sse_set_data_sink(call->sse, on_sse_data);
	return 0;
}

/* Upstream answers: if every input part was read to its end, the parts let
 * go of the job's bytes and the owner is told it may free them. */
static void
release_inputs(struct edit_call *call)
{
	size_t i;

	if (call->cb.on_inputs_sent == NULL || call->parts == NULL)
		return;
	for (i = 0; i < call->job->ninputs; i++)
		if (call->parts[i].pos != call->parts[i].size)
			return;
	for (i = 0; i < call->job->ninputs; i++)
		call->parts[i].data = NULL;
	call->cb.on_inputs_sent(call->arg);
}

/* Stream bytes to the SSE parser. A pause comes between events only (one
 * image half received would keep its buffer and free nothing): curl then
 * delivers the same bytes again on resume, and those already parsed are
 * skipped. */
static size_t
write_sse(struct edit_call *call, const char *ptr, size_t n)
{
	size_t skipped = call->skip < n ? call->skip : n, used;
	int rc;

	if (call->complete)
		return n; /* every image came: the rest is moot */
	call->skip -= skipped;
	if (skipped == n)
		return n;
	if (skipped == 0 && call->cb.should_pause != NULL &&
	    !payload_stream_busy(call->payload) &&
	    call->cb.should_pause(call->arg)) {
		call->paused = call->was_paused = 1;
		return CURL_WRITEFUNC_PAUSE;
	}
	rc = sse_feed_some(call->sse, ptr + skipped, n - skipped, &used);
	if (rc == SSE_PAUSE && skipped + used < n) {
		call->skip = skipped + used;
		call->paused = call->was_paused = 1;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (rc == SSE_ETOOBIG)
		set_too_large(call, "stream event");
	return rc == 0 || rc == SSE_PAUSE ? n : 0;
}

static size_t
on_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct edit_call *call = x->call;
	size_t n = size * nmemb;
	long status = 0;
	size_t cap = call->cfg->max_event_bytes;

	if (x->download_idx < 0 && call->mode == MODE_UNKNOWN) {
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
		if (call->cb.on_response != NULL)
			call->cb.on_response(call->arg, status,
			    call->request_id[0] ? call->request_id : NULL);
		release_inputs(call);
		call->http_status = status;
		call->mode = status / 100 == 2 && strncasecmp(call->content_type,
		    "text/event-stream", 17) == 0 ? MODE_SSE : MODE_BODY;
		if (call->mode == MODE_SSE && start_sse(call) == -1)
			return 0;
	}
	if (x->download_idx < 0 && call->mode == MODE_SSE)
		return write_sse(call, ptr, n);
	if (x->body.len + n > cap) {
		if (x->download_idx < 0 && call->http_status / 100 != 2)
			return n; /* an error's text: its start is enough */
		set_too_large(call, x->download_idx >= 0 ? "url result" :
		    "response body");
		return 0;
	}
	if (buf_append(&x->body, ptr, n) == -1) {
		set_bad(call, "response body: %s", "out of memory");
		return 0;
	}
	return n;
}

/* ---- transfers ---- */

static curl_socket_t open_main_socket(void *arg, curlsocktype purpose,
    struct curl_sockaddr *addr);

static int
xfer_init(struct xfer *x, struct edit_call *call, const char *url)
{
	const struct upstream_config *cfg = call->cfg;

	x->call = call;
	if ((x->easy = curl_easy_init()) == NULL)
		return -1;
	curl_easy_setopt(x->easy, CURLOPT_URL, url);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_write);
	/* 128 KiB reads: a 2 MB event in 16 recv()s and sink calls, not 128;
	 * the upload buffer, kept for the whole transfer, at its 16 KiB
	 * minimum (one request body per attempt: 256 streams, 12 MB less) */
	curl_easy_setopt(x->easy, CURLOPT_BUFFERSIZE, 128L * 1024);
	curl_easy_setopt(x->easy, CURLOPT_UPLOAD_BUFFERSIZE, 16L * 1024);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, cfg->total_timeout_ms);
	if (cfg->stall_timeout_s > 0) {
		curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_TIME, cfg->stall_timeout_s);
	}
	curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "imgedit/" IMGEDIT_VERSION);
	curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETFUNCTION, open_main_socket);
	curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETDATA, x);
	return 0;
}

/* Stops x if it is still in the multi handle: once. */
static void
xfer_stop(struct edit_call *call, struct xfer *x)
{
	if (x->easy != NULL && x->added) {
		evcurl_remove(call->ec, x->easy);
		x->added = 0;
	}
}

static void
xfer_cleanup(struct edit_call *call, struct xfer *x, int remove)
{
	struct curl_slist *l;

	if (x->easy) {
		if (remove)
			xfer_stop(call, x);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
	}
	for (l = x->headers; l != NULL; l = l->next) /* the Authorization */
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(x->headers);
	x->headers = NULL;
	curl_slist_free_all(x->connect_to);
	x->connect_to = NULL;
	buf_free(&x->body);
	free(x->url);
	x->url = NULL;
}

static int
add_header(struct xfer *x, const char *name, const char *value)
{
	char *line;
	struct curl_slist *l;

	if (asprintf(&line, "%s: %s", name, value) == -1)
		return -1;
	l = curl_slist_append(x->headers, line);
	explicit_bzero(line, strlen(line)); /* may hold the key */
	free(line);
	if (l == NULL)
		return -1;
	x->headers = l;
	return 0;
}

static int
main_headers(struct edit_call *call)
{
	const struct upstream_config *cfg = call->cfg;
	struct xfer *x = &call->main;
	char *bearer;
	int rc;

	if (asprintf(&bearer, "Bearer %s", cfg->api_key ? cfg->api_key : "") == -1)
		return -1;
	rc = add_header(x, "Authorization", bearer);
	explicit_bzero(bearer, strlen(bearer));
	free(bearer);
	if (rc == -1 || add_header(x, "Expect", "") == -1)
		return -1;
	if (cfg->organization && add_header(x, "OpenAI-Organization",
	    cfg->organization) == -1)
		return -1;
	if (cfg->project && add_header(x, "OpenAI-Project", cfg->project) == -1)
		return -1;
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	return 0;
}

void
edit_call_resume(struct edit_call *call)
{
	if (call == NULL || !call->paused || call->main.easy == NULL)
		return;
	call->paused = 0;
	curl_easy_pause(call->main.easy, CURLPAUSE_CONT);
}

struct edit_call *
edit_call_start(struct evcurl *ec, const struct upstream_config *cfg,
    const struct claimed_job *job, int expect_finals,
    const struct edit_callbacks *cb, void *arg, char *err, size_t errlen)
{
	struct edit_call *call;
	char *url = NULL;

	if ((call = calloc(1, sizeof(*call))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	call->ec = ec;
	call->cfg = cfg;
	call->job = job;
	call->cb = *cb;
	call->arg = arg;
	call->main.download_idx = -1;
	call->expect_finals = expect_finals > 0 ? expect_finals : 1;
	call->retry_after_ms = -1;
	ratelimit_headers_clear(&call->rl);
	call->should_retry = -1;
	if (asprintf(&url, "%s/images/edits", cfg->base_url) == -1)
		url = NULL;
	if (url == NULL || xfer_init(&call->main, call, url) == -1 ||
	    (call->mime = curl_mime_init(call->main.easy)) == NULL) {
		snprintf(err, errlen, "cannot set up the HTTP request");
		goto fail;
	}
	if (add_params(call->mime, job->params, job->stream, err, errlen) == -1 ||
	    add_inputs(call, err, errlen) == -1)
		goto fail;
	if (main_headers(call) == -1) {
		snprintf(err, errlen, "cannot set request headers");
		goto fail;
	}
	curl_easy_setopt(call->main.easy, CURLOPT_MIMEPOST, call->mime);
	if (evcurl_add(ec, call->main.easy) == -1) {
		snprintf(err, errlen, "cannot start the transfer");
		goto fail;
	}
	call->main.added = 1;
	free(url);
	return call;
fail:
	free(url);
	call_free(call);
	return NULL;
}

static void
call_free(struct edit_call *call)
{
	int i;

	if (call == NULL)
		return;
	xfer_cleanup(call, &call->main, 0);
	for (i = 0; i < call->ndownloads; i++)
		xfer_cleanup(call, &call->downloads[i], 0);
	free(call->downloads);
	curl_mime_free(call->mime);
	free(call->parts);
	sse_free(call->sse);
	payload_stream_free(call->payload);
	free(call->usage_json);
	free(call);
}

void
edit_call_cancel(struct edit_call *call)
{
	int i;

	if (call == NULL)
		return;
	xfer_stop(call, &call->main);
	for (i = 0; i < call->ndownloads; i++)
		xfer_stop(call, &call->downloads[i]);
	call_free(call);
}

static void
report(struct edit_call *call, enum edit_status status, int curl_code,
    const char *curl_err)
{
	struct edit_outcome out = { 0 };
	curl_off_t ttfb = -1, bytes = 0;
	long http = 0;

	curl_easy_getinfo(call->main.easy, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_getinfo(call->main.easy, CURLINFO_STARTTRANSFER_TIME_T, &ttfb);
	curl_easy_getinfo(call->main.easy, CURLINFO_SIZE_DOWNLOAD_T, &bytes);
	out.ttfb_ms = http > 0 && ttfb >= 0 ? (int64_t)ttfb / 1000 : -1;
	out.bytes_in = (int64_t)bytes;
	out.status = status;
	out.http_status = http;
	out.curl_code = curl_code;
	out.request_id = call->request_id[0] ? call->request_id : NULL;
	if (status == EDIT_TRANSPORT && call->local_fault)
		copy_str(call->error_message, sizeof(call->error_message),
		    "no file descriptor for a socket (Too many open files): "
		    "raise LimitNOFILE= or lower --concurrency");
	else if (status == EDIT_TRANSPORT && curl_err)
		copy_str(call->error_message, sizeof(call->error_message), curl_err);
	if (status == EDIT_TRANSPORT && !call->error_type[0])
		copy_str(call->error_type, sizeof(call->error_type),
		    call->local_fault ? "fd_exhausted" :
		    curl_code == CURLE_OPERATION_TIMEDOUT ? "timeout" :
		    "connection_error");
	if (status == EDIT_TRUNCATED) {
		copy_str(call->error_type, sizeof(call->error_type), "truncated_stream");
		copy_str(call->error_message, sizeof(call->error_message),
		    "the stream ended without image_edit.completed");
	}
	out.error_type = call->error_type[0] ? call->error_type : NULL;
	out.error_code = call->error_code[0] ? call->error_code : NULL;
	out.error_message = call->error_message[0] ? call->error_message : NULL;
	out.finals = call->finals;
	out.complete = call->complete;
	out.local_fault = call->local_fault;
	out.was_paused = call->was_paused;
	out.input_tokens = call->input_tokens;
	out.output_tokens = call->output_tokens;
	out.total_tokens = call->total_tokens;
	out.usage_json = call->usage_json;
	out.retry_after_ms = call->retry_after_ms;
	out.should_retry = call->should_retry;
	out.ratelimit = call->rl;
	call->cb.on_done(call->arg, &out);
	call_free(call);
}

static void
take_error_body(struct edit_call *call, long http)
{
	json_t *root;
	char snippet[201];
	size_t n;

	if (buf_reserve(&call->main.body, 1) == 0)
		call->main.body.data[call->main.body.len] = '\0';
	root = json_loadb((const char *)call->main.body.data,
	    call->main.body.len, 0, NULL);
	if (root && json_is_object(json_object_get(root, "error"))) {
		take_error(call, json_object_get(root, "error"));
	} else {
		n = call->main.body.len < 200 ? call->main.body.len : 200;
		memcpy(snippet, call->main.body.data ? (char *)call->main.body.data :
		    "", n);
		snippet[n] = '\0';
		for (size_t i = 0; i < n; i++)
			if (!isprint((unsigned char)snippet[i]))
				snippet[i] = ' ';
		copy_str(call->error_type, sizeof(call->error_type), "http_error");
		snprintf(call->error_message, sizeof(call->error_message),
		    "HTTP %ld: %s", http, n ? snippet : "(empty body)");
	}
	json_decref(root);
}

static int start_downloads(struct edit_call *call, json_t *data);

/* A complete non-streaming JSON answer: b64 images delivered now, URL ones
 * fetched. Returns 1 when downloads were started (report later). */
static int
take_json_body(struct edit_call *call)
{
	struct payload_image *imgs = NULL;
	json_t *root = NULL, *data, *item;
	char err[256];
	size_t i, k = 0, len;
	int n, pending = 0;

	if (buf_reserve(&call->main.body, 1) == -1) {
		set_bad(call, "%s", "out of memory");
		return 0;
	}
	len = call->main.body.len;
	n = payload_extract((char *)call->main.body.data, &len, &imgs, err,
	    sizeof(err));
	if (n < 0) {
		set_bad(call, "response: %s", err);
		return 0;
	}
	root = json_loadb((const char *)call->main.body.data, len, 0, NULL);
	data = json_object_get(root, "data");
	if (!json_is_array(data) || json_array_size(data) == 0) {
		set_bad(call, "response has no \"data\" array%s", "");
		goto out;
	}
	take_usage(call, json_object_get(root, "usage"));
	json_array_foreach(data, i, item) {
		if (json_is_string(json_object_get(item, "b64_json")) &&
		    k < (size_t)n) {
			k++;
			if (deliver(call, IMAGE_FINAL, (int)i, -1, &imgs[k - 1], -1,
			    &imgs[k - 1], root) == -1)
				goto out;
		} else if (!json_is_string(json_object_get(item, "url"))) {
			set_bad(call, "response data item has neither b64_json nor url%s", "");
			goto out;
		}
	}
	pending = start_downloads(call, data);
out:
	json_decref(root);
	payload_free(imgs, n);
	return pending;
}

/* A socket for a transfer. Out of descriptors is said as what it is (curl
 * would report "Couldn't connect"), and is the daemon's trouble, not
 * upstream's: the attempt is not counted (edit_outcome.local_fault). */
static curl_socket_t
open_socket(struct xfer *x, struct curl_sockaddr *addr)
{
	curl_socket_t s;

	s = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
	if (s == CURL_SOCKET_BAD && (errno == EMFILE || errno == ENFILE)) {
		if (!x->call->local_fault) /* the loop's thread: strerror */
			log_err("fd_exhausted job=%lld error=%s note=\"raise "
			    "LimitNOFILE= or lower --concurrency\"",
			    (long long)x->call->job->id, LOG_Q(strerror(errno)));
		x->call->local_fault = 1;
	}
	return s;
}

/* CURLOPT_OPENSOCKETFUNCTION of the edit request. */
static curl_socket_t
open_main_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	(void)purpose;
	return open_socket(arg, addr);
}

/* Whether sa is the address and port the edit request went to. */
static int
is_base_address(const struct edit_call *call, const struct sockaddr *sa)
{
	char ip[64];

	return urlpolicy_addr_text(sa, ip, sizeof(ip)) == 0 &&
	    strcmp(ip, call->base_ip) == 0 &&
	    urlpolicy_addr_port(sa) == call->base_port;
}

/* CURLOPT_OPENSOCKETFUNCTION of a download: the address curl is about to
 * connect to, after every DNS answer and retry (downloads use no proxy,
 * so it is the url's host's). An internal one is refused unless it is the
 * very address and port the edit request went to (a test setup, where the
 * fake upstream serves its own url results). */
static curl_socket_t
open_download_socket(void *arg, curlsocktype purpose,
    struct curl_sockaddr *addr)
{
	struct xfer *x = arg;
	struct edit_call *call = x->call;
	char ip[64], why[200];

	(void)purpose;
	if (urlpolicy_internal(&addr->addr) &&
	    !is_base_address(call, &addr->addr)) {
		if (urlpolicy_addr_text(&addr->addr, ip, sizeof(ip)) == -1)
			copy_str(ip, sizeof(ip), "?");
		snprintf(why, sizeof(why), "url result %d refused: it points at "
		    "an internal address (%s)", x->download_idx, ip);
		set_refused(call, why);
		return CURL_SOCKET_BAD;
	}
	return open_socket(x, addr);
}

/* CURLOPT_OPENSOCKETFUNCTION of a download's probe (a download proxy is
 * set): every address the url's host has, after DNS; the first the policy
 * allows is kept for the tunnel. It connects to none. */
static curl_socket_t
probe_download_socket(void *arg, curlsocktype purpose,
    struct curl_sockaddr *addr)
{
	struct xfer *x = arg;
	char ip[64];

	(void)purpose;
	if (x->pinned[0] != '\0' ||
	    urlpolicy_addr_text(&addr->addr, ip, sizeof(ip)) == -1)
		return CURL_SOCKET_BAD;
	if (urlpolicy_internal(&addr->addr) &&
	    !is_base_address(x->call, &addr->addr))
		copy_str(x->refused_ip, sizeof(x->refused_ip), ip);
	else
		snprintf(x->pinned, sizeof(x->pinned), addr->addr.sa_family ==
		    AF_INET6 ? "[%s]" : "%s", ip);
	return CURL_SOCKET_BAD;
}

/* Through the download proxy, tunnelled (CONNECT) to the address the
 * probe checked: the proxy resolves nothing. Returns 0 or -1. */
static int
pin_through_proxy(struct xfer *x)
{
	CURLU *u;
	char *host = NULL, *port = NULL, *line = NULL;
	struct curl_slist *l = NULL;
	int rc = -1;

	if ((u = curl_url()) == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, x->url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK && asprintf(&line, "%s:%s:%s:%s", host, port, x->pinned,
	    port) != -1 && (l = curl_slist_append(NULL, line)) != NULL) {
		x->connect_to = l;
		curl_easy_setopt(x->easy, CURLOPT_CONNECT_TO, l);
		curl_easy_setopt(x->easy, CURLOPT_PROXY,
		    x->call->cfg->download_proxy);
		curl_easy_setopt(x->easy, CURLOPT_NOPROXY, "");
		curl_easy_setopt(x->easy, CURLOPT_HTTPPROXYTUNNEL, 1L);
		rc = 0;
	}
	free(line);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

/* Starts x: directly (every address checked as curl connects), or with a
 * download proxy the probe, then the tunnel to what it kept. Returns 0, or
 * -1 (set_bad). */
static int
start_download(struct edit_call *call, struct xfer *x)
{
	const char *proxy = call->cfg->download_proxy;

	if (xfer_init(x, call, x->url) == -1)
		goto fail;
	/* no redirect (the key never goes there anyway: no Authorization) */
	curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR,
	    urlpolicy_protocols(call->cfg->base_url));
	/* never through the environment's proxy (http_proxy, https_proxy,
	 * ALL_PROXY): the address checked below would be the proxy's, and
	 * the proxy would fetch any internal host. The API call keeps it. */
	curl_easy_setopt(x->easy, CURLOPT_PROXY, "");
	if (proxy != NULL && x->pinned[0] == '\0') {
		x->resolving = 1;
		curl_easy_setopt(x->easy, CURLOPT_CONNECT_ONLY, 1L);
		curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETFUNCTION,
		    probe_download_socket);
	} else if (proxy != NULL) {
		if (pin_through_proxy(x) == -1) {
			curl_easy_cleanup(x->easy);
			x->easy = NULL;
			goto fail;
		}
	} else
		curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETFUNCTION,
		    open_download_socket);
	if (evcurl_add(call->ec, x->easy) == -1) {
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
		goto fail;
	}
	x->added = 1;
	return 0;
fail:
	set_bad(call, "%s", "cannot start a result download");
	return -1;
}

/* Starts the next URL result's download. Returns 0, or -1 (set_bad or
 * refused). */
static int
start_next_download(struct edit_call *call)
{
	struct xfer *x = &call->downloads[call->next_download++];
	char why[300];

	if (urlpolicy_scheme(call->cfg->base_url, x->url, why, sizeof(why)) ==
	    -1) {
		set_refused(call, why);
		return -1;
	}
	return start_download(call, x);
}

/* URL results are fetched one after the other, so that an attempt is one
 * transfer at a time, as --concurrency counts it. Returns 1 when the first
 * download started (the last one reports). */
static int
start_downloads(struct edit_call *call, json_t *data)
{
	json_t *item;
	size_t i, count = 0;
	struct xfer *x;

	json_array_foreach(data, i, item)
		count += json_is_string(json_object_get(item, "url"));
	if (count == 0)
		return 0;
	if ((call->downloads = calloc(count, sizeof(*call->downloads))) == NULL) {
		set_bad(call, "%s", "out of memory");
		return 0;
	}
	json_array_foreach(data, i, item) {
		const char *url = json_str(item, "url");
		if (url == NULL)
			continue;
		x = &call->downloads[call->ndownloads++];
		x->download_idx = (int)i;
		if ((x->url = strdup(url)) == NULL) {
			set_bad(call, "%s", "out of memory");
			return 0;
		}
	}
	return start_next_download(call) == 0;
}

static enum edit_status
final_status(struct edit_call *call)
{
	if (call->aborted)
		return EDIT_ABORTED;
	if (call->complete)
		return EDIT_OK;
	if (call->error_event)
		return EDIT_ERROR_EVENT;
	if (call->too_large)
		return EDIT_TOO_LARGE;
	if (call->refused)
		return EDIT_REFUSED;
	if (call->bad)
		return EDIT_BAD_RESPONSE;
	return EDIT_OK;
}

/* What a url result answered must be an image, here, not elsewhere. */
static void
check_download(struct edit_call *call, struct xfer *x, CURLcode result,
    long http)
{
	char *ctype = NULL, why[300];

	curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ctype);
	if (http / 100 == 3) {
		snprintf(why, sizeof(why), "url result %d refused: a redirect "
		    "(HTTP %ld)", x->download_idx, http);
		set_refused(call, why);
	} else if (result == CURLE_OK && http == 200 && (ctype == NULL ||
	    strncasecmp(ctype, "image/", 6) != 0)) {
		snprintf(why, sizeof(why), "url result %d refused: content type "
		    "%.80s, not image/*", x->download_idx, ctype ? ctype :
		    "(none)");
		set_refused(call, why);
	}
}

/* The probe of a download through the proxy ended (it never connects):
 * the tunnel starts to the address it kept, or the result is refused.
 * Returns 0 when the tunnel started. */
static int
probe_done(struct xfer *x)
{
	struct edit_call *call = x->call;
	char why[200];

	x->resolving = 0;
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
	if (call->aborted || call->bad)
		return -1;
	if (x->pinned[0] != '\0')
		return start_download(call, x);
	if (x->refused_ip[0] != '\0') {
		snprintf(why, sizeof(why), "url result %d refused: it points at "
		    "an internal address (%s)", x->download_idx, x->refused_ip);
		set_refused(call, why);
		return -1;
	}
	copy_str(call->error_type, sizeof(call->error_type), "download_error");
	snprintf(call->error_message, sizeof(call->error_message), "download "
	    "of image %d failed: %s", x->download_idx, x->errbuf[0] ?
	    x->errbuf : "cannot resolve its host");
	call->bad = 1;
	return -1;
}

static void
download_done(struct xfer *x, CURLcode result)
{
	struct edit_call *call = x->call;
	struct payload_image pi = { 0 };
	long http = 0;
	char msg[CURL_ERROR_SIZE + 64];

	if (x->resolving) {
		if (probe_done(x) == -1)
			report(call, final_status(call), 0, NULL);
		return;
	}

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &http);
	if (!call->aborted && !call->bad)
		check_download(call, x, result, http);
	if (!call->aborted && !call->bad) {
		if (result != CURLE_OK || http != 200) {
			snprintf(msg, sizeof(msg), "download of image %d failed: %s",
			    x->download_idx, result != CURLE_OK ? (x->errbuf[0] ?
			    x->errbuf : curl_easy_strerror(result)) : "HTTP error");
			copy_str(call->error_type, sizeof(call->error_type),
			    "download_error");
			copy_str(call->error_message, sizeof(call->error_message), msg);
			call->bad = 1;
		} else {
			pi.data = x->body.data;
			pi.size = x->body.len;
			deliver(call, IMAGE_FINAL, x->download_idx, -1, &pi, -1,
			    NULL, NULL);
		}
	}
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
	buf_free(&x->body);
	if (call->aborted || call->bad || call->next_download == call->ndownloads ||
	    start_next_download(call) == -1)
		report(call, final_status(call), 0, NULL);
}

static void
main_done(struct edit_call *call, CURLcode result)
{
	long http = 0;
	int midway = 0; /* the stream ended inside an event */
	char *ip = NULL;
	const char *cerr;

	curl_easy_getinfo(call->main.easy, CURLINFO_RESPONSE_CODE, &http);
	if (curl_easy_getinfo(call->main.easy, CURLINFO_PRIMARY_IP, &ip) ==
	    CURLE_OK && ip != NULL)
		copy_str(call->base_ip, sizeof(call->base_ip), ip);
	curl_easy_getinfo(call->main.easy, CURLINFO_PRIMARY_PORT,
	    &call->base_port);
	cerr = call->main.errbuf[0] ? call->main.errbuf : curl_easy_strerror(result);
	if (call->mode == MODE_SSE && !call->complete && !call->aborted &&
	    !call->error_event && !call->bad)
		midway = sse_finish(call->sse);
	if (call->complete || call->aborted || call->error_event || call->bad) {
		report(call, final_status(call), 0, NULL);
	} else if (call->mode == MODE_SSE) {
		/* fewer finals than asked: a cut is retried, a clean end is
		 * what upstream chose to deliver */
		if (result != CURLE_OK)
			report(call, EDIT_TRANSPORT, result, cerr);
		else if (call->finals > 0 && !midway)
			report(call, EDIT_OK, 0, NULL);
		else
			report(call, EDIT_TRUNCATED, 0, NULL);
	} else if (result != CURLE_OK) {
		report(call, EDIT_TRANSPORT, result, cerr);
	} else if (http / 100 != 2) {
		take_error_body(call, http);
		report(call, EDIT_HTTP_ERROR, 0, NULL);
	} else if (take_json_body(call) == 0) {
		report(call, final_status(call), 0, NULL);
	}
	/* else: downloads pending; download_done reports */
}

void
upstream_transfer_done(void *arg, CURL *easy, CURLcode result)
{
	struct xfer *x = NULL;

	(void)arg;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
	if (x == NULL)
		return;
	x->added = 0; /* evcurl took it out of the multi handle */
	if (x->download_idx >= 0)
		download_done(x, result);
	else
		main_done(x->call, result);
}
