/* multipart.c: multipart/form-data (RFC 7578) over a contiguous body: the
 * boundary from Content-Type, each part's name, filename, type and bytes. */
#define _GNU_SOURCE
#include "fake_upstream.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#define MP_NAME_MAX	256
#define MP_FILE_MAX	1024
#define MP_TYPE_MAX	256

struct mp_hdrs {
	char	 name[MP_NAME_MAX];
	char	 filename[MP_FILE_MAX];
	char	 ctype[MP_TYPE_MAX];
	int	 has_name, has_filename, has_ctype;
};

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* A token or a quoted-string (with backslash escapes) into out; NULL if bad. */
static const char *
param_value(const char *p, char *out, size_t outlen)
{
	size_t	 n = 0;

	if (*p != '"') {
		while (*p != '\0' && *p != ';' && *p != ' ' && *p != '\t') {
			if (n + 1 >= outlen)
				return NULL;
			out[n++] = *p++;
		}
		out[n] = '\0';
		return p;
	}
	for (p++; *p != '"'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		if (*p == '\0' || n + 1 >= outlen)
			return NULL;
		out[n++] = *p;
	}
	out[n] = '\0';
	return p + 1;
}

/*
 * Walks "; key=value" parameters; the value of the one named key goes to out.
 * Returns 1 found, 0 absent, -1 malformed.
 */
static int
find_param(const char *p, const char *key, char *out, size_t outlen)
{
	char		 k[64], v[MP_FILE_MAX];
	size_t		 n;
	int		 found = 0;

	while ((p = strchr(p, ';')) != NULL) {
		p = skip_ws(p + 1);
		for (n = 0; *p != '=' && *p != ';' && *p != '\0'; p++)
			if (n + 1 < sizeof(k) && !isspace((unsigned char)*p))
				k[n++] = *p;
		k[n] = '\0';
		if (*p != '=')
			continue;
		if ((p = param_value(skip_ws(p + 1), v, sizeof(v))) == NULL)
			return -1;
		if (strcasecmp(k, key) == 0 && !found) {
			if (strlen(v) >= outlen)
				return -1;
			strcpy(out, v);
			found = 1;
		}
	}
	return found;
}

int
mp_boundary(const char *ctype, char *out, size_t outlen)
{
	if (ctype == NULL)
		return -1;
	ctype = skip_ws(ctype);
	if (strncasecmp(ctype, "multipart/form-data", 19) != 0)
		return -1;
	if (find_param(ctype, "boundary", out, outlen) != 1 || out[0] == '\0')
		return -1;
	return 0;
}

static int
parse_header(const char *line, struct mp_hdrs *h, char *err, size_t errlen)
{
	const char	*v;
	int		 r;

	if ((v = strchr(line, ':')) == NULL) {
		seterr(err, errlen, "part header without a colon: '%.60s'", line);
		return -1;
	}
	v = skip_ws(v + 1);
	if (strncasecmp(line, "Content-Disposition:", 20) == 0) {
		if (strncasecmp(v, "form-data", 9) != 0) {
			seterr(err, errlen, "part disposition is not form-data");
			return -1;
		}
		r = find_param(v, "name", h->name, sizeof(h->name));
		if (r == 1)
			r = find_param(v, "filename", h->filename,
			    sizeof(h->filename));
		if (r == -1) {
			seterr(err, errlen, "bad Content-Disposition: '%.80s'", v);
			return -1;
		}
		h->has_name = h->name[0] != '\0';
		h->has_filename = r == 1;
	} else if (strncasecmp(line, "Content-Type:", 13) == 0) {
		if (strlen(v) >= sizeof(h->ctype)) {
			seterr(err, errlen, "part Content-Type too long");
			return -1;
		}
		strcpy(h->ctype, v);
		h->has_ctype = 1;
	}
	return 0;
}

/* The header lines of one part, up to the empty line; returns the body start. */
static const unsigned char *
parse_headers(const unsigned char *p, const unsigned char *end,
    struct mp_hdrs *h, char *err, size_t errlen)
{
	const unsigned char	*eol;
	char			 line[2048];
	size_t			 n;

	memset(h, 0, sizeof(*h));
	for (;;) {
		eol = memmem(p, end - p, "\r\n", 2);
		if (eol == NULL) {
			seterr(err, errlen, "part headers not terminated");
			return NULL;
		}
		if (eol == p)
			return p + 2;
		if ((n = eol - p) >= sizeof(line)) {
			seterr(err, errlen, "part header line too long");
			return NULL;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		if (memchr(line, '\0', n) != NULL) {
			seterr(err, errlen, "NUL byte in a part header");
			return NULL;
		}
		if (parse_header(line, h, err, errlen) == -1)
			return NULL;
		p = eol + 2;
	}
}

/*
 * Calls cb for every part in order.  The delimiter is CRLF "--" boundary; the
 * first may open the body, the last is followed by "--".  Returns 0 or -1
 * with err set; cb has then been called for the parts before the bad one.
 */
int
mp_parse(const unsigned char *body, size_t len, const char *boundary,
    mp_cb cb, void *arg, char *err, size_t errlen)
{
	const unsigned char	*p, *end = body + len, *data, *next;
	char			 delim[128];
	size_t			 dlen;
	struct mp_hdrs		 h;
	struct mp_part		 part;

	dlen = snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
	if (dlen >= sizeof(delim)) {
		seterr(err, errlen, "boundary too long");
		return -1;
	}
	if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0)
		p = body + dlen - 2;
	else if ((p = memmem(body, len, delim, dlen)) != NULL)
		p += dlen;
	else {
		seterr(err, errlen, "no multipart boundary in the body");
		return -1;
	}
	for (;;) {
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return 0;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
			seterr(err, errlen, "multipart body truncated or "
			    "delimiter not followed by CRLF");
			return -1;
		}
		if ((data = parse_headers(p + 2, end, &h, err, errlen)) == NULL)
			return -1;
		if (!h.has_name) {
			seterr(err, errlen, "part without a Content-Disposition "
			    "name");
			return -1;
		}
		if ((next = memmem(data, end - data, delim, dlen)) == NULL) {
			seterr(err, errlen, "part '%s' not terminated by the "
			    "boundary", h.name);
			return -1;
		}
		part.name = h.name;
		part.filename = h.has_filename ? h.filename : NULL;
		part.ctype = h.has_ctype ? h.ctype : NULL;
		part.data = data;
		part.len = next - data;
		cb(&part, arg);
		p = next + dlen;
	}
}
