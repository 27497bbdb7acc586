import Foundation

/// An n-dimensional array of Float32 values in row-major (NCHW for images) contiguous layout,
/// with an optional gradient and the tape entry of the op that made it. (Between convolutions an
/// image may lie channel-blocked instead — see `Layout` — which only layout-aware kernels see.)
///
/// Ops return new tensors; only optimisers and explicit `assign`-style calls write in place, and
/// only into leaf tensors, so a value recorded on the tape never changes under it.
public final class Tensor: CustomStringConvertible {
    public let shape: [Int]
    /// The values as they lie in memory: row-major, or oneDNN's channel-blocked layout (see `Layout`).
    private var values: Storage
    private var valuesLayout: Layout
    /// The values in row-major order. A blocked tensor is rearranged on first access (once; the
    /// tensor stays row-major after that), so code that is not layout-aware always reads row-major.
    public var storage: Storage {
        if valuesLayout == .plain { return values }
        return Tensor.layoutLock.withLock {
            if let lanes = valuesLayout.lanes {
                values = ChannelBlocks.toPlain(values, shape: shape, lanes: lanes)
                valuesLayout = .plain
            }
            return values
        }
    }
    /// Whether gradients flow to (and, for leaves, accumulate in) this tensor.
    public var requiresGrad: Bool
    /// The accumulated gradient (leaves, and non-leaves that called `retainGrad()`).
    public var grad: Tensor?
    /// The tape entry that produced this tensor; nil for leaves.
    public internal(set) var gradFn: GradFn?
    var retainsGrad = false

    /// A tensor over existing storage (a view when the storage is shared).
    public init(shape: [Int], storage: Storage, requiresGrad: Bool = false) {
        precondition(
            Shape.count(shape) == storage.count,
            "GenLab Tensor: shape \(shape) holds \(Shape.count(shape)) elements, storage has \(storage.count)")
        precondition(!shape.contains { $0 < 0 }, "GenLab Tensor: negative dimension in shape \(shape)")
        self.shape = shape
        self.values = storage
        self.valuesLayout = .plain
        self.requiresGrad = requiresGrad
    }

    /// A tensor over `storage` holding its values in `layout` (`ChannelBlocks.holds` for a blocked one).
    convenience init(shape: [Int], storage: Storage, layout: Layout) {
        self.init(shape: shape, storage: storage)
        if let lanes = layout.lanes {
            precondition(
                ChannelBlocks.holds(shape, lanes: lanes),
                "GenLab Tensor: shape \(shape) cannot lie in blocks of \(lanes)")
            valuesLayout = layout
        }
    }

    /// The values as they lie and their layout, for layout-aware kernels (convolutions, batch norm,
    /// elementwise maps); everything else reads `storage`.
    var raw: (storage: Storage, layout: Layout) {
        if valuesLayout == .plain { return (values, .plain) }
        return Tensor.layoutLock.withLock { (values, valuesLayout) }
    }

    /// Whether the values lie channel-blocked now.
    public var isBlocked: Bool { raw.layout != .plain }

    private static let layoutLock = NSLock()

    /// A tensor with uninitialised contents (kernels fill it).
    public convenience init(uninitialized shape: [Int]) {
        self.init(shape: shape, storage: Storage(count: Shape.count(shape)))
    }

    /// A tensor holding `data` in row-major order.
    public convenience init(shape: [Int], data: [Float], requiresGrad: Bool = false) {
        let n = Shape.count(shape)
        precondition(data.count == n, "GenLab Tensor: shape \(shape) needs \(n) values, got \(data.count)")
        let s = Storage(count: n)
        data.withUnsafeBufferPointer { s.pointer.initialize(from: $0.baseAddress!, count: n) }
        self.init(shape: shape, storage: s, requiresGrad: requiresGrad)
    }

    /// A 0-dimensional tensor.
    public convenience init(_ value: Float, requiresGrad: Bool = false) {
        self.init(shape: [], storage: Storage(count: 1, repeating: value), requiresGrad: requiresGrad)
    }

    public static func full(_ shape: [Int], _ value: Float, requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, storage: Storage(count: Shape.count(shape), repeating: value), requiresGrad: requiresGrad)
    }
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, 0, requiresGrad: requiresGrad)
    }
    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, 1, requiresGrad: requiresGrad)
    }

    /// 0, 1, …, n-1 as floats.
    public static func arange(_ n: Int) -> Tensor {
        let t = Tensor(uninitialized: [n])
        for i in 0..<n { t.storage.pointer[i] = Float(i) }
        return t
    }

    /// Samples from U[low, high).
    public static func uniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, rng: inout PRNG, requiresGrad: Bool = false
    ) -> Tensor {
        let t = Tensor(uninitialized: shape)
        rng.fillUniform(t.storage.buffer, low: low, high: high)
        t.requiresGrad = requiresGrad
        return t
    }

    /// Samples from N(mean, std²).
    public static func normal(
        _ shape: [Int], mean: Float = 0, std: Float = 1, rng: inout PRNG, requiresGrad: Bool = false
    ) -> Tensor {
        let t = Tensor(uninitialized: shape)
        rng.fillNormal(t.storage.buffer, mean: mean, std: std)
        t.requiresGrad = requiresGrad
        return t
    }

    public var rank: Int { shape.count }
    public var count: Int { values.count }
    public var isLeaf: Bool { gradFn == nil }

    /// The values in row-major order.
    public var scalars: [Float] { Array(storage.buffer) }

    /// The value of a one-element tensor.
    public func item() -> Float {
        precondition(count == 1, "GenLab item: tensor of shape \(shape) has \(count) elements, not 1")
        return storage.pointer[0]
    }

    public subscript(flat i: Int) -> Float { storage.pointer[i] }

    /// The same values, cut from the tape.
    public func detach() -> Tensor {
        let (v, layout) = raw
        return Tensor(shape: shape, storage: v, layout: layout)
    }

    /// A deep copy cut from the tape.
    public func copy() -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.storage.pointer.update(from: storage.pointer, count: count)
        return t
    }

    /// Keep `.grad` on this non-leaf tensor after `backward()`.
    public func retainGrad() { retainsGrad = true }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }

    /// Overwrites the values in place (leaves only: optimisers, loading checkpoints).
    public func assign(_ other: Tensor) {
        precondition(other.shape == shape, "GenLab assign: shape \(other.shape) into \(shape)")
        precondition(isLeaf, "GenLab assign: cannot overwrite a tensor recorded on the tape")
        storage.pointer.update(from: other.storage.pointer, count: count)
    }

    public var description: String {
        let values = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(values)\(count > 8 ? ", …" : "")]\(requiresGrad ? ", requiresGrad" : ""))"
    }
}
