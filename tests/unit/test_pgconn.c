/* test_pgconn.c: daemon/pg/pgconn.c against a real PostgreSQL (argv[1] is its
 * URI, argv[2] a scratch directory for sockets; tests/integration/
 * t_pg_conn.sh starts a throwaway cluster for it). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "pgconn.h"
#include "pgschema.h"
#include "testutil.h"
#include "testloop.h"

static int seq;                 /* completions so far, in order */

struct rec {
	int done, ok, lost, order;
	char state[6];
	char error[200];
	PGresult *res;          /* taken from the reply */
};

static void
on_done(void *arg, struct pgconn_reply *reply)
{
	struct rec *r = arg;

	r->done = 1;
	r->order = seq++;
	r->ok = reply->ok;
	r->lost = reply->lost;
	memcpy(r->state, reply->sqlstate, sizeof(r->state));
	snprintf(r->error, sizeof(r->error), "%s", reply->error ? reply->error : "");
	r->res = reply->res;
	reply->res = NULL;
}

static void
rec_clear(struct rec *r)
{
	PQclear(r->res);
	memset(r, 0, sizeof(*r));
}

struct conn_state {
	int ups, downs;
	char why[256];
};

static void
on_state(void *arg, int up, const char *err)
{
	struct conn_state *s = arg;

	if (up)
		s->ups++;
	else {
		s->downs++;
		snprintf(s->why, sizeof(s->why), "%s", err ? err : "");
	}
}

struct notes {
	int n, pid;
	char channel[64], payload[64];
};

static void
on_notify(void *arg, const char *channel, const char *payload, int pid)
{
	struct notes *s = arg;

	s->n++;
	s->pid = pid;
	snprintf(s->channel, sizeof(s->channel), "%s", channel);
	snprintf(s->payload, sizeof(s->payload), "%s", payload);
}

/* Runs the loop until *counter >= want or ms pass. Returns 0; a timeout
 * ends the test (queries still pending point into stack frames). */
static int
run_until_at(struct event_base *base, const int *counter, int want, int ms,
    int line)
{
	if (tu_run_until(base, counter, want, ms) == 0)
		return 0;
	fprintf(stderr, "%s:%d: timed out after %d ms (%d of %d)\n",
	    __FILE__, line, ms, *counter, want);
	tu_failed++;
	exit(tu_finish("test_pgconn"));
}
#define run_until(b, c, w, ms) run_until_at((b), (c), (w), (ms), __LINE__)

/* Sends sql with text parameters (NULL-terminated list) to r. */
static int
send_text(struct pgconn *c, const char *sql, const char *const *values,
    int n, struct rec *r)
{
	struct pgconn_query q = { .sql = sql, .nparams = n, .values = values,
	    .done = on_done, .arg = r };

	return pgconn_query(c, &q);
}

static void
sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 32;

	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

static void
hex(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* Queries complete in the order sent, with their own rows. */
static void
test_order(struct event_base *base, struct pgconn *c)
{
	static char bufs[50][16];
	static const char *vals[50][1];
	struct rec r[50];
	int i, in_order = 1, right = 0;

	memset(r, 0, sizeof(r));
	seq = 0;
	for (i = 0; i < 50; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "%d", i);
		vals[i][0] = bufs[i];
		CHECK_INT(send_text(c, "SELECT $1::int * 2, repeat('x', $1::int)",
		    vals[i], 1, &r[i]), 0);
	}
	CHECK_INT(pgconn_pending(c), 50);
	CHECK_INT(run_until(base, &seq, 50, 5000), 0);
	for (i = 0; i < 50; i++) {
		in_order &= r[i].order == i;
		if (r[i].ok && PQntuples(r[i].res) == 1 &&
		    atoi(PQgetvalue(r[i].res, 0, 0)) == 2 * i &&
		    PQgetlength(r[i].res, 0, 1) == i)
			right++;
		rec_clear(&r[i]);
	}
	CHECK(in_order);
	CHECK_INT(right, 50);
	CHECK_INT(pgconn_pending(c), 0);
}

/* One query at a time, each sent from the last one's callback. */
struct chain {
	struct pgconn *c;
	int left, done, failed;
};

