import Engine
import Foundation
import NN

/// The symmetry detector's decoy: a small fully connected network that learns to reproduce one
/// two-colour image, (x, y) → logit of the pixel's colour, over every pixel (binary cross-entropy).
/// It is told nothing about symmetry; its last hidden layer is what the detector reads.
///
/// One `DecoyNet` holds `count` independent decoys (one per image) as `EnsembleLinear` layers, so
/// hundreds of fits run as one batched graph. Small width, weight decay and a fixed, short schedule
/// keep it from memorising pixels.
public final class DecoyNet: Module {
    public struct Config: Codable, Equatable, Sendable {
        /// Hidden widths; the last one is the representation.
        public var hidden: [Int] = [32, 32]
        public var steps = 300
        public var learningRate: Float = 0.01
        public var weightDecay: Float = 1e-4
        /// Input coordinates span [−scale, scale]: a wider range lets tanh units make sharper edges.
        public var coordinateScale: Float = 2
        public init() {}
    }

    public let config: Config
    public let layers: [EnsembleLinear]

    /// `count` decoys, each from its own stream forked from `rng`.
    public convenience init(count: Int, _ c: Config = Config(), rng: inout PRNG) {
        let base = rng.fork(0x6465_636f_79)
        _ = rng.next()
        self.init(c, rngs: (0..<count).map { base.fork(UInt64($0)) })
    }

    /// One stream per decoy: decoy b starts from `rngs[b]` alone, whatever else is in the batch.
    public init(_ c: Config, rngs: [PRNG]) {
        config = c
        var streams = rngs
        let widths = [2] + c.hidden + [1]
        layers = (0..<(widths.count - 1)).map { EnsembleLinear(widths[$0], widths[$0 + 1], rngs: &streams) }
    }

    public var count: Int { layers[0].count }

    /// Pixel-centre coordinates of a size × size grid, row-major, as [size², 2] of (x, y).
    public func coordinates(size: Int) -> Tensor {
        var xy: [Float] = []
        xy.reserveCapacity(2 * size * size)
        for r in 0..<size {
            for c in 0..<size {
                xy.append(config.coordinateScale * (-1 + (Float(c) + 0.5) * 2 / Float(size)))
                xy.append(config.coordinateScale * (-1 + (Float(r) + 0.5) * 2 / Float(size)))
            }
        }
        return Tensor(shape: [size * size, 2], data: xy)
    }

    /// Last-hidden-layer activations over the coordinates: [count, P, hidden.last].
    public func representation(_ coords: Tensor) -> Tensor {
        var h = coords
        for layer in layers.dropLast() { h = layer(h).tanh() }
        return h
    }

    /// Logits [count, P].
    public override func forward(_ coords: Tensor) -> Tensor {
        let out = layers.last!(representation(coords))
        return out.reshape([count, out.shape[1]])
    }
}
