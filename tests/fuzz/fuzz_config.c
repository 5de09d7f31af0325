/* fuzz_config.c: config_set over the "key = value" lines of the input, and
 * config_load on the same text (a memfd) against those line by line. */
#define _GNU_SOURCE /* memfd_create */
#include <sys/mman.h>

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "listenaddr.h"
#include "fuzz.h"
#include "metrics.h"

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* A --metrics-listen value config_set kept: HOST:PORT that parses. */
static int
listen_ok(const char *s)
{
	char host[64], err[200];
	int port = -1;

	return listen_addr_parse(s, host, sizeof(host), &port, err,
	    sizeof(err)) == 0 && port >= 0 && port <= 65535 && host[0] != '\0';
}

/* Every setting within the range config_set promises. */
static void
check_ranges(const struct config *c)
{
	FZ_ASSERT(c->concurrency >= 1 && c->concurrency <= 1024);
	FZ_ASSERT(c->rpm >= 0 && c->rpm <= 1e6 && c->ipm >= 0 && c->ipm <= 1e6);
	FZ_ASSERT(c->retry_base_ms >= 10 && c->retry_base_ms <= 600000);
	FZ_ASSERT(c->retry_max_ms >= 10 && c->retry_max_ms <= 3600000);
	FZ_ASSERT(c->retry_after_max_ms >= 0 && c->retry_after_max_ms <= 3600000);
	FZ_ASSERT(c->probe_min_ms >= 100 && c->probe_max_ms <= 86400000);
	FZ_ASSERT(c->connect_timeout_ms >= 100 && c->connect_timeout_ms <= 600000);
	FZ_ASSERT(c->stall_timeout_ms >= 1000 && c->total_timeout_ms >= 0);
	FZ_ASSERT(c->lease_ms >= 1000 && c->grace_ms >= 0 && c->poll_ms >= 10);
	FZ_ASSERT(c->heartbeat_ms >= 100 && c->heartbeat_ms <= 60000);
	FZ_ASSERT(c->max_event_bytes >= 1024 && c->memory_max >= 1 << 20);
	FZ_ASSERT(c->log_level >= 0 && c->log_level <= 3);
	FZ_ASSERT(c->db == NULL || c->db[0] != '\0');
	FZ_ASSERT(c->base_url == NULL || strncmp(c->base_url, "http", 4) == 0);
	FZ_ASSERT(c->metrics_listen == NULL || listen_ok(c->metrics_listen));
}

static int
str_eq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int
cfg_eq(const struct config *a, const struct config *b)
{
	return str_eq(a->db, b->db) && str_eq(a->base_url, b->base_url) &&
	    str_eq(a->api_key_file, b->api_key_file) &&
	    str_eq(a->organization, b->organization) &&
	    str_eq(a->project, b->project) &&
	    a->concurrency == b->concurrency && a->rpm == b->rpm &&
	    a->ipm == b->ipm && a->retry_base_ms == b->retry_base_ms &&
	    a->retry_max_ms == b->retry_max_ms &&
	    a->retry_after_max_ms == b->retry_after_max_ms &&
	    a->probe_min_ms == b->probe_min_ms &&
	    a->probe_max_ms == b->probe_max_ms &&
	    a->connect_timeout_ms == b->connect_timeout_ms &&
	    a->stall_timeout_ms == b->stall_timeout_ms &&
	    a->total_timeout_ms == b->total_timeout_ms &&
	    a->lease_ms == b->lease_ms && a->grace_ms == b->grace_ms &&
	    a->poll_ms == b->poll_ms && a->heartbeat_ms == b->heartbeat_ms &&
	    a->max_event_bytes == b->max_event_bytes &&
	    a->memory_max == b->memory_max && a->log_level == b->log_level &&
	    str_eq(a->metrics_listen, b->metrics_listen);
}

/* config_load's reading of text, done by hand: every line through
 * config_set; with stop, the first error ends it as it ends config_load.
 * skip_rpm: "rpm" lines are ignored. Returns 0 or -1. */
static int
set_lines(struct config *c, char *text, int stop, int skip_rpm)
{
	char err[256], *line, *next, *key, *eq;
	int rc = 0;

	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			rc = -1;
			if (stop)
				break;
			continue;
		}
		*eq = '\0';
		key = trim(key);
		if (skip_rpm && strcmp(key, "rpm") == 0)
			continue;
		memset(err, 'Z', sizeof(err));
		if (config_set(c, key, trim(eq + 1), err, sizeof(err)) == -1) {
			FZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
			FZ_ASSERT(strncmp(err, key, strlen(key)) == 0 ||
			    strlen(err) == sizeof(err) - 1);
			rc = -1;
			if (stop)
				break;
		}
		check_ranges(c);
	}
	return rc;
}

/* Lines config_load reads whole: no NUL, none near fgets' 1024. */
static int
loadable(const uint8_t *p, size_t n)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\0' || ++col > 1000)
			return 0;
		if (p[i] == '\n')
			col = 0;
	}
	return 1;
}

static void
load_differential(const uint8_t *p, size_t n, int skip_rpm)
{
	static const char *const skip[] = { "rpm", NULL };
	static int fd = -1;
	struct config a, b;
	char path[64], err[300], *text;
	int rc;

	if (fd == -1 && (fd = memfd_create("fuzz_config", 0)) == -1)
		abort();
	if (ftruncate(fd, 0) == -1 || pwrite(fd, p, n, 0) != (ssize_t)n)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	config_defaults(&a);
	memset(err, 'Z', sizeof(err));
	rc = config_load(&a, path, 0, skip_rpm ? skip : NULL, err, sizeof(err));
	if (rc == -1)
		FZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
	if ((text = malloc(n + 1)) == NULL)
		abort();
	memcpy(text, p, n);
	text[n] = '\0';
	config_defaults(&b);
	FZ_ASSERT(set_lines(&b, text, 1, skip_rpm) == rc);
	FZ_ASSERT(cfg_eq(&a, &b));
	free(text);
	config_free(&a);
	config_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	unsigned flags = fz_byte(&f);
	struct config c;
	char *text;

	if ((text = malloc(f.n + 1)) == NULL)
		abort();
	memcpy(text, f.p, f.n);
	text[f.n] = '\0';
	config_defaults(&c);
	check_ranges(&c);
	(void)set_lines(&c, text, 0, 0);
	config_free(&c);
	FZ_ASSERT(c.db == NULL && c.base_url == NULL && c.project == NULL);
	free(text);
	if ((flags & 1) && loadable(f.p, f.n))
		load_differential(f.p, f.n, flags & 2);
	return 0;
}
