/* catdoc.c: the catalog's JSON documents from values (see catdoc.h): row
 * fixups, the status parts, shared by the SQLite and PostgreSQL catalogs. */
#include "catdoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "jobspec.h"
#include "jobstate.h"

json_t *
catdoc_text(const unsigned char *p, size_t n)
{
	json_t *j;
	char *copy;
	size_t i;

	if ((j = json_stringn((const char *)p, n)) != NULL)
		return j;
	if ((copy = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		copy[i] = p[i] < 0x80 && p[i] != 0 ? (char)p[i] : '?';
	j = json_stringn(copy, n);
	free(copy);
	return j;
}

void
catdoc_parse_field(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key), *parsed;

	if (!json_is_string(v))
		return;
	parsed = json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);
	if (parsed != NULL)
		json_object_set_new(o, key, parsed);
}

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An object with o's keys in byte order, each value sorted too. */
static json_t *
sorted_object(json_t *o)
{
	const char **keys, *k;
	json_t *out = NULL, *v;
	size_t n = 0, i;

	if ((keys = calloc(json_object_size(o) + 1, sizeof(*keys))) == NULL)
		return NULL;
	json_object_foreach(o, k, v)
		keys[n++] = k;
	qsort(keys, n, sizeof(*keys), cmp_key);
	if ((out = json_object()) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		if ((v = catdoc_sorted(json_object_get(o, keys[i]))) == NULL ||
		    json_object_set_new(out, keys[i], v) == -1) {
			json_decref(out);
			out = NULL;
			goto done;
		}
	}
done:
	free(keys);
	return out;
}

