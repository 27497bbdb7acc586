/// Work buffers for kernels (im2col columns, channel-major copies). They come from the same
/// caching allocator as tensors (`StoragePool`), so repeated calls reuse warm memory.
enum Scratch {
    /// Runs `body` with a buffer of at least `count` floats (contents undefined).
    static func with<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        let buffer = Storage(count: count)
        return withExtendedLifetime(buffer) { body(buffer.pointer) }
    }
}
