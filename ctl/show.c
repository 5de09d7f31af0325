/* show.c: the reading verbs list, show and status: catalog documents printed
 * as tables for people or, with --json, as JSON for programs. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budgets.h"
#include "ctl.h"
#include "period.h"
#include "prices.h"
#include "settings.h"
#include "termsafe.h"
#include "util.h"

#define OPT_JSON 0x101
#define OPT_STATE 0x102
#define OPT_LIMIT 0x103
#define OPT_SINCE 0x104

static const char list_help[] =
    "usage: imgeditctl list [--state S] [--limit N] [--since TIME] [--json]\n"
    "\n"
    "Lists jobs, newest first: id, state, attempts/max, model, final images\n"
    "stored, age and the last error.\n"
    "  --state S      queued, running, retry_wait, succeeded, failed or\n"
    "                 canceled; several with commas (failed,canceled)\n"
    "  --limit N      at most N jobs (default 50; 0 = all)\n"
    "  --since TIME   created at or after TIME: epoch seconds, ISO-8601, or\n"
    "                 an age like 1h (the last hour)\n"
    "  --json         a JSON array\n"
    "  --db PATH      the database (else $IMGEDIT_DB)\n";

static const char show_help[] =
    "usage: imgeditctl show ID [--json]\n"
    "\n"
    "Shows one job: params, inputs, attempts, images and history.\n"
    "  --json         one JSON object\n"
    "  --db PATH      the database (else $IMGEDIT_DB)\n";

static const char status_help[] =
    "usage: imgeditctl status [--json]\n"
    "\n"
    "Shows the jobs per state, images stored, tokens used, jobs finished in\n"
    "the last minute and hour, the operator pause, the daemons with\n"
    "their heartbeats, and what the settings' budgets leave.\n"
    "  --json         one JSON object\n"
    "  --db PATH      the database (else $IMGEDIT_DB)\n";

/* The options of a verb whose own one is --json (show, status): sets
 * *json. Returns CTL_OK with *done = 0 when the verb goes on with its
 * operands at optind; otherwise what the verb returns. */
static int
json_opts(struct ctl *c, int argc, char **argv, const char *help, int *json,
    int *done)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		CTL_COMMON_OPTS, { 0, 0, 0, 0 },
	};
	int opt, rc;

	*json = *done = 0;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (opt == OPT_JSON) {
			*json = 1;
			continue;
		}
		rc = ctl_common_opt(c, opt, argv, help, done);
		if (rc != CTL_OK || *done)
			return rc;
	}
	return CTL_OK;
}

/* doc's text made safe for a terminal (termsafe.h), before it is printed
 * for people: CTL_OK, or CTL_FAIL out of memory. */
static int
human_doc(json_t *doc)
{
	if (termsafe_json(doc) == 0)
		return CTL_OK;
	ctl_err("out of memory");
	return CTL_FAIL;
}

