/* dberr.c: names of the neutral database error classes and which of them
 * pass by themselves (see dberr.h). */
#include "dberr.h"

static const char *const names[DBE_COUNT] = {
	"ok", "lock", "full", "io", "lost", "constraint", "other",
};

const char *
db_err_name(enum db_err e)
{
	return (unsigned)e < DBE_COUNT ? names[e] : "other";
}

int
db_err_transient(enum db_err e)
{
	return e == DBE_LOCK || e == DBE_FULL || e == DBE_IO || e == DBE_LOST;
}
