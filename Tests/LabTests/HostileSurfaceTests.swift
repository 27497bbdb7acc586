import Datasets
import Engine
import Formats
import Foundation
@testable import Lab
import NN
import XCTest

/// The newer surfaces — generated code, HTML pages, run folders, the statistics' inputs — against
/// names and contents chosen to break them (the CLI side: scripts/check_bad_surfaces.py).
final class HostileSurfaceTests: XCTestCase {
    func testAPyTorchExportCarriesNoFileNameAndEscapesEveryMetadataCharacter() throws {
        let folder = scratchFolder("hostile-export")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var ckpt = try Checkpoint.load(ExportTests.jetAE)
        ckpt.metadata["genlab.note"] = "\"\"\"\nimport os\r\0\u{2028}é"
        let hostile = folder + "/m\"\"\"import os.safetensors"
        try ckpt.save(to: hostile)
        let py = folder + "/model.py"
        _ = try PyTorchExport.export(checkpoint: hostile, to: py)
        let text = try String(contentsOfFile: py, encoding: .utf8)
        XCTAssertFalse(text.contains("\nimport os"), "neither the file name nor the metadata reaches the code")
        XCTAssertFalse(text.contains("import os.safetensors"), "the file name stays out of the generated file")
        XCTAssertFalse(text.contains("\r") || text.contains("\0") || text.contains("\u{2028}"))
        let block = try XCTUnwrap(
            text.components(separatedBy: "GENLAB_METADATA = {").last?.components(separatedBy: "}\n").first)
        XCTAssertTrue(block.contains("\\\"\\\"\\\"\\x0aimport os\\x0d\\x00\\u2028\\xe9"), block)
        XCTAssertEqual(text.components(separatedBy: "\"\"\"").count % 2, 1, "docstrings open and close in pairs")
    }

    func testReportsAndTheDemoIndexEscapeNamesAndLinkOnlyToFiles() throws {
        let folder = scratchFolder("hostile-report")
        let run = folder + "/<img src=x onerror=alert(1)>"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        for name in ["javascript:alert(1)", "<script>alert(1)</script>", "a\"onmouseover=\"x"] {
            try Data("x".utf8).write(
                to: URL(fileURLWithPath: run + "/" + name.replacingOccurrences(of: "/", with: "_")))
        }
        var page = RunReport(title: "<b>title</b>")
        page.table("<i>h</i>", [("<k>", "<v>")])
        try page.write(folder: run)
        try Demo.writeIndex(root: folder, steps: [Demo.Step(title: "<s>", outputs: [], figures: ["<f>"])])
        for file in [run + "/report.html", folder + "/index.html"] {
            let html = try String(contentsOfFile: file, encoding: .utf8)
            for bad in [
                "<img src=x", "<script>", "<b>title", "<i>h", "<k>", "<s>", "<f>", "href=\"javascript:",
                "\"onmouseover",
            ] {
                XCTAssertFalse(html.contains(bad), "\(file) holds \(bad) unescaped")
            }
            for chunk in html.components(separatedBy: "href=\"").dropFirst() {
                XCTAssertTrue(chunk.hasPrefix("./"), "a link that is not a relative file: \(chunk.prefix(40))")
            }
        }
    }

    func testALockFileThatIsALinkIsRefusedAndItsTargetKept() throws {
        let folder = scratchFolder("hostile-lock")
        let run = try RunFolder(folder)
        let victim = folder + "/../victim-\(getpid()).txt"
        try Data("precious".utf8).write(to: URL(fileURLWithPath: victim))
        XCTAssertEqual(symlink(victim, run.file(".genlab.lock")), 0)
        XCTAssertThrowsError(try run.lock()) { XCTAssertTrue("\($0)".contains(".genlab.lock"), "\($0)") }
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious")
    }

    func testStatisticsGetOnlyUsableExamplesAndRefuseTooFew() throws {
        var values = [Float](repeating: 0.5, count: 4 * 4)
        values[4] = .nan  // example 1 holds a NaN
        for k in 8..<12 { values[k] = 0 }  // example 2 is all zero
        let set = ImageSet(images: Tensor(shape: [4, 1, 2, 2], data: values), labels: [0, 1, 0, 1], source: "t")
        var warnings: [String] = []
        let saved = Warnings.handler
        Warnings.handler = { warnings.append($0) }
        defer { Warnings.handler = saved }
        let kept = try ModelInputs.usable(set, path: "t.npy", purpose: "a test")
        XCTAssertEqual(kept.count, 2)
        XCTAssertEqual(kept.labels, [0, 1])
        XCTAssertTrue(warnings.first?.contains("t.npy: 2 of 4 examples left out") == true, "\(warnings)")
        XCTAssertThrowsError(try ModelInputs.usable(set, path: "t.npy", minimum: 3, purpose: "a test")) {
            XCTAssertTrue("\($0)".contains("t.npy") && "\($0)".contains("needs at least 3"), "\($0)")
        }
        XCTAssertTrue(JetNetMetrics.frechet([[1]], [[1], [2]]).isNaN, "one example has no covariance")
        XCTAssertTrue(JetNetMetrics.frechet([], []).isNaN)
    }

    func testATableWithNothingScorableOrACalibrationWithSignalIsRefused() throws {
        var table = AnomalyScorer.Table(names: ["mse"])
        table.scores = [[.nan, .infinity]]
        table.labels = [0, 1]; table.mass = [nil, nil]; table.file = ["a.h5", "a.h5"]; table.index = [0, 1]
        table.problem = ["non-finite input", nil]
        XCTAssertThrowsError(try table.requireScorable("mse", files: ["a.h5"])) {
            XCTAssertTrue("\($0)".contains("a.h5") && "\($0)".contains("non-finite input"), "\($0)")
        }
        XCTAssertThrowsError(try table.requireBackgroundOnly(file: "cal.h5")) {
            XCTAssertTrue("\($0)".contains("cal.h5") && "\($0)".contains("1 signal-labelled"), "\($0)")
        }
        table.scores = [[0.5, .nan]]
        table.labels = [0, nil]
        XCTAssertNoThrow(try table.requireScorable("mse", files: ["a.h5"]))
        XCTAssertNoThrow(try table.requireBackgroundOnly(file: "cal.h5"))
    }
}
