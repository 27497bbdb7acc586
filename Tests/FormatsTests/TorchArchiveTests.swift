import Engine
import Foundation
import XCTest

@testable import Formats

/// A `torch.save` state dict read as data: a strided view made contiguous, a half tensor widened,
/// every value as PyTorch has it (`scripts/python/make_torch_archive_fixtures.py`).
final class TorchArchiveTests: XCTestCase {
    func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path + "/" + name
    }

    func testStateDictEqualsPyTorchs() throws {
        let archive = try TorchArchive.read(fixture("torch_state_dict.pt"))
        let (tensors, _) = try archive.entries()
        let expected =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: fixture("torch_state_dict.json"))))
            as! [String: [String: Any]]
        XCTAssertEqual(Set(tensors.keys), Set(expected.keys))
        for (key, want) in expected {
            let t = try XCTUnwrap(tensors[key], key)
            XCTAssertEqual(t.shape, want["shape"] as! [Int], key)
            let values = (want["values"] as! [Double]).map(Float.init)
            XCTAssertEqual(t.scalars, values, key)
        }
    }

    func testHostileArchivesAreRefusedByName() throws {
        let folder =
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
            + "/FuzzingTests/Fixtures/fuzz/torch-archive/"
        for (name, says) in [
            ("calls_code.pt", "os.system"), ("truncated.pt", "zip"), ("huge_count.pt", "storage"),
        ] {
            XCTAssertThrowsError(try TorchArchive.read(folder + name).entries(), name) {
                XCTAssertTrue("\($0)".contains(says), "\(name): \($0)")
            }
        }
    }
}
