/* listenaddr.c: "HOST:PORT" parsed and checked for the addresses imgedit
 * listens on; whether a host is loopback. */
#include "listenaddr.h"

#include "util.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>

static int
parse_port(const char *s, int *port)
{
	long v = 0;
	size_t i;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

int
listen_addr_parse(const char *s, char *host, size_t hostlen, int *port,
    char *err, size_t errlen)
{
	const char *colon, *h = s;
	unsigned char addr[sizeof(struct in6_addr)];
	size_t n;
	int v6 = s[0] == '[';

	if (v6) {
		h = s + 1;
		colon = strstr(h, "]:");
		n = colon ? (size_t)(colon - h) : 0;
		colon = colon ? colon + 1 : NULL;
	} else {
		colon = strrchr(s, ':');
		n = colon ? (size_t)(colon - s) : 0;
	}
	if (colon == NULL || n == 0 || n >= hostlen)
		return errorf(err, errlen, "'%.100s' is not HOST:PORT (e.g. "
		    "127.0.0.1:9464 or [::1]:9464)", s);
	memcpy(host, h, n);
	host[n] = '\0';
	if (v6 ? inet_pton(AF_INET6, host, addr) != 1 :
	    strcmp(host, "localhost") != 0 && inet_pton(AF_INET, host, addr) != 1)
		return errorf(err, errlen, "'%.100s': the host must be an IPv4 "
		    "address, an IPv6 one in brackets, or localhost", s);
	if (parse_port(colon + 1, port) == -1)
		return errorf(err, errlen, "'%.100s': the port must be a number "
		    "from 0 (any free port) to 65535", s);
	return 0;
}

int
listen_addr_loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 &&
	    (IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) &&
	    a6.s6_addr[12] == 127));
}

/* The name of a Host header ("name", "name:port", "[v6]:port") into name
 * (n bytes). Returns 0, or -1 if it is malformed or too long. */
static int
host_header_name(const char *host, char *name, size_t size)
{
	const char *end;
	size_t n;

	if (host[0] == '[') {
		if ((end = strchr(host, ']')) == NULL ||
		    (end[1] != '\0' && end[1] != ':'))
			return -1;
		host++;
	} else if ((end = strchr(host, ':')) == NULL)
		end = host + strlen(host);
	if ((n = (size_t)(end - host)) == 0 || n >= size)
		return -1;
	memcpy(name, host, n);
	name[n] = '\0';
	return 0;
}

int
listen_addr_host_header_loopback(const char *host)
{
	char name[64];

	return host_header_name(host, name, sizeof(name)) == 0 &&
	    listen_addr_loopback(name);
}

int
listen_addr_host_allowed(const char *host, const char *allow)
{
	char name[256];
	const char *p = allow, *end;
	size_t n;

	if (host_header_name(host, name, sizeof(name)) == -1)
		return 0;
	for (; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		end = p + strcspn(p, ",");
		n = (size_t)(end - p);
		if (n >= 2 && p[0] == '[' && p[n - 1] == ']')
			p++, n -= 2;
		if (n == strlen(name) && strncasecmp(p, name, n) == 0)
			return 1;
	}
	return 0;
}

int
listen_addr_allow_valid(const char *allow)
{
	const char *p;
	int len = 0;

	if (*allow == '\0')
		return 0;
	for (p = allow; *p != '\0'; p++) {
		if (*p == ',') {
			if (len == 0)
				return 0;
			len = 0;
		} else if (isalnum((unsigned char)*p) || strchr("-.:[]", *p))
			len++;
		else
			return 0;
	}
	return len > 0;
}
