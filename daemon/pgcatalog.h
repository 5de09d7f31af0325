/* pgcatalog.h: catalog.h's functions on PostgreSQL (private to catalog.c,
 * which dispatches to them): blocking libpq, for imgeditctl only. */
#ifndef IMGEDIT_PGCATALOG_H
#define IMGEDIT_PGCATALOG_H

#include <libpq-fe.h>

#include "catalog.h"

/* Each function below is catalog.h's of the same name, with the same
 * contract, documents and return codes; prune's states are checked by
 * catalog.c first, and res zeroed. */
struct pgcat;

/* Takes pg (closed by pgcat_close; also here on failure, returning NULL
 * with err set): sets lock_timeout to CATALOG_BUSY_TIMEOUT_MS, so a lock
 * held longer gives CATALOG_BUSY as SQLite's busy timeout does. */
struct pgcat *pgcat_open(PGconn *pg, char *err, size_t errlen);
void pgcat_close(struct pgcat *pc);
const char *pgcat_errmsg(struct pgcat *pc);

int pgcat_begin(struct pgcat *pc);
int pgcat_commit(struct pgcat *pc);
void pgcat_rollback(struct pgcat *pc);
int pgcat_find_key(struct pgcat *pc, const char *key, int64_t *job_id);
int pgcat_put_blob(struct pgcat *pc, const char *sha256, const void *data,
    size_t size, int64_t *blob_id);
int pgcat_insert_job(struct pgcat *pc, const struct catalog_job *job,
    const struct catalog_input *inputs, size_t ninputs, int64_t *job_id);

int pgcat_list(struct pgcat *pc, const char *states, int64_t since_ms,
    int limit, json_t **out);
int pgcat_show(struct pgcat *pc, int64_t id, json_t **out);
int pgcat_job_ids(struct pgcat *pc, const char *state, int64_t since_ms,
    int64_t **ids, size_t *n);
int pgcat_image_read(struct pgcat *pc, int64_t image_id,
    int (*sink)(void *arg, const void *p, size_t n), void *arg);
int pgcat_status(struct pgcat *pc, int64_t now, int overview, json_t **out);
int pgcat_activity(struct pgcat *pc, int64_t after_event,
    int64_t after_image, int limit, json_t **out);
int pgcat_activity_marks(struct pgcat *pc, int64_t *event, int64_t *image);
int pgcat_running(struct pgcat *pc, json_t **out);
int pgcat_live_daemons(struct pgcat *pc, int64_t now, int64_t fresh_ms,
    int *n);
int pgcat_data_version(struct pgcat *pc, int64_t *version);
int pgcat_job_state(struct pgcat *pc, int64_t id, char *state);
int pgcat_job_marks(struct pgcat *pc, int64_t id, int64_t *event,
    int64_t *image);
int pgcat_page(struct pgcat *pc, const struct catalog_page_query *q,
    json_t **out);
int pgcat_finals_since(struct pgcat *pc, int64_t since_ms, size_t max,
    int64_t **at, int64_t **finals, size_t *n);
int pgcat_image_meta(struct pgcat *pc, int64_t image_id,
    struct catalog_bytes_meta *m);
int pgcat_input_get(struct pgcat *pc, int64_t job_id, enum input_role role,
    int ordinal, size_t max, unsigned char **data, size_t *len,
    struct catalog_bytes_meta *m);

/* cancel, retry and retry --force: which states the job may leave. */
enum pgcat_action { PGCAT_CANCEL, PGCAT_RETRY, PGCAT_RETRY_FORCE };
int pgcat_transition(struct pgcat *pc, enum pgcat_action act, int64_t id,
    int64_t now, char *state);
int pgcat_set_pause(struct pgcat *pc, const char *reason, int *was_paused);
int pgcat_prune(struct pgcat *pc, const char *const *states, size_t nstates,
    int64_t before_ms, struct catalog_prune_result *res);
int pgcat_prune_plan(struct pgcat *pc, const char *const *states,
    size_t nstates, int64_t before_ms, struct catalog_prune_result *res);

#endif
