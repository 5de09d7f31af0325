/* export.c: the export verb: writes jobs' images and a job.json sidecar under
 * one directory, each file through a temporary name and an atomic rename. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ctl.h"
#include "image.h"
#include "util.h"

#define OPT_JSON 0x101
#define OPT_STATE 0x102
#define OPT_PARTIALS 0x103
#define OPT_SINCE 0x104
#define OPT_SKIP 0x105
#define OPT_MODE 0x106

static const char export_help[] =
    "usage: imgeditctl export ID... -o DIR [--partials] [--skip-existing]\n"
    "                         [--mode MODE] [--json]\n"
    "       imgeditctl export --state S [--since TIME] -o DIR [--partials]\n"
    "                         [--skip-existing] [--mode MODE] [--json]\n"
    "\n"
    "Writes DIR/ID/final-IDX.EXT for each final image of each job, with\n"
    "--partials also DIR/ID/partial-aATTEMPT-IDX.EXT, and DIR/ID/job.json\n"
    "(state, params, attempts, usage, error, the images and their files).\n"
    "A job without a succeeded attempt whose finals come from several\n"
    "attempts gets final-aATTEMPT-IDX.EXT. Files are written to a temporary\n"
    "name and renamed: an existing file is replaced whole or not at all; a\n"
    "job whose files cannot be put in place is reported, the others are\n"
    "kept. Nothing is written outside DIR. Files and the directories export\n"
    "creates get the database's mode: 0600 and 0700, or 0660 and 2770 when\n"
    "the database file is shared through its group.\n"
    "  -o, --output DIR   the directory (created if missing)\n"
    "  --state S          every job in state S (e.g. succeeded)\n"
    "  --partials         the partial images too\n"
    "  --since TIME       with --state: jobs that finished at or after TIME\n"
    "                     (epoch seconds, ISO-8601, or an age like 1d)\n"
    "  --skip-existing    leave a file that is there with the same bytes\n"
    "                     (size and sha256): a nightly export writes only\n"
    "                     what is new\n"
    "  --mode MODE        the files' mode instead (octal, e.g. 0640; the\n"
    "                     directories get x where r is: 0750)\n"
    "  --json             a JSON summary instead of the paths written\n"
    "  --db PATH          the database (else $IMGEDIT_DB)\n";

/* Jobs per batch: their directories stay open until it is committed. */
#define BATCH_JOBS 32

struct staged;

struct export {
	const char *dir;       /* as given, for messages */
	int dfd;               /* DIR, opened once */
	int partials, json, skip_existing;
	mode_t file_mode, dir_mode;  /* --mode, else the database's */
	int mode_given;
	int64_t since;         /* --since, 0 = all */
	size_t written, skipped;
	json_t *summary;
	/* the batch: files written to temporary names, renamed together
	 * after one sync (syncfs), then their directories synced */
	int dirs[BATCH_JOBS];  /* job directories open in this batch */
	int64_t dir_job[BATCH_JOBS]; /* their jobs */
	int ndirs;
	struct staged *staged;
	size_t nstaged, cap;
	int failed;            /* a batch could not be committed */
	int64_t shown;         /* the progress line: last drawn (mono ms) */
};

/* One file of the batch, under its temporary name until the commit. */
struct staged {
	int dir;               /* index in dirs */
	char tmp[NAME_MAX + 1], name[96];
	char *path;            /* for the listing, printed once in place */
};

/* Bytes of one image on their way to a file, hashed on the way. */
struct sink {
	int fd;
	EVP_MD_CTX *md;
};