/* A one-line excerpt of s, at most max bytes (cut on a UTF-8 boundary). */
static void
excerpt(const char *s, char *out, size_t max)
{
	size_t i, n = 0;

	if (s == NULL) {
		snprintf(out, max, "-");
		return;
	}
	for (i = 0; s[i] != '\0' && n + 4 < max; i++)
		out[n++] = s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? ' ' :
		    s[i];
	if (s[i] != '\0') {
		while (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0xc0)
			n--;
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

static void
error_summary(const json_t *error, char *out, size_t max)
{
	char msg[256];
	const char *kind;

	if (!json_is_object(error)) {
		snprintf(out, max, "-");
		return;
	}
	kind = jstr(error, "code") ? jstr(error, "code") : jstr(error, "type");
	snprintf(msg, sizeof(msg), "%s%s%s", kind ? kind : "",
	    kind ? ": " : "", jstr(error, "message") ? jstr(error, "message") :
	    "");
	excerpt(msg, out, max);
}

/* What a job's attempts cost (cost_usd_micro, cost_unknown): "$0.021",
 * "\u2265$0.021" when some attempt's cost is not known, "?" when none
 * is; "-" for a job that has not run. */
static void
job_cost(const json_t *j, char *buf, size_t n)
{
	if (jint(j, "cost_usd_micro") == 0 && jint(j, "cost_unknown") == 0 &&
	    jstr(j, "state") != NULL && strcmp(jstr(j, "state"), "queued") == 0)
		snprintf(buf, n, "-");
	else
		prices_cost_text(jint(j, "cost_usd_micro"),
		    jint(j, "cost_unknown") > 0, buf, n);
}

/* ---- list ---- */

static void
list_table(const json_t *arr)
{
	const json_t *j;
	char tries[32], age[16], err[64], cost[40];
	int64_t now = now_ms();
	size_t i;

	printf("%-8s %-10s %-6s %-12s %6s %10s %5s  %s\n", "ID", "STATE",
	    "TRIES", "MODEL", "IMAGES", "COST", "AGE", "ERROR");
	json_array_foreach(arr, i, j) {
		snprintf(tries, sizeof(tries), "%lld/%lld",
		    (long long)jint(j, "attempts"),
		    (long long)jint(j, "max_attempts"));
		fmt_age(now - jint(j, "created_at"), age, sizeof(age));
		error_summary(json_object_get(j, "error"), err, sizeof(err));
		job_cost(j, cost, sizeof(cost));
		/* "\u2265" is 3 bytes wide to printf, one column wide */
		printf("%-8lld %-10s %-6s %-12s %6lld %*s %5s  %s\n",
		    (long long)jint(j, "id"), jstr(j, "state"), tries,
		    jstr(j, "model") ? jstr(j, "model") : "?",
		    (long long)jint(j, "final_images"),
		    cost[0] == '$' || cost[0] == '-' || cost[0] == '?' ? 10 : 12,
		    cost, age, err);
	}
}

int
verb_list(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, OPT_STATE },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "json", no_argument, NULL, OPT_JSON },
		CTL_COMMON_OPTS, { 0, 0, 0, 0 },
	};
	const char *state = NULL;
	int64_t since = 0;
	long limit = 50;
	json_t *arr;
	int opt, rc, json = 0, done = 0;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_STATE:
			state = optarg;
			if (strlen(state) > 100)
				return ctl_usage(list_help, "--state: too long");
			if ((rc = each_state(state, list_help, NULL, NULL)) !=
			    CTL_OK)
				return rc;
			break;
		case OPT_LIMIT:
			if (parse_long(optarg, 0, 1000000000, &limit) == -1)
				return ctl_usage(list_help, "--limit: not a whole "
				    "number: '%s' (0 = all)", optarg);
			break;
		case OPT_SINCE:
			if (parse_time(optarg, -1, &since) == -1)
				return ctl_usage(list_help, "--since: '%s' is not a "
				    "time", optarg);
			break;
		case OPT_JSON:
			json = 1;
			break;
		default:
			rc = ctl_common_opt(c, opt, argv, list_help, &done);
			if (rc != CTL_OK || done)
				return rc;
		}
	}
	if (optind != argc)
		return ctl_usage(list_help, "unexpected argument '%s'",
		    argv[optind]);
	if ((rc = ctl_open(c)) != CTL_OK)
		return rc;
	if (catalog_list(c->cat, state, since, (int)limit, &arr) != CATALOG_OK) {
		ctl_err("cannot list jobs: %s", catalog_errmsg(c->cat));
		return CTL_FAIL;
	}
	if (json)
		rc = print_json(arr);
	else if ((rc = human_doc(arr)) == CTL_OK)
		list_table(arr);
	json_decref(arr);
	return rc;
}

/* ---- show ---- */

/* The job's cost over its attempts, and submit's estimate of it. */
static void
show_cost(const json_t *j)
{
	char cost[40], lo[32], hi[32];

	job_cost(j, cost, sizeof(cost));
	printf("  cost        %s", cost);
	if (jint(j, "cost_unknown") > 0)
		printf(" (%lld attempt%s of unknown cost)",
		    (long long)jint(j, "cost_unknown"),
		    jint(j, "cost_unknown") == 1 ? "" : "s");
	if (json_is_integer(json_object_get(j, "estimate_lo_usd_micro"))) {
		prices_usd(jint(j, "estimate_lo_usd_micro"), lo, sizeof(lo));
		if (json_is_integer(json_object_get(j, "estimate_hi_usd_micro"))) {
			prices_usd(jint(j, "estimate_hi_usd_micro"), hi,
			    sizeof(hi));
			printf("  estimated $%s to $%s", lo, hi);
		} else
			printf("  estimated at least $%s", lo);
	}
	printf("\n");
}

