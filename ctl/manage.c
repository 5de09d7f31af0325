/* manage.c: the verbs that act on jobs and the queue: cancel, retry, wait,
 * pause, resume and prune. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "util.h"

#define OPT_TIMEOUT 0x101
#define OPT_OLDER 0x102
#define OPT_STATE 0x103
#define OPT_DRY_RUN 0x104
#define OPT_SINCE 0x105
#define OPT_FORCE 0x106
#define WAIT_POLL_MS 200
#define WAIT_RECHECK_MS 1000 /* the states, whatever data_version says */

static const char cancel_help[] =
    "usage: imgeditctl cancel ID... | - | --state S [--since TIME]\n"
    "\n"
    "Cancels queued, waiting and running jobs. A running job's daemon\n"
    "notices within a second and aborts the transfer. Finished jobs are\n"
    "left alone (exit status 1).\n"
    "  -              read the ids from standard input\n"
    "  --state S      every job in S (queued,retry_wait,running: commas)\n"
    "  --since TIME   with --state: created at or after TIME\n"
    "  --db PATH      the database (else $IMGEDIT_DB)\n";

static const char retry_help[] =
    "usage: imgeditctl retry ID... | - | --state S [--since TIME] [--force]\n"
    "\n"
    "Queues failed or canceled jobs again, to run now. Attempts made so far\n"
    "are kept; if none are left, max attempts is raised to allow one more.\n"
    "  -              read the ids from standard input\n"
    "  --state S      every job in S (failed,canceled: commas)\n"
    "  --since TIME   with --state: finished at or after TIME\n"
    "  --force        succeeded jobs too: run again, as a new attempt (its\n"
    "                 finals become the job's result; the old ones stay)\n"
    "  --db PATH      the database (else $IMGEDIT_DB)\n";

static const char wait_help[] =
    "usage: imgeditctl wait ID... [--timeout DURATION]\n"
    "\n"
    "Waits until every job has finished and prints 'ID STATE' for each.\n"
    "Exit status 0 if all succeeded, 1 if any failed or was canceled, 4 on\n"
    "timeout. Warns when no daemon has sent a heartbeat lately.\n"
    "  --timeout D    give up after D (90s, 10m, 2h; default: never)\n"
    "  --db PATH      the database (else $IMGEDIT_DB)\n";

static const char pause_help[] =
    "usage: imgeditctl pause [REASON]\n"
    "\n"
    "Stops the daemons from starting new jobs; running jobs go on. The\n"
    "reason shows in imgeditctl status.\n"
    "  --db PATH      the database (else $IMGEDIT_DB)\n";

static const char resume_help[] =
    "usage: imgeditctl resume\n"
    "\n"
    "Lets the daemons start jobs again after imgeditctl pause.\n"
    "  --db PATH      the database (else $IMGEDIT_DB)\n";

static const char prune_help[] =
    "usage: imgeditctl prune --older-than DURATION [--state S]...\n"
    "\n"
    "Deletes finished jobs that finished more than DURATION ago (7d, 12h),\n"
    "with their inputs, attempts, images and history, then the input blobs\n"
    "no job uses any more. Reports what it deleted and the free space.\n"
    "  --older-than D   required\n"
    "  --state S        succeeded, failed or canceled; repeat or separate\n"
    "                   with commas (default: all three)\n"
    "  --dry-run        say what would go, delete nothing\n"
    "  --db PATH        the database (else $IMGEDIT_DB)\n";

/* Parses the common options of a verb that takes only those plus arguments.
 * Returns CTL_OK with *done clear to go on. */
static int
common_only(struct ctl *c, int argc, char **argv, const char *help, int *done)
{
	static const struct option opts[] = { CTL_COMMON_OPTS, { 0, 0, 0, 0 } };
	int opt, rc;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		rc = ctl_common_opt(c, opt, argv, help, done);
		if (rc != CTL_OK || *done)
			return *done = 1, rc;
	}
	return CTL_OK;
}

