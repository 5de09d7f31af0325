/* watch.c: the watch verb: jobs as they run, from the database alone: a live
 * screen on a terminal, one line per event (or JSON object) when piped. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "termsafe.h"
#include "util.h"

#define OPT_JSON 0x101
#define POLL_MS 200          /* PRAGMA data_version */
#define RECHECK_MS 1000      /* with ids: their states, whatever the version */
#define REDRAW_MS 1000       /* the screen's clocks move without a change */
#define RECENT_LINES 8
#define BATCH 500            /* events and images read per look */

static const char watch_help[] =
    "usage: imgeditctl watch [ID...] [--json]\n"
    "\n"
    "Shows jobs while they run, reading the database only (the daemon may\n"
    "run anywhere: another terminal, systemd). On a terminal: a screen that\n"
    "refreshes in place, the running jobs with the partials and finals\n"
    "received and the time since the last image, the queue's counts and the\n"
    "pause; piped: one line per event ('job 42 partial 2/3', 'job 42\n"
    "succeeded 1 final 3.1 s'). With IDs, only those jobs, and it ends when\n"
    "they have all finished; without, it runs until interrupted.\n"
    "  --json     piped: one JSON object per event\n"
    "  --db PATH  the database (else $IMGEDIT_DB)\n";

struct watch {
	struct ctl *c;
	int64_t *ids;          /* NULL: every job */
	int nids;
	int *done;             /* per id: finished */
	int *stale;            /* per id: seen finished, its end not read */
	int json, screen;
	int64_t last_event, last_image;
	char recent[RECENT_LINES][160];
	int nrecent;
};

/* Whether job id is one we watch (all, without ids); its slot in *slot. */
static int
watched(const struct watch *w, int64_t id, int *slot)
{
	int i;

	*slot = -1;
	if (w->ids == NULL)
		return 1;
	for (i = 0; i < w->nids; i++)
		if (w->ids[i] == id) {
			*slot = i;
			return 1;
		}
	return 0;
}

static int
all_done(const struct watch *w)
{
	int i;

	if (w->ids == NULL)
		return 0;
	for (i = 0; i < w->nids; i++)
		if (!w->done[i])
			return 0;
	return 1;
}

/* One event: printed when piped, kept for the screen's "recent". */
static void
emit(struct watch *w, json_t *obj, const char *line)
{
	if (w->screen) {
		if (w->nrecent == RECENT_LINES) {
			memmove(w->recent[0], w->recent[1],
			    sizeof(w->recent[0]) * (RECENT_LINES - 1));
			w->nrecent--;
		}
		termsafe_copy(line, w->recent[w->nrecent++],
		    sizeof(w->recent[0]));
	} else if (w->json) {
		char *text = json_dumps(obj, JSON_COMPACT);

		if (text != NULL)
			printf("%s\n", text);
		free(text);
	} else {
		char safe[4 * 160];

		printf("%s\n", termsafe_copy(line, safe, sizeof(safe)));
	}
	json_decref(obj);
}

static void
on_image(struct watch *w, const json_t *r)
{
	int64_t job = jint(r, "job_id"), want;
	const char *kind = jstr(r, "kind");
	int final = kind != NULL && strcmp(kind, "final") == 0, slot;
	char line[160];

	if (!watched(w, job, &slot) || (slot >= 0 && w->done[slot]))
		return; /* a finished job's lines were said */
	want = final ? (jint(r, "n") > 0 ? jint(r, "n") : 1) : jint(r, "partials");
	snprintf(line, sizeof(line), "job %lld %s %lld/%lld", (long long)job,
	    final ? "final" : "partial", (long long)jint(r, "idx") + 1,
	    (long long)want);
	emit(w, json_pack("{s:I,s:s,s:I,s:I,s:I}", "job", (json_int_t)job,
	    "event", final ? "final" : "partial", "index",
	    (json_int_t)jint(r, "idx") + 1, "of", (json_int_t)want, "attempt",
	    (json_int_t)jint(r, "attempt")), line);
}

