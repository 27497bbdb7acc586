import Engine
import Foundation
import NN

/// The symmetry detector's classifier: reads the PCA images of a decoy network's last hidden layer
/// (or, as a control, the raw image) and predicts the symmetry class and, as a regression head,
/// how strongly the symmetry is broken (ε, squashed to [0, 1] by a sigmoid).
///
/// Three conv + ReLU stages (max-pooling after the first two) and a global average pool, so the
/// features do not depend on where in the image a pattern sits.
public final class SymmetryCNN: Module {
    public struct Config: Codable, Equatable, Sendable {
        public var imageSize = 32
        /// Input channels: the number of PCA images (1 for the raw-image control).
        public var channels = 4
        public var classes = 6
        public var features = 16
        /// Side of the feature map the head reads (1: a global average pool; larger keeps the
        /// layout, which relations across the image — mirror pairs — need).
        public var headGrid = 4
        /// Also read each channel's correlation with itself under the probe maps (`SymmetryProbes`)
        /// beside the convolutions; absent (off) in checkpoints written before it existed.
        public var probes: Bool? = nil
        public init(
            imageSize: Int = 32, channels: Int = 4, classes: Int = 6, features: Int = 16, headGrid: Int = 4,
            probes: Bool? = nil
        ) {
            self.imageSize = imageSize; self.channels = channels; self.classes = classes; self.features = features;
            self.headGrid = headGrid
            self.probes = probes
        }
    }

    public let config: Config
    public let features: Sequential
    /// The probe correlations' own layer (nil without probes).
    public let probe: Sequential?
    public let classifier: Linear
    public let degree: Linear

    public init(_ c: Config, rng: inout PRNG) {
        config = c
        let f = c.features
        features = Sequential([
            Conv2d(c.channels, f, kernel: 3, padding: 1, rng: &rng), ReLU(), MaxPool2d(2),
            Conv2d(f, 2 * f, kernel: 3, padding: 1, rng: &rng), ReLU(), MaxPool2d(2),
            Conv2d(2 * f, 4 * f, kernel: 3, padding: 1, rng: &rng), ReLU(),
            AvgPool2d(c.imageSize / 4 / c.headGrid), Flatten(),
            Linear(4 * f * c.headGrid * c.headGrid, 4 * f, rng: &rng), ReLU(),
        ])
        let probeWidth = c.probes == true ? 32 : 0
        probe =
            c.probes == true
            ? Sequential([Linear(c.channels * SymmetryProbes.count, probeWidth, rng: &rng), ReLU()]) : nil
        classifier = Linear(4 * f + probeWidth, c.classes, rng: &rng)
        degree = Linear(4 * f + probeWidth, 1, rng: &rng)
    }

    /// Class logits [N, classes] and the ε head's logit [N].
    public func predict(_ x: Tensor) -> (classLogits: Tensor, degreeLogit: Tensor) {
        guard x.rank == 4, x.shape[1] == config.channels, x.shape[2] == config.imageSize, x.shape[3] == config.imageSize
        else {
            shapeFailure(
                "SymmetryCNN",
                "input \(x.shape), model expects [N, \(config.channels), \(config.imageSize), \(config.imageSize)]")
        }
        var h = features(x)
        if let probe { h = Tensor.concat([h, probe(SymmetryProbes.correlations(x.detach()))], axis: 1) }
        return (classifier(h), degree(h).reshape([x.shape[0]]))
    }

    public override func forward(_ x: Tensor) -> Tensor { predict(x).classLogits }
}

/// How much each channel of an image agrees with itself under maps of the plane about the image
/// centre — mirrors in four axes, rotations by 360°/n for n = 2…8 and by two angles no Cₙ has
/// (roundness), shifts by 2 px in four directions (translation): the correlation of the channel
/// with its mapped self over the inscribed disc. For the decoy's PCA images this reads, map by map,
/// which symmetries the representation carries; a correlation does not change when a component's
/// sign does.
public enum SymmetryProbes {
    enum Map { case mirror(Double), rotation(Double), shift(Double) }
    static let maps: [Map] = {
        let directions: [Double] = [0, 45, 90, 135]
        let mirrors: [Map] = directions.map { Map.mirror($0) }
        let turns: [Map] = (2...8).map { (n: Int) -> Map in Map.rotation(360 / Double(n)) }
        let shifts: [Map] = directions.map { Map.shift($0) }
        return mirrors + turns + [Map.rotation(23), Map.rotation(61)] + shifts
    }()
    public static var count: Int { maps.count }

