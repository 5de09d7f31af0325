/* test_dbkind.c: which backend a --db value selects: libpq's two URI schemes
 * are PostgreSQL, exactly as libpq spells them; every path is SQLite. And
 * which PostgreSQL hosts the daemon looks up itself (pgconn). */
#include "dbkind.h"
#include "pgconn.h"
#include "testutil.h"

/* pgconn_host_to_resolve's answer for uri: the name, or "-" for none. */
static const char *
to_resolve(const char *uri, char *buf, size_t len)
{
	return pgconn_host_to_resolve(uri, buf, len) ? buf : "-";
}

static void
check_hosts(void)
{
	char b[256], tiny[4];

	CHECK_STR(to_resolve("postgresql://u@db.example:5432/q", b, sizeof(b)),
	    "db.example");
	CHECK_STR(to_resolve("postgresql://localhost/q?sslmode=verify-full", b,
	    sizeof(b)), "localhost");
	CHECK_STR(to_resolve("postgresql:///q?host=db.internal", b, sizeof(b)),
	    "db.internal");
	/* nothing to look up: sockets, addresses, lists, a hostaddr given */
	CHECK_STR(to_resolve("postgresql:///q?host=/tmp/pg", b, sizeof(b)), "-");
	CHECK_STR(to_resolve("postgresql:///q", b, sizeof(b)), "-");
	CHECK_STR(to_resolve("postgresql://127.0.0.1:5432/q", b, sizeof(b)), "-");
	CHECK_STR(to_resolve("postgresql://[::1]:5432/q", b, sizeof(b)), "-");
	CHECK_STR(to_resolve("postgresql://a.example,b.example/q", b, sizeof(b)),
	    "-");
	CHECK_STR(to_resolve("postgresql://db.example/q?hostaddr=10.0.0.5", b,
	    sizeof(b)), "-");
	CHECK_STR(to_resolve("postgresql://%2Ftmp%2Fpg/q", b, sizeof(b)), "-");
	/* what libpq refuses, and a name longer than the room: libpq's */
	CHECK_STR(to_resolve("postgresql://u@db.example/q?nosuchoption=1", b,
	    sizeof(b)), "-");
	CHECK_STR(to_resolve("postgresql://db.example/q", tiny, sizeof(tiny)),
	    "-");
}

/* SQLSTATEs to the neutral classes, one mapping for queue and rows. */
static void
check_err_class(void)
{
	CHECK_INT(pgconn_err_class("", 1), DBE_LOST);
	CHECK_INT(pgconn_err_class("08006", 0), DBE_LOST);
	CHECK_INT(pgconn_err_class("57P01", 0), DBE_LOST);
	CHECK_INT(pgconn_err_class("55P03", 0), DBE_LOCK);
	CHECK_INT(pgconn_err_class("40P01", 0), DBE_LOCK);
	CHECK_INT(pgconn_err_class("40001", 0), DBE_LOCK);
	CHECK_INT(pgconn_err_class("53100", 0), DBE_FULL);
	CHECK_INT(pgconn_err_class("53200", 0), DBE_IO);
	CHECK_INT(pgconn_err_class("58030", 0), DBE_IO);
	CHECK_INT(pgconn_err_class("26000", 0), DBE_IO);
	CHECK_INT(pgconn_err_class("25006", 0), DBE_IO);
	CHECK_INT(pgconn_err_class("23505", 0), DBE_CONSTRAINT);
	CHECK_INT(pgconn_err_class("42601", 0), DBE_OTHER);
	CHECK_INT(pgconn_err_class(NULL, 0), DBE_OTHER);
	CHECK_INT(db_err_transient(pgconn_err_class("23505", 0)), 0);
	CHECK_INT(db_err_transient(pgconn_err_class("26000", 0)), 1);
}

/* Of the transient errors, what only a new session mends: the queue
 * reconnects for these. */
static void
check_new_session(void)
{
	static const char *const mends[] = { "26000", "25006", NULL };
	static const char *const not[] = { "53200", "55P03", "08006", "", NULL };
	int i;

	for (i = 0; mends[i] != NULL; i++) {
		CHECK_INT(pgconn_new_session_mends(mends[i]), 1);
		CHECK_INT(pgconn_err_class(mends[i], 0), DBE_IO);
	}
	for (i = 0; not[i] != NULL; i++)
		CHECK_INT(pgconn_new_session_mends(not[i]), 0);
	CHECK_INT(pgconn_new_session_mends(NULL), 0);
}

int
main(void)
{
	CHECK_INT(db_kind_of("postgresql:///imgedit?host=/tmp/x"), DB_POSTGRES);
	CHECK_INT(db_kind_of("postgres://u@db.example:5432/q"), DB_POSTGRES);
	CHECK_INT(db_kind_of("postgresql://"), DB_POSTGRES);
	/* paths, relative and absolute, also odd ones */
	CHECK_INT(db_kind_of("/var/lib/imgedit/queue.db"), DB_SQLITE);
	CHECK_INT(db_kind_of("queue.db"), DB_SQLITE);
	CHECK_INT(db_kind_of("./postgresql://x"), DB_SQLITE);
	CHECK_INT(db_kind_of("postgresql.db"), DB_SQLITE);
	CHECK_INT(db_kind_of("postgresql:/x"), DB_SQLITE);
	CHECK_INT(db_kind_of("postgres:x"), DB_SQLITE);
	/* libpq's key=value form is not taken: "a=b.db" is a legal file name */
	CHECK_INT(db_kind_of("host=/tmp dbname=imgedit"), DB_SQLITE);
	CHECK_INT(db_kind_of("dbname=q.db"), DB_SQLITE);
	/* libpq compares the scheme case-sensitively; so do we */
	CHECK_INT(db_kind_of("POSTGRESQL:///imgedit"), DB_SQLITE);
	CHECK_INT(db_kind_of("file:q.db"), DB_SQLITE);
	CHECK_INT(db_kind_of(""), DB_SQLITE);
	check_hosts();
	check_err_class();
	check_new_session();
	return tu_finish("test_dbkind");
}
