#include "core/pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct job {
    gh_job_fn fn;
    void *arg;
};

struct gh_pool {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct job *ring; /* queue_max slots */
    unsigned queue_max;
    unsigned head;
    unsigned count;
    int stopping;
    unsigned nthreads;
    pthread_t *threads;
};

static void *worker(void *arg)
{
    struct gh_pool *pool = arg;

    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (pool->count == 0 && !pool->stopping)
            pthread_cond_wait(&pool->wake, &pool->lock);
        if (pool->count == 0)
            break; /* stopping and drained */
        struct job job = pool->ring[pool->head];
        pool->head = (pool->head + 1) % pool->queue_max;
        pool->count--;
        pthread_mutex_unlock(&pool->lock);
        job.fn(job.arg);
        pthread_mutex_lock(&pool->lock);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

gh_err gh_pool_new(const char *name, unsigned threads, unsigned queue_max, struct gh_pool **out)
{
    (void)name;
    if (threads == 0 || queue_max == 0)
        return GH_ERR_INVALID;
    struct gh_pool *pool = calloc(1, sizeof(*pool));
    if (pool == NULL)
        return GH_ERR_NOMEM;
    pool->ring = calloc(queue_max, sizeof(*pool->ring));
    pool->threads = calloc(threads, sizeof(*pool->threads));
    if (pool->ring == NULL || pool->threads == NULL) {
        free(pool->ring);
        free(pool->threads);
        free(pool);
        return GH_ERR_NOMEM;
    }
    pool->queue_max = queue_max;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&pool->threads[i], NULL, worker, pool) != 0) {
            pool->nthreads = i;
            gh_pool_free(pool);
            return GH_ERR_NOMEM;
        }
    }
    pool->nthreads = threads;
    *out = pool;
    return GH_OK;
}

gh_err gh_pool_submit(struct gh_pool *pool, gh_job_fn fn, void *arg)
{
    gh_err err = GH_ERR_BUSY;

    pthread_mutex_lock(&pool->lock);
    if (!pool->stopping && pool->count < pool->queue_max) {
        unsigned tail = (pool->head + pool->count) % pool->queue_max;
        pool->ring[tail] = (struct job){fn, arg};
        pool->count++;
        pthread_cond_signal(&pool->wake);
        err = GH_OK;
    }
    pthread_mutex_unlock(&pool->lock);
    return err;
}

void gh_pool_free(struct gh_pool *pool)
{
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (unsigned i = 0; i < pool->nthreads; i++)
        pthread_join(pool->threads[i], NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool->threads);
    free(pool->ring);
    free(pool);
}

unsigned gh_pool_depth(struct gh_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    unsigned n = pool->count;
    pthread_mutex_unlock(&pool->lock);
    return n;
}
