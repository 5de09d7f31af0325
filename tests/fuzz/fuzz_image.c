/* fuzz_image.c: img_probe on any bytes (PNG via libpng, JPEG, WebP): stays
 * in bounds, and what it accepts has a format and dimensions in range. */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "image.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img_info info, again;
	char err[160], small[12];
	int rc;

	memset(err, 'Z', sizeof(err));
	rc = img_probe(data, size, &info, err, sizeof(err));
	FZ_ASSERT(rc == 0 || rc == -1);
	if (rc == 0) {
		FZ_ASSERT(info.format != IMG_UNKNOWN);
		FZ_ASSERT(info.width >= 1 && info.width <= 65536);
		FZ_ASSERT(info.height >= 1 && info.height <= 65536);
		FZ_ASSERT(img_mime(info.format) != NULL &&
		    img_name(info.format) != NULL);
		FZ_ASSERT(img_format_from_name(img_mime(info.format)) ==
		    info.format);
		FZ_ASSERT(img_format_from_name(img_ext(info.format)) ==
		    info.format);
	} else {
		FZ_ASSERT(info.format == IMG_UNKNOWN);
		FZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL && err[0]);
	}
	/* the same verdict without an info, and with a tiny err */
	FZ_ASSERT(img_probe(data, size, NULL, small, sizeof(small)) == rc);
	FZ_ASSERT(memchr(small, '\0', sizeof(small)) != NULL);
	FZ_ASSERT(img_probe(data, size, &again, NULL, 0) == rc);
	FZ_ASSERT(memcmp(&info, &again, sizeof(info)) == 0);
	return 0;
}
