/* period.h: where the periods of budgets and spending begin and end: the
 * day, the week (from Monday) and the month, in the configured time zone. */
#ifndef IMGEDIT_PERIOD_H
#define IMGEDIT_PERIOD_H

#include <stddef.h>
#include <stdint.h>

enum period { PERIOD_DAY, PERIOD_WEEK, PERIOD_MONTH, PERIOD_COUNT };

/* Whether tz names a time zone: NULL, "" or "UTC" (UTC), a zone under the
 * system's zoneinfo ("Europe/Paris"), or a POSIX TZ string with an offset
 * ("CET-1CEST,M3.5.0,M10.5.0/3", "<+0530>-5:30"). No I/O but a stat. */
int period_zone_ok(const char *tz);

/* Makes tz the process's time zone (the TZ variable), for period_bounds
 * and local times printed after it. Returns 0, or -1 when tz is not
 * period_zone_ok (the zone is left as it was). Call it from the main
 * thread only, before other threads read local time (none of imgedit's
 * do). */
int period_set_zone(const char *tz);

/* The period p that holds now_ms (milliseconds since the epoch), in the
 * process's time zone: [*start_ms, *end_ms). A day is from midnight to
 * midnight (23 or 25 hours across a change of summer time), a week from
 * Monday's midnight, a month from the 1st's. Returns 0, or -1 when the
 * time cannot be told (outside time_t's range). */
int period_bounds(enum period p, int64_t now_ms, int64_t *start_ms,
    int64_t *end_ms);

/* "day", "week", "month". */
const char *period_name(enum period p);

/* start_ms as local "YYYY-MM-DD HH:MM ZONE" into buf. */
void period_format(int64_t start_ms, char *buf, size_t n);

#endif
