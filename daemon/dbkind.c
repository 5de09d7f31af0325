/* dbkind.c: which backend a --db value selects (see dbkind.h): the URI
 * schemes libpq accepts, compared as libpq does, case-sensitively. */
#include <string.h>

#include "dbkind.h"

static int
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum db_kind
db_kind_of(const char *db)
{
	if (has_prefix(db, "postgresql://") || has_prefix(db, "postgres://"))
		return DB_POSTGRES;
	return DB_SQLITE;
}
