/* catdoc.h: the catalog's documents built from values, the same for every
 * backend (catalog.c, over every backend's rows): pure, no I/O. */
#ifndef IMGEDIT_CATDOC_H
#define IMGEDIT_CATDOC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* A JSON string from bytes that may not be UTF-8 (rows from other
 * programs): invalid bytes become '?'. Returns a new reference or NULL. */
json_t *catdoc_text(const unsigned char *p, size_t n);

/* Replaces the string at key by the JSON it holds, when it parses. */
void catdoc_parse_field(json_t *o, const char *key);

/* A copy of v (new reference) whose objects, at every depth, have their
 * keys in byte order: the one order both backends can give (PostgreSQL's
 * jsonb keeps its own, SQLite's text the writer's). NULL: out of memory. */
json_t *catdoc_sorted(json_t *v);

/* A job row's fixups, in place: params parsed (keys sorted), model as the
 * request will use it (null unless params is an object), the error_*
 * columns grouped into "error" (null when all are null). */
void catdoc_job(json_t *o);
/* catdoc_job plus the token columns grouped into "usage" (show). */
void catdoc_job_usage(json_t *o);
/* An attempts row: usage parsed, error_* grouped. */
void catdoc_attempt(json_t *o);

/* Moves each image row of imgs (with "job_id") into the "images" array of
 * its job in jobs (each given one, maybe empty). */
void catdoc_page_attach(json_t *jobs, json_t *imgs);

/* A "jobs" object with every state at 0 and "total" 0. NULL: no memory. */
json_t *catdoc_state_counts(void);
/* Adds count jobs in state to counts (an unknown state gets its own key). */
void catdoc_count_state(json_t *counts, const char *state, int64_t count);

/* status's "database" object: schema_version, size_bytes, free_bytes. */
json_t *catdoc_database(int64_t version, int64_t size, int64_t free_bytes);
/* status's "tokens", "finished" and "images" objects into doc. */
void catdoc_totals(json_t *doc, const int64_t tokens[3],
    int64_t last_minute, int64_t last_hour, int64_t finals,
    int64_t partials);
/* One period of status's "spent": {"start", "end", "all", "models"}, from
 * rows of CATSQL_SPENT (objects by column name, one per model): the
 * columns named prefix + a counter, in "models" as one object per model
 * that has attempts in it. Each model's row and "all" (their sum) get
 * cost_usd_micro: the known costs plus the reserves of the attempts of
 * unknown cost. NULL: no memory. */
json_t *catdoc_spent(int64_t start, int64_t end, const json_t *rows,
    const char *prefix);
/* status's "estimate_vs_actual" from CATSQL_ESTIMATES's row v[9]. */
json_t *catdoc_estimates(const int64_t v[9]);
/* status's "pause" object into doc; reason is taken (NULL: not paused). */
void catdoc_pause(json_t *doc, json_t *reason);

/* Copies p (n bytes) to out when it is a SHA-256 in 64 lowercase hex
 * digits, else sets out to "". */
void catdoc_sha256(const char *p, size_t n, char out[65]);

/* Appends x to the array *v of *len values with room for *cap, growing
 * it. Returns 0, or -1 when out of memory (*v unchanged). */
int catdoc_push(int64_t **v, size_t *len, size_t *cap, int64_t x);

#endif
