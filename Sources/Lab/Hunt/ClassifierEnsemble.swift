import Engine
import Foundation
import NN

/// Many small binary classifiers (MLPs) trained at once as one batched graph (`EnsembleLinear`):
/// member m learns its own two-class problem from its own rows, with its own initialisation,
/// batch order and early stopping. The resonant hunt's k-fold × seed classifiers are its members.
///
/// Each member: inputs standardised, `hidden` ReLU layers, one logit; binary cross-entropy with
/// optional per-row weights, the two classes then weighted to equal total weight; Adam; after
/// every epoch the loss on the member's validation rows decides whether its weights are kept: the
/// member is the mean of its `keptEpochs` best epochs (CATHODE's ensemble, which smooths the
/// epoch-to-epoch wobble of a classifier trained on a weak, noisy label).
public final class ClassifierEnsemble {
    public struct Config: Codable, Sendable, Equatable {
        public var hidden = [64, 64, 64]
        public var epochs = 20
        public var batchSize = 256
        public var learningRate: Float = 1e-3
        /// Each member's best epochs (by validation loss) whose outputs are averaged.
        public var keptEpochs = 1
        public init() {}
    }

    /// One member's task: rows of `inputs` with labels (1 or 0), split into training and validation.
    public struct Member {
        public var training: [Int]
        public var validation: [Int]
        public var seed: UInt64
        public init(training: [Int], validation: [Int], seed: UInt64) {
            self.training = training; self.validation = validation; self.seed = seed
        }
    }

    let config: Config
    let layers: [EnsembleLinear]
    let mean: [Float]
    let std: [Float]
    let features: Int
    /// Best validation loss of every member, and the epoch it was reached.
    public private(set) var bestLoss: [Double]
    public private(set) var bestEpoch: [Int]
    /// Copies of every parameter, one per slot; member k's slices of `kept[s]` hold one of its best
    /// epochs for each slot s in `keptSlots[k]` (best first). A member whose validation loss was
    /// never finite has none, and answers with slot 0's copy of its initial weights.
    private var kept: [[Tensor]] = []
    private var keptSlots: [[Int]] = []

    /// Trains every member on rows of `inputs` [N, D] with `labels` (0/1) and returns the ensemble
    /// holding each member's best epochs' weights; `weights` (one per row, > 0) weigh rows within
    /// their class. `progress` is told (epoch, epochs) as it goes. With `parallel` (an mpirun job,
    /// every rank holding the same inputs and members) each rank trains on its share of every
    /// member's batch and the gradients are averaged before each step, so all ranks keep the same
    /// weights and the same best epochs.
    public init(
        config: Config, inputs: Tensor, labels: [Int], weights: [Float]? = nil, members: [Member],
        parallel: DataParallel? = nil, progress: ((Int, Int) -> Void)? = nil
    ) {
        precondition(inputs.rank == 2 && labels.count == inputs.shape[0] && !members.isEmpty)
        precondition(weights == nil || weights!.count == labels.count)
        self.config = config
        features = inputs.shape[1]
        let n = inputs.shape[0]
        // One standardisation for all members, from every row (rows are the members' pooled data).
        var m = [Double](repeating: 0, count: features), s = [Double](repeating: 0, count: features)
        let v = inputs.scalars
        for i in 0..<n { for j in 0..<features { m[j] += Double(v[i * features + j]) } }
        for j in 0..<features { m[j] /= Double(max(n, 1)) }
        for i in 0..<n {
            for j in 0..<features { let e = Double(v[i * features + j]) - m[j]; s[j] += e * e }
        }
        mean = m.map { Float($0) }
        std = s.map { Float(max(($0 / Double(max(n, 1))).squareRoot(), 1e-6)) }
        var rngs = members.map { PRNG(seed: $0.seed).fork(1) }
        let widths = [features] + config.hidden + [1]
        layers = (0..<(widths.count - 1)).map { EnsembleLinear(widths[$0], widths[$0 + 1], rngs: &rngs) }
        bestLoss = Array(repeating: .infinity, count: members.count)
        bestEpoch = Array(repeating: 0, count: members.count)
        train(
            inputs: standardised(inputs), labels: labels,
            rowWeights: weights ?? Array(repeating: 1, count: labels.count), members: members, parallel: parallel,
            progress: progress)
    }

    func standardised(_ x: Tensor) -> Tensor {
        (x - Tensor(shape: [features], data: mean)) / Tensor(shape: [features], data: std)
    }

    var parameters: [(String, Tensor)] {
        layers.enumerated().flatMap { i, l in [("\(i).weight", l.weight), ("\(i).bias", l.bias)] }
    }

    /// Logits [members, N] of x [members, N, D] (standardised).
    func logits(_ x: Tensor) -> Tensor {
        var h = x
        for (i, layer) in layers.enumerated() {
            h = layer(h)
            if i < layers.count - 1 { h = h.relu() }
        }
        return h.reshape([h.shape[0], h.shape[1]])
    }

