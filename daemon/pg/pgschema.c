/* pgschema.c: the PostgreSQL schema: connecting with libpq (synchronous),
 * the version in schema_version, migrations under an advisory lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgschema.h"

extern const char *const imgedit_pg_migrations[];

static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Copies libpq's message without its trailing newline. */
static void
set_err(char *err, size_t errlen, const char *what, const char *msg)
{
	size_t n;

	snprintf(err, errlen, "%s: %s", what, msg != NULL && *msg ? msg :
	    "unknown error");
	n = strlen(err);
	while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
		err[--n] = '\0';
}

PGconn *
pgschema_connect(const char *uri, char *err, size_t errlen)
{
	return pgschema_connect_within(uri, 10000, err, errlen);
}

PGconn *
pgschema_connect_within(const char *uri, int64_t timeout_ms, char *err,
    size_t errlen)
{
	/* dbname last: with expand_dbname, what the URI sets overrides */
	const char *const keys[] = { "connect_timeout",
	    "fallback_application_name", "dbname", NULL };
	char secs[24];
	const char *const vals[] = { secs, "imgedit", uri, NULL };
	PGconn *c;

	snprintf(secs, sizeof(secs), "%lld", (long long)(timeout_ms < 2000 ?
	    2 : (timeout_ms + 999) / 1000));
	if ((c = PQconnectdbParams(keys, vals, 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		set_err(err, errlen, "cannot connect", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

int
pgschema_latest(void)
{
	int n = 0;

	while (imgedit_pg_migrations[n] != NULL)
		n++;
	return n;
}

/* Runs sql (one or more statements, no parameters). Returns 0 or -1. */
static int
exec_ok(PGconn *c, const char *sql, const char *what, char *err,
    size_t errlen)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		PQclear(r);
		return 0;
	}
	set_err(err, errlen, what, r != NULL ? PQresultErrorMessage(r) :
	    PQerrorMessage(c));
	PQclear(r);
	return -1;
}

/* One row, one column of sql into *out as text (caller frees), or NULL
 * for no row. Returns 0 or -1. */
static int
query_text(PGconn *c, const char *sql, char **out, char *err, size_t errlen)
{
	PGresult *r = PQexec(c, sql);

	*out = NULL;
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQnfields(r) != 1) {
		set_err(err, errlen, "cannot read the schema version",
		    r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(c));
		PQclear(r);
		return -1;
	}
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) &&
	    (*out = strdup(PQgetvalue(r, 0, 0))) == NULL) {
		snprintf(err, errlen, "out of memory");
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

int
pgschema_version(PGconn *c, int *have, char *err, size_t errlen)
{
	char *v = NULL, *end;
	long n;

	*have = -1;
	if (query_text(c, "SELECT to_regclass('schema_version') IS NOT NULL",
	    &v, err, errlen) == -1)
		return -1;
	if (v == NULL || strcmp(v, "t") != 0) {
		free(v);
		*have = 0;
		return 0;
	}
	free(v);
	if (query_text(c, "SELECT version FROM schema_version", &v, err,
	    errlen) == -1)
		return -1;
	if (v == NULL) {
		snprintf(err, errlen, "table schema_version has no row");
		return -1;
	}
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < 1 || n > 100000) {
		snprintf(err, errlen, "schema_version holds '%.32s'", v);
		free(v);
		return -1;
	}
	free(v);
	*have = (int)n;
	return 0;
}

/* In a transaction holding the lock: applies migration number have+1 and
 * records it. Returns 0 or -1. */
static int
apply_one(PGconn *c, int have, char *err, size_t errlen)
{
	char what[64], sql[160];

	snprintf(what, sizeof(what), "migration to schema version %d failed",
	    have + 1);
	if (exec_ok(c, imgedit_pg_migrations[have], what, err, errlen) == -1)
		return -1;
	snprintf(sql, sizeof(sql), "INSERT INTO schema_version (version) "
	    "VALUES (%d) ON CONFLICT (one) DO UPDATE SET version = "
	    "EXCLUDED.version", have + 1);
	return exec_ok(c, sql, what, err, errlen);
}

/* One transaction: lock, read the version, apply the next migration if
 * one is missing. Sets *have to the version at commit and *done when no
 * migration was missing. Returns 0 or -1 (rolled back). */
static int
migrate_step(PGconn *c, int lock_timeout_ms, int *have, int *done,
    char *err, size_t errlen)
{
	char sql[96];
	int latest = pgschema_latest();

	if (exec_ok(c, "BEGIN", "cannot begin", err, errlen) == -1)
		return -1;
	snprintf(sql, sizeof(sql), "SET LOCAL lock_timeout = %d", lock_timeout_ms);
	if (exec_ok(c, sql, "cannot set lock_timeout", err, errlen) == -1)
		goto fail;
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%lld)",
	    PGSCHEMA_LOCK_KEY);
	if (exec_ok(c, sql, "cannot take the migration lock", err, errlen) == -1 ||
	    pgschema_version(c, have, err, errlen) == -1)
		goto fail;
	if (*have > latest) {
		snprintf(err, errlen, "database schema version %d is newer than "
		    "this imgedit (%d): upgrade imgedit", *have, latest);
		goto fail;
	}
	*done = *have == latest;
	if (!*done && apply_one(c, *have, err, errlen) == -1)
		goto fail;
	if (exec_ok(c, "COMMIT", "cannot commit", err, errlen) == -1)
		goto fail;
	*have += !*done;
	return 0;
fail:
	PQclear(PQexec(c, "ROLLBACK"));
	return -1;
}

int
pgschema_migrate(PGconn *c, int lock_timeout_ms, int *have, char *err,
    size_t errlen)
{
	int done = 0;

	while (!done)
		if (migrate_step(c, lock_timeout_ms, have, &done, err,
		    errlen) == -1)
			return -1;
	return 0;
}

const char *
pgschema_display(PGconn *c, char *buf, size_t len)
{
	const char *host = PQhost(c), *port = PQport(c), *user = PQuser(c),
	    *db = PQdb(c);

	host = host != NULL ? host : "";
	port = port != NULL ? port : "";
	if (host[0] == '/')
		snprintf(buf, len, "postgresql://%s@/%s?host=%s&port=%s",
		    user ? user : "", db ? db : "", host, port);
	else
		snprintf(buf, len, "postgresql://%s@%s:%s/%s", user ? user : "",
		    host, port, db ? db : "");
	return buf;
}