static int
write_all(int fd, const void *p, size_t n)
{
	const unsigned char *b = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, b, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
sink_write(void *arg, const void *p, size_t n)
{
	struct sink *k = arg;

	if (k->md != NULL)
		EVP_DigestUpdate(k->md, p, n);
	return write_all(k->fd, p, n);
}

/* Creates a temporary file for name in dirfd, .NAME.tmp.XXXXXXXX (random,
 * O_EXCL: two files of one name in a batch, or two exports at once, never
 * share one), its name into tmp. Returns the descriptor or -1 (errno). */
static int
open_temp(int dirfd, const char *name, int flags, mode_t mode, char *tmp,
    size_t n)
{
	unsigned char rnd[6];
	int fd, tries;

	for (tries = 0; tries < 100; tries++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -1;
		snprintf(tmp, n, ".%s.tmp.%02x%02x%02x%02x%02x%02x", name,
		    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
		if ((fd = openat(dirfd, tmp, flags, mode)) != -1 ||
		    errno != EEXIST)
			return fd;
	}
	return -1;
}

/* Writes name's bytes (by fill) to a new temporary file in dir slot di
 * (O_EXCL, never following a link), and stages it: commit_batch renames
 * it over name after one sync, so an existing file is replaced whole or
 * not at all. Returns 0, or -1 with errno set (nothing left behind). */
static int
stage_write(struct export *e, int di, const char *name, const char *path,
    int (*fill)(void *arg, int fd), void *arg)
{
	struct staged *st, *grown;
	char tmp[NAME_MAX + 1];
	int fd, saved, dirfd = e->dirs[di], flags = O_WRONLY | O_CREAT |
	    O_EXCL | O_NOFOLLOW | O_CLOEXEC;

	if (e->nstaged == e->cap) {
		if ((grown = reallocarray(e->staged, e->cap ? e->cap * 2 : 64,
		    sizeof(*grown))) == NULL)
			return -1;
		e->staged = grown;
		e->cap = e->cap ? e->cap * 2 : 64;
	}
	if ((fd = open_temp(dirfd, name, flags, e->file_mode, tmp,
	    sizeof(tmp))) == -1)
		return -1;
	if (fchmod(fd, e->file_mode) == -1 || fill(arg, fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	st = &e->staged[e->nstaged++];
	st->dir = di;
	snprintf(st->tmp, sizeof(st->tmp), "%s", tmp);
	snprintf(st->name, sizeof(st->name), "%s", name);
	st->path = strdup(path);
	return 0;
fail:
	saved = errno ? errno : EIO;
	if (fd != -1)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = saved;
	return -1;
}

/* The --json summary's entry of job id says ok: false. */
static void
summary_failed(struct export *e, int64_t id)
{
	json_t *entry;
	size_t i;

	json_array_foreach(e->summary, i, entry)
		if (jint(entry, "id") == id)
			json_object_set_new(entry, "ok", json_false());
}

/* Puts the batch in place: one sync of the file system for all its files,
 * each renamed over its name, then the directories synced. A job whose
 * file cannot be renamed is reported and its remaining files removed; the
 * other jobs' files are kept. Returns 0 or -1 (said). */
static int
commit_batch(struct export *e)
{
	struct staged *st;
	int job_failed[BATCH_JOBS] = { 0 };
	size_t i;
	int rc = 0, all_failed = 0, k;

	if (e->nstaged > 0 && syncfs(e->dfd) == -1) {
		ctl_err("%s: sync: %s", e->dir, strerror(errno));
		rc = -1;
		all_failed = 1;
	}
	for (i = 0; i < e->nstaged; i++) {
		st = &e->staged[i];
		if (!all_failed && !job_failed[st->dir] &&
		    renameat(e->dirs[st->dir], st->tmp, e->dirs[st->dir],
		    st->name) == -1) {
			ctl_err("%s: %s: job %lld not exported whole",
			    st->path ? st->path : st->name, strerror(errno),
			    (long long)e->dir_job[st->dir]);
			job_failed[st->dir] = 1;
			summary_failed(e, e->dir_job[st->dir]);
			rc = -1;
		}
		if (all_failed && !job_failed[st->dir]) {
			job_failed[st->dir] = 1;	/* its files go too */
			summary_failed(e, e->dir_job[st->dir]);
		}
		if (job_failed[st->dir])
			unlinkat(e->dirs[st->dir], st->tmp, 0);
		else if (!e->json && st->path != NULL)
			printf("%s\n", st->path);
		free(st->path);
	}
	for (k = 0; k < e->ndirs; k++) {
		if (!all_failed && fsync(e->dirs[k]) == -1) {
			ctl_err("%s: sync: %s", e->dir, strerror(errno));
			rc = -1;
		}
		close(e->dirs[k]);
	}
	e->nstaged = 0;
	e->ndirs = 0;
	if (rc == -1)
		e->failed = 1;
	return rc;
}

struct image_fill {
	struct ctl *c;
	const json_t *image;   /* catalog image object */
	int rc;                /* catalog_image_read's result */
	int sha_ok;
};

static int
fill_image(void *arg, int fd)
{
	struct image_fill *f = arg;
	struct sink k = { fd, EVP_MD_CTX_new() };
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[SHA256_HEX_LEN + 1];
	unsigned int mdlen = 0, i;

	if (k.md != NULL)
		EVP_DigestInit_ex(k.md, EVP_sha256(), NULL);
	f->rc = catalog_image_read(f->c->cat, jint(f->image, "id"), sink_write,
	    &k);
	if (k.md != NULL) {
		EVP_DigestFinal_ex(k.md, md, &mdlen);
		for (i = 0; i < mdlen && i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		f->sha_ok = jstr(f->image, "sha256") != NULL &&
		    strcmp(hex, jstr(f->image, "sha256")) == 0;
		EVP_MD_CTX_free(k.md);
	}
	if (f->rc == -1)
		return -1;  /* write error: errno is set */
	if (f->rc != CATALOG_OK) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static int
fill_text(void *arg, int fd)
{
	const char *text = arg;

	return write_all(fd, text, strlen(text));
}

/* The file name of an image: final-IDX.EXT (final-aATTEMPT-IDX.EXT when
 * the job's finals come from several attempts) or
 * partial-aATTEMPT-IDX.EXT. */
static void
image_name(const json_t *img, int final_attempt, char *name, size_t n)
{
	const char *ext = img_ext_by_name(jstr(img, "format"));

	if (strcmp(jstr(img, "kind"), "final") == 0 && final_attempt)
		snprintf(name, n, "final-a%lld-%lld.%s",
		    (long long)jint(img, "attempt"), (long long)jint(img, "idx"),
		    ext);
	else if (strcmp(jstr(img, "kind"), "final") == 0)
		snprintf(name, n, "final-%lld.%s", (long long)jint(img, "idx"),
		    ext);
	else
		snprintf(name, n, "partial-a%lld-%lld.%s",
		    (long long)jint(img, "attempt"), (long long)jint(img, "idx"),
		    ext);
}

/* Whether name in dirfd is a regular file with img's size and sha256. */
static int
same_file(int dirfd, const char *name, const json_t *img)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	char hex[SHA256_HEX_LEN + 1];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *ctx;
	struct stat sb;
	ssize_t got;
	int fd, same = 0;

	/* O_NONBLOCK: a FIFO there must not hang the export */
	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return 0;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size != jint(img, "size") || jstr(img, "sha256") == NULL ||
	    (ctx = EVP_MD_CTX_new()) == NULL) {
		close(fd);
		return 0;
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)got);
	if (got == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1) {
		for (i = 0; i < mdlen && i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		same = strcmp(hex, jstr(img, "sha256")) == 0;
	}
	EVP_MD_CTX_free(ctx);
	close(fd);
	return same;
}

static int
export_image(struct ctl *c, struct export *e, int di, int64_t id,
    json_t *img, int final_attempt, json_t *files)
{
	struct image_fill f = { c, img, CATALOG_OK, 0 };
	char name[96], path[PATH_MAX];

	image_name(img, final_attempt, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%lld/%s", e->dir, (long long)id, name);
	if (e->skip_existing && same_file(e->dirs[di], name, img)) {
		e->skipped++;
		json_object_set_new(img, "file", json_string(name));
		return 0;
	}
	if (stage_write(e, di, name, path, fill_image, &f) == -1) {
		if (f.rc != CATALOG_OK && f.rc != -1)
			ctl_err("%s: cannot read image %lld of job %lld: %s", path,
			    (long long)jint(img, "id"), (long long)id,
			    catalog_errmsg(c->cat));
		else
			ctl_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if (!f.sha_ok)
		ctl_err("warning: %s: the bytes do not match the image's stored "
		    "sha256 %s", path, jstr(img, "sha256"));
	json_object_set_new(img, "file", json_string(name));
	json_array_append_new(files, json_string(path));
	e->written++;
	return 0;
}

/* Directory name under at (AT_FDCWD: the working one), created if
 * missing with e->dir_mode; a symbolic link only if follow. Returns its
 * fd, or -1 having said why, naming it as shown. */
static int
make_dir(struct export *e, int at, const char *name, int follow,
    const char *shown)
{
	int fd, made;

	if ((made = mkdirat(at, name, e->dir_mode & 0777) == 0) == 0 &&
	    errno != EEXIST)
		goto fail;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    (follow ? 0 : O_NOFOLLOW));
	/* the umask may have taken bits away; setgid needs fchmod too */
	if (fd != -1 && made && fchmod(fd, e->dir_mode) == -1) {
		close(fd);
		goto fail;
	}
	if (fd != -1)
		return fd;
fail:
	ctl_err("%s: %s", shown, errno == ELOOP || errno == ENOTDIR ?
	    "not a directory (a symbolic link or a file): refusing to write "
	    "there" : strerror(errno));
	return -1;
}

/* The job's directory under DIR, never a symbolic link. */
static int
job_dir(struct export *e, int64_t id)
{
	char name[32], shown[PATH_MAX];

	snprintf(name, sizeof(name), "%lld", (long long)id);
	snprintf(shown, sizeof(shown), "%s/%s", e->dir, name);
	return make_dir(e, e->dfd, name, 0, shown);
}

/* Writes job.json: the job document with only the exported images. */
static int
write_sidecar(struct export *e, int di, int64_t id, json_t *doc,
    json_t *images, json_t *files)
{
	char path[PATH_MAX], *text;
	int rc;

	json_object_set(doc, "images", images);
	if ((text = json_dumps(doc, JSON_INDENT(2))) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/%lld/job.json", e->dir, (long long)id);
	rc = stage_write(e, di, "job.json", path, fill_text, text);
	free(text);
	if (rc == -1) {
		ctl_err("%s: %s", path, strerror(errno));
		return -1;
	}
	json_array_append_new(files, json_string(path));
	return 0;
}

/* Whether the finals to export come from more than one attempt (none
 * succeeded, or rows from another program): then their names say which. */
static int
finals_of_attempts(json_t *all, int64_t ok_attempt)
{
	json_t *img;
	int64_t first = -1;
	size_t i;

	if (ok_attempt != 0)
		return 0;
	json_array_foreach(all, i, img) {
		if (strcmp(jstr(img, "kind"), "final") != 0)
			continue;
		if (first == -1)
			first = jint(img, "attempt");
		else if (jint(img, "attempt") != first)
			return 1;
	}
	return 0;
}

/* The number of the job's last succeeded attempt, or 0 (a job run again
 * with retry --force has two). A final image of an interrupted attempt
 * (the daemon died before it could end it) is history, not the result. */
static int64_t
succeeded_attempt(json_t *doc)
{
	json_t *a;
	const char *outcome;
	int64_t last = 0;
	size_t i;

	json_array_foreach(json_object_get(doc, "attempt_log"), i, a)
		if ((outcome = jstr(a, "outcome")) != NULL &&
		    strcmp(outcome, "succeeded") == 0)
			last = jint(a, "number");
	return last;
}

static int
export_files(struct ctl *c, struct export *e, int di, int64_t id,
    json_t *doc, json_t *files)
{
	json_t *all = json_object_get(doc, "images"), *img, *images;
	int64_t ok_attempt = succeeded_attempt(doc);
	size_t i;
	int rc = CTL_OK, final, by_attempt = finals_of_attempts(all,
	    ok_attempt);

	if ((images = json_array()) == NULL)
		return CTL_FAIL;
	json_array_foreach(all, i, img) {
		final = strcmp(jstr(img, "kind"), "final") == 0;
		if (!e->partials && !final)
			continue;
		if (final && ok_attempt != 0 && jint(img, "attempt") != ok_attempt)
			continue;
		if (export_image(c, e, di, id, img, by_attempt, files) == -1)
			rc = CTL_FAIL;
		else
			json_array_append(images, img);
	}
	if (write_sidecar(e, di, id, doc, images, files) == -1)
		rc = CTL_FAIL;
	json_decref(images);
	return rc;
}

static int
export_job(struct ctl *c, struct export *e, int64_t id)
{
	json_t *doc = NULL, *files = json_array();
	int jfd, rc;

	if ((rc = catalog_show(c->cat, id, &doc)) != CATALOG_OK) {
		if (rc == CATALOG_NOTFOUND)
			ctl_err("no job %lld: nothing exported for it",
			    (long long)id);
		else
			ctl_err("cannot read job %lld: %s", (long long)id,
			    catalog_errmsg(c->cat));
		rc = CTL_FAIL;
		goto done;
	}
	if ((jfd = job_dir(e, id)) == -1) {
		rc = CTL_FAIL;
		goto done;
	}
	e->dir_job[e->ndirs] = id;
	e->dirs[e->ndirs++] = jfd; /* closed by commit_batch */
	rc = export_files(c, e, e->ndirs - 1, id, doc, files);
	if (e->ndirs == BATCH_JOBS && commit_batch(e) == -1)
		rc = CTL_FAIL;
done:
	if (e->summary != NULL)
		json_array_append_new(e->summary, json_pack("{s:I,s:s,s:O,s:b}",
		    "id", (json_int_t)id, "state", doc ? jstr(doc, "state") : "-",
		    "files", files, "ok", rc == CTL_OK));
	json_decref(files);
	json_decref(doc);
	return rc;
}

/* On a terminal: "exporting 120/10000 jobs, 341 MB", redrawn at most
 * every 100 ms. */
static void
progress(struct export *e, size_t done, size_t total)
{
	int64_t now = mono_ms();

	if (total < 2 || !isatty(STDERR_FILENO) || now - e->shown < 100)
		return;
	e->shown = now;
	fprintf(stderr, "\rexporting %zu/%zu jobs, %zu files written, %zu "
	    "skipped", done, total, e->written, e->skipped);
}


/* The modes of what export creates, unless --mode said: the database
 * file's own (0600 and 0700), or, when it is shared through its group
 * (0660, as under the service), 0660 and 2770 so the group's members can
 * read and prune. A database without a file (PostgreSQL): 0600/0700. */
static void
db_modes(const struct ctl *c, struct export *e)
{
	const char *path = c->db_path != NULL ? c->db_path : c->db_found;
	struct stat sb;

	if (e->mode_given)
		return;
	e->file_mode = 0600;
	e->dir_mode = 0700;
	if (path != NULL && stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (sb.st_mode & 0060) == 0060) {
		e->file_mode = 0660;
		e->dir_mode = 02770;
	}
}

/* --mode: octal, at most 0777. Returns 0 or -1. */
static int
parse_mode(const char *s, struct export *e)
{
	char *end;
	unsigned long m;

	errno = 0;
	m = strtoul(s, &end, 8);
	if (errno != 0 || end == s || *end != '\0' || m > 0777 || *s == '-')
		return -1;
	e->file_mode = (mode_t)m;
	e->dir_mode = (mode_t)(m | ((m & 0444) >> 2));
	e->mode_given = 1;
	return 0;
}

static int
parse_export(struct ctl *c, struct export *e, const char **state, int argc,
    char **argv, int *done)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "partials", no_argument, NULL, OPT_PARTIALS },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "skip-existing", no_argument, NULL, OPT_SKIP },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "json", no_argument, NULL, OPT_JSON },
		CTL_COMMON_OPTS, { 0, 0, 0, 0 },
	};
	int opt, rc;

	while ((opt = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			e->dir = optarg;
			break;
		case OPT_STATE:
			*state = optarg;
			break;
		case OPT_PARTIALS:
			e->partials = 1;
			break;
		case OPT_SINCE:
			if (parse_time(optarg, -1, &e->since) == -1)
				return ctl_usage(export_help, "--since: '%s' is not a "
				    "time", optarg);
			break;
		case OPT_SKIP:
			e->skip_existing = 1;
			break;
		case OPT_MODE:
			if (parse_mode(optarg, e) == -1)
				return ctl_usage(export_help, "--mode: '%s' is not "
				    "an octal mode (e.g. 0640)", optarg);
			break;
		case OPT_JSON:
			e->json = 1;
			break;
		default:
			rc = ctl_common_opt(c, opt, argv, export_help, done);
			if (rc != CTL_OK || *done)
				return *done = 1, rc;
		}
	}
	if (e->dir == NULL || *e->dir == '\0')
		return ctl_usage(export_help, "give the directory: -o DIR");
	if ((*state != NULL) == (optind < argc))
		return ctl_usage(export_help, "give job IDs or --state S");
	if (*state != NULL && !catalog_state_valid(*state))
		return ctl_usage(export_help, "--state: unknown state '%s'",
		    *state);
	if (e->since != 0 && *state == NULL)
		return ctl_usage(export_help, "--since goes with --state");
	return CTL_OK;
}

/* The job ids: from the arguments, or every job in state. */
static int
export_ids(struct ctl *c, const char *state, int64_t since, int argc,
    char **argv, int64_t **ids, size_t *n)
{
	int rc;

	if (state != NULL) {
		if (catalog_job_ids(c->cat, state, since, ids, n) == CATALOG_OK)
			return CTL_OK;
		ctl_err("cannot list jobs: %s", catalog_errmsg(c->cat));
		return CTL_FAIL;
	}
	if ((rc = parse_ids(argc, argv, export_help, ids)) == CTL_OK)
		*n = (size_t)argc;
	return rc;
}

int
verb_export(struct ctl *c, int argc, char **argv)
{
	struct export e = { .dfd = -1 };
	const char *state = NULL;
	int64_t *ids = NULL;
	size_t i, n = 0;
	int rc, done = 0;

	if ((rc = parse_export(c, &e, &state, argc, argv, &done)) != CTL_OK ||
	    done)
		return rc;
	if ((rc = ctl_open(c)) != CTL_OK ||
	    (rc = export_ids(c, state, e.since, argc - optind, argv + optind,
	    &ids, &n)) != CTL_OK)
		return rc;
	db_modes(c, &e);
	/* DIR: created if missing, one level; it may be a symbolic link */
	if ((e.dfd = make_dir(&e, AT_FDCWD, e.dir, 1, e.dir)) == -1) {
		free(ids);
		return CTL_FAIL;
	}
	if (e.json)
		e.summary = json_array();
	for (i = 0; i < n; i++) {
		if (export_job(c, &e, ids[i]) != CTL_OK)
			rc = CTL_FAIL;
		progress(&e, i + 1, n);
	}
	if (e.shown)
		fputs("\r\033[K", stderr);
	if (commit_batch(&e) == -1 || e.failed)
		rc = CTL_FAIL;
	if (fsync(e.dfd) == -1 && rc == CTL_OK) {
		ctl_err("%s: %s", e.dir, strerror(errno));
		rc = CTL_FAIL;
	}
	if (e.skip_existing && !e.json)
		fprintf(stderr, "imgeditctl: %zu image files written, %zu already "
		    "there (skipped)\n", e.written, e.skipped);
	if (e.summary != NULL && print_json(e.summary) != CTL_OK)
		rc = CTL_FAIL;
	json_decref(e.summary);
	close(e.dfd);
	free(e.staged);
	free(ids);
	return rc;
}
