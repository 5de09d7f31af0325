/* pages.c: the HTML of imgeditctl serve, from catalog documents (every piece
 * of text through html_text), plus the small stylesheet and script. */
#include "pages.h"

#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "period.h"
#include "prices.h"
#include "thumb.h"

#define PROMPT_SHOWN 300   /* bytes of a prompt in the list */

static const char *const states[] = {
	"queued", "running", "retry_wait", "succeeded", "failed", "canceled",
};

/* Appends printf output; returns 0 or -1. */
#define OUT(...) (evbuffer_add_printf(out, __VA_ARGS__) < 0 ? -1 : 0)

static const char *
str_or(const json_t *o, const char *key, const char *dflt)
{
	const char *s = jstr(o, key);

	return s != NULL ? s : dflt;
}

/* A class name for a state: only the six known ones, else "other". */
static const char *
state_class(const char *state)
{
	size_t i;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (state != NULL && strcmp(state, states[i]) == 0)
			return states[i];
	return "other";
}

/* The first n bytes of s, not cutting a UTF-8 sequence, with an ellipsis. */
static int
text_short(struct evbuffer *out, const char *s, size_t n)
{
	size_t len;

	if (s == NULL)
		return 0;
	if ((len = strlen(s)) <= n)
		return html_text(out, s);
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	if (html_textn(out, s, n) == -1)
		return -1;
	return OUT("\xe2\x80\xa6");
}

static int
text_time(struct evbuffer *out, int64_t ms)
{
	char t[64];

	fmt_time(ms, t, sizeof(t));
	return html_text(out, t);
}

static int
text_age(struct evbuffer *out, int64_t ms, int64_t now)
{
	char t[32];

	if (ms <= 0)
		return OUT("-");
	fmt_age(now - ms, t, sizeof(t));
	return html_text(out, t);
}

int
page_begin(struct evbuffer *out, const char *title,
    const struct page_marks *m, int64_t job, int head)
{
	int rc = OUT("<!doctype html>\n<html lang=\"en\"><head><meta "
	    "charset=\"utf-8\"><meta name=\"viewport\" content=\"width="
	    "device-width\"><title>imgedit: ");

	rc |= html_text(out, title);
	rc |= OUT("</title><link rel=\"stylesheet\" href=\"/app.css\">"
	    "<script src=\"/app.js\" defer></script></head>\n<body");
	if (m != NULL)
		rc |= OUT(" data-events=\"/events?ev=%lld&amp;img=%lld\"",
		    (long long)m->event, (long long)m->image);
	rc |= OUT("><header><a href=\"/\">imgedit</a> <span>the queue, "
	    "read-only</span></header>\n<main id=\"main\"");
	if (job > 0)
		rc |= OUT(" data-job=\"%lld\"", (long long)job);
	if (head)
		rc |= OUT(" data-head=\"1\"");
	rc |= OUT(">\n");
	return rc;
}

int
page_end(struct evbuffer *out)
{
	return OUT("</main></body></html>\n");
}

/* ---- thumbnails ---- */

/* A link to the image and its thumbnail; url is /images/ID or an input's
 * path; sha256 (may be NULL) versions the URL, so a cached image is never
 * mistaken for another with the same id after a prune. */
static int
thumb_link(struct evbuffer *out, const char *url, const char *sha256,
    const char *cls, const json_t *w, const json_t *h, const char *alt,
    int64_t image_id)
{
	char v[32] = "";
	uint32_t tw, th;
	int rc;

	if (sha256 != NULL && strlen(sha256) == SHA256_HEX_LEN &&
	    strspn(sha256, "0123456789abcdef") == SHA256_HEX_LEN)
		snprintf(v, sizeof(v), "?v=%.12s", sha256);
	rc = OUT("<a class=\"%s\" href=\"%s%s\"><img src=\"%s/thumb%s\"", cls,
	    url, v, url, v);
	if (json_is_integer(w) && json_is_integer(h) &&
	    json_integer_value(w) > 0 && json_integer_value(w) <= 65536 &&
	    json_integer_value(h) > 0 && json_integer_value(h) <= 65536) {
		thumb_fit((uint32_t)json_integer_value(w),
		    (uint32_t)json_integer_value(h), PAGE_THUMB_SIDE, &tw, &th);
		rc |= OUT(" width=\"%u\" height=\"%u\"", tw, th);
	}
	if (image_id > 0)
		rc |= OUT(" data-image=\"%lld\"", (long long)image_id);
	rc |= OUT(" loading=\"lazy\" alt=\"");
	rc |= html_text(out, alt);
	rc |= OUT("\"></a>");
	return rc;
}

