import Datasets
import Engine
import Formats
import Foundation
import XCTest

/// Every reader against crafted bad files (Fixtures/bad/, made from scratch by
/// scripts/python/make_bad_inputs.py): each must end in a FormatError that names the file and
/// says what is wrong — never a trap, a hang, a many-gigabyte allocation or a plausible image.
/// A new crafted file (a fuzzing find, a user's report) goes into the corpus and into this table.
final class BadInputTests: XCTestCase {
    func bad(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures/bad/" + name, withExtension: nil)!.path
    }

    func temp(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("genlab-bad-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    /// File → words its error must contain ("" when any named error will do).
    static let expectations: [String: String] = [
        "png_huge_dims.png": "input limit", "png_2e28_pixels.png": "input limit", "png_wide.png": "",
        "png_truncated.png": "", "png_bad_crc.png": "CRC", "png_empty.png": "empty", "png_zero_width.png": "",
        "jpeg_huge_dims.jpg": "input limit", "jpeg_truncated.jpg": "", "jpeg_truncated_scan.jpg": "Premature end",
        "jpeg_header_only.jpg": "", "not_an_image.png": "unrecognised",
        "npy_overflow_shape.npy": "overflows", "npy_huge_shape.npy": "input limit", "npy_negative_shape.npy": "shape",
        "npy_unicode.npy": "dtype", "npy_object.npy": "dtype", "npy_no_descr.npy": "descr",
        "npy_header_past_end.npy": "truncated",
        "npy_nan_images.npy": "NaN", "npy_rank5.npy": "not images", "npy_zero_images.npy": "no images",
        "npz_declared_4gb.npz": "input limit", "npz_declared_small.npz": "decompresses to more",
        "npz_truncated.npz": "truncated",
        "npz_corrupt_stream.npz": "corrupt", "npz_method_99.npz": "compression method",
        "idx_overflow_dims.idx": "overflows", "idx_huge_dims.idx": "input limit",
        "idx_gzip_small_bomb.idx.gz": "decompresses to more",
        "idx_gzip_corrupt.idx.gz": "corrupt", "idx_rank0.idx": "",
        "h5_sparse_huge.h5": "input limit", "h5_sparse_events.h5": "input limit", "h5_string_images.h5": "not numbers",
        "h5_images_rank1.h5": "not images",
        "h5_images_empty.h5": "no images", "h5_labels_nan.h5": "labels must be 0",
        "h5_labels_three.h5": "labels must be 0",
        "h5_labels_short.h5": "/labels has shape", "h5_constituents_4_features.h5": "constituents",
        "h5_lhco_bad_width.h5": "no images", "h5_lhco_nan.h5": "no images", "h5_constituents_nan.h5": "constituents",
        "h5_pandas_evil_pickle.h5": "never runs a pickle", "h5_pandas_lying_items.h5": "names 2 columns",
        "h5_atlas_mismatched_energy.h5": "ATLAS",
    ]

    func testEveryImageReaderRefusesTheCraftedFilesWithANamedError() throws {
        for (name, words) in Self.expectations {
            let path = bad(name)
            XCTAssertThrowsError(try ImageSet.load(path), name) { error in
                guard let e = error as? FormatError else { return XCTFail("\(name): \(error) is not a FormatError") }
                XCTAssertTrue(e.file.hasPrefix(path), "\(name): the error names \(e.file)")
                XCTAssertTrue(
                    words.isEmpty || e.problem.contains(words), "\(name): '\(e.problem)' does not say '\(words)'")
            }
        }
    }

    func testTheCorpusAndTheTableAgree() throws {
        let folder = (bad("png_empty.png") as NSString).deletingLastPathComponent
        let files = Set(
            try FileManager.default.contentsOfDirectory(atPath: folder).filter {
                !$0.hasPrefix("st_") && !$0.contains("1x1")
            })
        // bad for score only
        let extra = ["h5_three_channel.h5", "h5_jets_rank1.h5", "h5_jets_two_columns.h5", "h5_no_preprocessing.h5"]
        XCTAssertEqual(files.subtracting(extra), Set(Self.expectations.keys))
    }

    func testSafetensorsAttacksAreRefused() throws {
        let cases = [
            "st_negative_offsets.safetensors": "data_offsets", "st_overflow_shape.safetensors": "overflows",
            "st_huge_header_length.safetensors": "header length", "st_not_json.safetensors": "not a JSON object",
            "st_float_offsets.safetensors": "not non-negative integers",
            "st_metadata_not_strings.safetensors": "__metadata__",
        ]
        for (name, words) in cases {
            XCTAssertThrowsError(try SafeTensors.read(bad(name)), name) { error in
                XCTAssertTrue("\(error)".contains(words) && "\(error)".contains(name), "\(name): \(error)")
            }
        }
    }

    func testTheLimitIsTheUsersToRaise() throws {
        // A genuine 64×64 grey PNG passes the default limit and fails a tiny one, with the flag named.
        let path = temp("genuine.png")
        try Image(width: 64, height: 64, channels: 1, pixels: [Float](repeating: 0.5, count: 4096)).writePNG(path)
        XCTAssertNoThrow(try Image.read(path))
        XCTAssertThrowsError(try Image.read(path, limits: InputLimits(maxBytes: 1000))) {
            XCTAssertTrue("\($0)".contains("--max-input-mib"), "\($0)")
        }
        XCTAssertThrowsError(try InputLimits().elements([1 << 40, 1 << 40], file: "x", what: "t")) {
            XCTAssertTrue("\($0)".contains("overflows"), "\($0)")
        }
        XCTAssertNil(Shape.checkedCount([Int.max, 2]))
        XCTAssertNil(Shape.checkedCount([-1, 2]))
        XCTAssertEqual(Shape.checkedCount([3, 0, 5]), 0)
    }

    func testAFolderWithAFIFOAndADirectoryNamedLikeImagesLoadsTheRealImagesAndListsTheRest() throws {
        let folder = temp("odd_folder")
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder + "/dir.png", withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(folder + "/pipe.png", 0o644), 0)
        try Image(width: 8, height: 8, channels: 1, pixels: [Float](repeating: 0.25, count: 64)).writePNG(
            folder + "/real.png")
        try FileManager.default.copyItem(atPath: bad("jpeg_truncated_scan.jpg"), toPath: folder + "/broken.jpg")
        var warnings: [String] = []
        let saved = Warnings.handler
        Warnings.handler = { warnings.append($0) }
        defer { Warnings.handler = saved }
        let set = try ImageSet.load(folder)  // must not block on the FIFO
        XCTAssertEqual(set.count, 1)
        XCTAssertEqual(set.skipped.count, 3, "\(set.skipped)")
        XCTAssertTrue(set.skipped.contains { $0.contains("pipe.png") && $0.contains("FIFO") }, "\(set.skipped)")
        XCTAssertTrue(set.skipped.contains { $0.contains("dir.png") && $0.contains("folder") }, "\(set.skipped)")
        XCTAssertTrue(set.skipped.contains { $0.contains("broken.jpg") }, "\(set.skipped)")
        XCTAssertTrue(warnings.first?.contains("skipped 3 of 4") ?? false, "\(warnings)")
        XCTAssertThrowsError(try Image.read(folder + "/pipe.png")) { XCTAssertTrue("\($0)".contains("FIFO"), "\($0)") }
    }

    func testAGzipBombStopsAtWhatItsHeaderDeclares() throws {
        // 1×25×25 declared, 50 MB of zeros after it: refused before 50 MB are ever held.
        var payload = Data([0, 0, 0x08, 3, 0, 0, 0, 1, 0, 0, 0, 25, 0, 0, 0, 25]) + Data(count: 625)
        payload.append(Data(count: 50_000_000))
        let path = temp("bomb.idx.gz")
        try gzip(payload, to: path)
        XCTAssertThrowsError(try IDX.read(path)) { XCTAssertTrue("\($0)".contains("decompresses to more"), "\($0)") }
    }

    private func gzip(_ data: Data, to path: String) throws {
        let raw = temp("raw.bin")
        try data.write(to: URL(fileURLWithPath: raw))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-c", "-1", raw]
        FileManager.default.createFile(atPath: path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
    }
}
