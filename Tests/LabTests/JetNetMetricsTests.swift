import Datasets
import Engine
import Formats
import Foundation
import Lab
import Physics
import XCTest

/// GenLab's JetNet metrics against jetnet 0.2.5 and energyflow 1.4 on the same jets
/// (Fixtures/jetnet/, made by scripts/python/make_jetnet_fixtures.py).
final class JetNetMetricsTests: XCTestCase {
    let folder = repositoryRoot + "/Tests/LabTests/Fixtures/jetnet/"
    lazy var fixture: [String: Any] =
        try! JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "jetnet.json")))
        as! [String: Any]

    func jets(_ name: String) throws -> [[JetNetMetrics.Particle]] {
        let t = try NPY.read(folder + name), p = t.storage.pointer
        let (n, m) = (t.shape[0], t.shape[1])
        return (0..<n).map { j in
            (0..<m).compactMap { k -> JetNetMetrics.Particle? in
                let base = (j * m + k) * 3
                return p[base + 2] > 0 ? (Double(p[base + 2]), Double(p[base]), Double(p[base + 1])) : nil
            }
        }
    }

    func numbers(_ key: String) -> [Double] {
        (fixture[key] as? [NSNumber])?.map(\.doubleValue) ?? [(fixture[key] as! NSNumber).doubleValue]
    }
    func rows(_ key: String) -> [[Double]] { (fixture[key] as! [[NSNumber]]).map { $0.map(\.doubleValue) } }

    /// Columns of `a` matched one to one with columns of `b` (the two libraries order graphs differently).
    func assertSameColumns(_ a: [[Double]], _ b: [[Double]], tolerance: Double, _ what: String) {
        let ca = a[0].indices.map { k in a.map { $0[k] } }, cb = b[0].indices.map { k in b.map { $0[k] } }
        XCTAssertEqual(ca.count, cb.count, what)
        var unused = Set(ca.indices)
        for (k, column) in cb.enumerated() {
            let best = unused.min { i, j in
                zip(ca[i], column).map { abs($0 - $1) / max(abs($1), 1e-300) }.max()! < zip(ca[j], column).map {
                    abs($0 - $1) / max(abs($1), 1e-300)
                }.max()!
            }!
            let error = zip(ca[best], column).map { abs($0 - $1) / max(abs($1), 1e-300) }.max()!
            XCTAssertLessThan(error, tolerance, "\(what): energyflow column \(k) has no twin (closest \(error))")
            unused.remove(best)
        }
    }

    func testEFPsMatchEnergyflow() throws {
        XCTAssertEqual(EnergyFlow.connectedGraphs(degree: 1).count, 1)
        XCTAssertEqual(EnergyFlow.connectedGraphs(degree: 2).count, 2)
        XCTAssertEqual(EnergyFlow.connectedGraphs(degree: 3).count, 5)
        XCTAssertEqual(EnergyFlow.connectedGraphs(degree: 4).count, 12)
        XCTAssertEqual(JetNetMetrics.fpdPolynomials.count, rows("efps_a20")[0].count)
        XCTAssertEqual(JetNetMetrics.w1Polynomials.count, 5)
        let a = Array(try jets("jets_a.npy").prefix(20))
        let f = JetNetMetrics.features(a)
        assertSameColumns(f.efpFPD, rows("efps_a20"), tolerance: 1e-5, "d ≤ 4 EFPs")
        assertSameColumns(f.efpW1, rows("w1efp_set_a20"), tolerance: 1e-5, "n = 4, d = 4 prime EFPs")
        // jetnet adds four-vectors in float32: 1e-4 relative.
        for (x, y) in zip(f.mass, numbers("mass_a")) { XCTAssertEqual(x, y, accuracy: 1e-4 * max(y, 1e-3)) }
    }

    func testDistancesMatchJetnetAndScipy() throws {
        let a = JetNetMetrics.features(try jets("jets_a.npy")), b = JetNetMetrics.features(try jets("jets_b.npy"))
        // Exact on the full samples: scipy.stats.wasserstein_distance and a Fréchet distance by scipy.linalg.sqrtm.
        XCTAssertEqual(
            JetNetMetrics.w1(a.mass, b.mass), numbers("w1_mass_exact")[0], accuracy: 1e-4 * numbers("w1_mass_exact")[0])
        let exact = numbers("w1_particle_exact")
        for (k, (x, y)) in [(a.eta, b.eta), (a.phi, b.phi), (a.pt, b.pt)].enumerated() {
            XCTAssertEqual(JetNetMetrics.w1(x, y), exact[k], accuracy: 1e-5 * exact[k] + 1e-9, "particle feature \(k)")
        }
        let (x, y) = JetNetMetrics.normalised(a.efpFPD, b.efpFPD)
        let frechet = numbers("frechet_full_normalised")[0]
        XCTAssertEqual(JetNetMetrics.frechet(x, y), frechet, accuracy: 1e-4 * frechet)
        // jetnet's own estimators draw at random (numpy's generator, not GenLab's): they agree
        // within three combined standard errors.
        let d = JetNetMetrics.distances(real: a, sample: b)
        func agree(_ mine: Estimate, _ theirs: [Double], _ what: String, floor: Double = 0) {
            let sigma = (mine.error * mine.error + theirs[1] * theirs[1]).squareRoot()
            XCTAssertLessThan(
                abs(mine.value - theirs[0]), 3 * sigma + floor, "\(what): GenLab \(mine), jetnet \(theirs)")
        }
        agree(d["W1 mass"]!, numbers("w1m"), "W1 mass")
        let w1p = rows("w1p")
        for (k, name) in ["W1 eta_rel", "W1 phi_rel", "W1 pT_rel"].enumerated() {
            agree(d[name]!, [w1p[0][k], w1p[1][k]], name)
        }
        agree(d["W1-EFP"]!, numbers("w1efp"), "W1-EFP")
        agree(d["FPD"]!, numbers("fpd"), "FPD")
        agree(d["KPD"]!, numbers("kpd"), "KPD")
    }

    func testTruthAgainstTruthIsSmallAndTheSuiteIsComplete() throws {
        let all = try jets("jets_a.npy")
        let first = JetNetMetrics.features(Array(all.prefix(200))),
            second = JetNetMetrics.features(Array(all.suffix(200)))
        let other = JetNetMetrics.features(try jets("jets_b.npy"))
        let truth = JetNetMetrics.distances(real: first, sample: second),
            signal = JetNetMetrics.distances(real: first, sample: other)
        XCTAssertEqual(Set(truth.keys), Set(JetNetMetrics.metricNames))
        for name in JetNetMetrics.metricNames {
            XCTAssertLessThan(
                truth[name]!.value, signal[name]!.value, "\(name): QCD vs QCD must be closer than QCD vs top")
        }
        // jetnet on the same halves: FPD 0.077 ± 0.023.
        let fpdTruth = numbers("fpd_truth")
        XCTAssertLessThan(
            abs(truth["FPD"]!.value - fpdTruth[0]),
            3 * (pow(truth["FPD"]!.error, 2) + pow(fpdTruth[1], 2)).squareRoot() + 0.02)
    }
}
