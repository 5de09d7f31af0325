/* sse.h: incremental parser for text/event-stream framing (WHATWG SSE).
 * Pure logic, no I/O: feed it byte chunks, it calls back once per complete event. */
#ifndef IMGEDIT_SSE_H
#define IMGEDIT_SSE_H

#include <stddef.h>

#define SSE_ETOOBIG (-2) /* an event's data grew past max_event_bytes */
#define SSE_ENOMEM (-3)
#define SSE_PAUSE (-4)   /* an event callback's: stop after this event */

/* Called once per dispatched event (blank line after at least one data field).
 * event: the `event:` field ("" when absent), NUL-terminated, event_len bytes.
 * data: the data lines joined with '\n' (no trailing '\n'), NUL-terminated at
 * data[data_len]. Both buffers belong to the parser and are valid only during
 * the call; the callee may modify data in place (e.g. decode into it).
 * Return 0 to go on; any other value stops parsing and sse_feed returns it. */
typedef int (*sse_event_cb)(void *arg, const char *event, size_t event_len,
    char *data, size_t data_len);

/* A data sink: receives the bytes of data fields as they arrive (the '\n'
 * joining two data lines included), instead of the parser buffering them.
 * Return 0 to go on; any other value stops parsing and sse_feed returns it. */
typedef int (*sse_data_cb)(void *arg, const char *s, size_t n);

struct sse_parser;

/* Returns a new parser (caller owns it: sse_free), or NULL on ENOMEM.
 * max_event_bytes bounds the memory of one event (data + event name). */
struct sse_parser *sse_new(sse_event_cb cb, void *arg, size_t max_event_bytes);

/* From now on, data-field bytes go to sink (called with the parser's arg);
 * the event callback then gets data = "" and data_len = 0. The bytes still
 * count against max_event_bytes. */
void sse_set_data_sink(struct sse_parser *p, sse_data_cb sink);

/* Feeds len bytes (any split point). Returns 0, SSE_ETOOBIG, SSE_ENOMEM,
 * or the callback's nonzero return. After a nonzero return, the parser
 * must not be fed again. */
int sse_feed(struct sse_parser *p, const char *buf, size_t len);

/* Like sse_feed, but an event callback may return SSE_PAUSE: parsing then
 * stops right after that event, *used says how many bytes of buf were
 * consumed (the rest is the caller's to feed later), the parser stays
 * usable and SSE_PAUSE is returned. Otherwise *used = len on 0. */
int sse_feed_some(struct sse_parser *p, const char *buf, size_t len,
    size_t *used);

/* End of stream. An event without its terminating blank line is discarded
 * (as the SSE standard says). Returns 1 if such an incomplete event (or a
 * partial line) was pending, 0 if the stream ended cleanly between events. */
int sse_finish(struct sse_parser *p);

/* Number of events dispatched so far. */
size_t sse_events(const struct sse_parser *p);

void sse_free(struct sse_parser *p);

#endif
