/* submit.c: the submit verb: turns options, IMAGE arguments or JSONL lines
 * into jobs, reads and validates every input before anything is written,
 * then inserts all jobs in one transaction, inputs stored once by SHA-256. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "budgets.h"
#include "ctl.h"
#include "estimate.h"
#include "image.h"
#include "jobspec.h"
#include "models.h"
#include "period.h"
#include "progress.h"
#include "settings.h"
#include "util.h"

#define INPUT_MAX_BYTES ((size_t)64 * 1024 * 1024)  /* upstream takes < 50 MB */
/* Input bytes kept in memory between checking and storing. */
#define KEEP_BYTES ((size_t)256 * 1024 * 1024)
#define ERRLEN 8192 /* whole messages */
#define WHYLEN 2048 /* a reason inside one */

static const char submit_help[] =
    "usage: imgeditctl submit -p PROMPT [options] IMAGE... [--mask FILE]\n"
    "       imgeditctl submit -p PROMPT [options] --each IMAGE... [--mask F]\n"
    "       imgeditctl submit [options] --from FILE.jsonl\n"
    "\n"
    "Queues image edit jobs and prints their ids, one per line. Every input\n"
    "is read and checked before anything is written; a bulk submit is one\n"
    "transaction.\n"
    "\n"
    "API fields (stored in the job's params):\n"
    "  -p, --prompt TEXT            what to do (required)\n"
    "      --model M                gpt-image-2.6-flare, gpt-image-2.6-sunburst,\n"
    "                               gpt-image-2.5-flare, gpt-image-2.5-sunburst,\n"
    "                               gpt-image-2 (default: the settings'\n"
    "                               default-model, else gpt-image-2.6-flare)\n"
    "      --n N                    number of images, 1..10\n"
    "      --size S                 auto, 1024x1024, 1536x1024, 1024x1536, or\n"
    "                               WxH: multiples of 16, 1:3..3:1, at most\n"
    "                               3840x2160 (gpt-image-2 and later)\n"
    "      --quality Q              low, medium, high, auto; xhigh, max (2.5,\n"
    "                               2.6)\n"
    "      --complexity C           low, medium, high (2.6)\n"
    "      --background B           transparent, opaque, auto\n"
    "      --output-format F        png, jpeg, webp, gif (2.5, 2.6; never\n"
    "                               streamed, no mask)\n"
    "      --frame-count N          GIF frames, 2..16 (gif only)\n"
    "      --frame-duration-ms MS   delay per GIF frame (gif only)\n"
    "      --output-compression C   0..100 (jpeg, webp)\n"
    "      --input-fidelity F       high, low (not gpt-image-2)\n"
    "      --partial-images K       0..3 (streaming only)\n"
    "      --response-format R      url, b64_json (retired dall-e-2 only)\n"
    "      --safety-identifier ID   a stable, hashed end-user id\n"
    "      --user U                 end-user id (superseded by the above)\n"
    "      --param KEY=VALUE        any other field; VALUE is JSON if it\n"
    "                               parses as JSON, else a string\n"
    "Job options:\n"
    "      --stream / --no-stream   server-sent events (default: when the\n"
    "                               model and output format can: not gif)\n"
    "      --mask FILE              PNG with alpha: transparent = edit here\n"
    "      --markup FILE            PNG with alpha overlaid on the first\n"
    "                               image to guide the edit (2.5, 2.6; never\n"
    "                               with --mask)\n"
    "      --priority P             higher runs first (default 0)\n"
    "      --max-attempts N         1..100 (default 5)\n"
    "      --key KEY                idempotency key: a resubmit prints the\n"
    "                               existing job's id and writes nothing\n"
    "      --not-before TIME        epoch seconds, ISO-8601 or a delay (10m)\n"
    "      --each                   one job per IMAGE, sharing the mask or\n"
    "                               markup\n"
    "      --from FILE.jsonl        one job per line: {\"prompt\":..,\n"
    "                               \"images\":[paths],\"mask\" or\n"
    "                               \"markup\":path, API\n"
    "                               fields, \"stream\",\"priority\",\n"
    "                               \"max_attempts\",\"key\",\"not_before\"};\n"
    "                               paths relative to the file's directory;\n"
    "                               options given here are the defaults\n"
    "      --estimate               check everything, write nothing: print\n"
    "                               the number of jobs and their estimated\n"
    "                               tokens and cost (USD, one attempt each),\n"
    "                               and what the settings' budgets leave\n"
    "      --db PATH                the database (else $IMGEDIT_DB)\n"
    "      --json                   print the ids (or the estimate) as JSON\n";

/* One input file, read, sniffed and hashed once however many jobs use it. */
struct file {
	char *path;
	const char *name;           /* basename, inside path */
	const char *mime;
	unsigned char *data;        /* NULL when not held in memory */
	size_t size;
	char sha[SHA256_HEX_LEN + 1];
	int hashed;
	size_t uses;                /* jobs referencing it */
	int64_t blob_id;            /* 0 until stored */
	uint32_t width, height;     /* as its header says */
};

#define REFUSALS_SHOWN 20

struct job {
	char *label;                /* names the job in errors */
	int from_file;              /* label is FILE:LINE */
	json_t *params;
	int stream, priority, max_attempts;
	int64_t not_before;
	char *key;
	struct file **images;
	size_t nimages;
	struct file *mask;
	struct file *markup;        /* NULL, or the markup PNG (never with mask) */
	int64_t id;
	int existed;                /* id is a job submitted before (key) */
	int refused;                /* its line was bad: not checked again */
};


