/* thumbpool.c: worker threads take jobs from a mutex-guarded queue, decode
 * (thumb.h, bounded), and hand results back through a pipe to the loop. */
#define _GNU_SOURCE
#include "thumbpool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#define THUMBPOOL_THREADS_MAX 8

struct tp_job {
	TAILQ_ENTRY(tp_job) entry;
	unsigned char *data;
	size_t len;
	uint32_t max_side;
	void *arg;
	struct thumbpool_result res;
};

TAILQ_HEAD(tp_list, tp_job);

struct thumbpool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct tp_list todo, done;     /* guarded by mu */
	size_t queued, pending;        /* todo's length; not yet reported */
	int stopping;                  /* guarded by mu */
	size_t queue_max;
	int wake[2];                   /* a byte per finished job, to the loop */
	struct event *ev;
	thumbpool_done_fn *done_cb;
	pthread_t threads[THUMBPOOL_THREADS_MAX];
	int nthreads;
};

static void
job_free(struct tp_job *j)
{
	free(j->data);
	free(j->res.t.png);
	free(j);
}

static void *
worker(void *arg)
{
	struct thumbpool *tp = arg;
	struct tp_job *j;
	char byte = 1;

	pthread_mutex_lock(&tp->mu);
	for (;;) {
		while (!tp->stopping && TAILQ_EMPTY(&tp->todo))
			pthread_cond_wait(&tp->cv, &tp->mu);
		if (tp->stopping)
			break;
		j = TAILQ_FIRST(&tp->todo);
		TAILQ_REMOVE(&tp->todo, j, entry);
		tp->queued--;
		pthread_mutex_unlock(&tp->mu);
		j->res.ok = thumb_make(j->data, j->len, j->max_side, &j->res.t,
		    j->res.err, sizeof(j->res.err)) == 0;
		free(j->data);
		j->data = NULL;
		pthread_mutex_lock(&tp->mu);
		TAILQ_INSERT_TAIL(&tp->done, j, entry);
		/* full pipe: a wake is pending already */
		(void)!write(tp->wake[1], &byte, 1);
	}
	pthread_mutex_unlock(&tp->mu);
	return NULL;
}

/* The loop's side: the finished jobs, reported one by one. */
static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct thumbpool *tp = arg;
	struct tp_list done;
	struct tp_job *j;
	char drain[64];

	(void)what;
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	TAILQ_INIT(&done);
	pthread_mutex_lock(&tp->mu);
	TAILQ_CONCAT(&done, &tp->done, entry);
	pthread_mutex_unlock(&tp->mu);
	while ((j = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, j, entry);
		tp->pending--;
		tp->done_cb(j->arg, &j->res);
		job_free(j);
	}
}

struct thumbpool *
thumbpool_new(struct event_base *base, int threads, int queue_max,
    thumbpool_done_fn *done)
{
	struct thumbpool *tp;

	if (threads < 1 || threads > THUMBPOOL_THREADS_MAX || queue_max < 1 ||
	    (tp = calloc(1, sizeof(*tp))) == NULL)
		return NULL;
	pthread_mutex_init(&tp->mu, NULL);
	pthread_cond_init(&tp->cv, NULL);
	TAILQ_INIT(&tp->todo);
	TAILQ_INIT(&tp->done);
	tp->queue_max = (size_t)queue_max;
	tp->done_cb = done;
	tp->wake[0] = tp->wake[1] = -1;
	if (pipe2(tp->wake, O_NONBLOCK | O_CLOEXEC) == -1 ||
	    (tp->ev = event_new(base, tp->wake[0], EV_READ | EV_PERSIST,
	    on_wake, tp)) == NULL || event_add(tp->ev, NULL) == -1)
		goto fail;
	for (; tp->nthreads < threads; tp->nthreads++)
		if (pthread_create(&tp->threads[tp->nthreads], NULL, worker,
		    tp) != 0)
			goto fail;
	return tp;
fail:
	thumbpool_free(tp);
	return NULL;
}

int
thumbpool_submit(struct thumbpool *tp, const char *key,
    unsigned char *data, size_t len, uint32_t max_side, void *arg)
{
	struct tp_job *j;

	if (strlen(key) > THUMBPOOL_KEY_MAX ||
	    (j = calloc(1, sizeof(*j))) == NULL)
		return -1;
	memcpy(j->res.key, key, strlen(key) + 1);
	j->data = data;
	j->len = len;
	j->max_side = max_side;
	j->arg = arg;
	pthread_mutex_lock(&tp->mu);
	if (tp->queued >= tp->queue_max) {
		pthread_mutex_unlock(&tp->mu);
		free(j);
		return -1;
	}
	TAILQ_INSERT_TAIL(&tp->todo, j, entry);
	tp->queued++;
	tp->pending++;
	pthread_cond_signal(&tp->cv);
	pthread_mutex_unlock(&tp->mu);
	return 0;
}

size_t
thumbpool_pending(const struct thumbpool *tp)
{
	return tp->pending;
}

static void
drop_all(struct tp_list *l)
{
	struct tp_job *j;

	while ((j = TAILQ_FIRST(l)) != NULL) {
		TAILQ_REMOVE(l, j, entry);
		job_free(j);
	}
}

void
thumbpool_free(struct thumbpool *tp)
{
	int i;

	if (tp == NULL)
		return;
	pthread_mutex_lock(&tp->mu);
	tp->stopping = 1;
	pthread_cond_broadcast(&tp->cv);
	pthread_mutex_unlock(&tp->mu);
	for (i = 0; i < tp->nthreads; i++)
		pthread_join(tp->threads[i], NULL);
	drop_all(&tp->todo);
	drop_all(&tp->done);
	if (tp->ev != NULL)
		event_free(tp->ev);
	if (tp->wake[0] != -1)
		close(tp->wake[0]);
	if (tp->wake[1] != -1)
		close(tp->wake[1]);
	pthread_cond_destroy(&tp->cv);
	pthread_mutex_destroy(&tp->mu);
	free(tp);
}