static void
show_header(const json_t *j)
{
	char t[32], err[512];
	const json_t *usage = json_object_get(j, "usage");
	const json_t *e = json_object_get(j, "error");
	char *params = json_dumps(json_object_get(j, "params"),
	    JSON_COMPACT | JSON_ENCODE_ANY);

	printf("job %lld  %s  attempts %lld/%lld  priority %lld  stream %s\n",
	    (long long)jint(j, "id"), jstr(j, "state"),
	    (long long)jint(j, "attempts"), (long long)jint(j, "max_attempts"),
	    (long long)jint(j, "priority"), jint(j, "stream") ? "on" : "off");
	printf("  model       %s\n", jstr(j, "model") ? jstr(j, "model") : "?");
	fmt_time(jint(j, "created_at"), t, sizeof(t));
	printf("  created     %s\n", t);
	fmt_time(jint(j, "updated_at"), t, sizeof(t));
	printf("  updated     %s\n", t);
	fmt_time(jint(j, "finished_at"), t, sizeof(t));
	printf("  finished    %s\n", t);
	if (jint(j, "not_before") > 0) {
		fmt_time(jint(j, "not_before"), t, sizeof(t));
		printf("  not before  %s\n", t);
	}
	if (jstr(j, "lease_owner") != NULL) {
		fmt_time(jint(j, "lease_expires"), t, sizeof(t));
		printf("  lease       %s until %s\n", jstr(j, "lease_owner"), t);
	}
	if (jstr(j, "idempotency_key") != NULL)
		printf("  key         %s\n", jstr(j, "idempotency_key"));
	printf("  tokens      input %lld  output %lld  total %lld\n",
	    (long long)jint(usage, "input_tokens"),
	    (long long)jint(usage, "output_tokens"),
	    (long long)jint(usage, "total_tokens"));
	show_cost(j);
	if (json_is_object(e)) {
		error_summary(e, err, sizeof(err));
		printf("  error       %s (HTTP %lld, request %s)\n", err,
		    (long long)jint(e, "status"), jstr(e, "request_id") ?
		    jstr(e, "request_id") : "-");
	}
	if (jstr(j, "params_error") != NULL)	/* too big to read (catalog.c) */
		printf("  params      (%s)\n", jstr(j, "params_error"));
	else
		printf("  params      %s\n", params ? params : "?");
	free(params);
}

static void
show_inputs(const json_t *arr)
{
	const json_t *r;
	char size[32];
	size_t i;

	printf("\ninputs\n  %-6s %3s %-24s %-11s %10s  %s\n", "ROLE", "#",
	    "FILENAME", "TYPE", "SIZE", "SHA256");
	json_array_foreach(arr, i, r) {
		fmt_bytes(jint(r, "size"), size, sizeof(size));
		printf("  %-6s %3lld %-24s %-11s %10s  %s\n", jstr(r, "role"),
		    (long long)jint(r, "ordinal"), jstr(r, "filename"),
		    jstr(r, "content_type") ? jstr(r, "content_type") : "(sniff)",
		    size, jstr(r, "sha256") ? jstr(r, "sha256") : "-");
	}
}

/* Whether the attempt counts against max_attempts (schema/README.md): it
 * ended the job's way, or its daemon died after upstream had answered. */
static int
attempt_counts(const json_t *r)
{
	const char *o = jstr(r, "outcome");
	const json_t *err = json_object_get(r, "error");
	const char *msg = err != NULL ? jstr(err, "message") : NULL;

	if (o == NULL)
		return 1; /* running: counted from its claim */
	if (strcmp(o, "succeeded") == 0 || strcmp(o, "retry") == 0 ||
	    strcmp(o, "failed") == 0)
		return 1;
	return strcmp(o, "interrupted") == 0 && jint(r, "http_status") > 0 &&
	    msg != NULL && strncmp(msg, "daemon lost its lease", 21) == 0;
}