json_t *
catdoc_sorted(json_t *v)
{
	json_t *out, *e, *s;
	size_t i;

	if (json_is_object(v))
		return sorted_object(v);
	if (!json_is_array(v))
		return json_incref(v);
	if ((out = json_array()) == NULL)
		return NULL;
	json_array_foreach(v, i, e) {
		if ((s = catdoc_sorted(e)) == NULL ||
		    json_array_append_new(out, s) == -1) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* Moves keys prefix+name[i] into a sub-object at newkey (null if they are
 * all null, unless keep). */
static void
group_keys(json_t *o, const char *newkey, const char *prefix,
    const char *const *names, size_t n, int keep)
{
	json_t *g = json_object(), *v;
	char key[64];
	size_t i;
	int any = 0;

	if (g == NULL)
		return;
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%s%s", prefix, names[i]);
		if ((v = json_object_get(o, key)) == NULL)
			continue;
		json_object_set(g, names[i], v);
		any |= !json_is_null(v);
		json_object_del(o, key);
	}
	if (!any && !keep) {
		json_decref(g);
		g = json_null();
	}
	json_object_set_new(o, newkey, g);
}

/* The catalog reads params only up to the daemon's limit (catsql.h): a
 * row over it has params null and an error saying so, in the daemon's
 * words; params_bytes, the size the database measured, goes. */
static void
too_big_params(json_t *o)
{
	json_int_t bytes = json_integer_value(json_object_get(o,
	    "params_bytes"));
	char why[96];

	json_object_del(o, "params_bytes");
	if (bytes <= STORE_PARAMS_MAX || !json_is_null(json_object_get(o,
	    "params")))
		return;
	job_params_refusal(why, sizeof(why), bytes);
	json_object_set_new(o, "params_error", json_string(why));
}

void
catdoc_job(json_t *o)
{
	static const char *const names[] = {
		"status", "type", "code", "message", "request_id",
	};
	json_t *params, *sorted;
	const char *model;

	too_big_params(o);
	catdoc_parse_field(o, "params");
	params = json_object_get(o, "params");
	if (json_is_object(params) && (sorted = catdoc_sorted(params)) != NULL)
		json_object_set_new(o, "params", sorted);
	params = json_object_get(o, "params");
	model = jobspec_model(params);	/* NULL: none given, upstream picks */
	json_object_set_new(o, "model", model ? json_string(model) : json_null());
	group_keys(o, "error", "error_", names, 5, 0);
}

void
catdoc_job_usage(json_t *o)
{
	static const char *const names[] = {
		"input_tokens", "output_tokens", "total_tokens",
	};

	catdoc_job(o);
	group_keys(o, "usage", "", names, 3, 1);
}

void
catdoc_attempt(json_t *o)
{
	static const char *const names[] = { "type", "code", "message" };
	json_t *usage, *sorted;

	catdoc_parse_field(o, "usage");
	usage = json_object_get(o, "usage");
	if (json_is_object(usage) && (sorted = catdoc_sorted(usage)) != NULL)
		json_object_set_new(o, "usage", sorted);
	group_keys(o, "error", "error_", names, 3, 0);
}

void
catdoc_page_attach(json_t *jobs, json_t *imgs)
{
	json_t *job = NULL, *img, *arr;
	size_t i, j;

	json_array_foreach(jobs, j, job)
		json_object_set_new(job, "images", json_array());
	json_array_foreach(imgs, i, img) {
		json_array_foreach(jobs, j, job) {
			if (json_integer_value(json_object_get(job, "id")) !=
			    json_integer_value(json_object_get(img, "job_id")))
				continue;
			arr = json_object_get(job, "images");
			json_object_del(img, "job_id");
			json_array_append(arr, img);
			break;
		}
	}
}

json_t *
catdoc_state_counts(void)
{
	json_t *jobs = json_object();
	size_t i;

	if (jobs == NULL)
		return NULL;
	for (i = 0; i < JOB_STATE_COUNT; i++)
		json_object_set_new(jobs, job_state_name((enum job_state)i),
		    json_integer(0));
	json_object_set_new(jobs, "total", json_integer(0));
	return jobs;
}

void
catdoc_count_state(json_t *counts, const char *state, int64_t count)
{
	json_int_t total = json_integer_value(json_object_get(counts, "total"));

	/* "total" stays last: set before it is updated */
	if (state != NULL && strcmp(state, "total") != 0)
		json_object_set_new(counts, state, json_integer(count));
	json_object_set_new(counts, "total", json_integer(total + count));
}

json_t *
catdoc_database(int64_t version, int64_t size, int64_t free_bytes)
{
	return json_pack("{s:I,s:I,s:I}", "schema_version", (json_int_t)version,
	    "size_bytes", (json_int_t)size, "free_bytes", (json_int_t)free_bytes);
}

void
catdoc_totals(json_t *doc, const int64_t tokens[3], int64_t last_minute,
    int64_t last_hour, int64_t finals, int64_t partials)
{
	json_object_set_new(doc, "tokens", json_pack("{s:I,s:I,s:I}",
	    "input", (json_int_t)tokens[0], "output", (json_int_t)tokens[1],
	    "total", (json_int_t)tokens[2]));
	json_object_set_new(doc, "finished", json_pack("{s:I,s:I}",
	    "last_minute", (json_int_t)last_minute, "last_hour",
	    (json_int_t)last_hour));
	json_object_set_new(doc, "images", json_pack("{s:I,s:I}", "final",
	    (json_int_t)finals, "partial", (json_int_t)partials));
}

/* The counters of a spent row, summed into "all". */
static const char *const spent_keys[] = { "attempts", "running",
	"input_tokens", "output_tokens", "total_tokens", "known_usd_micro",
	"unknown", "unknown_reserved_usd_micro", "unknown_unreserved",
	"cost_usd_micro" };
#define SPENT_KEYS (sizeof(spent_keys) / sizeof(spent_keys[0]))

static json_int_t
int_at(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* The period's counters of row (prefix + key) as a model's object. */
static json_t *
spent_model(const json_t *row, const char *prefix)
{
	json_t *m = json_object(), *model = json_object_get(row, "model");
	char key[64];
	size_t k;

	if (m == NULL)
		return NULL;
	json_object_set_new(m, "model", model != NULL ? json_deep_copy(model) :
	    json_null());
	for (k = 0; k + 1 < SPENT_KEYS; k++) {
		snprintf(key, sizeof(key), "%s%s", prefix, spent_keys[k]);
		json_object_set_new(m, spent_keys[k],
		    json_integer(int_at(row, key)));
	}
	json_object_set_new(m, "cost_usd_micro", json_integer(
	    int_at(m, "known_usd_micro") +
	    int_at(m, "unknown_reserved_usd_micro")));
	return m;
}

json_t *
catdoc_spent(int64_t start, int64_t end, const json_t *rows,
    const char *prefix)
{
	json_t *all = json_object(), *models = json_array(), *row, *m;
	json_int_t sum[SPENT_KEYS] = { 0 };
	size_t i, k;

	if (all == NULL || models == NULL)
		goto fail;
	json_array_foreach(rows, i, row) {
		if ((m = spent_model(row, prefix)) == NULL)
			goto fail;
		if (int_at(m, "attempts") == 0) {
			json_decref(m);
			continue;
		}
		for (k = 0; k < SPENT_KEYS; k++)
			sum[k] += int_at(m, spent_keys[k]);
		json_array_append_new(models, m);
	}
	for (k = 0; k < SPENT_KEYS; k++)
		json_object_set_new(all, spent_keys[k], json_integer(sum[k]));
	return json_pack("{s:I,s:I,s:o,s:o}", "start", (json_int_t)start,
	    "end", (json_int_t)end, "all", all, "models", models);
fail:
	json_decref(all);
	json_decref(models);
	return NULL;
}

json_t *
catdoc_estimates(const int64_t v[9])
{
	return json_pack("{s:I,s:I,s:o,s:I,s:I,s:I,s:I,s:I}", "jobs",
	    (json_int_t)v[0], "estimate_lo_usd_micro", (json_int_t)v[1],
	    "estimate_hi_usd_micro", v[2] > 0 ? json_null() :
	    json_integer(v[3]), "actual_usd_micro", (json_int_t)v[4],
	    "unknown", (json_int_t)v[5], "under", (json_int_t)v[6],
	    "within", (json_int_t)v[7], "over", (json_int_t)v[8]);
}

void
catdoc_pause(json_t *doc, json_t *reason)
{
	json_t *p = json_object();

	json_object_set_new(p, "paused", json_boolean(reason != NULL));
	json_object_set_new(p, "reason", reason != NULL ? reason : json_null());
	json_object_set_new(doc, "pause", p);
}

int
catdoc_push(int64_t **v, size_t *len, size_t *cap, int64_t x)
{
	int64_t *p;
	size_t ncap;

	if (*len == *cap) {
		ncap = *cap ? *cap * 2 : 64;
		if ((p = realloc(*v, ncap * sizeof(*p))) == NULL)
			return -1;
		*v = p;
		*cap = ncap;
	}
	(*v)[(*len)++] = x;
	return 0;
}

void
catdoc_sha256(const char *p, size_t n, char out[65])
{
	size_t k;

	out[0] = '\0';
	if (p == NULL || n != 64)
		return;
	for (k = 0; k < 64; k++)
		if (!((p[k] >= '0' && p[k] <= '9') || (p[k] >= 'a' && p[k] <= 'f')))
			return;
	memcpy(out, p, 64);
	out[64] = '\0';
}
