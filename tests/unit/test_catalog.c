/* test_catalog.c: the same catalog cases on every backend given (argv: an
 * SQLite path, a postgresql:// URI; t_catalog_both.sh makes both): submit,
 * cancel/retry from every state, documents read back; they must agree. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog.h"
#include "jobstate.h"
#include "rows.h"
#include "testutil.h"
#include "util.h"

#define NSIDES 2
#define MODEL "gpt-image-2.5-sunburst"

/* One backend's run: its catalog and what each case gave, by case name. */
struct side {
	const char *uri;
	struct catalog *cat;
	json_t *got;
};

/* Raw SQL beside the catalog (as another program or the daemon writes):
 * ints[0..n) bound as ?1.., then an optional text as ?n+1. */
static int
raw(struct catalog *cat, const char *sql, const int64_t *ints, int n,
    const char *text)
{
	struct rows_conn *c;
	const struct rows_methods *m = catalog_rows(cat, &c);
	struct rows_stmt *s;
	int i, rc;

	if (m->prepare(c, sql, &s) == -1) {
		fprintf(stderr, "prepare %s: %s\n", sql, m->errmsg(c));
		return -1;
	}
	for (i = 0; i < n; i++)
		m->bind_int64(s, i + 1, ints[i]);
	if (text != NULL)
		m->bind_text(s, n + 1, text);
	while ((rc = m->step(s)) == ROWS_ROW)
		;
	if (rc != ROWS_DONE)
		fprintf(stderr, "%s: %s\n", sql, m->errmsg(c));
	m->finalize(s);
	return rc == ROWS_DONE ? 0 : -1;
}

/* Drops the keys whose values depend on the clock, everywhere in v. */
static void
no_clock(json_t *v)
{
	static const char *const keys[] = { "created_at", "updated_at",
	    "finished_at", "at", "heartbeat_at", "size_bytes", "free_bytes",
	    NULL };
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_array(v))
		json_array_foreach(v, i, x)
			no_clock(x);
	if (!json_is_object(v))
		return;
	for (i = 0; keys[i] != NULL; i++)
		json_object_del(v, keys[i]);
	json_object_foreach(v, k, x)
		no_clock(x);
}

static void
keep(struct side *sd, const char *name, json_t *v)
{
	no_clock(v);
	json_object_set_new(sd->got, name, v);
}

static int64_t
submit(struct side *sd, const char *prompt, const char *key, int64_t blob)
{
	struct catalog_input in = { INPUT_IMAGE, 0, "a.png", "image/png", blob };
	struct catalog_job job = { NULL, 1, 3, 2, 0, key, 0, 0, 0 };
	json_t *p = json_pack("{s:s,s:s,s:i}", "prompt", prompt, "model", MODEL,
	    "n", 2);
	char *params = json_dumps(p, JSON_COMPACT);
	int64_t id = -1;

	job.params = params;
	CHECK_INT(catalog_submit_begin(sd->cat), CATALOG_OK);
	CHECK_INT(catalog_insert_job(sd->cat, &job, &in, 1, &id), CATALOG_OK);
	CHECK_INT(catalog_submit_end(sd->cat, 1), CATALOG_OK);
	free(params);
	json_decref(p);
	return id;
}