/* Under an attempt: its model, tokens by kind and cost with its status. */
static void
attempt_cost(const json_t *r)
{
	const json_t *u = json_object_get(r, "usage");
	const json_t *d = json_object_get(u, "input_tokens_details");
	char cost[40];

	if (jstr(r, "cost_status") == NULL && jint(r, "ended_at") == 0)
		return;	/* running */
	printf("      %s: ", jstr(r, "model") ? jstr(r, "model") : "(no model)");
	if (json_is_object(u))
		printf("%lld text + %lld image in, %lld out; ",
		    (long long)jint(d, "text_tokens"),
		    (long long)jint(d, "image_tokens"),
		    (long long)jint(u, "output_tokens"));
	else
		printf("no usage; ");
	if (json_is_integer(json_object_get(r, "cost_usd_micro")))
		prices_cost_text(jint(r, "cost_usd_micro"), 0, cost,
		    sizeof(cost));
	else
		snprintf(cost, sizeof(cost), "unknown");
	printf("cost %s (%s)\n", cost, jstr(r, "cost_status") ?
	    jstr(r, "cost_status") : "not recorded");
}

static void
show_attempts(const json_t *arr)
{
	const json_t *r;
	char start[32], dur[24], err[256], outcome[24];
	size_t i;
	int uncounted = 0;

	printf("\nattempts\n  %3s %-19s %11s %4s %-12s %-24s %8s  %s\n", "#",
	    "STARTED", "DURATION", "HTTP", "OUTCOME", "REQUEST", "TOKENS",
	    "ERROR");
	json_array_foreach(arr, i, r) {
		fmt_time(jint(r, "started_at"), start, sizeof(start));
		if (jint(r, "ended_at") > 0)
			snprintf(dur, sizeof(dur), "%lld ms", (long long)
			    (jint(r, "ended_at") - jint(r, "started_at")));
		else
			snprintf(dur, sizeof(dur), "running");
		snprintf(outcome, sizeof(outcome), "%s%s", jstr(r, "outcome") ?
		    jstr(r, "outcome") : "-", attempt_counts(r) ? "" : "*");
		uncounted += !attempt_counts(r);
		error_summary(json_object_get(r, "error"), err, sizeof(err));
		printf("  %3lld %-19s %11s %4lld %-12s %-24s %8lld  %s\n",
		    (long long)jint(r, "number"), start, dur,
		    (long long)jint(r, "http_status"), outcome,
		    jstr(r, "request_id") ? jstr(r, "request_id") : "-",
		    (long long)jint(r, "total_tokens"), err);
		attempt_cost(r);
	}
	if (uncounted > 0)
		printf("  * not counted against max_attempts (paused, canceled, or "
		    "interrupted by the daemon)\n");
}

static void
show_images(const json_t *arr)
{
	const json_t *r;
	char size[32], dims[32];
	size_t i;

	printf("\nimages\n  %-8s %3s %-7s %3s %-6s %-11s %10s  %s\n", "ID",
	    "ATT", "KIND", "IDX", "FORMAT", "SIZE", "BYTES", "SHA256");
	json_array_foreach(arr, i, r) {
		fmt_bytes(jint(r, "size"), size, sizeof(size));
		snprintf(dims, sizeof(dims), "%lldx%lld",
		    (long long)jint(r, "width"), (long long)jint(r, "height"));
		printf("  %-8lld %3lld %-7s %3lld %-6s %-11s %10s  %s\n",
		    (long long)jint(r, "id"), (long long)jint(r, "attempt"),
		    jstr(r, "kind"), (long long)jint(r, "idx"), jstr(r, "format"),
		    dims, size, jstr(r, "sha256"));
	}
}

static void
show_events(const json_t *arr)
{
	const json_t *r;
	char at[32], detail[256];
	size_t i;

	printf("\nhistory\n");
	json_array_foreach(arr, i, r) {
		fmt_time(jint(r, "at"), at, sizeof(at));
		excerpt(jstr(r, "detail"), detail, sizeof(detail));
		printf("  %s  %-10s -> %-10s %s\n", at,
		    jstr(r, "from_state") ? jstr(r, "from_state") : "",
		    jstr(r, "to_state"), jstr(r, "detail") ? detail : "");
	}
}