static void
on_event(struct watch *w, const json_t *r)
{
	int64_t job = jint(r, "job_id"), finals = jint(r, "finals");
	const char *to = jstr(r, "to_state"), *detail = jstr(r, "detail");
	double secs = (double)(jint(r, "at") - jint(r, "created_at")) / 1000;
	char line[160];
	int slot;

	if (to == NULL || !watched(w, job, &slot) ||
	    (slot >= 0 && w->done[slot]))
		return; /* a finished job's lines were said */
	if (strcmp(to, "succeeded") == 0)
		snprintf(line, sizeof(line), "job %lld succeeded %lld final%s "
		    "%.1f s", (long long)job, (long long)finals, finals == 1 ?
		    "" : "s", secs);
	else
		snprintf(line, sizeof(line), "job %lld %s%s%.100s", (long long)job,
		    to, detail ? ": " : "", detail ? detail : "");
	emit(w, json_pack("{s:I,s:s,s:s?,s:I,s:f}", "job", (json_int_t)job,
	    "event", to, "detail", detail, "finals", (json_int_t)finals,
	    "seconds", secs), line);
	if (slot >= 0 && catalog_state_terminal(to))
		w->done[slot] = 1;
}

/* Whether imgs from index i on hold an image of job: the daemon stores a
 * job's images before its end, but the two clocks (the daemon's for images,
 * SQLite's for events) can disagree by a millisecond. */
static int
image_of_job_from(const json_t *imgs, size_t i, int64_t job)
{
	for (; i < json_array_size(imgs); i++)
		if (jint(json_array_get(imgs, i), "job_id") == job)
			return 1;
	return 0;
}

/* Reads what happened since the last look, in order. Returns 0 or -1. */
static int
look(struct watch *w)
{
	json_t *doc, *imgs, *evs, *img, *ev;
	size_t i, k;
	int more;

	do {
		if (catalog_activity(w->c->cat, w->last_event, w->last_image,
		    BATCH, &doc) != CATALOG_OK)
			return -1;
		imgs = json_object_get(doc, "images");
		evs = json_object_get(doc, "events");
		/* in time order, a state change before an image of its ms,
		 * but a job's end after all its images */
		for (i = 0, k = 0; i < json_array_size(imgs) ||
		    k < json_array_size(evs);) {
			img = json_array_get(imgs, i);
			ev = json_array_get(evs, k);
			if (ev != NULL && (img == NULL ||
			    (jint(ev, "at") <= jint(img, "at") &&
			    !(catalog_state_terminal(jstr(ev, "to_state")) &&
			    image_of_job_from(imgs, i, jint(ev, "job_id")))))) {
				on_event(w, ev);
				w->last_event = jint(ev, "id");
				k++;
			} else {
				on_image(w, img);
				w->last_image = jint(img, "id");
				i++;
			}
		}
		more = json_array_size(imgs) == BATCH ||
		    json_array_size(evs) == BATCH;
		json_decref(doc);
	} while (more);
	fflush(stdout);
	return 0;
}

/* The pause anyone has set: the operator's, else a live daemon's. */
static const char *
pause_of(const json_t *status)
{
	const json_t *p = json_object_get(status, "pause"), *d;
	size_t i;

	if (json_is_true(json_object_get(p, "paused")))
		return jstr(p, "reason") ? jstr(p, "reason") : "by the operator";
	json_array_foreach(json_object_get(status, "daemons"), i, d)
		if (!json_is_integer(json_object_get(d, "stopped_at")) &&
		    jstr(d, "pause_reason") != NULL)
			return jstr(d, "pause_reason");
	return NULL;
}

