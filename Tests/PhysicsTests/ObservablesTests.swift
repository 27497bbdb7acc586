import Engine
import Formats
import Foundation
import Physics
import XCTest

final class ObservablesTests: XCTestCase {
    /// pT, mass, multiplicity and N-subjettiness against an independent numpy implementation.
    func testMatchIndependentPythonComputation() throws {
        let url = Bundle.module.url(forResource: "observables", withExtension: "json", subdirectory: "Fixtures")!
        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: [[String: Any]]]
        var checked = 0
        var tau21: [String: [Double]] = [:], tau32: [String: [Double]] = [:]
        for (name, rows) in reference {
            let file = try HDF5File(repositoryRoot + "/Datasets/jets/\(name).h5")
            let c = try file.readRows("/constituents", 0, rows.count), img = try file.readRows("/images", 0, rows.count)
            let m = c.shape[1], p = c.storage.pointer
            for row in rows {
                let k = row["index"] as! Int
                let particles = (0..<m).compactMap { i -> FourVector? in
                    let b = p + (k * m + i) * 3
                    return b[0] > 0 ? FourVector(pt: Double(b[0]), eta: Double(b[1]), phi: Double(b[2])) : nil
                }
                let s = Observables.summary(particles)
                let taus = (row["tau"] as! [NSNumber]).map(\.doubleValue)
                XCTAssertEqual(s.pt, (row["pt"] as! NSNumber).doubleValue, accuracy: 1e-6 * s.pt)
                XCTAssertEqual(s.mass, (row["mass"] as! NSNumber).doubleValue, accuracy: 1e-5 * max(1, s.mass))
                XCTAssertEqual(s.multiplicity, (row["multiplicity"] as! NSNumber).intValue)
                for (a, b) in zip([s.tau1, s.tau2, s.tau3], taus) {
                    XCTAssertEqual(a, b, accuracy: 1e-6, "\(name) jet \(k)")
                }
                // The same quantities estimated from the jet image agree roughly (pixelisation).
                let fromImage = Observables.summary(
                    image: Array(UnsafeBufferPointer(start: img.storage.pointer + k * 625, count: 625)), size: 25)
                XCTAssertEqual(
                    fromImage.mass, s.mass, accuracy: 0.15 * s.mass + 5, "\(name) jet \(k): mass from the image")
                tau21[name, default: []].append(s.tau21); tau32[name, default: []].append(s.tau32)
                checked += 1
            }
        }
        XCTAssertEqual(checked, 18)
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
        XCTAssertLessThan(mean(tau21["wprime_test"]!), mean(tau21["qcd_test"]!), "two-prong W jets have smaller τ21")
        XCTAssertLessThan(mean(tau32["top_test"]!), mean(tau32["qcd_test"]!), "three-prong top jets have smaller τ32")
    }
}

/// The fast exclusive-kT clustering against the all-pairs reference, and the dense-image case
/// that once took seconds an image (`genlab inspect` on calorimeter-like 32×32 images).
final class ObservableClusteringTests: XCTestCase {
    func testFastExclusiveKtMatchesTheReference() {
        var rng = PRNG(seed: 11)
        for trial in 0..<30 {
            let n = 2 + trial * 3
            let particles = (0..<n).map { _ in
                FourVector(
                    pt: Double(rng.nextFloat()) * 100 + 0.1, eta: Double(rng.nextFloat()) * 2 - 1,
                    phi: Double(rng.nextFloat()) * 2 - 1)
            }
            let fast = Observables.exclusiveKtAxes(particles, counts: [1, 2, 3])
            for k in 1...3 {
                let a = (fast[k] ?? []).map(\.pt).sorted(),
                    b = Observables.exclusiveKtAxesReference(particles, n: k).map(\.pt).sorted()
                XCTAssertEqual(a.count, b.count, "trial \(trial), \(k) axes")
                for (x, y) in zip(a, b) {
                    XCTAssertEqual(x, y, accuracy: 1e-9 * max(1, y), "trial \(trial), \(k) axes")
                }
            }
        }
    }

    func testADenseImageTakesMillisecondsNotSeconds() {
        var rng = PRNG(seed: 3)
        let image = (0..<(32 * 32)).map { _ in rng.nextFloat() + 0.01 }
        let start = Date()
        let s = Observables.summary(image: image, size: 32)
        XCTAssertEqual(s.multiplicity, 1024)
        XCTAssertTrue(s.tau21.isFinite && s.tau32.isFinite)
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.0, "a dense image must not take seconds")
    }
}
