import Cluster
import Engine
import Foundation
import NN

/// Data-parallel training over the ranks of a `Cluster`, in the manner of PyTorch's
/// DistributedDataParallel: every rank holds the whole model, trains on its share of each global
/// batch, and the gradients are averaged by all-reduce before every optimiser step, so all ranks
/// take the same step.
///
/// A global batch of B images (the same `--batch-size` whatever the number of ranks) is dealt
/// out in rank order, B/N each; each rank's gradient of its mean loss is weighted by its share
/// (local/B) and summed, which is the gradient of the mean loss over the whole batch. Random
/// draws that depend on the batch (GAN noise, the VAE's ε) are drawn for the whole global batch
/// from the one shared stream and each rank keeps its own rows: the streams differ by rank, and
/// N ranks train as one process with batch B would.
public final class DataParallel {
    public let cluster: Cluster
    /// Gradients are fused into flat buffers of at most this many floats (PyTorch DDP's 25 MB).
    public var bucketFloats = 25 * 1024 * 1024 / MemoryLayout<Float>.size
    /// This step's rows: where this rank's share starts in the global batch, its size, the batch's.
    public private(set) var offset = 0, local = 0, global = 0
    private var bucket: [Float] = []

    public init(_ cluster: Cluster) { self.cluster = cluster }

    /// This rank's part of a global batch (the whole batch on a single process).
    public func begin(batch indices: [Int]) -> [Int] {
        let share = cluster.share(of: indices.count)
        offset = share.lowerBound; local = share.count; global = indices.count
        return Array(indices[share])
    }

    /// Standard normal values for this rank's rows of a global [B, …] draw from `rng` (which every
    /// rank advances alike).
    public func normal(_ shape: [Int], rng: inout PRNG) -> Tensor {
        guard cluster.isDistributed else { return Tensor.normal(shape, rng: &rng) }
        precondition(shape.first == local, "DataParallel.normal: \(shape) is not this rank's \(local) rows")
        let all = Tensor.normal([global] + shape.dropFirst(), rng: &rng)
        return all.slice(axis: 0, start: offset, end: offset + local).detach()
    }

    /// Replaces every parameter's gradient by the batch-weighted sum over ranks (a parameter
    /// without a gradient counts as zero), in fused buckets.
    public func averageGradients(_ parameters: [(String, Tensor)]) {
        guard cluster.isDistributed else { return }
        let weight = Float(local) / Float(max(global, 1))
        var start = 0
        while start < parameters.count {
            var end = start, floats = 0
            while end < parameters.count && (end == start || floats + parameters[end].1.count <= bucketFloats) {
                floats += parameters[end].1.count; end += 1
            }
            if bucket.count < floats { bucket = [Float](repeating: 0, count: floats) }
            bucket.withUnsafeMutableBufferPointer { flat in
                var at = 0
                for (_, p) in parameters[start..<end] {
                    if let g = p.grad {
                        let src = g.storage.pointer
                        for i in 0..<p.count { flat[at + i] = src[i] * weight }
                    } else {
                        for i in 0..<p.count { flat[at + i] = 0 }
                    }
                    at += p.count
                }
                cluster.sum(flat.baseAddress!, count: floats)
                at = 0
                for (_, p) in parameters[start..<end] {
                    if p.grad == nil { p.grad = Tensor.zeros(p.shape) }
                    let dst = p.grad!.storage.pointer
                    for i in 0..<p.count { dst[i] = flat[at + i] }
                    at += p.count
                }
            }
            start = end
        }
    }

    /// The batch-weighted mean over ranks of each rank's figures (the same keys on every rank).
    public func mean(_ figures: [String: Double]) -> [String: Double] {
        guard cluster.isDistributed else { return figures }
        let keys = figures.keys.sorted()
        let weight = Double(local) / Double(max(global, 1))
        let summed = cluster.sum(keys.map { figures[$0]! * weight })
        return Dictionary(uniqueKeysWithValues: zip(keys, summed))
    }

    /// Whether any rank asks to stop (Ctrl-C reaches ranks at different moments): all stop together.
    public func any(_ flag: Bool) -> Bool {
        guard cluster.isDistributed else { return flag }
        return cluster.max([flag ? 1 : 0])[0] > 0
    }

    /// Makes every BatchNorm in `module` normalise with the statistics of the whole global batch
    /// (synchronised BatchNorm), or with this rank's own (`false`, DDP's default).
    public func synchroniseBatchNorm(in module: Module, _ on: Bool) {
        let sum: BatchNorm.Reduction? = on && cluster.isDistributed ? { [cluster] values in cluster.sum(values) } : nil
        for (_, m) in module.namedModules() { (m as? BatchNorm)?.reduction = sum }
    }
}
