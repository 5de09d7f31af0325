/* test_html.c: HTML escaping of user text, URL query values, and
 * the per-minute chart (binning, and an SVG that stays well-formed). */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "html.h"
#include "testutil.h"

/* The buffer's bytes as a string (caller frees). */
static char *
take(struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	char *s = malloc(n + 1);

	evbuffer_remove(b, s, n);
	s[n] = '\0';
	return s;
}

static void
test_text(void)
{
	struct evbuffer *b = evbuffer_new();
	char *s;

	CHECK_INT(html_text(b, "<script>alert(\"x\")</script> & 'q'"), 0);
	s = take(b);
	CHECK_STR(s, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; "
	    "&#39;q&#39;");
	free(s);
	CHECK_INT(html_text(b, "plain caf\xc3\xa9\tline\nnext"), 0);
	s = take(b);
	CHECK_STR(s, "plain caf\xc3\xa9\tline\nnext");
	free(s);
	CHECK_INT(html_text(b, "bell\x07 esc\x1b del\x7f"), 0);
	s = take(b);
	CHECK_STR(s, "bell\xef\xbf\xbd esc\xef\xbf\xbd del\xef\xbf\xbd");
	free(s);
	CHECK_INT(html_textn(b, "a<b>c", 2), 0);
	s = take(b);
	CHECK_STR(s, "a&lt;");
	free(s);
	CHECK_INT(html_text(b, NULL), 0);
	CHECK_INT(evbuffer_get_length(b), 0);
	evbuffer_free(b);
}

static void
test_query(void)
{
	struct evbuffer *b = evbuffer_new();
	char *s;

	CHECK_INT(html_query(b, "a b&c=d/é\"<"), 0);
	s = take(b);
	CHECK_STR(s, "a%20b%26c%3Dd%2F%C3%A9%22%3C");
	free(s);
	CHECK_INT(html_query(b, NULL), 0);
	CHECK_INT(evbuffer_get_length(b), 0);
	evbuffer_free(b);
}

static void
test_chart(void)
{
	int64_t now = 10000000, bins[HTML_CHART_MINUTES];
	int64_t t[] = { now, now - 1, now - 60000, now - 60001, now - 3600000,
	    now - 3599999, now + 5 };
	int64_t w[] = { 1, 2, 3, 4, 5, 6, 7 };
	struct evbuffer *b = evbuffer_new();
	char *s;

	html_chart_bin(t, w, 7, now, bins);
	CHECK_INT(bins[59], 3);      /* now, now - 1 */
	CHECK_INT(bins[58], 7);      /* now - 60000 closes the minute before */
	CHECK_INT(bins[0], 6);       /* the oldest still inside the hour */
	html_chart_bin(t, NULL, 7, now, bins);
	CHECK_INT(bins[59], 2);
	CHECK_INT(html_chart_svg(b, bins, "final <images>"), 0);
	s = take(b);
	CHECK(strncmp(s, "<svg ", 5) == 0);
	CHECK(strstr(s, "</svg>") != NULL);
	CHECK(strstr(s, "final &lt;images&gt;: 5 in the last hour, peak 2/min")
	    != NULL);
	CHECK(strstr(s, "<images>") == NULL);
	free(s);
	memset(bins, 0, sizeof(bins));
	CHECK_INT(html_chart_svg(b, bins, "none"), 0);
	s = take(b);
	CHECK(strstr(s, "0 in the last hour") != NULL);
	free(s);
	evbuffer_free(b);
}

int
main(void)
{
	test_text();
	test_query();
	test_chart();
	return tu_finish("test_html");
}
