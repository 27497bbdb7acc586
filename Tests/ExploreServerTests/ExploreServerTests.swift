import Datasets
import Engine
import Formats
import Foundation
import Hummingbird
import Lab
import XCTest

@testable import ExploreServer

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The explorer's HTTP API on loopback, as the page and a script use it: real requests to a real
/// server over a tiny VAE (and a GAN) trained on the bundled faces.
final class ExploreServerTests: XCTestCase {
    nonisolated(unsafe) static var fixtures: Fixtures?

    struct Fixtures {
        let root: String
        let vae: String
        let gan: String
        let faces: String
        /// A class-conditional VAE, and its data: 16×16 grey images bright in the top or the bottom
        /// half, in class sub-folders `bottom/` (class 0) and `top/` (class 1).
        let conditional: String
        let halves: String
    }

    /// The class folder the conditional fixture trains on (even images bottom, odd ones top).
    static func halvesFolder(_ root: String, count: Int = 64) throws -> String {
        let folder = root + "/halves"
        var rng = PRNG(seed: 11)
        let noise = Tensor.uniform([count * 256], rng: &rng).scalars
        for i in 0..<count {
            let top = i % 2 == 1
            let sub = folder + (top ? "/top" : "/bottom")
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
            let pixels = (0..<256).map { p in ((p / 16 < 8) == top ? 0.8 : 0.1) + 0.15 * noise[i * 256 + p] }
            try Image(width: 16, height: 16, channels: 1, pixels: pixels).writePNG(sub + String(format: "/%03d.png", i))
        }
        return folder
    }

    /// Trains the two tiny models once for the whole class.
    static func prepared() throws -> Fixtures {
        if let fixtures { return fixtures }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("genlab-explore-\(getpid())").path
        try? FileManager.default.removeItem(atPath: root)
        let faces = repositoryRoot + "/Datasets/faces"
        var o = TrainOptions()
        o.epochs = 40; o.batchSize = 32; o.seed = 1; o.quiet = true; o.latentDim = 6; o.maxSteps = 150
        var m = TrainingSetup.ModelOptions()
        m.architecture = .mlp; m.hidden = [32]
        try TrainingSetup.make(kind: .vae, data: faces, out: root + "/runs/vae", options: o, model: m).train()
        o.epochs = 1; o.latentDim = 8; o.maxSteps = 2
        try TrainingSetup.make(kind: .gan, data: faces, out: root + "/runs/gan", options: o, model: .init()).train()
        let halves = try halvesFolder(root)
        o.epochs = 100; o.latentDim = 4; o.maxSteps = 500; o.batchSize = 32; o.learningRate = 3e-3
        m.conditional = true; m.hidden = [64]
        try TrainingSetup.make(kind: .vae, data: halves, out: root + "/conditional", options: o, model: m).train()
        let made = Fixtures(
            root: root, vae: root + "/runs/vae/checkpoint.safetensors", gan: root + "/runs/gan/checkpoint.safetensors",
            faces: faces, conditional: root + "/conditional/checkpoint.safetensors", halves: halves)
        fixtures = made
        return made
    }

    /// A running server; `body` gets its base URL; the server stops afterwards.
    func withServer(
        checkpoint: KeyPath<Fixtures, String> = \.vae, data: Bool = true, save: String? = nil,
        _ body: (Fixtures, String) async throws -> Void
    ) async throws {
        let f = try Self.prepared()
        let explorer = try LatentExplorer(
            checkpoint: f[keyPath: checkpoint], data: data ? (checkpoint == \.conditional ? f.halves : f.faces) : nil)
        var options = ExploreServer.Options()
        options.port = 0; options.runsRoot = f.root + "/runs"; options.saveFolder = save; options.quiet = true
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = ExploreServer(explorer: explorer, options: options).application { continuation.yield($0) }
        let task = Task { try await app.run() }
        var port = 0
        for await p in ports { port = p; break }
        defer { task.cancel() }
        XCTAssertGreaterThan(port, 0)
        try await body(f, "http://127.0.0.1:\(port)")
    }