/* ---- cancel, retry ---- */

typedef int transition_fn(struct catalog *, int64_t, int64_t, char *);

/* Which jobs a cancel or retry acts on. */
struct selection {
	const char *states;    /* --state, comma-separated */
	int64_t since;         /* --since */
	int force;             /* retry --force */
	int64_t *ids;
	size_t n, cap;
};

static int
add_id(struct selection *sel, int64_t id)
{
	int64_t *grown;

	if (sel->n == sel->cap) {
		if ((grown = reallocarray(sel->ids, sel->cap ? sel->cap * 2 : 64,
		    sizeof(*grown))) == NULL)
			return -1;
		sel->ids = grown;
		sel->cap = sel->cap ? sel->cap * 2 : 64;
	}
	sel->ids[sel->n++] = id;
	return 0;
}

/* Ids from standard input, separated by white space. */
static int
ids_from_stdin(struct selection *sel, const char *help)
{
	char word[64];
	int64_t id;

	while (scanf("%63s", word) == 1) {
		if (parse_id(word, &id) == -1)
			return ctl_usage(help, "standard input: '%s' is not a job "
			    "id", word);
		if (add_id(sel, id) == -1)
			return CTL_FAIL;
	}
	return CTL_OK;
}

struct state_ids {
	struct ctl *c;
	struct selection *sel;
};

/* The jobs of one state (since TIME), oldest first, into the selection. */
static int
add_state_ids(const char *state, void *arg)
{
	struct state_ids *a = arg;
	int64_t *ids;
	size_t n, i;
	int rc = CTL_OK;

	if (catalog_job_ids(a->c->cat, state, a->sel->since, &ids, &n) !=
	    CATALOG_OK) {
		ctl_err("cannot list jobs: %s", catalog_errmsg(a->c->cat));
		return CTL_FAIL;
	}
	for (i = 0; i < n && rc == CTL_OK; i++)
		if (add_id(a->sel, ids[i]) == -1)
			rc = CTL_FAIL;
	free(ids);
	return rc;
}

/* The options of cancel and retry; the ids (arguments, -, or --state). */
static int
select_jobs(struct ctl *c, int argc, char **argv, const char *help,
    struct selection *sel, int *done)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, OPT_STATE },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "force", no_argument, NULL, OPT_FORCE },
		CTL_COMMON_OPTS, { 0, 0, 0, 0 },
	};
	int64_t *ids;
	int opt, rc, i;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (opt == OPT_STATE)
			sel->states = optarg;
		else if (opt == OPT_SINCE) {
			if (parse_time(optarg, -1, &sel->since) == -1)
				return ctl_usage(help, "--since: '%s' is not a "
				    "time", optarg);
		} else if (opt == OPT_FORCE && help == retry_help)
			sel->force = 1;
		else if ((rc = ctl_common_opt(c, opt, argv, help, done)) !=
		    CTL_OK || *done)
			return *done = 1, rc;
	}
	if ((sel->states != NULL) == (optind < argc))
		return ctl_usage(help, "give job ids, - (ids on standard "
		    "input) or --state S");
	if (sel->since != 0 && sel->states == NULL)
		return ctl_usage(help, "--since goes with --state");
	if ((rc = ctl_open(c)) != CTL_OK)
		return rc;
	if (sel->states != NULL)
		return each_state(sel->states, help, add_state_ids,
		    &(struct state_ids){ c, sel });
	if (argc - optind == 1 && strcmp(argv[optind], "-") == 0)
		return ids_from_stdin(sel, help);
	if ((rc = parse_ids(argc - optind, argv + optind, help, &ids)) != CTL_OK)
		return rc;
	for (i = 0; i < argc - optind; i++)
		if (add_id(sel, ids[i]) == -1) {
			free(ids);
			return CTL_FAIL;
		}
	free(ids);
	return CTL_OK;
}

/* Applies fn to each selected job; reports each outcome. CTL_FAIL if any
 * failed. */