static int
image_thumb(struct evbuffer *out, const json_t *img)
{
	char url[64], alt[64];
	const char *kind = str_or(img, "kind", "");
	int64_t id = jint(img, "id");
	int partial = strcmp(kind, "partial") == 0;

	snprintf(url, sizeof(url), "/images/%lld", (long long)id);
	snprintf(alt, sizeof(alt), "%s %lld", partial ? "partial" : "final",
	    (long long)jint(img, "idx") + 1);
	return thumb_link(out, url, jstr(img, "sha256"), partial ? "partial" :
	    "final", json_object_get(img, "width"), json_object_get(img,
	    "height"), alt, id);
}

/* The partials -> finals strip of one attempt of images (array). */
static int
strip(struct evbuffer *out, const json_t *images, int64_t attempt)
{
	const json_t *img;
	size_t i;
	int rc = OUT("<span class=\"strip\" data-attempt=\"%lld\">",
	    (long long)attempt), finals = 0, partials = 0;

	json_array_foreach(images, i, img) {
		if (jint(img, "attempt") != attempt)
			continue;
		if (strcmp(str_or(img, "kind", ""), "final") == 0) {
			finals++;
			continue;
		}
		partials++;
		rc |= image_thumb(out, img);
	}
	if (partials > 0 && finals > 0)
		rc |= OUT("<span class=\"arrow\">\xe2\x86\x92</span>");
	json_array_foreach(images, i, img)
		if (jint(img, "attempt") == attempt &&
		    strcmp(str_or(img, "kind", ""), "final") == 0)
			rc |= image_thumb(out, img);
	return rc | OUT("</span>");
}

/* The attempt a row shows: the succeeded one, else the newest with images. */
static int64_t
shown_attempt(const json_t *images)
{
	const json_t *img;
	int64_t best = 0;
	size_t i;

	json_array_foreach(images, i, img) {
		if (strcmp(str_or(img, "outcome", ""), "succeeded") == 0)
			return jint(img, "attempt");
		if (jint(img, "attempt") > best)
			best = jint(img, "attempt");
	}
	return best;
}

/* ---- the queue ---- */

static int
summary_daemons(struct evbuffer *out, const json_t *daemons, int64_t now)
{
	const json_t *d;
	size_t i;
	int rc = 0;

	if (json_array_size(daemons) == 0)
		return OUT("<p class=\"daemons none\">No daemon seen in the last "
		    "hour.</p>");
	rc |= OUT("<table class=\"daemons\"><thead><tr><th>daemon</th><th>"
	    "host</th><th>pid</th><th>heartbeat</th><th>status</th><th>pause"
	    "</th></tr></thead><tbody>");
	json_array_foreach(daemons, i, d) {
		rc |= OUT("<tr><td>");
		rc |= html_text(out, jstr(d, "id"));
		rc |= OUT("%s</td><td>", json_is_null(json_object_get(d,
		    "stopped_at")) ? "" : " (stopped)");
		rc |= html_text(out, jstr(d, "host"));
		rc |= OUT("</td><td>%lld</td><td>", (long long)jint(d, "pid"));
		rc |= text_age(out, jint(d, "heartbeat_at"), now);
		rc |= OUT(" ago</td><td>");
		rc |= html_text(out, jstr(d, "status"));
		rc |= OUT("</td><td class=\"pause\">");
		rc |= html_text(out, jstr(d, "pause_reason"));
		rc |= OUT("</td></tr>");
	}
	return rc | OUT("</tbody></table>");
}

