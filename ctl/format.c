/* format.c: imgeditctl's parsing of ids, numbers and times from arguments,
 * and the formatting of times, ages, sizes, JSON and errors for output. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "termsafe.h"
#include "util.h"

int
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return -1;
	*id = v;
	return 0;
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* The zone suffix of an ISO-8601 time: "" (local), "Z", "+HH:MM", "+HHMM",
 * "+HH". Sets *utc and *offset_s. Returns 0 or -1. */
static int
parse_zone(const char *z, int *utc, long *offset_s)
{
	int hh = 0, mm = 0, sign;

	*utc = 0;
	*offset_s = 0;
	if (*z == '.')  /* fractional seconds: ignored */
		for (z++; isdigit((unsigned char)*z); z++)
			;
	if (*z == '\0')
		return 0;
	*utc = 1;
	if (strcmp(z, "Z") == 0 || strcmp(z, "z") == 0)
		return 0;
	if (*z != '+' && *z != '-')
		return -1;
	sign = *z == '-' ? -1 : 1;
	if (sscanf(z + 1, "%2d:%2d", &hh, &mm) != 2 &&
	    sscanf(z + 1, "%2d%2d", &hh, &mm) < 1)
		return -1;
	if (hh > 23 || mm > 59)
		return -1;
	*offset_s = sign * (hh * 3600L + mm * 60L);
	return 0;
}

static int
parse_iso(const char *s, int64_t *ms)
{
	static const char *const formats[] = {
		"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M",
		"%Y-%m-%d %H:%M", "%Y-%m-%d",
	};
	struct tm tm;
	const char *rest = NULL;
	time_t t;
	long offset;
	size_t i;
	int utc;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		if ((rest = strptime(s, formats[i], &tm)) != NULL &&
		    parse_zone(rest, &utc, &offset) == 0)
			break;
		rest = NULL;
	}
	if (rest == NULL)
		return -1;
	tm.tm_isdst = -1;
	t = utc ? timegm(&tm) - offset : mktime(&tm);
	if (t == (time_t)-1)
		return -1;
	*ms = (int64_t)t * 1000;
	return 0;
}

int
parse_time(const char *s, int sign, int64_t *ms)
{
	int64_t d;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	if (all_digits(s)) {
		errno = 0;
		v = strtoll(s, NULL, 10);
		if (errno != 0 || v > 100000000000LL)
			return -1;
		*ms = v * 1000;
		return 0;
	}
	if (parse_iso(s, ms) == 0)
		return 0;
	if (*s == '+')
		s++;
	if (parse_duration_ms(s, &d) == 0) {
		*ms = now_ms() + sign * d;
		return 0;
	}
	return -1;
}

void
fmt_time(int64_t ms, char *buf, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || localtime_r(&t, &tm) == NULL) {
		snprintf(buf, n, "-");
		return;
	}
	strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

void
fmt_age(int64_t ms, char *buf, size_t n)
{
	int64_t s = ms / 1000;

	if (ms < 0)
		snprintf(buf, n, "-");
	else if (s < 120)
		snprintf(buf, n, "%llds", (long long)s);
	else if (s < 120 * 60)
		snprintf(buf, n, "%lldm", (long long)(s / 60));
	else if (s < 48 * 3600)
		snprintf(buf, n, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, n, "%lldd", (long long)(s / 86400));
}

void
fmt_bytes(int64_t bytes, char *buf, size_t n)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, n, "%lld B", (long long)bytes);
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, n, "%.1f %s", v, units[u]);
}

int
print_json(const json_t *j)
{
	if (json_dumpf(j, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY) == -1 ||
	    fputc('\n', stdout) == EOF) {
		ctl_err("cannot write JSON output");
		return CTL_FAIL;
	}
	return CTL_OK;
}

int64_t
jint(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Job ids from argv[0..argc). Returns CTL_OK or a usage error. */
int
parse_ids(int argc, char **argv, const char *help, int64_t **ids)
{
	int i;

	if (argc == 0)
		return ctl_usage(help, "give at least one job ID");
	if ((*ids = calloc((size_t)argc, sizeof(**ids))) == NULL)
		return CTL_FAIL;
	for (i = 0; i < argc; i++) {
		if (parse_id(argv[i], &(*ids)[i]) == -1) {
			free(*ids);
			return ctl_usage(help, "'%s' is not a job id", argv[i]);
		}
	}
	return CTL_OK;
}

int
each_state(const char *csv, const char *help,
    int (*fn)(const char *state, void *arg), void *arg)
{
	char one[CATALOG_STATE_LEN + 1];
	const char *p = csv, *end;
	size_t len;
	int rc;

	for (;; p = end + 1) {
		end = strchr(p, ',') ? strchr(p, ',') : p + strlen(p);
		len = (size_t)(end - p);
		snprintf(one, sizeof(one), "%.*s", (int)(len < sizeof(one) ? len :
		    sizeof(one) - 1), p);
		if (len >= sizeof(one) || !catalog_state_valid(one))
			return ctl_usage(help, "--state: unknown state '%.*s'",
			    (int)len, p);
		if (fn != NULL && (rc = fn(one, arg)) != CTL_OK)
			return rc;
		if (*end == '\0')
			return CTL_OK;
	}
}

int
print_json_new(json_t *j)
{
	int rc = j != NULL ? print_json(j) : CTL_FAIL;

	json_decref(j);
	return rc;
}

void
ctl_err(const char *fmt, ...)
{
	char msg[2048], safe[4096];
	va_list ap;

	/* messages echo stored and upstream text: never as controls */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "imgeditctl: %s\n", termsafe_copy(msg, safe,
	    sizeof(safe)));
}

int
ctl_usage(const char *help, const char *fmt, ...)
{
	const char *end = strstr(help, "\n\n");
	va_list ap;

	if (fmt != NULL) {
		fputs("imgeditctl: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fprintf(stderr, "%.*s\n", end ? (int)(end - help) : (int)strlen(help),
	    help);
	return CTL_USAGE;
}
