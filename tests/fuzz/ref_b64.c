/* ref_b64.c: the reference base64 decoder: one character at a time, no
 * tables, no state kept between calls, so nothing shared with b64.c. */
#include "ref_b64.h"

#include <stdint.h>
#include <string.h>

static int
sextet(unsigned char c)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c != '\0' ? strchr(abc, c) : NULL;

	return p != NULL ? (int)(p - abc) : -1;
}

long
ref_b64_decode(const unsigned char *s, size_t len, int json,
    unsigned char *out, size_t *bad)
{
	uint32_t acc = 0;
	size_t i, o = 0;
	int q = 0, pads = 0, need = 0, v;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (json && c == '\\') {
			if (++i == len)
				goto fail;	/* the escape is cut off */
			if ((c = s[i]) == 'n' || c == 'r' || c == 't')
				continue;
			if (c != '/')
				goto fail;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=' && (need == 0 ? q >= 2 : pads < need)) {
			need = 4 - q;	/* '=' after 2 sextets: two of them */
			pads++;
			continue;
		}
		if (need != 0 || (v = sextet(c)) < 0)
			goto fail;
		acc = acc << 6 | (uint32_t)v;
		if (++q == 4) {
			out[o++] = acc >> 16;
			out[o++] = acc >> 8;
			out[o++] = acc;
			acc = 0;
			q = 0;
		}
	}
	if (q == 1 || pads < need)
		goto fail;
	if (q == 2)
		out[o++] = acc >> 4;
	if (q == 3) {
		out[o++] = acc >> 10;
		out[o++] = acc >> 2;
	}
	return (long)o;
fail:
	*bad = i < len ? i : len;
	return -1;
}
