/* test_period.c: days, weeks from Monday and months around a moment, in UTC,
 * at fixed offsets (POSIX strings) and across Paris's summer-time changes;
 * and which zone names are taken. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "period.h"
#include "testutil.h"

#define H	(3600LL * 1000)
#define D	(24 * H)

/* 2026-12-07 (a Monday) 02:43:16 UTC, and other moments. */
#define MON_0243	1796611396000LL
#define MON_0000	1796601600000LL
#define DEC_1		(MON_0000 - 6 * D)
#define JAN_1		(DEC_1 + 31 * D)

static void
check_bounds(enum period p, long long now, long long start, long long end)
{
	int64_t s = 0, e = 0;

	CHECK_INT(period_bounds(p, now, &s, &e), 0);
	CHECK_INT(s, start);
	CHECK_INT(e, end);
}

static void
test_utc(void)
{
	CHECK_INT(period_set_zone(NULL), 0);
	check_bounds(PERIOD_DAY, MON_0243, MON_0000, MON_0000 + D);
	check_bounds(PERIOD_WEEK, MON_0243, MON_0000, MON_0000 + 7 * D);
	check_bounds(PERIOD_MONTH, MON_0243, DEC_1, JAN_1);
	/* the last millisecond of Sunday is in the week before */
	check_bounds(PERIOD_WEEK, MON_0000 - 1, MON_0000 - 7 * D, MON_0000);
	check_bounds(PERIOD_DAY, MON_0000, MON_0000, MON_0000 + D);
	/* Sunday 2026-12-13 23:00 is still this week */
	check_bounds(PERIOD_WEEK, MON_0000 + 7 * D - H, MON_0000,
	    MON_0000 + 7 * D);
	/* February of a leap year: 29 days */
	check_bounds(PERIOD_MONTH, 1709251200000LL - 1, 1706745600000LL,
	    1709251200000LL);
	CHECK_STR(period_name(PERIOD_WEEK), "week");
	CHECK_STR(period_name(PERIOD_MONTH), "month");
}

static void
test_offsets(void)
{
	/* 5:30 east: Monday 02:43 UTC is Monday 08:13 there */
	CHECK_INT(period_set_zone("<+0530>-5:30"), 0);
	check_bounds(PERIOD_DAY, MON_0243, MON_0000 - 5 * H - H / 2,
	    MON_0000 + D - 5 * H - H / 2);
	/* 5 west: it is still Sunday 21:43 there, the week began 6 days ago */
	CHECK_INT(period_set_zone("EST5"), 0);
	check_bounds(PERIOD_DAY, MON_0243, MON_0000 - D + 5 * H,
	    MON_0000 + 5 * H);
	check_bounds(PERIOD_WEEK, MON_0243, MON_0000 - 7 * D + 5 * H,
	    MON_0000 + 5 * H);
	check_bounds(PERIOD_MONTH, MON_0243, DEC_1 + 5 * H, JAN_1 + 5 * H);
	/* an offset in seconds: midnight comes 10 s after the moment */
	CHECK_INT(period_set_zone("<-0243>-21:16:34"), 0);
	check_bounds(PERIOD_DAY, MON_0243, MON_0243 + 10000 - D,
	    MON_0243 + 10000);
	CHECK_INT(period_set_zone("UTC"), 0);
}

static void
test_summer_time(void)
{
	/* 2026-03-29: Paris goes from 02:00 to 03:00, a 23-hour day */
	long long day = 1774738800000LL;	/* 2026-03-29 00:00 CET */

	CHECK_INT(period_set_zone("Europe/Paris"), 0);
	check_bounds(PERIOD_DAY, day + 12 * H, day, day + 23 * H);
	/* the POSIX spelling of the same rules agrees */
	CHECK_INT(period_set_zone("CET-1CEST,M3.5.0,M10.5.0/3"), 0);
	check_bounds(PERIOD_DAY, day + 12 * H, day, day + 23 * H);
	/* 2026-10-25: back to 02:00, a 25-hour day */
	day = 1792886400000LL - 2 * H;		/* 2026-10-25 00:00 CEST */
	check_bounds(PERIOD_DAY, day + 12 * H, day, day + 25 * H);
	CHECK_INT(period_set_zone(NULL), 0);
}

static void
test_names(void)
{
	static const char *const good[] = { "UTC", "", "Europe/Paris",
		"America/Argentina/Buenos_Aires", "EST5EDT,M3.2.0,M11.1.0",
		"<+0530>-5:30", "UTC0", NULL };
	static const char *const bad[] = { "Mars/Olympus", "../../etc/passwd",
		"/etc/passwd", "Europe/../Europe/Paris", "XX5",
		"Europe/Paris\n", "<+05", "EST 5", NULL };
	size_t i;

	for (i = 0; good[i] != NULL; i++)
		if (!period_zone_ok(good[i])) {
			fprintf(stderr, "refused: %s\n", good[i]);
			CHECK(0);
		}
	for (i = 0; bad[i] != NULL; i++) {
		CHECK(!period_zone_ok(bad[i]));
		/* refused: the zone before stays */
		CHECK_INT(period_set_zone(bad[i]), -1);
	}
	CHECK_STR(getenv("TZ"), "UTC0");
}

static void
test_format(void)
{
	char buf[64];

	CHECK_INT(period_set_zone("UTC"), 0);
	period_format(MON_0000 + D, buf, sizeof(buf));
	CHECK_STR(buf, "2026-12-08 00:00 UTC");
}

int
main(void)
{
	test_utc();
	test_offsets();
	test_summer_time();
	test_names();
	test_format();
	return tu_finish("period");
}
