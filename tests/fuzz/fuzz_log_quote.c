/* fuzz_log_quote.c: log_quote with any string and any buffer size 0..600
 * stays inside its buffer, ends it, and quotes reversibly (or cuts with ...). */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"

#define CANARY	0xa5
#define GUARD	16

/* Bytes the quoted form of s takes between the quotes. */
static size_t
quoted_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		n += c == '"' || c == '\\' ? 2 : c < 0x20 || c == 0x7f ? 4 : 1;
	}
	return n;
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
	    c - 'a' + 10 : -1;
}

/* Undoes the quoting of q[0..len) into out; -1 if it is not well formed. */
static long
unquote(const char *q, size_t len, char *out)
{
	size_t i, o = 0;
	int hi, lo;

	if (len < 2 || q[0] != '"' || q[len - 1] != '"')
		return -1;
	for (i = 1; i < len - 1; i++) {
		if ((unsigned char)q[i] < 0x20 || q[i] == 0x7f || q[i] == '"')
			return -1;
		if (q[i] != '\\') {
			out[o++] = q[i];
			continue;
		}
		if (++i >= len - 1)
			return -1;
		if (q[i] == '"' || q[i] == '\\')
			out[o++] = q[i];
		else if (q[i] == 'x' && i + 2 < len - 1 &&
		    (hi = hexval(q[i + 1])) >= 0 && (lo = hexval(q[i + 2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			return -1;
	}
	return (long)o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	size_t n = fz_u16(&f) % 601, i, len, slen;
	unsigned char *buf;
	char *s, *plain;
	long k;

	if ((s = malloc(f.n + 1)) == NULL || (buf = malloc(n + 2 * GUARD)) == NULL)
		abort();
	memcpy(s, f.p, f.n);
	s[f.n] = '\0';
	slen = strlen(s);
	memset(buf, CANARY, n + 2 * GUARD);
	FZ_ASSERT(log_quote(s, (char *)buf + GUARD, n) == (char *)buf + GUARD);
	for (i = 0; i < GUARD; i++)
		FZ_ASSERT(buf[i] == CANARY && buf[GUARD + n + i] == CANARY);
	if (n >= 8) {
		len = strnlen((char *)buf + GUARD, n);
		FZ_ASSERT(len < n);
		if ((plain = malloc(len + 1)) == NULL)
			abort();
		k = unquote((char *)buf + GUARD, len, plain);
		FZ_ASSERT(k >= 0);
		if ((size_t)k != slen || memcmp(plain, s, slen) != 0) {
			/* cut: a proper prefix, then "...", and only if needed */
			FZ_ASSERT(k >= 3 && memcmp(plain + k - 3, "...", 3) == 0);
			FZ_ASSERT((size_t)k - 3 < slen &&
			    memcmp(plain, s, (size_t)k - 3) == 0);
			FZ_ASSERT(quoted_len(s) + 10 > n);
		}
		free(plain);
	} else if (n > 0)
		FZ_ASSERT(buf[GUARD] == '\0');
	free(buf);
	free(s);
	return 0;
}
