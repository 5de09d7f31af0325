/* termsafe.c: the one filter between stored or upstream text and a human's
 * terminal (escape sequences, C1 controls, bidi tricks shown as escapes). */
#include "termsafe.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The code point of the UTF-8 sequence at s, its length in *len; -1 (and
 * *len 1) for a byte that does not start a valid, shortest sequence. */
static long
utf8_at(const unsigned char *s, size_t *len)
{
	long cp;
	size_t n, i;

	*len = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return -1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 ||
	    cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = n;
	return cp;
}

static int
is_bidi_or_separator(long cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0x2028 || cp == 0x2029;
}

/* The visible form of the character at s (length *len) into esc, or ""
 * when it prints as itself. */
static void
escape_at(const unsigned char *s, size_t *len, char esc[16])
{
	long cp = utf8_at(s, len);

	esc[0] = '\0';
	if (cp == '\n')
		snprintf(esc, 16, "\\n");
	else if (cp == '\r')
		snprintf(esc, 16, "\\r");
	else if (cp == '\t')
		snprintf(esc, 16, "\\t");
	else if (cp == -1 || cp < 0x20 || cp == 0x7f)
		snprintf(esc, 16, "\\x%02x", s[0]);
	else if ((cp >= 0x80 && cp <= 0x9f) || is_bidi_or_separator(cp))
		snprintf(esc, 16, "\\u%04x", (unsigned)cp & 0xffffu);
}

int
termsafe_is_safe(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[16];
	size_t len;

	while (*p != '\0') {
		escape_at(p, &len, esc);
		if (esc[0] != '\0')
			return 0;
		p += len;
	}
	return 1;
}

char *
termsafe_copy(const char *s, char *out, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[16];
	size_t len, at = 0, add;

	while (*p != '\0') {
		escape_at(p, &len, esc);
		add = esc[0] != '\0' ? strlen(esc) : len;
		if (at + add >= n)
			break;
		memcpy(out + at, esc[0] != '\0' ? esc : (const char *)p, add);
		at += add;
		p += len;
	}
	out[at] = '\0';
	return out;
}

char *
termsafe_dup(const char *s)
{
	size_t n = strlen(s);
	char *out;

	/* at most 6 bytes (\xNN: 4, \uNNNN: 6) for each byte in */
	if (n > (SIZE_MAX - 1) / 6 || (out = malloc(n * 6 + 1)) == NULL)
		return NULL;
	return termsafe_copy(s, out, n * 6 + 1);
}

static int
safe_object(json_t *obj)
{
	const char *key;
	json_t *val, *fixed;
	void *it;
	char *k;

	/* unsafe keys first: moved to their safe names (a new pass each) */
	for (it = json_object_iter(obj); it != NULL;) {
		key = json_object_iter_key(it);
		if (termsafe_is_safe(key)) {
			it = json_object_iter_next(obj, it);
			continue;
		}
		if ((k = termsafe_dup(key)) == NULL)
			return -1;
		fixed = json_incref(json_object_iter_value(it));
		json_object_del(obj, key);
		if (json_object_set_new(obj, k, fixed) == -1) {
			free(k);
			return -1;
		}
		free(k);
		it = json_object_iter(obj);
	}
	json_object_foreach(obj, key, val)
		if (termsafe_json(val) == -1)
			return -1;
	return 0;
}

int
termsafe_json(json_t *v)
{
	json_t *item;
	size_t i;
	char *s;
	int rc;

	if (json_is_object(v))
		return safe_object(v);
	if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			if (termsafe_json(item) == -1)
				return -1;
		return 0;
	}
	if (!json_is_string(v) || termsafe_is_safe(json_string_value(v)))
		return 0;
	if ((s = termsafe_dup(json_string_value(v))) == NULL)
		return -1;
	rc = json_string_set(v, s);
	free(s);
	return rc;
}
