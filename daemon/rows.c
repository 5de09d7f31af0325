/* rows.c: what rows.h's methods do the same on every backend: a
 * connection's name and its last error, kept in its head. */
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