static int
each_job(struct ctl *c, const struct selection *sel, transition_fn *fn,
    const char *done_msg, const char *refuse_msg)
{
	char state[CATALOG_STATE_LEN];
	json_t *out = c->json ? json_array() : NULL;
	size_t i;
	int status = CTL_OK, rc;

	for (i = 0; i < sel->n; i++) {
		state[0] = '\0';
		rc = fn(c->cat, sel->ids[i], now_ms(), state);
		if (out != NULL)
			json_array_append_new(out, json_pack("{s:I,s:b,s:s}",
			    "id", (json_int_t)sel->ids[i], "ok", rc == CATALOG_OK,
			    "state", rc == CATALOG_OK ? done_msg : rc ==
			    CATALOG_STATE ? state : rc == CATALOG_NOTFOUND ?
			    "no such job" : "error"));
		switch (rc) {
		case CATALOG_OK:
			if (out == NULL)
				printf("job %lld %s\n", (long long)sel->ids[i],
				    done_msg);
			continue;
		case CATALOG_STATE:
			ctl_err("job %lld is %s: %s", (long long)sel->ids[i],
			    state, refuse_msg);
			break;
		case CATALOG_NOTFOUND:
			ctl_err("no job %lld: see imgeditctl list",
			    (long long)sel->ids[i]);
			break;
		case CATALOG_BUSY:
			ctl_err("job %lld: the database stayed locked for 5 s: "
			    "try again", (long long)sel->ids[i]);
			break;
		default:
			ctl_err("job %lld: %s", (long long)sel->ids[i],
			    catalog_errmsg(c->cat));
		}
		status = CTL_FAIL;
	}
	if (out != NULL && print_json_new(out) != CTL_OK)
		status = CTL_FAIL;
	return status;
}

int
verb_cancel(struct ctl *c, int argc, char **argv)
{
	struct selection sel = { 0 };
	int rc, done = 0;

	if ((rc = select_jobs(c, argc, argv, cancel_help, &sel, &done)) ==
	    CTL_OK && !done)
		rc = each_job(c, &sel, catalog_cancel, "canceled", "only "
		    "queued, retry_wait or running jobs can be canceled");
	free(sel.ids);
	return rc;
}

int
verb_retry(struct ctl *c, int argc, char **argv)
{
	struct selection sel = { 0 };
	int rc, done = 0;

	if ((rc = select_jobs(c, argc, argv, retry_help, &sel, &done)) ==
	    CTL_OK && !done)
		rc = each_job(c, &sel, sel.force ? catalog_retry_force :
		    catalog_retry, "queued", sel.force ? "only failed, "
		    "canceled or succeeded jobs can be run again" : "only failed "
		    "or canceled jobs can be retried (a succeeded one with "
		    "--force)");
	free(sel.ids);
	return rc;
}

/* ---- wait ---- */

/* Reports a finished job (a line, or with --json an object on one line);
 * returns CTL_OK if it succeeded. */
static int
report_done(struct ctl *c, int64_t id, const char *state)
{
	json_t *doc = NULL, *obj;
	const char *msg = NULL;
	char *line;
	int ok = strcmp(state, "succeeded") == 0;

	if (!ok && catalog_show(c->cat, id, &doc) == CATALOG_OK)
		msg = jstr(json_object_get(doc, "error"), "message");
	if (c->json) {
		obj = json_pack("{s:I,s:s,s:s?}", "id", (json_int_t)id, "state",
		    state, "error", msg);
		line = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
		printf("%s\n", line ? line : "{}");
		free(line);
		json_decref(obj);
	} else
		printf("%lld %s\n", (long long)id, state);
	if (!ok)
		ctl_err("job %lld %s%s%s", (long long)id, state, msg ? ": " : "",
		    msg ? msg : "");
	json_decref(doc);
	return ok ? CTL_OK : CTL_FAIL;
}