/* One row of the spending table: what, cost (a lower bound when some of
 * it is not known), attempts, tokens, attempts of unknown cost. */
static int
spent_row(struct evbuffer *out, const char *period, const char *label,
    const json_t *row)
{
	char cost[40];
	int rc;

	prices_cost_text(jint(row, "cost_usd_micro"),
	    jint(row, "unknown_unreserved") > 0, cost, sizeof(cost));
	if (period != NULL)
		rc = OUT("<tr data-spent=\"%s\" data-usd-micro=\"%lld\"><th>",
		    period, (long long)jint(row, "cost_usd_micro"));
	else
		rc = OUT("<tr class=\"model\"><td>");
	rc |= html_text(out, label);
	rc |= OUT("%s<td>%s</td><td>%lld</td><td>%lld in, %lld out</td><td>",
	    period != NULL ? "</th>" : "</td>", cost,
	    (long long)jint(row, "attempts"),
	    (long long)jint(row, "input_tokens"),
	    (long long)jint(row, "output_tokens"));
	if (jint(row, "unknown") > 0)
		rc |= OUT("%lld", (long long)jint(row, "unknown"));
	return rc | OUT("</td></tr>");
}

/* What the attempts cost today, this week, this month (the settings' time
 * zone), in all and per model. */
static int
summary_spent(struct evbuffer *out, const json_t *spent)
{
	static const char *const periods[][2] = { { "day", "today" },
		{ "week", "this week" }, { "month", "this month" } };
	const json_t *p, *m;
	char since[64], label[96];
	size_t i, k;
	int rc = OUT("<table class=\"spent\"><thead><tr><th>spent</th><th>"
	    "cost (USD)</th><th>attempts</th><th>tokens</th><th>unknown cost"
	    "</th></tr></thead><tbody>");

	for (i = 0; i < sizeof(periods) / sizeof(periods[0]); i++) {
		if ((p = json_object_get(spent, periods[i][0])) == NULL)
			continue;
		period_format(jint(p, "start"), since, sizeof(since));
		snprintf(label, sizeof(label), "%s (since %s)", periods[i][1],
		    since);
		rc |= spent_row(out, periods[i][0], label, json_object_get(p,
		    "all"));
		json_array_foreach(json_object_get(p, "models"), k, m)
			rc |= spent_row(out, NULL, str_or(m, "model",
			    "(no model)"), m);
	}
	return rc | OUT("</tbody></table>");
}

int
page_summary(struct evbuffer *out, const json_t *status,
    const int64_t bins[HTML_CHART_MINUTES], int64_t now)
{
	const json_t *jobs = json_object_get(status, "jobs");
	const json_t *pause = json_object_get(status, "pause");
	size_t i;
	int rc = OUT("<section id=\"summary\"><ul class=\"counts\">");

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		rc |= OUT("<li class=\"s-%s\"><a href=\"/?state=%s\">%s <b>%lld"
		    "</b></a></li>", states[i], states[i], states[i],
		    (long long)jint(jobs, states[i]));
	rc |= OUT("<li><a href=\"/\">all <b>%lld</b></a></li></ul>",
	    (long long)jint(jobs, "total"));
	rc |= OUT("<figure class=\"rate\">");
	rc |= html_chart_svg(out, bins, "final images per minute");
	rc |= OUT("<figcaption>final images per minute, last hour</figcaption>"
	    "</figure>");
	if (json_is_true(json_object_get(pause, "paused"))) {
		rc |= OUT("<p class=\"pause\">Paused by the operator: ");
		rc |= html_text(out, str_or(pause, "reason", ""));
		rc |= OUT("</p>");
	}
	rc |= summary_spent(out, json_object_get(status, "spent"));
	rc |= summary_daemons(out, json_object_get(status, "daemons"), now);
	return rc | OUT("</section>\n");
}

