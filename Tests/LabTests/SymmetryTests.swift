import Engine
import Formats
import Foundation
import Lab
import Models
import Physics
import XCTest

final class SymmetryTemplateTests: XCTestCase {
    /// Every class's potential is invariant under the maps that define its symmetry, and the
    /// two-colour image sets the asked fraction of pixels.
    func testTemplatesHaveTheirSymmetry() {
        for extrapolate in [false, true] {
            let lib = SymmetryTemplates(size: 32, extrapolate: extrapolate)
            var rng = PRNG(seed: 11)
            for c in SymmetryClass.allCases {
                for _ in 0..<20 {
                    let p = lib.potential(c, rng: &rng)
                    XCTAssertEqual(p.invariances.isEmpty, c == .none, c.name)
                    let scale = (0..<50).map { i in abs(p.value(-0.9 + 0.036 * Double(i), 0.3)) }.max()! + 1e-9
                    for g in p.invariances {
                        for i in 0..<40 {
                            let x = -0.5 + 0.025 * Double(i), y = 0.4 - 0.02 * Double(i)
                            let (gx, gy) = g(x, y)
                            XCTAssertEqual(
                                p.value(gx, gy), p.value(x, y), accuracy: 1e-9 * scale, "\(c.name): \(p.description)")
                        }
                    }
                }
                let t = lib.template(c, epsilon: 0.3, rng: &rng)
                let fill = t.pixels.reduce(0, +) / Float(t.pixels.count)
                XCTAssertTrue(t.pixels.allSatisfy { $0 == 0 || $0 == 1 })
                XCTAssertTrue((0.29...0.71).contains(fill), "fill \(fill)")
                // ε is what the image shows, calibrated to the asked 0.3 (bisection on λ).
                XCTAssertEqual(t.epsilon, c == .none ? 1 : 0.3, accuracy: 0.06, "\(c.name): \(t.description)")
            }
        }
        // A generic potential has none of the other classes' symmetries.
        var rng = PRNG(seed: 3)
        let generic = SymmetryTemplates().potential(.none, rng: &rng)
        let mirror = SymmetryTemplates().potential(.reflection, rng: &rng).invariances[0]
        let broken = (0..<40).map { i -> Double in
            let x = -0.5 + 0.025 * Double(i), y = 0.4 - 0.02 * Double(i), (gx, gy) = mirror(x, y)
            return abs(generic.value(gx, gy) - generic.value(x, y))
        }.max()!
        XCTAssertGreaterThan(broken, 1e-3)
    }

    /// The disagreement measure: 0 for an image invariant under the map, about 1 for a map that
    /// scrambles it, independent of the fill.
    func testDisagreementMeasuresBrokenSymmetry() {
        let lib = SymmetryTemplates(size: 32)
        // Left half set: invariant under v → −v, fully inverted by u → −u (every pixel flips).
        let half = (0..<1024).map { Float($0 % 32 < 16 ? 1 : 0) }
        XCTAssertEqual(lib.disagreement(half, under: { x, y in (x, -y) }), 0)
        XCTAssertEqual(
            lib.disagreement(half, under: { x, y in (-x, y) }), 2, accuracy: 1e-12, "all differ, over 2f(1 − f) = ½")
        var rng = PRNG(seed: 1)
        let noise = (0..<1024).map { _ in Float(rng.nextFloat() < 0.3 ? 1 : 0) }
        XCTAssertEqual(lib.disagreement(noise, under: { x, y in (-x, y) }), 1, accuracy: 0.15, "unrelated pixels")
    }

