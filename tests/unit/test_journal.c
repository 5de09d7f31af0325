/* test_journal.c: JOURNAL_STREAM parsed strictly and matched against a
 * descriptor's device and inode; a log record's fields found, unquoted,
 * cut and cleaned of control bytes, whatever the values hold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "testutil.h"

enum { JOB, ATTEMPT, OUTCOME, HTTP, REQUEST_ID };

static void
test_parse(void)
{
	static const char *const bad[] = {
		"", ":", "1:", ":1", "1", "1:2:3", "1:2 ", " 1:2", "+1:2", "-1:2",
		"1:-2", "0x1:2", "1;2", "1:2\n", "18446744073709551616:1",
		"1:99999999999999999999", "a:b"
	};
	unsigned long long dev, ino;
	size_t i;

	CHECK_INT(journal_stream_parse("2049:1234567", &dev, &ino), 0);
	CHECK(dev == 2049 && ino == 1234567);
	CHECK_INT(journal_stream_parse("18446744073709551615:0", &dev, &ino), 0);
	CHECK(dev == 18446744073709551615ULL && ino == 0);
	CHECK_INT(journal_stream_parse(NULL, &dev, &ino), -1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(journal_stream_parse(bad[i], &dev, &ino), -1);
}

static void
test_stream_is(void)
{
	char path[] = "/tmp/test_journal.XXXXXX", s[64];
	struct stat sb;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	unlink(path);
	CHECK_INT(fstat(fd, &sb), 0);
	snprintf(s, sizeof(s), "%llu:%llu", (unsigned long long)sb.st_dev,
	    (unsigned long long)sb.st_ino);
	CHECK_INT(journal_stream_is(s, fd), 1);
	snprintf(s, sizeof(s), "%llu:%llu", (unsigned long long)sb.st_dev,
	    (unsigned long long)sb.st_ino + 1);
	CHECK_INT(journal_stream_is(s, fd), 0);
	snprintf(s, sizeof(s), "%llu:%llu", (unsigned long long)sb.st_dev + 1,
	    (unsigned long long)sb.st_ino);
	CHECK_INT(journal_stream_is(s, fd), 0);
	CHECK_INT(journal_stream_is(NULL, fd), 0);
	CHECK_INT(journal_stream_is("garbage", fd), 0);
	close(fd);
	CHECK_INT(journal_stream_is(s, fd), 0); /* closed: fstat fails */
}

static int
clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static void
test_fields(void)
{
	struct journal_rec r;
	char big[1000];
	int i;

	journal_fields("attempt_end job=42 attempt=2 outcome=retry http=500 "
	    "images=0 request_id=\"req_7\" error_type=\"x\" "
	    "error=\"a \\\"job=9\\\" \\\\ b\\x0aJOB_ID=1\"", &r);
	CHECK_STR(r.event, "attempt_end");
	CHECK_STR(r.value[JOB], "42");
	CHECK_STR(r.value[ATTEMPT], "2");
	CHECK_STR(r.value[OUTCOME], "retry");
	CHECK_STR(r.value[HTTP], "500");
	CHECK_STR(r.value[REQUEST_ID], "req_7");

	/* quoted values unquoted; a key inside a value is no key */
	journal_fields("e error=\"job=5 http=7\" request_id=\"a \\\"b\\\" \\\\ "
	    "\\x0a c\"", &r);
	CHECK_STR(r.event, "e");
	CHECK_STR(r.value[JOB], "");
	CHECK_STR(r.value[HTTP], "");
	CHECK_STR(r.value[REQUEST_ID], "a \"b\" \\ \\x0a c");

	/* the first of a repeated key wins; bare words and odd tokens skipped */
	journal_fields("ev word job=1 =x job=2 attempt= http=\"\" outcome=ok", &r);
	CHECK_STR(r.value[JOB], "1");
	CHECK_STR(r.value[ATTEMPT], "");
	CHECK_STR(r.value[HTTP], "");
	CHECK_STR(r.value[OUTCOME], "ok");

	/* raw control bytes (a caller that forgot LOG_Q) become '?' */
	journal_fields("ev\nFORGED=1 job=1\n2 request_id=\"x\ny\r\"", &r);
	CHECK(clean(r.event));
	CHECK_STR(r.value[JOB], "1?2");
	CHECK_STR(r.value[REQUEST_ID], "x?y?");

	/* an unterminated quote ends with the text; nothing is read past it */
	journal_fields("ev job=\"12", &r);
	CHECK_STR(r.value[JOB], "12");
	journal_fields("", &r);
	CHECK_STR(r.event, "");
	journal_fields("ev job=\"a\\", &r);
	CHECK_STR(r.value[JOB], "a\\");

	/* long values and events are cut, ended */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "ev request_id=", 14);
	journal_fields(big, &r);
	CHECK_INT(strlen(r.value[REQUEST_ID]), JOURNAL_VMAX - 1);
	memset(big, 'e', 200);
	journal_fields(big, &r);
	CHECK_INT(strlen(r.event), sizeof(r.event) - 1);
	for (i = 0; i < JOURNAL_NKEYS; i++)
		CHECK(clean(r.value[i]));
}

int
main(void)
{
	test_parse();
	test_stream_is();
	test_fields();
	return tu_finish("test_journal");
}