static void
draw_running(struct watch *w, const json_t *running, int64_t now)
{
	const json_t *r;
	char last[16], prompt[48];
	size_t i;
	int slot;

	printf("\n  %-8s %3s %9s %7s %10s  %s\n", "JOB", "ATT", "PARTIALS",
	    "FINALS", "LAST IMAGE", "PROMPT");
	json_array_foreach(running, i, r) {
		if (!watched(w, jint(r, "id"), &slot))
			continue;
		if (jint(r, "last_image_at") > 0)
			snprintf(last, sizeof(last), "%.1fs ago", (double)(now -
			    jint(r, "last_image_at")) / 1000);
		else
			snprintf(last, sizeof(last), "-");
		snprintf(prompt, sizeof(prompt), "%.40s", jstr(r, "prompt") ?
		    jstr(r, "prompt") : "");
		printf("  %-8lld %3lld %5lld/%-3lld %3lld/%-3lld %10s  %s\n",
		    (long long)jint(r, "id"), (long long)jint(r, "attempt"),
		    (long long)jint(r, "partials"),
		    (long long)jint(r, "want_partials"),
		    (long long)jint(r, "finals"), (long long)(jint(r,
		    "want_finals") > 0 ? jint(r, "want_finals") : 1), last,
		    prompt);
	}
}

/* The screen, redrawn in place. */
static int
draw(struct watch *w)
{
	static const char *const states[] = { "queued", "running",
	    "retry_wait", "succeeded", "failed", "canceled" };
	json_t *status, *running, *jobs;
	const char *pause;
	int64_t now = now_ms();
	size_t i;
	int k;

	if (catalog_status(w->c->cat, now, &status) != CATALOG_OK)
		return -1;
	if (catalog_running(w->c->cat, &running) != CATALOG_OK) {
		json_decref(status);
		return -1;
	}
	if (termsafe_json(status) == -1 || termsafe_json(running) == -1) {
		json_decref(running);
		json_decref(status);
		return -1;
	}
	jobs = json_object_get(status, "jobs");
	printf("\033[H\033[2J");
	printf("imgedit watch  %s\n\n ", w->c->db_name);
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		printf(" %s %lld", states[i], (long long)jint(jobs, states[i]));
	printf("   finished in the last minute: %lld\n",
	    (long long)jint(json_object_get(status, "finished"), "last_minute"));
	pause = pause_of(status);
	printf("  paused: %s\n", pause ? pause : "no");
	draw_running(w, running, now);
	printf("\nrecent\n");
	for (k = 0; k < w->nrecent; k++)
		printf("  %s\n", w->recent[k]);
	fflush(stdout);
	json_decref(running);
	json_decref(status);
	return 0;
}

/* Watched job i is finished (state): said so, in short, and done. */
static void
said_finished(struct watch *w, int i, const char *state)
{
	char line[96];

	w->done[i] = 1;
	snprintf(line, sizeof(line), "job %lld %s", (long long)w->ids[i], state);
	emit(w, json_pack("{s:I,s:s}", "job", (json_int_t)w->ids[i], "event",
	    state), line);
}

/* With ids: each must exist; those already finished are said at once. */
static int
first_states(struct watch *w)
{
	char state[CATALOG_STATE_LEN];
	int i, rc;

	for (i = 0; i < w->nids; i++) {
		rc = catalog_job_state(w->c->cat, w->ids[i], state);
		if (rc == CATALOG_NOTFOUND) {
			ctl_err("no job %lld: see imgeditctl list",
			    (long long)w->ids[i]);
			return CTL_FAIL;
		}
		if (rc != CATALOG_OK) {
			ctl_err("cannot read job %lld: %s", (long long)w->ids[i],
			    catalog_errmsg(w->c->cat));
			return CTL_DB;
		}
		if (catalog_state_terminal(state))
			said_finished(w, i, state);
	}
	return CTL_OK;
}

/* With ids: the lines start at the oldest running job's first event, so
 * that what a job did before watch started (a daemon that claims at once
 * stores a partial within milliseconds of the submit) is not missed. */
