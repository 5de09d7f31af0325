/* test_evcurl.c: curl's multi_socket API on libevent, against a local
 * evhttp server: transfers complete once, a removed transfer is removed
 * once however often it is asked, and nothing is left behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
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

/* /fast answers at once; /slow never answers (the test removes it). */
static void
on_request(struct evhttp_request *req, void *arg)
{
	struct evbuffer *body;

	(void)arg;
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
	CHECK_INT(done_calls, 3);
	evhttp_free(http);
	event_base_free(base);
	curl_global_cleanup();
	return tu_finish("test_evcurl");
}