    /// Calibrated breaking: a larger ε shows as a larger disagreement under the template's own
    /// symmetries, and `none` images are at least as far from every probed symmetry as ε = 1.
    func testEpsilonIsTheBreakingTheImageShows() {
        for extrapolate in [false, true] {
            let lib = SymmetryTemplates(size: 32, extrapolate: extrapolate)
            for c in SymmetryClass.allCases where c != .none {
                var rng = PRNG(seed: 21), same = rng
                let sweep = lib.sweep(c, epsilons: [0, 0.1, 0.4, 0.7, 1.0], rng: &rng)
                // The sweep starts from the exact template this stream would give.
                XCTAssertEqual(sweep[0].pixels, lib.template(c, epsilon: 0, rng: &same).pixels, c.name)
                XCTAssertEqual(
                    Set(sweep.map { $0.description.components(separatedBy: ", ε")[0] }).count, 1, "one potential")
                XCTAssertTrue(sweep[0].description.contains(", ε = 0.00, fill 0."), sweep[0].description)
                for (t, target) in zip(sweep, [0, 0.1, 0.4, 0.7, 1.0]) {
                    XCTAssertEqual(t.epsilon, target, accuracy: 0.06, "\(c.name): \(t.description)")
                }
            }
            var rng = PRNG(seed: 23)
            for _ in 0..<10 {
                let t = lib.template(.none, epsilon: 0, rng: &rng)
                XCTAssertGreaterThanOrEqual(lib.nearestSymmetry(t.pixels), SymmetryTemplates.fullBreak, t.description)
            }
        }
    }

    func testSquareSymmetriesFormTheGroup() {
        let n = 4
        let src = (0..<(n * n)).map(Float.init)
        var images: Set<[Float]> = []
        for k in 0..<8 {
            var out = [Float](repeating: 0, count: n * n)
            src.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer {
                    SquareSymmetry.apply(k, s.baseAddress!, $0.baseAddress!, channels: 1, n: n)
                }
            }
            images.insert(out)
        }
        XCTAssertEqual(images.count, 8, "eight distinct transforms")
        var x = src
        for _ in 0..<4 {
            var out = [Float](repeating: 0, count: n * n)
            x.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer {
                    SquareSymmetry.apply(1, s.baseAddress!, $0.baseAddress!, channels: 1, n: n)
                }
            }
            x = out
        }
        XCTAssertEqual(x, src, "four quarter turns are the identity")
    }
}

