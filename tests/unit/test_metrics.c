/* test_metrics.c: the Prometheus rendering alone: every family has HELP and
 * TYPE, counters and histograms add up, label values are escaped, and the
 * --metrics-listen parser takes what it should and nothing else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "testutil.h"

static char *
render(const struct metrics *m, int64_t now)
{
	struct buf b = { 0 };

	CHECK_INT(metrics_render(m, now, &b), 0);
	CHECK_INT(buf_append(&b, "", 1), 0);
	return (char *)b.data;
}

/* The whole line starting with prefix, or NULL. */
static const char *
line(const char *text, const char *prefix, char *out, size_t n)
{
	const char *p = text, *e;
	size_t len = strlen(prefix);

	while (p != NULL && *p != '\0') {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) >= len && strncmp(p, prefix, len) == 0) {
			snprintf(out, n, "%.*s", (int)(e - p), p);
			return out;
		}
		p = *e ? e + 1 : e;
	}
	return NULL;
}

#define HAS_LINE(text, want) do { char tu_l[512]; \
	CHECK_STR(line((text), (want), tu_l, sizeof(tu_l)), (want)); } while (0)

/* The format's structure: lines end in \n; a sample follows the TYPE of
 * its family (histograms: _bucket, _sum, _count); each family has HELP
 * before TYPE, once. */
static void
check_structure(const char *text)
{
	char family[128] = "", type[32] = "", name[160];
	const char *p = text, *e;
	int helped = 0, types = 0;
	size_t len, flen;

	CHECK(*text != '\0' && text[strlen(text) - 1] == '\n');
	for (; *p != '\0'; p = e + 1) {
		e = strchr(p, '\n');
		CHECK(e != NULL && e > p); /* no empty line */
		if (e == NULL || e == p)
			return;
		if (strncmp(p, "# HELP ", 7) == 0) {
			CHECK(sscanf(p + 7, "%127s", family) == 1);
			helped = 1;
			continue;
		}
		if (strncmp(p, "# TYPE ", 7) == 0) {
			CHECK(helped);
			CHECK(sscanf(p + 7, "%*s %31s", type) == 1);
			CHECK(strncmp(p + 7, family, strlen(family)) == 0);
			helped = 0;
			types++;
			continue;
		}
		CHECK(*p != '#');
		len = strcspn(p, "{ ");
		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		flen = strlen(family);
		CHECK(strncmp(name, family, flen) == 0);
		if (strcmp(type, "histogram") == 0)
			CHECK(strcmp(name + flen, "_bucket") == 0 ||
			    strcmp(name + flen, "_sum") == 0 ||
			    strcmp(name + flen, "_count") == 0);
		else
			CHECK(name[flen] == '\0');
		if (strcmp(type, "counter") == 0)
			CHECK(flen > 6 && strcmp(family + flen - 6, "_total") == 0);
	}
	CHECK(types >= 12);
}

static void
test_empty(void)
{
	struct metrics m;
	char *t, l[256];

	metrics_init(&m);
	t = render(&m, 1000);
	check_structure(t);
	HAS_LINE(t, "# TYPE imgedit_attempts_total counter");
	HAS_LINE(t, "imgedit_attempts_total{outcome=\"succeeded\"} 0");
	HAS_LINE(t, "imgedit_attempts_total{outcome=\"paused\"} 0");
	HAS_LINE(t, "imgedit_http_responses_total{class=\"2xx\"} 0");
	HAS_LINE(t, "imgedit_images_stored_total{kind=\"partial\"} 0");
	HAS_LINE(t, "imgedit_images_stored_bytes_total{kind=\"final\"} 0");
	HAS_LINE(t, "imgedit_upstream_ttfb_seconds_bucket{le=\"+Inf\"} 0");
	HAS_LINE(t, "imgedit_upstream_ttfb_seconds_count 0");
	HAS_LINE(t, "imgedit_attempt_duration_seconds_sum 0.000");
	HAS_LINE(t, "imgedit_paused{reason=\"\"} 0");
	HAS_LINE(t, "imgedit_transfers_in_flight 0");
	HAS_LINE(t, "imgedit_db_lock_waits_total 0");
	HAS_LINE(t, "# TYPE imgedit_jobs gauge");
	/* job counts not read yet: no sample rather than a false zero */
	CHECK(line(t, "imgedit_jobs{", l, sizeof(l)) == NULL);
	free(t);
}