    private func train(
        inputs x: Tensor, labels: [Int], rowWeights: [Float], members: [Member], parallel: DataParallel?,
        progress: ((Int, Int) -> Void)?
    ) {
        let count = members.count, batch = config.batchSize
        let optimizer = Adam(parameters, lr: config.learningRate)
        var orders = members.map { PRNG(seed: $0.seed).fork(2) }
        // Class weights per member: each class carries half of the member's training weight.
        let classWeights: [(Float, Float)] = members.map { m in
            var ones: Float = 0, zeros: Float = 0
            for r in m.training { if labels[r] == 1 { ones += rowWeights[r] } else { zeros += rowWeights[r] } }
            let total = ones + zeros
            return (total / (2 * max(zeros, 1e-12)), total / (2 * max(ones, 1e-12)))
        }
        let steps = max(1, members.map(\.training.count).max()! / batch)
        let slots = max(1, min(config.keptEpochs, config.epochs))
        kept = (0..<slots).map { _ in parameters.map { $0.1.copy() } }
        // Each member's kept epochs: (validation loss, slot), best first.
        var ranking: [[(Double, Int)]] = Array(repeating: [], count: count)
        for epoch in 0..<config.epochs {
            let permutations = members.indices.map { orders[$0].permutation(members[$0].training.count) }
            for step in 0..<steps {
                // This rank's positions in every member's batch (all of them in one process).
                let share = parallel?.begin(batch: Array(0..<batch)) ?? Array(0..<batch)
                optimizer.zeroGrad()
                // A batch smaller than the ranks leaves some without rows; they still join the average.
                if !share.isEmpty {
                    // Member m's batch: the next rows of its own permutation (wrapping for smaller members).
                    var rows: [Int] = [], targets: [Float] = [], weights: [Float] = []
                    rows.reserveCapacity(count * share.count)
                    for (k, member) in members.enumerated() {
                        let perm = permutations[k], size = perm.count
                        for b in share {
                            let r = member.training[perm[(step * batch + b) % size]]
                            rows.append(r)
                            targets.append(Float(labels[r]))
                            weights.append(rowWeights[r] * (labels[r] == 1 ? classWeights[k].1 : classWeights[k].0))
                        }
                    }
                    let local = share.count
                    let xb = x.indexSelect(axis: 0, indices: rows).reshape([count, local, features])
                    let t = Tensor(shape: [count, local], data: targets)
                    let w = Tensor(shape: [count, local], data: weights)
                    // Sum over members of each member's mean loss: every member's gradient is its own.
                    let loss = (logits(xb).binaryCrossEntropyWithLogits(t) * w).sum() / Float(local)
                    loss.backward()
                }
                parallel?.averageGradients(optimizer.parameters)
                optimizer.step()
            }
            let validation = validationLoss(
                x, labels: labels, rowWeights: rowWeights, members: members, weights: classWeights)
            for k in 0..<count where validation[k].isFinite {
                if validation[k] < bestLoss[k] { bestLoss[k] = validation[k]; bestEpoch[k] = epoch + 1 }
                let slot: Int
                if ranking[k].count < slots {
                    slot = ranking[k].count
                } else if validation[k] < ranking[k].last!.0 {
                    slot = ranking[k].removeLast().1
                } else {
                    continue
                }
                ranking[k].append((validation[k], slot))
                ranking[k].sort { $0.0 < $1.0 }
                for (j, p) in parameters.enumerated() {
                    let per = p.1.count / count
                    (kept[slot][j].storage.pointer + k * per).update(from: p.1.storage.pointer + k * per, count: per)
                }
            }
            progress?(epoch + 1, config.epochs)
        }
        keptSlots = ranking.map { $0.map(\.1) }
    }

    /// Each member's class-weighted loss on its validation rows (its training rows when it has none).
    private func validationLoss(
        _ x: Tensor, labels: [Int], rowWeights: [Float], members: [Member], weights: [(Float, Float)]
    ) -> [Double] {
        noGrad {
            members.enumerated().map { k, member in
                let rows = member.validation.isEmpty ? member.training : member.validation
                var total = 0.0, norm = 0.0
                for start in stride(from: 0, to: rows.count, by: 8192) {
                    let part = Array(rows[start..<min(rows.count, start + 8192)])
                    let z = memberLogits(k, x.indexSelect(axis: 0, indices: part)).scalars
                    for (i, r) in part.enumerated() {
                        let y = Double(labels[r]), s = Double(z[i])
                        let w = Double(rowWeights[r] * (labels[r] == 1 ? weights[k].1 : weights[k].0))
                        total += w * (max(s, 0) - s * y + log1p(exp(-abs(s))))
                        norm += w
                    }
                }
                return total / max(norm, 1e-12)
            }
        }
    }

    /// Member k's logits for standardised rows x [N, D], with the weights kept in `slot` (the
    /// parameters as they stand when nil: during training, the epoch just finished).
    func memberLogits(_ k: Int, _ x: Tensor, slot: Int? = nil) -> Tensor {
        var h = x
        for (i, layer) in layers.enumerated() {
            let weight = slot.map { kept[$0][2 * i] } ?? layer.weight
            let bias = slot.map { kept[$0][2 * i + 1] } ?? layer.bias
            let w = weight.slice(axis: 0, start: k, end: k + 1).reshape([layer.inFeatures, layer.outFeatures])
            let b = bias.slice(axis: 0, start: k, end: k + 1).reshape([layer.outFeatures])
            h = h.matmul(w) + b
            if i < layers.count - 1 { h = h.relu() }
        }
        return h.reshape([x.shape[0]])
    }

    /// The mean over `members` of their sigmoid outputs for raw rows x [N, D]; each member's output
    /// is the mean over its kept epochs.
    public func probability(_ x: Tensor, members: [Int]) -> [Double] {
        noGrad {
            let n = x.shape[0]
            var sum = [Double](repeating: 0, count: n)
            let xs = standardised(x)
            for k in members {
                let slots = keptSlots[k].isEmpty ? [0] : keptSlots[k]
                for slot in slots {
                    for start in stride(from: 0, to: n, by: 16_384) {
                        let part = xs.slice(axis: 0, start: start, end: min(n, start + 16_384))
                        let z = memberLogits(k, part, slot: slot).scalars
                        for (i, s) in z.enumerated() {
                            sum[start + i] += 1 / (1 + exp(-Double(s))) / Double(slots.count)
                        }
                    }
                }
            }
            return sum.map { $0 / Double(max(members.count, 1)) }
        }
    }
}
