import Engine
import Formats
import Foundation
import NN
import XCTest

final class SafeTensorsTests: XCTestCase {
    /// The tensors of `genlab_written.safetensors`; scripts/python/verify_genlab_safetensors.py
    /// checked that Python's safetensors and PyTorch read that file with these keys and values.
    static func referenceContent() -> ([String: Tensor], [String: String]) {
        var rng = PRNG(seed: 3)
        let model = makeMLP(&rng)
        var d = model.stateDict()
        d["extra.scalar"] = Tensor(2.5)
        return (d, ["genlab.note": "written by SafeTensorsTests"])
    }

    func testWritesTheFilePythonWasCheckedAgainstByteForByte() throws {
        let (tensors, meta) = SafeTensorsTests.referenceContent()
        let data = SafeTensors.encode(tensors, metadata: meta)
        if ProcessInfo.processInfo.environment["GENLAB_WRITE_FIXTURES"] == "1" {
            try AtomicFile.write(data, to: "Tests/NNTests/Fixtures/genlab_written.safetensors")
        }
        let committed = try Data(contentsOf: Fixture.url("genlab_written.safetensors"))
        XCTAssertEqual(
            data, committed, "encoding changed: re-run verify_genlab_safetensors.py before updating the fixture")
    }

    func testRoundTripsTensorsAndMetadata() throws {
        let (tensors, meta) = SafeTensorsTests.referenceContent()
        let path = temporaryPath("roundtrip.safetensors")
        try SafeTensors.write(tensors, metadata: meta, to: path)
        let back = try SafeTensors.read(path)
        XCTAssertEqual(back.metadata, meta)
        XCTAssertEqual(Set(back.tensors.keys), Set(tensors.keys))
        for (k, t) in tensors {
            XCTAssertEqual(back.tensors[k]!.shape, t.shape)
            XCTAssertEqual(back.tensors[k]!.scalars, t.scalars)
        }
        XCTAssertEqual(back.tensors["extra.scalar"]!.shape, [])
    }

    func testReadsHalfPrecisionAndIntegerTensorsWrittenByPyTorch() throws {
        let file = try SafeTensors.read(Fixture.path("dtypes.safetensors"))
        let expected = try Fixture.json("dtypes.json")
        XCTAssertEqual(file.dtypes["f16"], "F16")
        XCTAssertEqual(file.tensors["f16"]!.scalars, (expected["f16"] as! [NSNumber]).map(\.floatValue))
        XCTAssertEqual(file.tensors["bf16"]!.scalars, (expected["bf16"] as! [NSNumber]).map(\.floatValue))
        XCTAssertEqual(file.tensors["f64"]!.shape, [2, 3])
        XCTAssertEqual(file.tensors["i64"]!.scalars, [3, -2, 7])
        XCTAssertEqual(file.tensors["u8"]!.scalars, [0, 200, 255])
        XCTAssertEqual(file.metadata["source"], "make_nn_fixtures.py")
    }

    func testTruncatedAndForeignFilesGiveErrorsNamingTheProblem() throws {
        let (tensors, _) = SafeTensorsTests.referenceContent()
        let data = SafeTensors.encode(tensors)
        XCTAssertThrowsError(try SafeTensors.decode(data.prefix(data.count - 10), file: "t.safetensors")) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("t.safetensors:"), message)
            XCTAssertTrue(message.contains("truncated") || message.contains("bytes"), message)
        }
        XCTAssertThrowsError(try SafeTensors.decode(data.prefix(30), file: "short")) {
            XCTAssertTrue("\($0)".contains("header length"), "\($0)")
        }
        XCTAssertThrowsError(try SafeTensors.decode(Data("hello, world, not a tensor file".utf8), file: "text.txt")) {
            XCTAssertTrue("\($0)".contains("text.txt"), "\($0)")
        }
        XCTAssertThrowsError(try SafeTensors.decode(Data(), file: "empty")) {
            XCTAssertTrue("\($0)".contains("too short"), "\($0)")
        }
        XCTAssertThrowsError(try SafeTensors.read("/nonexistent/model.safetensors")) {
            XCTAssertTrue("\($0)".contains("no such file"))
        }
    }

    func testHeaderLyingAboutSizesNamesTheTensor() throws {
        func file(_ header: String, dataBytes: Int) -> Data {
            var d = Data()
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
            d.append(Data(header.utf8))
            d.append(Data(count: dataBytes))
            return d
        }
        let wrongSize = file(#"{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}"#, dataBytes: 12)
        XCTAssertThrowsError(try SafeTensors.decode(wrongSize, file: "f")) {
            XCTAssertTrue("\($0)".contains("'w'"), "\($0)")
        }
        let overlap = file(
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
                + #""b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
            dataBytes: 12)
        XCTAssertThrowsError(try SafeTensors.decode(overlap, file: "f")) {
            XCTAssertTrue("\($0)".contains("overlapping"), "\($0)")
        }
        let badType = file(#"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, dataBytes: 8)
        XCTAssertThrowsError(try SafeTensors.decode(badType, file: "f")) {
            XCTAssertTrue("\($0)".contains("C64"), "\($0)")
        }
    }

    func testRandomMutationsNeverCrashTheReader() throws {
        // A small fuzz pass over the header parser: flipped bytes, truncations and extensions must
        // either parse or throw, never trap.
        let (tensors, meta) = SafeTensorsTests.referenceContent()
        let original = SafeTensors.encode(tensors, metadata: meta)
        var rng = PRNG(seed: 99)
        var thrown = 0
        for _ in 0..<3000 {
            var d = original
            switch rng.nextInt(3) {
            case 0:
                for _ in 0..<(1 + rng.nextInt(4)) {
                    let i = rng.nextInt(min(d.count, 400)); d[i] = UInt8(truncatingIfNeeded: rng.next())
                }
            case 1: d = d.prefix(rng.nextInt(d.count))
            default: d.append(Data(repeating: UInt8(rng.nextInt(256)), count: 1 + rng.nextInt(16)))
            }
            do { _ = try SafeTensors.decode(d, file: "fuzz") } catch { thrown += 1 }
        }
        XCTAssertGreaterThan(thrown, 1000)
    }

    func testAtomicWriteLeavesNoTemporaryFiles() throws {
        let path = temporaryPath("atomic/one.safetensors")
        try SafeTensors.write(["x": Tensor.ones([3])], to: path)
        try SafeTensors.write(["x": Tensor.zeros([4])], to: path)
        let folder = (path as NSString).deletingLastPathComponent
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["one.safetensors"])
        XCTAssertEqual(try SafeTensors.read(path).tensors["x"]!.shape, [4])
    }
}
