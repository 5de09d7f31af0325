/* faults.c: the [[fault:F1;F2;...]] token of a prompt: how many requests each
 * prompt has had, which item applies to this one, and what the item means. */
#include "fake_upstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FC_BUCKETS	1024

struct fc_entry {
	struct fc_entry	*next;
	unsigned long	 count;
	char		 prompt[];
};

struct fault_counts {
	struct fc_entry	*bucket[FC_BUCKETS];
};

struct fault_counts *
fc_new(void)
{
	return xcalloc(1, sizeof(struct fault_counts));
}

void
fc_free(struct fault_counts *fc)
{
	struct fc_entry	*e, *next;
	size_t		 i;

	if (fc == NULL)
		return;
	for (i = 0; i < FC_BUCKETS; i++)
		for (e = fc->bucket[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(fc);
}

/* Counts one more request with this prompt; returns its 1-based rank. */
unsigned long
fc_next(struct fault_counts *fc, const char *prompt)
{
	struct fc_entry	**b, *e;
	uint32_t	 h = 2166136261u;
	const char	*s;
	size_t		 len = strlen(prompt);

	for (s = prompt; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	b = &fc->bucket[h % FC_BUCKETS];
	for (e = *b; e != NULL; e = e->next)
		if (strcmp(e->prompt, prompt) == 0)
			return ++e->count;
	e = xcalloc(1, sizeof(*e) + len + 1);
	memcpy(e->prompt, prompt, len + 1);
	e->next = *b;
	*b = e;
	return e->count = 1;
}

/*
 * The k-th item (1-based) of the prompt's fault list into item, "" past its
 * end.  Returns 0 no token, 1 token, -1 token without "]]".
 */
int
fault_pick(const char *prompt, unsigned long k, char *item, size_t itemlen)
{
	const char	*p, *end, *semi;
	size_t		 n;

	item[0] = '\0';
	if ((p = strstr(prompt, "[[fault:")) == NULL)
		return 0;
	p += 8;
	if ((end = strstr(p, "]]")) == NULL)
		return -1;
	for (; k > 1; k--) {
		if ((semi = memchr(p, ';', end - p)) == NULL)
			return 1;
		p = semi + 1;
	}
	if ((semi = memchr(p, ';', end - p)) == NULL)
		semi = end;
	while (p < semi && *p == ' ')
		p++;
	while (semi > p && semi[-1] == ' ')
		semi--;
	n = semi - p;
	if (n >= itemlen)
		n = itemlen - 1;
	memcpy(item, p, n);
	item[n] = '\0';
	return 1;
}

void
fault_clear(struct fault *f)
{
	memset(f, 0, sizeof(*f));
	f->retry_after_ms = f->retry_after = f->retry_after_date = -1;
	f->should_retry = -1;
	f->cut_after = -1;
	f->finals = -1;
}

static int
num(const char *v, long min, long max, long *out)
{
	char	*end;
	long	 n;

	if (v == NULL || *v == '\0')
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

static int
copy(char *dst, size_t dstlen, const char *v)
{
	if (v == NULL || strlen(v) >= dstlen)
		return -1;
	strcpy(dst, v);
	return 0;
}

/* The error a preset or status=CODE stands for, unless the item overrides. */
static void
preset(struct fault *f, int status, const char *type, const char *code,
    const char *message)
{
	f->status = status;
	snprintf(f->type, sizeof(f->type), "%s", type);
	snprintf(f->code, sizeof(f->code), "%s", code);
	snprintf(f->message, sizeof(f->message), "%s", message);
}

static int
status_preset(struct fault *f, const char *v)
{
	long	 st;

	if (num(v, 400, 599, &st) == -1)
		return -1;
	if (st == 429)
		preset(f, 429, "requests", "rate_limit_exceeded",
		    "Rate limit reached for requests. Please try again later.");
	else if (st >= 500)
		preset(f, st, "server_error", "", "The server had an error "
		    "while processing your request. Sorry about that!");
	else if (st == 400)
		preset(f, 400, "invalid_request_error", "", "Invalid request.");
	else {
		preset(f, st, "invalid_request_error", "", "");
		snprintf(f->message, sizeof(f->message),
		    "Injected error %ld.", st);
	}
	return 0;
}

static int
parse_slow(struct fault *f, const char *v)
{
	char	 b[32], *slash;

	f->slow_bytes = 64;
	f->slow_ms = 1;
	if (v == NULL)
		return 0;
	if (copy(b, sizeof(b), v) == -1 || (slash = strchr(b, '/')) == NULL)
		return -1;
	*slash = '\0';
	if (num(b, 1, 1 << 20, &f->slow_bytes) == -1 ||
	    num(slash + 1, 0, 60000, &f->slow_ms) == -1)
		return -1;
	return 0;
}

static int
parse_flag(struct fault *f, const char *k)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} flags[] = {
		{ "cut", offsetof(struct fault, cut) },
		{ "error-event", offsetof(struct fault, error_event) },
		{ "garbage", offsetof(struct fault, garbage) },
		{ "hang", offsetof(struct fault, hang) },
		{ "crlf", offsetof(struct fault, crlf) },
		{ "cr", offsetof(struct fault, cr) },
		{ "noevent", offsetof(struct fault, noevent) },
		{ "comments", offsetof(struct fault, comments) },
		{ "done", offsetof(struct fault, done) },
		{ "split", offsetof(struct fault, split) },
		{ "url-redirect", offsetof(struct fault, url_redirect) },
		{ "html", offsetof(struct fault, html) },
		{ "gzip", offsetof(struct fault, gzip) },
		{ "trailing-event", offsetof(struct fault, trailing_event) },
		{ "trailing-garbage", offsetof(struct fault, trailing_garbage) },
		{ "trailing-error", offsetof(struct fault, trailing_error) },
		{ "unknown-event", offsetof(struct fault, unknown_event) },
		{ "usage-nodetails", offsetof(struct fault, usage_nodetails) },
	};
	size_t	 i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strcmp(k, flags[i].name) == 0) {
			*(int *)((char *)f + flags[i].off) = 1;
			return 0;
		}
	if (strcmp(k, "ok") == 0)
		return 0;
	if (strcmp(k, "quota") == 0)
		preset(f, 429, "insufficient_quota", "insufficient_quota",
		    "You exceeded your current quota, please check your plan "
		    "and billing details.");
	else if (strcmp(k, "auth") == 0)
		preset(f, 401, "invalid_request_error", "invalid_api_key",
		    "Incorrect API key provided.");
	else if (strcmp(k, "forbidden") == 0)
		preset(f, 403, "invalid_request_error",
		    "unsupported_country_region_territory",
		    "Country, region, or territory not supported");
	else if (strcmp(k, "moderation") == 0)
		preset(f, 400, "image_generation_user_error",
		    "moderation_blocked",
		    "Your request was rejected by the safety system.");
	else
		return -1;
	return 0;
}

static int
parse_option(struct fault *f, char *k, const char *v)
{
	if (v == NULL && strcmp(k, "slow") != 0)
		return parse_flag(f, k);
	if (strcmp(k, "status") == 0)
		return status_preset(f, v);
	if (strcmp(k, "retry-after-ms") == 0)
		return num(v, 0, 86400000, &f->retry_after_ms);
	if (strcmp(k, "retry-after") == 0)
		return num(v, 0, 86400, &f->retry_after);
	if (strcmp(k, "retry-after-date") == 0)
		return num(v, 0, 86400, &f->retry_after_date);
	if (strcmp(k, "x-should-retry") == 0) {
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			return -1;
		f->should_retry = strcmp(v, "true") == 0;
		return 0;
	}
	if (strcmp(k, "type") == 0)
		return copy(f->type, sizeof(f->type), v);
	if (strcmp(k, "code") == 0)
		return copy(f->code, sizeof(f->code), v);
	if (strcmp(k, "param") == 0)
		return copy(f->param, sizeof(f->param), v);
	if (strcmp(k, "message") == 0)
		return copy(f->message, sizeof(f->message), v);
	if (strcmp(k, "url-port") == 0)
		return num(v, 1, 65535, &f->url_port);
	if (strcmp(k, "url-host") == 0)
		return copy(f->url_host, sizeof(f->url_host), v);
	if (strcmp(k, "url-ctype") == 0)
		return copy(f->url_ctype, sizeof(f->url_ctype), v);
	if (strcmp(k, "cut-after") == 0)
		return num(v, 0, 1000, &f->cut_after);
	if (strcmp(k, "finals") == 0)
		return num(v, 0, 10, &f->finals);
	if (strcmp(k, "usage-total") == 0) {
		f->usage_total_set = 1;
		return num(v, -4000000000000000000L, 4000000000000000000L,
		    &f->usage_total);
	}
	if (strcmp(k, "delay") == 0)
		return num(v, 0, 3600000, &f->delay_ms);
	if (strcmp(k, "slow") == 0)
		return parse_slow(f, v);
	return -1;
}

/*
 * One item: comma-separated options "key" or "key=value".  status=, type=,
 * code=, param= and message= may follow a preset to override its parts.
 */
int
fault_parse(const char *item, struct fault *f, char *err, size_t errlen)
{
	char	 buf[256], *opt, *next, *eq;

	fault_clear(f);
	if (copy(buf, sizeof(buf), item) == -1) {
		snprintf(err, errlen, "fault item too long");
		return -1;
	}
	for (opt = buf; opt != NULL; opt = next) {
		if ((next = strchr(opt, ',')) != NULL)
			*next++ = '\0';
		opt += strspn(opt, " ");
		for (eq = opt + strlen(opt); eq > opt && eq[-1] == ' '; eq--)
			eq[-1] = '\0';
		if (*opt == '\0')
			continue;
		if ((eq = strchr(opt, '=')) != NULL)
			*eq++ = '\0';
		if (parse_option(f, opt, eq) == -1) {
			snprintf(err, errlen, "fake-upstream: bad fault option "
			    "'%s%s%s' in '%s'", opt, eq ? "=" : "",
			    eq ? eq : "", item);
			return -1;
		}
	}
	return 0;
}
