import Formats
import Foundation
import Fuzzing
import XCTest

/// Replays the fuzz seeds and every regression input (a crash a fuzzing campaign found, kept in
/// Fixtures/fuzz/TARGET/, plus the crafted bad files) through the fuzz targets: reaching the end
/// of this test is the assertion — a trap would kill the test process.
final class FuzzRegressionTests: XCTestCase {
    func testEveryFuzzTargetSurvivesItsRegressionInputsAndTheBadCorpus() throws {
        let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path
        // The crafted bad files are the Formats tests' corpus; read in place.
        var tests = URL(fileURLWithPath: #filePath)
        tests.deleteLastPathComponent(); tests.deleteLastPathComponent()
        let corpus = tests.path + "/FormatsTests/Fixtures/bad"
        let bad = try FileManager.default.contentsOfDirectory(atPath: corpus).sorted().map { corpus + "/" + $0 }
        var replayed = 0
        // The targets set the fuzzing limits and silence warnings: put both back for the other tests.
        let (limits, warnings) = (InputLimits.current, Warnings.handler)
        defer { InputLimits.current = limits; Warnings.handler = warnings }
        for target in FuzzTarget.allCases {
            let folder = fixtures + "/fuzz/" + target.rawValue
            let own = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().map {
                folder + "/" + $0
            }
            // Every target also reads every crafted file: a reader must survive other formats' bytes too.
            for path in own + bad {
                target.run(try Data(contentsOf: URL(fileURLWithPath: path)))
                replayed += 1
            }
        }
        XCTAssertGreaterThan(replayed, FuzzTarget.allCases.count * 50)
    }
}
