/* fuzz_metrics_label.c: metrics_label_append with any bytes writes a valid
 * Prometheus label value: escapes undo to the input, byte for byte, except
 * control and non-UTF-8 bytes, each one '?'; the result is UTF-8. */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "metrics.h"

/* Length of the UTF-8 sequence at p[0..n) by RFC 3629's table, 0 if none. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	static const struct { unsigned char lo0, hi0, lo1, hi1; size_t len; }
	    rows[] = {
		{ 0x00, 0x7f, 0, 0, 1 }, { 0xc2, 0xdf, 0x80, 0xbf, 2 },
		{ 0xe0, 0xe0, 0xa0, 0xbf, 3 }, { 0xe1, 0xec, 0x80, 0xbf, 3 },
		{ 0xed, 0xed, 0x80, 0x9f, 3 }, { 0xee, 0xef, 0x80, 0xbf, 3 },
		{ 0xf0, 0xf0, 0x90, 0xbf, 4 }, { 0xf1, 0xf3, 0x80, 0xbf, 4 },
		{ 0xf4, 0xf4, 0x80, 0x8f, 4 },
	};
	size_t r, i;

	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		if (p[0] < rows[r].lo0 || p[0] > rows[r].hi0)
			continue;
		if (rows[r].len > n)
			return 0;
		if (rows[r].len > 1 && (p[1] < rows[r].lo1 || p[1] > rows[r].hi1))
			return 0;
		for (i = 2; i < rows[r].len; i++)
			if (p[i] < 0x80 || p[i] > 0xbf)
				return 0;
		return rows[r].len;
	}
	return 0;
}

/* Undoes the escapes of q[0..len) into out; -1 if not well formed. */
static long
unescape(const unsigned char *q, size_t len, unsigned char *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (q[i] == '"' || q[i] == '\n' || q[i] < 0x20 || q[i] == 0x7f)
			return -1;
		if (q[i] != '\\') {
			out[o++] = q[i];
			continue;
		}
		if (++i == len)
			return -1;
		if (q[i] == '\\' || q[i] == '"')
			out[o++] = q[i];
		else if (q[i] == 'n')
			out[o++] = '\n';
		else
			return -1;
	}
	return (long)o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b = { 0 };
	unsigned char *s, *plain;
	size_t slen, i, k;
	long n;
	int clean = 1;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	slen = strlen((char *)s);
	FZ_ASSERT(metrics_label_append(&b, (char *)s) == 0);
	if ((plain = malloc(b.len + 1)) == NULL)
		abort();
	for (i = 0; i < b.len; i += k)
		FZ_ASSERT((k = utf8_seq(b.data + i, b.len - i)) > 0);
	n = b.len > 0 ? unescape(b.data, b.len, plain) : 0;
	FZ_ASSERT(n >= 0 && (size_t)n == slen);
	for (i = 0; i < slen; i++) {
		FZ_ASSERT(plain[i] == s[i] || plain[i] == '?');
		if (plain[i] != s[i])
			clean = 0;
	}
	/* valid UTF-8 without control bytes (but \n) comes back whole */
	for (i = 0; i < slen; i += k) {
		if ((k = utf8_seq(s + i, slen - i)) == 0 ||
		    (s[i] < 0x20 && s[i] != '\n') || s[i] == 0x7f)
			break;
	}
	if (i == slen)
		FZ_ASSERT(clean);
	buf_free(&b);
	free(plain);
	free(s);
	return 0;
}
