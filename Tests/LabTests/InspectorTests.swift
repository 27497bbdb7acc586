import Datasets
import Engine
import Formats
import Foundation
import Lab
import XCTest

final class StatisticsTests: XCTestCase {
    func testCorrelationsMatchScipy() {
        // scipy.stats.pearsonr / spearmanr on these values (ties in both samples).
        let x: [Double] = [1, 2, 2, 3, 5, 8, 8, 9, 12, 13]
        let y: [Double] = [2, 1, 4, 4, 3, 7, 9, 8, 8, 15]
        XCTAssertEqual(Statistics.pearson(x, y), 0.8971482684553777, accuracy: 1e-12)
        XCTAssertEqual(Statistics.spearman(x, y), 0.8742331288343559, accuracy: 1e-12)
        XCTAssertEqual(Statistics.ranks([3, 1, 3, 2]), [3.5, 1, 3.5, 2])
        XCTAssertTrue(Statistics.pearson([1, 1, 1], [1, 2, 3]).isNaN, "a constant sample has no correlation")
        XCTAssertEqual(
            Statistics.spearman(x + [.nan], y + [1]), Statistics.spearman(x, y), "non-finite pairs are dropped")
    }

    func testMutualInformationSeesDependenceAndIgnoresMonotoneMaps() {
        var rng = PRNG(seed: 1)
        let x = Tensor.normal([4000], rng: &rng).scalars.map(Double.init)
        let noise = Tensor.normal([4000], rng: &rng).scalars.map(Double.init)
        XCTAssertLessThan(Statistics.mutualInformation(x, noise), 0.02, "independent samples")
        let y = zip(x, noise).map { $0 + 0.3 * $1 }
        let mi = Statistics.mutualInformation(x, y)
        // A Gaussian pair with ρ² = 1/1.09 has I = −½ ln(1 − ρ²) = 1.24 nats; 16 bins see most of it.
        XCTAssertEqual(mi, 1.24, accuracy: 0.3)
        XCTAssertEqual(
            Statistics.mutualInformation(x.map { exp($0) }, y), mi, accuracy: 1e-12,
            "equal-frequency bins: invariant under monotone maps")
        XCTAssertEqual(Statistics.spearman(x, y.map { -$0 * $0 * $0 }), -Statistics.spearman(x, y), accuracy: 1e-12)
    }
}

final class ObservableCatalogueTests: XCTestCase {
    func testPictureObservables() {
        // A 4×4 image, bright in its left half only.
        var px = [Float](repeating: 0, count: 16)
        for r in 0..<4 { px[r * 4] = 1; px[r * 4 + 1] = 1 }
        let spec = DataSpec(source: "test", imageSize: 4, channels: 1, scaling: .zeroToOne)
        let v = ObservableCatalogue.compute(
            ObservableCatalogue.imageNames, images: Tensor(shape: [1, 1, 4, 4], data: px), spec: spec)
        XCTAssertEqual(v["brightness"]![0], 0.5, accuracy: 1e-12)
        XCTAssertEqual(v["contrast"]![0], 0.5, accuracy: 1e-12)
        XCTAssertEqual(v["asymmetry"]![0], 1, accuracy: 1e-12)
        XCTAssertEqual(v["centroid_x"]![0], -0.25, accuracy: 1e-12)
        XCTAssertEqual(v["centroid_y"]![0], 0, accuracy: 1e-12)
    }

    func testJetImageMassOfTwoPixels() {
        // Two equal massless pixels ΔR apart at η = ±a: m² = 2 pT² (cosh 2a − 1), so m/ΣpT = sinh(a).
        var spec = DataSpec(source: "test", imageSize: 5, channels: 1, scaling: .unitSum)
        spec.preprocessing = "image_window=1.25"
        var px = [Float](repeating: 0, count: 25)
        px[2 * 5 + 0] = 0.5; px[2 * 5 + 4] = 0.5  // row φ = 0, columns η = ±1
        let v = ObservableCatalogue.compute(
            ObservableCatalogue.jetImageNames, images: Tensor(shape: [1, 1, 5, 5], data: px), spec: spec)
        XCTAssertEqual(v["mass_over_pt"]![0], sinh(1.0), accuracy: 1e-5)
        XCTAssertEqual(v["multiplicity"]![0], 2)
        XCTAssertEqual(v["tau21"]![0], 0, accuracy: 1e-9, "two pixels are exactly two prongs")
    }
}

final class LatentInspectorTests: XCTestCase {
    func testActiveAndPassiveDimensions() {
        var rng = PRNG(seed: 2)
        let n = 2000
        let signal = Tensor.normal([n], rng: &rng).scalars.map(Double.init)
        // Dimension 0 follows the input sharply, 1 is collapsed to the prior, 2 is informative but
        // on a scale far below the prior's (as in a VAE with a sharp likelihood).
        let e = LatentInspector.Encoded(
            mu: [signal, Tensor.normal([n], std: 0.01, rng: &rng).scalars.map(Double.init), signal.map { 0.05 * $0 }],
            sigma: [
                Array(repeating: 0.1, count: n), Array(repeating: 0.99, count: n), Array(repeating: 0.01, count: n),
            ],
            observables: ["x": signal])
        let (dims, _, _) = LatentInspector.dimensions(e)
        XCTAssertEqual(dims.map(\.active), [true, false, true])
        XCTAssertEqual(dims[1].kl!, 0, accuracy: 0.01, "a passive dimension costs no KL")
        XCTAssertEqual(dims[0].information!, 0.5 * log(1 + 1 / 0.01), accuracy: 0.1)
        XCTAssertEqual(dims[2].rank, 2)
        let deps = LatentInspector.dependences(e, active: [0, 2], bins: 16)
        XCTAssertEqual(deps.count, 2)
        XCTAssertEqual(deps[0].spearman, 1, accuracy: 1e-12)
    }

