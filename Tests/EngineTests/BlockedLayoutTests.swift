import Foundation
import XCTest

@testable import Engine

/// Channel-blocked tensors (`Layout.blocked16` and `.blocked8`, what oneDNN's convolutions leave
/// with AVX-512 and AVX2) against the same computation kept row-major: the rearrangement itself,
/// each layout-aware op in both layouts, and a whole generator-and-discriminator-like chain with
/// every gradient.
final class BlockedLayoutTests: XCTestCase {
    override func tearDown() {
        ConvolutionBackend.current = .oneDNN
        ConvolutionBackend.blockedActivations = true
    }

    private func assertClose(_ a: [Float], _ b: [Float], _ what: String, tolerance: Float = 2e-5) {
        XCTAssertEqual(a.count, b.count, what)
        let scale = max(1, b.map(abs).max() ?? 0)
        let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(diff, tolerance * scale, "\(what) differs by \(diff)")
    }

    private func blocked(_ t: Tensor, _ layout: Layout = .blocked16) -> Tensor {
        Tensor(
            shape: t.shape, storage: ChannelBlocks.toBlocked(t.storage, shape: t.shape, lanes: layout.lanes!),
            layout: layout)
    }

    func testRearrangementFollowsTheIndexFormulaBothWays() {
        var rng = PRNG(seed: 3)
        let shape = [2, 32, 3, 5]
        let x = Tensor.normal(shape, rng: &rng)
        for lanes in [16, 8] {
            let b = ChannelBlocks.toBlocked(x.storage, shape: shape, lanes: lanes)
            for n in 0..<2 {
                for c in 0..<32 {
                    for p in 0..<15 {
                        let i = ChannelBlocks.blockedIndex(n: n, c: c, p: p, channels: 32, positions: 15, lanes: lanes)
                        XCTAssertEqual(b.pointer[i], x.storage.pointer[(n * 32 + c) * 15 + p])
                    }
                }
            }
            let back = ChannelBlocks.toPlain(b, shape: shape, lanes: lanes)
            withExtendedLifetime(back) { XCTAssertEqual(Array(back.buffer), x.scalars) }
        }
        XCTAssertFalse(ChannelBlocks.holds([2, 24, 3, 3], lanes: 16))
        XCTAssertTrue(ChannelBlocks.holds([2, 24, 3, 3], lanes: 8))
        XCTAssertFalse(ChannelBlocks.holds([2, 32, 9], lanes: 16))
    }

    func testABlockedTensorReadsRowMajorAndKeepsItsLayoutThroughDetach() {
        var rng = PRNG(seed: 4)
        let x = Tensor.normal([3, 16, 4, 2], rng: &rng)
        let y = blocked(x)
        XCTAssertTrue(y.isBlocked)
        let d = y.detach()
        XCTAssertTrue(d.isBlocked)
        XCTAssertEqual(y.reshape([3, 128]).scalars, x.scalars)  // read row-major
        XCTAssertFalse(y.isBlocked)
        XCTAssertEqual(d.scalars, x.scalars)
        XCTAssertEqual(y.count, x.count)
    }

    func testElementwiseMapsKeepTheLayoutOrFallBackToRowMajor() {
        var rng = PRNG(seed: 5)
        let a = Tensor.normal([2, 32, 3, 3], rng: &rng), b = Tensor.normal([2, 32, 3, 3], rng: &rng)
        let perChannel = Tensor.normal([1, 32, 1, 1], rng: &rng)
        let cases: [(String, Tensor, [Float])] = [
            ("unary", blocked(a).leakyRelu(0.2), a.leakyRelu(0.2).scalars),
            ("both blocked", blocked(a) * blocked(b), (a * b).scalars),
            ("scalar", blocked(a) * 0.5 + 1, (a * 0.5 + 1).scalars),
            ("scalar first", Tensor(2) - blocked(a), (Tensor(2) - a).scalars),
            ("one blocked", blocked(a) + b, (a + b).scalars),
            ("broadcast", blocked(a) * perChannel, (a * perChannel).scalars),
        ]
        let eights: [(String, Tensor, [Float])] = [
            ("both by 8", blocked(a, .blocked8) * blocked(b, .blocked8), (a * b).scalars),
            ("16 and 8", blocked(a) - blocked(b, .blocked8), (a - b).scalars),
        ]
        for (what, got, want) in cases + eights { assertClose(got.scalars, want, what, tolerance: 0) }
        XCTAssertTrue(blocked(a).relu().isBlocked)
        XCTAssertTrue((blocked(a) + blocked(b)).isBlocked)
        XCTAssertEqual((blocked(a, .blocked8) * 2).raw.layout, .blocked8)
    }

    func testChannelSumsAndBiasInTheBlockedLayout() {
        var rng = PRNG(seed: 6)
        let g = Tensor.normal([3, 48, 5, 4], rng: &rng), bias = Tensor.normal([48], rng: &rng)
        let plain = g.copy()
        Tensor.addChannelBias(plain, bias)
        for layout in [Layout.blocked16, .blocked8] {
            assertClose(
                Tensor.channelSums(blocked(g, layout)).scalars, g.sum(axes: [0, 2, 3]).scalars, "\(layout) sums")
            let b = blocked(g, layout)
            Tensor.addChannelBias(b, bias)
            assertClose(b.scalars, plain.scalars, "\(layout) bias", tolerance: 0)
        }
    }

