#ifndef GENLAB_PARALLEL_POOL_H
#define GENLAB_PARALLEL_POOL_H

/// A persistent pool of worker threads for GenLab's kernels.
///
/// libdispatch's concurrentPerform on Linux costs about a millisecond a call to wake its workers,
/// more than a 1M-element kernel takes; these workers spin briefly after each job and then sleep
/// on a condition variable, so back-to-back kernels hand over in microseconds.
typedef void (*genlab_chunk_fn)(void *context, long chunk);

/// Starts `threads - 1` workers (the caller is the last); later calls are no-ops.
void genlab_pool_start(int threads);

/// Runs fn(context, c) for c in 0..<chunks across the pool and the calling thread; returns when all
/// are done. Called from inside a chunk (nested), it runs the chunks serially on that thread.
void genlab_pool_run(long chunks, genlab_chunk_fn fn, void *context);

#endif
