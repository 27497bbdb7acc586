import CKernels
import Engine
import Foundation
import Models
import NN

/// The decoys' training loop: a batched inner loop of the symmetry workflow (hundreds of tiny
/// fits), kept beside the workflow rather than in the model.
extension DecoyNet {
    /// The instruction set GenLab's own kernels (the decoy fit, the Adam update) run with here:
    /// "avx512", "avx2" or "sse2" — the CPU's best unless `GENLAB_ISA` caps it.
    public static var kernelISA: String { String(cString: genlab_decoy_isa()) }

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
