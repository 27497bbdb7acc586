import Formats
import Foundation
import XCTest

/// TensorBoard event files: CRC-32C against its published check values, the record framing read
/// back, and the events' fields (scripts/python/check_tensorboard.py reads whole runs with
/// TensorBoard's own event accumulator).
final class TensorBoardTests: XCTestCase {
    func testCRC32CMatchesItsCheckValues() {
        XCTAssertEqual(TensorBoardLog.crc32c(Array("123456789".utf8)), 0xE306_9283)  // the CRC catalogue's check value
        XCTAssertEqual(TensorBoardLog.crc32c([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)  // RFC 3720, B.4
        XCTAssertEqual(TensorBoardLog.crc32c([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(TensorBoardLog.crc32c(Array(0..<32)), 0x46DD_794E)
    }

    func testRecordsFrameEventsThatReadBack() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("genlab-tb-\(getpid())").path
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let log = try TensorBoardLog(folder: folder, wallTime: 1_700_000_000)
        try log.scalar("loss", 0.25, step: 7, wallTime: 1_700_000_001)
        try log.scalars(["a": 1, "b": .nan], step: 8)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: log.path)))
        var records: [[UInt8]] = [], i = 0
        while i < bytes.count {
            let length = bytes[i..<(i + 8)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            func u32(_ at: Int) -> UInt32 {
                bytes[at..<(at + 4)].enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
            }
            XCTAssertEqual(u32(i + 8), TensorBoardLog.maskedCRC32C(Array(bytes[i..<(i + 8)])), "length CRC")
            let data = Array(bytes[(i + 12)..<(i + 12 + length)])
            XCTAssertEqual(u32(i + 12 + length), TensorBoardLog.maskedCRC32C(data), "data CRC")
            records.append(data)
            i += 16 + length
        }
        XCTAssertEqual(i, bytes.count)
        XCTAssertEqual(records.count, 3, "file version, one scalar, one event of finite scalars")
        XCTAssertTrue(String(decoding: records[0], as: UTF8.self).contains("brain.Event:2"))
        // Event 2: wall_time (field 1, fixed64), step 7 (field 2, varint), summary with tag "loss", 0.25f.
        XCTAssertEqual(records[1][0], 0x09)
        XCTAssertEqual(Array(records[1][9...10]), [0x10, 7])
        XCTAssertTrue(records[1].starts(with: [0x09]) && records[1].contains(0x2A))
        let quarter = withUnsafeBytes(of: Float(0.25).bitPattern.littleEndian) { Array($0) }
        XCTAssertNotNil(records[1].indices.first { records[1][$0...].starts(with: [0x15] + quarter) })
        func hasTag(_ r: [UInt8], _ tag: String) -> Bool {
            r.indices.contains { r[$0...].starts(with: [0x0A, UInt8(tag.utf8.count)] + Array(tag.utf8)) }
        }
        XCTAssertTrue(hasTag(records[2], "a"))
        XCTAssertFalse(hasTag(records[2], "b"), "NaN scalars are not logged")
    }
}
