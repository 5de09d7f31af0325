/* test_urlpolicy.c: schemes by the base URL's, and which addresses count
 * as internal (IPv4, IPv6, IPv4-mapped). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "testutil.h"
#include "urlpolicy.h"

static int
internal(const char *text)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	char back[64];

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, text, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		CHECK_INT(urlpolicy_addr_text((struct sockaddr *)&sin, back,
		    sizeof(back)), 0);
		CHECK_STR(back, text);
		return urlpolicy_internal((struct sockaddr *)&sin);
	}
	CHECK_INT(inet_pton(AF_INET6, text, &sin6.sin6_addr), 1);
	sin6.sin6_family = AF_INET6;
	return urlpolicy_internal((struct sockaddr *)&sin6);
}

int
main(void)
{
	static const char *const inside[] = { "127.0.0.1", "127.0.0.2",
	    "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
	    "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
	    "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd12::3",
	    "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
	    /* NAT64 to an internal IPv4; local-use NAT64; 6to4 of an
	     * internal IPv4; site-local; IPv4-compatible */
	    "64:ff9b::127.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::10.0.0.1",
	    "64:ff9b:1::8.8.8.8", "64:ff9b:1:ffff::1", "2002:7f00:1::1",
	    "2002:a9fe:a9fe::", "2002:c0a8:101::5", "fec0::1",
	    "feff:ffff::1", "::8.8.8.8", "::1.2.3.4", "::ffff:0:0", NULL };
	static const char *const outside[] = { "8.8.8.8", "172.32.0.1",
	    "172.15.255.255", "192.169.0.1", "100.128.0.1", "20.60.1.2",
	    "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8",
	    "64:ff9b:2::1", "2002:808:808::1", "2001:4860::8888",
	    "fe00::1", "::1:0:0:0", NULL };
	char err[200];
	int i;

	for (i = 0; inside[i] != NULL; i++) {
		CHECK(internal(inside[i]));
		if (!internal(inside[i]))
			fprintf(stderr, "  %s\n", inside[i]);
	}
	for (i = 0; outside[i] != NULL; i++) {
		CHECK(!internal(outside[i]));
		if (internal(outside[i]))
			fprintf(stderr, "  %s\n", outside[i]);
	}
	CHECK_INT(urlpolicy_scheme("https://api.openai.com/v1",
	    "https://x.blob.core.windows.net/a.png", err, sizeof(err)), 0);
	CHECK_INT(urlpolicy_scheme("https://api.openai.com/v1",
	    "http://x.blob.core.windows.net/a.png", err, sizeof(err)), -1);
	CHECK(strstr(err, "plain http") != NULL);
	CHECK_INT(urlpolicy_scheme("https://api.openai.com/v1", "file:///etc/passwd",
	    err, sizeof(err)), -1);
	CHECK(strstr(err, "not an http(s) URL") != NULL);
	CHECK_INT(urlpolicy_scheme("https://api.openai.com/v1", "httpsx://a",
	    err, sizeof(err)), -1);
	CHECK_INT(urlpolicy_scheme("http://127.0.0.1:8080/v1",
	    "http://127.0.0.1:8080/files/a.png", err, sizeof(err)), 0);
	CHECK_STR(urlpolicy_protocols("https://api.openai.com/v1"), "https");
	CHECK_STR(urlpolicy_protocols("HTTP://127.0.0.1/v1"), "http,https");
	return tu_finish("test_urlpolicy");
}