struct submit {
	/* options */
	json_t *base;               /* API fields from the options */
	int stream, priority, max_attempts, each;
	int estimate;               /* --estimate: check, estimate, write nothing */
	int64_t not_before;
	const char *key, *mask, *markup, *from;
	/* jobs, and their files by path (open addressing) */
	struct job *jobs;
	size_t njobs, jcap;
	struct file **ftab;
	size_t fcap, nfiles, kept;
	struct progress prog;
	/* the settings file's base-url and default-model; today, UTC */
	struct ctl_settings cfg;
	char today[16];
	const struct model_family *warned; /* last shut-down model warned of */
	/* every bad line or file, reported together: the first few kept */
	char *refusals[REFUSALS_SHOWN];
	size_t nrefused;
	size_t nunparsed;           /* lines that are not even a job */
};

/* ---- options ---- */

enum { T_STR, T_INT };

static const struct api_opt {
	const char *opt, *field;
	int type;
} api_opts[] = {
	{ "prompt", "prompt", T_STR },
	{ "model", "model", T_STR },
	{ "n", "n", T_INT },
	{ "size", "size", T_STR },
	{ "quality", "quality", T_STR },
	{ "background", "background", T_STR },
	{ "output-format", "output_format", T_STR },
	{ "output-compression", "output_compression", T_INT },
	{ "input-fidelity", "input_fidelity", T_STR },
	{ "partial-images", "partial_images", T_INT },
	{ "response-format", "response_format", T_STR },
	{ "user", "user", T_STR },
	{ "complexity", "complexity", T_STR },
	{ "frame-count", "frame_count", T_INT },
	{ "frame-duration-ms", "frame_duration_ms", T_INT },
	{ "safety-identifier", "safety_identifier", T_STR },
};
#define NAPI (sizeof(api_opts) / sizeof(api_opts[0]))
#define OPT_API 0x200 /* + index in api_opts */

enum {
	OPT_STREAM = 0x300, OPT_NO_STREAM, OPT_PARAM, OPT_MASK, OPT_PRIORITY,
	OPT_MAX_ATTEMPTS, OPT_KEY, OPT_NOT_BEFORE, OPT_EACH, OPT_FROM,
	OPT_MARKUP, OPT_ESTIMATE,
};

static const struct option submit_opts[] = {
	{ "prompt", required_argument, NULL, OPT_API + 0 },
	{ "model", required_argument, NULL, OPT_API + 1 },
	{ "n", required_argument, NULL, OPT_API + 2 },
	{ "size", required_argument, NULL, OPT_API + 3 },
	{ "quality", required_argument, NULL, OPT_API + 4 },
	{ "background", required_argument, NULL, OPT_API + 5 },
	{ "output-format", required_argument, NULL, OPT_API + 6 },
	{ "output-compression", required_argument, NULL, OPT_API + 7 },
	{ "input-fidelity", required_argument, NULL, OPT_API + 8 },
	{ "partial-images", required_argument, NULL, OPT_API + 9 },
	{ "response-format", required_argument, NULL, OPT_API + 10 },
	{ "user", required_argument, NULL, OPT_API + 11 },
	{ "complexity", required_argument, NULL, OPT_API + 12 },
	{ "frame-count", required_argument, NULL, OPT_API + 13 },
	{ "frame-duration-ms", required_argument, NULL, OPT_API + 14 },
	{ "safety-identifier", required_argument, NULL, OPT_API + 15 },
	{ "stream", no_argument, NULL, OPT_STREAM },
	{ "no-stream", no_argument, NULL, OPT_NO_STREAM },
	{ "param", required_argument, NULL, OPT_PARAM },
	{ "mask", required_argument, NULL, OPT_MASK },
	{ "markup", required_argument, NULL, OPT_MARKUP },
	{ "priority", required_argument, NULL, OPT_PRIORITY },
	{ "max-attempts", required_argument, NULL, OPT_MAX_ATTEMPTS },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "not-before", required_argument, NULL, OPT_NOT_BEFORE },
	{ "each", no_argument, NULL, OPT_EACH },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "estimate", no_argument, NULL, OPT_ESTIMATE },
	CTL_COMMON_OPTS,
	{ 0, 0, 0, 0 },
};

/* Keys that are not params: files and the stream column. */
static int
reserved_key(const char *key)
{
	return strcmp(key, "image") == 0 || strcmp(key, "image[]") == 0 ||
	    strcmp(key, "mask") == 0 || strcmp(key, "markup") == 0 ||
	    strcmp(key, "stream") == 0;
}

static int
set_api_opt(struct submit *s, const struct api_opt *a, const char *val)
{
	json_t *v;
	long n;

	if (a->type == T_INT) {
		if (parse_long(val, INT_MIN, INT_MAX, &n) == -1)
			return ctl_usage(submit_help, "--%s: not an integer: '%s'",
			    a->opt, val);
		v = json_integer(n);
	} else if ((v = json_string(val)) == NULL)
		return ctl_usage(submit_help, "--%s: not valid UTF-8", a->opt);
	json_object_set_new(s->base, a->field, v);
	return CTL_OK;
}

/* --param KEY=VALUE: VALUE as JSON when it parses, else as a string. */
static int
set_param(struct submit *s, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char key[256];
	json_t *v;

	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(key))
		return ctl_usage(submit_help, "--param: expected KEY=VALUE, got "
		    "'%s'", arg);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
	if (reserved_key(key))
		return ctl_usage(submit_help, "--param %s: not a parameter (use "
		    "IMAGE arguments, --mask, --markup, --stream or --no-stream)",
		    key);
	if ((v = json_loads(eq + 1, JSON_DECODE_ANY, NULL)) == NULL &&
	    (v = json_string(eq + 1)) == NULL)
		return ctl_usage(submit_help, "--param %s: not valid UTF-8", key);
	if (json_object_set_new(s->base, key, v) == -1)
		return ctl_usage(submit_help, "--param %s: invalid key", key);
	return CTL_OK;
}

