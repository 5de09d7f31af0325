/* config.c: imgeditd's settings table, defaults, validation of each value,
 * and the key = value config file reader. */
#define _GNU_SOURCE
#include "config.h"
#include "listenaddr.h"

#include <stddef.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "period.h"
#include "metrics.h"
#include "util.h"

const struct config_key config_keys[] = {
	{ "db", "PATH|URI", "the queue: a SQLite file, or postgresql://... (env IMGEDIT_DB)" },
	{ "base-url", "URL", "API base URL (env OPENAI_BASE_URL)" },
	{ "api-key-file", "FILE", "read the API key from FILE (else "
	    "$CREDENTIALS_DIRECTORY/openai-api-key, else env OPENAI_API_KEY)" },
	{ "organization", "ID", "OpenAI-Organization header (env OPENAI_ORG_ID)" },
	{ "project", "ID", "OpenAI-Project header (env OPENAI_PROJECT_ID)" },
	{ "concurrency", "N", "edits in flight at most (1..1024)" },
	{ "rpm", "N", "requests per minute at most (0 = no limit)" },
	{ "ipm", "N", "images per minute at most, n counts (0 = no limit)" },
	{ "retry-base", "DUR", "first retry delay; doubles per attempt, with jitter" },
	{ "retry-max", "DUR", "largest computed retry delay" },
	{ "retry-after-max", "DUR", "largest delay a server's Retry-After may ask" },
	{ "pause-probe", "DUR", "while paused (401/403/quota), first re-probe delay" },
	{ "pause-probe-max", "DUR", "while paused, largest re-probe delay" },
	{ "connect-timeout", "DUR", "connect timeout (the image API)" },
	{ "db-connect-timeout", "DUR", "PostgreSQL: give up a connection attempt "
	    "after this long (a URI's own connect_timeout wins)" },
	{ "stall-timeout", "DUR", "abort when no byte arrives for this long" },
	{ "total-timeout", "DUR", "abort an attempt after this long (0 = none)" },
	{ "lease", "DUR", "lease of a running job, renewed at a third" },
	{ "grace", "DUR", "on SIGTERM, time in-flight edits get to finish" },
	{ "poll-interval", "DUR", "how often the database is checked for changes" },
	{ "heartbeat", "DUR", "daemon row heartbeat and status interval" },
	{ "max-event-bytes", "BYTES", "largest SSE event or JSON body accepted" },
	{ "memory-max", "BYTES", "image bytes in memory (being received or "
	    "waiting for the database), at most; past it transfers pause "
	    "between images" },
	{ "log-level", "LEVEL", "debug, info, warn or error" },
	{ "metrics-listen", "ADDR:PORT", "serve Prometheus metrics at "
	    "http://ADDR:PORT/metrics, e.g. 127.0.0.1:9464 (empty = off)" },
	{ "download-proxy", "URL", "fetch url results through this HTTP proxy "
	    "(http://HOST:PORT), tunnelled to the address checked; never the "
	    "environment's proxy (empty = direct)" },
	{ "metrics-allow-host", "NAMES", "the Host names /metrics answers to, "
	    "comma-separated (default: loopback names on a loopback address, "
	    "else any)" },
	{ "default-model", "MODEL", "the model imgeditctl submit writes into a "
	    "job given none (imgeditd sends a job as it was written)" },
	{ "time-zone", "ZONE", "where days, weeks (from Monday) and months "
	    "of spending and budgets begin: UTC, a zone such as Europe/Paris, "
	    "or a POSIX TZ string" },
	{ "price", "'MODEL TI II IO [TC IC]'", "USD per 1M tokens for MODEL "
	    "(a family, or a model the built-in table lacks): text in, image "
	    "in, image out [, text and image cached]; repeat for more models" },
	{ NULL, NULL, NULL },
};