int
verb_show(struct ctl *c, int argc, char **argv)
{
	int64_t id;
	json_t *doc;
	int rc, json, done;

	if ((rc = json_opts(c, argc, argv, show_help, &json, &done)) !=
	    CTL_OK || done)
		return rc;
	if (argc - optind != 1)
		return ctl_usage(show_help, "give one job ID");
	if (parse_id(argv[optind], &id) == -1)
		return ctl_usage(show_help, "'%s' is not a job id", argv[optind]);
	if ((rc = ctl_open(c)) != CTL_OK)
		return rc;
	if ((rc = catalog_show(c->cat, id, &doc)) != CATALOG_OK) {
		if (rc == CATALOG_NOTFOUND)
			ctl_err("no job %lld: see imgeditctl list", (long long)id);
		else
			ctl_err("cannot read job %lld: %s", (long long)id,
			    catalog_errmsg(c->cat));
		return CTL_FAIL;
	}
	if (json)
		rc = print_json(doc);
	else if ((rc = human_doc(doc)) == CTL_OK) {
		show_header(doc);
		show_inputs(json_object_get(doc, "inputs"));
		show_attempts(json_object_get(doc, "attempt_log"));
		show_images(json_object_get(doc, "images"));
		show_events(json_object_get(doc, "events"));
	}
	json_decref(doc);
	return rc;
}

/* ---- status ---- */

/* The widest value of key among the daemons, at least min. */
static int
column_width(const json_t *arr, const char *key, int min)
{
	const json_t *d;
	size_t i;
	int w = min, n;

	json_array_foreach(arr, i, d)
		if (jstr(d, key) != NULL && (n = (int)strlen(jstr(d, key))) > w)
			w = n;
	return w;
}

static void
status_daemons(const json_t *arr, int64_t now)
{
	const json_t *d;
	const char *pause;
	char started[32], beat[16];
	size_t i;
	int stopped, wid = column_width(arr, "id", 2),
	    whost = column_width(arr, "host", 4);

	if (json_array_size(arr) == 0) {
		printf("daemons   none seen in the last hour\n");
		return;
	}
	printf("daemons\n  %-*s %-*s %7s %-19s %6s  %s\n", wid, "ID", whost,
	    "HOST", "PID", "STARTED", "BEAT", "STATUS");
	json_array_foreach(arr, i, d) {
		stopped = json_is_integer(json_object_get(d, "stopped_at"));
		/* a stopped daemon pauses nothing */
		pause = stopped ? NULL : jstr(d, "pause_reason");
		fmt_time(jint(d, "started_at"), started, sizeof(started));
		fmt_age(now - jint(d, "heartbeat_at"), beat, sizeof(beat));
		printf("  %-*s %-*s %7lld %-19s %6s  %s%s%s%s\n", wid,
		    jstr(d, "id"), whost, jstr(d, "host"),
		    (long long)jint(d, "pid"), started, beat,
		    stopped ? "stopped" : jstr(d, "status") ? jstr(d, "status") :
		    "-", pause ? " (paused: " : "", pause ? pause : "",
		    pause ? ")" : "");
		if (!stopped && now - jint(d, "heartbeat_at") > 60 * 1000)
			printf("  ^ no heartbeat for %s: is it still running?\n",
			    beat);
	}
}

/* The first live daemon's pause reason, or NULL. */
static const char *
daemon_pause(const json_t *arr)
{
	const json_t *d;
	size_t i;

	json_array_foreach(arr, i, d)
		if (!json_is_integer(json_object_get(d, "stopped_at")) &&
		    jstr(d, "pause_reason") != NULL)
			return jstr(d, "pause_reason");
	return NULL;
}

/* Another program holds the write lock: how long the daemons have not been
 * able to write (their last heartbeat) tells how long at least. */
static void
status_lock(const json_t *doc, int64_t now)
{
	const json_t *d;
	int64_t newest = 0;
	char age[16];
	size_t i;

	if (!json_is_true(json_object_get(json_object_get(doc, "database"),
	    "write_locked")))
		return;
	json_array_foreach(json_object_get(doc, "daemons"), i, d)
		if (!json_is_integer(json_object_get(d, "stopped_at")) &&
		    jint(d, "heartbeat_at") > newest)
			newest = jint(d, "heartbeat_at");
	printf("locked    another connection holds the write lock now");
	if (newest > 0) {
		fmt_age(now - newest, age, sizeof(age));
		printf("; the daemons last wrote %s ago (they wait, and lose "
		    "nothing)", age);
	}
	printf("\n");
}

/* One row of "spent": cost (a lower bound when some attempts' cost is
 * known neither from usage nor from a reserve), attempts, tokens. */
