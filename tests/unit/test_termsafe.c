/* test_termsafe.c: text for a terminal: controls, C1, bidi overrides and
 * bytes that are not UTF-8 shown as escapes; the rest, UTF-8 included,
 * as itself; JSON documents filtered in place, keys too. */
#include <stdlib.h>
#include <string.h>

#include "termsafe.h"
#include "testutil.h"

static void
test_strings(void)
{
	char *s, buf[16];

	CHECK(termsafe_is_safe("plain caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80"));
	CHECK(!termsafe_is_safe("a\x1b[2J"));
	CHECK(!termsafe_is_safe("csi \xc2\x9b"));
	CHECK(!termsafe_is_safe("rlo \xe2\x80\xae"));
	CHECK(!termsafe_is_safe("raw \x9b"));
	CHECK(!termsafe_is_safe("tab\t"));
	s = termsafe_dup("\x1b]0;T\x07\x1b[2J a\tb\nc\rd\x7f");
	CHECK_STR(s, "\\x1b]0;T\\x07\\x1b[2J a\\tb\\nc\\rd\\x7f");
	free(s);
	s = termsafe_dup("c1 \xc2\x9b and \xc2\x85 raw \x9b\xff bidi "
	    "\xe2\x80\xae\xe2\x81\xa6\xd8\x9c\xe2\x80\x8f sep \xe2\x80\xa8");
	CHECK_STR(s, "c1 \\u009b and \\u0085 raw \\x9b\\xff bidi "
	    "\\u202e\\u2066\\u061c\\u200f sep \\u2028");
	free(s);
	/* overlong, surrogate, past U+10FFFF, cut sequences: bytes */
	s = termsafe_dup("\xc0\x9b \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x80");
	CHECK_STR(s, "\\xc0\\x9b \\xed\\xa0\\x80 \\xf4\\x90\\x80\\x80 "
	    "\\xe2\\x80");
	free(s);
	/* cut at a whole escape or character */
	CHECK_STR(termsafe_copy("ab\x1b" "cd", buf, 5), "ab");
	CHECK_STR(termsafe_copy("ab\x1b" "cd", buf, 7), "ab\\x1b");
	CHECK_STR(termsafe_copy("\xc3\xa9\xc3\xa9", buf, 4), "\xc3\xa9");
	CHECK_STR(termsafe_copy("", buf, 1), "");
}

static void
test_json(void)
{
	json_t *doc = json_pack("{s:s,s:[s,i,{s:s}],s:{s:s}}", "msg",
	    "\x1b[31mred", "list", "ok", 3, "deep", "\xe2\x80\xae" "x",
	    "params", "k\x1b", "v");
	json_t *params;

	CHECK(doc != NULL);
	CHECK_INT(termsafe_json(doc), 0);
	CHECK_STR(json_string_value(json_object_get(doc, "msg")),
	    "\\x1b[31mred");
	CHECK_STR(json_string_value(json_array_get(json_object_get(doc,
	    "list"), 0)), "ok");
	CHECK_INT(json_integer_value(json_array_get(json_object_get(doc,
	    "list"), 1)), 3);
	CHECK_STR(json_string_value(json_object_get(json_array_get(
	    json_object_get(doc, "list"), 2), "deep")), "\\u202ex");
	params = json_object_get(doc, "params");
	CHECK(json_object_get(params, "k\x1b") == NULL);
	CHECK_STR(json_string_value(json_object_get(params, "k\\x1b")), "v");
	json_decref(doc);
}

int
main(void)
{
	test_strings();
	test_json();
	return tu_finish("test_termsafe");
}