int
page_row(struct evbuffer *out, const json_t *job, int64_t now)
{
	const json_t *params = json_object_get(job, "params");
	const json_t *images = json_object_get(job, "images");
	const char *state = str_or(job, "state", "");
	int64_t id = jint(job, "id");
	int rc;

	rc = OUT("<tr id=\"job-%lld\" class=\"s-%s\"><td><a href=\"/jobs/%lld\">"
	    "%lld</a></td><td class=\"prompt\">", (long long)id,
	    state_class(state), (long long)id, (long long)id);
	rc |= text_short(out, jstr(params, "prompt"), PROMPT_SHOWN);
	rc |= OUT("</td><td>");
	rc |= html_text(out, jstr(job, "model"));
	rc |= OUT("</td><td class=\"state\">");
	rc |= html_text(out, state);
	rc |= OUT("</td><td>%lld/%lld</td><td>", (long long)jint(job,
	    "attempts"), (long long)jint(job, "max_attempts"));
	rc |= text_age(out, jint(job, "created_at"), now);
	rc |= OUT("</td><td class=\"images\">");
	if (json_array_size(images) > 0)
		rc |= strip(out, images, shown_attempt(images));
	return rc | OUT("</td></tr>\n");
}

static int
jobs_form(struct evbuffer *out, const struct page_filter *f)
{
	size_t i;
	int rc = OUT("<form class=\"filter\" method=\"get\" action=\"/\">"
	    "<label>state <select name=\"state\"><option value=\"\">any"
	    "</option>");

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		rc |= OUT("<option%s>%s</option>", f->state != NULL &&
		    strcmp(f->state, states[i]) == 0 ? " selected" : "",
		    states[i]);
	rc |= OUT("</select></label> <label>prompt has <input name=\"q\" "
	    "value=\"");
	rc |= html_text(out, f->word);
	return rc | OUT("\"></label> <button>show</button></form>\n");
}

/* A link to the list with the same filter; before 0 for the newest. */
static int
jobs_link(struct evbuffer *out, const struct page_filter *f, int64_t before,
    const char *label)
{
	int rc = OUT("<a href=\"/?state=");

	rc |= html_query(out, f->state);
	rc |= OUT("&amp;q=");
	rc |= html_query(out, f->word);
	if (before > 0)
		rc |= OUT("&amp;before=%lld", (long long)before);
	rc |= OUT("\">%s</a>", label);
	return rc;
}

int
page_jobs(struct evbuffer *out, const json_t *jobs,
    const struct page_filter *f, int64_t now)
{
	const json_t *job;
	size_t i, n = json_array_size(jobs);
	int rc = jobs_form(out, f);

	rc |= OUT("<table id=\"jobs\"><thead><tr><th>job</th><th>prompt</th>"
	    "<th>model</th><th>state</th><th>attempts</th><th>age</th><th>"
	    "images: partials \xe2\x86\x92 finals</th></tr></thead><tbody>\n");
	json_array_foreach(jobs, i, job)
		rc |= page_row(out, job, now);
	rc |= OUT("</tbody></table>\n");
	if (n == 0)
		rc |= OUT("<p class=\"empty\">No jobs here.</p>");
	rc |= OUT("<nav class=\"pages\">");
	if (f->before > 0)
		rc |= jobs_link(out, f, 0, "\xe2\x86\x90 newest");
	if (n > 0 && (int)n == f->limit)
		rc |= jobs_link(out, f, jint(json_array_get(jobs, n - 1), "id"),
		    "older \xe2\x86\x92");
	return rc | OUT("</nav>\n");
}

/* ---- a job ---- */

static int
dl_item(struct evbuffer *out, const char *term, const char *text)
{
	int rc = OUT("<dt>%s</dt><dd>", term);

	rc |= html_text(out, text);
	return rc | OUT("</dd>");
}

static int
dl_time(struct evbuffer *out, const char *term, int64_t ms)
{
	int rc = OUT("<dt>%s</dt><dd>", term);

	rc |= text_time(out, ms);
	return rc | OUT("</dd>");
}

