import Foundation
import Hummingbird
import Lab
import Logging
import NIOCore

/// `genlab explore`'s web server: the page and a small JSON/PNG API over one `LatentExplorer`
/// and the runs under a folder. Every request is checked before it reaches the model; a bad
/// one gets 400/404/413 with a one-line message, never a crash.
public struct ExploreServer: Sendable {
    /// Where the server listens and what it serves.
    public struct Options: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// The folder the runs view lists.
        public var runsRoot = "Outputs"
        /// Where "keep this image" writes (nil: the button is hidden).
        public var saveFolder: String?
        public var quiet = false
        public init() {}
    }

    /// The longest query string taken (a 512-dimensional point in text is about 6 KB).
    public static let maxQueryBytes = 64 << 10

    public let explorer: LatentExplorer
    public let options: Options

    public init(explorer: LatentExplorer, options: Options) {
        self.explorer = explorer
        self.options = options
    }

    /// The application; `onRunning` gets the bound port (useful with port 0).
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        var logger = Logger(label: "genlab.explore")
        logger.logLevel = .error
        return Application(
            router: router(),
            configuration: .init(address: .hostname(options.host, port: options.port), backlog: 1024),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: LocalHostCheck(bindHost: options.host))
        let explorer = explorer, options = options
        router.get("/") { _, _ in
            Self.respond(Data(ExplorePage.html.utf8), type: "text/html; charset=utf-8", policy: Self.pagePolicy)
        }
        router.get("/api/model") { _, _ in
            var summary = explorer.summary
            summary.canSave = options.saveFolder != nil
            return try Self.json(summary)
        }
        router.get("/api/decode") { request, _ in
            let z = try Self.latent(request.uri.queryParameters["z"], for: explorer)
            let chosen = try Self.classIndex(request, for: explorer)
            return Self.respond(try Self.answer { try explorer.decodePNG(z, classIndex: chosen) }, type: "image/png")
        }
        router.get("/api/random") { request, _ in
            let seed = try Self.integer(request.uri.queryParameters["seed"], name: "seed", default: 0)
            return try Self.json(Point(z: explorer.randomPoint(seed: seed)))
        }
        router.get("/api/gallery/:index") { _, context in
            let index = try context.parameters.require("index", as: Int.self)
            return Self.respond(try Self.answer { try explorer.galleryPNG(index) }, type: "image/png")
        }
        router.get("/api/gallery/:index/latent") { request, context in
            let index = try context.parameters.require("index", as: Int.self)
            let chosen = try Self.classIndex(request, for: explorer)
            let (z, used) = try Self.answer { try explorer.galleryLatent(index, classIndex: chosen) }
            return try Self.json(Point(z: z, classIndex: used))
        }
        router.post("/api/encode") { request, _ in
            let chosen = try Self.classIndex(request, for: explorer)
            var request = request
            let body = try await request.collectBody(upTo: LatentExplorer.maxUploadBytes)
            let data = Data(buffer: body)
            return try Self.json(
                Point(
                    z: try Self.answer { try explorer.encode(upload: data, classIndex: chosen) },
                    classIndex: explorer.effectiveClass(chosen)))
        }
        router.post("/api/save") { request, _ in
            guard let folder = options.saveFolder else {
                throw HTTPError(.notFound, message: "saving is off: start genlab explore with --out DIR")
            }
            var request = request
            let body = try await request.collectBody(upTo: Self.maxQueryBytes)
            guard let point = try? JSONDecoder().decode(Point.self, from: Data(buffer: body)) else {
                throw HTTPError(
                    .badRequest, message: "the body must be {\"z\": [numbers], \"class\": index (optional)}")
            }
            let chosen = try Self.answer { try explorer.classIndex(point.classIndex.map(String.init)) }
            let name = try Self.answer {
                try ExploreSaves.save(point.z, classIndex: chosen, explorer: explorer, folder: folder)
            }
            return try Self.json(["saved": name])
        }
        router.get("/api/runs") { _, _ in try Self.json(RunListing(root: options.runsRoot).runs) }
        router.get("/runs/picture") { request, _ in
            let query = request.uri.queryParameters
            guard let run = query["run"], let file = query["file"] else {
                throw HTTPError(.badRequest, message: "give run= and file=")
            }
            let listing = RunListing(root: options.runsRoot, metrics: false)
            guard let path = listing.picture(run: String(run), file: String(file)),
                let data = FileManager.default.contents(atPath: path)
            else { throw HTTPError(.notFound, message: "no such picture in the runs listing") }
            return Self.respond(data, type: Self.contentType(of: path))
        }
        return router
    }

    /// `{"z": [...]}` both ways, with `"class": index` for a conditional model.
    struct Point: Codable {
        var z: [Float]
        var classIndex: Int?
        enum CodingKeys: String, CodingKey {
            case z
            case classIndex = "class"
        }
    }

    /// The request's `class=` (an index or a class name), checked against the model.
    static func classIndex(_ request: Request, for explorer: LatentExplorer) throws -> Int? {
        let text = request.uri.queryParameters["class"].map(String.init)
        guard (text?.utf8.count ?? 0) <= 256 else { throw HTTPError(.badRequest, message: "class is too long") }
        return try answer { try explorer.classIndex(text) }
    }

    /// The explorer's refusals as HTTP errors (400 / 404); other failures are 500 with the message.
    static func answer<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as ExploreError {
            switch error {
            case let .badRequest(m): throw HTTPError(.badRequest, message: m)
            case let .notFound(m): throw HTTPError(.notFound, message: m)
            }
        } catch let error as HTTPError { throw error } catch {
            throw HTTPError(.internalServerError, message: "\(error)")
        }
    }

    /// `z=0.1,-2,…` → floats; a missing, long or malformed value is a 400 naming the problem.
    static func latent(_ text: Substring?, for explorer: LatentExplorer) throws -> [Float] {
        guard let text, !text.isEmpty else {
            throw HTTPError(.badRequest, message: "give z=v1,v2,… (the latent point)")
        }
        guard text.utf8.count <= maxQueryBytes else { throw HTTPError(.badRequest, message: "z is too long") }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count <= 4096 else { throw HTTPError(.badRequest, message: "z has too many values") }
        var values: [Float] = []
        values.reserveCapacity(parts.count)
        for (i, part) in parts.enumerated() {
            guard let v = Float(part.trimmingCharacters(in: .whitespaces)) else {
                throw HTTPError(.badRequest, message: "z value \(i) ('\(part.prefix(20))') is not a number")
            }
            values.append(v)
        }
        return try answer {
            try explorer.check(values); return values
        }
    }

    static func integer(_ text: Substring?, name: String, default value: UInt64) throws -> UInt64 {
        guard let text else { return value }
        guard let v = UInt64(text) else {
            throw HTTPError(.badRequest, message: "\(name) must be a whole number from 0 to \(UInt64.max)")
        }
        return v
    }

    static func json<T: Encodable>(_ value: T) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return respond(try encoder.encode(value), type: "application/json")
    }

    /// The page runs its own inline script and talks to this server only (no CDN, nothing else).
    static let pagePolicy =
        "default-src 'self'; img-src 'self' blob: data:; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        + "connect-src 'self'; frame-ancestors 'none'"
    /// Everything else is data: no scripts, even in an SVG opened on its own.
    static let dataPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"

    static func respond(_ data: Data, type: String, policy: String = dataPolicy) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: type, .cacheControl: "no-store", .contentSecurityPolicy: policy,
                .xContentTypeOptions: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func contentType(of path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "png": return "image/png"
        case "gif": return "image/gif"
        case "svg": return "image/svg+xml"
        default: return "application/octet-stream"
        }
    }
}
