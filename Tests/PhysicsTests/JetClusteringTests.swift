import Engine
import Formats
import Foundation
import Physics
import XCTest

final class JetClusteringTests: XCTestCase {
    /// The same jets as FastJet (Python `fastjet`) on whole events: constituents, pT, η, φ, mass.
    func testMatchesFastJetOnWholeEvents() throws {
        let url = Bundle.module.url(forResource: "fastjet_jets", withExtension: "json", subdirectory: "Fixtures")!
        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: [[[String: Any]]]]
        let file = try HDF5File(repositoryRoot + "/Datasets/jets/lhco_events.h5")
        let events = try file.readRows("/df/block0_values", 0, 12)
        let width = events.shape[1], p = events.storage.pointer
        var jetsCompared = 0
        for (name, perEvent) in reference {
            let clustering = JetClustering(JetClustering.Algorithm(rawValue: name)!, radius: 1.0)
            for (e, expected) in perEvent.enumerated() {
                let particles = (0..<700).compactMap { k -> FourVector? in
                    let b = p + e * width + 3 * k
                    return b[0] > 0 ? FourVector(pt: Double(b[0]), eta: Double(b[1]), phi: Double(b[2])) : nil
                }
                let jets = clustering.cluster(particles, ptMin: 20)
                let reference = clustering.clusterReference(particles, ptMin: 20)
                XCTAssertEqual(
                    jets.map(\.constituents), reference.map(\.constituents),
                    "\(name) event \(e): tiled vs reference kernel")
                XCTAssertEqual(jets.count, expected.count, "\(name) event \(e): number of jets")
                for (jet, ref) in zip(jets, expected) {
                    let pt = (ref["pt"] as! NSNumber).doubleValue
                    XCTAssertEqual(jet.pt, pt, accuracy: 1e-6 * pt, "\(name) event \(e)")
                    XCTAssertEqual(jet.eta, (ref["eta"] as! NSNumber).doubleValue, accuracy: 1e-6)
                    XCTAssertEqual(jet.phi, (ref["phi"] as! NSNumber).doubleValue, accuracy: 1e-6)
                    XCTAssertEqual(jet.mass, (ref["m"] as! NSNumber).doubleValue, accuracy: 1e-4 * max(1, jet.mass))
                    XCTAssertEqual(jet.constituents.sorted(), (ref["constituents"] as! [NSNumber]).map(\.intValue))
                    jetsCompared += 1
                }
            }
        }
        XCTAssertGreaterThan(jetsCompared, 140)
    }

    /// The tiled kernel against the reference on events it was not tuned on: narrow sprays of many
    /// particles (merged objects move into tiles that must grow), small and large R, every
    /// algorithm, particles without transverse momentum and particles at one place (tied and NaN
    /// distances) — the same jets, constituents in the same order, the same momenta to the bit.
    func testTiledMatchesReferenceOnSprays() {
        var rng = PRNG(seed: 2026)
        var compared = 0
        for event in 0..<6 {
            var particles: [FourVector] = []
            let sprays = 1 + rng.nextInt(4)
            for _ in 0..<sprays {
                let (eta0, phi0) = (Double(rng.nextFloat()) * 6 - 3, Double(rng.nextFloat()) * 6.2 - 3.1)
                let width = 0.05 + 0.4 * Double(rng.nextFloat())
                for _ in 0..<(60 + rng.nextInt(200)) {
                    let pt = 0.2 + 50 * Double(rng.nextFloat() * rng.nextFloat())
                    particles.append(
                        FourVector(
                            pt: pt, eta: eta0 + width * Double(rng.nextNormal()),
                            phi: phi0 + width * Double(rng.nextNormal())))
                }
            }
            for _ in 0..<40 {
                particles.append(
                    FourVector(
                        pt: 0.5 + 5 * Double(rng.nextFloat()), eta: Double(rng.nextFloat()) * 8 - 4,
                        phi: Double(rng.nextFloat()) * 6.28 - 3.14))
            }
            if event % 2 == 1 {
                particles.append(particles[3])  // a twin: a tied distance of zero
                particles.append(FourVector(px: 0, py: 0, pz: 5, e: 5))  // no transverse momentum
                particles.append(FourVector(px: 0, py: 0, pz: 5, e: 5))  // twice, at one place
            }
            for algorithm in JetClustering.Algorithm.allCases {
                for radius in [0.05, 0.2, 0.4, 1.0] {
                    let clustering = JetClustering(algorithm, radius: radius)
                    let jets = clustering.cluster(particles), reference = clustering.clusterReference(particles)
                    XCTAssertEqual(
                        jets.map(\.constituents), reference.map(\.constituents),
                        "event \(event) \(algorithm) R=\(radius)")
                    XCTAssertEqual(
                        jets.map(\.momentum), reference.map(\.momentum), "event \(event) \(algorithm) R=\(radius)")
                    compared += jets.count
                }
            }
        }
        XCTAssertGreaterThan(compared, 500)
    }
}
