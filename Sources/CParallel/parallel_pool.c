#define _GNU_SOURCE
#include "parallel_pool.h"
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

#define MAX_WORKERS 256
// How long an idle worker spins before it sleeps, and how long a caller spins for the last chunk.
// A worker's spin is kept short: on a VM whose two cores share one physical core at times, a
// spinning worker takes issue slots from the thread doing the serial work between jobs.
#define SPIN_NS 10000L
#define CALLER_SPIN_NS 50000L

static int worker_count = 0;
static pthread_once_t started = PTHREAD_ONCE_INIT;
static int requested = 1;
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;  // one job at a time
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
// The caller waits for the last chunk the same way: spin briefly, then sleep until it is done (a
// chunk that blocks — on a FIFO, a slow disk — must not cost a core while it waits).
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;

static _Atomic unsigned long generation = 0;
static _Atomic long next_chunk = 0;
static _Atomic long done_chunks = 0;
static _Atomic int sleepers = 0;
static long job_chunks = 0;
static genlab_chunk_fn job_fn = 0;
static void *job_context = 0;
static __thread int inside_job = 0;

static long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void work_on_job(void) {
    long c;
    inside_job = 1;
    while ((c = atomic_fetch_add(&next_chunk, 1)) < job_chunks) {
        job_fn(job_context, c);
        if (atomic_fetch_add(&done_chunks, 1) + 1 == job_chunks) {
            // The last chunk: wake the caller if it went to sleep (under the lock: no lost wake-up).
            pthread_mutex_lock(&done_lock);
            pthread_cond_broadcast(&done_cond);
            pthread_mutex_unlock(&done_lock);
        }
    }
    inside_job = 0;
}

static void *worker(void *arg) {
    (void)arg;
    unsigned long seen = 0;
    for (;;) {
        long spin_until = now_ns() + SPIN_NS;
        unsigned long g;
        while ((g = atomic_load(&generation)) == seen) {
            if (now_ns() < spin_until) { for (int i = 0; i < 64; i++) cpu_relax(); continue; }
            pthread_mutex_lock(&sleep_lock);
            atomic_fetch_add(&sleepers, 1);
            while (atomic_load(&generation) == seen) pthread_cond_wait(&wake, &sleep_lock);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&sleep_lock);
        }
        seen = g;
        work_on_job();
    }
    return 0;
}

static void start_once(void) {
    int n = requested - 1;
    if (n > MAX_WORKERS) n = MAX_WORKERS;
    for (int i = 0; i < n; i++) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, worker, 0) == 0) worker_count++;
        pthread_attr_destroy(&attr);
    }
}

void genlab_pool_start(int threads) {
    if (threads > 0) requested = threads;
    pthread_once(&started, start_once);
}

void genlab_pool_run(long chunks, genlab_chunk_fn fn, void *context) {
    if (chunks <= 0) return;
    if (inside_job || chunks == 1 || worker_count == 0) {
        for (long c = 0; c < chunks; c++) fn(context, c);
        return;
    }
    pthread_mutex_lock(&run_lock);
    job_fn = fn;
    job_context = context;
    job_chunks = chunks;
    atomic_store(&done_chunks, 0);
    atomic_store(&next_chunk, 0);
    // Publishing the new generation releases the job fields to the workers.
    pthread_mutex_lock(&sleep_lock);
    atomic_fetch_add(&generation, 1);
    if (atomic_load(&sleepers) > 0) pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&sleep_lock);
    work_on_job();
    long spin_until = now_ns() + CALLER_SPIN_NS;
    while (atomic_load(&done_chunks) < chunks && now_ns() < spin_until) { for (int i = 0; i < 64; i++) cpu_relax(); }
    if (atomic_load(&done_chunks) < chunks) {
        pthread_mutex_lock(&done_lock);
        while (atomic_load(&done_chunks) < chunks) pthread_cond_wait(&done_cond, &done_lock);
        pthread_mutex_unlock(&done_lock);
    }
    pthread_mutex_unlock(&run_lock);
}
