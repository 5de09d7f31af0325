/* dbkind.h: the one rule for which backend a --db value (or db = setting)
 * names: a postgresql:// or postgres:// URI is PostgreSQL, all else a path. */
#ifndef IMGEDIT_DBKIND_H
#define IMGEDIT_DBKIND_H

enum db_kind {
	DB_SQLITE,   /* a file path (created by init) */
	DB_POSTGRES  /* a libpq connection URI */
};

/* The backend db selects. Pure; db is not NULL. libpq's key=value form
 * ("host=... dbname=...") is not recognised: it is also a legal file name,
 * and every key of it can be written as a URI query parameter instead. */
enum db_kind db_kind_of(const char *db);

#endif