/* One look at the jobs still pending (ids[i] = 0 when done). Returns the
 * number still pending, or -1 on a database error. */
static int
poll_jobs(struct ctl *c, int64_t *ids, int n, int *status)
{
	char state[CATALOG_STATE_LEN];
	int i, pending = 0, rc;

	for (i = 0; i < n; i++) {
		if (ids[i] == 0)
			continue;
		rc = catalog_job_state(c->cat, ids[i], state);
		if (rc == CATALOG_NOTFOUND) {
			ctl_err("no job %lld: see imgeditctl list",
			    (long long)ids[i]);
			*status = CTL_FAIL;
			ids[i] = 0;
		} else if (rc != CATALOG_OK) {
			ctl_err("cannot read job %lld: %s", (long long)ids[i],
			    catalog_errmsg(c->cat));
			return -1;
		} else if (catalog_state_terminal(state)) {
			if (report_done(c, ids[i], state) != CTL_OK)
				*status = CTL_FAIL;
			ids[i] = 0;
		} else
			pending++;
	}
	fflush(stdout);
	return pending;
}

static int
first_pending(const int64_t *ids, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (ids[i] != 0)
			return i;
	return 0;
}

static int
wait_loop(struct ctl *c, int64_t *ids, int n, int64_t timeout_ms,
    const char *timeout_arg)
{
	char state[CATALOG_STATE_LEN] = "?";
	int64_t deadline = mono_ms() + timeout_ms, seen = -1, v, looked = 0;
	int pending, status = CTL_OK, i;

	for (;;) {
		if (catalog_data_version(c->cat, &v) != CATALOG_OK)
			v = seen - 1;  /* cannot tell: look again */
		/* and every second whatever the version says: on PostgreSQL
		 * a commit below the newest ids already seen changes nothing
		 * in it */
		if (v != seen || mono_ms() - looked >= WAIT_RECHECK_MS) {
			seen = v;
			looked = mono_ms();
			if ((pending = poll_jobs(c, ids, n, &status)) == -1)
				return CTL_FAIL;
			if (pending == 0)
				return status;
		}
		if (timeout_ms >= 0 && mono_ms() >= deadline)
			break;
		ctl_sleep_ms(WAIT_POLL_MS);
	}
	/* a last look: what ended meanwhile is not a timeout */
	if ((pending = poll_jobs(c, ids, n, &status)) == -1)
		return CTL_FAIL;
	if (pending == 0)
		return status;
	i = first_pending(ids, n);
	catalog_job_state(c->cat, ids[i], state);
	ctl_err("timed out after %s: job %lld is still %s", timeout_arg,
	    (long long)ids[i], state);
	return CTL_TIMEOUT;
}

/* Jobs only move while a daemon runs: says so when none has sent a
 * heartbeat lately (within three of its default intervals). */
static void
warn_no_daemon(struct ctl *c)
{
	int n = 0;

	if (catalog_live_daemons(c->cat, now_ms(), 6000, &n) == CATALOG_OK &&
	    n == 0)
		ctl_err("warning: no daemon has sent a heartbeat in the last 6 s: "
		    "the jobs wait until one runs (imgeditd, or systemctl start "
		    "imgeditd)");
}

int
verb_wait(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		CTL_COMMON_OPTS, { 0, 0, 0, 0 },
	};
	const char *timeout_arg = NULL;
	int64_t timeout = -1, *ids = NULL;
	int opt, rc, done = 0;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (opt == OPT_TIMEOUT) {
			timeout_arg = optarg;
			if (parse_duration_ms(optarg, &timeout) == -1)
				return ctl_usage(wait_help, "--timeout: '%s' is not "
				    "a duration (90s, 10m, 2h)", optarg);
			continue;
		}
		rc = ctl_common_opt(c, opt, argv, wait_help, &done);
		if (rc != CTL_OK || done)
			return rc;
	}
	if ((rc = parse_ids(argc - optind, argv + optind, wait_help, &ids)) !=
	    CTL_OK)
		return rc;
	if ((rc = ctl_open(c)) == CTL_OK) {
		warn_no_daemon(c);
		rc = wait_loop(c, ids, argc - optind, timeout, timeout_arg);
	}
	free(ids);
	return rc;
}

