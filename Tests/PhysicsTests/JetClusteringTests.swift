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
}
