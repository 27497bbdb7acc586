import Datasets
import XCTest

/// The jet-image record: read from a file's attributes or a checkpoint's text, written back, compared.
final class JetImageRecordTests: XCTestCase {
    func testAttributesTextAndBackAgree() throws {
        let attributes = [
            "image_preprocessing": "centre, rotate, flip", "image_size": "25", "image_window": "1.5",
            "jet_radius": "1.0", "generator": "pythia",
        ]
        let record = try XCTUnwrap(JetImageRecord(attributes: attributes))
        XCTAssertEqual(
            record.text, "image_preprocessing=centre, rotate, flip; image_size=25; image_window=1.5; jet_radius=1.0")
        XCTAssertEqual(JetImageRecord(text: record.text), record)
        XCTAssertEqual(record.window, 1.5)
        XCTAssertNil(record.values["generator"], "only the record's own keys")
    }

    func testOrdinaryImagesHaveNoRecordAndAnUnrecordedWindowIsTheDefault() throws {
        XCTAssertNil(JetImageRecord(attributes: ["image_size": "25"]))
        XCTAssertNil(JetImageRecord(text: ""))
        XCTAssertEqual(try XCTUnwrap(JetImageRecord(text: "image_preprocessing=x")).window, 1.25)
    }

    func testDifferencesNameTheKeyAndBothValues() throws {
        let mine = try XCTUnwrap(JetImageRecord(text: "image_preprocessing=a; image_window=1.5; jet_radius=0.8"))
        let theirs = try XCTUnwrap(JetImageRecord(text: "image_preprocessing=a; image_window=1.25"))
        XCTAssertEqual(
            mine.differences(from: theirs, otherName: "the checkpoint's"),
            ["image_window is '1.5', the checkpoint's '1.25'"])
        XCTAssertEqual(mine.differences(from: mine, otherName: "x"), [])
    }
}
