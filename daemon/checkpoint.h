/* checkpoint.h: WAL checkpoints off the daemon's event loop: a thread with
 * its own connection copies the WAL back into the database file. */
#ifndef IMGEDIT_CHECKPOINT_H
#define IMGEDIT_CHECKPOINT_H

#include <stddef.h>

#include <sqlite3.h>

struct checkpointer;

/* Takes over db's automatic checkpoints: after a commit leaves at least
 * wal_pages frames in the WAL, a PASSIVE checkpoint runs on a thread with
 * its own connection to path (never blocking db's writers). Returns the
 * checkpointer (caller owns: checkpointer_stop, before closing db), or
 * NULL with a reason in err; db then keeps SQLite's own autocheckpoint. */
struct checkpointer *checkpointer_start(sqlite3 *db, const char *path,
    int wal_pages, int busy_timeout_ms, char *err, size_t errlen);

/* Stops and joins the thread (a checkpoint under way finishes first) and
 * gives db back its automatic checkpoints. NULL is a no-op. */
void checkpointer_stop(struct checkpointer *cp);

#endif