static int
job_opt(struct submit *s, int opt, const char *val)
{
	long n;

	switch (opt) {
	case OPT_STREAM:
	case OPT_NO_STREAM:
		s->stream = opt == OPT_STREAM;
		return CTL_OK;
	case OPT_PARAM:
		return set_param(s, val);
	case OPT_MASK:
		s->mask = val;
		return CTL_OK;
	case OPT_MARKUP:
		s->markup = val;
		return CTL_OK;
	case OPT_PRIORITY:
		if (parse_long(val, INT_MIN, INT_MAX, &n) == -1)
			return ctl_usage(submit_help, "--priority: not an integer: "
			    "'%s'", val);
		s->priority = (int)n;
		return CTL_OK;
	case OPT_MAX_ATTEMPTS:
		if (parse_long(val, 1, 100, &n) == -1)
			return ctl_usage(submit_help, "--max-attempts: must be an "
			    "integer from 1 to 100, not '%s'", val);
		s->max_attempts = (int)n;
		return CTL_OK;
	case OPT_KEY:
		s->key = val;
		return CTL_OK;
	case OPT_NOT_BEFORE:
		if (parse_time(val, 1, &s->not_before) == -1)
			return ctl_usage(submit_help, "--not-before: '%s' is not a "
			    "time (epoch seconds, 2026-05-01T12:00:00Z, or a delay "
			    "like 10m)", val);
		return CTL_OK;
	case OPT_EACH:
		s->each = 1;
		return CTL_OK;
	case OPT_FROM:
		s->from = val;
		return CTL_OK;
	case OPT_ESTIMATE:
		s->estimate = 1;
		return CTL_OK;
	}
	return -1;
}

static int
parse_opts(struct ctl *c, struct submit *s, int argc, char **argv, int *done)
{
	int opt, rc;

	while ((opt = getopt_long(argc, argv, ":hp:", submit_opts, NULL)) != -1) {
		if (opt == 'p')
			opt = OPT_API + 0;
		if (opt >= OPT_API && opt < OPT_API + (int)NAPI)
			rc = set_api_opt(s, &api_opts[opt - OPT_API], optarg);
		else if ((rc = job_opt(s, opt, optarg)) == -1)
			rc = ctl_common_opt(c, opt, argv, submit_help, done);
		if (rc != CTL_OK) {
			*done = 1;
			return rc;
		}
		if (*done)
			return CTL_OK;
	}
	if (s->from != NULL && optind < argc)
		return ctl_usage(submit_help, "give IMAGE arguments or --from, "
		    "not both");
	if (s->from == NULL && optind == argc)
		return ctl_usage(submit_help, "no IMAGE given");
	if (s->from != NULL && s->each)
		return ctl_usage(submit_help, "--each and --from do not go "
		    "together (--from is already one job per line)");
	if (s->key != NULL && s->from != NULL)
		return ctl_usage(submit_help, "--key names one job: with --from, "
		    "give a \"key\" per line");
	if (s->key != NULL && s->each && argc - optind > 1)
		return ctl_usage(submit_help, "--key names one job: with --each, "
		    "use --from with a \"key\" per line");
	return CTL_OK;
}

/* ---- files ---- */

static uint64_t
hash_str(const char *p)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

static int
ftab_grow(struct submit *s)
{
	struct file **old = s->ftab, **tab;
	size_t oldcap = s->fcap, cap = oldcap ? oldcap * 2 : 64, i, j;

	if ((tab = calloc(cap, sizeof(*tab))) == NULL)
		return -1;
	for (i = 0; i < oldcap; i++) {
		if (old[i] == NULL)
			continue;
		for (j = hash_str(old[i]->path) & (cap - 1); tab[j] != NULL;
		    j = (j + 1) & (cap - 1))
			;
		tab[j] = old[i];
	}
	free(old);
	s->ftab = tab;
	s->fcap = cap;
	return 0;
}

/* The file for path, new or already known; NULL when out of memory. */
static struct file *
file_get(struct submit *s, const char *path)
{
	struct file *f;
	const char *slash;
	size_t i;

	if (2 * (s->nfiles + 1) > s->fcap && ftab_grow(s) == -1)
		return NULL;
	for (i = hash_str(path) & (s->fcap - 1); s->ftab[i] != NULL;
	    i = (i + 1) & (s->fcap - 1))
		if (strcmp(s->ftab[i]->path, path) == 0)
			goto found;
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->path = strdup(path)) == NULL) {
		free(f);
		return NULL;
	}
	slash = strrchr(f->path, '/');
	f->name = slash ? slash + 1 : f->path;
	s->ftab[i] = f;
	s->nfiles++;
found:
	s->ftab[i]->uses++;
	return s->ftab[i];
}

static void
file_drop(struct submit *s, struct file *f)
{
	if (f->data == NULL)
		return;
	s->kept -= f->size;
	free(f->data);
	f->data = NULL;
}

/* Reads f into memory. The first time it is sniffed and hashed; a re-read
 * (after it was dropped to save memory) must hash the same. */
