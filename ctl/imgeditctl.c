/* imgeditctl.c: main, the verb table, the options every verb shares, opening
 * the database (path, schema version), the pollers' sleep and the init verb. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "ctl.h"
#include "util.h"

/* Where the systemd unit keeps the queue (StateDirectory=imgedit). */
#define SERVICE_DB_PATH "/var/lib/imgedit/queue.db"


static const struct verb {
	const char *name;
	verb_fn *fn;
	const char *summary;
} verbs[] = {
	{ "init", verb_init, "create or migrate the database" },
	{ "submit", verb_submit, "queue edit jobs (one, --each, --from JSONL)" },
	{ "list", verb_list, "list jobs, newest first" },
	{ "show", verb_show, "show a job: params, inputs, attempts, images, history" },
	{ "export", verb_export, "write jobs' images and job.json into a directory" },
	{ "cancel", verb_cancel, "cancel queued, waiting or running jobs" },
	{ "retry", verb_retry, "queue failed or canceled jobs again" },
	{ "wait", verb_wait, "wait until jobs finish" },
	{ "watch", verb_watch, "show jobs as they run (partials arriving)" },
	{ "status", verb_status, "counts, throughput, tokens, daemons, pause" },
	{ "pause", verb_pause, "stop the daemons from starting new jobs" },
	{ "resume", verb_resume, "let the daemons start jobs again" },
	{ "prune", verb_prune, "delete old finished jobs and reclaim space" },
	{ "serve", verb_serve, "a read-only web view of the queue, live" },
	{ "copy", verb_copy, "copy a queue between SQLite and PostgreSQL" },
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static const char main_help[] =
    "usage: imgeditctl [--db PATH] VERB [options] [arguments]\n"
    "       imgeditctl VERB --help | help [VERB] | --version\n"
    "\n"
    "The database is --db PATH (before or after the verb) or $IMGEDIT_DB,\n"
    "else the service's: db = in imgeditd's settings file ($IMGEDIT_CONFIG,\n"
    "else " CONFIG_DEFAULT_PATH "), else " SERVICE_DB_PATH ".\n"
    "A PATH beginning with postgresql:// or postgres:// is a PostgreSQL\n"
    "connection URI (see imgeditctl(1) for what differs there).\n"
    "Exit status: 0 success, 1 failed operation (wait: a job failed),\n"
    "2 usage error or invalid job, 3 database unavailable, 4 wait timed out.\n";

int
ctl_common_opt(struct ctl *c, int opt, char **argv, const char *help,
    int *done)
{
	switch (opt) {
	case OPT_DB:
		c->db_path = optarg;
		return CTL_OK;
	case OPT_JSON_ANY:
		c->json = 1;
		return CTL_OK;
	case OPT_HELP:
		fputs(help, stdout);
		*done = 1;
		return CTL_OK;
	case ':':
		*done = 1;
		return ctl_usage(help, "%s: needs a value", argv[optind - 1]);
	case '?':
		*done = 1;
		if (optopt > ' ' && optopt < 0x7f &&
		    strncmp(argv[optind - 1], "--", 2) != 0)
			return ctl_usage(help, "unknown option -%c", optopt);
		return ctl_usage(help, "unknown option %s", argv[optind - 1]);
	default:
		return -1;
	}
}

/* The service's database: db = from imgeditd's settings file
 * ($IMGEDIT_CONFIG, else the installed one), else where the unit keeps it.
 * Returns 0 with the path in c->db_found, or -1. */
static int
service_db(struct ctl *c)
{
	const char *path = getenv("IMGEDIT_CONFIG");
	struct config cfg;
	char err[512];

	config_defaults(&cfg);
	if (path == NULL || *path == '\0')
		path = CONFIG_DEFAULT_PATH;
	if (config_load(&cfg, path, 1, NULL, err, sizeof(err)) == 0 &&
	    cfg.db != NULL)
		strlcpy_safe(c->db_found, cfg.db, sizeof(c->db_found));
	else if (access(SERVICE_DB_PATH, F_OK) == 0)
		strlcpy_safe(c->db_found, SERVICE_DB_PATH, sizeof(c->db_found));
	config_free(&cfg);
	return c->db_found[0] != '\0' ? 0 : -1;
}

const char *
ctl_db_path(struct ctl *c)
{
	if (c->db_path == NULL || *c->db_path == '\0')
		c->db_path = getenv("IMGEDIT_DB");
	if ((c->db_path == NULL || *c->db_path == '\0') && service_db(c) == 0)
		c->db_path = c->db_found;
	if (c->db_path == NULL || *c->db_path == '\0') {
		ctl_err("no database: give --db PATH or set IMGEDIT_DB "
		    "(create one with: imgeditctl --db PATH init); none in "
		    "%s nor at " SERVICE_DB_PATH, getenv("IMGEDIT_CONFIG") ?
		    getenv("IMGEDIT_CONFIG") : CONFIG_DEFAULT_PATH);
		return NULL;
	}
	return c->db_path;
}

int
ctl_open(struct ctl *c)
{
	char err[1024];

	if (ctl_db_path(c) == NULL)
		return CTL_USAGE;
	if (catalog_open(c->db_path, c->readonly ? CATALOG_READONLY : 0,
	    "imgeditctl", &c->cat, err, sizeof(err)) != CATALOG_OK) {
		ctl_err("%s", err);
		return CTL_DB;
	}
	strlcpy_safe(c->db_name, catalog_name(c->cat), sizeof(c->db_name));
	return CTL_OK;
}

void
ctl_close(struct ctl *c)
{
	catalog_close(c->cat);
	c->cat = NULL;
}

void
ctl_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1)
		;
}

