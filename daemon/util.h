/* util.h: small helpers shared by every part: clocks, SHA-256 in hex, a
 * growable byte buffer, checked allocation. */
#ifndef IMGEDIT_UTIL_H
#define IMGEDIT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_HEX_LEN 64

/* Wall clock, Unix epoch milliseconds (what the database stores). */
int64_t now_ms(void);
/* Monotonic clock in milliseconds, for timers and durations. */
int64_t mono_ms(void);
/* Today's date in UTC as "YYYY-MM-DD" into buf (11 bytes): what model
 * shutdown dates compare to; "9999-12-31" when the clock cannot be read
 * (then every dated model counts as shut down). */
void utc_day(char *buf, size_t size);

/* Writes the lowercase hex SHA-256 of data into hex (65 bytes with NUL). */
void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN + 1]);

/* A growable byte buffer; zero-initialise, release with buf_free. */
struct buf {
	unsigned char *data;
	size_t len, cap;
};
/* Appends n bytes; returns 0 or -1 on ENOMEM (buffer unchanged). */
int buf_append(struct buf *b, const void *p, size_t n);
/* Makes room for n more bytes past len; returns 0 or -1. */
int buf_reserve(struct buf *b, size_t n);
void buf_free(struct buf *b);

/* Formats a reason into err (errlen bytes; err may be NULL) and returns -1,
 * for "return errorf(err, errlen, ...);" in validators. */
int errorf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies src into dst of size n, always NUL-terminated; returns dst. */
char *strlcpy_safe(char *dst, const char *src, size_t n);

/* Parses a duration like "90", "1500ms", "30s", "10m", "2h", "7d" into ms.
 * A bare number is seconds. Returns 0 or -1. */
int parse_duration_ms(const char *s, int64_t *out);

/* Reads a whole file (at most max bytes) into *data (caller frees).
 * Returns 0, or -1 with errno set (EFBIG when over max). */
int read_file(const char *path, size_t max, unsigned char **data, size_t *len);

#endif
