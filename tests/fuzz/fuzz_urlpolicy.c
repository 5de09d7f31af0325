/* fuzz_urlpolicy.c: urlpolicy_internal on any address bytes, IPv4 and IPv6,
 * against a reference written another way (address ranges as first..last
 * integers, embedded IPv4 taken by shifts), so that a slip in either table
 * or its masks shows as a disagreement. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "urlpolicy.h"

/* IPv4 ranges no image host has, first..last. */
static int
ref_internal4(uint32_t a)
{
	static const struct { uint32_t first, last; } r[] = {
		{ 0x00000000u, 0x00ffffffu },	/* 0.0.0.0 - 0.255.255.255 */
		{ 0x0a000000u, 0x0affffffu },	/* 10/8 */
		{ 0x64400000u, 0x647fffffu },	/* 100.64 - 100.127 */
		{ 0x7f000000u, 0x7fffffffu },	/* 127/8 */
		{ 0xa9fe0000u, 0xa9feffffu },	/* 169.254/16 */
		{ 0xac100000u, 0xac1fffffu },	/* 172.16 - 172.31 */
		{ 0xc0000000u, 0xc00000ffu },	/* 192.0.0/24 */
		{ 0xc0a80000u, 0xc0a8ffffu },	/* 192.168/16 */
		{ 0xc6120000u, 0xc613ffffu },	/* 198.18 - 198.19 */
		{ 0xe0000000u, 0xffffffffu },	/* 224/4 and 240/4 */
	};
	size_t i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (a >= r[i].first && a <= r[i].last)
			return 1;
	return 0;
}

/* The address as two 64-bit halves. */
static void
halves(const unsigned char *b, uint64_t *hi, uint64_t *lo)
{
	int i;

	*hi = *lo = 0;
	for (i = 0; i < 8; i++) {
		*hi = *hi << 8 | b[i];
		*lo = *lo << 8 | b[8 + i];
	}
}

static int
ref_internal6(const unsigned char *b)
{
	uint64_t hi, lo;

	halves(b, &hi, &lo);
	if (hi == 0 && lo >> 32 == 0xffffu)		/* ::ffff:0:0/96 */
		return ref_internal4((uint32_t)lo);
	if (hi == 0x0064ff9b00000000u && lo >> 32 == 0)	/* 64:ff9b::/96 */
		return ref_internal4((uint32_t)lo);
	if (hi >> 48 == 0x2002)				/* 2002::/16 */
		return ref_internal4((uint32_t)(hi >> 16));
	if (hi == 0 && lo >> 32 == 0)			/* ::/96 */
		return 1;
	if (hi >> 16 == 0x0064ff9b0001u)		/* 64:ff9b:1::/48 */
		return 1;
	if (hi >> 57 == 0x7e)				/* fc00::/7 */
		return 1;
	if (hi >> 54 == 0x3fa || hi >> 54 == 0x3fb)	/* fe80::/10, fec0::/10 */
		return 1;
	return hi >> 56 == 0xff;			/* ff00::/8 */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct fz f = { data, size };
	unsigned char b[16];
	char text[64];
	unsigned family = fz_byte(&f), i;
	int got, want;

	for (i = 0; i < 16; i++)
		b[i] = (unsigned char)fz_byte(&f);
	if (family & 1) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, b, 4);
		got = urlpolicy_internal((struct sockaddr *)&sin);
		want = ref_internal4((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		    (uint32_t)b[2] << 8 | b[3]);
		FZ_ASSERT(urlpolicy_addr_text((struct sockaddr *)&sin, text,
		    sizeof(text)) == 0);
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, b, 16);
		got = urlpolicy_internal((struct sockaddr *)&sin6);
		want = ref_internal6(b);
		FZ_ASSERT(urlpolicy_addr_text((struct sockaddr *)&sin6, text,
		    sizeof(text)) == 0);
	}
	if (got != want)
		fprintf(stderr, "%s: urlpolicy says %d, the reference %d\n",
		    text, got, want);
	FZ_ASSERT(got == want);
	return 0;
}
