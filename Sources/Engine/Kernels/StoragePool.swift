import Foundation

/// A caching allocator for large tensor buffers, as PyTorch's GPU allocator does for device memory.
///
/// Large blocks come from mmap and go back to the kernel on free; touching a fresh block costs a
/// page fault per 4 KiB and, with worker threads running, a TLB shootdown on every unmap. In a
/// training loop the same sizes recur every step, so freed blocks are kept (by size class, up to
/// `GENLAB_CACHE_MB`, default 2048) and handed out again.
enum StoragePool {
    /// Blocks smaller than this go straight to malloc, which already reuses them well.
    static let minimumPooledBytes = 16 << 10
    static let limitBytes: Int = {
        if let s = ProcessInfo.processInfo.environment["GENLAB_CACHE_MB"], let mb = Int(s), mb >= 0 { return mb << 20 }
        return 2048 << 20
    }()
    private static let lock = NSLock()
    nonisolated(unsafe) private static var free: [Int: [UnsafeMutableRawPointer]] = [:]
    nonisolated(unsafe) private static var cachedBytes = 0

    /// Rounds a request up to its size class: eight classes per power of two, so a block can be
    /// reused for requests up to 12.5 % smaller.
    static func sizeClass(_ bytes: Int) -> Int {
        if bytes < minimumPooledBytes { return bytes }
        let top = 1 << (Int.bitWidth - 1 - bytes.leadingZeroBitCount)
        let step = top / 8
        return (bytes + step - 1) / step * step
    }

    static func allocate(bytes: Int) -> (UnsafeMutablePointer<Float>, Int) {
        let size = sizeClass(bytes)
        if size >= minimumPooledBytes {
            lock.lock()
            if let block = free[size]?.popLast() {
                cachedBytes -= size
                lock.unlock()
                return (block.assumingMemoryBound(to: Float.self), size)
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
                cachedBytes += bytes
                lock.unlock()
                return
            }
            lock.unlock()
        }
        raw.deallocate()
    }
}