static void
chain_next(void *arg, struct pgconn_reply *reply)
{
	struct chain *ch = arg;
	struct pgconn_query q = { .sql = "SELECT 1", .done = chain_next,
	    .arg = ch };

	if (reply != NULL && !reply->ok)
		ch->failed++;
	if (ch->left-- == 0) {
		ch->done = 1;
		return;
	}
	if (pgconn_query(ch->c, &q) == -1)
		ch->failed++;
}

static void
test_round_trip(struct event_base *base, struct pgconn *c)
{
	struct chain ch = { c, 500, 0, 0 };
	double t0 = tu_now_ms();

	chain_next(&ch, NULL);
	CHECK_INT(run_until(base, &ch.done, 1, 10000), 0);
	CHECK_INT(ch.failed, 0);
	printf("round trip (SELECT 1, one at a time): %.3f ms\n",
	    (tu_now_ms() - t0) / 500);
}

/* 1.5 MB of bytea out and back in binary: the same bytes. */
static void
test_bytea(struct event_base *base, struct pgconn *c, PGconn *other)
{
	size_t n = 1536 * 1024, i;
	unsigned char *blob = malloc(n), want[32], got[32];
	char wanthex[65], idbuf[24];
	const char *vals[1], *idvals[1] = { idbuf };
	int lens[1] = { (int)n }, fmts[1] = { 1 };
	struct rec ins = { 0 }, sel = { 0 }, srv = { 0 };
	struct pgconn_query q = { .stmt = "put_blob", .nparams = 1,
	    .values = vals, .lengths = lens, .formats = fmts,
	    .done = on_done, .arg = &ins };
	uint32_t x = 2463534242u;
	double t0;

	for (i = 0; i < n; i++) {  /* xorshift: every byte value, NULs too */
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		blob[i] = (unsigned char)x;
	}
	sha256(blob, n, want);
	hex(want, 32, wanthex);
	vals[0] = (const char *)blob;
	seq = 0;
	t0 = tu_now_ms();
	CHECK_INT(pgconn_query(c, &q), 0);
	CHECK_INT(run_until(base, &seq, 1, 10000), 0);
	printf("1.5 MB bytea INSERT (prepared, binary): %.2f ms\n", tu_now_ms() - t0);
	CHECK(ins.ok);
	if (!ins.ok) {
		fprintf(stderr, "insert: %s %s\n", ins.state, ins.error);
		goto done;
	}
	snprintf(idbuf, sizeof(idbuf), "%s", PQgetvalue(ins.res, 0, 0));
	{       /* the same INSERT by blocking libpq, for comparison */
		PGresult *sync;

		t0 = tu_now_ms();
		sync = PQexecParams(other, "INSERT INTO blobs_t (data) VALUES ($1)",
		    1, NULL, vals, lens, fmts, 0);
		printf("1.5 MB bytea INSERT (PQexecParams, blocking): %.2f ms\n",
		    tu_now_ms() - t0);
		CHECK_INT(PQresultStatus(sync), PGRES_COMMAND_OK);
		PQclear(sync);
	}
	q = (struct pgconn_query){ .sql = "SELECT data FROM blobs_t WHERE id = $1",
	    .nparams = 1, .values = idvals, .binary_result = 1,
	    .done = on_done, .arg = &sel };
	t0 = tu_now_ms();
	CHECK_INT(pgconn_query(c, &q), 0);
	CHECK_INT(send_text(c, "SELECT length(data), encode(sha256(data), 'hex') "
	    "FROM blobs_t WHERE id = $1", idvals, 1, &srv), 0);
	CHECK_INT(run_until(base, &seq, 3, 10000), 0);
	printf("1.5 MB bytea SELECT (binary): %.2f ms\n", tu_now_ms() - t0);
	CHECK(sel.ok && srv.ok);
	if (!sel.ok || !srv.ok || PQntuples(sel.res) != 1)
		goto done;
	CHECK_INT(PQfformat(sel.res, 0), 1);
	CHECK_INT(PQgetlength(sel.res, 0, 0), n);
	sha256(PQgetvalue(sel.res, 0, 0), PQgetlength(sel.res, 0, 0), got);
	CHECK_MEM(got, want, 32);
	/* the server holds the same bytes, not their hex text */
	CHECK_STR(PQgetvalue(srv.res, 0, 0), "1572864");
	CHECK_STR(PQgetvalue(srv.res, 0, 1), wanthex);
done:
	rec_clear(&ins);
	rec_clear(&sel);
	rec_clear(&srv);
	free(blob);
}