static int
file_load(struct submit *s, struct file *f, char *err, size_t errlen)
{
	struct img_info info;
	char sha[SHA256_HEX_LEN + 1], why[256];

	if (f->data != NULL)
		return 0;
	if (read_file(f->path, INPUT_MAX_BYTES, &f->data, &f->size) == -1) {
		snprintf(err, errlen, "%s: %s", f->path, errno == EFBIG ?
		    "larger than 64 MiB (the API takes less than 50 MB)" :
		    strerror(errno));
		return -1;
	}
	s->kept += f->size;
	if (f->hashed) {
		sha256_hex(f->data, f->size, sha);
		if (strcmp(sha, f->sha) == 0)
			return 0;
		snprintf(err, errlen, "%s: changed while being submitted; "
		    "nothing was written, try again", f->path);
		return -1;
	}
	if (img_probe(f->data, f->size, &info, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", f->path, why);
		return -1;
	}
	f->mime = img_mime(info.format);
	f->width = info.width;
	f->height = info.height;
	sha256_hex(f->data, f->size, f->sha);
	f->hashed = 1;
	return 0;
}

/* ---- building jobs ---- */

static struct job *
job_new(struct submit *s, const char *label, int from_file)
{
	struct job *j, *p;
	size_t cap;

	if (s->njobs == s->jcap) {
		cap = s->jcap ? s->jcap * 2 : 16;
		if ((p = realloc(s->jobs, cap * sizeof(*p))) == NULL)
			return NULL;
		s->jobs = p;
		s->jcap = cap;
	}
	j = &s->jobs[s->njobs];
	memset(j, 0, sizeof(*j));
	if ((j->label = strdup(label)) == NULL)
		return NULL;
	s->njobs++;
	j->from_file = from_file;
	j->stream = s->stream;
	j->priority = s->priority;
	j->max_attempts = s->max_attempts;
	j->not_before = s->not_before;
	return j;
}

static int
job_add_image(struct submit *s, struct job *j, const char *path)
{
	struct file **p, *f;

	if ((f = file_get(s, path)) == NULL ||
	    (p = realloc(j->images, (j->nimages + 1) * sizeof(*p))) == NULL)
		return -1;
	j->images = p;
	j->images[j->nimages++] = f;
	return 0;
}

/* Images in order, then the mask or the markup. */
static size_t
job_ninputs(const struct job *j)
{
	return j->nimages + (j->mask != NULL) + (j->markup != NULL);
}

/* The i-th input's file, and its role. */
static struct file *
job_input(const struct job *j, size_t i, enum input_role *role)
{
	if (i < j->nimages) {
		*role = INPUT_IMAGE;
		return j->images[i];
	}
	i -= j->nimages;
	*role = j->mask != NULL && i == 0 ? INPUT_MASK : INPUT_MARKUP;
	return *role == INPUT_MASK ? j->mask : j->markup;
}

static void
job_free(struct job *j)
{
	free(j->label);
	free(j->key);
	free(j->images);
	json_decref(j->params);
}

/* Jobs from IMAGE arguments: one job, or one per image with --each. */
static int
jobs_from_args(struct submit *s, int argc, char **argv)
{
	struct job *j = NULL;
	int i;

	for (i = 0; i < argc; i++) {
		if (j == NULL || s->each) {
			if ((j = job_new(s, argv[i], 0)) == NULL)
				return -1;
			j->params = json_incref(s->base);
			if (s->key != NULL && (j->key = strdup(s->key)) == NULL)
				return -1;
			if (s->mask != NULL &&
			    (j->mask = file_get(s, s->mask)) == NULL)
				return -1;
			if (s->markup != NULL &&
			    (j->markup = file_get(s, s->markup)) == NULL)
				return -1;
		}
		if (job_add_image(s, j, argv[i]) == -1)
			return -1;
	}
	return 0;
}

/* A path from a JSONL line, relative to the file's directory. */
static int
jsonl_path(const char *dir, const json_t *v, char **out)
{
	const char *p = json_string_value(v);

	if (p == NULL || *p == '\0')
		return -1;
	if (p[0] == '/' || dir == NULL)
		*out = strdup(p);
	else if (asprintf(out, "%s/%s", dir, p) == -1)
		*out = NULL;
	return *out ? 0 : -1;
}

static int
line_images(struct submit *s, struct job *j, const char *dir, json_t *v,
    char *err, size_t errlen)
{
	json_t *one = json_is_string(v) ? v : NULL, *item;
	char *path;
	size_t i;

	if (one == NULL && !json_is_array(v))
		goto bad;
	for (i = 0; one ? i < 1 : i < json_array_size(v); i++) {
		item = one ? one : json_array_get(v, i);
		if (jsonl_path(dir, item, &path) == -1)
			goto bad;
		if (job_add_image(s, j, path) == -1) {
			free(path);
			snprintf(err, errlen, "%s: out of memory", j->label);
			return -1;
		}
		free(path);
	}
	return 0;
bad:
	snprintf(err, errlen, "%s: images: expected an array of file names",
	    j->label);
	return -1;
}

/* One of the job keys of a JSONL line (not an API field). 1 = handled. */
static int
line_job_key(struct submit *s, struct job *j, const char *dir,
    const char *key, json_t *v, char *err, size_t errlen)
{
	char *path;
	const char *str = json_string_value(v);
	json_int_t n = json_integer_value(v);

	if (strcmp(key, "images") == 0 || strcmp(key, "image") == 0)
		return line_images(s, j, dir, v, err, errlen) == -1 ? -1 : 1;
	if (strcmp(key, "mask") == 0 || strcmp(key, "markup") == 0) {
		struct file **slot = strcmp(key, "mask") == 0 ? &j->mask :
		    &j->markup;

		if (json_is_null(v))
			return (*slot = NULL), 1;
		if (jsonl_path(dir, v, &path) == -1)
			goto bad;
		*slot = file_get(s, path);
		free(path);
		return *slot ? 1 : -1;
	}
	if (strcmp(key, "stream") == 0) {
		if (!json_is_boolean(v))
			goto bad;
		return (j->stream = json_is_true(v)), 1;
	}
	if (strcmp(key, "priority") == 0) {
		if (!json_is_integer(v) || n < INT_MIN || n > INT_MAX)
			goto bad;
		return (j->priority = (int)n), 1;
	}
	if (strcmp(key, "max_attempts") == 0) {
		if (!json_is_integer(v) || n < 1 || n > 100)
			goto bad;
		return (j->max_attempts = (int)n), 1;
	}
	if (strcmp(key, "key") == 0) {
		if (str == NULL || (free(j->key), j->key = strdup(str)) == NULL)
			goto bad;
		return 1;
	}
	if (strcmp(key, "not_before") == 0) {
		if (json_is_integer(v) && n >= 0)
			return (j->not_before = (int64_t)n * 1000), 1;
		if (str == NULL || parse_time(str, 1, &j->not_before) == -1)
			goto bad;
		return 1;
	}
	return 0;
bad:
	snprintf(err, errlen, "%s: %s: invalid value (see imgeditctl submit "
	    "--help)", j->label, key);
	return -1;
}

static int
job_from_line(struct submit *s, json_t *o, const char *dir, const char *where,
    char *err, size_t errlen)
{
	struct job *j;
	const char *key;
	json_t *v;
	int rc;

	if ((j = job_new(s, where, 1)) == NULL ||
	    (j->params = json_copy(s->base)) == NULL ||
	    (s->mask != NULL && (j->mask = file_get(s, s->mask)) == NULL) ||
	    (s->markup != NULL && (j->markup = file_get(s, s->markup)) == NULL)) {
		snprintf(err, errlen, "%s: out of memory", where);
		return -1;
	}
	json_object_foreach(o, key, v) {
		if ((rc = line_job_key(s, j, dir, key, v, err, errlen)) == -1)
			return -1;
		if (rc == 0)
			json_object_set(j->params, key, v);
	}
	if (j->nimages == 0) {
		snprintf(err, errlen, "%s: no images: give \"images\": "
		    "[\"photo.png\", ...]", where);
		return -1;
	}
	return 0;
}

static int
is_blank(const char *p)
{
	for (; *p; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return 0;
	return 1;
}

/* Jobs from --from FILE.jsonl, one per non-blank line. */
/* Notes a bad line or job; checking goes on, so that all are said at once
 * (the first REFUSALS_SHOWN of them word for word). */
static void
refuse(struct submit *s, const char *msg)
{
	if (s->nrefused < REFUSALS_SHOWN)
		s->refusals[s->nrefused] = strdup(msg);
	s->nrefused++;
}

static int
jobs_from_jsonl(struct submit *s, char *err, size_t errlen)
{
	FILE *fp;
	char *line = NULL, *dir = NULL, *slash, where[PATH_MAX + 32];
	size_t cap = 0, lineno = 0;
	json_error_t jerr;
	json_t *o;
	size_t before;
	int rc = -1;

	if ((fp = fopen(s->from, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", s->from, strerror(errno));
		return -1;
	}
	if ((slash = strrchr(s->from, '/')) != NULL)
		dir = strndup(s->from, (size_t)(slash - s->from) + (slash ==
		    s->from));
	while (getline(&line, &cap, fp) != -1) {
		snprintf(where, sizeof(where), "%s:%zu", s->from, ++lineno);
		if (is_blank(line))
			continue;
		if ((o = json_loads(line, 0, &jerr)) == NULL ||
		    !json_is_object(o)) {
			snprintf(err, errlen, "%s: %s", where, o ? "expected a "
			    "JSON object" : jerr.text);
			json_decref(o);
			refuse(s, err);
			s->nunparsed++;
			continue;
		}
		before = s->njobs;
		rc = job_from_line(s, o, dir, where, err, errlen);
		json_decref(o);
		if (rc == -1) {
			refuse(s, err);
			if (s->njobs > before)
				s->jobs[s->njobs - 1].refused = 1;
		}
	}
	*err = '\0';
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: %s", s->from, strerror(errno));
		rc = -1;
	} else if (s->njobs == 0 && s->nrefused == 0) {
		snprintf(err, errlen, "%s: no jobs in the file", s->from);
		rc = -1;
	} else
		rc = 0;
	free(line);
	free(dir);
	fclose(fp);
	return rc;
}

/* ---- checking ---- */

static void
job_err(const struct job *j, const char *msg, char *err, size_t errlen)
{
	if (j->from_file)
		snprintf(err, errlen, "%s: %s", j->label, msg);
	else
		snprintf(err, errlen, "%s", msg);
}

/* The job's model: default-model when none is given (written into its
 * params, so that a queued job keeps its rules when the default changes);
 * a shut-down one refused when upstream is OpenAI's, else warned of. */
static int
job_model(struct submit *s, struct job *j, char *err, size_t errlen)
{
	const struct model_family *f;
	const char *model = jobspec_model(j->params);
	int given = model != NULL;

	if (!given) {
		json_object_set_new(j->params, "model",
		    json_string(s->cfg.default_model));
		model = s->cfg.default_model;
	}
	f = models_find(model);
	if (!models_is_shut_down(f, s->today))
		return 0;
	if (s->cfg.openai) {
		snprintf(err, errlen, "model: %s was shut down on %s; use %s "
		    "instead%s", model, f->shutdown, f->replacement, given ? "" :
		    " (it is the settings' default-model)");
		return -1;
	}
	if (s->warned != f)
		ctl_err("warning: %s was shut down at OpenAI on %s (use %s); "
		    "queued anyway for %s, which is not OpenAI's API", model,
		    f->shutdown, f->replacement, s->cfg.base_url);
	s->warned = f;
	return 0;
}

/* Loads the job's files and runs the daemon's own validation on it. */
static int
job_check(struct submit *s, struct job *j, char *err, size_t errlen)
{
	struct jobspec_input *in;
	struct file *f;
	char why[WHYLEN];
	enum input_role role;
	size_t i, n = job_ninputs(j);
	int rc = -1;

	if ((in = calloc(n, sizeof(*in))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		f = job_input(j, i, &role);
		if (file_load(s, f, why, sizeof(why)) == -1) {
			job_err(j, why, err, errlen);
			goto done;
		}
		in[i].role = role;
		in[i].filename = f->name;
		in[i].data = f->data;
		in[i].size = f->size;
		in[i].content_type = f->mime;
	}
	if (job_model(s, j, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", j->label, why);
		goto done;
	}
	if (j->stream == -1) /* not told: as the model can */
		j->stream = jobspec_can_stream(j->params);
	if (jobspec_validate(j->params, j->stream, in, n, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", j->label, why);
		goto done;
	}
	rc = 0;
done:
	free(in);
	return rc;
}

/* Drops the bytes of files no other job needs, when memory is getting full. */
static void
job_release(struct submit *s, struct job *j)
{
	size_t i;

	if (s->kept <= KEEP_BYTES)
		return;
	for (i = 0; i < j->nimages; i++)
		if (j->images[i]->uses == 1)
			file_drop(s, j->images[i]);
}

/* Jobs whose key was submitted before are not read nor checked. Every job
 * is checked, the bad ones noted (refuse): CTL_USAGE if there was any. */
static int
check_all(struct ctl *c, struct submit *s, char *err, size_t errlen)
{
	struct job *j;
	size_t i;
	int rc;

	progress_start(&s->prog, "checking", s->njobs);
	for (i = 0; i < s->njobs; i++) {
		j = &s->jobs[i];
		if (j->key != NULL) {
			rc = catalog_find_key(c->cat, j->key, &j->id);
			if (rc < 0) {
				progress_abort(&s->prog);
				snprintf(err, errlen, "database: %s",
				    catalog_errmsg(c->cat));
				return CTL_FAIL;
			}
			j->existed = rc == 1;
		}
		if (!j->existed && !j->refused &&
		    job_check(s, j, err, errlen) == -1)
			refuse(s, err);
		job_release(s, j);
		progress_step(&s->prog);
	}
	*err = '\0';
	if (s->nrefused == 0)
		return CTL_OK;
	progress_abort(&s->prog);
	return CTL_USAGE;
}

/* Says every refusal (the first REFUSALS_SHOWN), then what came of it. */
static void
report_refusals(const struct submit *s)
{
	size_t i;

	for (i = 0; i < s->nrefused && i < REFUSALS_SHOWN; i++)
		ctl_err("%s", s->refusals[i] ? s->refusals[i] : "out of memory");
	if (s->nrefused > REFUSALS_SHOWN)
		ctl_err("and %zu more", s->nrefused - REFUSALS_SHOWN);
	ctl_err("%zu of %zu jobs refused: nothing was written (fix them and "
	    "submit again)", s->nrefused, s->njobs + s->nunparsed);
}

/* ---- estimating ---- */

/* The estimate of one checked job, from its params and its files.
 * Returns 0 or -1 (no memory). */
static int
job_estimate(const struct submit *s, const struct job *j, struct estimate *e)
{
	struct estimate_image *imgs;
	struct estimate_job ej;
	json_t *v;
	size_t i;

	if ((imgs = calloc(j->nimages + 1, sizeof(*imgs))) == NULL)
		return -1;
	memset(&ej, 0, sizeof(ej));
	ej.model = jobspec_model(j->params);
	ej.n = jobspec_n(j->params);	/* as the checks read it */
	ej.size = json_string_value(json_object_get(j->params, "size"));
	ej.quality = json_string_value(json_object_get(j->params, "quality"));
	if (j->stream)
		ej.partial_images = jobspec_partial_images(j->params);
	if ((v = json_object_get(j->params, "prompt")) != NULL)
		ej.prompt_bytes = json_string_length(v);
	for (i = 0; i < j->nimages; i++)
		imgs[i] = (struct estimate_image){ j->images[i]->width,
		    j->images[i]->height };
	ej.images = imgs;
	ej.nimages = j->nimages;
	ej.nmasks = (j->mask != NULL) + (j->markup != NULL);
	estimate_job(&s->cfg.prices, &ej, e);
	free(imgs);
	return 0;
}

/* A count of tokens, or "?" with no upper bound. */
static void
tokens_text(int64_t t, char *buf, size_t n)
{
	if (t < 0)
		snprintf(buf, n, "?");
	else
		snprintf(buf, n, "%lld", (long long)t);
}

static json_t *
range_json(int64_t lo, int64_t hi)
{
	return json_pack("{s:I,s:o}", "low", (json_int_t)lo, "high", hi < 0 ?
	    json_null() : json_integer(hi));
}

static json_t *
usd_json(int64_t micro)
{
	char usd[32];

	if (micro < 0)
		return json_null();
	prices_usd(micro, usd, sizeof(usd));
	return json_string(usd);
}

static json_t *
estimate_json(const struct estimate_total *t, size_t existed)
{
	int64_t lo = t->lo.text_in + t->lo.image_in + t->lo.output;
	int64_t hi = t->hi.output < 0 ? -1 : t->hi.text_in + t->hi.image_in +
	    t->hi.output;
	json_t *o;

	o = json_pack("{s:I,s:I,s:I,s:I,s:o,s:{s:o,s:o,s:o},s:{s:o,s:o},"
	    "s:{s:I,s:o},s:s,s:s}",
	    "jobs", (json_int_t)t->jobs, "existing", (json_int_t)existed,
	    "unknown", (json_int_t)t->unknown, "unpriced",
	    (json_int_t)t->unpriced,
	    "tokens", range_json(lo, hi),
	    "tokens_by_kind", "text_in", range_json(t->lo.text_in,
	    t->hi.text_in), "image_in", range_json(t->lo.image_in,
	    t->hi.image_in), "output", range_json(t->lo.output, t->hi.output),
	    "cost_usd", "low", usd_json(t->cost_lo), "high",
	    usd_json(t->cost_hi),
	    "cost_micro_usd", "low", (json_int_t)t->cost_lo, "high",
	    t->cost_hi < 0 ? json_null() : json_integer(t->cost_hi),
	    "prices_read", PRICES_READ, "attempts", "one per job");
	return o;
}

static void
print_estimate_text(const struct estimate_total *t, size_t existed)
{
	char a[32], b[32], c[32];
	int64_t lo = t->lo.text_in + t->lo.image_in + t->lo.output;

	printf("jobs: %zu", t->jobs);
	if (existed > 0)
		printf(" (and %zu submitted before, not counted)", existed);
	printf("\n");
	tokens_text(t->hi.output < 0 ? -1 : t->hi.text_in + t->hi.image_in +
	    t->hi.output, a, sizeof(a));
	printf("tokens: %lld to %s\n", (long long)lo, a);
	tokens_text(t->hi.output, c, sizeof(c));
	printf("  text in %lld to %lld, image in %lld to %lld, output %lld "
	    "to %s\n", (long long)t->lo.text_in, (long long)t->hi.text_in,
	    (long long)t->lo.image_in, (long long)t->hi.image_in,
	    (long long)t->lo.output, c);
	prices_usd(t->cost_lo, a, sizeof(a));
	if (t->cost_hi < 0)
		printf("cost: at least $%s (xhigh or max quality: no upper "
		    "bound is published)\n", a);
	else {
		prices_usd(t->cost_hi, b, sizeof(b));
		printf("cost: $%s to $%s\n", a, b);
	}
	if (t->unknown > 0)
		printf("not estimated: %zu jobs (no model, or a model with no "
		    "published token table)\n", t->unknown);
	if (t->unpriced > 0)
		printf("not priced: %zu jobs (a model with no price: add a "
		    "price line to the settings)\n", t->unpriced);
	printf("(USD, one attempt per job: retries cost more; prices read "
	    "%s, and the settings' price lines)\n", PRICES_READ);
}

/* What the budgets leave now, and how many of the jobs (in order, each
 * holding its estimate's high end as the daemon does) start under them. */
struct budget_room {
	json_t *doc;                /* ctl_budgets_doc; NULL: no budget */
	size_t fit, of;             /* jobs that start now, of the new ones */
	char stop[320];             /* why the next would not, "" */
};

/* Returns 0, or -1 said (the database, or no memory). */
static int
budget_room(struct ctl *c, const struct submit *s, struct budget_room *r)
{
	struct budget_claim bc;
	struct budget_sums sums;
	struct budget_need need;
	struct budget_verdict v;
	const struct job *j;
	int64_t now = now_ms(), start, end;
	char *params, until[64];
	size_t i;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	memset(&sums, 0, sizeof(sums));
	if (s->cfg.budgets.n == 0)
		return 0;
	if (period_set_zone(s->cfg.time_zone) == -1 || ctl_budgets_read(c->cat,
	    &s->cfg.budgets, now, &bc, &sums) != CATALOG_OK) {
		ctl_err("cannot read what the budgets spent: %s",
		    catalog_errmsg(c->cat));
		goto done;
	}
	if ((r->doc = ctl_budgets_doc(&s->cfg.budgets, &sums, now)) == NULL)
		goto oom;
	for (i = 0; i < s->njobs; i++) {
		if ((j = &s->jobs[i])->existed)
			continue;
		r->of++;
		if (r->stop[0] != '\0')
			continue;
		if ((params = json_dumps(j->params, JSON_COMPACT)) == NULL)
			goto oom;
		budget_need_of(&s->cfg.prices, params, j->stream, j->nimages,
		    (j->mask != NULL) + (j->markup != NULL), &need);
		free(params);
		budget_check(&s->cfg.budgets, &sums, &need, &v);
		if (v.crossed) {
			if (period_bounds(budget_monthly(v.limit.kind) ?
			    PERIOD_MONTH : PERIOD_DAY, now, &start, &end) == -1)
				end = now;
			period_format(end, until, sizeof(until));
			budget_reason(&v, until, r->stop, sizeof(r->stop));
		} else if (budget_hold(&sums, &need) == -1)
			goto oom;
		else
			r->fit++;
	}
	rc = 0;
	goto done;
oom:
	ctl_err("out of memory");
done:
	budget_sums_free(&sums);
	return rc;
}

static void
print_room_text(const struct budget_room *r)
{
	if (r->doc == NULL)
		return;
	ctl_budgets_print(stdout, "budget ", r->doc);
	if (r->stop[0] == '\0')
		printf("fits: all %zu jobs start now under the budgets\n", r->of);
	else
		printf("fits: %zu of %zu jobs start now under the budgets; the "
		    "next would pause the daemon: %s\n", r->fit, r->of, r->stop);
}

static int
print_estimate(struct ctl *c, const struct submit *s)
{
	struct estimate_total t;
	struct estimate e;
	struct budget_room room;
	json_t *o;
	size_t i, existed = 0;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < s->njobs; i++) {
		if (s->jobs[i].existed) {
			existed++;
			continue;
		}
		if (job_estimate(s, &s->jobs[i], &e) == -1) {
			ctl_err("out of memory");
			return CTL_FAIL;
		}
		estimate_total_add(&t, &e);
	}
	if (budget_room(c, s, &room) == -1)
		return CTL_FAIL;
	if (c->json) {
		if ((o = estimate_json(&t, existed)) == NULL ||
		    (room.doc != NULL && (json_object_set_new(o, "budgets",
		    room.doc) == -1 || json_object_set_new(o, "budget_fit",
		    json_pack("{s:I,s:I,s:o}", "jobs", (json_int_t)room.fit,
		    "of", (json_int_t)room.of, "stops_at", room.stop[0] ?
		    json_string(room.stop) : json_null())) == -1))) {
			json_decref(o);
			return CTL_FAIL;
		}
		return print_json_new(o);
	}
	print_estimate_text(&t, existed);
	print_room_text(&room);
	json_decref(room.doc);
	return CTL_OK;
}

/* ---- storing ---- */

static int
file_blob(struct ctl *c, struct submit *s, struct file *f, char *err,
    size_t errlen)
{
	if (f->blob_id != 0)
		return CTL_OK;
	if (file_load(s, f, err, errlen) == -1)
		return CTL_FAIL;
	if (catalog_put_blob(c->cat, f->sha, f->data, f->size, &f->blob_id) !=
	    CATALOG_OK) {
		snprintf(err, errlen, "%s: cannot store: %s", f->path,
		    catalog_errmsg(c->cat));
		return CTL_FAIL;
	}
	file_drop(s, f);
	return CTL_OK;
}

/* The job's inputs as catalog rows, each file stored as a blob first. */
static int
job_inputs(struct ctl *c, struct submit *s, struct job *j,
    struct catalog_input *in, char *err, size_t errlen)
{
	struct file *f;
	size_t i;
	int rc;

	for (i = 0; i < job_ninputs(j); i++) {
		f = job_input(j, i, &in[i].role);
		if ((rc = file_blob(c, s, f, err, errlen)) != CTL_OK)
			return rc;
		in[i].ordinal = i < j->nimages ? (int)i : 0;
		in[i].filename = f->name;
		in[i].content_type = f->mime;
		in[i].blob_id = f->blob_id;
	}
	return CTL_OK;
}

static int
job_store(struct ctl *c, struct submit *s, struct job *j, char *err,
    size_t errlen)
{
	struct catalog_input *in = NULL;
	struct catalog_job cj;
	struct estimate e;
	size_t n = job_ninputs(j);
	char *params = NULL;
	int rc;

	if (j->existed)
		return CTL_OK;
	if (j->key != NULL && (rc = catalog_find_key(c->cat, j->key,
	    &j->id)) != 0) {
		j->existed = rc == 1;
		return rc == 1 ? CTL_OK : CTL_FAIL;
	}
	rc = CTL_FAIL;
	if ((in = calloc(n, sizeof(*in))) == NULL ||
	    (params = json_dumps(j->params, JSON_COMPACT)) == NULL ||
	    job_estimate(s, j, &e) == -1)
		goto done;
	if ((rc = job_inputs(c, s, j, in, err, errlen)) != CTL_OK)
		goto done;
	cj = (struct catalog_job){ params, j->stream, j->priority,
	    j->max_attempts, j->not_before, j->key,
	    /* what --estimate would say of it, for "estimate vs actual" */
	    e.known && e.priced, e.cost_lo, e.cost_hi };
	if (catalog_insert_job(c->cat, &cj, in, n, &j->id) != CATALOG_OK) {
		snprintf(err, errlen, "%s: cannot store the job: %s", j->label,
		    catalog_errmsg(c->cat));
		rc = CTL_FAIL;
	}
done:
	free(params);
	free(in);
	return rc;
}

static int
store_all(struct ctl *c, struct submit *s, char *err, size_t errlen)
{
	size_t i;
	int rc;

	if ((rc = catalog_submit_begin(c->cat)) != CATALOG_OK) {
		snprintf(err, errlen, "the database is %s; nothing was written, "
		    "try again", rc == CATALOG_BUSY ? "busy (locked by another "
		    "writer for more than 5 s)" : catalog_errmsg(c->cat));
		return CTL_FAIL;
	}
	progress_start(&s->prog, "storing", s->njobs);
	for (i = 0; i < s->njobs; i++) {
		if ((rc = job_store(c, s, &s->jobs[i], err, errlen)) != CTL_OK)
			goto fail;
		progress_step(&s->prog);
	}
	if (catalog_submit_end(c->cat, 1) != CATALOG_OK) {
		snprintf(err, errlen, "cannot commit: %s; nothing was written",
		    catalog_errmsg(c->cat));
		return CTL_FAIL;
	}
	return CTL_OK;
fail:
	progress_abort(&s->prog);
	if (*err == '\0')
		snprintf(err, errlen, "database: %s", catalog_errmsg(c->cat));
	catalog_submit_end(c->cat, 0);
	return rc;
}

static int
print_ids(const struct ctl *c, const struct submit *s)
{
	const struct job *j;
	json_t *out = c->json ? json_array() : NULL;
	size_t i;

	for (i = 0; i < s->njobs; i++) {
		j = &s->jobs[i];
		if (j->existed)
			ctl_err("key '%s' was submitted before as job %lld; "
			    "nothing new written for it", j->key,
			    (long long)j->id);
		if (out != NULL)
			json_array_append_new(out, json_pack("{s:I,s:b,s:s?}",
			    "id", (json_int_t)j->id, "existed", j->existed, "key",
			    j->key));
		else
			printf("%lld\n", (long long)j->id);
	}
	return out != NULL ? print_json_new(out) : CTL_OK;
}

static void
submit_free(struct submit *s)
{
	size_t i;

	for (i = 0; i < s->njobs; i++)
		job_free(&s->jobs[i]);
	free(s->jobs);
	for (i = 0; i < s->nrefused && i < REFUSALS_SHOWN; i++)
		free(s->refusals[i]);
	for (i = 0; i < s->fcap; i++) {
		if (s->ftab[i] == NULL)
			continue;
		free(s->ftab[i]->path);
		free(s->ftab[i]->data);
		free(s->ftab[i]);
	}
	free(s->ftab);
	json_decref(s->base);
	ctl_settings_free(&s->cfg);
}

int
verb_submit(struct ctl *c, int argc, char **argv)
{
	struct submit s = { .stream = -1, .max_attempts = 5 };
	char err[ERRLEN] = "";
	int rc, done = 0;

	if ((s.base = json_object()) == NULL)
		return CTL_FAIL;
	if ((rc = parse_opts(c, &s, argc, argv, &done)) != CTL_OK || done)
		goto out;
	if (ctl_settings_load(&s.cfg, err, sizeof(err)) == -1) {
		rc = CTL_USAGE;
		goto out;
	}
	utc_day(s.today, sizeof(s.today));
	c->readonly = s.estimate;	/* an estimate never writes */
	if ((rc = ctl_open(c)) != CTL_OK)
		goto out;
	rc = s.from ? jobs_from_jsonl(&s, err, sizeof(err)) :
	    jobs_from_args(&s, argc - optind, argv + optind);
	if (rc == -1) {
		if (*err == '\0')
			snprintf(err, sizeof(err), "out of memory");
		rc = CTL_USAGE;
		goto out;
	}
	if ((rc = check_all(c, &s, err, sizeof(err))) != CTL_OK ||
	    (!s.estimate && (rc = store_all(c, &s, err, sizeof(err))) !=
	    CTL_OK)) {
		if (s.nrefused > 0)
			report_refusals(&s);
		goto out;
	}
	rc = s.estimate ? print_estimate(c, &s) : print_ids(c, &s);
out:
	if (rc != CTL_OK && *err != '\0')
		ctl_err("%s", err);
	submit_free(&s);
	return rc;
}
