/* checkpoint.c: the checkpoint thread: woken by the WAL hook of the daemon's
 * connection, it runs PASSIVE checkpoints on a connection of its own. */
#include "checkpoint.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct checkpointer {
	sqlite3 *main_db;	/* the event loop's connection (hook only) */
	sqlite3 *db;		/* the thread's own connection */
	int wal_pages;
	int last_pages;		/* WAL frames at the last commit (hook only) */
	int next_at;		/* WAL frames that call for a checkpoint */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int wanted;		/* a commit left wal_pages or more frames */
	int stopping;
};

/* Runs on the event loop after every commit: only flags the thread. */
static int
on_wal_commit(void *arg, sqlite3 *db, const char *schema, int pages)
{
	struct checkpointer *cp = arg;

	(void)db, (void)schema;
	if (pages < cp->last_pages)	/* the WAL started over */
		cp->next_at = cp->wal_pages;
	cp->last_pages = pages;
	if (pages < cp->next_at)
		return SQLITE_OK;
	/* a checkpoint copies what it can; ask again only after as much more */
	cp->next_at = pages + cp->wal_pages;
	pthread_mutex_lock(&cp->lock);
	cp->wanted = 1;
	pthread_cond_signal(&cp->wake);
	pthread_mutex_unlock(&cp->lock);
	return SQLITE_OK;
}

/* PASSIVE never waits, but under constant writes it never catches up, and
 * the WAL restarts only once fully copied: past 2 marks, RESTART waits
 * for the writer's current transaction and has the WAL start over. An
 * error (SQLITE_BUSY: another process checkpointing) is left for the next
 * mark. */
static void
checkpoint(struct checkpointer *cp)
{
	int frames = 0, copied = 0;

	if (sqlite3_wal_checkpoint_v2(cp->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    &frames, &copied) == SQLITE_OK && frames >= 2 * cp->wal_pages)
		sqlite3_wal_checkpoint_v2(cp->db, NULL,
		    SQLITE_CHECKPOINT_RESTART, NULL, NULL);
}

static void *
run(void *arg)
{
	struct checkpointer *cp = arg;

	pthread_mutex_lock(&cp->lock);
	for (;;) {
		while (!cp->wanted && !cp->stopping)
			pthread_cond_wait(&cp->wake, &cp->lock);
		if (cp->stopping)
			break;
		cp->wanted = 0;
		pthread_mutex_unlock(&cp->lock);
		checkpoint(cp);
		pthread_mutex_lock(&cp->lock);
	}
	pthread_mutex_unlock(&cp->lock);
	return NULL;
}

struct checkpointer *
checkpointer_start(sqlite3 *db, const char *path, int wal_pages,
    int busy_timeout_ms, char *err, size_t errlen)
{
	struct checkpointer *cp;

	if ((cp = calloc(1, sizeof(*cp))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cp->main_db = db;
	cp->wal_pages = wal_pages > 0 ? wal_pages : 1000;
	cp->next_at = cp->wal_pages;
	if (sqlite3_open_v2(path, &cp->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "checkpoint connection: %s",
		    cp->db ? sqlite3_errmsg(cp->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(cp->db, busy_timeout_ms);
	/* A fresh connection does not know the file is in WAL mode until it
	 * reads it (a checkpoint would then do nothing and the WAL would grow
	 * without end): read the mode now. It never commits, so it never
	 * checkpoints by itself. */
	if (sqlite3_exec(cp->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "checkpoint connection: %s",
		    sqlite3_errmsg(cp->db));
		goto fail;
	}
	pthread_mutex_init(&cp->lock, NULL);
	pthread_cond_init(&cp->wake, NULL);
	if (pthread_create(&cp->thread, NULL, run, cp) != 0) {
		snprintf(err, errlen, "cannot start the checkpoint thread");
		pthread_cond_destroy(&cp->wake);
		pthread_mutex_destroy(&cp->lock);
		goto fail;
	}
	sqlite3_wal_hook(db, on_wal_commit, cp); /* replaces autocheckpoint */
	return cp;
fail:
	sqlite3_close_v2(cp->db);
	free(cp);
	return NULL;
}

void
checkpointer_stop(struct checkpointer *cp)
{
	if (cp == NULL)
		return;
	sqlite3_wal_autocheckpoint(cp->main_db, 1000); /* removes the hook */
	pthread_mutex_lock(&cp->lock);
	cp->stopping = 1;
	pthread_cond_signal(&cp->wake);
	pthread_mutex_unlock(&cp->lock);
	pthread_join(cp->thread, NULL);
	pthread_cond_destroy(&cp->wake);
	pthread_mutex_destroy(&cp->lock);
	sqlite3_close_v2(cp->db);
	free(cp);
}