/* 200 INSERTs in one pipeline; the one that breaks a CHECK fails alone. */
static void
test_pipeline_isolation(struct event_base *base, struct pgconn *c)
{
	static char bufs[200][16];
	static const char *vals[200][1];
	struct rec r[200], count = { 0 };
	int i, ok = 0, bad = -1, in_order = 1;
	double t0 = tu_now_ms();

	memset(r, 0, sizeof(r));
	seq = 0;
	for (i = 0; i < 200; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "%d", i);
		vals[i][0] = bufs[i];
		CHECK_INT(send_text(c, "INSERT INTO checked_t (v) VALUES ($1)",
		    vals[i], 1, &r[i]), 0);
	}
	CHECK_INT(send_text(c, "SELECT count(*), sum(v) FROM checked_t", NULL, 0,
	    &count), 0);
	CHECK_INT(run_until(base, &seq, 201, 10000), 0);
	printf("200 pipelined INSERTs: %.2f ms\n", tu_now_ms() - t0);
	for (i = 0; i < 200; i++) {
		in_order &= r[i].order == i;
		if (r[i].ok)
			ok++;
		else if (bad == -1) {
			bad = i;
			CHECK_STR(r[i].state, "23514");
			CHECK_INT(r[i].lost, 0);
		}
		rec_clear(&r[i]);
	}
	CHECK(in_order);
	CHECK_INT(ok, 199);
	CHECK_INT(bad, 137);
	CHECK(count.ok);
	if (count.ok) {
		CHECK_STR(PQgetvalue(count.res, 0, 0), "199");
		CHECK_STR(PQgetvalue(count.res, 0, 1), "19763"); /* 19900 - 137 */
	}
	rec_clear(&count);
	CHECK(pgconn_is_up(c));
}

/* A NOTIFY from another session reaches the callback while the loop runs. */
static void
test_notify(struct event_base *base, PGconn *other, struct notes *notes,
    const char *payload)
{
	PGresult *res;
	int before = notes->n;

	res = PQexec(other, payload[0] == 'a' ?
	    "NOTIFY pgconn_test, 'after reconnect'" :
	    "NOTIFY pgconn_test, 'hello'");
	CHECK_INT(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	CHECK_INT(run_until(base, &notes->n, before + 1, 5000), 0);
	CHECK_INT(notes->n, before + 1);
	CHECK_STR(notes->channel, "pgconn_test");
	CHECK_STR(notes->payload, payload);
	CHECK_INT(notes->pid, PQbackendPID(other));
}

struct ticker {
	struct event *ev;
	double last, max_gap;     /* since the last tick or the start */
	int fires;
};

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct ticker *t = arg;
	double now = tu_now_ms();

	(void)fd;
	(void)what;
	if (now - t->last > t->max_gap)
		t->max_gap = now - t->last;
	t->last = now;
	t->fires++;
}

/* One pg_sleep(0.5) under a 10 ms timer: the longest gap between ticks
 * (the start and the answer count as ticks). Returns it, or 1e9. */
static double
sleep_gap(struct event_base *base, struct pgconn *c)
{
	struct ticker t = { 0 };
	struct timeval tv = { 0, 10000 };
	struct rec r = { 0 };
	double t0, gap;

	t.ev = event_new(base, -1, EV_PERSIST, on_tick, &t);
	event_add(t.ev, &tv);
	seq = 0;
	t0 = t.last = tu_now_ms();
	CHECK_INT(send_text(c, "SELECT pg_sleep(0.5)", NULL, 0, &r), 0);
	CHECK_INT(run_until(base, &seq, 1, 5000), 0);
	event_free(t.ev);
	on_tick(-1, 0, &t);
	CHECK(r.ok);
	CHECK(tu_now_ms() - t0 >= 500);
	printf("while pg_sleep(0.5) ran: %d ticks, longest gap %.1f ms\n",
	    t.fires - 1, t.max_gap);
	gap = t.fires - 1 >= 30 ? t.max_gap : 1e9;
	rec_clear(&r);
	return gap;
}

