/* test_listenaddr.c: "HOST:PORT" for --metrics-listen and serve --listen,
 * and which hosts are loopback. */
#include "listenaddr.h"
#include "testutil.h"

static void
test_parse_listen(void)
{
	static const char *const bad[] = { "", "127.0.0.1", ":9464",
	    "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:9x",
	    "1.2.3:80", "1.2.3.4.5:80", "[::1:80", "[::1]80", "::1:80",
	    "example.com:80", "[zz]:80", "127.0.0.1:80 ", NULL };
	char host[64], err[200];
	int port, i;

	CHECK_INT(listen_addr_parse("127.0.0.1:9464", host, sizeof(host),
	    &port, err, sizeof(err)), 0);
	CHECK_STR(host, "127.0.0.1");
	CHECK_INT(port, 9464);
	CHECK_INT(listen_addr_parse("[::1]:0", host, sizeof(host), &port, err,
	    sizeof(err)), 0);
	CHECK_STR(host, "::1");
	CHECK_INT(port, 0);
	CHECK_INT(listen_addr_parse("localhost:80", host, sizeof(host), &port,
	    err, sizeof(err)), 0);
	CHECK_STR(host, "localhost");
	CHECK_INT(listen_addr_parse("0.0.0.0:9464", host, sizeof(host), &port,
	    err, sizeof(err)), 0);
	for (i = 0; bad[i] != NULL; i++) {
		err[0] = '\0';
		CHECK_INT(listen_addr_parse(bad[i], host, sizeof(host), &port,
		    err, sizeof(err)), -1);
		CHECK(err[0] != '\0');
	}
	CHECK(listen_addr_loopback("127.0.0.1"));
	CHECK(listen_addr_loopback("127.3.2.1"));
	CHECK(listen_addr_loopback("::1"));
	CHECK(listen_addr_loopback("localhost"));
	CHECK(!listen_addr_loopback("0.0.0.0"));
	CHECK(!listen_addr_loopback("10.1.2.3"));
	CHECK(!listen_addr_loopback("::"));
}

int
main(void)
{
	test_parse_listen();
	CHECK(listen_addr_loopback("::ffff:127.0.0.1"));
	CHECK(!listen_addr_loopback("::ffff:10.0.0.1"));
	CHECK(!listen_addr_loopback("example.org"));
	CHECK(listen_addr_host_header_loopback("localhost"));
	CHECK(listen_addr_host_header_loopback("localhost:8080"));
	CHECK(listen_addr_host_header_loopback("127.0.0.1:8080"));
	CHECK(listen_addr_host_header_loopback("[::1]:8080"));
	CHECK(listen_addr_host_header_loopback("[::1]"));
	CHECK(!listen_addr_host_header_loopback("evil.example"));
	CHECK(!listen_addr_host_header_loopback("evil.example:8080"));
	CHECK(!listen_addr_host_header_loopback("localhost.evil.example"));
	CHECK(!listen_addr_host_header_loopback("[::1]x"));
	/* --allow-host, metrics-allow-host */
	CHECK(listen_addr_host_allowed("example.test", "example.test"));
	CHECK(listen_addr_host_allowed("Example.TEST:8080", "a.b,example.test"));
	CHECK(listen_addr_host_allowed("[::1]:9464", "x,[::1]"));
	CHECK(listen_addr_host_allowed("[::1]", "::1"));
	CHECK(listen_addr_host_allowed("127.0.0.1:80", "127.0.0.1"));
	CHECK(!listen_addr_host_allowed("example.test.evil", "example.test"));
	CHECK(!listen_addr_host_allowed("xexample.test", "example.test"));
	CHECK(!listen_addr_host_allowed("example", "example.test"));
	CHECK(!listen_addr_host_allowed("", "example.test"));
	CHECK(!listen_addr_host_allowed(":80", "example.test"));
	CHECK(!listen_addr_host_allowed("a", ""));
	CHECK(listen_addr_allow_valid("example.test,127.0.0.1,[::1]"));
	CHECK(!listen_addr_allow_valid(""));
	CHECK(!listen_addr_allow_valid("a,,b"));
	CHECK(!listen_addr_allow_valid("a,"));
	CHECK(!listen_addr_allow_valid("a b"));
	CHECK(!listen_addr_allow_valid("a/b"));
	CHECK(!listen_addr_host_header_loopback("[::1"));
	CHECK(!listen_addr_host_header_loopback(""));
	CHECK(!listen_addr_host_header_loopback(":80"));
	return tu_finish("test_listenaddr");
}
