import Datasets
import Engine
import Formats
import Foundation
import XCTest

@testable import Lab

/// FID and KID with the standard Inception network against PyTorch running the same TorchScript
/// archive (`scripts/python/fid_reference.py fixture`), and the archive reader's refusals.
final class FIDTests: XCTestCase {
    static let fixture = repositoryRoot + "/Tests/LabTests/Fixtures/fid"
    /// Loaded once: reading the archive and folding 94 convolutions takes a second.
    nonisolated(unsafe) static var network: FIDInception?

    func inception() throws -> FIDInception {
        if let n = Self.network { return n }
        let path: String
        do { path = try FIDInception.locate(nil) } catch {
            XCTFail("the FID Inception weights are missing (make deps installs them): \(error)")
            throw error
        }
        let n = try FIDInception(path: path)
        Self.network = n
        return n
    }

    func images(_ name: String) throws -> Tensor {
        try ImageSet.load(Self.fixture + "/" + name, options: ImageSet.Options(channels: 3)).images
    }

    func testFeaturesEqualPyTorchs() throws {
        let net = try inception()
        for name in ["a", "b"] {
            let x = try images(name).slice(axis: 0, start: 0, end: 3).detach()
            let mine = net.features(x)
            let theirs = try NPY.read(Self.fixture + "/features_\(name)_first3.npy").scalars.map(Double.init)
            XCTAssertEqual(mine.count, theirs.count)
            let scale = theirs.map(abs).max()!
            let worst = zip(mine, theirs).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-4 * scale, "set \(name): largest feature difference \(worst) of \(scale)")
        }
    }

    func testFIDAndKIDEqualPyTorchs() throws {
        let net = try inception()
        let reference =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: Self.fixture + "/reference.json"))) as! [String: Any]
        let a = net.features(try images("a")), b = net.features(try images("b"))
        let d = FIDInception.dimension, half = a.count / d / 2
        let fid = FrechetDistance.distance(a, b, dimension: d)
        let halves = FrechetDistance.distance(Array(a[..<(half * d)]), Array(a[(half * d)...]), dimension: d)
        XCTAssertEqual(fid, reference["fid_a_b"] as! Double, accuracy: 5e-3 * fid)
        XCTAssertEqual(halves, reference["fid_a_halves"] as! Double, accuracy: 5e-3 * halves)
        let kid = FrechetDistance.mmd(a, b, dimension: d)
        XCTAssertEqual(kid, reference["kid_a_b"] as! Double, accuracy: 5e-3 * abs(kid))
        // Two different families are much further apart than two halves of one.
        XCTAssertGreaterThan(fid, 5 * halves)
    }

    /// On the bundled faces and on Fashion-MNIST (real photographs nobody here made), FID and KID rank
    /// what a person would: truth < a good model (real images with a little noise) < a blurry one
    /// (VAE-like) < a collapsed one (one of the blurry images, repeated) and noise.
    func testFIDAndKIDRankModelsAsAPersonWould() throws {
        try checkRanking(try ImageSet.load(repositoryRoot + "/Datasets/faces").images, "faces")
        try checkRanking(try ImageSet.load("fashion-mnist:test", options: .init(limit: 80)).images, "Fashion-MNIST")
    }

    func checkRanking(_ images: Tensor, _ name: String) throws {
        let net = try inception()
        let n = 40, d = FIDInception.dimension
        let reference = images.slice(axis: 0, start: 0, end: n).detach()
        let truth = images.slice(axis: 0, start: n, end: 2 * n).detach()
        var rng = PRNG(seed: 3)
        let good = noGrad { (truth + Tensor.normal(truth.shape, std: 0.03, rng: &rng)).clamp(min: 0, max: 1) }
        // Blurry, as a VAE's samples are: each image smoothed by a 3 × 3 box.
        let blurry = noGrad { truth.avgPool2d(kernel: (3, 3), stride: (1, 1), padding: (1, 1)) }
        // Collapsed: every sample the same (blurry) image — the blurry model without its diversity.
        let one = blurry.slice(axis: 0, start: 0, end: 1).detach()
        let collapsed = noGrad {
            (one.expand(truth.shape) + Tensor.normal(truth.shape, std: 0.01, rng: &rng)).clamp(min: 0, max: 1)
        }
        let noise = Tensor.uniform(truth.shape, low: 0, high: 1, rng: &rng)
        let ref = net.features(reference)
        var fid: [String: Double] = [:], kid: [String: Double] = [:]
        for (side, x) in [
            ("truth", truth), ("good", good), ("blurry", blurry), ("collapsed", collapsed), ("noise", noise),
        ] {
            let f = net.features(x)
            fid[side] = FrechetDistance.distance(f, ref, dimension: d)
            kid[side] = FrechetDistance.mmd(f, ref, dimension: d)
        }
        for scores in [fid, kid] {
            XCTAssertLessThan(scores["truth"]!, scores["good"]!, "\(name): \(scores)")
            XCTAssertLessThan(scores["good"]!, scores["blurry"]!, "\(name): \(scores)")
            XCTAssertLessThan(scores["blurry"]!, scores["collapsed"]!, "\(name): \(scores)")
            XCTAssertLessThan(scores["blurry"]!, scores["noise"]!, "\(name): \(scores)")
        }
    }

    func testPrepareIsTensorFlowsLegacyBilinear() {
        // A 2-pixel ramp: output pixel j reads source j·2/299, clamped at the last pixel.
        let x = Tensor(shape: [1, 1, 1, 2], data: [0, 1])
        let y = FIDInception.prepare(x).scalars
        XCTAssertEqual(y[0], -1, accuracy: 1e-6)
        let src = Float(100) * 2 / 299
        XCTAssertEqual(y[100], src * 255 / 128 - 1, accuracy: 1e-5)  // 8-bit source values 0 and 255
        XCTAssertEqual(y[298], 255 / 128 - 1, accuracy: 1e-6)
        XCTAssertEqual(y[299 * 299], y[0])  // grey repeated into three channels
        // pytorch-fid: source (j + ½)·in/out − ½ clamped at 0, range 2x − 1.
        let p = FIDInception.prepare(x, resize: .pytorchFID).scalars
        XCTAssertEqual(p[0], -1, accuracy: 1e-6)
        XCTAssertEqual(p[100], (Float(100.5) * 2 / 299 - 0.5) * 2 - 1, accuracy: 1e-5)
        XCTAssertEqual(p[298], 1, accuracy: 1e-6)
    }

    func testPickleThatCallsCodeIsRefusedByName() throws {
        // cos\nsystem\n(S'echo hi'\ntR. — protocol 0, what a hostile .pt would hold.
        let hostile = Data("cos\nsystem\n(Vecho hi\ntR.".utf8)
        XCTAssertThrowsError(try Unpickler(hostile, file: "evil.pkl").load()) {
            XCTAssertTrue("\($0)".contains("os.system"), "\($0)")
        }
        XCTAssertThrowsError(try Unpickler(Data([0x80, 0x02, 0x5D]), file: "cut.pkl").load()) {
            XCTAssertTrue("\($0)".contains("truncated"), "\($0)")
        }
        var deep = Data([0x80, 0x02])
        for _ in 0..<300 { deep += [0x5D] }  // 300 nested empty lists, appended one into the next
        for _ in 0..<299 { deep += [0x61] }
        deep += [0x2E]
        XCTAssertThrowsError(try Unpickler(deep, file: "deep.pkl").load()) {
            XCTAssertTrue("\($0)".contains("nested deeper"), "\($0)")
        }
    }

    func testMissingWeightsSayWhatToDo() {
        XCTAssertThrowsError(try FIDInception.locate("/nonexistent/default_1.pt")) {
            XCTAssertTrue("\($0)".contains("fid_weights.sh"), "\($0)")
        }
    }
}
