/* fuzz_headers.c: the parsers of header and setting values (Retry-After in
 * both units, x-ratelimit-reset-*, durations) on any NUL-terminated string. */
#include <stdint.h>
#include <string.h>

#include <curl/curl.h>

#include "fuzz.h"
#include "ratelimit.h"
#include "retry.h"
#include "util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	/* a clock between 1970 and 2109, from the input */
	int64_t now = (int64_t)fz_u16(&f) << 26, ms;
	char *s;

	if ((s = malloc(f.n + 1)) == NULL)
		abort();
	memcpy(s, f.p, f.n);
	s[f.n] = '\0';
	if (retry_after_parse(s, 0, now, &ms) == 0)
		FZ_ASSERT(ms >= 0);
	if (retry_after_parse(s, 1, now, &ms) == 0)
		FZ_ASSERT(ms >= 0 && ms < (int64_t)1e12);
	if (ratelimit_parse_reset(s, &ms) == 0)
		FZ_ASSERT(ms >= 0 && ms <= (int64_t)7 * 86400000);
	if (parse_duration_ms(s, &ms) == 0)
		FZ_ASSERT(ms >= 0 && ms <= (int64_t)9e15);
	free(s);
	return 0;
}