final class SymmetryPipelineTests: XCTestCase {
    func testJacobiEigenAndPCA() {
        // [[2, 1], [1, 2]]: eigenvalues 3 and 1, eigenvectors (1, 1)/√2 and (1, −1)/√2.
        let (values, vectors) = PCA.symmetricEigen([2, 1, 1, 2], n: 2)
        XCTAssertEqual(values[0], 3, accuracy: 1e-12); XCTAssertEqual(values[1], 1, accuracy: 1e-12)
        XCTAssertEqual(abs(vectors[0][0]), 0.5.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(vectors[0][0] * vectors[0][1], 0.5, accuracy: 1e-12)
        // A random symmetric 5 × 5 matrix: every pair satisfies A v = λ v, in descending order.
        var rng = PRNG(seed: 4)
        let a: [Double] = Tensor.normal([5, 5], rng: &rng).scalars.map(Double.init)
        var sym = [Double](repeating: 0, count: 25)
        for i in 0..<5 { for j in 0..<5 { sym[i * 5 + j] = a[i * 5 + j] + a[j * 5 + i] } }
        let (ev, vecs) = PCA.symmetricEigen(sym, n: 5)
        for (lambda, v) in zip(ev, vecs) {
            for i in 0..<5 {
                let av = (0..<5).reduce(0.0) { $0 + sym[i * 5 + $1] * v[$1] }
                XCTAssertEqual(av, lambda * v[i], accuracy: 1e-9, "A v = λ v")
            }
        }
        XCTAssertEqual(ev, ev.sorted(by: >))
        // Data stretched along (1, 1, 0): the first component carries most of the variance.
        var data = [Float]()
        for _ in 0..<500 {
            let t = rng.nextNormal() * 3, e = (rng.nextNormal(), rng.nextNormal(), rng.nextNormal())
            data += [t + 0.1 * e.0, t + 0.1 * e.1, 0.1 * e.2]
        }
        let (scores, explained) = data.withUnsafeBufferPointer {
            PCA.scores($0.baseAddress!, rows: 500, features: 3, k: 2)
        }
        XCTAssertGreaterThan(explained[0], 0.99)
        XCTAssertEqual(Statistics.meanAndSpread(scores[0]).std, 1, accuracy: 1e-9)
    }

    func testDecoyMembersLearnIndependently() {
        var rng = PRNG(seed: 9)
        var config = DecoyNet.Config()
        config.steps = 150
        let net = DecoyNet(count: 2, config, rng: &rng)
        // Member 0: a disc; member 1: the left half.
        let size = 16
        var targets = [Float]()
        for b in 0..<2 {
            for r in 0..<size {
                for c in 0..<size {
                    let x = Float(c) - 7.5, y = Float(r) - 7.5
                    targets.append(b == 0 ? (x * x + y * y < 25 ? 1 : 0) : (x < 0 ? 1 : 0))
                }
            }
        }
        let before = net.layers[0].weight.scalars
        let accuracy = net.fit(Tensor(shape: [2, size * size], data: targets), size: size)
        XCTAssertGreaterThan(accuracy[0], 0.95); XCTAssertGreaterThan(accuracy[1], 0.95)
        XCTAssertNotEqual(net.layers[0].weight.scalars, before)
        // A loss on member 0 alone leaves member 1's gradients at zero.
        for p in net.parameters() { p.zeroGrad() }
        net(net.coordinates(size: size)).slice(axis: 0, start: 0, end: 1).sum().backward()
        let g = net.layers[1].weight.grad!.scalars, per = g.count / 2
        XCTAssertGreaterThan(g[0..<per].map(abs).max()!, 0)
        XCTAssertEqual(g[per...].map(abs).max()!, 0)
    }

    func testAnImagesRepresentationDoesNotDependOnItsBatch() {
        var rng = PRNG(seed: 8)
        let lib = SymmetryTemplates(size: 16)
        let images = (0..<3).map { lib.template(SymmetryClass(rawValue: $0)!, epsilon: 0, rng: &rng).pixels }
        var rep = SymmetryRepresentation()
        rep.size = 16; rep.decoy.steps = 10
        let together = rep.make(images, seed: 5).images
        let alone = rep.make([images[2]], seed: 5).images
        XCTAssertEqual(together.slice(axis: 0, start: 2, end: 3).scalars, alone.scalars)
        XCTAssertNotEqual(rep.make([images[2]], seed: 6).images.scalars, alone.scalars, "another seed, another decoy")
        // Several fits of one image in one batch, each under its own seed, are the fits made alone.
        let mixed = rep.make([images[0], images[2], images[2]], seeds: [5, 6, 5]).images
        XCTAssertEqual(mixed.slice(axis: 0, start: 1, end: 2).scalars, rep.make([images[2]], seed: 6).images.scalars)
        XCTAssertEqual(mixed.slice(axis: 0, start: 2, end: 3).scalars, alone.scalars)
    }

    /// The ranking loss is small when each sweep's logits rise with ε, large when they fall, and
    /// descending its gradient raises the higher-ε image; pairs with (nearly) equal ε do not count.
    func testRankingLossOrdersEachSweep() {
        let eps: [Float] = [0, 0.5, 1, 0, 0.02, 0.9]
        let rising = SymmetryTraining.rankingLoss(
            Tensor(shape: [6], data: [-4, 0, 4, -4, -3.9, 4]), epsilons: eps, length: 3
        ).item()
        let falling = SymmetryTraining.rankingLoss(
            Tensor(shape: [6], data: [4, 0, -4, 4, 3.9, -4]), epsilons: eps, length: 3
        ).item()
        XCTAssertLessThan(rising, 0.05)
        XCTAssertGreaterThan(falling, 4)
        // Pairs: (0,1) (0,2) (1,2) in the first sweep, (3,5) (4,5) in the second; logits 0 give log 2 each.
        let d = Tensor.zeros([6], requiresGrad: true)
        let loss = SymmetryTraining.rankingLoss(d, epsilons: eps, length: 3)
        XCTAssertEqual(loss.item(), Float(log(2.0)), accuracy: 1e-6)
        loss.backward()
        let g = d.grad!.scalars
        // Each pair adds σ(0)/5 = 0.1 to its lower image's gradient and takes 0.1 from its higher one's.
        for (got, want) in zip(g, [0.2, 0, -0.2, 0.1, 0.1, -0.2] as [Float]) {
            XCTAssertEqual(got, want, accuracy: 1e-6)
        }
        XCTAssertEqual(
            SymmetryTraining.rankingLoss(Tensor(shape: [2], data: [1, 2]), epsilons: [0.3, 0.3], length: 2).item(), 0)
    }

    func testOtsuSplitsTwoModes() {
        let grey: [Float] =
            Array(repeating: 0.2, count: 60) + Array(repeating: 0.25, count: 40) + Array(repeating: 0.8, count: 50)
        let t = SymmetryDetector.otsu(grey)
        XCTAssertGreaterThan(t, 0.25); XCTAssertLessThan(t, 0.8)
    }

    func testTrainingRunWritesItsReport() throws {
        let folder = scratchFolder("symmetry-train")
        var o = SymmetryTrainingOptions()
        o.perClass = 4; o.validationPerClass = 1; o.heldOutPerClass = 1; o.epochs = 2; o.quiet = true
        o.stabilityImages = 2; o.heldOutSeeds = 2; o.sweepsPerClass = 1; o.trainingSweepsPerClass = 1
        o.representation.decoy.steps = 20
        let r = try SymmetryTraining.train(o, out: folder) { _ in }
        for name in ["checkpoint.safetensors", "confusion.png", "evaluation.json", "metrics.csv", "loss.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/" + name), name)
        }
        XCTAssertEqual(r.heldOut.templates, 6)
        XCTAssertEqual(r.heldOut.confusionExact.map(\.count), Array(repeating: 6, count: 6))
        XCTAssertNotNil(r.heldOut.scoreSpreadAcrossSeeds)
        XCTAssertEqual(r.heldOutReported?.seeds, 2)
        XCTAssertEqual(r.heldOutReported?.templates, 6)
        XCTAssertEqual(r.sweeps?.sweeps, 5, "one sweep per symmetric class")
        XCTAssertEqual(r.sweeps?.meanScore.count, 6)
        XCTAssertLessThan(r.sweeps?.probeMeanSpearman ?? 0, -0.5, "the images break more as ε grows")
        let detector = try SymmetryDetector(checkpoint: r.checkpoint)
        XCTAssertEqual(detector.config.representation, o.representation)

