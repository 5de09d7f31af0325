/* pages.h: imgeditctl serve's HTML, rendered from the catalog's documents:
 * the queue at a glance, one job, one row, errors; the page's CSS and JS. */
#ifndef IMGEDIT_PAGES_H
#define IMGEDIT_PAGES_H

#include <stdint.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "html.h"

/* Thumbnails fit in this square (pixels). */
#define PAGE_THUMB_SIDE 160

/* What the job list shows: one state or all, a word of the prompt or any,
 * ids below before (0: from the newest), limit rows. */
struct page_filter {
	const char *state;
	const char *word;
	int64_t before;
	int limit;
};

/* Where the live updates start: the newest event and image ids when the
 * page was read. */
struct page_marks {
	int64_t event, image;
};

/* Each returns 0, or -1 when out of memory. All text is escaped. */

/* <!doctype html> up to <main>: job > 0 marks a job's page, head a list
 * that shows the newest jobs (new ones are inserted live). */
int page_begin(struct evbuffer *out, const char *title,
    const struct page_marks *m, int64_t job, int head);
int page_end(struct evbuffer *out);

/* The counts per state (links to the filter), the chart, the pause and
 * the daemons, from catalog_overview's document: <section id="summary">. */
int page_summary(struct evbuffer *out, const json_t *status,
    const int64_t bins[HTML_CHART_MINUTES], int64_t now);

/* The filter form, the table of jobs (catalog_page's array), and the links
 * to the newest and to the next older page. */
int page_jobs(struct evbuffer *out, const json_t *jobs,
    const struct page_filter *f, int64_t now);

/* One <tr id="job-ID"> of the table (for the live updates too). */
int page_row(struct evbuffer *out, const json_t *job, int64_t now);

/* A job: catalog_show's document. */
int page_job(struct evbuffer *out, const json_t *show, int64_t now);

/* A whole page saying what went wrong (status 400, 404, 503...). */
int page_error(struct evbuffer *out, int status, const char *message);

/* The stylesheet and script every page links (no framework, no CDN). */
extern const char page_css[];
extern const char page_js[];

#endif
