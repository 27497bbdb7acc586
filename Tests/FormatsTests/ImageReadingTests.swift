import Datasets
import Engine
import Formats
import Foundation
import XCTest

/// Pictures as a person sees them: EXIF orientation applied, alpha composited on white (and a
/// shape drawn only in alpha still readable), pictures of other formats in a folder named.
final class ImageReadingTests: XCTestCase {
    /// A JPEG with an EXIF APP1 segment holding `orientation`, inserted after SOI.
    func jpeg(_ image: Image, orientation: UInt8, to path: String) throws {
        try image.writeJPEG(path, quality: 95)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let tiff: [UInt8] =
            Array("MM".utf8) + [0, 42, 0, 0, 0, 8] + [0, 1] + [0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0]
            + [0, 0, 0, 0]
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        let length = payload.count + 2
        bytes.insert(contentsOf: [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload, at: 2)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func testAJPEGsEXIFOrientationIsApplied() throws {
        // 16 × 8, left half black, right half white.
        let stored = Image(width: 16, height: 8, channels: 1, pixels: (0..<128).map { $0 % 16 < 8 ? 0 : 1 })
        let dir = freshFolder("exif")
        try jpeg(stored, orientation: 6, to: dir + "/rotated.jpg")
        XCTAssertEqual(ExifOrientation.read(dir + "/rotated.jpg"), 6)
        let shown = try Image.read(dir + "/rotated.jpg")
        XCTAssertEqual([shown.width, shown.height], [8, 16], "orientation 6 turns the picture a quarter")
        let top = shown.pixels[0..<(8 * 8)].reduce(0, +) / 64, bottom = shown.pixels[(8 * 8)...].reduce(0, +) / 64
        XCTAssertLessThan(top, 0.1, "the stored left half is shown on top")
        XCTAssertGreaterThan(bottom, 0.9)
        try jpeg(stored, orientation: 1, to: dir + "/upright.jpg")
        XCTAssertEqual([try Image.read(dir + "/upright.jpg").width], [16])
        for o in 1...8 { XCTAssertEqual(stored.oriented(o).pixels.count, stored.pixels.count) }
        XCTAssertEqual(stored.oriented(3).oriented(3), stored, "half a turn twice is the picture")
        XCTAssertNil(ExifOrientation.parse([0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 0x45]), "a lying length is no tag")
    }

    func testAlphaIsCompositedOnWhiteAndAShapeInAlphaAloneIsRead() {
        // Black at half opacity → mid grey; a white-on-white shape drawn only in alpha.
        let half = Image(width: 1, height: 1, channels: 2, pixels: [0, 0.5])
        XCTAssertEqual(half.grey().pixels, [0.5])
        XCTAssertEqual(half.rgb().pixels, [0.5, 0.5, 0.5])
        var px: [Float] = []
        for y in 0..<16 { for x in 0..<16 { px += [1, 1, 1, (4..<12).contains(x) && (4..<12).contains(y) ? 1 : 0] } }
        let alphaShape = Image(width: 16, height: 16, channels: 4, pixels: px)
        XCTAssertEqual(Set(alphaShape.grey().pixels), [1], "composited on white it is one colour")
        let shape = alphaShape.shapeGrey()
        XCTAssertEqual(shape.pixels[8 * 16 + 8], 0, "opaque reads dark")
        XCTAssertEqual(shape.pixels[0], 1)
    }

    func testPicturesOfOtherFormatsInAFolderAreListedAsSkipped() throws {
        let dir = freshFolder("mixed")
        let face = Image(width: 8, height: 8, channels: 1, pixels: (0..<64).map { Float($0) / 64 })
        try face.writePNG(dir + "/a.png")
        try Data([0x49, 0x49, 0x2A, 0x00, 0, 0, 0, 0]).write(to: URL(fileURLWithPath: dir + "/b.tiff"))
        try Data(Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBP".utf8)).write(
            to: URL(fileURLWithPath: dir + "/c.webp"))
        var warnings: [String] = []
        let saved = Warnings.handler
        Warnings.handler = { warnings.append($0) }
        defer { Warnings.handler = saved }
        let set = try ImageSet.load(dir)
        XCTAssertEqual(set.count, 1)
        XCTAssertTrue(set.skipped.contains { $0.contains("b.tiff") && $0.contains("TIFF") }, "\(set.skipped)")
        XCTAssertTrue(set.skipped.contains { $0.contains("c.webp") && $0.contains("WEBP") }, "\(set.skipped)")
        XCTAssertEqual(try FileKind.detect(dir + "/b.tiff"), .tiff)
        XCTAssertEqual(try FileKind.detect(dir + "/c.webp"), .webp)
    }
}