/* ---- init ---- */

static const char init_help[] =
    "usage: imgeditctl init [--db PATH]\n"
    "\n"
    "Creates the database file if missing and applies the schema\n"
    "migrations it lacks. Prints the path and the schema version.\n"
    "With --db postgresql://... (or postgres://), migrates that PostgreSQL\n"
    "database instead, under a lock, so several inits at once are safe;\n"
    "prints the database without its password.\n";

int
verb_init(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = { CTL_COMMON_OPTS, { 0, 0, 0, 0 } };
	char err[1024];
	int opt, rc, done = 0, have;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if ((rc = ctl_common_opt(c, opt, argv, init_help, &done)) != CTL_OK
		    || done)
			return rc == -1 ? ctl_usage(init_help, NULL) : rc;
	}
	if (optind != argc)
		return ctl_usage(init_help, "init takes no arguments");
	if (ctl_db_path(c) == NULL)
		return CTL_USAGE;
	if (catalog_init(c->db_path, c->db_name, sizeof(c->db_name), &have, err,
	    sizeof(err)) != CATALOG_OK) {
		ctl_err("%s", err);
		return CTL_DB;
	}
	if (c->json)
		print_json_new(json_pack("{s:s,s:s,s:i}", "path", c->db_name,
		    "backend", backend_for(c->db_path)->name, "schema_version",
		    have));
	else
		printf("%s: schema version %d\n", c->db_name, have);
	return CTL_OK;
}

/* ---- main ---- */

static void
overview(FILE *out)
{
	size_t i;

	fputs(main_help, out);
	fputs("\nVerbs:\n", out);
	for (i = 0; i < NVERBS; i++)
		fprintf(out, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
	fputs("\nSee imgeditctl(1), or imgeditctl VERB --help.\n", out);
}

static const struct verb *
find_verb(const char *name)
{
	size_t i;

	for (i = 0; i < NVERBS; i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

/* `help [VERB]`: the overview, or the verb's own --help. */
static int
help_verb(struct ctl *c, int argc, char **argv)
{
	const struct verb *v;
	char *args[3];

	if (argc < 2) {
		overview(stdout);
		return CTL_OK;
	}
	if ((v = find_verb(argv[1])) == NULL) {
		ctl_err("unknown verb '%s': see imgeditctl help", argv[1]);
		return CTL_USAGE;
	}
	args[0] = argv[1];
	args[1] = (char *)"--help";
	args[2] = NULL;
	optind = 0;
	return v->fn(c, 2, args);
}

/* Global options before the verb: --db, --help, --version. Returns the index
 * of the verb in argv, or -1 with *rc set when main is done. */
static int
global_opts(struct ctl *c, int argc, char **argv, int *rc)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0, 0, 0, 0 },
	};
	int opt;

	*rc = CTL_OK;
	while ((opt = getopt_long(argc, argv, "+:hV", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_DB:
			c->db_path = optarg;
			break;
		case 'h':
			overview(stdout);
			return -1;
		case 'V':
			printf("imgeditctl %s\n", IMGEDIT_VERSION);
			return -1;
		case ':':
			*rc = ctl_usage(main_help, "%s: needs a value",
			    argv[optind - 1]);
			return -1;
		default:
			*rc = ctl_usage(main_help, "unknown option %s",
			    argv[optind - 1]);
			return -1;
		}
	}
	if (optind >= argc) {
		overview(stderr);
		*rc = CTL_USAGE;
		return -1;
	}
	return optind;
}

static int
finish_output(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_err("cannot write the output: %s", strerror(errno));
		return rc == CTL_OK ? CTL_FAIL : rc;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct ctl c = { 0 };
	const struct verb *v;
	int i, rc;

	opterr = 0;
	if ((i = global_opts(&c, argc, argv, &rc)) == -1)
		return finish_output(rc);
	optind = 0;
	if (strcmp(argv[i], "help") == 0)
		return finish_output(help_verb(&c, argc - i, argv + i));
	if ((v = find_verb(argv[i])) == NULL) {
		ctl_err("unknown verb '%s': see imgeditctl help", argv[i]);
		return CTL_USAGE;
	}
	rc = v->fn(&c, argc - i, argv + i);
	ctl_close(&c);
	return finish_output(rc);
}