        // `genlab symmetry evaluate` at the training seed + 2000 repeats the run's own measurement.
        let again = scratchFolder("symmetry-evaluate")
        let m = try SymmetryEvaluation.evaluateCheckpoint(
            detector, checkpoint: r.checkpoint, heldOutPerClass: 1, sweepsPerClass: 1, seeds: 2,
            seed: o.seed + 2000, stabilityImages: 2, out: again, quiet: true)
        XCTAssertEqual(m.heldOut?.confusionExact, r.heldOutReported?.confusionExact)
        XCTAssertEqual(m.heldOut?.accuracyAll, r.heldOutReported?.accuracyAll)
        XCTAssertEqual(m.sweeps?.meanScore, r.sweeps?.meanScore)
        XCTAssertEqual(m.stability?.images, 2)
        XCTAssertEqual(
            m.stability?.perFit, r.heldOut.scoreSpreadAcrossSeeds, "the same stability measurement as train's")
        XCTAssertEqual(m.stability?.reported, r.heldOut.reportedScoreSpread)
        for name in ["confusion.png", "evaluation.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: again + "/" + name), name)
        }
        XCTAssertEqual(m.warnings, [], "seed + 2000 and + 3000 are new to the run")
        XCTAssertEqual(detector.config.training?.trainingSweepsPerClass, 1, "the checkpoint records how it was trained")
        let training = try XCTUnwrap(detector.config.training)
        XCTAssertEqual(SymmetryEvaluation.seenBefore(training, heldOutSeed: o.seed, sweepSeed: o.seed + 4000).count, 2)
        XCTAssertEqual(
            SymmetryEvaluation.seenBefore(training, heldOutSeed: o.seed + 5000, sweepSeed: o.seed + 6000), [])
    }
}

