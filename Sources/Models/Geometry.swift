/// How a generator or decoder reaches an image size by doubling: `start`×`start` feature maps
/// doubled `doublings` times give `start·2^doublings` ≥ size, then a centre crop to `size`
/// (25 → 7·2² = 28 → 25; 28 → 7·2²; 32 → 4·2³; 64 → 4·2⁴).
public struct UpsamplingPlan: Equatable, Sendable {
    public let size: Int
    public let start: Int
    public let doublings: Int

    public init(size: Int) {
        precondition(size >= 8, "GenLab: images must be at least 8×8, got \(size)")
        var d = 1
        while Double(size) / Double(1 << (d + 1)) >= 4 { d += 1 }
        doublings = d
        start = (size + (1 << d) - 1) / (1 << d)
        self.size = size
    }

    public var generated: Int { start << doublings }
}

import Engine

extension Tensor {
    /// The centred size×size window of an [N, C, H, W] batch.
    func centreCrop(_ size: Int) -> Tensor {
        let h = shape[2], w = shape[3]
        if h == size && w == size { return self }
        let top = (h - size) / 2, left = (w - size) / 2
        return slice(axis: 2, start: top, end: top + size).slice(axis: 3, start: left, end: left + size)
    }
}
