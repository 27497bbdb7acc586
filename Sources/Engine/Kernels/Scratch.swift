import Foundation

/// Reusable work buffers for kernels (im2col columns, channel-major copies).
///
/// Fresh multi-megabyte allocations are page-faulted in on first touch, which costs as much as the
/// GEMM that uses them; keeping a few buffers alive between calls avoids that.
enum Scratch {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var free: [Storage] = []
    private static let keep = 6

    /// Runs `body` with a buffer of at least `count` floats (contents undefined).
    static func with<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        let buffer = take(count)
        defer { giveBack(buffer) }
        return body(buffer.pointer)
    }

    private static func take(_ count: Int) -> Storage {
        lock.lock()
        defer { lock.unlock() }
        if let i = free.indices.filter({ free[$0].count >= count }).min(by: { free[$0].count < free[$1].count }) {
            return free.remove(at: i)
        }
        return Storage(count: count)
    }

    private static func giveBack(_ s: Storage) {
        lock.lock()
        defer { lock.unlock() }
        free.append(s)
        if free.count > keep { free.remove(at: free.indices.min(by: { free[$0].count < free[$1].count })!) }
    }
}