/* What the job's attempts cost, and submit's estimate of it. */
static int
job_cost(struct evbuffer *out, const json_t *j)
{
	char cost[40], lo[32], hi[32];
	int rc;

	prices_cost_text(jint(j, "cost_usd_micro"), jint(j, "cost_unknown") > 0,
	    cost, sizeof(cost));
	rc = OUT("<dt>cost</dt><dd data-job-cost-usd-micro=\"%lld\">%s",
	    (long long)jint(j, "cost_usd_micro"), cost);
	if (jint(j, "cost_unknown") > 0)
		rc |= OUT(" (%lld attempts of unknown cost)",
		    (long long)jint(j, "cost_unknown"));
	if (json_is_integer(json_object_get(j, "estimate_lo_usd_micro"))) {
		prices_usd(jint(j, "estimate_lo_usd_micro"), lo, sizeof(lo));
		prices_usd(jint(j, "estimate_hi_usd_micro"), hi, sizeof(hi));
		rc |= OUT("; estimated $%s to %s%s", lo,
		    json_is_integer(json_object_get(j,
		    "estimate_hi_usd_micro")) ? "$" : "(no bound)",
		    json_is_integer(json_object_get(j,
		    "estimate_hi_usd_micro")) ? hi : "");
	}
	return rc | OUT("</dd>");
}

static int
job_facts(struct evbuffer *out, const json_t *j)
{
	const json_t *usage = json_object_get(j, "usage");
	const json_t *err = json_object_get(j, "error");
	char buf[128];
	int rc = OUT("<dl class=\"facts\">");

	rc |= dl_item(out, "model", jstr(j, "model"));
	snprintf(buf, sizeof(buf), "%lld of at most %lld", (long long)jint(j,
	    "attempts"), (long long)jint(j, "max_attempts"));
	rc |= dl_item(out, "attempts", buf);
	snprintf(buf, sizeof(buf), "%lld", (long long)jint(j, "priority"));
	rc |= dl_item(out, "priority", buf);
	rc |= dl_item(out, "stream", jint(j, "stream") ? "yes" : "no");
	rc |= dl_time(out, "created", jint(j, "created_at"));
	rc |= dl_time(out, "updated", jint(j, "updated_at"));
	rc |= dl_time(out, "finished", jint(j, "finished_at"));
	if (jint(j, "not_before") > 0)
		rc |= dl_time(out, "not before", jint(j, "not_before"));
	if (jstr(j, "idempotency_key") != NULL)
		rc |= dl_item(out, "key", jstr(j, "idempotency_key"));
	if (jstr(j, "lease_owner") != NULL)
		rc |= dl_item(out, "leased by", jstr(j, "lease_owner"));
	snprintf(buf, sizeof(buf), "%lld in, %lld out, %lld total",
	    (long long)jint(usage, "input_tokens"), (long long)jint(usage,
	    "output_tokens"), (long long)jint(usage, "total_tokens"));
	rc |= dl_item(out, "tokens", buf);
	rc |= job_cost(out, j);
	if (json_is_object(err)) {
		rc |= OUT("<dt>error</dt><dd class=\"error\">");
		if (jint(err, "status") > 0)
			rc |= OUT("HTTP %lld ", (long long)jint(err, "status"));
		rc |= html_text(out, jstr(err, "type"));
		rc |= OUT(" ");
		rc |= html_text(out, jstr(err, "code"));
		rc |= OUT(": ");
		rc |= html_text(out, jstr(err, "message"));
		if (jstr(err, "request_id") != NULL) {
			rc |= OUT(" (request ");
			rc |= html_text(out, jstr(err, "request_id"));
			rc |= OUT(")");
		}
		rc |= OUT("</dd>");
	}
	return rc | OUT("</dl>\n");
}

