/* test_rows.c: what rows.c does the same for every backend: a value read
 * in chunks to a sink, and the connection's head (name, last error). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"
#include "testutil.h"

/* A value in memory, read as a backend reads one: chunk by chunk. */
struct value {
	const unsigned char *bytes;
	int64_t size;
	int reads;
	int fail_at;            /* the read that fails (1-based), 0: none */
	size_t biggest;         /* the largest chunk asked for */
};

static int
read_value(void *ctx, int64_t off, size_t n, const void **p)
{
	struct value *v = ctx;

	if (++v->reads == v->fail_at || off < 0 || off + (int64_t)n > v->size)
		return -1;
	if (n > v->biggest)
		v->biggest = n;
	*p = v->bytes + off;
	return 0;
}

/* What the sink got, and after how many calls it says stop. */
struct sink {
	unsigned char *got;
	size_t len;
	int calls;
	int stop_at;            /* the call that returns non-zero, 0: none */
};

static int
collect(void *arg, const void *p, size_t n)
{
	struct sink *s = arg;

	memcpy(s->got + s->len, p, n);
	s->len += n;
	return ++s->calls == s->stop_at;
}

static void
check_read_chunks(void)
{
	int64_t size = 2 * ROWS_READ_CHUNK + 12345;
	unsigned char *bytes = malloc((size_t)size), *got = malloc((size_t)size);
	struct value v;
	struct sink s;
	int64_t i;

	CHECK(bytes != NULL && got != NULL);
	if (bytes == NULL || got == NULL)
		goto done;
	for (i = 0; i < size; i++)
		bytes[i] = (unsigned char)(i * 7 + i / 251);

	/* whole, in three chunks none over ROWS_READ_CHUNK, in order */
	v = (struct value){ bytes, size, 0, 0, 0 };
	s = (struct sink){ got, 0, 0, 0 };
	CHECK_INT(rows_read_chunks(size, read_value, &v, collect, &s), 0);
	CHECK_INT(s.len, size);
	CHECK_MEM(got, bytes, (size_t)size);
	CHECK_INT(v.reads, 3);
	CHECK_INT(v.biggest, ROWS_READ_CHUNK);

	/* an empty value: nothing read, nothing sunk */
	v = (struct value){ bytes, 0, 0, 0, 0 };
	s = (struct sink){ got, 0, 0, 0 };
	CHECK_INT(rows_read_chunks(0, read_value, &v, collect, &s), 0);
	CHECK_INT(v.reads, 0);
	CHECK_INT(s.calls, 0);

	/* the sink stops after the first chunk: -2, nothing more read */
	v = (struct value){ bytes, size, 0, 0, 0 };
	s = (struct sink){ got, 0, 0, 1 };
	CHECK_INT(rows_read_chunks(size, read_value, &v, collect, &s), -2);
	CHECK_INT(v.reads, 1);
	CHECK_INT(s.len, ROWS_READ_CHUNK);

	/* the second read fails: -1, the sink has the first chunk only */
	v = (struct value){ bytes, size, 0, 2, 0 };
	s = (struct sink){ got, 0, 0, 0 };
	CHECK_INT(rows_read_chunks(size, read_value, &v, collect, &s), -1);
	CHECK_INT(s.calls, 1);
done:
	free(bytes);
	free(got);
}

static void
check_head(void)
{
	struct rows_head h;

	memset(&h, 0, sizeof(h));
	CHECK_INT(rows_fail(&h, DBE_LOCK, "database is locked\nmore"), -1);
	CHECK_INT(rows_error((struct rows_conn *)(void *)&h), DBE_LOCK);
	CHECK_STR(rows_errmsg((struct rows_conn *)(void *)&h),
	    "database is locked");
	CHECK_INT(rows_fail(&h, DBE_OTHER, ""), -1);
	CHECK_STR(h.err, "unknown error");
	CHECK_INT(rows_ok(&h), 0);
	CHECK_INT(h.cls, DBE_OK);
	CHECK_STR(h.err, "unknown error");      /* the last failure's text */
}

int
main(void)
{
	check_read_chunks();
	check_head();
	return tu_finish("test_rows");
}
