/* period.c: the day, week and month around a moment, by the C library's
 * local time under TZ: no table of our own, the system's zoneinfo. */
#define _GNU_SOURCE
#include "period.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define ZONEINFO "/usr/share/zoneinfo"

static int
name_char(int c)
{
	return isalnum(c) || c == '/' || c == '_' || c == '-' || c == '+';
}

/* An IANA name: letters, digits, / _ - +, no "..", a file under zoneinfo. */
static int
zone_file_ok(const char *tz)
{
	const char *dir = getenv("TZDIR"), *p;
	char path[512];
	struct stat sb;

	if (tz[0] == '/' || strstr(tz, "..") != NULL)
		return 0;
	for (p = tz; *p != '\0'; p++)
		if (!name_char((unsigned char)*p))
			return 0;
	snprintf(path, sizeof(path), "%s/%s", dir != NULL && dir[0] != '\0' ?
	    dir : ZONEINFO, tz);
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* A POSIX TZ string: a name of 3+ letters (or <...>), then an offset. */
static int
posix_tz_ok(const char *tz)
{
	const char *p = tz;
	size_t letters = 0;

	if (*p == '<') {
		if ((p = strchr(p, '>')) == NULL || p - tz < 4)
			return 0;
		p++;
	} else {
		while (isalpha((unsigned char)*p)) {
			p++;
			letters++;
		}
		if (letters < 3)
			return 0;
	}
	if (*p == '+' || *p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return 0;
	for (; *p != '\0'; p++)
		if (!isprint((unsigned char)*p) || *p == ' ')
			return 0;
	return strlen(tz) < 128;
}

int
period_zone_ok(const char *tz)
{
	if (tz == NULL || tz[0] == '\0' || strcmp(tz, "UTC") == 0)
		return 1;
	return posix_tz_ok(tz) || zone_file_ok(tz);
}

int
period_set_zone(const char *tz)
{
	if (!period_zone_ok(tz))
		return -1;
	/* "UTC0": UTC without a zoneinfo file (a slim container has none) */
	if (setenv("TZ", tz == NULL || tz[0] == '\0' || strcmp(tz, "UTC") ==
	    0 ? "UTC0" : tz, 1) == -1)
		return -1;
	tzset();
	return 0;
}

/* Local midnight of tm's day moved by days and months, as ms. */
static int
midnight(const struct tm *tm, int days, int months, int64_t *ms)
{
	struct tm m = { 0 };
	time_t t;

	m.tm_year = tm->tm_year;
	m.tm_mon = tm->tm_mon + months;
	m.tm_mday = tm->tm_mday + days;
	m.tm_isdst = -1;
	if ((t = mktime(&m)) == (time_t)-1)
		return -1;
	*ms = (int64_t)t * 1000;
	return 0;
}

int
period_bounds(enum period p, int64_t now_ms, int64_t *start_ms,
    int64_t *end_ms)
{
	time_t now = (time_t)(now_ms >= 0 ? now_ms / 1000 :
	    -((-now_ms + 999) / 1000));
	struct tm tm;
	int back;

	if (localtime_r(&now, &tm) == NULL)
		return -1;
	switch (p) {
	case PERIOD_DAY:
		return midnight(&tm, 0, 0, start_ms) == -1 ||
		    midnight(&tm, 1, 0, end_ms) == -1 ? -1 : 0;
	case PERIOD_WEEK:
		back = (tm.tm_wday + 6) % 7;	/* days since Monday */
		return midnight(&tm, -back, 0, start_ms) == -1 ||
		    midnight(&tm, 7 - back, 0, end_ms) == -1 ? -1 : 0;
	case PERIOD_MONTH:
		tm.tm_mday = 1;
		return midnight(&tm, 0, 0, start_ms) == -1 ||
		    midnight(&tm, 0, 1, end_ms) == -1 ? -1 : 0;
	default:
		return -1;
	}
}

const char *
period_name(enum period p)
{
	static const char *const names[PERIOD_COUNT] = { "day", "week",
		"month" };

	return (unsigned)p < PERIOD_COUNT ? names[p] : "?";
}

void
period_format(int64_t start_ms, char *buf, size_t n)
{
	time_t t = (time_t)(start_ms / 1000);
	struct tm tm;

	if (n == 0)
		return;
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, n, "%Y-%m-%d %H:%M %Z", &tm) == 0)
		snprintf(buf, n, "%lld", (long long)start_ms);
}