static int
job_params(struct evbuffer *out, const json_t *j)
{
	json_t *params = json_object_get(j, "params");
	char *text;
	int rc;

	if (jstr(j, "params_error") != NULL)	/* too big to read (catalog.c) */
		text = strdup(jstr(j, "params_error"));
	else if (json_is_object(params))
		text = json_dumps(params, JSON_INDENT(2) | JSON_SORT_KEYS);
	else
		text = json_dumps(params, JSON_ENCODE_ANY);
	rc = OUT("<h2>Parameters</h2><pre class=\"params\">");
	rc |= html_text(out, text != NULL ? text : "(unreadable)");
	free(text);
	return rc | OUT("</pre>\n");
}

static int
job_inputs(struct evbuffer *out, const json_t *j)
{
	const json_t *in;
	char url[96], alt[64];
	size_t i;
	int rc = OUT("<h2>Inputs</h2><div class=\"inputs\">");

	json_array_foreach(json_object_get(j, "inputs"), i, in) {
		const char *role = str_or(in, "role", "");

		if (strcmp(role, "image") != 0 && strcmp(role, "mask") != 0 &&
		    strcmp(role, "markup") != 0)
			continue;
		snprintf(url, sizeof(url), "/inputs/%lld/%s/%lld",
		    (long long)jint(j, "id"), role, (long long)jint(in,
		    "ordinal"));
		snprintf(alt, sizeof(alt), "%s %lld", role,
		    (long long)jint(in, "ordinal"));
		rc |= OUT("<figure>");
		rc |= thumb_link(out, url, jstr(in, "sha256"), "input", NULL,
		    NULL, alt, 0);
		rc |= OUT("<figcaption>%s: ", alt);
		rc |= html_text(out, jstr(in, "filename"));
		rc |= OUT(" (%lld bytes)</figcaption></figure>",
		    (long long)jint(in, "size"));
	}
	return rc | OUT("</div>\n");
}

/* An attempt's cost and how it was told: "$0.021 (known)". */
static int
attempt_cost(struct evbuffer *out, const json_t *a)
{
	char cost[40];
	int rc = 0;

	if (jstr(a, "cost_status") == NULL)
		return 0;	/* running, or from before costs were kept */
	if (json_is_integer(json_object_get(a, "cost_usd_micro"))) {
		prices_cost_text(jint(a, "cost_usd_micro"), 0, cost,
		    sizeof(cost));
		rc = OUT("%s ", cost);
	}
	rc |= OUT("(");
	rc |= html_text(out, jstr(a, "cost_status"));
	return rc | OUT(")");
}

static int
attempt_row(struct evbuffer *out, const json_t *a, const json_t *images)
{
	const json_t *err = json_object_get(a, "error");
	int64_t start = jint(a, "started_at"), end = jint(a, "ended_at");
	int rc = OUT("<tr><td>%lld</td><td class=\"outcome\">",
	    (long long)jint(a, "number"));

	rc |= html_text(out, str_or(a, "outcome", "running"));
	rc |= OUT("</td><td>");
	if (jint(a, "http_status") > 0)
		rc |= OUT("%lld", (long long)jint(a, "http_status"));
	rc |= OUT("</td><td>");
	rc |= html_text(out, jstr(a, "request_id"));
	rc |= OUT("</td><td class=\"error\">");
	if (json_is_object(err)) {
		rc |= html_text(out, jstr(err, "type"));
		rc |= OUT(" ");
		rc |= html_text(out, jstr(err, "code"));
		rc |= OUT(" ");
		rc |= html_text(out, jstr(err, "message"));
	}
	rc |= OUT("</td><td>");
	if (end > 0 && end >= start)
		rc |= OUT("%.1f s", (double)(end - start) / 1000.0);
	rc |= OUT("</td><td>");
	if (jint(a, "total_tokens") > 0)
		rc |= OUT("%lld in, %lld out", (long long)jint(a, "input_tokens"),
		    (long long)jint(a, "output_tokens"));
	rc |= OUT("</td><td class=\"cost\">");
	rc |= attempt_cost(out, a);
	rc |= OUT("</td><td class=\"images\">");
	rc |= strip(out, images, jint(a, "number"));
	return rc | OUT("</td></tr>\n");
}