static void
spent_row(const char *label, const json_t *row)
{
	char cost[40], reserved[32];

	prices_cost_text(jint(row, "cost_usd_micro"),
	    jint(row, "unknown_unreserved") > 0, cost, sizeof(cost));
	printf("%s: %s in %lld attempt%s, %lld tokens (%lld in, %lld out)",
	    label, cost, (long long)jint(row, "attempts"),
	    jint(row, "attempts") == 1 ? "" : "s",
	    (long long)jint(row, "total_tokens"),
	    (long long)jint(row, "input_tokens"),
	    (long long)jint(row, "output_tokens"));
	if (jint(row, "unknown") > 0)
		printf("; %lld of unknown cost", (long long)jint(row, "unknown"));
	if (jint(row, "unknown") > jint(row, "unknown_unreserved")) {
		prices_usd(jint(row, "unknown_reserved_usd_micro"), reserved,
		    sizeof(reserved));
		printf(", %lld counted at their reserve ($%s)",
		    (long long)(jint(row, "unknown") -
		    jint(row, "unknown_unreserved")), reserved);
	}
	if (jint(row, "running") > 0)
		printf("; %lld running", (long long)jint(row, "running"));
	printf("\n");
}

/* spent today, this week, this month, in all and per model. */
static void
status_spent(const json_t *spent)
{
	static const char *const periods[][2] = { { "day", "today" },
		{ "week", "this week" }, { "month", "this month" } };
	const json_t *p, *m;
	char label[160], since[64];
	size_t i, k;

	for (i = 0; i < sizeof(periods) / sizeof(periods[0]); i++) {
		if ((p = json_object_get(spent, periods[i][0])) == NULL)
			continue;
		period_format(jint(p, "start"), since, sizeof(since));
		snprintf(label, sizeof(label), "spent %s", periods[i][1]);
		spent_row(label, json_object_get(p, "all"));
		if (i == 0)
			printf("  (since %s; attempts count in the period they "
			    "started in)\n", since);
		json_array_foreach(json_object_get(p, "models"), k, m) {
			snprintf(label, sizeof(label), "  %s",
			    jstr(m, "model") ? jstr(m, "model") : "(no model)");
			spent_row(label, m);
		}
	}
}

/* Estimate vs actual, over the finished jobs submit estimated. */
static void
status_estimates(const json_t *e)
{
	char lo[32], hi[32], actual[32];

	if (e == NULL || jint(e, "jobs") == 0)
		return;
	prices_usd(jint(e, "estimate_lo_usd_micro"), lo, sizeof(lo));
	prices_usd(jint(e, "estimate_hi_usd_micro"), hi, sizeof(hi));
	prices_usd(jint(e, "actual_usd_micro"), actual, sizeof(actual));
	printf("estimate vs actual: %lld finished jobs estimated $%s to %s%s, "
	    "cost $%s: %lld within, %lld over, %lld under, %lld of unknown "
	    "cost\n", (long long)jint(e, "jobs"), lo,
	    json_is_null(json_object_get(e, "estimate_hi_usd_micro")) ?
	    "(no bound)" : "$", json_is_null(json_object_get(e,
	    "estimate_hi_usd_micro")) ? "" : hi, actual,
	    (long long)jint(e, "within"), (long long)jint(e, "over"),
	    (long long)jint(e, "under"), (long long)jint(e, "unknown"));
}

