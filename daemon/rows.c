/* rows.c: what rows.h's methods do the same on every backend: a
 * connection's name and its last error, kept in its head; a value read in
 * chunks. */
#include <string.h>

#include "rows.h"
#include "util.h"

/* A backend's struct rows_conn begins with its struct rows_head. */
static struct rows_head *
head(struct rows_conn *c)
{
	return (struct rows_head *)(void *)c;
}

const char *
rows_display(struct rows_conn *c)
{
	return head(c)->name;
}

enum db_err
rows_error(struct rows_conn *c)
{
	return head(c)->cls;
}

const char *
rows_errmsg(struct rows_conn *c)
{
	return head(c)->err;
}

int
rows_ok(struct rows_head *h)
{
	h->cls = DBE_OK;
	return 0;
}

int
rows_fail(struct rows_head *h, enum db_err cls, const char *msg)
{
	if (msg == NULL || *msg == '\0')
		msg = "unknown error";
	if (msg != h->err)      /* a backend may have written it there */
		strlcpy_safe(h->err, msg, sizeof(h->err));
	h->err[strcspn(h->err, "\n")] = '\0';
	h->cls = cls;
	return -1;
}

int
rows_read_chunks(int64_t total, rows_chunk_fn read, void *ctx,
    int (*sink)(void *arg, const void *p, size_t n), void *arg)
{
	const void *p;
	int64_t off;
	size_t n;

	for (off = 0; off < total; off += (int64_t)n) {
		n = total - off < ROWS_READ_CHUNK ? (size_t)(total - off) :
		    ROWS_READ_CHUNK;
		if (read(ctx, off, n, &p) == -1)
			return -1;
		if (sink(arg, p, n) != 0)
			return -2;
	}
	return 0;
}
