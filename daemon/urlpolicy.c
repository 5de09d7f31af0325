/* urlpolicy.c: the checks on url results (SSRF): schemes by the base URL's,
 * and address classes that point inside the machine or its networks. */
#include "urlpolicy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "util.h"

static int
has_scheme(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);

	return strncasecmp(url, scheme, n) == 0 && strncmp(url + n, "://", 3) == 0;
}

int
urlpolicy_scheme(const char *base_url, const char *url, char *err,
    size_t errlen)
{
	if (has_scheme(url, "https"))
		return 0;
	if (has_scheme(url, "http") && has_scheme(base_url, "http"))
		return 0;
	return errorf(err, errlen, "url result refused: %s (only https, or "
	    "http when the base URL is http itself)", has_scheme(url, "http") ?
	    "plain http" : "not an http(s) URL");
}

const char *
urlpolicy_protocols(const char *base_url)
{
	return has_scheme(base_url, "http") ? "http,https" : "https";
}

static int
internal4(uint32_t a)
{
	static const struct { uint32_t net, mask; } nets[] = {
		{ 0x00000000, 0xff000000 },	/* 0/8 "this network" */
		{ 0x0a000000, 0xff000000 },	/* 10/8 */
		{ 0x64400000, 0xffc00000 },	/* 100.64/10 shared */
		{ 0x7f000000, 0xff000000 },	/* 127/8 loopback */
		{ 0xa9fe0000, 0xffff0000 },	/* 169.254/16 link-local */
		{ 0xac100000, 0xfff00000 },	/* 172.16/12 */
		{ 0xc0000000, 0xffffff00 },	/* 192.0.0/24 protocol */
		{ 0xc0a80000, 0xffff0000 },	/* 192.168/16 */
		{ 0xc6120000, 0xfffe0000 },	/* 198.18/15 benchmarking */
		{ 0xe0000000, 0xf0000000 },	/* 224/4 multicast */
		{ 0xf0000000, 0xf0000000 },	/* 240/4 reserved, broadcast */
	};
	size_t i;

	for (i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
		if ((a & nets[i].mask) == nets[i].net)
			return 1;
	return 0;
}

static uint32_t
ipv4_at(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

/* IPv6 ranges that are internal whole, as prefix bytes and length. */
static int
internal6_prefix(const unsigned char *b)
{
	static const struct {
		unsigned char net[16];
		unsigned bits;
	} nets[] = {
		{ { 0 }, 96 },					/* ::/96 IPv4-compatible, ::, ::1 */
		{ { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 }, 48 },	/* 64:ff9b:1::/48 local NAT64 */
		{ { 0xfc }, 7 },				/* fc00::/7 unique local */
		{ { 0xfe, 0x80 }, 10 },				/* fe80::/10 link-local */
		{ { 0xfe, 0xc0 }, 10 },				/* fec0::/10 site-local */
		{ { 0xff }, 8 },				/* ff00::/8 multicast */
	};
	unsigned char mask;
	size_t i, k, full;

	for (i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
		full = nets[i].bits / 8;
		mask = (unsigned char)(0xff00 >> (nets[i].bits % 8));
		for (k = 0; k < full && b[k] == nets[i].net[k]; k++)
			;
		if (k == full && (mask == 0 ||
		    (b[full] & mask) == nets[i].net[full]))
			return 1;
	}
	return 0;
}

static int
internal6(const unsigned char *b)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	static const unsigned char nat64[12] = { 0x00, 0x64, 0xff, 0x9b };

	/* an IPv4 address inside: IPv4-mapped, NAT64 (64:ff9b::/96), 6to4
	 * (2002::/16, the IPv4 in bytes 2..5) */
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return internal4(ipv4_at(b + 12));
	if (b[0] == 0x20 && b[1] == 0x02)
		return internal4(ipv4_at(b + 2));
	return internal6_prefix(b);
}

int
urlpolicy_internal(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return internal4(ntohl(((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr.s_addr));
	if (sa->sa_family == AF_INET6)
		return internal6(((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr.s6_addr);
	return 1; /* unix sockets and the rest: never an image host */
}

int
urlpolicy_addr_text(const struct sockaddr *sa, char *buf, size_t n)
{
	const void *a;

	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		return -1;
	return inet_ntop(sa->sa_family, a, buf, (socklen_t)n) != NULL ? 0 : -1;
}

long
urlpolicy_addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)sa)->
		    sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_port);
	return -1;
}