/* Blobs stored once, a job with a non-ASCII prompt and a key, read back. */
static void
case_submit(struct side *sd)
{
	static const char bytes[] = "\x89PNG\r\n\x1a\nnot really";
	static const char sha[] = "5a9a2b4f6ed9a6b7b5a1c2b4a9b0c3d2e1f0a9b8"
	    "c7d6e5f4a3b2c1d0e9f8a7b6";
	int64_t b1 = 0, b2 = 0, b3 = 0, id, found = 0, n;
	struct catalog_bytes_meta m;
	unsigned char *data = NULL;
	size_t len = 0;
	json_t *doc = NULL;

	CHECK_INT(catalog_submit_begin(sd->cat), CATALOG_OK);
	CHECK_INT(catalog_put_blob(sd->cat, sha, bytes, sizeof(bytes), &b1),
	    CATALOG_OK);
	CHECK_INT(catalog_put_blob(sd->cat, sha, bytes, sizeof(bytes), &b2),
	    CATALOG_OK);
	CHECK_INT(catalog_put_blob(sd->cat, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855", "", 0, &b3), CATALOG_OK);
	CHECK_INT(catalog_submit_end(sd->cat, 1), CATALOG_OK);
	CHECK(b1 > 0 && b1 == b2 && b3 != b1);
	id = submit(sd, "ciel bleu, \xc3\xa9t\xc3\xa9 \xe2\x80\x94 sunburst",
	    "key-1", b1);
	CHECK_INT(catalog_find_key(sd->cat, "key-1", &found), 1);
	CHECK_INT(found, id);
	CHECK_INT(catalog_find_key(sd->cat, "key-none", &found), 0);
	CHECK_INT(catalog_show(sd->cat, id, &doc), CATALOG_OK);
	CHECK_STR(json_string_value(json_object_get(json_object_get(doc,
	    "params"), "prompt")), "ciel bleu, \xc3\xa9t\xc3\xa9 \xe2\x80\x94 "
	    "sunburst");
	CHECK_STR(json_string_value(json_object_get(json_array_get(
	    json_object_get(doc, "inputs"), 0), "sha256")), sha);
	keep(sd, "submit.show", doc);
	CHECK_INT(catalog_show(sd->cat, id + 1000, &doc), CATALOG_NOTFOUND);
	CHECK_INT(catalog_input_get(sd->cat, id, INPUT_IMAGE, 0, 1 << 20, &data,
	    &len, &m), CATALOG_OK);
	CHECK_INT(len, sizeof(bytes));
	if (data != NULL)
		CHECK_MEM(data, bytes, sizeof(bytes));
	free(data);
	CHECK_INT(catalog_input_get(sd->cat, id, INPUT_IMAGE, 0, 4, &data, &len,
	    &m), CATALOG_ERR);      /* larger than max: refused unread */
	CHECK_INT(catalog_input_get(sd->cat, id, INPUT_MASK, 0, 1 << 20, &data,
	    &len, &m), CATALOG_NOTFOUND);
	n = b3;
	keep(sd, "submit.blob_ids", json_pack("[I,I,I]", (json_int_t)b1,
	    (json_int_t)b2, (json_int_t)n));
}

/* Puts job id in state s as the daemon or a finished run leaves it. */
static int
set_state(struct side *sd, int64_t id, enum job_state s)
{
	static const char sql[] = "UPDATE jobs SET state = ?3, attempts = 2, "
	    "max_attempts = 2, error_message = 'boom', lease_owner = CASE WHEN "
	    "?3 = 'running' THEN 'd-test' END, lease_expires = CASE WHEN ?3 = "
	    "'running' THEN CAST(?2 AS bigint) END, finished_at = CASE WHEN ?3 IN "
	    "('succeeded','failed','canceled') THEN CAST(?2 AS bigint) END "
	    "WHERE id = ?1";
	int64_t v[2] = { id, 4102444800000LL };

	return raw(sd->cat, sql, v, 2, job_state_name(s));
}

/* Every action from every state: jobstate's rule, on every backend. */
static void
case_transitions(struct side *sd)
{
	static int (*const fn[ACTION_COUNT])(struct catalog *, int64_t,
	    int64_t, char *) = { catalog_cancel, catalog_retry,
	    catalog_retry_force };
	static const char *const names[ACTION_COUNT] = { "cancel", "retry",
	    "retry_force" };
	char state[CATALOG_STATE_LEN], after[CATALOG_STATE_LEN], key[64];
	json_t *doc, *row;
	int64_t id;
	int a, s, rc, allowed;

	for (a = 0; a < ACTION_COUNT; a++)
		for (s = 0; s < JOB_STATE_COUNT; s++) {
			id = submit(sd, "transition", NULL, 1);
			CHECK_INT(set_state(sd, id, (enum job_state)s), 0);
			state[0] = '\0';
			rc = fn[a](sd->cat, id, now_ms(), state);
			allowed = job_action_allowed((enum job_action)a,
			    (enum job_state)s);
			CHECK_INT(rc, allowed ? CATALOG_OK : CATALOG_STATE);
			if (!allowed)
				CHECK_STR(state, job_state_name((enum job_state)s));
			CHECK_INT(catalog_job_state(sd->cat, id, after),
			    CATALOG_OK);
			CHECK_STR(after, !allowed ? job_state_name((enum
			    job_state)s) : a == ACTION_CANCEL ? "canceled" :
			    "queued");
			doc = NULL;
			CHECK_INT(catalog_show(sd->cat, id, &doc), CATALOG_OK);
			row = json_pack("{s:i,s:s,s:O,s:O,s:O,s:O}", "rc", rc,
			    "after", after, "max_attempts", json_object_get(doc,
			    "max_attempts"), "lease", json_object_get(doc,
			    "lease_owner") ? json_object_get(doc, "lease_owner") :
			    json_null(), "error", json_object_get(doc, "error"),
			    "events", json_object_get(doc, "events"));
			json_decref(doc);
			snprintf(key, sizeof(key), "transition.%s.%s", names[a],
			    job_state_name((enum job_state)s));
			keep(sd, key, row);
		}
	CHECK_INT(catalog_cancel(sd->cat, 999999, now_ms(), state),
	    CATALOG_NOTFOUND);
}

/* A finished job with attempts and images, as the daemon stores them,
 * read back through every reading call. */
static void
case_documents(struct side *sd)
{
	static const char attempt[] = "INSERT INTO attempts (job_id, number, "
	    "started_at, ended_at, http_status, request_id, outcome, "
	    "input_tokens, output_tokens, total_tokens, usage) VALUES (?1, 1, "
	    "1000, 2000, 200, 'req_1', 'succeeded', 5, 7, 12, "
	    "'{\"total_tokens\":12}')";
	static const char image[] = "INSERT INTO images (job_id, attempt_id, "
	    "kind, idx, partial_index, format, width, height, size, sha256, "
	    "created_at, data) SELECT ?1, id, ?2, 0, NULL, 'png', 4, 4, 3, "
	    "'abc', 1500, ?3 FROM attempts WHERE job_id = ?1";
	static const char done[] = "UPDATE jobs SET state = 'succeeded', "
	    "attempts = 1, finished_at = 3000, input_tokens = 5, "
	    "output_tokens = 7, total_tokens = 12 WHERE id = ?1";
	struct catalog_page_query q = { NULL, "DOCUMENTS", 0, 0, 10 };
	const char *states[1] = { "succeeded" };
	struct catalog_prune_result pr;
	struct rows_conn *c;
	const struct rows_methods *m = catalog_rows(sd->cat, &c);
	struct rows_stmt *s = NULL;
	json_t *doc = NULL;
	int64_t id, v[1], ev = 0, im = 0;
	int was = -1, n = -1;

	id = submit(sd, "documents sunburst", "key-doc", 1);
	v[0] = id;
	CHECK_INT(raw(sd->cat, attempt, v, 1, NULL), 0);
	/* an image with bytes bound as a blob */
	if (m->prepare(c, image, &s) == 0) {
		m->bind_int64(s, 1, id);
		m->bind_text(s, 2, "final");
		m->bind_blob(s, 3, "\x01\x00\x02", 3);
		CHECK_INT(m->step(s), ROWS_DONE);
		m->finalize(s);
	} else
		CHECK(0);
	CHECK_INT(raw(sd->cat, done, v, 1, NULL), 0);
	CHECK_INT(catalog_show(sd->cat, id, &doc), CATALOG_OK);
	keep(sd, "documents.show", doc);
	CHECK_INT(catalog_list(sd->cat, "succeeded,canceled", 0, 0, &doc),
	    CATALOG_OK);
	keep(sd, "documents.list_some", doc);
	CHECK_INT(catalog_list(sd->cat, "queued", 0, 3, &doc), CATALOG_OK);
	CHECK_INT(json_array_size(doc), 3);
	keep(sd, "documents.list_one", doc);
	CHECK_INT(catalog_status(sd->cat, now_ms(), &doc), CATALOG_OK);
	CHECK(json_is_false(json_object_get(json_object_get(doc, "database"),
	    "write_locked")));
	json_object_del(doc, "finished");
	keep(sd, "documents.status", doc);
	CHECK_INT(catalog_activity(sd->cat, 0, 0, 100, &doc), CATALOG_OK);
	keep(sd, "documents.activity", doc);
	CHECK_INT(catalog_job_marks(sd->cat, id, &ev, &im), CATALOG_OK);
	keep(sd, "documents.marks", json_pack("[I,I]", (json_int_t)ev,
	    (json_int_t)im));
	CHECK_INT(catalog_page(sd->cat, &q, &doc), CATALOG_OK);
	CHECK_INT(json_array_size(doc), 1);
	keep(sd, "documents.page", doc);
	CHECK_INT(catalog_set_pause(sd->cat, "quota", &was), CATALOG_OK);
	CHECK_INT(was, 0);
	CHECK_INT(catalog_set_pause(sd->cat, NULL, &was), CATALOG_OK);
	CHECK_INT(was, 1);
	CHECK_INT(catalog_live_daemons(sd->cat, now_ms(), 6000, &n),
	    CATALOG_OK);
	CHECK_INT(n, 0);
	/* a heartbeat exactly fresh_ms old is live (copy's rule too) */
	CHECK_INT(raw(sd->cat, "INSERT INTO daemons (id, host, pid, "
	    "started_at, heartbeat_at) VALUES ('d1', 'h', 1, 10000, 10000)",
	    NULL, 0, NULL), 0);
	CHECK_INT(catalog_live_daemons(sd->cat, 16000, 6000, &n), CATALOG_OK);
	CHECK_INT(n, 1);
	CHECK_INT(catalog_live_daemons(sd->cat, 16001, 6000, &n), CATALOG_OK);
	CHECK_INT(n, 0);
	CHECK_INT(raw(sd->cat, "DELETE FROM daemons", NULL, 0, NULL), 0);
	CHECK_INT(catalog_prune_plan(sd->cat, states, 1, 4000, &pr),
	    CATALOG_OK);
	CHECK_INT(pr.jobs, 1);
	CHECK_INT(pr.image_bytes, 3);
	CHECK_INT(catalog_prune(sd->cat, states, 1, 4000, &pr), CATALOG_OK);
	CHECK_INT(pr.jobs, 1);
	CHECK_INT(catalog_show(sd->cat, id, &doc), CATALOG_NOTFOUND);
	keep(sd, "documents.prune", json_pack("[I,I]", (json_int_t)pr.jobs,
	    (json_int_t)pr.blobs));
}

static int
run_side(struct side *sd)
{
	char err[1024], name[1024];
	int version = 0;

	if (catalog_init(sd->uri, name, sizeof(name), &version, err,
	    sizeof(err)) != CATALOG_OK || catalog_open(sd->uri, 0,
	    "test_catalog", &sd->cat, err, sizeof(err)) != CATALOG_OK) {
		fprintf(stderr, "%s: %s\n", sd->uri, err);
		CHECK(0);
		return -1;
	}
	sd->got = json_object();
	case_submit(sd);
	case_transitions(sd);
	case_documents(sd);
	catalog_close(sd->cat);
	return 0;
}

int
main(int argc, char **argv)
{
	struct side sides[NSIDES] = { { 0 } };
	const char *k;
	json_t *a;
	int i, n = argc - 1 < NSIDES ? argc - 1 : NSIDES;

	if (n < 1) {
		fprintf(stderr, "usage: test_catalog DB [DB]\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		sides[i].uri = argv[i + 1];
		run_side(&sides[i]);
	}
	/* every case gave the same document on every backend */
	for (i = 1; i < n && sides[0].got != NULL && sides[i].got != NULL; i++)
		json_object_foreach(sides[0].got, k, a) {
			json_t *b = json_object_get(sides[i].got, k);
			char *da = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT);
			char *db = b ? json_dumps(b, JSON_SORT_KEYS |
			    JSON_COMPACT) : NULL;

			tu_checked++;
			if (db == NULL || strcmp(da, db) != 0) {
				tu_failed++;
				fprintf(stderr, "%s differs:\n  %s\n  %s\n", k, da,
				    db ? db : "(missing)");
			}
			free(da);
			free(db);
		}
	for (i = 0; i < n; i++) {
		if (sides[i].got != NULL)
			printf("%s: %zu cases\n", sides[i].uri,
			    json_object_size(sides[i].got));
		json_decref(sides[i].got);
	}
	return tu_finish("test_catalog");
}
