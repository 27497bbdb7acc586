import Datasets
import Engine
import Formats
import Foundation
import XCTest

/// Readers against files numpy, Pillow and h5py wrote (Fixtures/, made by
/// scripts/python/make_formats_fixtures.py); writers by round trip; bad input by corruption.
final class FormatsTests: XCTestCase {
    var expected: [String: Any] = [:]
    func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!.path
    }
    func values(_ key: String) -> [Float] { (expected[key] as! [NSNumber]).map(\.floatValue) }
    func temp(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("genlab-formats-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    override func setUpWithError() throws {
        expected =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture("expected.json"))))
            as! [String: Any]
    }

    func testNPYEveryDtypeByteOrderMemoryOrderAndVersion() throws {
        let array = values("array")
        for name in ["f4", "f8_big", "fortran", "v2"] {
            let t = try NPY.read(fixture("\(name).npy"))
            XCTAssertEqual(t.shape, [3, 4], name)
            for (a, b) in zip(t.scalars, array) { XCTAssertEqual(a, b, accuracy: 1e-6, name) }
        }
        XCTAssertEqual(try NPY.read(fixture("i2.npy")).scalars, array.map { $0.rounded(.toNearestOrEven) })
        XCTAssertEqual(try NPY.read(fixture("u1.npy")).scalars, [0, 7, 255])
        XCTAssertEqual(try NPY.read(fixture("f2.npy")).scalars, values("f2"))
        let path = temp("round.npy")
        let t = Tensor(shape: [2, 3, 1], data: [1, -2, 3.5, 4, 5, 6])
        try NPY.write(t, to: path)
        let back = try NPY.read(path)
        XCTAssertEqual(back.shape, t.shape)
        XCTAssertEqual(back.scalars, t.scalars)
    }

    func testPNGAndJPEGFromPillow() throws {
        let grey = try Image.read(fixture("grey.png"))
        XCTAssertEqual([grey.width, grey.height, grey.channels], [7, 5, 1])
        XCTAssertEqual(grey.pixels, values("grey"))
        XCTAssertEqual(try Image.read(fixture("palette.png")).rgb().grey().pixels.count, 35)
        XCTAssertEqual(try Image.read(fixture("rgb.png")).pixels, values("rgb"))
        let rgba = try Image.read(fixture("rgba.png"))
        XCTAssertEqual(rgba.channels, 4)
        let g16 = try Image.read(fixture("grey16.png"))
        XCTAssertEqual(g16.bitDepth, 16)
        for (a, b) in zip(g16.pixels, values("grey16")) { XCTAssertEqual(a, b, accuracy: 1e-7) }
        let jpeg = try Image.read(fixture("rgb.jpg"))
        XCTAssertEqual([jpeg.width, jpeg.height, jpeg.channels], [7, 5, 3])
        // Noise through 4:2:0 chroma subsampling is lossy per pixel; the overall level must survive.
        let meanGot = jpeg.pixels.reduce(0, +) / Float(jpeg.pixels.count)
        let meanWant = values("jpeg_rgb_approx").reduce(0, +) / Float(jpeg.pixels.count)
        XCTAssertEqual(meanGot, meanWant, accuracy: 0.03)
    }

    func testImageWritersRoundTrip() throws {
        var rng = PRNG(seed: 1)
        let px = (0..<(6 * 9 * 3)).map { _ in Float(rng.nextInt(256)) / 255 }
        let im = Image(width: 9, height: 6, channels: 3, pixels: px)
        try im.writePNG(temp("a.png"))
        XCTAssertEqual(try Image.read(temp("a.png")), im)
        try im.writePNG(temp("a16.png"), bitDepth: 16)
        let back16 = try Image.read(temp("a16.png"))
        for (a, b) in zip(back16.pixels, px) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        try im.writeJPEG(temp("a.jpg"), quality: 100)
        XCTAssertEqual(try Image.read(temp("a.jpg")).width, 9)
        let gif = try GIF.encode([im, im.grey(), im], delayCentiseconds: 5)
        XCTAssertEqual(Array(gif.prefix(6)), Array("GIF89a".utf8))
        XCTAssertEqual(gif.last, 0x3B)
    }

    func testHDF5FromH5pyAndRoundTrip() throws {
        let f = try HDF5File(fixture("table.h5"))
        let entries = try f.entries()
        XCTAssertEqual(
            Set(entries.map(\.path)),
            ["/images", "/group", "/group/ints", "/labels", "/df", "/df/block0_values", "/df/axis0"])
        XCTAssertEqual(try f.read("/images").scalars, values("h5images"))
        XCTAssertEqual(try f.readRows("/images", 2, 3).shape, [3, 4, 4])
        XCTAssertEqual(try f.readRows("/images", 2, 3).scalars, Array(values("h5images")[32..<80]))
        XCTAssertEqual(try f.read("/group/ints").scalars, (0..<10).map(Float.init))
        XCTAssertEqual(try f.read("/df/block0_values").scalars, values("df"))
        let attributes = try f.attributes()
        XCTAssertEqual(attributes["title"], "made by h5py")
        XCTAssertEqual(attributes["scale"], "2.5")
        XCTAssertEqual(attributes["sizes"], "3,4")
        XCTAssertThrowsError(try f.read("/nope")) { XCTAssertTrue("\($0)".contains("/nope"), "\($0)") }
        XCTAssertThrowsError(try f.readRows("/images", 5, 3)) { XCTAssertTrue("\($0)".contains("outside"), "\($0)") }

        let path = temp("w.h5")
        let t = Tensor(shape: [4, 2, 3], data: (0..<24).map(Float.init))
        try HDF5File.write(to: path) { out in
            try out.write("/a/b/data", t, chunkRows: 2, gzip: 4)
            try out.setAttribute("note", "hello")
            try out.setAttribute("size", 25, on: "/a/b/data")
        }
        let back = try HDF5File(path)
        XCTAssertEqual(try back.read("/a/b/data").scalars, t.scalars)
        XCTAssertEqual(try back.attributes()["note"], "hello")
        XCTAssertEqual(try back.attributes(of: "/a/b/data")["size"], "25")
    }

    func testIDXGzipAndImageSetLoading() throws {
        let t = try IDX.read(fixture("images-idx3-ubyte.gz"))
        XCTAssertEqual(t.shape, [3, 4, 5])
        XCTAssertEqual(t.scalars, values("idx"))
        let set = try ImageSet.load(fixture("images-idx3-ubyte.gz"))
        XCTAssertEqual(set.images.shape, [3, 1, 4, 5])
        XCTAssertLessThanOrEqual(set.images.scalars.max()!, 1)
        let h5 = try ImageSet.load(fixture("table.h5"))
        XCTAssertEqual(h5.images.shape, [6, 1, 4, 4])
        XCTAssertEqual(h5.labels, [0, 1, 0, 1, 1, 0])
        XCTAssertEqual(try ImageSet.load(fixture("table.h5") + ":/group/ints").images.shape, [1, 1, 5, 2])
        let resized = try ImageSet.load(fixture("rgb.png"), options: .init(size: 3, channels: 1))
        XCTAssertEqual(resized.images.shape, [1, 1, 3, 3])
    }

    func testBadInputGivesErrorsNamingFileAndProblem() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fixture("rgb.png")))
        let cases: [(String, Data, String)] = [
            ("trunc.png", bytes.prefix(bytes.count / 2), "corrupt or truncated"),
            ("empty.png", Data(), "empty file"),
            ("text.png", Data("not an image at all".utf8), "unrecognised format"),
            (
                "trunc.jpg", try Data(contentsOf: URL(fileURLWithPath: fixture("rgb.jpg"))).prefix(200),
                "corrupt or truncated"
            ),
            ("bad.npy", try Data(contentsOf: URL(fileURLWithPath: fixture("f4.npy"))).prefix(90), "truncated"),
            ("magic.npy", Data("\u{93}NUMPX".utf8) + Data(count: 20), "unrecognised format"),
            ("trunc.h5", try Data(contentsOf: URL(fileURLWithPath: fixture("table.h5"))).prefix(3000), "HDF5"),
            (
                "trunc-idx.gz", try Data(contentsOf: URL(fileURLWithPath: fixture("images-idx3-ubyte.gz"))).prefix(30),
                "truncated"
            ),
        ]
        for (name, data, needle) in cases {
            let path = temp(name)
            try data.write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try ImageSet.load(path), name) { error in
                XCTAssertTrue("\(error)".contains(path), "\(name): \(error)")
                XCTAssertTrue("\(error)".contains(needle), "\(name): \(error)")
            }
        }
        XCTAssertThrowsError(try ImageSet.load(temp("missing.png"))) { XCTAssertTrue("\($0)".contains("no such file")) }
        let nan = temp("nan.npy")
        try NPY.write(Tensor(shape: [1, 2, 2], data: [0, .nan, 1, 1]), to: nan)
        XCTAssertThrowsError(try ImageSet.load(nan)) { XCTAssertTrue("\($0)".contains("NaN"), "\($0)") }
    }

    func testNPYHeaderFuzzNeverCrashes() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: fixture("f4.npy")))
        var rng = PRNG(seed: 5)
        for _ in 0..<3000 {
            var d = original
            if rng.nextInt(2) == 0 {
                for _ in 0..<3 { d[rng.nextInt(128)] = UInt8(rng.nextInt(256)) }
            } else {
                d = d.prefix(rng.nextInt(d.count))
            }
            _ = try? NPY.decode(d, file: "fuzz")
        }
    }
}

