/* test_dbkind.c: which backend a --db value selects: libpq's two URI schemes
 * are PostgreSQL, exactly as libpq spells them; every path is SQLite. */
#include "dbkind.h"
#include "testutil.h"

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
	return tu_finish("test_dbkind");
}