/* The loop goes on while the server sleeps: every 10 ms tick within 100
 * ms. A loop that waits for the answer shows a ~500 ms gap; a loaded
 * 2-core machine (a CI run beside sanitizer builds) delays ticks by 20-30
 * ms by scheduling alone, so the bound sits between the two, with up to
 * three tries. */
static void
test_never_blocks(struct event_base *base, struct pgconn *c)
{
	double best = 1e9, gap;
	int i;

	for (i = 0; i < 3 && best >= 100; i++)
		if ((gap = sleep_gap(base, c)) < best)
			best = gap;
	CHECK(best < 100);
}

/* pg_terminate_backend: every query waiting completes with a connection
 * error, the state callback says down; a reopen works, prepared
 * statements and LISTEN included. */
static void
test_terminate(struct event_base *base, struct pgconn *c, PGconn *other,
    struct conn_state *st, struct notes *notes)
{
	struct rec r[4], one = { 0 };
	char sql[96];
	PGresult *res;
	int i, lost = 0, downs = st->downs;
	double t0;

	memset(r, 0, sizeof(r));
	seq = 0;
	CHECK_INT(send_text(c, "SELECT pg_sleep(30)", NULL, 0, &r[0]), 0);
	for (i = 1; i < 4; i++)
		CHECK_INT(send_text(c, "SELECT 1", NULL, 0, &r[i]), 0);
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)",
	    pgconn_backend_pid(c));
	t0 = tu_now_ms();
	res = PQexec(other, sql);
	CHECK_INT(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	CHECK_INT(run_until(base, &seq, 4, 5000), 0);
	CHECK(tu_now_ms() - t0 < 5000);
	for (i = 0; i < 4; i++) {
		CHECK_INT(r[i].order, i);
		if (!r[i].ok && r[i].lost)
			lost++;
		rec_clear(&r[i]);
	}
	CHECK_INT(lost, 4);
	CHECK_INT(run_until(base, &st->downs, downs + 1, 2000), 0);
	CHECK(!pgconn_is_up(c));
	CHECK_INT(pgconn_pending(c), 0);
	CHECK_INT(send_text(c, "SELECT 1", NULL, 0, &one), -1);
	printf("terminated: queries completed in %.1f ms (%s)\n",
	    tu_now_ms() - t0, st->why);

	CHECK_INT(pgconn_open(c), 0);
	CHECK_INT(send_text(c, "SELECT 41 + 1", NULL, 0, &one), 0);
	CHECK_INT(run_until(base, &one.done, 1, 10000), 0);
	CHECK(one.ok && pgconn_is_up(c));
	if (one.ok)
		CHECK_STR(PQgetvalue(one.res, 0, 0), "42");
	rec_clear(&one);
	test_notify(base, other, notes, "after reconnect");
}

struct closer {
	struct rec r;
	struct pgconn *c;
};

static void
close_on_done(void *arg, struct pgconn_reply *reply)
{
	struct closer *cl = arg;

	on_done(&cl->r, reply);
	pgconn_close(cl->c, "closed by a callback");
}

/* A done callback that closes the connection with answers still coming:
 * the rest complete lost, nothing freed twice (ASan), and it reopens. */
static void
test_close_in_callback(struct event_base *base, struct pgconn *c,
    struct conn_state *st)
{
	struct rec r[5], one = { 0 };
	struct closer cl = { .c = c };
	struct pgconn_query q = { .sql = "SELECT 2", .done = close_on_done,
	    .arg = &cl };
	int i, downs = st->downs, ups = st->ups;

