import Datasets
import Engine
import Formats
import Foundation
import XCTest

/// Whole events in the LHC Olympics R&D layout (Pythia dijets, written by pandas) give the R&D
/// features file's columns as FastJet computes them for the same events
/// (scripts/python/make_dijet_feature_fixtures.py).
final class DijetFeaturesTests: XCTestCase {
    func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures/events/" + name, withExtension: nil)!.path
    }

    func testWholeEventsGiveFastJetsDijetFeatures() throws {
        let events = try FeatureTable(paths: [fixture("lhco_dijets.h5")])
        let truth = try FeatureTable(paths: [fixture("lhco_dijets_features.h5")])
        XCTAssertEqual(events.rows, 40)
        XCTAssertEqual(events.rows, truth.rows)
        XCTAssertEqual(events.dropped, 0)
        for name in DijetFeatures.columns + ["label"] + FeatureTable.huntFeatures {
            let a = try events.column(name), b = try truth.column(name)
            for (i, (x, y)) in zip(a, b).enumerated() {
                // Float32 storage of the particles, and τ sums over a few hundred of them.
                let tolerance = name.hasPrefix("tau") ? 2e-4 * max(1, abs(y)) : 1e-4 * max(1, abs(y))
                XCTAssertEqual(x, y, accuracy: tolerance, "\(name), event \(i)")
            }
        }
        // The signal's lighter jet is the Y (100 GeV) in half the events at least.
        let labels = try events.column("label"), mJ1 = try events.column("mJ1")
        let signalLight = zip(labels, mJ1).filter { $0.0 == 1 }.map(\.1)
        XCTAssertEqual(signalLight.count, 10)
        XCTAssertGreaterThanOrEqual(signalLight.filter { abs($0 - 0.1) < 0.03 }.count, 5)
    }

    func testAnEventWithOneJetHasNoDijetFeatures() {
        XCTAssertNil(DijetFeatures.features([(pt: 1500, eta: 0.1, phi: 0.2), (pt: 30, eta: 0.3, phi: 0.1)]))
        let two = DijetFeatures.features([(pt: 1500, eta: 0.1, phi: 0.2), (pt: 1400, eta: -0.4, phi: 3.0)])
        XCTAssertEqual(two?.count, 14)
        XCTAssertEqual(two?[3] ?? -1, 0, accuracy: 1e-3)  // one massless particle: no mass
    }

    /// Whole events and a features file stack (the same columns); an unlabelled events file
    /// cannot join labelled ones.
    func testEventsAndFeatureFilesStackWhenTheirColumnsAgree() throws {
        let both = try FeatureTable(paths: [fixture("lhco_dijets.h5"), fixture("lhco_dijets_features.h5")])
        XCTAssertEqual(both.rows, 80)
        XCTAssertThrowsError(try FeatureTable(paths: [fixture("lhco_dijets.h5"), fixture("lhco_blackbox.h5")])) {
            XCTAssertTrue("\($0)".contains("lhco_blackbox.h5"), "\($0)")
        }
    }
}
