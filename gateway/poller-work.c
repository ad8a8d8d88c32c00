/*
 * poller-work: the poller's workers. A sync's IMAP round trips (DONE,
 * SEARCH, FETCH; later STORE and IDLE) wait on the server, and a burst
 * wakes many mailboxes at once: done one after another on the loop's
 * thread they add up (issue 18: 200 mailboxes, ~30 ms each). Here up to
 * [general] sync_concurrency threads do them for several mailboxes at
 * once, while the loop's thread keeps the store to itself (ingest, the
 * commits, the timers that renew the leases).
 *
 * A job is a mailbox in MB_BUSY with mb->work set (poller-int.h): the
 * loop's thread hands it over (work_pool_submit()) and touches neither the
 * mailbox's connection nor mb->work until it takes it back
 * (work_pool_take()); the worker touches nothing else. The mutex orders
 * the two. An eventfd, polled with the loop's other descriptors, says
 * that jobs are done: it is readable exactly while the done list is not
 * empty (both change under the mutex).
 */
#include "build-config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "gateway/log.h"
#include "gateway/poller-int.h"
#include "base/util.h"

struct work_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct mbox *todo, *todo_tail; /* linked by work.next */
	struct mbox *done, *done_tail;
	size_t in_flight; /* submitted, not yet taken back */
	int quit;
	int efd;
	pthread_t *threads;
	size_t n_threads;
};

static void
list_push(struct mbox **head, struct mbox **tail, struct mbox *mb, int first)
{
	mb->work.next = NULL;
	if (*head == NULL) {
		*head = *tail = mb;
	} else if (first) {
		mb->work.next = *head;
		*head = mb;
	} else {
		(*tail)->work.next = mb;
		*tail = mb;
	}
}

static struct mbox *
list_pop(struct mbox **head, struct mbox **tail)
{
	struct mbox *mb = *head;
	if (mb != NULL) {
		*head = mb->work.next;
		if (*head == NULL)
			*tail = NULL;
		mb->work.next = NULL;
	}
	return mb;
}

static void *
worker(void *arg)
{
	struct work_pool *pool = arg;
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (pool->todo == NULL && !pool->quit)
			pthread_cond_wait(&pool->cond, &pool->lock);
		struct mbox *mb = list_pop(&pool->todo, &pool->todo_tail);
		if (mb == NULL)
			break; /* quit, and nothing left to do */
		pthread_mutex_unlock(&pool->lock);
		poller_sync_run(mb);
		pthread_mutex_lock(&pool->lock);
		if (pool->done == NULL) {
			uint64_t one = 1;
			if (write(pool->efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
				log_warn("work pool: eventfd write");
		}
		list_push(&pool->done, &pool->done_tail, mb, 0);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

struct work_pool *
work_pool_new(size_t n)
{
	if (n < 2)
		return NULL;
	struct work_pool *pool = xcalloc(1, sizeof(*pool));
	pool->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pool->efd < 0) {
		log_warn("work pool: eventfd; every sync on the loop's thread");
		free(pool);
		return NULL;
	}
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, NULL);
	pool->threads = xcalloc(n, sizeof(*pool->threads));
	/* the threads inherit this one's mask: the signals stay blocked */
	for (size_t t = 0; t < n; t++) {
		int err = pthread_create(&pool->threads[t], NULL, worker, pool);
		if (err != 0) {
			log_warnx("cannot start a sync thread: %s", strerror(err));
			break;
		}
		pool->n_threads++;
	}
	if (pool->n_threads == 0) {
		log_warnx("no sync thread: every sync on the loop's thread");
		work_pool_free(&pool);
		return NULL;
	}
	return pool;
}

void
work_pool_free(struct work_pool **poolp)
{
	struct work_pool *pool = *poolp;
	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->quit = 1;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	for (size_t t = 0; t < pool->n_threads; t++)
		pthread_join(pool->threads[t], NULL);
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->lock);
	close(pool->efd);
	free(pool->threads);
	free(pool);
	*poolp = NULL;
}

void
work_pool_submit(struct work_pool *pool, struct mbox *mb, int first)
{
	pthread_mutex_lock(&pool->lock);
	list_push(&pool->todo, &pool->todo_tail, mb, first);
	pool->in_flight++;
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}

struct mbox *
work_pool_take(struct work_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	struct mbox *mb = list_pop(&pool->done, &pool->done_tail);
	if (mb != NULL) {
		pool->in_flight--;
		if (pool->done == NULL) {
			uint64_t count;
			if (read(pool->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
				log_warn("work pool: eventfd read");
		}
	}
	pthread_mutex_unlock(&pool->lock);
	return mb;
}

int
work_pool_fd(const struct work_pool *pool)
{
	return pool->efd;
}

size_t
work_pool_in_flight(const struct work_pool *pool)
{
	/* only the loop's thread changes it (submit, take) */
	return pool->in_flight;
}
