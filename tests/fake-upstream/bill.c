/* bill.c: --bill-table: the usage the fake reports, from gpt-image-2's
 * published token table by quality and size, as OpenAI's calculator has it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fake_upstream.h"

/* Written apart from the daemon's estimate.c, from the same sources:
 * output tokens by OpenAI's calculator (quality factor low 16, medium 48,
 * high 96), partial images 100 tokens each, input images in 32 px patches
 * magnified toward a 1024 px long side, within a budget of 1,536. What the
 * API leaves open the fake decides: quality "auto" is medium, xhigh and
 * max are half again high; size "auto" is 1024x1024; text is a token per
 * four bytes of the prompt plus 8; a mask is not billed; the inputs are
 * billed once whatever n. */

static long
quality_factor(const char *quality)
{
	if (strcmp(quality, "low") == 0)
		return 16;
	if (strcmp(quality, "medium") == 0 || strcmp(quality, "auto") == 0)
		return 48;
	return 96;	/* high, and xhigh and max before their half again */
}

long
bill_output_tokens(const char *quality, const char *size)
{
	long w = 1024, h = 1024, q = quality_factor(quality), lng, shrt, s;
	long long t;
	char *end;

	if (strcmp(size, "auto") != 0) {
		w = strtol(size, &end, 10);
		h = *end == 'x' ? strtol(end + 1, NULL, 10) : 0;
		if (w <= 0 || h <= 0)
			w = h = 1024;
	}
	lng = w > h ? w : h;
	shrt = w > h ? h : w;
	s = (2 * q * shrt + lng) / (2 * lng);
	t = ((long long)q * s * (2000000LL + (long long)w * h) + 3999999) /
	    4000000;
	if (strcmp(quality, "xhigh") == 0 || strcmp(quality, "max") == 0)
		t += t / 2;
	return (long)t;
}

/* A PNG's width and height from its IHDR; 0 when it is not a PNG. */
static int
png_size(const unsigned char *d, size_t len, double *w, double *h)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
		0x1a, '\n' };

	if (len < 24 || memcmp(d, sig, 8) != 0 || memcmp(d + 12, "IHDR", 4) != 0)
		return 0;
	*w = (double)((unsigned long)d[16] << 24 | (unsigned long)d[17] << 16 |
	    (unsigned long)d[18] << 8 | d[19]);
	*h = (double)((unsigned long)d[20] << 24 | (unsigned long)d[21] << 16 |
	    (unsigned long)d[22] << 8 | d[23]);
	return *w > 0 && *h > 0;
}

long
bill_image_tokens(const unsigned char *data, size_t len)
{
	double w, h, lng, f;
	long patches;

	if (!png_size(data, len, &w, &h))
		return 1536;	/* not read here: the whole budget */
	lng = w > h ? w : h;
	if (lng < 1024) {
		f = 1024 / lng > 2 ? 2 : 1024 / lng;
		w = floor(w * f);
		h = floor(h * f);
	}
	patches = (long)(ceil(w / 32) * ceil(h / 32));
	return patches > 1536 ? 1536 : patches;
}

long
bill_text_tokens(const char *prompt)
{
	return (long)(strlen(prompt) + 3) / 4 + 8;
}
