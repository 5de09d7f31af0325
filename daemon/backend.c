/* backend.c: the one place that asks which backend a database is: a
 * --db value (or db = setting) to its struct backend. */
#include "backend.h"
#include "dbkind.h"

const struct backend *
backend_for(const char *uri)
{
	if (db_kind_of(uri) == DB_POSTGRES)
		return &backend_postgres;
	return &backend_sqlite;
}
