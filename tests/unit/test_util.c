/* test_util.c: durations as settings write them, and what they must refuse
 * (NaN and infinities that strtod reads, negatives, unknown units). */
#include <stdint.h>

#include "testutil.h"
#include "util.h"

static int64_t
dur(const char *s)
{
	int64_t ms = -12345;

	return parse_duration_ms(s, &ms) == 0 ? ms : -1;
}

int
main(void)
{
	CHECK_INT(dur("90"), 90000);
	CHECK_INT(dur("1500ms"), 1500);
	CHECK_INT(dur("30s"), 30000);
	CHECK_INT(dur("10m"), 600000);
	CHECK_INT(dur("2h"), 7200000);
	CHECK_INT(dur("7d"), 604800000);
	CHECK_INT(dur("0.5s"), 500);
	CHECK_INT(dur("0"), 0);
	/* found by fuzz_headers: strtod reads these, and NaN slipped past
	 * both range checks into an int64_t cast (INT64_MIN, "success") */
	CHECK_INT(dur("nan"), -1);
	CHECK_INT(dur("nanms"), -1);
	CHECK_INT(dur("NAN(123)s"), -1);
	CHECK_INT(dur("inf"), -1);
	CHECK_INT(dur("infinity"), -1);
	CHECK_INT(dur("1e400"), -1);
	CHECK_INT(dur("-1s"), -1);
	CHECK_INT(dur("5x"), -1);
	CHECK_INT(dur(""), -1);
	CHECK_INT(dur("ms"), -1);
	return tu_finish("test_util");
}
