import Datasets
import Engine
import Formats
import Foundation
import XCTest

/// The field's event layouts, written by the data sets' own tools (pandas/PyTables, h5py, uproot,
/// awkward; scripts/python/make_event_layouts.py) from the same 20 jets, read back: each is
/// recognised by its structure and yields the jets of its twin in GenLab's own layout.
final class EventLayoutTests: XCTestCase {
    func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures/events/" + name, withExtension: nil)!.path
    }

    func open(_ name: String) throws -> EventFile {
        try XCTUnwrap(try EventFile(fixture(name)), "\(name) is not recognised as an event file")
    }

    func testEveryLayoutIsRecognisedByItsStructure() throws {
        let expected: [(String, EventLayout)] = [
            ("genlab.h5", .genlab(constituents: 200)),
            ("toptagging_fixed.h5", .topTagging(format: .fixed, constituents: 200, labelled: true)),
            ("toptagging_table.h5", .topTagging(format: .table, constituents: 200, labelled: true)),
            ("lhco_rnd.h5", .lhcOlympics(format: .fixed, particles: 700, labelled: true)),
            ("lhco_blackbox.h5", .lhcOlympics(format: .fixed, particles: 700, labelled: false)),
            ("lhco_rnd_blosc.h5", .lhcOlympics(format: .fixed, particles: 700, labelled: true)),
            ("jetnet.h5", .jetNet(particles: 30, features: 4)),
            ("atlas.h5", .atlasTopTagging(constituents: 200)),
        ]
        for (name, layout) in expected {
            let events = try open(name)
            XCTAssertEqual(events.layout, layout, name)
            XCTAssertEqual(events.count, 20, name)
        }
        XCTAssertTrue(try open("toptagging_table.h5").layout.description.contains("labels from is_signal_new"))
    }

    /// Every layout gives the twin's constituents (to float32 rounding, and the MeV → GeV
    /// conversion), labels and, where stored, weights.
    func testEveryLayoutReadsTheSameJetsAsItsTwin() throws {
        let twin = try open("genlab.h5").read(0, 20)
        for name in ["toptagging_fixed.h5", "toptagging_table.h5", "lhco_rnd.h5", "lhco_rnd_blosc.h5", "atlas.h5"] {
            let batch = try open(name).read(0, 20)
            XCTAssertEqual(batch.labels, twin.labels, name)
            for i in 0..<20 {
                let a = batch.particles[i].sorted { $0.pt > $1.pt }, b = twin.particles[i].sorted { $0.pt > $1.pt }
                XCTAssertEqual(a.count, b.count, "\(name) jet \(i)")
                for (x, y) in zip(a, b) {
                    XCTAssertEqual(x.pt, y.pt, accuracy: 1e-3 * max(1, y.pt), name)
                    XCTAssertEqual(x.eta, y.eta, accuracy: 1e-4, name)
                    XCTAssertEqual(abs(remainder(x.phi - y.phi, 2 * .pi)), 0, accuracy: 1e-4, name)
                }
            }
        }
        XCTAssertEqual(try open("atlas.h5").read(0, 20).weights, Array(repeating: 1, count: 20))
        XCTAssertEqual(try open("lhco_blackbox.h5").read(0, 20).labels, Array(repeating: nil, count: 20))
        // JetNet keeps 30 particles relative to the jet: pT fractions of its twin's 30.
        let jetnet = try open("jetnet.h5").read(0, 20), twin30 = try open("genlab_jetnet.h5").read(0, 20)
        XCTAssertEqual(jetnet.labels, twin30.labels)
        for i in 0..<20 {
            XCTAssertEqual(jetnet.particles[i].count, twin30.particles[i].count)
            let ratios = zip(jetnet.particles[i], twin30.particles[i]).map { $0.pt / $1.pt }
            XCTAssertLessThan((ratios.max() ?? 0) - (ratios.min() ?? 0), 1e-4, "one jet pT divides them all")
            XCTAssertNotNil(jetnet.mass[i])
        }
    }

    func testPickledColumnNamesAreReadAsTokensAndAnythingElseIsRefused() throws {
        let names = "(lp0\nVE_0\np1\naVPX_0\np2\naV\\u00e9\np3\na."
        XCTAssertEqual(try PickledNames.parse(names, file: "f.h5", attribute: "kind"), ["E_0", "PX_0", "é"])
        let code = "cos\nsystem\n(S'echo hi'\ntR."
        XCTAssertThrowsError(try PickledNames.parse(code, file: "f.h5", attribute: "kind")) {
            XCTAssertTrue("\($0)".contains("never runs a pickle"), "\($0)")
        }
        XCTAssertThrowsError(try PickledNames.parse("(lp0\nVa", file: "f.h5", attribute: "kind"))
    }

    func testParticleArraysAreNeverTakenForImages() throws {
        XCTAssertThrowsError(try ImageSet.load(fixture("jetnet.h5"))) {
            XCTAssertTrue("\($0)".contains("JetNet") && "\($0)".contains("not pictures"), "\($0)")
        }
        XCTAssertThrowsError(try ImageSet.load(fixture("toptagging_table.h5"))) {
            XCTAssertTrue("\($0)".contains("Top Quark Tagging"), "\($0)")
        }
        XCTAssertThrowsError(try ImageSet.load(fixture("toptagging_fixed.h5") + ":/table/block0_values")) {
            XCTAssertTrue("\($0)".contains("pandas table"), "\($0)")
        }
        XCTAssertThrowsError(try ImageSet.asImages(Tensor.zeros([5, 30, 4]), "x.npy", integersAreBytes: true)) {
            XCTAssertTrue("\($0)".contains("particles"), "\($0)")
        }
    }

    func testROOTParquetAndCSVAreNamedWithTheConverter() throws {
        for (name, kind) in [
            ("jetclass.root", FileKind.root), ("jetclass.parquet", .parquet), ("darkmachines.csv", .csv),
        ] {
            XCTAssertEqual(try FileKind.detect(fixture(name)), kind, name)
            XCTAssertThrowsError(try ImageSet.load(fixture(name))) {
                XCTAssertTrue("\($0)".contains("scripts/convert_events.py") && "\($0)".contains(kind.rawValue), "\($0)")
            }
        }
    }
}
