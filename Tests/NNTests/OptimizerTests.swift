import CKernels
import Engine
import Formats
import NN
import XCTest

final class OptimizerTests: XCTestCase {
    /// The fused Adam/AdamW kernel (CKernels, the CPU's widest vectors, no FMA contraction) gives
    /// the plain rule's bits, element by element, over sizes that end mid-vector and span threads.
    func testFusedAdamUpdateIsThePlainRuleBitForBit() {
        defer { _ = genlab_isa_force(-1) }
        for level in [GENLAB_ISA_AVX512, GENLAB_ISA_AVX2, GENLAB_ISA_SSE2] where genlab_isa_force(Int32(level)) == 1 {
            checkAdamAgainstThePlainRule(isa: Int(level))
        }
    }

    private func checkAdamAgainstThePlainRule(isa: Int) {
        for decoupled in [false, true] {
            var rng = PRNG(seed: decoupled ? 3 : 4)
            let n = (1 << 15) + 37
            let p = Tensor.normal([n], rng: &rng, requiresGrad: true)
            let start = p.scalars
            var params = start, m = [Float](repeating: 0, count: n), v = m
            let opt: Adam =
                decoupled
                ? AdamW([("p", p)], lr: 0.01, weightDecay: 0.1) : Adam([("p", p)], lr: 0.01, weightDecay: 0.05)
            for t in 1...3 {
                let grad = Tensor.normal([n], rng: &rng)
                p.grad = grad
                opt.step()
                let g = grad.scalars
                // The bias corrections as the optimiser makes them: in double precision, from the Float
                // hyperparameters.
                let lr = Double(Float(0.01)), b1 = Double(Float(0.9)), b2 = Double(Float(0.999))
                let stepSize = Float(lr / (1 - pow(b1, Double(t)))), c2 = Float((1 - pow(b2, Double(t))).squareRoot())
                let decay: Float = decoupled ? 1 - 0.01 * 0.1 : 1, l2: Float = decoupled ? 0 : 0.05
                for i in 0..<n {
                    let pv = params[i] * decay, gv = l2 != 0 ? g[i] + l2 * pv : g[i]
                    m[i] += (1 - 0.9) * (gv - m[i])
                    v[i] = v[i] * 0.999 + (1 - 0.999) * gv * gv
                    params[i] = pv - stepSize * (m[i] / (v[i].squareRoot() / c2 + 1e-8))
                }
                let got = p.scalars
                let differing = (0..<n).filter { got[$0].bitPattern != params[$0].bitPattern }.count
                XCTAssertEqual(
                    differing, 0, "ISA \(isa), \(decoupled ? "AdamW" : "Adam") step \(t): \(differing) elements differ")
            }
            XCTAssertNotEqual(p.scalars, start)
        }
    }

    func testSchedules() {
        XCTAssertEqual(LRSchedule.step(stepSize: 3, gamma: 0.5).rate(at: 7, base: 1), 0.25)
        XCTAssertEqual(LRSchedule.cosine(total: 10, minimum: 0.1).rate(at: 0, base: 1), 1, accuracy: 1e-6)
        XCTAssertEqual(LRSchedule.cosine(total: 10, minimum: 0.1).rate(at: 5, base: 1), 0.55, accuracy: 1e-6)
        XCTAssertEqual(LRSchedule.cosine(total: 10, minimum: 0.1).rate(at: 10, base: 1), 0.1, accuracy: 1e-6)
        let warm = LRSchedule.warmup(steps: 4, then: .constant)
        XCTAssertEqual((0..<6).map { warm.rate(at: $0, base: 2) }, [0.5, 1, 1.5, 2, 2, 2])
    }