    /// For every pixel of the inscribed disc and every map, where the map reads from (bilinear
    /// taps; -1: outside the image; -2: the end of one pixel's taps), per image side.
    struct Taps { var disc: [Int]; var lists: [[(Int, Float)]] }
    nonisolated(unsafe) static var cache: [Int: Taps] = [:]
    static let cacheLock = NSLock()

    static func taps(side: Int) -> Taps {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let t = cache[side] { return t }
        let t = makeTaps(side: side)
        cache[side] = t
        return t
    }

    static func makeTaps(side: Int) -> Taps {
        let h = Double(side) / 2
        var disc: [Int] = [], taps: [[(Int, Float)]] = []
        for r in 0..<side {
            for col in 0..<side {
                let x = Double(col) + 0.5 - h, y = h - (Double(r) + 0.5)
                if x * x + y * y <= h * h { disc.append(r * side + col) }
            }
        }
        for map in maps {
            var list: [(Int, Float)] = []
            for k in disc {
                let x = Double(k % side) + 0.5 - h, y = h - (Double(k / side) + 0.5)
                let (u, v): (Double, Double)
                switch map {
                case .mirror(let a):
                    let (co, si) = (cos(2 * a * .pi / 180), sin(2 * a * .pi / 180))
                    (u, v) = (co * x + si * y, si * x - co * y)
                case .rotation(let a):
                    let (co, si) = (cos(a * .pi / 180), sin(a * .pi / 180))
                    (u, v) = (co * x - si * y, si * x + co * y)
                case .shift(let a):
                    (u, v) = (x + 2 * cos(a * .pi / 180), y + 2 * sin(a * .pi / 180))
                }
                let fx = u + h - 0.5, fy = h - v - 0.5
                let x0 = Int(fx.rounded(.down)), y0 = Int(fy.rounded(.down))
                let ax = Float(fx - Double(x0)), ay = Float(fy - Double(y0))
                for (dx, dy, w) in [
                    (0, 0, (1 - ax) * (1 - ay)), (1, 0, ax * (1 - ay)), (0, 1, (1 - ax) * ay), (1, 1, ax * ay),
                ] where w > 0 {
                    let cx = x0 + dx, cy = y0 + dy
                    list.append(cx >= 0 && cy >= 0 && cx < side && cy < side ? (cy * side + cx, w) : (-1, w))
                }
                list.append((-2, 0))  // end of this pixel's taps
            }
            taps.append(list)
        }
        return Taps(disc: disc, lists: taps)
    }

    /// [N, C · count] correlations of [N, C, n, n] images (no gradient: they read the input).
    public static func correlations(_ x: Tensor) -> Tensor {
        let n = x.shape[0], c = x.shape[1], side = x.shape[2]
        var out = [Float](repeating: 0, count: n * c * count)
        let t = taps(side: side)
        let (disc, taps) = (t.disc, t.lists)
        let src = x.storage.pointer, plane = side * side
        // Images are independent and cost alike: one contiguous share per thread.
        out.withUnsafeMutableBufferPointer { out in
            parallelFor(n, grain: 1) { images in
                for i in images {
                    for ch in 0..<c {
                        let base = src + (i * c + ch) * plane
                        var mean: Float = 0
                        for k in disc { mean += base[k] }
                        mean /= Float(disc.count)
                        for (m, list) in taps.enumerated() {
                            var dot: Float = 0, aa: Float = 0, bb: Float = 0, value: Float = 0, p = 0
                            for (index, w) in list {
                                if index == -2 {
                                    let a = base[disc[p]] - mean, b = value - mean
                                    dot += a * b; aa += a * a; bb += b * b
                                    value = 0; p += 1
                                } else if index >= 0 {
                                    value += w * base[index]
                                } else {
                                    value += w * mean  // outside the image: the disc's mean, which adds nothing
                                }
                            }
                            out[(i * c + ch) * count + m] = aa > 0 && bb > 0 ? dot / (aa * bb).squareRoot() : 0
                        }
                    }
                }
            }
        }
        return Tensor(shape: [n, c * count], data: out)
    }
}
