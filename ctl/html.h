/* html.h: what imgeditctl serve's pages are built from: text escaped for
 * HTML, URL query values, the images/min chart as inline SVG. No I/O. */
#ifndef IMGEDIT_HTML_H
#define IMGEDIT_HTML_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

/* Appends s (NULL: nothing) with & < > " ' escaped as entities, so the
 * text is safe in element content and in quoted attribute values. Other
 * control characters than tab and newline become U+FFFD. Returns 0 or -1. */
int html_text(struct evbuffer *out, const char *s);
/* The same for at most n bytes of s. */
int html_textn(struct evbuffer *out, const char *s, size_t n);

/* Appends s percent-encoded for a URL query value (RFC 3986 unreserved
 * characters kept). Returns 0 or -1. */
int html_query(struct evbuffer *out, const char *s);

/* Minutes in the chart, and the width of one bar in the SVG. */
#define HTML_CHART_MINUTES 60

/* Counts per minute of the last hour into bins[HTML_CHART_MINUTES], the
 * last bin ending at now: each time t (epoch ms) in times[0..n) adds
 * weight[i] (1 if weight is NULL). Times outside the hour are ignored. */
void html_chart_bin(const int64_t *times, const int64_t *weight, size_t n,
    int64_t now, int64_t bins[HTML_CHART_MINUTES]);

/* An inline <svg> bar chart of bins, labelled with the peak and the total,
 * with a <title> per bar. Returns 0 or -1. */
int html_chart_svg(struct evbuffer *out,
    const int64_t bins[HTML_CHART_MINUTES], const char *label);

#endif