    func testClipGradNormScalesToTheLimit() {
        let a = Tensor(shape: [2], data: [0, 0], requiresGrad: true),
            b = Tensor(shape: [1], data: [0], requiresGrad: true)
        (a * Tensor(shape: [2], data: [3, 0]) + (b * 4).sum()).sum().backward()  // grads (3, 0) and (8)
        let norm = clipGradNorm([a, b], maxNorm: 1)
        XCTAssertEqual(norm, (9 + 64 as Float).squareRoot(), accuracy: 1e-5)
        let clipped = (a.grad!.scalars + b.grad!.scalars).map { $0 * $0 }.reduce(0, +).squareRoot()
        XCTAssertEqual(clipped, 1, accuracy: 1e-5)
    }

    func testParametersWithoutGradientsAreLeftAlone() {
        let p = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        let opt = Adam(named([p]), lr: 0.1)
        opt.step()
        XCTAssertEqual(p.scalars, [1, 2])
    }

    /// Train 6 steps straight, or 3 steps, checkpoint (model + optimiser + RNG) to disk, rebuild
    /// everything from the file, and 3 more: the weights must be identical to the bit.
    func testCheckpointResumesTrainingExactly() throws {
        func batch(_ rng: inout PRNG) -> (Tensor, Tensor) {
            (Tensor.normal([8, 8], rng: &rng), Tensor.normal([8, 4], rng: &rng))
        }
        func train(_ model: Module, _ opt: Optimizer, _ rng: inout PRNG, steps: Int) {
            for _ in 0..<steps {
                let (x, y) = batch(&rng)
                opt.zeroGrad()
                Loss.mse(model(x), y).backward()
                opt.step()
            }
        }
        var initRNG = PRNG(seed: 10)
        let straight = makeMLP(&initRNG)
        var dataRNG = PRNG(seed: 11)
        let opt1 = Adam(straight.namedParameters(), lr: 1e-2)
        train(straight, opt1, &dataRNG, steps: 6)

        initRNG = PRNG(seed: 10)
        let first = makeMLP(&initRNG)
        dataRNG = PRNG(seed: 11)
        let opt2 = Adam(first.namedParameters(), lr: 1e-2)
        train(first, opt2, &dataRNG, steps: 3)
        let path = temporaryPath("resume.safetensors")
        try Checkpoint(
            kind: "mlp", config: ["layers": [8, 16, 4]], module: first, optimizer: opt2,
            training: TrainingState(epoch: 0, step: 3, rngStates: ["data": dataRNG])
        ).save(to: path)

        var other = PRNG(seed: 999)
        let resumed = makeMLP(&other)
        let opt3 = Adam(resumed.namedParameters(), lr: 1e-2)
        let ckpt = try Checkpoint.load(path)
        XCTAssertEqual(ckpt.kind, "mlp")
        XCTAssertEqual(try ckpt.decodeConfig([String: [Int]].self), ["layers": [8, 16, 4]])
        XCTAssertEqual(ckpt.training?.step, 3)
        try ckpt.restore(into: resumed, optimizer: opt3)
        var rng = try XCTUnwrap(ckpt.training?.rng("data"))
        train(resumed, opt3, &rng, steps: 3)
        for ((k, a), (_, b)) in zip(straight.namedParameters(), resumed.namedParameters()) {
            XCTAssertEqual(a.scalars, b.scalars, "\(k) differs after resuming")
        }
    }

    func testRestoringIntoTheWrongModelNamesTheFileAndKey() throws {
        var rng = PRNG(seed: 1)
        let path = temporaryPath("wrong.safetensors")
        try Checkpoint(kind: "linear", model: Linear(3, 2, rng: &rng).stateDict()).save(to: path)
        let ckpt = try Checkpoint.load(path)
        XCTAssertThrowsError(try ckpt.restore(into: Linear(4, 2, rng: &rng), file: path)) {
            XCTAssertTrue("\($0)".contains(path) && "\($0)".contains("weight"), "\($0)")
        }
        XCTAssertThrowsError(try Checkpoint.load(temporaryPath("missing.safetensors"))) {
            XCTAssertTrue("\($0)".contains("no such file"))
        }
    }
}