final class NPZTests: XCTestCase {
    func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!.path
    }

    func testStoredAndDeflatedArchivesFromNumpy() throws {
        let expected =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture("expected.json"))))
            as! [String: Any]
        let images = (expected["npz_images"] as! [NSNumber]).map(\.floatValue)
        let stored = try NPZ.read(fixture("stored.npz"))
        XCTAssertEqual(stored["images"]!.scalars, images)
        XCTAssertEqual(stored["labels"]!.scalars, [0, 1, 2, 3])
        let deflated = try NPZ.read(fixture("deflated.npz"))
        XCTAssertEqual(deflated["images"]!.scalars, images)
        XCTAssertEqual(deflated["other"]!.scalars, [1, 1, 1, 1])
        XCTAssertEqual(try ImageSet.load(fixture("deflated.npz")).images.shape, [4, 1, 5, 6])
    }

    func testTruncatedAndMutatedArchivesAreErrorsNotCrashes() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture("deflated.npz")))
        XCTAssertThrowsError(try NPZ.decode(data.prefix(data.count - 30), file: "t.npz")) {
            XCTAssertTrue("\($0)".hasPrefix("t.npz"), "\($0)")
        }
        var rng = PRNG(seed: 11)
        for _ in 0..<2000 {
            var d = data
            for _ in 0..<(1 + rng.nextInt(3)) { d[rng.nextInt(d.count)] = UInt8(rng.nextInt(256)) }
            _ = try? NPZ.decode(d, file: "fuzz.npz")
        }
    }
}
