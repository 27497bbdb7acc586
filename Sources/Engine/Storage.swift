/// A reference-counted, 64-byte-aligned buffer of Float32 values.
///
/// Tensors share a `Storage` only through `reshape` (a view of the same elements in the same order);
/// every other op allocates a new one, so a value recorded on the tape never changes under it.
public final class Storage: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>
    private let blockBytes: Int

    /// Uninitialised storage for `count` floats.
    public init(count: Int) {
        precondition(count >= 0, "GenLab: negative element count \(count)")
        self.count = count
        (pointer, blockBytes) = StoragePool.allocate(bytes: max(count, 1) * 4)
    }

    /// Storage filled with `value`.
    public convenience init(count: Int, repeating value: Float) {
        self.init(count: count)
        pointer.initialize(repeating: value, count: count)
    }

    deinit { StoragePool.release(pointer, bytes: blockBytes) }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
}
