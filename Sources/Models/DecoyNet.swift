import CKernels
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

    /// Fits decoy b to targets[b] (each [P] of 0/1) with full-batch AdamW; returns each decoy's
    /// final pixel accuracy. Each decoy's whole fit runs as one fused kernel (`genlab_decoy_fit`:
    /// blocks of pixels forward and backward in L1, AVX-512 or AVX2 chosen at run time), the
    /// decoys shared out over the cores; `fitReference` is the same fit built from Engine ops.
    @discardableResult
    public func fit(_ targets: Tensor, size: Int) -> [Float] {
        precondition(
            targets.shape == [count, size * size],
            "DecoyNet.fit: targets \(targets.shape), expected [\(count), \(size * size)]")
        let p = size * size
        let coords = coordinates(size: size), target = targets
        let widths: [Int32] = [Int32(layers[0].inFeatures)] + layers.map { Int32($0.outFeatures) }
        var accuracy = [Float](repeating: 0, count: count)
        let weights = layers.map { $0.weight.storage.pointer }, biases = layers.map { $0.bias.storage.pointer }
        let c = config
        widths.withUnsafeBufferPointer { w in
            accuracy.withUnsafeMutableBufferPointer { acc in
                let problem = genlab_decoy_problem(
                    layers: Int32(layers.count), widths: w.baseAddress, pixels: Int32(p),
                    coords: coords.storage.pointer, steps: Int32(c.steps), lr: c.learningRate,
                    weight_decay: c.weightDecay, beta1: Adam.defaultBetas.0,
                    beta2: Adam.defaultBetas.1, eps: Adam.defaultEps)
                let accPointer = acc.baseAddress!
                parallelFor(count, grain: 1) { range in
                    for b in range {
                        var wb: [UnsafeMutablePointer<Float>?] = layers.indices.map {
                            weights[$0] + b * layers[$0].inFeatures * layers[$0].outFeatures
                        }
                        var bb: [UnsafeMutablePointer<Float>?] = layers.indices.map {
                            biases[$0] + b * layers[$0].outFeatures
                        }
                        let a = withUnsafePointer(to: problem) {
                            genlab_decoy_fit($0, &wb, &bb, target.storage.pointer + b * p)
                        }
                        precondition(a >= 0, "DecoyNet.fit: the fused kernel refused its problem (out of memory?)")
                        accPointer[b] = a
                    }
                }
            }
        }
        return accuracy
    }

    /// The same fit as `fit`, built from Engine ops and autograd with `AdamW` (the judge of the
    /// fused kernel in tests, and its reference in `genlab bench`).
    @discardableResult
    public func fitReference(_ targets: Tensor, size: Int) -> [Float] {
        precondition(
            targets.shape == [count, size * size],
            "DecoyNet.fit: targets \(targets.shape), expected [\(count), \(size * size)]")
        let coords = coordinates(size: size)
        let opt = AdamW(namedParameters(), lr: config.learningRate, weightDecay: config.weightDecay)
        // Summing the members' mean losses gives each member exactly its own gradient.
        let scale = Float(size * size)
        for _ in 0..<config.steps {
            opt.zeroGrad()
            let loss = Loss.bceWithLogits(self(coords), targets, reduction: .sum) * (1 / scale)
            loss.backward()
            opt.step()
        }
        let logits = noGrad { self(coords) }
        let p = logits.storage.pointer, t = targets.storage.pointer
        return (0..<count).map { b in
            var right = 0
            for k in 0..<(size * size) where (p[b * size * size + k] > 0) == (t[b * size * size + k] > 0.5) {
                right += 1
            }
            return Float(right) / scale
        }
    }
}