/// The shipped detector (Pretrained/symmetry.safetensors) on fresh templates and real files.
final class ShippedSymmetryDetectorTests: XCTestCase {
    static let checkpoint = repositoryRoot + "/Pretrained/symmetry.safetensors"

    func testClassifiesFreshExactTemplates() throws {
        let detector = try SymmetryDetector(checkpoint: Self.checkpoint)
        let lib = SymmetryTemplates(size: detector.size, extrapolate: true)
        var rng = PRNG(seed: 2026)
        var templates: [SymmetryTemplates.Template] = []
        for _ in 0..<5 { for c in SymmetryClass.allCases { templates.append(lib.template(c, epsilon: 0, rng: &rng)) } }
        let scores = detector.score(templates.map(\.pixels), seeds: [7])
        // Fits batched across seeds give each seed's own score.
        let twoSeeds = detector.score([templates[0].pixels], seeds: [8, 7])[0].seedScores
        // (equal up to float rounding: the classifier's batched convolutions sum in another order)
        for (a, b) in zip(twoSeeds, [detector.score([templates[0].pixels], seeds: [8])[0].score, scores[0].score]) {
            XCTAssertEqual(a, b, accuracy: 1e-6)
        }
        XCTAssertEqual(twoSeeds.count, 2)
        let right = zip(templates, scores).filter { $0.0.symmetry.name == $0.1.mostLikely }.count
        // The full held-out measurement (README, 360 templates) gives 93 % for one fit (29 of these
        // 30 today); 30 templates only bound it loosely, far above chance (17 %).
        XCTAssertGreaterThanOrEqual(Double(right) / Double(templates.count), 0.8, "\(right) of \(templates.count)")
        for s in scores {
            XCTAssertEqual(s.probabilities.values.reduce(0, +), 1, accuracy: 1e-5)
            XCTAssertTrue((0...1).contains(s.score))
        }
    }

    func testScoresFilesAndRejectsBadOnes() throws {
        let detector = try SymmetryDetector(checkpoint: Self.checkpoint)
        let out = scratchFolder("symmetry-score")
        let scores = try SymmetryRun.score(
            [repositoryRoot + "/Datasets/faces/face_000.png"], detector: detector, seeds: 2, out: out)
        XCTAssertEqual(scores.count, 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/face_000_report.png"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/scores.json"))
        // Fits from the second seed on are the two-seed run's second fit.
        let later = try SymmetryRun.score(
            [repositoryRoot + "/Datasets/faces/face_000.png"], detector: detector, seeds: 1, firstSeed: 1,
            out: scratchFolder("symmetry-score-seed1"))
        XCTAssertEqual(scores[0].seedScores.count, 2)
        XCTAssertEqual(later[0].seedScores, [scores[0].seedScores[1]])
        // A blank image, a corrupt file and a wrong checkpoint are errors naming the file.
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Image(width: 8, height: 8, channels: 1, pixels: Array(repeating: 0.5, count: 64)).writePNG(
            out + "/blank.png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0, 1, 2]).write(to: URL(fileURLWithPath: out + "/broken.png"))
        for bad in [out + "/blank.png", out + "/broken.png"] {
            XCTAssertThrowsError(try SymmetryRun.score([bad], detector: detector, seeds: 1, out: out)) {
                XCTAssertTrue("\($0)".contains(bad), "\($0)")
            }
        }
        // Among good files (read side by side), the first bad one in order is the error.
        let face = repositoryRoot + "/Datasets/faces/face_000.png"
        XCTAssertThrowsError(
            try SymmetryRun.score(
                [face, out + "/broken.png", face, out + "/blank.png"], detector: detector, seeds: 1, out: out)
        ) { XCTAssertTrue("\($0)".contains(out + "/broken.png"), "\($0)") }
        XCTAssertThrowsError(try SymmetryDetector(checkpoint: out + "/scores.json")) {
            XCTAssertTrue("\($0)".contains("scores.json"), "\($0)")
        }
        XCTAssertThrowsError(try SymmetryDetector(checkpoint: out + "/missing.safetensors"))
    }
}