/* ---- pause, resume ---- */

int
verb_pause(struct ctl *c, int argc, char **argv)
{
	char reason[1024] = "";
	size_t len = 0;
	int i, rc, done = 0, was;

	if ((rc = common_only(c, argc, argv, pause_help, &done)) != CTL_OK ||
	    done)
		return rc;
	for (i = optind; i < argc; i++)
		len += (size_t)snprintf(reason + len, len < sizeof(reason) ?
		    sizeof(reason) - len : 0, "%s%s", i > optind ? " " : "",
		    argv[i]);
	if (len >= sizeof(reason))
		return ctl_usage(pause_help, "the reason is too long");
	if (len == 0)
		snprintf(reason, sizeof(reason), "paused by operator");
	if ((rc = ctl_open(c)) != CTL_OK)
		return rc;
	if ((rc = catalog_set_pause(c->cat, reason, &was)) != CATALOG_OK) {
		ctl_err("cannot pause: %s", rc == CATALOG_BUSY ? "the database "
		    "stayed locked for 5 s, try again" : catalog_errmsg(c->cat));
		return CTL_FAIL;
	}
	if (c->json)
		return print_json_new(json_pack("{s:b,s:s,s:b}", "paused", 1,
		    "reason", reason, "replaced", was));
	printf("paused%s: %s\n", was ? " (reason replaced)" : "", reason);
	return CTL_OK;
}

int
verb_resume(struct ctl *c, int argc, char **argv)
{
	int rc, done = 0, was;

	if ((rc = common_only(c, argc, argv, resume_help, &done)) != CTL_OK ||
	    done)
		return rc;
	if (optind != argc)
		return ctl_usage(resume_help, "resume takes no arguments");
	if ((rc = ctl_open(c)) != CTL_OK)
		return rc;
	if ((rc = catalog_set_pause(c->cat, NULL, &was)) != CATALOG_OK) {
		ctl_err("cannot resume: %s", rc == CATALOG_BUSY ? "the database "
		    "stayed locked for 5 s, try again" : catalog_errmsg(c->cat));
		return CTL_FAIL;
	}
	if (c->json)
		return print_json_new(json_pack("{s:b,s:b}", "paused", 0,
		    "was_paused", was));
	printf("%s\n", was ? "resumed" :
	    "resumed (no operator pause was set; paused daemons probe now)");
	return CTL_OK;
}

/* ---- prune ---- */

/* Adds the comma-separated states in arg to states[3]. */
static int
add_states(const char *arg, const char **states, size_t *n)
{
	static const char *const terminal[] = { "succeeded", "failed",
		"canceled" };
	const char *p = arg, *end;
	size_t i, k, len;

	for (; *p; p = *end ? end + 1 : end) {
		end = strchr(p, ',') ? strchr(p, ',') : p + strlen(p);
		len = (size_t)(end - p);
		for (i = 0; i < 3; i++)
			if (strlen(terminal[i]) == len &&
			    strncmp(p, terminal[i], len) == 0)
				break;
		if (i == 3)
			return ctl_usage(prune_help, "--state: '%.*s' is not "
			    "succeeded, failed or canceled", (int)len, p);
		for (k = 0; k < *n && states[k] != terminal[i]; k++)
			;
		if (k == *n)
			states[(*n)++] = terminal[i];
	}
	return CTL_OK;
}

