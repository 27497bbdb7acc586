import Foundation

/// A caching allocator for large tensor buffers, as PyTorch's GPU allocator does for device memory.
///
/// Large blocks come from mmap and go back to the kernel on free; touching a fresh block costs a
/// page fault per 4 KiB and, with worker threads running, a TLB shootdown on every unmap. In a
/// training loop the same sizes recur every step, so freed blocks are kept (by size class, up to
/// `GENLAB_CACHE_MB`, default 2048) and handed out again.
///
/// A request takes the smallest kept block that holds it, up to twice its size (best fit), not only
/// one of its own class: a forward pass allocates a chain of different sizes, each freed as the next
/// is made, and with exact classes only every size would stay cached at once — the pool would hold
/// the sum of a pass's activations where the live ones at any moment are a fraction of it.
enum StoragePool {
    /// Blocks smaller than this go straight to malloc, which already reuses them well.
    static let minimumPooledBytes = 16 << 10
    static let limitBytes: Int = {
        if let s = ProcessInfo.processInfo.environment["GENLAB_CACHE_MB"], let mb = Int(s), mb >= 0 { return mb << 20 }
        return 2048 << 20
    }()
    private static let lock = NSLock()
    nonisolated(unsafe) private static var free: [Int: [UnsafeMutableRawPointer]] = [:]
    /// The size classes that have a kept block, ascending.
    nonisolated(unsafe) private static var keptSizes: [Int] = []
    nonisolated(unsafe) private static var cachedBytes = 0

    /// Rounds a request up to its size class: eight classes per power of two, so a block can be
    /// reused for requests up to 12.5 % smaller.
    static func sizeClass(_ bytes: Int) -> Int {
        if bytes < minimumPooledBytes { return bytes }
        let top = 1 << (Int.bitWidth - 1 - bytes.leadingZeroBitCount)
        let step = top / 8
        return (bytes + step - 1) / step * step
    }

    /// The index of the first of the ascending `kept` sizes that is at least `size` (binary search).
    static func lowerBound(_ size: Int, in kept: [Int]) -> Int {
        var (lo, hi) = (0, kept.count)
        while lo < hi {
            let mid = (lo + hi) / 2
            if kept[mid] < size { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The index of the smallest of the ascending `kept` sizes that holds `size`, if it is at most
    /// twice `size` (a larger block would be mostly wasted, and is better kept for a larger request).
    static func bestFit(_ size: Int, in kept: [Int]) -> Int? {
        let lo = lowerBound(size, in: kept)
        return lo < kept.count && kept[lo] <= 2 * size ? lo : nil
    }

    static func allocate(bytes: Int) -> (UnsafeMutablePointer<Float>, Int) {
        let size = sizeClass(bytes)
        if size >= minimumPooledBytes {
            lock.lock()
            if let lo = bestFit(size, in: keptSizes), let block = free[keptSizes[lo]]?.popLast() {
                let taken = keptSizes[lo]
                if free[taken]?.isEmpty ?? true { keptSizes.remove(at: lo) }
                cachedBytes -= taken
                lock.unlock()
                return (block.assumingMemoryBound(to: Float.self), taken)
            }
            lock.unlock()
        }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        return (raw.bindMemory(to: Float.self, capacity: size / 4), size)
    }

    static func release(_ pointer: UnsafeMutablePointer<Float>, bytes: Int) {
        let raw = UnsafeMutableRawPointer(pointer)
        if bytes >= minimumPooledBytes {
            lock.lock()
            if cachedBytes + bytes <= limitBytes {
                free[bytes, default: []].append(raw)
                if free[bytes]!.count == 1 {
                    keptSizes.insert(bytes, at: lowerBound(bytes, in: keptSizes))
                }
                cachedBytes += bytes
                lock.unlock()
                return
            }
            lock.unlock()
        }
        raw.deallocate()
    }
}
