/* test_evcurl.c: curl's multi_socket API on libevent, against a local
 * evhttp server: transfers complete once, a removed transfer is removed
 * once however often it is asked, a stream sent in small pieces arrives
 * whole in fewer reads than pieces, and nothing is left behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "evcurl.h"
#include "testutil.h"

static int done_calls;
static CURLcode last_result;

static void
on_done(void *arg, CURL *easy, CURLcode result)
{
	(void)arg;
	done_calls++;
	last_result = result;
	curl_easy_cleanup(easy);
}

#define PIECES 400
#define PIECE_LEN 1000

/* /pieces: PIECES chunks of PIECE_LEN bytes, each written once the one
 * before went out (as a proxy that forwards what it gets at once). */
static int pieces_sent;

static unsigned char
pattern(size_t off)
{
	return (unsigned char)(off * 7 + off / 251);
}

static void
next_piece(struct evhttp_connection *evcon, void *arg)
{
	struct evhttp_request *req = arg;
	unsigned char piece[PIECE_LEN];
	struct evbuffer *buf;
	size_t i, off = (size_t)pieces_sent * PIECE_LEN;

	(void)evcon;
	if (pieces_sent == PIECES) {
		evhttp_send_reply_end(req);
		return;
	}
	for (i = 0; i < PIECE_LEN; i++)
		piece[i] = pattern(off + i);
	buf = evbuffer_new();
	evbuffer_add(buf, piece, sizeof(piece));
	pieces_sent++;
	evhttp_send_reply_chunk_with_cb(req, buf, next_piece, req);
	evbuffer_free(buf);
}

static void
send_pieces(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	int one = 1;

	/* each piece its own segment: no Nagle to join them */
	setsockopt(bufferevent_getfd(evhttp_connection_get_bufferevent(evcon)),
	    IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	evhttp_send_reply_start(req, 200, "OK");
	next_piece(evcon, req);
}

/* /fast answers at once; /pieces in small pieces; /slow never answers (the
 * test removes it). */
static void
on_request(struct evhttp_request *req, void *arg)
{
	struct evbuffer *body;

	(void)arg;
	if (strcmp(evhttp_request_get_uri(req), "/pieces") == 0) {
		send_pieces(req);
		return;
	}
	if (strcmp(evhttp_request_get_uri(req), "/fast") != 0)
		return; /* left hanging: freed with the server */
	body = evbuffer_new();
	evbuffer_add_printf(body, "hello");
	evhttp_send_reply(req, 200, "OK", body);
	evbuffer_free(body);
}

static size_t
sink(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* The bytes of /pieces: counted, and compared with what was sent. */
static size_t got, got_wrong;

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < size * n; i++, got++)
		got_wrong += (unsigned char)p[i] != pattern(got);
	return size * n;
}

static CURL *
easy_for(int port, const char *path)
{
	CURL *easy = curl_easy_init();
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, sink);
	return easy;
}

static void
spin(struct event_base *base, int ms)
{
	struct timeval tv = { 0, ms * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

int
main(void)
{
	struct event_base *base = event_base_new();
	struct evhttp *http = evhttp_new(base);
	struct evhttp_bound_socket *bound;
	struct evcurl *ec;
	CURL *slow;
	unsigned long reads0;
	int port, i;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
	CHECK(bound != NULL);
	if (bound == NULL)
		return 1;
	{
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &len);
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	evhttp_set_gencb(http, on_request, NULL);
	ec = evcurl_new(base, on_done, NULL);
	CHECK(ec != NULL);

	/* three fast transfers: each done once */
	for (i = 0; i < 3; i++)
		CHECK_INT(evcurl_add(ec, easy_for(port, "/fast")), 0);
	CHECK_INT(evcurl_running(ec), 3);
	for (i = 0; i < 100 && done_calls < 3; i++)
		spin(base, 10);
	CHECK_INT(done_calls, 3);
	CHECK_INT(last_result, CURLE_OK);
	CHECK_INT(evcurl_running(ec), 0);

	/* a stream in small pieces, each drained before the next is written:
	 * every byte arrives, in fewer reads than pieces (a read takes what
	 * came since the last one, not each piece as it comes) */
	slow = easy_for(port, "/pieces");
	curl_easy_setopt(slow, CURLOPT_WRITEFUNCTION, collect);
	reads0 = evcurl_reads(ec);
	CHECK_INT(evcurl_add(ec, slow), 0);
	for (i = 0; i < 500 && done_calls < 4; i++)
		spin(base, 10);
	CHECK_INT(done_calls, 4);
	CHECK_INT(last_result, CURLE_OK);
	CHECK_INT(pieces_sent, PIECES);
	CHECK_INT(got, PIECES * PIECE_LEN);
	CHECK_INT(got_wrong, 0);
	CHECK(evcurl_reads(ec) - reads0 < PIECES / 4);
	if (evcurl_reads(ec) - reads0 >= PIECES / 4)
		fprintf(stderr, "%lu reads for %d pieces\n",
		    evcurl_reads(ec) - reads0, PIECES);

	/* a hanging one, removed twice (as a cancel after its own end did) */
	slow = easy_for(port, "/slow");
	CHECK_INT(evcurl_add(ec, slow), 0);
	spin(base, 50); /* connected, waiting: curl has a socket event */
	CHECK_INT(evcurl_running(ec), 1);
	evcurl_remove(ec, slow);
	CHECK_INT(evcurl_running(ec), 0);
	evcurl_remove(ec, slow);
	CHECK_INT(evcurl_running(ec), 0);
	curl_easy_cleanup(slow);

	/* one left in flight when the driver goes: its socket's event is
	 * freed with it (ASan's leak check says if not) */
	slow = easy_for(port, "/slow");
	CHECK_INT(evcurl_add(ec, slow), 0);
	spin(base, 50);
	evcurl_remove(ec, slow);
	curl_easy_cleanup(slow);
	evcurl_free(ec);
	CHECK_INT(done_calls, 4);
	evhttp_free(http);
	event_base_free(base);
	curl_global_cleanup();
	return tu_finish("test_evcurl");
}
