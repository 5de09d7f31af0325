/* test_log.c: log_quote never writes past its buffer, whatever the input
 * and the buffer's size, and what it writes is quoted, escaped and ended. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "testutil.h"

#define CANARY 0x5a

/* Quotes s into a buffer of n bytes inside a larger one full of canaries. */
static void
quote_in(const char *s, size_t n)
{
	unsigned char buf[600];
	size_t i, len;
	int over = 0;

	memset(buf, CANARY, sizeof(buf));
	log_quote(s, (char *)buf + 8, n);
	for (i = 0; i < 8; i++)
		over |= buf[i] != CANARY;
	for (i = 8 + n; i < sizeof(buf); i++)
		over |= buf[i] != CANARY;
	CHECK(!over);
	if (n < 8 || over)
		return;
	len = strnlen((char *)buf + 8, n);
	CHECK(len < n);
	CHECK(buf[8] == '"' && buf[8 + len - 1] == '"');
	CHECK(strchr((char *)buf + 9, '\n') == NULL);
}

int
main(void)
{
	char s[400];
	size_t n, k;

	/* every size against worst cases: 2-byte and 4-byte escapes lined up
	 * on the buffer's end at every offset */
	for (n = 0; n < 320; n++) {
		for (k = 0; k < 8; k++) {
			memset(s, '"', sizeof(s));
			s[sizeof(s) - 1] = '\0';
			s[k * 37 % 390] = '\n';
			s[(k * 53 + 1) % 390] = '\x01';
			quote_in(s, n);
			memset(s, '\n', sizeof(s) - 1);
			quote_in(s, n);
		}
		quote_in("", n);
		quote_in("plain text", n);
	}
	/* the message of the issue: 146 quotes, a newline, one more byte */
	memset(s, '"', 146);
	strcpy(s + 146, "\nx");
	quote_in(s, 300);
	return tu_finish("test_log");
}