void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->concurrency = 8;
	cfg->retry_base_ms = 1000;
	cfg->retry_max_ms = 60000;
	cfg->retry_after_max_ms = 600000;
	cfg->probe_min_ms = 5000;
	cfg->probe_max_ms = 300000;
	cfg->connect_timeout_ms = 10000;
	cfg->db_connect_timeout_ms = 5000;
	cfg->stall_timeout_ms = 120000;
	cfg->total_timeout_ms = 600000;
	cfg->lease_ms = 60000;
	cfg->grace_ms = 30000;
	cfg->poll_ms = 200;
	cfg->heartbeat_ms = 2000;
	cfg->max_event_bytes = 64 << 20;
	cfg->memory_max = 16 << 20; /* ~2 MB per stream at the default 8 */
	cfg->log_level = LOG_LVL_INFO;
}

const char *
config_default_text(const char *key)
{
	static const struct { const char *key, *text; } defaults[] = {
		{ "base-url", "https://api.openai.com/v1" },
		{ "concurrency", "8" },
		{ "rpm", "0" },
		{ "ipm", "0" },
		{ "retry-base", "1s" },
		{ "retry-max", "60s" },
		{ "retry-after-max", "10m" },
		{ "pause-probe", "5s" },
		{ "pause-probe-max", "5m" },
		{ "connect-timeout", "10s" },
		{ "db-connect-timeout", "5s" },
		{ "stall-timeout", "120s" },
		{ "total-timeout", "10m" },
		{ "lease", "60s" },
		{ "grace", "30s" },
		{ "poll-interval", "200ms" },
		{ "heartbeat", "2s" },
		{ "max-event-bytes", "67108864" },
		{ "memory-max", "16777216" },
		{ "log-level", "info" },
		{ "metrics-listen", "off" },
		{ "default-model", CONFIG_DEFAULT_MODEL },
		{ "time-zone", "UTC" },
	};
	size_t i;

	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (strcmp(defaults[i].key, key) == 0)
			return defaults[i].text;
	return NULL;
}

void
config_free(struct config *cfg)
{
	free(cfg->db);
	free(cfg->base_url);
	free(cfg->api_key_file);
	free(cfg->organization);
	free(cfg->project);
	free(cfg->metrics_listen);
	free(cfg->metrics_allow_host);
	free(cfg->download_proxy);
	cfg->download_proxy = NULL;
	free(cfg->default_model);
	cfg->default_model = NULL;
	free(cfg->time_zone);
	cfg->time_zone = NULL;
	prices_free(&cfg->prices);
	cfg->db = cfg->base_url = cfg->api_key_file = NULL;
	cfg->organization = cfg->project = cfg->metrics_listen = NULL;
	cfg->metrics_allow_host = NULL;
}

static int
set_string(char **dst, const char *value)
{
	char *s = strdup(value);

	if (s == NULL)
		return -1;
	free(*dst);
	*dst = s;
	return 0;
}

static int
parse_int(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* A duration between lo and hi ms; "0" allowed when lo is 0. */
static int
set_duration(int64_t *dst, const char *value, int64_t lo, int64_t hi)
{
	int64_t ms;

	if (parse_duration_ms(value, &ms) == -1 || ms < lo || ms > hi)
		return -1;
	*dst = ms;
	return 0;
}

static int
set_level(int *dst, const char *value)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(value, names[i]) == 0) {
			*dst = i;
			return 0;
		}
	return -1;
}

/* An address to listen on, or "" for none; the reason names the key. */
static int
set_listen(char **dst, const char *value, char *err, size_t errlen)
{
	char host[64], why[200];
	int port;

	if (value[0] == '\0') {
		free(*dst);
		*dst = NULL;
		return 0;
	}
	if (listen_addr_parse(value, host, sizeof(host), &port, why,
	    sizeof(why)) == -1)
		return errorf(err, errlen, "metrics-listen: %s", why);
	return set_string(dst, value);
}