    func fetch(
        _ url: String, method: String = "GET", body: Data? = nil, host: String? = nil
    ) async throws -> (
        Int, Data, String
    ) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body
        if let host { request.setValue(host, forHTTPHeaderField: "Host") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        return (http.statusCode, data, http.value(forHTTPHeaderField: "Content-Type") ?? "")
    }

    func zQuery(_ z: [Float]) -> String { z.map { String($0) }.joined(separator: ",") }

    func testPageAndModelSummary() async throws {
        try await withServer { _, base in
            let (status, page, type) = try await fetch(base + "/")
            XCTAssertEqual(status, 200)
            XCTAssertTrue(type.hasPrefix("text/html"), type)
            let html = String(decoding: page, as: UTF8.self)
            XCTAssertTrue(html.contains("id=\"decoded\""))
            // The one absolute URL is the SVG namespace name, which is never fetched.
            let absolute = html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
            XCTAssertFalse(absolute.contains("http://") || absolute.contains("https://") || absolute.contains("//cdn"))
            let (s2, json, _) = try await fetch(base + "/api/model")
            XCTAssertEqual(s2, 200)
            let summary = try JSONDecoder().decode(LatentExplorer.Summary.self, from: json)
            XCTAssertEqual(summary.kind, "vae")
            XCTAssertEqual(summary.latentDim, 6)
            XCTAssertEqual(summary.dimensions.count, 6)
            XCTAssertEqual(Set(summary.dimensions.map(\.index)), Set(0..<6))
            XCTAssertTrue(summary.hasEncoder)
            XCTAssertEqual(summary.galleryCount, 48)
            XCTAssertTrue(summary.rankedBy.contains("information"), summary.rankedBy)
            XCTAssertFalse(summary.canSave)
            // Ranked: active dimensions first, by rank.
            let ranks = summary.dimensions.compactMap(\.rank)
            XCTAssertFalse(ranks.isEmpty)
            XCTAssertEqual(ranks, Array(1...max(ranks.count, 1)))
        }
    }