static void
prune_report(struct ctl *c, const struct catalog_prune_result *r)
{
	char freeb[32];

	fmt_bytes(r->free_bytes, freeb, sizeof(freeb));
	printf("pruned %lld jobs and %lld unreferenced input blobs\n",
	    (long long)r->jobs, (long long)r->blobs);
	if (r->incremental)
		printf("%.1f MB freed (given back to the file system)\n",
		    (double)r->freed_bytes / 1e6);
	else if (r->autovacuum)
		printf("%.1f MB deleted, reused for new data once autovacuum has "
		    "run (PostgreSQL gives space back to the file system only "
		    "with VACUUM FULL)\n", (double)r->free_bytes / 1e6);
	else if (r->free_bytes > 0)
		printf("%s free inside the file, reused by new data. This file "
		    "was made before imgedit gave space back by itself; to "
		    "convert it once (stop imgeditd first): sqlite3 %s "
		    "'PRAGMA auto_vacuum=INCREMENTAL; VACUUM;'\n", freeb,
		    c->db_path);
}

static int
parse_prune(struct ctl *c, int argc, char **argv, const char **states,
    size_t *nstates, int64_t *older, int *dry, int *done)
{
	static const struct option opts[] = {
		{ "older-than", required_argument, NULL, OPT_OLDER },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		CTL_COMMON_OPTS, { 0, 0, 0, 0 },
	};
	int opt, rc;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (opt == OPT_OLDER) {
			if (parse_duration_ms(optarg, older) == -1)
				return ctl_usage(prune_help, "--older-than: '%s' is "
				    "not a duration (7d, 12h, 30m)", optarg);
		} else if (opt == OPT_STATE) {
			if ((rc = add_states(optarg, states, nstates)) != CTL_OK)
				return rc;
		} else if (opt == OPT_DRY_RUN) {
			*dry = 1;
		} else if ((rc = ctl_common_opt(c, opt, argv, prune_help,
		    done)) != CTL_OK || *done)
			return rc;
	}
	if (optind != argc)
		return ctl_usage(prune_help, "unexpected argument '%s'",
		    argv[optind]);
	if (*older < 0)
		return ctl_usage(prune_help, "give --older-than DURATION");
	if (*nstates == 0)
		add_states("succeeded,failed,canceled", states, nstates);
	return CTL_OK;
}

int
verb_prune(struct ctl *c, int argc, char **argv)
{
	struct catalog_prune_result res;
	const char *states[3];
	size_t nstates = 0;
	int64_t older = -1;
	int rc, done = 0, dry = 0;

	if ((rc = parse_prune(c, argc, argv, states, &nstates, &older, &dry,
	    &done)) != CTL_OK || done)
		return rc;
	if ((rc = ctl_open(c)) != CTL_OK)
		return rc;
	if (dry) {
		if (catalog_prune_plan(c->cat, states, nstates, now_ms() - older,
		    &res) != CATALOG_OK) {
			ctl_err("cannot read the jobs: %s", catalog_errmsg(c->cat));
			return CTL_FAIL;
		}
		if (c->json)
			return print_json_new(json_pack("{s:b,s:I,s:I}",
			    "dry_run", 1, "jobs", (json_int_t)res.jobs,
			    "image_bytes", (json_int_t)res.image_bytes));
		printf("would prune %lld jobs, with %.1f MB of images (nothing "
		    "deleted: --dry-run)\n", (long long)res.jobs,
		    (double)res.image_bytes / 1e6);
		return CTL_OK;
	}
	rc = catalog_prune(c->cat, states, nstates, now_ms() - older, &res);
	if (rc != CATALOG_OK) {
		ctl_err("prune stopped after %lld jobs: %s", (long long)res.jobs,
		    rc == CATALOG_BUSY ? "the database stayed locked for 5 s, "
		    "run it again" : catalog_errmsg(c->cat));
		return CTL_FAIL;
	}
	if (c->json)
		return print_json_new(json_pack("{s:I,s:I,s:I,s:I}", "jobs",
		    (json_int_t)res.jobs, "blobs", (json_int_t)res.blobs,
		    "freed_bytes", (json_int_t)res.freed_bytes, "free_bytes",
		    (json_int_t)res.free_bytes));
	prune_report(c, &res);
	return CTL_OK;
}
