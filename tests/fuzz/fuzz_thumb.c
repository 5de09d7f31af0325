/* fuzz_thumb.c: thumb_make on any bytes (serve decodes whatever an images
 * row holds, another program's included): stays in bounds, within a time
 * budget per input, and what it makes is a PNG of the size it says,
 * fitting the box it was asked for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "image.h"
#include "thumb.h"

/* A slow input is a finding: the decoder's own deadline is set far past
 * this, so that it does not hide one (libFuzzer's -timeout is the net).
 * CPU time, not wall time: a loaded machine is no finding. */
#define FUZZ_THUMB_BUDGET_MS 1500

static double
cpu_ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct thumb t;
	struct img_info info;
	char err[160];
	/* the box from the last byte (the first is the format's signature):
	 * 1..64, smaller than the seeds, so that they are scaled down */
	uint32_t side = 1 + (size > 0 ? data[size - 1] % 64 : 0);
	static const struct thumb_limits lim = { THUMB_MAX_SCANS,
	    THUMB_MAX_MEMORY, 60000 };
	double t0 = cpu_ms_now(), ms;
	int rc;

	memset(&t, 0, sizeof(t));
	memset(err, 'Z', sizeof(err));
	rc = thumb_make_limited(data, size, side, &lim, &t, err, sizeof(err));
	ms = cpu_ms_now() - t0;
	if (ms > FUZZ_THUMB_BUDGET_MS)
		fprintf(stderr, "thumb_make took %.0f ms of CPU (budget %d)\n", ms,
		    FUZZ_THUMB_BUDGET_MS);
	FZ_ASSERT(ms <= FUZZ_THUMB_BUDGET_MS);
	FZ_ASSERT(rc == 0 || rc == -1);
	if (rc == -1) {
		FZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL && err[0]);
		return 0;
	}
	FZ_ASSERT(t.png != NULL && t.len > 0);
	FZ_ASSERT(t.width >= 1 && t.height >= 1);
	FZ_ASSERT(t.width <= side && t.height <= side);
	FZ_ASSERT(t.width <= t.src_width && t.height <= t.src_height);
	FZ_ASSERT((uint64_t)t.src_width * t.src_height <= THUMB_MAX_PIXELS);
	FZ_ASSERT(img_probe(t.png, t.len, &info, err, sizeof(err)) == 0);
	FZ_ASSERT(info.format == IMG_PNG);
	FZ_ASSERT(info.width == t.width && info.height == t.height);
	free(t.png);
	return 0;
}