    func testDecodeGivesAPNGThatFollowsThePoint() async throws {
        try await withServer { _, base in
            let (s1, a, type) = try await fetch(base + "/api/decode?z=" + zQuery([0, 0, 0, 0, 0, 0]))
            XCTAssertEqual(s1, 200)
            XCTAssertEqual(type, "image/png")
            XCTAssertEqual(Array(a.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
            let (_, b, _) = try await fetch(base + "/api/decode?z=" + zQuery([2.5, -2.5, 2.5, -2.5, 2.5, -2.5]))
            XCTAssertNotEqual(a, b, "another point decodes to another image")
            let (_, again, _) = try await fetch(base + "/api/decode?z=" + zQuery([0, 0, 0, 0, 0, 0]))
            XCTAssertEqual(a, again, "decoding is deterministic")
        }
    }

    func testBadRequestsGet4xxWithAMessage() async throws {
        try await withServer { f, base in
            let cases: [(String, Int, String)] = [
                ("/api/decode?z=1,2", 400, "6"),
                ("/api/decode", 400, "z="),
                ("/api/decode?z=1,2,x,4,5,6", 400, "not a number"),
                ("/api/decode?z=1,2,3,4,5,nan", 400, "finite"),
                ("/api/decode?z=1,2,3,4,5,99", 400, "within"),
                ("/api/decode?z=" + String(repeating: "1,", count: 40_000) + "1", 400, "too"),
                ("/api/random?seed=-1", 400, "seed"),
                ("/api/gallery/48", 404, "outside"),
                ("/api/gallery/abc", 400, ""),
                ("/runs/picture?run=vae&file=../../../etc/passwd", 404, "no such picture"),
                ("/runs/picture?run=vae", 400, "file="),
                ("/no/such/route", 404, ""),
            ]
            for (path, status, words) in cases {
                let (s, body, _) = try await fetch(base + path)
                XCTAssertEqual(s, status, path)
                let text = String(decoding: body, as: UTF8.self)
                XCTAssertTrue(words.isEmpty || text.contains(words), "\(path): \(text)")
            }
            let (s, body, _) = try await fetch(base + "/api/model", host: "evil.example:80")
            XCTAssertEqual(s, 421, String(decoding: body, as: UTF8.self))
            // Uploads: not an image, empty, too large.
            let (u1, m1, _) = try await fetch(base + "/api/encode", method: "POST", body: Data("garbage".utf8))
            XCTAssertEqual(u1, 400)
            XCTAssertTrue(String(decoding: m1, as: UTF8.self).contains("PNG or JPEG"))
            let (u2, _, _) = try await fetch(base + "/api/encode", method: "POST", body: Data())
            XCTAssertEqual(u2, 400)
            var truncated = try Data(contentsOf: URL(fileURLWithPath: f.faces + "/face_001.png"))
            truncated = truncated.prefix(40)
            let (u3, m3, _) = try await fetch(base + "/api/encode", method: "POST", body: truncated)
            XCTAssertEqual(u3, 400, String(decoding: m3, as: UTF8.self))
            let (u4, _, _) = try await fetch(
                base + "/api/encode", method: "POST", body: Data(count: LatentExplorer.maxUploadBytes + 1))
            XCTAssertEqual(u4, 413)
            // Still answering.
            let (after, _, _) = try await fetch(base + "/api/model")
            XCTAssertEqual(after, 200)
        }
    }

    func testRandomGalleryAndUploadPoints() async throws {
        try await withServer { f, base in
            struct Point: Decodable { var z: [Float] }
            let (_, r1, _) = try await fetch(base + "/api/random?seed=3")
            let (_, r2, _) = try await fetch(base + "/api/random?seed=3")
            let (_, r3, _) = try await fetch(base + "/api/random?seed=4")
            XCTAssertEqual(r1, r2)
            XCTAssertNotEqual(r1, r3)
            XCTAssertEqual(try JSONDecoder().decode(Point.self, from: r1).z.count, 6)
            let (g, png, _) = try await fetch(base + "/api/gallery/0")
            XCTAssertEqual(g, 200)
            XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
            let (_, latent, _) = try await fetch(base + "/api/gallery/1/latent")
            let galleryZ = try JSONDecoder().decode(Point.self, from: latent).z
            // The gallery holds the folder's first images in order: uploading face_001 gives its point.
            let upload = try Data(contentsOf: URL(fileURLWithPath: f.faces + "/face_001.png"))
            let (u, encoded, _) = try await fetch(base + "/api/encode", method: "POST", body: upload)
            XCTAssertEqual(u, 200, String(decoding: encoded, as: UTF8.self))
            let uploadZ = try JSONDecoder().decode(Point.self, from: encoded).z
            XCTAssertEqual(uploadZ.count, 6)
            for (a, b) in zip(uploadZ, galleryZ) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        }
    }

    func testRunsViewListsRunsAndServesOnlyTheirPictures() async throws {
        try await withServer { _, base in
            let (s, json, _) = try await fetch(base + "/api/runs")
            XCTAssertEqual(s, 200)
            let runs = try JSONDecoder().decode([RunListing.Run].self, from: json)
            XCTAssertEqual(runs.map(\.name), ["gan", "vae"])
            let vae = try XCTUnwrap(runs.last)
            XCTAssertEqual(vae.kind, "vae")
            XCTAssertTrue(vae.columns.contains("loss"), "\(vae.columns)")
            XCTAssertFalse(vae.rows.isEmpty)
            XCTAssertTrue(vae.pictures.contains("samples.png"), "\(vae.pictures)")
            let (p, png, type) = try await fetch(base + "/runs/picture?run=vae&file=samples.png")
            XCTAssertEqual(p, 200)
            XCTAssertEqual(type, "image/png")
            XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
            let (n, _, _) = try await fetch(base + "/runs/picture?run=vae&file=checkpoint.safetensors")
            XCTAssertEqual(n, 404, "only pictures are served")
        }
    }

    func testKeepWritesNumberedPairsAndNeverOverwrites() async throws {
        let keep = FileManager.default.temporaryDirectory.appendingPathComponent("genlab-keep-\(getpid())").path
        try? FileManager.default.removeItem(atPath: keep)
        try FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
        try await withServer(save: keep) { _, base in
            let body = Data(#"{"z": [0.5, 0, 0, 0, 0, -0.5]}"#.utf8)
            let (s1, r1, _) = try await fetch(base + "/api/save", method: "POST", body: body)
            let (s2, r2, _) = try await fetch(base + "/api/save", method: "POST", body: body)
            XCTAssertEqual([s1, s2], [200, 200])
            XCTAssertTrue(String(decoding: r1, as: UTF8.self).contains("explore_000.png"))
            XCTAssertTrue(String(decoding: r2, as: UTF8.self).contains("explore_001.png"))
            let kept = try JSONDecoder().decode(
                Kept.self, from: Data(contentsOf: URL(fileURLWithPath: keep + "/explore_000.json")))
            XCTAssertEqual(kept.z, [0.5, 0, 0, 0, 0, -0.5])
            let (bad, _, _) = try await fetch(base + "/api/save", method: "POST", body: Data(#"{"z": [1]}"#.utf8))
            XCTAssertEqual(bad, 400)
        }
        try await withServer { _, base in
            let (off, _, _) = try await fetch(base + "/api/save", method: "POST", body: Data(#"{"z": []}"#.utf8))
            XCTAssertEqual(off, 404, "without --out there is nothing to keep into")
        }
    }

    func testGANRanksBySensitivityAndRefusesToEncode() async throws {
        try await withServer(checkpoint: \.gan, data: false) { _, base in
            let (_, json, _) = try await fetch(base + "/api/model")
            let summary = try JSONDecoder().decode(LatentExplorer.Summary.self, from: json)
            XCTAssertEqual(summary.kind, "gan")
            XCTAssertFalse(summary.hasEncoder)
            XCTAssertEqual(summary.galleryCount, 0)
            XCTAssertTrue(summary.rankedBy.contains("sensitivity"), summary.rankedBy)
            let scores = summary.dimensions.map(\.score)
            XCTAssertEqual(scores, scores.sorted(by: >), "sliders are ordered by how much they move the image")
            let (e, message, _) = try await fetch(base + "/api/encode", method: "POST", body: Data([0x89, 0x50]))
            XCTAssertEqual(e, 400)
            XCTAssertTrue(String(decoding: message, as: UTF8.self).contains("GAN"))
            let (g, _, _) = try await fetch(base + "/api/gallery/0")
            XCTAssertEqual(g, 404)
        }
    }

    func testManyConcurrentRequestsLeaveItAnswering() async throws {
        try await withServer { _, base in
            let z = zQuery([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<200 {
                    group.addTask {
                        let path = i % 4 == 0 ? "/api/decode?z=bad" : "/api/decode?z=" + z
                        return try await self.fetch(base + path).0
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            XCTAssertEqual(statuses.filter { $0 == 200 }.count, 150)
            XCTAssertEqual(statuses.filter { $0 == 400 }.count, 50)
            let (after, _, _) = try await fetch(base + "/api/model")
            XCTAssertEqual(after, 200)
        }
    }

    /// A conditional VAE: the summary lists its classes, `class=` (index or name) chooses what is
    /// decoded, a labelled gallery image is encoded as its own class, Keep records the class, and
    /// a class the model lacks — or any class for an unconditional model — is a 400.
    func testAConditionalModelDecodesTheChosenClass() async throws {
        let keep = FileManager.default.temporaryDirectory.appendingPathComponent("genlab-keep-c-\(getpid())").path
        try? FileManager.default.removeItem(atPath: keep)
        try FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
        try await withServer(checkpoint: \.conditional, save: keep) { _, base in
            let (_, json, _) = try await fetch(base + "/api/model")
            let summary = try JSONDecoder().decode(LatentExplorer.Summary.self, from: json)
            XCTAssertEqual(summary.classes, ["bottom", "top"])
            XCTAssertTrue(summary.rankedBy.contains("sensitivity"), summary.rankedBy)
            XCTAssertEqual(summary.galleryCount, 48)
            let z = zQuery([0, 0, 0, 0])
            /// The decoded image's top half minus its bottom half (mean brightness).
            func topMinusBottom(_ query: String) async throws -> Float {
                let (status, png, _) = try await fetch(base + "/api/decode?z=" + z + query)
                XCTAssertEqual(status, 200, String(decoding: png, as: UTF8.self))
                let path = NSTemporaryDirectory() + "/genlab-decoded-\(getpid()).png"
                try png.write(to: URL(fileURLWithPath: path))
                let image = try Image.read(path)
                let half = image.pixels.count / 2
                return image.pixels[..<half].reduce(0, +) / Float(half) - image.pixels[half...].reduce(0, +)
                    / Float(half)
            }
            let top = try await topMinusBottom("&class=top"), bottom = try await topMinusBottom("&class=0")
            XCTAssertGreaterThan(top, 0.15, "class top decodes bright above the middle")
            XCTAssertLessThan(bottom, -0.15, "class bottom decodes bright below it")
            let byIndex = try await topMinusBottom("&class=1"), unnamed = try await topMinusBottom("")
            XCTAssertEqual(byIndex, top, "a class by index or by name is the same")
            XCTAssertEqual(unnamed, bottom, "no class: the first")
            for bad in ["left", "2", "-1", String(repeating: "x", count: 300)] {
                let (status, message, _) = try await fetch(base + "/api/decode?z=" + z + "&class=" + bad)
                XCTAssertEqual(status, 400, "class=\(bad.prefix(10)): \(String(decoding: message, as: UTF8.self))")
            }
            // Gallery files are sorted by path: bottom/… first, top/… last; each is encoded as its own class.
            struct Point: Decodable { var z: [Float]; var `class`: Int? }
            let (_, first, _) = try await fetch(base + "/api/gallery/0/latent?class=1")
            let (_, last, _) = try await fetch(base + "/api/gallery/47/latent")
            XCTAssertEqual(try JSONDecoder().decode(Point.self, from: first).class, 0)
            XCTAssertEqual(try JSONDecoder().decode(Point.self, from: last).class, 1)
            let (saved, _, _) = try await fetch(
                base + "/api/save", method: "POST", body: Data(#"{"z": [0, 0, 0, 0], "class": 1}"#.utf8))
            XCTAssertEqual(saved, 200)
            let kept = try JSONDecoder().decode(
                Kept.self, from: Data(contentsOf: URL(fileURLWithPath: keep + "/explore_000.json")))
            XCTAssertEqual(kept.classIndex, 1)
            XCTAssertEqual(kept.className, "top")
        }
        try await withServer { _, base in
            let (status, message, _) = try await fetch(
                base + "/api/decode?z=" + zQuery([0, 0, 0, 0, 0, 0]) + "&class=0")
            XCTAssertEqual(status, 400)
            XCTAssertTrue(String(decoding: message, as: UTF8.self).contains("not class-conditional"))
        }
    }

    func testHostHeaderParts() {
        XCTAssertEqual(LocalHostCheck<BasicRequestContext>.hostPart("localhost:8080"), "localhost")
        XCTAssertEqual(LocalHostCheck<BasicRequestContext>.hostPart("[::1]:8080"), "[::1]")
        XCTAssertEqual(LocalHostCheck<BasicRequestContext>.hostPart("Evil.Example"), "evil.example")
    }
}

/// The repository root (tests read the bundled Datasets/ in place).
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()
