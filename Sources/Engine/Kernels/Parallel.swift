import Dispatch
import Foundation

/// How many threads GenLab's own kernels (and BLAS) use: `GENLAB_THREADS`, else the core count.
public enum Threads {
    public static let count: Int = {
        if let s = ProcessInfo.processInfo.environment["GENLAB_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
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
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            body(lo..<hi)
        }
    }
}