static void
test_counts(void)
{
	struct metrics m;
	char *t;

	metrics_init(&m);
	metrics_attempt(&m, "succeeded");
	metrics_attempt(&m, "succeeded");
	metrics_attempt(&m, "retry");
	metrics_attempt(&m, "interrupted");
	metrics_attempt(&m, "nonsense");
	metrics_attempt(&m, NULL);
	metrics_response(&m, 200);
	metrics_response(&m, 201);
	metrics_response(&m, 500);
	metrics_response(&m, 429);
	metrics_response(&m, 0);
	metrics_response(&m, 999);
	metrics_image(&m, 0, 100);
	metrics_image(&m, 0, 50);
	metrics_image(&m, 1, 250);
	metrics_image(&m, 7, 1);  /* no such kind */
	metrics_observe(&m.ttfb, 40);
	metrics_observe(&m.ttfb, 1500);
	metrics_observe(&m.ttfb, -1);
	metrics_observe(&m.ttfb, 10000000);
	m.jobs_known = 1;
	m.jobs[0] = 3;
	m.jobs[3] = 12;
	m.in_flight = 2;
	m.db_lock_waits = 4;
	m.db_lock_wait_ms = 1250;
	m.pending_bytes = 1234567;
	m.held_bytes = 2345678;
	t = render(&m, 1000);
	check_structure(t);
	HAS_LINE(t, "imgedit_attempts_total{outcome=\"succeeded\"} 2");
	HAS_LINE(t, "imgedit_attempts_total{outcome=\"retry\"} 1");
	HAS_LINE(t, "imgedit_attempts_total{outcome=\"interrupted\"} 1");
	HAS_LINE(t, "imgedit_attempts_total{outcome=\"failed\"} 0");
	HAS_LINE(t, "imgedit_http_responses_total{class=\"2xx\"} 2");
	HAS_LINE(t, "imgedit_http_responses_total{class=\"4xx\"} 1");
	HAS_LINE(t, "imgedit_http_responses_total{class=\"5xx\"} 1");
	HAS_LINE(t, "imgedit_http_responses_total{class=\"other\"} 2");
	HAS_LINE(t, "imgedit_images_stored_total{kind=\"partial\"} 2");
	HAS_LINE(t, "imgedit_images_stored_total{kind=\"final\"} 1");
	HAS_LINE(t, "imgedit_images_stored_bytes_total{kind=\"partial\"} 150");
	HAS_LINE(t, "imgedit_images_stored_bytes_total{kind=\"final\"} 250");
	/* cumulative buckets, sum in seconds */
	HAS_LINE(t, "imgedit_upstream_ttfb_seconds_bucket{le=\"0.025\"} 0");
	HAS_LINE(t, "imgedit_upstream_ttfb_seconds_bucket{le=\"0.05\"} 1");
	HAS_LINE(t, "imgedit_upstream_ttfb_seconds_bucket{le=\"1\"} 1");
	HAS_LINE(t, "imgedit_upstream_ttfb_seconds_bucket{le=\"2.5\"} 2");
	HAS_LINE(t, "imgedit_upstream_ttfb_seconds_bucket{le=\"+Inf\"} 3");
	HAS_LINE(t, "imgedit_upstream_ttfb_seconds_sum 10001.540");
	HAS_LINE(t, "imgedit_upstream_ttfb_seconds_count 3");
	HAS_LINE(t, "imgedit_jobs{state=\"queued\"} 3");
	HAS_LINE(t, "imgedit_jobs{state=\"succeeded\"} 12");
	HAS_LINE(t, "imgedit_jobs{state=\"canceled\"} 0");
	HAS_LINE(t, "imgedit_transfers_in_flight 2");
	HAS_LINE(t, "imgedit_db_lock_waits_total 4");
	HAS_LINE(t, "imgedit_db_lock_wait_seconds_total 1.250");
	HAS_LINE(t, "imgedit_images_waiting_bytes 1234567");
	HAS_LINE(t, "imgedit_image_memory_bytes 2345678");
	free(t);
}

