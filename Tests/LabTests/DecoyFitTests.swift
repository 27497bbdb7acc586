import CKernels
import Engine
import Lab
import Models
import XCTest

/// The fused decoy-fit kernel against the fit built from Engine ops (`fitReference`), on every
/// instruction set this CPU can run.
final class DecoyFitTests: XCTestCase {
    override func tearDown() { _ = genlab_decoy_use_isa("") }

    /// A disc for even members, a tilted half-plane for odd ones.
    private func targets(count: Int, size: Int) -> Tensor {
        var t = [Float]()
        for b in 0..<count {
            for r in 0..<size {
                for c in 0..<size {
                    let x = Float(c) - Float(size) / 2 + 0.5 + Float(b), y = Float(r) - Float(size) / 2 + 0.5
                    t.append(b % 2 == 0 ? (x * x + y * y < Float(size * size) / 6 ? 1 : 0) : (x + 0.4 * y < 0 ? 1 : 0))
                }
            }
        }
        return Tensor(shape: [count, size * size], data: t)
    }

    private func compare(
        hidden: [Int], size: Int, steps: Int, count: Int, isa: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        guard genlab_decoy_use_isa(isa) == 1 else { throw XCTSkip("this CPU has no \(isa)") }
        var config = DecoyNet.Config()
        config.hidden = hidden
        config.steps = steps
        var rng = PRNG(seed: 21)
        let fused = DecoyNet(count: count, config, rng: &rng)
        rng = PRNG(seed: 21)
        let reference = DecoyNet(count: count, config, rng: &rng)
        XCTAssertEqual(fused.layers[0].weight.scalars, reference.layers[0].weight.scalars, file: file, line: line)
        let t = targets(count: count, size: size)
        let a = fused.fit(t, size: size), b = reference.fitReference(t, size: size)
        for (l, (x, y)) in zip(fused.layers, reference.layers).enumerated() {
            for (name, p, q) in [("weight", x.weight, y.weight), ("bias", x.bias, y.bias)] {
                let diff = zip(p.scalars, q.scalars).map { abs($0 - $1) }.max()!
                let scale = q.scalars.map(abs).max()!
                XCTAssertLessThan(diff, 2e-4 * max(1, scale), "\(isa) layer \(l) \(name)", file: file, line: line)
            }
        }
        for (u, v) in zip(a, b) {
            XCTAssertEqual(u, v, accuracy: 3.0 / Float(size * size), "\(isa) accuracy", file: file, line: line)
        }
        XCTAssertNotEqual(
            fused.layers[0].weight.scalars, DecoyNet(count: count, config, rng: &rng).layers[0].weight.scalars)
    }

    func testFusedFitMatchesTheReferenceOnEveryISA() throws {
        var ran = 0
        for isa in ["avx512", "avx2", "sse2"] where genlab_decoy_use_isa(isa) == 1 {
            try compare(hidden: [32, 32], size: 16, steps: 30, count: 3, isa: isa)
            ran += 1
        }
        XCTAssertGreaterThanOrEqual(ran, 1, "sse2 runs on every x86-64 CPU")
    }

    /// Widths that are not multiples of the 16 lanes (padding), three hidden layers, and a pixel
    /// count that is not a multiple of the 32-row block.
    func testOddWidthsDeeperNetworksAndPartialBlocks() throws {
        for isa in ["avx512", "avx2", "sse2"] where genlab_decoy_use_isa(isa) == 1 {
            try compare(hidden: [20, 7, 33], size: 13, steps: 20, count: 2, isa: isa)
            try compare(hidden: [5], size: 9, steps: 20, count: 2, isa: isa)
        }
    }

    func testTheFullScheduleLearnsBothShapes() {
        var rng = PRNG(seed: 3)
        let net = DecoyNet(count: 2, DecoyNet.Config(), rng: &rng)
        let accuracy = net.fit(targets(count: 2, size: 32), size: 32)
        XCTAssertGreaterThan(accuracy.min()!, 0.97)
    }

    func testMalformedProblemsAreRefused() {
        let widths: [Int32] = [3, 8, 1], coords = [Float](repeating: 0, count: 8),
            target = [Float](repeating: 0, count: 4)
        var w: [UnsafeMutablePointer<Float>?] = [nil, nil], b: [UnsafeMutablePointer<Float>?] = [nil, nil]
        widths.withUnsafeBufferPointer { wp in
            coords.withUnsafeBufferPointer { cp in
                var problem = genlab_decoy_problem(
                    layers: 2, widths: wp.baseAddress, pixels: 4, coords: cp.baseAddress, steps: 1,
                    lr: 0.01, weight_decay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8)
                XCTAssertEqual(genlab_decoy_fit(&problem, &w, &b, target), -1, "three inputs")
            }
        }
        XCTAssertEqual(genlab_decoy_use_isa("neon"), 0)
        XCTAssertTrue(["avx512", "avx2", "sse2"].contains(String(cString: genlab_decoy_isa())))
    }

    /// `GENLAB_ISA` caps the kernels' instruction set (every CPU has SSE2); an unknown name is ignored.
    func testTheEnvironmentCapsTheInstructionSet() {
        let best = String(cString: genlab_decoy_isa())
        defer { unsetenv("GENLAB_ISA") }
        setenv("GENLAB_ISA", "sse2", 1)
        XCTAssertEqual(String(cString: genlab_decoy_isa()), "sse2")
        setenv("GENLAB_ISA", "neon", 1)
        XCTAssertEqual(String(cString: genlab_decoy_isa()), best)
        unsetenv("GENLAB_ISA")
        XCTAssertEqual(String(cString: genlab_decoy_isa()), best)
    }
}