static int
rewind_marks(struct watch *w)
{
	int64_t e, i;
	int k, rc;

	for (k = 0; k < w->nids; k++) {
		if (w->done[k])
			continue;
		rc = catalog_job_marks(w->c->cat, w->ids[k], &e, &i);
		if (rc == CATALOG_NOTFOUND)
			continue;
		if (rc != CATALOG_OK)
			return -1;
		w->last_event = e < w->last_event ? e : w->last_event;
		w->last_image = i < w->last_image ? i : w->last_image;
	}
	return 0;
}

/* With ids, every RECHECK_MS: a job whose end was not read although its
 * state says it finished, twice in a row, is said finished now. On
 * PostgreSQL ids are taken at insert and seen at commit, so an event can
 * commit below the mark already read past; SQLite's one writer cannot. */
static int
recheck_ends(struct watch *w)
{
	char state[CATALOG_STATE_LEN];
	int i;

	for (i = 0; i < w->nids; i++) {
		if (w->done[i])
			continue;
		if (catalog_job_state(w->c->cat, w->ids[i], state) != CATALOG_OK)
			return -1;
		if (!catalog_state_terminal(state)) {
			w->stale[i] = 0;
			continue;
		}
		if (++w->stale[i] >= 2)
			said_finished(w, i, state);
	}
	return 0;
}

static int
run(struct watch *w)
{
	int64_t seen = -1, v, drawn = 0, checked = now_ms();

	if (catalog_activity_marks(w->c->cat, &w->last_event, &w->last_image) !=
	    CATALOG_OK || (w->ids != NULL && (first_states(w) != CTL_OK ||
	    rewind_marks(w) == -1))) {
		ctl_err("cannot read the database: %s", catalog_errmsg(w->c->cat));
		return CTL_DB;
	}
	while (!all_done(w)) {
		if (catalog_data_version(w->c->cat, &v) != CATALOG_OK)
			v = seen - 1; /* cannot tell: look again */
		if (v != seen) {
			seen = v;
			if (look(w) == -1) {
				ctl_err("cannot read the database: %s",
				    catalog_errmsg(w->c->cat));
				return CTL_DB;
			}
			drawn = 0;
		}
		if (w->ids != NULL && now_ms() - checked >= RECHECK_MS) {
			checked = now_ms();
			if (recheck_ends(w) == -1) {
				ctl_err("cannot read the database: %s",
				    catalog_errmsg(w->c->cat));
				return CTL_DB;
			}
		}
		if (w->screen && now_ms() - drawn >= REDRAW_MS) {
			if (draw(w) == -1)
				return CTL_DB;
			drawn = now_ms();
		}
		if (!all_done(w))
			ctl_sleep_ms(POLL_MS);
	}
	if (w->screen)
		draw(w);
	return CTL_OK;
}

int
verb_watch(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		CTL_COMMON_OPTS, { 0, 0, 0, 0 },
	};
	struct watch w = { .c = c };
	int opt, rc, done = 0;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (opt == OPT_JSON) {
			w.json = 1;
			continue;
		}
		rc = ctl_common_opt(c, opt, argv, watch_help, &done);
		if (rc != CTL_OK || done)
			return rc;
	}
	if (optind < argc) {
		w.nids = argc - optind;
		if ((rc = parse_ids(w.nids, argv + optind, watch_help, &w.ids)) !=
		    CTL_OK)
			return rc;
		if ((w.done = calloc((size_t)w.nids, sizeof(*w.done))) == NULL ||
		    (w.stale = calloc((size_t)w.nids, sizeof(*w.stale))) == NULL) {
			free(w.done);
			free(w.ids);
			return CTL_FAIL;
		}
	}
	w.screen = !w.json && isatty(STDOUT_FILENO);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((rc = ctl_open(c)) == CTL_OK)
		rc = run(&w);
	free(w.ids);
	free(w.done);
	free(w.stale);
	return rc;
}