/* A model name as the API spells them: short, plain, no spaces. */
static int
model_name_ok(const char *v)
{
	size_t len = strlen(v);

	return len > 0 && len <= 64 && strspn(v, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:/") == len;
}

/* A `price` line: adds or replaces that model's row. */
static int
set_price(struct price_table *t, const char *value, char *err, size_t errlen)
{
	struct price_override o;

	if (prices_parse(value, &o, err, errlen) == -1)
		return -1;
	if (prices_set(t, &o) == -1)
		return snprintf(err, errlen, "price: out of memory"), -1;
	return 0;
}

int
config_set(struct config *cfg, const char *key, const char *value, char *err,
    size_t errlen)
{
	long long n;
	int rc = -1;
	const char *want = "a valid value";

	if (strcmp(key, "db") == 0)
		rc = value[0] ? set_string(&cfg->db, value) : -1;
	else if (strcmp(key, "base-url") == 0) {
		want = "an http:// or https:// URL";
		if (strncmp(value, "http://", 7) == 0 ||
		    strncmp(value, "https://", 8) == 0) {
			rc = set_string(&cfg->base_url, value);
			/* "…/v1/" and "…/v1" mean the same */
			if (rc == 0 && cfg->base_url[strlen(cfg->base_url) - 1] == '/')
				cfg->base_url[strlen(cfg->base_url) - 1] = '\0';
		}
	} else if (strcmp(key, "api-key-file") == 0)
		rc = value[0] ? set_string(&cfg->api_key_file, value) : -1;
	else if (strcmp(key, "organization") == 0)
		rc = set_string(&cfg->organization, value);
	else if (strcmp(key, "project") == 0)
		rc = set_string(&cfg->project, value);
	else if (strcmp(key, "concurrency") == 0) {
		want = "an integer from 1 to 1024";
		if ((rc = parse_int(value, 1, 1024, &n)) == 0)
			cfg->concurrency = (int)n;
	} else if (strcmp(key, "rpm") == 0 || strcmp(key, "ipm") == 0) {
		want = "an integer from 0 to 1000000";
		if ((rc = parse_int(value, 0, 1000000, &n)) == 0)
			*(key[0] == 'r' ? &cfg->rpm : &cfg->ipm) = (double)n;
	} else if (strcmp(key, "retry-base") == 0) {
		want = "a duration from 10ms to 10m";
		rc = set_duration(&cfg->retry_base_ms, value, 10, 600000);
	} else if (strcmp(key, "retry-max") == 0) {
		want = "a duration from 10ms to 1h";
		rc = set_duration(&cfg->retry_max_ms, value, 10, 3600000);
	} else if (strcmp(key, "retry-after-max") == 0) {
		want = "a duration up to 1h";
		rc = set_duration(&cfg->retry_after_max_ms, value, 0, 3600000);
	} else if (strcmp(key, "pause-probe") == 0) {
		want = "a duration from 100ms to 1h";
		rc = set_duration(&cfg->probe_min_ms, value, 100, 3600000);
	} else if (strcmp(key, "pause-probe-max") == 0) {
		want = "a duration from 100ms to 1d";
		rc = set_duration(&cfg->probe_max_ms, value, 100, 86400000);
	} else if (strcmp(key, "connect-timeout") == 0) {
		want = "a duration from 100ms to 10m";
		rc = set_duration(&cfg->connect_timeout_ms, value, 100, 600000);
	} else if (strcmp(key, "db-connect-timeout") == 0) {
		want = "a duration from 1s to 10m";
		rc = set_duration(&cfg->db_connect_timeout_ms, value, 1000, 600000);
	} else if (strcmp(key, "stall-timeout") == 0) {
		want = "a duration from 1s to 1h";
		rc = set_duration(&cfg->stall_timeout_ms, value, 1000, 3600000);
	} else if (strcmp(key, "total-timeout") == 0) {
		want = "a duration up to 24h (0 = none)";
		rc = set_duration(&cfg->total_timeout_ms, value, 0, 86400000);
	} else if (strcmp(key, "lease") == 0) {
		want = "a duration from 1s to 1h";
		rc = set_duration(&cfg->lease_ms, value, 1000, 3600000);
	} else if (strcmp(key, "grace") == 0) {
		want = "a duration up to 1h";
		rc = set_duration(&cfg->grace_ms, value, 0, 3600000);
	} else if (strcmp(key, "poll-interval") == 0) {
		want = "a duration from 10ms to 1s";
		rc = set_duration(&cfg->poll_ms, value, 10, 1000);
	} else if (strcmp(key, "heartbeat") == 0) {
		want = "a duration from 100ms to 1m";
		rc = set_duration(&cfg->heartbeat_ms, value, 100, 60000);
	} else if (strcmp(key, "max-event-bytes") == 0) {
		want = "a size from 1024 to 1073741824 bytes";
		if ((rc = parse_int(value, 1024, 1 << 30, &n)) == 0)
			cfg->max_event_bytes = n;
	} else if (strcmp(key, "memory-max") == 0) {
		want = "a size from 1048576 to 1073741824 bytes";
		if ((rc = parse_int(value, 1 << 20, 1 << 30, &n)) == 0)
			cfg->memory_max = n;
	} else if (strcmp(key, "log-level") == 0) {
		want = "debug, info, warn or error";
		rc = set_level(&cfg->log_level, value);
	} else if (strcmp(key, "metrics-listen") == 0) {
		return set_listen(&cfg->metrics_listen, value, err, errlen);
	} else if (strcmp(key, "download-proxy") == 0) {
		want = "an http:// or https:// proxy URL";
		if (value[0] == '\0') {
			free(cfg->download_proxy);
			cfg->download_proxy = NULL;
			rc = 0;
		} else if ((rc = (strncmp(value, "http://", 7) == 0 ||
		    strncmp(value, "https://", 8) == 0) && strlen(value) > 8 &&
		    strpbrk(value, " \t\r\n") == NULL ? 0 : -1) == 0)
			rc = set_string(&cfg->download_proxy, value);
	} else if (strcmp(key, "metrics-allow-host") == 0) {
		want = "host names, comma-separated";
		if (value[0] == '\0') {
			free(cfg->metrics_allow_host);
			cfg->metrics_allow_host = NULL;
			rc = 0;
		} else if ((rc = listen_addr_allow_valid(value) ? 0 : -1) == 0)
			rc = set_string(&cfg->metrics_allow_host, value);
	} else if (strcmp(key, "default-model") == 0) {
		want = "a model name (letters, digits, '.', '-', '_', at most 64)";
		if (model_name_ok(value))
			rc = set_string(&cfg->default_model, value);
	} else if (strcmp(key, "time-zone") == 0) {
		want = "UTC, a zone this system knows (Europe/Paris) or a "
		    "POSIX TZ string";
		if (period_zone_ok(value))
			rc = set_string(&cfg->time_zone, value);
	} else if (strcmp(key, "price") == 0) {
		return set_price(&cfg->prices, value, err, errlen);
	} else {
		snprintf(err, errlen, "%s: unknown setting", key);
		return -1;
	}
	if (rc == -1)
		snprintf(err, errlen, "%s: '%.100s' is not %s", key, value, want);
	return rc;
}

/* Each setting's field, for reading it back: SIGHUP says what changed. */
enum field_type { F_STR, F_INT, F_DBL, F_MS, F_I64, F_LEVEL, F_PRICES };

static const struct {
	const char *name;
	size_t off;
	enum field_type type;
	int reloads;               /* SIGHUP applies it (else: restart) */
} fields[] = {
	{ "db", offsetof(struct config, db), F_STR, 0 },
	{ "base-url", offsetof(struct config, base_url), F_STR, 1 },
	{ "api-key-file", offsetof(struct config, api_key_file), F_STR, 1 },
	{ "organization", offsetof(struct config, organization), F_STR, 1 },
	{ "project", offsetof(struct config, project), F_STR, 1 },
	{ "concurrency", offsetof(struct config, concurrency), F_INT, 1 },
	{ "rpm", offsetof(struct config, rpm), F_DBL, 1 },
	{ "ipm", offsetof(struct config, ipm), F_DBL, 1 },
	{ "retry-base", offsetof(struct config, retry_base_ms), F_MS, 1 },
	{ "retry-max", offsetof(struct config, retry_max_ms), F_MS, 1 },
	{ "retry-after-max", offsetof(struct config, retry_after_max_ms), F_MS, 1 },
	{ "pause-probe", offsetof(struct config, probe_min_ms), F_MS, 1 },
	{ "pause-probe-max", offsetof(struct config, probe_max_ms), F_MS, 1 },
	{ "connect-timeout", offsetof(struct config, connect_timeout_ms), F_MS, 1 },
	{ "db-connect-timeout", offsetof(struct config, db_connect_timeout_ms),
	    F_MS, 0 },
	{ "stall-timeout", offsetof(struct config, stall_timeout_ms), F_MS, 1 },
	{ "total-timeout", offsetof(struct config, total_timeout_ms), F_MS, 1 },
	{ "lease", offsetof(struct config, lease_ms), F_MS, 0 },
	{ "grace", offsetof(struct config, grace_ms), F_MS, 1 },
	{ "poll-interval", offsetof(struct config, poll_ms), F_MS, 0 },
	{ "heartbeat", offsetof(struct config, heartbeat_ms), F_MS, 0 },
	{ "max-event-bytes", offsetof(struct config, max_event_bytes), F_I64, 1 },
	{ "memory-max", offsetof(struct config, memory_max), F_I64, 1 },
	{ "log-level", offsetof(struct config, log_level), F_LEVEL, 1 },
	{ "metrics-listen", offsetof(struct config, metrics_listen), F_STR, 0 },
	{ "metrics-allow-host", offsetof(struct config, metrics_allow_host),
	    F_STR, 0 },
	{ "download-proxy", offsetof(struct config, download_proxy), F_STR, 1 },
	{ "default-model", offsetof(struct config, default_model), F_STR, 1 },
	{ "time-zone", offsetof(struct config, time_zone), F_STR, 1 },
	{ "price", offsetof(struct config, prices), F_PRICES, 1 },
};

int
config_value(const struct config *cfg, const char *key, char *buf, size_t n)
{
	static const char *const levels[] = { "debug", "info", "warn", "error" };
	const void *p;
	size_t i;
	int level;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(fields[i].name, key) != 0)
			continue;
		p = (const char *)cfg + fields[i].off;
		switch (fields[i].type) {
		case F_STR:
			snprintf(buf, n, "%s", *(char *const *)p ?
			    *(char *const *)p : "");
			break;
		case F_INT:
			snprintf(buf, n, "%d", *(const int *)p);
			break;
		case F_DBL:
			snprintf(buf, n, "%g", *(const double *)p);
			break;
		case F_MS:
			snprintf(buf, n, "%lldms", (long long)*(const int64_t *)p);
			break;
		case F_I64:
			snprintf(buf, n, "%lld", (long long)*(const int64_t *)p);
			break;
		case F_LEVEL:
			level = *(const int *)p;
			snprintf(buf, n, "%s", level >= 0 && level < 4 ?
			    levels[level] : "?");
			break;
		case F_PRICES:
			prices_format(p, buf, n);
			break;
		}
		return fields[i].reloads;
	}
	return -1;
}

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

static int
skipped(const char *key, const char *const *skip)
{
	for (; skip != NULL && *skip != NULL; skip++)
		if (strcmp(*skip, key) == 0)
			return 1;
	return 0;
}

int
config_load(struct config *cfg, const char *path, int missing_ok,
    const char *const *skip, char *err, size_t errlen)
{
	FILE *f;
	char line[1024], msg[256], *key, *value, *eq;
	int lineno = 0, rc = 0;

	if ((f = fopen(path, "r")) == NULL) {
		if (missing_ok && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected key = value", path,
			    lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		if (skipped(key, skip))
			continue;
		if (config_set(cfg, key, value, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			rc = -1;
		}
	}
	fclose(f);
	return rc;
}
