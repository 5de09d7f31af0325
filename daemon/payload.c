/* payload.c: a single-pass JSON lexer that finds "b64_json" string members,
 * decodes them with the streaming base64 decoder and blanks them in place. */
#include "payload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

/* Returns the index of the closing quote of the string starting after the
 * opening quote at buf[i], or len if unterminated. */
static size_t
string_end(const char *buf, size_t len, size_t i)
{
	const char *q;

	for (;;) {
		q = memchr(buf + i, '"', len - i);
		if (q == NULL)
			return len;
		i = (size_t)(q - buf);
		/* count the backslashes before the quote */
		size_t bs = 0;
		while (bs < i && buf[i - 1 - bs] == '\\')
			bs++;
		if (bs % 2 == 0)
			return i;
		i++;
	}
}

static size_t
skip_ws(const char *buf, size_t len, size_t i)
{
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' ||
	    buf[i] == '\r'))
		i++;
	return i;
}

static int
decode_value(const char *s, size_t n, struct payload_image *img, char *err,
    size_t errlen)
{
	struct b64_decoder d;
	long got;

	if ((img->data = malloc(b64_decoded_max(n) + 1)) == NULL) {
		snprintf(err, errlen, "out of memory decoding %zu bytes", n);
		return -1;
	}
	b64_init(&d, B64_JSON_ESCAPES);
	got = b64_decode_update(&d, s, n, img->data);
	if (got < 0 || b64_decode_final(&d) != 0) {
		snprintf(err, errlen, "b64_json: invalid base64 at offset %zu",
		    got < 0 ? d.consumed : n);
		free(img->data);
		img->data = NULL;
		return -1;
	}
	img->size = (size_t)got;
	return 0;
}

static int
push_image(struct payload_image **imgs, int n, const char *s, size_t slen,
    char *err, size_t errlen)
{
	struct payload_image *grown;

	if ((grown = reallocarray(*imgs, (size_t)n + 1, sizeof(*grown))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*imgs = grown;
	memset(&grown[n], 0, sizeof(*grown));
	return decode_value(s, slen, &grown[n], err, errlen);
}

int
payload_extract(char *buf, size_t *len, struct payload_image **imgs, char *err,
    size_t errlen)
{
	static const char key[] = "b64_json";
	size_t i = 0, end, vstart, vend, n = *len;
	int count = 0, is_key;

	*imgs = NULL;
	while (i < n) {
		const char *q = memchr(buf + i, '"', n - i);
		if (q == NULL)
			break;
		i = (size_t)(q - buf) + 1;
		if ((end = string_end(buf, n, i)) == n)
			goto unterminated;
		is_key = end - i == sizeof(key) - 1 &&
		    memcmp(buf + i, key, sizeof(key) - 1) == 0;
		i = end + 1;
		if (!is_key)
			continue;
		vstart = skip_ws(buf, n, i);
		if (vstart >= n || buf[vstart] != ':')
			continue; /* a string value "b64_json", not a key */
		vstart = skip_ws(buf, n, vstart + 1);
		if (vstart >= n || buf[vstart] != '"')
			continue;
		vstart++;
		if ((vend = string_end(buf, n, vstart)) == n)
			goto unterminated;
		if (push_image(imgs, count, buf + vstart, vend - vstart, err,
		    errlen) == -1)
			goto fail;
		count++;
		memmove(buf + vstart, buf + vend, n - vend);
		n -= vend - vstart;
		i = vstart + 1;
	}
	buf[n] = '\0';
	*len = n;
	return count;
unterminated:
	snprintf(err, errlen, "unterminated JSON string");
fail:
	payload_free(*imgs, count);
	*imgs = NULL;
	return -1;
}

void
payload_free(struct payload_image *imgs, int n)
{
	int i;

	for (i = 0; i < n && imgs; i++)
		free(imgs[i].data);
	free(imgs);
}