	memset(r, 0, sizeof(r));
	seq = 0;
	CHECK_INT(send_text(c, "SELECT 1", NULL, 0, &r[0]), 0);
	CHECK_INT(pgconn_query(c, &q), 0);
	for (i = 2; i < 5; i++)
		CHECK_INT(send_text(c, "SELECT 3", NULL, 0, &r[i]), 0);
	CHECK_INT(run_until(base, &seq, 5, 5000), 0);
	CHECK(r[0].ok && cl.r.ok);
	CHECK_INT(cl.r.order, 1);
	for (i = 2; i < 5; i++) {
		CHECK(r[i].lost && r[i].order == i);
		CHECK_STR(r[i].error, "closed by a callback");
		rec_clear(&r[i]);
	}
	rec_clear(&r[0]);
	rec_clear(&cl.r);
	CHECK_INT(st->downs, downs + 1);
	CHECK_STR(st->why, "closed by a callback");
	CHECK_INT(pgconn_open(c), 0);
	CHECK_INT(run_until(base, &st->ups, ups + 1, 10000), 0);
	CHECK_INT(send_text(c, "SELECT 1", NULL, 0, &one), 0);
	CHECK_INT(run_until(base, &one.done, 1, 5000), 0);
	CHECK(one.ok);
	rec_clear(&one);
}

struct reopener {
	struct rec r;
	struct pgconn *c;
	int reopened;
};

static void
reopen_on_lost(void *arg, struct pgconn_reply *reply)
{
	struct reopener *ro = arg;

	on_done(&ro->r, reply);
	if (reply->lost && !pgconn_is_up(ro->c) && pgconn_open(ro->c) == 0)
		ro->reopened = 1;
}

/* The server ends the session under a query whose callback reopens at
 * once (what storeq does): the new connection is not dropped after. */
static void
test_reopen_in_callback(struct event_base *base, struct pgconn *c,
    PGconn *other, struct conn_state *st)
{
	struct reopener ro = { .c = c };
	struct pgconn_query q = { .sql = "SELECT pg_sleep(30)",
	    .done = reopen_on_lost, .arg = &ro };
	struct rec one = { 0 };
	char sql[96];
	PGresult *res;
	int ups = st->ups, downs = st->downs;

	CHECK_INT(pgconn_query(c, &q), 0);
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)",
	    pgconn_backend_pid(c));
	res = PQexec(other, sql);
	PQclear(res);
	CHECK_INT(run_until(base, &ro.r.done, 1, 5000), 0);
	CHECK(ro.r.lost && ro.reopened);
	CHECK(ro.r.res == NULL);
	CHECK_STR(ro.r.state, PGCONN_LOST_STATE);
	CHECK(strstr(ro.r.error, "terminating connection") != NULL ||
	    strstr(ro.r.error, "closed") != NULL);
	CHECK_INT(run_until(base, &st->ups, ups + 1, 10000), 0);
	CHECK_INT(send_text(c, "SELECT 1", NULL, 0, &one), 0);
	CHECK_INT(run_until(base, &one.done, 1, 5000), 0);
	CHECK(one.ok && pgconn_is_up(c));
	CHECK_INT(st->downs, downs + 1);
	rec_clear(&one);
	rec_clear(&ro.r);
}

/* Connects that fail: no server (libpq knows at once), a server that
 * never answers (the timeout, with the loop running), a URI libpq
 * refuses. Each says so through the state callback, on the loop, and the
 * query waiting completes with lost = 1. */