    func testTraversalSweepsOneDimensionAtATime() {
        let dims = [
            LatentInspector.Dimension(index: 0, muMean: 1, muStd: 2, active: true),
            LatentInspector.Dimension(index: 1, muMean: -1, muStd: 0.5, active: true),
        ]
        let (z, offsets) = LatentInspector.traversal(dims, dims: [1], steps: 3, range: 3)
        XCTAssertEqual(offsets, [-3, 0, 3])
        XCTAssertEqual(z.shape, [3, 2])
        XCTAssertEqual(z.scalars, [1, -2.5, 1, -1, 1, 0.5])
    }

    /// Blobs whose brightness and horizontal position vary independently: a small VAE must put
    /// each factor in a neuron of its own and leave the spare neurons at the prior.
    func testFindsTheNeuronsOfKnownFactors() throws {
        let folder = scratchFolder("inspector")
        let n = 1024, size = 12
        var rng = PRNG(seed: 5)
        let amplitude = Tensor.uniform([n], low: 0.1, high: 1, rng: &rng).scalars
        let position = Tensor.uniform([n], low: 3, high: 8, rng: &rng).scalars
        var px = [Float](repeating: 0, count: n * size * size)
        for i in 0..<n {
            for r in 0..<size {
                for c in 0..<size {
                    let d2 = pow(Float(c) - position[i], 2) + pow(Float(r) - 5.5, 2)
                    px[i * size * size + r * size + c] = amplitude[i] * exp(-d2 / 8)
                }
            }
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let data = folder + "/blobs.npy"
        try NPY.write(Tensor(shape: [n, 1, size, size], data: px), to: data)
        var o = TrainOptions()
        o.epochs = 80; o.batchSize = 64; o.seed = 1; o.quiet = true; o.latentDim = 4
        var m = TrainingSetup.ModelOptions()
        m.architecture = .mlp; m.hidden = [64]; m.beta = 2
        let trainer = try TrainingSetup.make(kind: .vae, data: data, out: folder + "/vae", options: o, model: m)
        try trainer.train()
        let inspector = try LatentInspector(checkpoint: trainer.run.file("checkpoint.safetensors"))
        var options = LatentInspector.Options()
        options.traversed = 2
        let report = try inspector.inspect(data: [data], options: options, out: folder + "/report")
        XCTAssertGreaterThanOrEqual(
            report.passive.count, 1, "spare neurons collapse to the prior: \(report.dimensions)")
        for d in report.passive {
            XCTAssertEqual(report.dimensions[d].meanSigma!, 1, accuracy: 0.2)
        }
        guard let bright = report.best["brightness"], let centre = report.best["centroid_x"] else {
            return XCTFail("no active dimension: \(report.dimensions)")
        }
        // Seeded, but BLAS kernels differ between CPUs, so the bar leaves room (0.83 and 0.85 here).
        XCTAssertGreaterThan(abs(bright.spearman), 0.7, "\(report.dependences)")
        XCTAssertGreaterThan(abs(centre.spearman), 0.7, "\(report.dependences)")
        XCTAssertNotEqual(bright.dimension, centre.dimension, "independent factors land in different neurons")
        for name in [
            "report.md", "report.json", "correlations.csv", "latent_dimensions.csv", "traversal.png", "traversal.csv",
            "traversal_brightness.png", "map_brightness.png", "latent_activity.png",
        ] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/report/" + name), name)
        }
        XCTAssertEqual(
            try String(contentsOfFile: folder + "/report/traversal.csv", encoding: .utf8).split(separator: "\n").count,
            1 + 2 * 9)
    }

    func testBadRequestsAreClearErrors() throws {
        XCTAssertThrowsError(try LatentInspector(checkpoint: "/nonexistent/ckpt.safetensors")) {
            XCTAssertTrue("\($0)".contains("/nonexistent/ckpt.safetensors"), "\($0)")
        }
        // A jet model asked about face pictures, and an observable the data cannot give.
        let jets = try LatentInspector(checkpoint: AnomalyScorerTests.checkpoint)
        XCTAssertThrowsError(try jets.encode([repositoryRoot + "/Datasets/faces"], observables: nil, limit: 10)) {
            XCTAssertTrue("\($0)".contains("Datasets/faces") && "\($0)".contains("jet images"), "\($0)")
        }
        XCTAssertThrowsError(
            try jets.encode([repositoryRoot + "/Datasets/jets/qcd_test.h5"], observables: ["brightness"], limit: 10)
        ) {
            XCTAssertTrue("\($0)".contains("brightness") && "\($0)".contains("tau21"), "\($0)")
        }
        let e = try jets.encode(
            [repositoryRoot + "/Datasets/jets/qcd_test.h5"], observables: ["mass", "tau21"], limit: 50)
        XCTAssertEqual(e.count, 50)
        XCTAssertEqual(Set(e.observables.keys), ["mass", "tau21"])
        XCTAssertNil(e.sigma, "an autoencoder has no posterior σ")
    }
}