static int
job_attempts(struct evbuffer *out, const json_t *j)
{
	const json_t *a, *images = json_object_get(j, "images");
	size_t i;
	int rc = OUT("<h2>Attempts</h2><table class=\"attempts\"><thead><tr>"
	    "<th>#</th><th>outcome</th><th>HTTP</th><th>request id</th><th>"
	    "error</th><th>duration</th><th>tokens</th><th>cost</th><th>"
	    "partials \xe2\x86\x92"
	    " finals</th></tr></thead><tbody>\n");

	json_array_foreach(json_object_get(j, "attempt_log"), i, a)
		rc |= attempt_row(out, a, images);
	return rc | OUT("</tbody></table>\n");
}

static int
job_history(struct evbuffer *out, const json_t *j)
{
	const json_t *e;
	size_t i;
	int rc = OUT("<h2>History</h2><table class=\"history\"><tbody>\n");

	json_array_foreach(json_object_get(j, "events"), i, e) {
		rc |= OUT("<tr><td>");
		rc |= text_time(out, jint(e, "at"));
		rc |= OUT("</td><td>");
		rc |= html_text(out, str_or(e, "from_state", "(new)"));
		rc |= OUT(" \xe2\x86\x92 ");
		rc |= html_text(out, jstr(e, "to_state"));
		rc |= OUT("</td><td>");
		rc |= html_text(out, jstr(e, "detail"));
		rc |= OUT("</td></tr>\n");
	}
	return rc | OUT("</tbody></table>\n");
}

int
page_job(struct evbuffer *out, const json_t *j, int64_t now)
{
	const char *state = str_or(j, "state", "");
	int rc;

	(void)now;
	rc = OUT("<h1>Job %lld <span class=\"state s-%s\">", (long long)jint(j,
	    "id"), state_class(state));
	rc |= html_text(out, state);
	rc |= OUT("</span></h1>\n<p class=\"prompt\">");
	rc |= html_text(out, jstr(json_object_get(j, "params"), "prompt"));
	rc |= OUT("</p>\n");
	rc |= job_facts(out, j);
	rc |= job_inputs(out, j);
	rc |= job_attempts(out, j);
	rc |= job_params(out, j);
	rc |= job_history(out, j);
	return rc;
}

int
page_error(struct evbuffer *out, int status, const char *message)
{
	char title[32];
	int rc;

	snprintf(title, sizeof(title), "%d", status);
	rc = page_begin(out, title, NULL, 0, 0);
	rc |= OUT("<h1>%d</h1><p class=\"error\">", status);
	rc |= html_text(out, message);
	rc |= OUT("</p><p><a href=\"/\">The queue</a></p>\n");
	return rc | page_end(out);
}

const char page_css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222}\n"
    "header{background:#234;color:#fff;padding:.5em 1em}\n"
    "header a{color:#fff;font-weight:bold;text-decoration:none}\n"
    "header span{opacity:.7;margin-left:1em}\n"
    "main{padding:1em}\n"
    "table{border-collapse:collapse;margin:.5em 0}\n"
    "td,th{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;"
    "vertical-align:top}\n"
    ".counts{list-style:none;padding:0;display:flex;gap:1em;flex-wrap:wrap}\n"
    ".counts a{text-decoration:none;color:inherit}\n"
    ".prompt{max-width:32em;white-space:pre-wrap;overflow-wrap:anywhere}\n"
    "pre.params{background:#f6f6f6;padding:.5em;white-space:pre-wrap}\n"
    ".strip img{border:1px solid #ccc;margin:1px;vertical-align:middle;"
    "background:#eee}\n"
    ".strip .partial img{max-width:48px;max-height:48px;width:auto;"
    "height:auto;opacity:.85}\n"
    ".strip .final img{max-width:96px;max-height:96px;width:auto;"
    "height:auto}\n"
    ".arrow{margin:0 .3em;color:#888}\n"
    ".inputs{display:flex;gap:1em;flex-wrap:wrap}\n"
    ".inputs img{max-width:160px;max-height:160px}\n"
    "figure{margin:0}\n"
    ".s-running .state,.state.s-running{color:#06c}\n"
    ".s-succeeded .state,.state.s-succeeded{color:#080}\n"
    ".s-failed .state,.state.s-failed{color:#b00}\n"
    ".s-retry_wait .state,.state.s-retry_wait{color:#a60}\n"
    ".error{color:#b00}\n"
    ".pause{color:#a60}\n"
    "dl.facts{display:grid;grid-template-columns:max-content auto;"
    "gap:.2em 1em}\n"
    "dl.facts dd{margin:0}\n"
    "nav.pages a{margin-right:1em}\n";