static void
test_connect_failures(struct event_base *base, const char *dir)
{
	struct conn_state st = { 0 };
	struct rec r = { 0 };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char uri[512];
	struct pgconn *c;
	double t0;
	int fd;

	snprintf(uri, sizeof(uri), "postgresql:///x?host=%s/none&user=u", dir);
	c = pgconn_new(base, uri);
	pgconn_set_state_cb(c, on_state, &st);
	CHECK_INT(pgconn_open(c), 0);
	CHECK_INT(send_text(c, "SELECT 1", NULL, 0, &r), 0);
	CHECK_INT(run_until(base, &st.downs, 1, 5000), 0);
	CHECK(r.done && r.lost && !r.ok);
	CHECK_STR(r.state, PGCONN_LOST_STATE);
	CHECK(strstr(st.why, "No such file") != NULL);
	CHECK_INT(st.ups, 0);
	pgconn_free(c);

	/* a listening socket nobody accepts on: the startup never answers */
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/.s.PGSQL.5999", dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    listen(fd, 4) == 0);
	snprintf(uri, sizeof(uri), "postgresql:///x?host=%s&port=5999&user=u", dir);
	memset(&st, 0, sizeof(st));
	rec_clear(&r);
	c = pgconn_new(base, uri);
	pgconn_set_state_cb(c, on_state, &st);
	pgconn_set_connect_timeout(c, 300);
	t0 = tu_now_ms();
	CHECK_INT(pgconn_open(c), 0);
	CHECK_INT(send_text(c, "SELECT 1", NULL, 0, &r), 0);
	CHECK_INT(run_until(base, &st.downs, 1, 5000), 0);
	CHECK(tu_now_ms() - t0 >= 290 && tu_now_ms() - t0 < 2000);
	CHECK(r.done && r.lost);
	CHECK_STR(st.why, "timed out connecting");
	pgconn_free(c);
	close(fd);
	unlink(sun.sun_path);

	memset(&st, 0, sizeof(st));
	rec_clear(&r);
	c = pgconn_new(base, "postgresql://%zz");
	pgconn_set_state_cb(c, on_state, &st);
	CHECK_INT(pgconn_open(c), 0);
	CHECK_INT(send_text(c, "SELECT 1", NULL, 0, &r), 0);
	CHECK_INT(st.downs, 0);         /* not from within pgconn_open */
	CHECK_INT(run_until(base, &st.downs, 1, 5000), 0);
	CHECK(r.done && r.lost);
	CHECK(strstr(st.why, "percent-encoded") != NULL);
	CHECK(!pgconn_is_up(c));
	pgconn_free(c);
}

int
main(int argc, char **argv)
{
	struct event_base *base = event_base_new();
	struct conn_state st = { 0 };
	struct notes notes = { 0 };
	struct pgconn *c;
	struct rec r = { 0 };
	PGconn *other;
	PGresult *res;
	char err[256];

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: test_pgconn URI [SCRATCH_DIR]\n");
		return 2;
	}
	if ((other = pgschema_connect(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (argc == 3)
		test_connect_failures(base, argv[2]);
	c = pgconn_new(base, argv[1]);
	pgconn_set_state_cb(c, on_state, &st);
	pgconn_set_notify_cb(c, on_notify, &notes);
	CHECK_INT(send_text(c, "SELECT 1", NULL, 0, &r), -1); /* closed */
	CHECK_INT(pgconn_listen(c, "bad name"), -1);
	CHECK_INT(pgconn_listen(c, "pgconn_test"), 0);
	CHECK_INT(pgconn_prepare(c, "put_blob",
	    "INSERT INTO blobs_t (data) VALUES ($1) RETURNING id"), 0);
	res = PQexec(other, "CREATE TABLE blobs_t (id bigint GENERATED ALWAYS "
	    "AS IDENTITY PRIMARY KEY, data bytea NOT NULL); "
	    "ALTER TABLE blobs_t ALTER COLUMN data SET STORAGE EXTERNAL; "
	    "CREATE TABLE checked_t (v int CHECK (v <> 137))");
	CHECK_INT(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	CHECK_INT(pgconn_open(c), 0);
	/* queued while connecting; sent once up, after the setups */
	CHECK_INT(send_text(c, "SELECT 1; SELECT 2", NULL, 0, &r), 0);
	CHECK_INT(pgconn_is_up(c), 0);
	CHECK_INT(run_until(base, &st.ups, 1, 10000), 0);
	CHECK_INT(run_until(base, &r.done, 1, 10000), 0);
	/* a pipeline takes one statement per query */
	CHECK(!r.ok && !r.lost);
	CHECK_STR(r.state, "42601");
	rec_clear(&r);

	test_order(base, c);
	test_round_trip(base, c);
	test_bytea(base, c, other);
	test_pipeline_isolation(base, c);
	test_notify(base, other, &notes, "hello");
	test_never_blocks(base, c);
	test_terminate(base, c, other, &st, &notes);
	test_close_in_callback(base, c, &st);
	test_reopen_in_callback(base, c, other, &st);
	test_bytea(base, c, other);    /* prepared again on reconnect */

	pgconn_free(c);
	PQfinish(other);
	event_base_free(base);
	return tu_finish("test_pgconn");
}
