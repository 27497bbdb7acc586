import Engine
import XCTest

/// oneDNN's convolutions against GenLab's im2col + GEMM kernels (themselves checked against the
/// direct reference and PyTorch): forward, input and weight (and bias) gradients, for plain and
/// transposed convolutions over strides, paddings, dilations, odd sizes and output padding.
final class OneDNNTests: XCTestCase {
    override func tearDown() { ConvolutionBackend.current = .oneDNN }

    private struct Case {
        var n, c, h, w, o, k: Int; var stride, padding, dilation: Int; var bias: Bool; var outputPadding = 0
    }

    private let cases = [
        Case(n: 4, c: 3, h: 16, w: 16, o: 8, k: 4, stride: 2, padding: 1, dilation: 1, bias: true),
        Case(n: 2, c: 5, h: 25, w: 25, o: 7, k: 4, stride: 2, padding: 1, dilation: 1, bias: false),
        Case(n: 3, c: 4, h: 11, w: 9, o: 6, k: 3, stride: 1, padding: 1, dilation: 2, bias: true),
        Case(n: 1, c: 2, h: 7, w: 13, o: 3, k: 5, stride: 3, padding: 2, dilation: 1, bias: true),
        Case(n: 2, c: 16, h: 8, w: 8, o: 32, k: 1, stride: 1, padding: 0, dilation: 1, bias: false),
        // One channel in or out (a jet image; the jet autoencoder's last layer): kept in plain layout.
        Case(n: 3, c: 1, h: 25, w: 25, o: 32, k: 4, stride: 2, padding: 1, dilation: 1, bias: true),
        Case(n: 3, c: 32, h: 7, w: 7, o: 1, k: 4, stride: 2, padding: 1, dilation: 1, bias: true),
        Case(n: 2, c: 6, h: 5, w: 6, o: 4, k: 3, stride: 2, padding: 1, dilation: 1, bias: true, outputPadding: 1),
    ]

    /// Forward value and every gradient under one backend (a fixed random upstream gradient).
    private func run(_ t: Case, transposed: Bool, backend: ConvolutionBackend) -> [[Float]] {
        ConvolutionBackend.current = backend
        var rng = PRNG(seed: UInt64(t.n * 1000 + t.c * 100 + t.h))
        let x = Tensor.normal([t.n, t.c, t.h, t.w], rng: &rng, requiresGrad: true)
        let w = Tensor.normal(
            transposed ? [t.c, t.o, t.k, t.k] : [t.o, t.c, t.k, t.k], std: 0.3, rng: &rng, requiresGrad: true)
        let b = t.bias ? Tensor.normal([t.o], rng: &rng, requiresGrad: true) : nil
        let y =
            transposed
            ? x.convTranspose2d(
                w, bias: b, stride: (t.stride, t.stride), padding: (t.padding, t.padding),
                outputPadding: (t.outputPadding, t.outputPadding), dilation: (t.dilation, t.dilation))
            : x.conv2d(
                w, bias: b, stride: (t.stride, t.stride), padding: (t.padding, t.padding),
                dilation: (t.dilation, t.dilation))
        var grng = PRNG(seed: 99)
        let upstream = Tensor.normal(y.shape, rng: &grng)
        (y * upstream).sum().backward()
        return [y.scalars, x.grad!.scalars, w.grad!.scalars] + (b.map { [$0.grad!.scalars] } ?? [])
    }

    func testOneDNNAgreesWithIm2col() throws {
        ConvolutionBackend.current = .oneDNN
        guard ConvolutionBackend.current == .oneDNN, ConvolutionBackend.oneDNNStatus.hasPrefix("oneDNN") else {
            throw XCTSkip("oneDNN is not loaded here: \(ConvolutionBackend.oneDNNStatus)")
        }
        for transposed in [false, true] {
            for t in cases where !(t.outputPadding > 0 && !transposed) {
                let a = run(t, transposed: transposed, backend: .oneDNN),
                    b = run(t, transposed: transposed, backend: .im2col)
                XCTAssertEqual(a.count, b.count)
                for (i, (u, v)) in zip(a, b).enumerated() {
                    XCTAssertEqual(u.count, v.count)
                    let scale = max(1, v.map(abs).max() ?? 0)
                    let diff = zip(u, v).map { abs($0 - $1) }.max() ?? 0
                    XCTAssertLessThan(
                        diff, 2e-5 * scale, "\(transposed ? "transposed " : "")\(t): output \(i) differs by \(diff)")
                }
            }
        }
    }
}