static void
test_ratelimit(void)
{
	struct metrics m;
	char *t;

	metrics_init(&m);
	metrics_ratelimit(&m, 0, 500);     /* no wait: nothing */
	metrics_ratelimit(&m, 1, 1000);    /* a wait begins */
	metrics_ratelimit(&m, 1, 1100);    /* the same wait */
	metrics_ratelimit(&m, 0, 1600);    /* over: 0.6 s */
	metrics_ratelimit(&m, 0, 1700);
	metrics_ratelimit(&m, 1, 2000);    /* another, still going */
	t = render(&m, 2300);
	HAS_LINE(t, "imgedit_ratelimit_waits_total 2");
	HAS_LINE(t, "imgedit_ratelimit_wait_seconds_total 0.900");
	free(t);
}

static void
test_escaping(void)
{
	struct metrics m;
	struct buf b = { 0 };
	char *t;

	metrics_init(&m);
	m.paused = 1;
	snprintf(m.pause_reason, sizeof(m.pause_reason),
	    "HTTP 401 \"bad\" key\\path\nnext\r\x01 caf\xc3\xa9 \xff\xc3.end");
	t = render(&m, 0);
	check_structure(t);
	HAS_LINE(t, "imgedit_paused{reason=\"HTTP 401 \\\"bad\\\" key\\\\path"
	    "\\nnext?? caf\xc3\xa9 ??.end\"} 1");
	free(t);

	/* UTF-8 kept whole, truncated and overlong forms replaced */
	CHECK_INT(metrics_label_append(&b, "\xe2\x82\xac \xf0\x9f\x98\x80 "
	    "\xe2\x82 \xc0\xaf \xed\xa0\x80"), 0);
	CHECK_INT(buf_append(&b, "", 1), 0);
	CHECK_STR((char *)b.data, "\xe2\x82\xac \xf0\x9f\x98\x80 ?? ?? ???");
	buf_free(&b);
}

/* Cost and tokens per model: known costs summed exactly in dollars, an
 * unknown one not counted, hostile names escaped, models past the table's
 * room summed as "other". */
static void
test_cost(void)
{
	struct metrics m;
	char name[32], want[96], *t;
	int i;

	metrics_init(&m);
	metrics_cost(&m, "gpt-image-2", 21072, 50, 1536, 7024);
	metrics_cost(&m, "gpt-image-2", 1000001, 1, 2, 3);
	metrics_cost(&m, "gpt-image-2", -1, 0, 0, 0);
	metrics_cost(&m, "odd\"\n", 0, 0, 0, 10);
	metrics_cost(&m, NULL, -1, 5, 0, 0);
	t = render(&m, 0);
	check_structure(t);
	HAS_LINE(t, "imgedit_cost_usd_total{model=\"gpt-image-2\"} 1.021073");
	HAS_LINE(t, "imgedit_tokens_total{model=\"gpt-image-2\",kind="
	    "\"text_input\"} 51");
	HAS_LINE(t, "imgedit_tokens_total{model=\"gpt-image-2\",kind="
	    "\"image_input\"} 1538");
	HAS_LINE(t, "imgedit_tokens_total{model=\"gpt-image-2\",kind="
	    "\"output\"} 7027");
	HAS_LINE(t, "imgedit_cost_usd_total{model=\"odd\\\"\\n\"} 0.000000");
	HAS_LINE(t, "imgedit_tokens_total{model=\"\",kind=\"text_input\"} 5");
	free(t);
	for (i = 0; i < METRICS_MODELS + 5; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		metrics_cost(&m, name, 1, 0, 0, 0);
	}
	CHECK_INT(m.nmodels, METRICS_MODELS);
	t = render(&m, 0);
	check_structure(t);
	/* 3 slots taken above, 20 more names, the last 9 are "other" */
	HAS_LINE(t, "imgedit_cost_usd_total{model=\"m19\"} 0.000001");
	CHECK(strstr(t, "model=\"m20\"") == NULL);
	snprintf(want, sizeof(want), "imgedit_cost_usd_total{model=\"other\"} "
	    "0.%06d", METRICS_MODELS + 5 - (METRICS_MODELS - 1 - 3));
	HAS_LINE(t, want);
	free(t);
}

int
main(void)
{
	test_empty();
	test_cost();
	test_counts();
	test_ratelimit();
	test_escaping();
	return tu_finish("test_metrics");
}
