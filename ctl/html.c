/* html.c: escaping text for HTML and for URL query values, and the inline
 * SVG chart of images per minute; pure, into evbuffers. */
#include "html.h"

#include <stdio.h>
#include <string.h>

#define CHART_W 4   /* px per minute */
#define CHART_H 40  /* px for the peak */

int
html_textn(struct evbuffer *out, const char *s, size_t n)
{
	const char *rep, *run = s;
	size_t i;
	int rc = 0;

	if (s == NULL)
		return 0;
	for (i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			rep = (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f ?
			    "\xef\xbf\xbd" : NULL;
		}
		if (rep == NULL)
			continue;
		rc = evbuffer_add(out, run, (size_t)(s + i - run));
		if (rc == 0)
			rc = evbuffer_add(out, rep, strlen(rep));
		run = s + i + 1;
	}
	if (rc == 0)
		rc = evbuffer_add(out, run, (size_t)(s + n - run));
	return rc == 0 ? 0 : -1;
}

int
html_text(struct evbuffer *out, const char *s)
{
	return s == NULL ? 0 : html_textn(out, s, strlen(s));
}

int
html_query(struct evbuffer *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3] = { '%', 0, 0 };
	int rc = 0;

	for (; s != NULL && *s != '\0' && rc == 0; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL) {
			rc = evbuffer_add(out, s, 1);
			continue;
		}
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		rc = evbuffer_add(out, esc, 3);
	}
	return rc == 0 ? 0 : -1;
}

void
html_chart_bin(const int64_t *times, const int64_t *weight, size_t n,
    int64_t now, int64_t bins[HTML_CHART_MINUTES])
{
	int64_t start = now - (int64_t)HTML_CHART_MINUTES * 60000, k;
	size_t i;

	memset(bins, 0, sizeof(int64_t) * HTML_CHART_MINUTES);
	for (i = 0; i < n; i++) {
		if (times[i] <= start || times[i] > now)
			continue;
		k = (times[i] - start - 1) / 60000;
		bins[k] += weight != NULL ? weight[i] : 1;
	}
}

int
html_chart_svg(struct evbuffer *out, const int64_t bins[HTML_CHART_MINUTES],
    const char *label)
{
	int64_t peak = 0, total = 0, h;
	int i, rc = 0;

	for (i = 0; i < HTML_CHART_MINUTES; i++) {
		peak = bins[i] > peak ? bins[i] : peak;
		total += bins[i];
	}
	rc |= evbuffer_add_printf(out, "<svg class=\"chart\" role=\"img\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\"><title>", CHART_W *
	    HTML_CHART_MINUTES, CHART_H, CHART_W * HTML_CHART_MINUTES,
	    CHART_H) < 0;
	rc |= html_text(out, label);
	rc |= evbuffer_add_printf(out, ": %lld in the last hour, peak %lld/min"
	    "</title><rect width=\"100%%\" height=\"100%%\" fill=\"#f4f4f4\"/>",
	    (long long)total, (long long)peak) < 0;
	for (i = 0; i < HTML_CHART_MINUTES && peak > 0; i++) {
		if (bins[i] == 0)
			continue;
		h = bins[i] * CHART_H / peak;
		h = h < 1 ? 1 : h;
		rc |= evbuffer_add_printf(out, "<rect x=\"%d\" y=\"%lld\" "
		    "width=\"%d\" height=\"%lld\" fill=\"#3a7\"><title>%d min ago: "
		    "%lld</title></rect>", i * CHART_W, (long long)(CHART_H - h),
		    CHART_W - 1, (long long)h, HTML_CHART_MINUTES - i,
		    (long long)bins[i]) < 0;
	}
	rc |= evbuffer_add_printf(out, "</svg>") < 0;
	return rc ? -1 : 0;
}