/* Live: on each event of a job, the row (or the job's page) is fetched
 * again from the server, which renders and escapes it. */
const char page_js[] =
    "\"use strict\";\n"
    "(function () {\n"
    "  var main = document.getElementById(\"main\");\n"
    "  var src = document.body.dataset.events;\n"
    "  if (!main || !src || !window.EventSource) return;\n"
    "  var job = main.dataset.job, head = main.dataset.head === \"1\";\n"
    "  var pending = {}, timer = null, summary = false;\n"
    "  function get(url, fn) {\n"
    "    fetch(url, {cache: \"no-store\"}).then(function (r) {\n"
    "      return r.ok ? r.text() : null;\n"
    "    }).then(function (t) { if (t !== null) fn(t); });\n"
    "  }\n"
    "  function node(html) {\n"
    "    var t = document.createElement(\"template\");\n"
    "    t.innerHTML = html;\n"
    "    return t.content.firstElementChild;\n"
    "  }\n"
    "  function row(id, isNew) {\n"
    "    if (!document.getElementById(\"job-\" + id) && !(isNew && head))\n"
    "      return;\n"
    "    get(\"/fragment/row/\" + id, function (t) {\n"
    "      var n = node(t), r = document.getElementById(\"job-\" + id);\n"
    "      var body = document.querySelector(\"#jobs tbody\");\n"
    "      if (!n) return;\n"
    "      if (r) r.replaceWith(n);\n"
    "      else if (body) body.insertBefore(n, body.firstChild);\n"
    "    });\n"
    "  }\n"
    "  function flush() {\n"
    "    timer = null;\n"
    "    Object.keys(pending).forEach(function (id) {\n"
    "      var isNew = pending[id] === \"new\";\n"
    "      delete pending[id];\n"
    "      if (!job) return row(id, isNew);\n"
    "      if (id !== job) return;\n"
    "      get(\"/jobs/\" + id, function (t) {\n"
    "        var d = new DOMParser().parseFromString(t, \"text/html\");\n"
    "        var m = d.getElementById(\"main\");\n"
    "        if (m) main.innerHTML = m.innerHTML;\n"
    "      });\n"
    "    });\n"
    "    if (summary && !job) get(\"/fragment/summary\", function (t) {\n"
    "      var s = document.getElementById(\"summary\"), n = node(t);\n"
    "      if (s && n) s.replaceWith(n);\n"
    "    });\n"
    "    summary = false;\n"
    "  }\n"
    "  function note(id, isNew) {\n"
    "    if (pending[id] !== \"new\") pending[id] = isNew ? \"new\" : \"changed\";\n"
    "    summary = true;\n"
    "    if (!timer) timer = setTimeout(flush, 150);\n"
    "  }\n"
    "  var es = new EventSource(src);\n"
    "  es.onopen = function () { document.body.dataset.live = \"open\"; };\n"
    "  es.addEventListener(\"job\", function (e) {\n"
    "    var d = JSON.parse(e.data);\n"
    "    note(String(d.job), d.from === null);\n"
    "  });\n"
    "  es.addEventListener(\"image\", function (e) {\n"
    "    note(String(JSON.parse(e.data).job), false);\n"
    "  });\n"
    "})();\n";
