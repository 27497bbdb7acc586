"""The timing rule every PyTorch benchmark script shares with GenLab's `Measure`: warm up, size a
batch of calls to `batch_seconds`, and take the fastest batch's seconds per call (interference on a
shared machine only ever adds time)."""
import time


def per_call(fn, batch_seconds, batches=5):
    fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    n = max(1, int(batch_seconds / once))
    times = []
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - start) / n)
    return min(times)
