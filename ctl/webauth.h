/* webauth.h: serve --token's checks: the token in an Authorization header
 * or a cookie, and links that carry it once. Pure logic. */
#ifndef IMGEDIT_WEBAUTH_H
#define IMGEDIT_WEBAUTH_H

#include <stddef.h>

#define WEBAUTH_COOKIE "imgedit_token"
#define WEBAUTH_TOKEN_MIN 16
#define WEBAUTH_TOKEN_MAX 200

/* Whether tok can be a token: WEBAUTH_TOKEN_MIN..MAX bytes of visible
 * ASCII that a cookie and a query carry as they are (no space, quote,
 * comma, semicolon, backslash, '&', '=', '%' or '+'). */
int webauth_token_valid(const char *tok);

/* Whether the request carries want: "Authorization: Bearer TOKEN", or a
 * cookie WEBAUTH_COOKIE=TOKEN in the Cookie header. Either may be NULL.
 * Compared in constant time. */
int webauth_request_ok(const char *want, const char *authorization,
    const char *cookie);

/* Whether a query-string value equals want, in constant time. */
int webauth_equal(const char *want, const char *given);

/* query without its token=... parameters into out (n bytes): what a link
 * that carried the token redirects to. Returns 0, or -1 if out is short. */
int webauth_strip_query(const char *query, char *out, size_t n);

#endif
