/* webauth.c: the token compared in constant time, found in a Bearer header
 * or among cookies, and taken out of a link's query. */
#include "webauth.h"

#include <string.h>
#include <strings.h>

int
webauth_token_valid(const char *tok)
{
	size_t n = strlen(tok), i;

	if (n < WEBAUTH_TOKEN_MIN || n > WEBAUTH_TOKEN_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (tok[i] <= ' ' || tok[i] >= 0x7f ||
		    strchr("\"',;\\&=%+", tok[i]) != NULL)
			return 0;
	return 1;
}

/* want against given[0..n), in time that depends on their lengths only. */
static int
equal_n(const char *want, const char *given, size_t n)
{
	size_t i, wn = strlen(want);
	unsigned char diff = 0;

	if (n != wn)
		return 0;
	for (i = 0; i < n; i++)
		diff |= (unsigned char)(want[i] ^ given[i]);
	return diff == 0;
}

int
webauth_equal(const char *want, const char *given)
{
	return given != NULL && equal_n(want, given, strlen(given));
}

/* The cookie named WEBAUTH_COOKIE in a Cookie header, compared. */
static int
cookie_ok(const char *want, const char *cookie)
{
	const char *p = cookie, *end;
	size_t name = strlen(WEBAUTH_COOKIE);

	while (*p != '\0') {
		p += strspn(p, " \t;");
		end = p + strcspn(p, ";");
		if ((size_t)(end - p) > name && strncmp(p, WEBAUTH_COOKIE,
		    name) == 0 && p[name] == '=')
			return equal_n(want, p + name + 1,
			    (size_t)(end - p) - name - 1);
		p = end;
	}
	return 0;
}

int
webauth_request_ok(const char *want, const char *authorization,
    const char *cookie)
{
	const char *t;

	if (authorization != NULL && strncasecmp(authorization, "Bearer ",
	    7) == 0) {
		t = authorization + 7 + strspn(authorization + 7, " ");
		if (equal_n(want, t, strcspn(t, " \t")))
			return 1;
	}
	return cookie != NULL && cookie_ok(want, cookie);
}

int
webauth_strip_query(const char *query, char *out, size_t n)
{
	const char *p = query, *end;
	size_t at = 0, len;

	if (n == 0)
		return -1;
	out[0] = '\0';
	for (; *p != '\0'; p = *end == '&' ? end + 1 : end) {
		end = p + strcspn(p, "&");
		len = (size_t)(end - p);
		if (len == 0 || (len >= 5 && strncmp(p, "token", 5) == 0 &&
		    (len == 5 || p[5] == '=')))
			continue;
		if (at + len + (at > 0) >= n)
			return -1;
		if (at > 0)
			out[at++] = '&';
		memcpy(out + at, p, len);
		at += len;
		out[at] = '\0';
	}
	return 0;
}
