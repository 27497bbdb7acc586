import CParallel
import Foundation

/// How many threads GenLab's own kernels (and BLAS) use: `GENLAB_THREADS`, else the core count
/// shared out among the ranks that mpirun started on this host.
public enum Threads {
    public static let count: Int = {
        let env = ProcessInfo.processInfo.environment
        if let s = env["GENLAB_THREADS"], let n = Int(s), n > 0 { return n }
        let ranksHere = env["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) }.map { max(1, $0) } ?? 1
        return max(1, ProcessInfo.processInfo.activeProcessorCount / ranksHere)
    }()
}

/// Work below this many elements runs on the calling thread: splitting costs more than it saves.
public let parallelGrain = 1 << 15

/// Splits 0..<count into one contiguous chunk per thread and runs `body` on each.
///
/// Chunks are large and few (one per core) so elementwise kernels stay vectorised and no two
/// threads write the same cache line except at chunk edges.
@inline(__always)
public func parallelFor(_ count: Int, grain: Int = parallelGrain, _ body: (Range<Int>) -> Void) {
    let chunks = min(Threads.count, count / max(grain, 1))
    if chunks <= 1 {
        body(0..<count)
        return
    }
    genlab_pool_start(Int32(Threads.count))
    withoutActuallyEscaping(body) { body in
        var job = ChunkJob(body: body, count: count, chunks: chunks)
        withUnsafeMutablePointer(to: &job) { ptr in
            genlab_pool_run(
                chunks,
                { context, c in
                    let job = context!.assumingMemoryBound(to: ChunkJob.self).pointee
                    let c = Int(c)
                    job.body(job.count * c / job.chunks..<job.count * (c + 1) / job.chunks)
                }, ptr)
        }
    }
}

private struct ChunkJob {
    let body: (Range<Int>) -> Void
    let count: Int
    let chunks: Int
}

/// Runs `body(i)` for every i in 0..<count, each index its own piece of work, taken in turn by
/// whichever thread is free: for items of uneven cost (a texture's symmetry measurement costs many
/// times a shape's), where `parallelFor`'s one contiguous chunk per thread would leave a thread
/// idle while the other works through the expensive half. Nested calls run on the calling thread.
public func parallelForEach(_ count: Int, _ body: (Int) -> Void) {
    guard count > 1, Threads.count > 1 else {
        for i in 0..<count { body(i) }
        return
    }
    genlab_pool_start(Int32(Threads.count))
    withoutActuallyEscaping(body) { body in
        var job = EachJob(body: body)
        withUnsafeMutablePointer(to: &job) { ptr in
            genlab_pool_run(
                count, { context, i in context!.assumingMemoryBound(to: EachJob.self).pointee.body(Int(i)) }, ptr)
        }
    }
}

private struct EachJob {
    let body: (Int) -> Void
}

/// `(0..<count).map(body)` with the items shared out as `parallelForEach` does (each taken by
/// whichever thread is free), the results in index order. A body that can fail returns a `Result`;
/// `try results.map { try $0.get() }` then throws the first error in index order.
public func parallelMap<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
    var out = [T?](repeating: nil, count: count)
    out.withUnsafeMutableBufferPointer { o in parallelForEach(count) { o[$0] = body($0) } }
    return out.map { $0! }
}
