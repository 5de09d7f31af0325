/* test_webauth.c: serve --token: token syntax, the Bearer header and the
 * cookie found among others, and links stripped of their token. */
#include <string.h>

#include "testutil.h"
#include "webauth.h"

int
main(void)
{
	const char *t = "0123456789abcdef-XYZ";
	char out[64];

	CHECK(webauth_token_valid(t));
	CHECK(!webauth_token_valid("short"));
	CHECK(!webauth_token_valid("0123456789abcdef with space"));
	CHECK(!webauth_token_valid("0123456789abcdef;x"));
	CHECK(!webauth_token_valid("0123456789abcdef\x1b"));
	CHECK(webauth_request_ok(t, "Bearer 0123456789abcdef-XYZ", NULL));
	CHECK(webauth_request_ok(t, "bearer  0123456789abcdef-XYZ", NULL));
	CHECK(!webauth_request_ok(t, "Bearer 0123456789abcdef-XY", NULL));
	CHECK(!webauth_request_ok(t, "Bearer 0123456789abcdef-XYZZ", NULL));
	CHECK(!webauth_request_ok(t, "Basic 0123456789abcdef-XYZ", NULL));
	CHECK(!webauth_request_ok(t, NULL, NULL));
	CHECK(webauth_request_ok(t, NULL, "a=b; imgedit_token=0123456789abcdef-XYZ"));
	CHECK(webauth_request_ok(t, "Bearer wrong", "imgedit_token=0123456789abcdef-XYZ; c=d"));
	CHECK(!webauth_request_ok(t, NULL, "ximgedit_token=0123456789abcdef-XYZ"));
	CHECK(!webauth_request_ok(t, NULL, "imgedit_token=0123456789abcdef"));
	CHECK(!webauth_request_ok(t, NULL, "imgedit_token="));
	CHECK(webauth_equal(t, "0123456789abcdef-XYZ"));
	CHECK(!webauth_equal(t, "0123456789abcdef-XY"));
	CHECK(!webauth_equal(t, NULL));
	CHECK_INT(webauth_strip_query("token=abc", out, sizeof(out)), 0);
	CHECK_STR(out, "");
	CHECK_INT(webauth_strip_query("state=failed&token=abc&q=cat", out,
	    sizeof(out)), 0);
	CHECK_STR(out, "state=failed&q=cat");
	CHECK_INT(webauth_strip_query("tokens=1&token&x=2", out, sizeof(out)),
	    0);
	CHECK_STR(out, "tokens=1&x=2");
	CHECK_INT(webauth_strip_query("aaaaaaaaaa=bbbbbbbbbb", out, 8), -1);
	return tu_finish("test_webauth");
}
