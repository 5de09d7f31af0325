/* fuzz_thumb.c: thumb_make on any bytes (serve decodes whatever an images
 * row holds, another program's included): stays in bounds, and what it
 * makes is a PNG of the size it says, fitting the box it was asked for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "image.h"
#include "thumb.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct thumb t;
	struct img_info info;
	char err[160];
	/* the box from the last byte (the first is the format's signature):
	 * 1..64, smaller than the seeds, so that they are scaled down */
	uint32_t side = 1 + (size > 0 ? data[size - 1] % 64 : 0);
	int rc;

	memset(&t, 0, sizeof(t));
	memset(err, 'Z', sizeof(err));
	rc = thumb_make(data, size, side, &t, err, sizeof(err));
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
