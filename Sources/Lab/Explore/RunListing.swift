import Foundation

/// The runs view of `genlab explore`: the training runs under a folder (by default `Outputs/`),
/// each with its metrics and its pictures. Only what the listing names is ever served, so a
/// request cannot reach any other file.
public struct RunListing: Sendable {
    /// One run folder as the page shows it.
    public struct Run: Codable, Sendable, Equatable {
        /// The path below the root, `/`-separated (the run's id in URLs).
        public var name: String
        /// gan, vae or ae from config.json, when it names one.
        public var kind: String?
        /// metrics.csv's columns and rows (at most `maxRows`, evenly thinned; empty cells → nil).
        public var columns: [String]
        public var rows: [[Double?]]
        /// The pictures in the folder (PNG, GIF, SVG), newest sample grid last.
        public var pictures: [String]
    }

    /// Folders deeper than this below the root are not searched.
    public static let maxDepth = 3
    /// Rows of a metrics.csv sent to the page (longer runs are thinned evenly).
    public static let maxRows = 2000
    /// Pictures larger than this are listed but not served.
    public static let maxPictureBytes = 64 << 20
    /// The run folders listed at most.
    public static let maxRuns = 200

    public let root: String
    public let runs: [Run]

    /// Scans `root` for run folders (those with a metrics.csv or checkpoint.safetensors). A
    /// missing root lists no runs; an unreadable metrics.csv lists its run without curves.
    /// `metrics: false` leaves the curves out (to look a picture up, nothing needs them).
    public init(root: String, metrics: Bool = true) {
        self.root = root
        var found: [Run] = []
        Self.scan(root, relative: "", depth: 0, metrics: metrics, into: &found)
        runs = found.sorted { $0.name < $1.name }
    }

    private static func scan(_ folder: String, relative: String, depth: Int, metrics: Bool, into runs: inout [Run]) {
        guard depth <= maxDepth, runs.count < maxRuns,
            let names = try? FileManager.default.contentsOfDirectory(atPath: folder)
        else { return }
        let fm = FileManager.default
        if !relative.isEmpty, names.contains("metrics.csv") || names.contains("checkpoint.safetensors") {
            runs.append(run(folder, name: relative, files: names, metrics: metrics))
        }
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = folder + "/" + name
            // Symbolic links are not followed: the listing stays inside the root.
            guard let attributes = try? fm.attributesOfItem(atPath: path),
                attributes[.type] as? FileAttributeType == .typeDirectory
            else { continue }
            scan(
                path, relative: relative.isEmpty ? name : relative + "/" + name, depth: depth + 1, metrics: metrics,
                into: &runs)
        }
    }

    private static func run(_ folder: String, name: String, files: [String], metrics withMetrics: Bool) -> Run {
        let pictures = files.filter { file in
            let lower = file.lowercased()
            return !file.hasPrefix(".")
                && (lower.hasSuffix(".png") || lower.hasSuffix(".gif") || lower.hasSuffix(".svg"))
                && isRegularFile(folder + "/" + file)
        }.sorted()
        var kind: String?
        if let data = try? Data(contentsOf: URL(fileURLWithPath: folder + "/config.json")),
            data.count < 1 << 20,
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        {
            if object["generatorFeatures"] != nil {
                kind = "gan"
            } else if let plain = object["plain"] as? Bool {
                kind = plain ? "ae" : "vae"
            }
        }
        let (columns, rows) = withMetrics ? metrics(folder + "/metrics.csv") : ([], [])
        return Run(name: name, kind: kind, columns: columns, rows: rows, pictures: pictures)
    }

    /// metrics.csv as numbers; nothing when it is missing, too large (256 MiB) or not GenLab's.
    static func metrics(_ path: String) -> ([String], [[Double?]]) {
        guard isRegularFile(path),
            let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size < 256 << 20,
            let text = try? String(contentsOfFile: path, encoding: .utf8)
        else { return ([], []) }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard !lines.isEmpty else { return ([], []) }
        let columns = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard columns.count <= 64 else { return ([], []) }
        let stride = max(1, (lines.count + maxRows - 1) / maxRows)
        var rows: [[Double?]] = []
        for (i, line) in lines.enumerated() where i % stride == 0 || i == lines.count - 1 {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == columns.count else { continue }
            rows.append(cells.map { Double($0).flatMap { $0.isFinite ? $0 : nil } })
        }
        return (columns, rows)
    }

    /// The path of a run's picture, when the listing names both (nil otherwise: 404).
    public func picture(run: String, file: String) -> String? {
        guard let entry = runs.first(where: { $0.name == run }), entry.pictures.contains(file) else { return nil }
        let path = root + "/" + run + "/" + file
        guard Self.isRegularFile(path),
            let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int,
            size <= Self.maxPictureBytes
        else { return nil }
        return path
    }

    static func isRegularFile(_ path: String) -> Bool {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType == .typeRegular
    }
}