static void
status_text(const json_t *doc, const char *path)
{
	static const char *const states[] = {
		"queued", "running", "retry_wait", "succeeded", "failed",
		"canceled",
	};
	const json_t *db = json_object_get(doc, "database");
	const json_t *jobs = json_object_get(doc, "jobs");
	const json_t *p = json_object_get(doc, "pause");
	char size[32], freeb[32];
	size_t i;

	fmt_bytes(jint(db, "size_bytes"), size, sizeof(size));
	fmt_bytes(jint(db, "free_bytes"), freeb, sizeof(freeb));
	printf("database  %s (schema %lld, %s, %s free)\njobs     ", path,
	    (long long)jint(db, "schema_version"), size, freeb);
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		printf(" %s %lld", states[i], (long long)jint(jobs, states[i]));
	printf("  (total %lld)\n", (long long)jint(jobs, "total"));
	printf("images    %lld final, %lld partial\n",
	    (long long)jint(json_object_get(doc, "images"), "final"),
	    (long long)jint(json_object_get(doc, "images"), "partial"));
	printf("tokens    input %lld  output %lld  total %lld\n",
	    (long long)jint(json_object_get(doc, "tokens"), "input"),
	    (long long)jint(json_object_get(doc, "tokens"), "output"),
	    (long long)jint(json_object_get(doc, "tokens"), "total"));
	printf("finished  %lld in the last minute, %lld in the last hour\n",
	    (long long)jint(json_object_get(doc, "finished"), "last_minute"),
	    (long long)jint(json_object_get(doc, "finished"), "last_hour"));
	status_spent(json_object_get(doc, "spent"));
	status_estimates(json_object_get(doc, "estimate_vs_actual"));
	if (json_is_true(json_object_get(p, "paused")))
		printf("paused    %s (imgeditctl resume to continue)\n",
		    jstr(p, "reason") ? jstr(p, "reason") : "yes");
	else if (daemon_pause(json_object_get(doc, "daemons")) != NULL &&
	    strncmp(daemon_pause(json_object_get(doc, "daemons")), "budget: ",
	    8) == 0)
		printf("paused    by the daemon: %s (new jobs wait for the "
		    "period's turn or a higher limit, then SIGHUP; transfers in "
		    "flight finish)\n", daemon_pause(json_object_get(doc,
		    "daemons")));
	else if (daemon_pause(json_object_get(doc, "daemons")) != NULL)
		printf("paused    by the daemon: %s (it probes; imgeditctl resume "
		    "to try now)\n", daemon_pause(json_object_get(doc, "daemons")));
	else
		printf("paused    no\n");
	ctl_budgets_print(stdout, "budget    ", json_object_get(doc, "budgets"));
	status_lock(doc, now_ms());
	status_daemons(json_object_get(doc, "daemons"), now_ms());
}

/* The settings' budgets and what they leave, as "budgets" in doc (none
 * when no budget is set), in the zone ctl_settings_zone set. A settings
 * file that cannot be read was said there; the rest of the status goes
 * on. */
static int
status_budgets(struct ctl *c, json_t *doc)
{
	struct ctl_settings set;
	struct budget_claim bc;
	struct budget_sums sums;
	char err[512];
	json_t *arr;
	int64_t now = now_ms();
	int rc = CTL_OK;

	memset(&sums, 0, sizeof(sums));
	if (ctl_settings_load(&set, err, sizeof(err)) == -1 ||
	    set.budgets.n == 0)
		goto done;
	if (ctl_budgets_read(c->cat, &set.budgets, now, &bc, &sums) !=
	    CATALOG_OK) {
		ctl_err("cannot read what the budgets spent: %s",
		    catalog_errmsg(c->cat));
		rc = CTL_FAIL;
		goto done;
	}
	if ((arr = ctl_budgets_doc(&set.budgets, &sums, now)) == NULL ||
	    json_object_set_new(doc, "budgets", arr) == -1)
		rc = CTL_FAIL;
done:
	budget_sums_free(&sums);
	ctl_settings_free(&set);
	return rc;
}

int
verb_status(struct ctl *c, int argc, char **argv)
{
	char zone[128];
	json_t *doc;
	int rc, json, done;

	if ((rc = json_opts(c, argc, argv, status_help, &json, &done)) !=
	    CTL_OK || done)
		return rc;
	if (optind != argc)
		return ctl_usage(status_help, "unexpected argument '%s'",
		    argv[optind]);
	if ((rc = ctl_open(c)) != CTL_OK)
		return rc;
	ctl_settings_zone(zone, sizeof(zone));
	if (catalog_status(c->cat, now_ms(), &doc) != CATALOG_OK) {
		ctl_err("cannot read the status: %s", catalog_errmsg(c->cat));
		return CTL_FAIL;
	}
	json_object_set_new(json_object_get(doc, "spent"), "time_zone",
	    json_string(zone));
	if (status_budgets(c, doc) != CTL_OK) {
		json_decref(doc);
		return CTL_FAIL;
	}
	if (json)
		rc = print_json(doc);
	else if ((rc = human_doc(doc)) == CTL_OK)
		status_text(doc, c->db_name);
	json_decref(doc);
	return rc;
}