    func testBatchNormOfABlockedTensorMatchesRowMajor() {
        var rng = PRNG(seed: 7)
        let x = Tensor.normal([4, 32, 5, 3], mean: 0.7, std: 2, rng: &rng)
        let up = Tensor.normal(x.shape, rng: &rng)
        let w0 = Tensor.normal([32], mean: 1, rng: &rng), b0 = Tensor.normal([32], rng: &rng)
        var results: [[Float]] = []
        for layout in [Layout.plain, .blocked16, .blocked8] {
            let xi = (layout == .plain ? x.copy() : blocked(x, layout)), w = w0.copy(), b = b0.copy()
            for t in [xi, w, b] { t.requiresGrad = true }
            let (y, mean, variance) = xi.batchNorm(weight: w, bias: b, eps: 1e-5)
            XCTAssertEqual(y.raw.layout, layout)
            // The upstream gradient row-major for the 16-lane case, blocked alike for the 8-lane one.
            (y * (layout == .blocked8 ? blocked(up, .blocked8) : up)).sum().backward()
            results.append(y.scalars + mean + variance + xi.grad!.scalars + w.grad!.scalars + b.grad!.scalars)
        }
        assertClose(results[1], results[0], "batch norm by 16: output, statistics and gradients", tolerance: 1e-4)
        assertClose(results[2], results[0], "batch norm by 8: output, statistics and gradients", tolerance: 1e-4)
    }

    /// A discriminator-like and a generator-like chain on oneDNN, blocked against row-major: the
    /// output and every gradient.
    func testAConvolutionChainGivesTheSameValuesAndGradientsBlocked() throws {
        guard ConvolutionBackend.oneDNNStatus.hasPrefix("oneDNN") else {
            throw XCTSkip("oneDNN is not loaded here: \(ConvolutionBackend.oneDNNStatus)")
        }
        ConvolutionBackend.current = .oneDNN
        // oneDNN computes in blocks of 16 channels with AVX-512, of 8 with AVX2 (or AVX-512 capped to it).
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let cap = ProcessInfo.processInfo.environment["ONEDNN_MAX_CPU_ISA"]?.uppercased()
        let expected: Layout? =
            cpu.contains(" avx512f") && cap == nil
            ? .blocked16 : cpu.contains(" avx2") && (cap ?? "AVX2") == "AVX2" ? .blocked8 : nil
        var results: [[Float]] = []
        for block in [false, true] {
            ConvolutionBackend.blockedActivations = block
            var rng = PRNG(seed: 11)
            let x = Tensor.normal([4, 3, 16, 16], rng: &rng, requiresGrad: true)
            let w1 = Tensor.normal([32, 3, 4, 4], std: 0.2, rng: &rng, requiresGrad: true)
            let b1 = Tensor.normal([32], rng: &rng, requiresGrad: true)
            let w2 = Tensor.normal([64, 32, 4, 4], std: 0.1, rng: &rng, requiresGrad: true)
            let t1 = Tensor.normal([64, 32, 4, 4], std: 0.1, rng: &rng, requiresGrad: true)
            let tb = Tensor.normal([32], rng: &rng, requiresGrad: true)
            let t2 = Tensor.normal([32, 3, 4, 4], std: 0.2, rng: &rng, requiresGrad: true)
            let gamma = Tensor.normal([64], mean: 1, std: 0.1, rng: &rng, requiresGrad: true)
            let beta = Tensor.normal([64], std: 0.1, rng: &rng, requiresGrad: true)
            let h1 = x.conv2d(w1, bias: b1, stride: (2, 2), padding: (1, 1))
            if let expected { XCTAssertEqual(h1.raw.layout, block ? expected : .plain) }
            let a1 = h1.leakyRelu(0.2)
            let h2 = a1.conv2d(w2, stride: (2, 2), padding: (1, 1))
            let a2 = h2.batchNorm(weight: gamma, bias: beta, eps: 1e-5).out.relu()
            let u1 = a2.convTranspose2d(t1, bias: tb, stride: (2, 2), padding: (1, 1))
            if let expected { XCTAssertEqual(u1.raw.layout, block ? expected : .plain) }
            // A tensor used twice (its gradients summed), and a scalar map.
            let mixed = (u1 + a1 * 0.5).relu()
            let y = mixed.convTranspose2d(t2, stride: (2, 2), padding: (1, 1)).tanh()
            var grng = PRNG(seed: 12)
            (y * Tensor.normal(y.shape, rng: &grng)).sum().backward()
            results.append(
                y.scalars + [x, w1, b1, w2, t1, tb, t2, gamma, beta].flatMap { $0.grad!.scalars })
        }
        assertClose(results[1], results[0], "chain output and gradients", tolerance: 1e-4)
    }
}
