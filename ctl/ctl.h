/* ctl.h: what imgeditctl's verb files share: exit codes, the verb signature,
 * opening the database, option and time parsing, printing helpers. */
#ifndef IMGEDIT_CTL_H
#define IMGEDIT_CTL_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "catalog.h"
#include "job.h"

#define CTL_OK 0     /* success */
#define CTL_FAIL 1   /* an operation failed (or, for wait, a job did) */
#define CTL_USAGE 2  /* bad arguments or an invalid job */
#define CTL_DB 3     /* the database cannot be used */
#define CTL_TIMEOUT 4 /* wait: the timeout passed first */

/* Long options every verb takes, and their getopt_long values. */
#define OPT_DB 0x100
#define OPT_HELP 'h'
#define OPT_JSON_ANY 0x1ff
/* --json: verbs with a document of their own (list, show, ...) take it
 * first; for the others it sets c->json, and they print a JSON summary
 * of what they did instead of lines. */
#define CTL_COMMON_OPTS \
	{ "db", required_argument, NULL, OPT_DB }, \
	{ "json", no_argument, NULL, OPT_JSON_ANY }, \
	{ "help", no_argument, NULL, OPT_HELP }

struct ctl {
	const char *db_path;   /* --db, else $IMGEDIT_DB, else the service's */
	int json;              /* --json (verbs without one of their own) */
	int readonly;          /* ctl_open: read-only, never a write (serve) */
	char db_found[4096];   /* the service's, when found */
	char db_name[1024];    /* for messages: the path, or the URI without
	                        * its password (ctl_open) */
	struct catalog *cat;
};

/* A verb: argv[0] is the verb's name; returns a CTL_* exit status. */
typedef int verb_fn(struct ctl *c, int argc, char **argv);

verb_fn verb_init, verb_submit, verb_list, verb_show, verb_status,
    verb_export, verb_cancel, verb_retry, verb_wait, verb_pause, verb_resume,
    verb_prune, verb_watch, verb_serve, verb_copy;

/* Prints "imgeditctl: <message>" and a newline on stderr. */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* For a usage error: prints "imgeditctl: <message>" and the first paragraph
 * of the verb's help (its synopsis) on stderr. Returns CTL_USAGE. */
int ctl_usage(const char *help, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Handles the common options inside a verb's getopt loop: OPT_DB sets the
 * path; OPT_HELP prints help to stdout and sets *done (exit 0); '?' and ':'
 * are usage errors. Returns -1 if opt is not common, else a CTL_* status
 * (CTL_OK to go on, unless *done). */
int ctl_common_opt(struct ctl *c, int opt, char **argv, const char *help,
    int *done);

/* Opens the database for a verb: resolves the path, opens it with a 5 s busy
 * timeout (with c->readonly set: as file:PATH?mode=ro, so nothing is ever
 * written), checks the schema version, prepares the catalog. A
 * postgresql:// URI connects (c->readonly: every transaction read-only).
 * Sets c->db_name. Returns CTL_OK, or reports and returns CTL_USAGE (no
 * path) or CTL_DB. */
int ctl_open(struct ctl *c);
void ctl_close(struct ctl *c);

/* Sleeps ms milliseconds, signals or not (wait and watch poll). */
void ctl_sleep_ms(int ms);

/* The database path, or NULL with an error printed (exit CTL_USAGE). */
const char *ctl_db_path(struct ctl *c);

/* Parses a job id (a positive decimal integer). Returns 0 or -1. */
int parse_id(const char *s, int64_t *id);
/* Job ids from argv[0..argc) into *ids (caller frees). Returns CTL_OK, or
 * a usage error (of help) naming the bad one; at least one is needed. */
int parse_ids(int argc, char **argv, const char *help, int64_t **ids);
/* Each state of a comma-separated --state list, to fn (which may be NULL:
 * only checks). An unknown state is a usage error of help. Returns CTL_OK,
 * or that error, or what fn returned other than CTL_OK. */
int each_state(const char *csv, const char *help,
    int (*fn)(const char *state, void *arg), void *arg);
/* Parses a decimal integer in [min, max]. Returns 0 or -1. */
int parse_long(const char *s, long min, long max, long *out);
/* Parses TIME into epoch ms: epoch seconds (digits only), ISO-8601
 * (2026-05-01, 2026-05-01T12:00[:00][Z|+02:00], local time without a zone),
 * or a duration with a unit (90s, 10m, 2h, 7d) counted from now in the
 * direction of sign (+1 future, -1 past). Returns 0 or -1. */
int parse_time(const char *s, int sign, int64_t *ms);

/* "2026-05-01 12:00:00" in local time, or "-" for 0. */
void fmt_time(int64_t ms, char *buf, size_t n);
/* A short age: "42s", "5m", "3h", "12d". */
void fmt_age(int64_t ms, char *buf, size_t n);
/* A byte count: "812 B", "1.5 KiB", "3.2 MiB". */
void fmt_bytes(int64_t bytes, char *buf, size_t n);

/* Prints j as indented JSON on stdout with a final newline. Returns CTL_OK or
 * CTL_FAIL. Does not take the reference. */
int print_json(const json_t *j);
/* The same, taking the reference (j may be NULL: out of memory). */
int print_json_new(json_t *j);

/* Small accessors for catalog documents (0 / NULL when absent). */
int64_t jint(const json_t *o, const char *key);
const char *jstr(const json_t *o, const char *key);

#endif
