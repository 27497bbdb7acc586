import Engine
import Formats
import Foundation

/// Rows of named numeric columns (one event per row) read from pandas DataFrames in HDF5 — the
/// layout of the LHC Olympics R&D high-level-features file (`pxj1 pyj1 pzj1 mj1 tau1j1 tau2j1
/// tau3j1`, the same for `j2`, `label`) and of any table a user writes with `DataFrame.to_hdf`.
///
/// Where the LHCO jet columns are there, the resonant-hunt features of the CATHODE papers are
/// added, with the two jets ordered by mass (J1 the lighter), masses in TeV:
/// `mjj`, `mJ1`, `deltaMJ` (= m_J2 − m_J1 ≥ 0), `tau21J1`, `tau21J2`. Rows where one of them is
/// not finite (a jet with τ1 = 0) are dropped and counted.
///
/// Whole-event files in the R&D layout (`events_anomalydetection.h5`: 700 particles × pT η φ, and a
/// label) are read too: their jets are clustered here and give the same columns (`DijetFeatures`).
public struct FeatureTable: Sendable {
    /// Column names, the file's first, then the derived ones.
    public private(set) var names: [String]
    /// Row-major values, rows × names.count.
    public private(set) var values: [Float]
    public private(set) var rows: Int
    /// The files read, in order.
    public private(set) var sources: [String]
    /// Rows dropped because a derived feature was not finite, or (whole events) the event had
    /// fewer than two jets.
    public private(set) var dropped = 0

    /// The derived resonant-hunt features (see the type's documentation).
    public static let huntFeatures = ["mjj", "mJ1", "deltaMJ", "tau21J1", "tau21J2"]
    static let lhcoColumns = [
        "pxj1", "pyj1", "pzj1", "mj1", "tau1j1", "tau2j1", "pxj2", "pyj2", "pzj2", "mj2", "tau1j2", "tau2j2",
    ]

    public init(names: [String], values: [Float], sources: [String] = []) {
        precondition(names.isEmpty ? values.isEmpty : values.count % names.count == 0)
        self.names = names; self.values = values
        rows = names.isEmpty ? 0 : values.count / names.count
        self.sources = sources
    }

    /// Reads every path (an HDF5 file, or a folder: its `*.h5`/`*.hdf5` files in name order) and
    /// stacks their rows; every file must have the columns of the first. `key` names the frame
    /// (nil: `df`, else the file's only frame). `progress` is told (file, events done, events) while
    /// whole events are clustered.
    public init(
        paths: [String], key: String? = nil, limits: InputLimits = .current,
        progress: ((String, Int, Int) -> Void)? = nil
    ) throws {
        var files: [String] = []
        for p in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDirectory) else {
                throw FormatError(p, "no such file or folder")
            }
            if isDirectory.boolValue {
                let inside = try FileManager.default.contentsOfDirectory(atPath: p).filter {
                    $0.hasSuffix(".h5") || $0.hasSuffix(".hdf5")
                }.sorted()
                guard !inside.isEmpty else { throw FormatError(p, "a folder without .h5 files") }
                files += inside.map { (p as NSString).appendingPathComponent($0) }
            } else {
                files.append(p)
            }
        }
        guard !files.isEmpty else { throw FormatError("--data", "no event files given") }
        self.init(names: [], values: [])
        var total = 0
        for path in files {
            try InputFile.requireRegular(path)
            let file = try HDF5File(path)
            defer { file.close() }
            if key == nil, let layout = try EventLayout.detect(file), layout.isWholeEvents {
                let events = try DijetFeatures.table(
                    EventFile(file, layout: layout), progress: progress.map { p in { p(path, $0, $1) } })
                if names.isEmpty { names = events.names }
                guard Set(names) == Set(events.names) else {
                    throw FormatError(
                        path,
                        "gives the columns \(events.names.joined(separator: " ")); the first file, "
                            + "\(files[0]), has \(names.joined(separator: " "))")
                }
                let order = names.map { events.names.firstIndex(of: $0)! }, w = names.count
                let rows = events.values.count / w
                total += rows
                dropped += events.dropped
                try limits.bytes(total * w * 4, file: path, what: "the feature table")
                values.reserveCapacity(values.count + events.values.count)
                for r in 0..<rows { for c in order { values.append(events.values[r * w + c]) } }
                sources.append(path)
                continue
            }
            let frame = try PandasFrame(file, key: try Self.frameKey(file, key))
            try frame.requireStored()
            let columns = frame.columns.filter { !$0.isEmpty }
            if names.isEmpty {
                names = Array(Set(columns)).sorted {
                    frame.columns.firstIndex(of: $0)! < frame.columns.firstIndex(of: $1)!
                }
            }
            for n in names where !frame.contains(n) {
                throw FormatError(path, "/\(frame.key) has no column \(n) (the first file, \(files[0]), has)")
            }
            total += frame.rows
            try limits.bytes(total * names.count * 4, file: path, what: "the feature table")
            let chunk = 100_000
            for start in stride(from: 0, to: frame.rows, by: chunk) {
                let n = Swift.min(chunk, frame.rows - start)
                values += try frame.read(names, start, n).scalars
            }
            sources.append(path)
        }
        rows = total
        if Set(Self.lhcoColumns).isSubset(of: names) { addHuntFeatures() }
    }

    static func frameKey(_ file: HDF5File, _ key: String?) throws -> String {
        if let key { return key }
        if PandasFrame.isFrame(file, key: "df") { return "df" }
        let groups = Set(
            try file.entries().compactMap { e -> String? in
                let parts = e.path.split(separator: "/")
                return parts.count >= 2 ? String(parts[0]) : nil
            })
        let frames = groups.filter { PandasFrame.isFrame(file, key: $0) }.sorted()
        guard frames.count == 1 else {
            throw FormatError(
                file.path,
                frames.isEmpty
                    ? "holds no pandas DataFrame (DataFrame.to_hdf's layout)"
                    : "holds several DataFrames (\(frames.joined(separator: ", "))): name one with --key")
        }
        return frames[0]
    }

    /// Appends mjj, mJ1, deltaMJ, tau21J1, tau21J2 (jets ordered by mass), dropping rows where one is not finite.
    mutating func addHuntFeatures() {
        let width = names.count
        let at = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        let values = self.values
        func jet(_ row: Int, _ j: Int) -> (p: SIMD3<Double>, m: Double, tau21: Double) {
            func v(_ name: String) -> Double { Double(values[row * width + at[name + "j\(j)"]!]) }
            let p = SIMD3(v("px"), v("py"), v("pz"))
            return (p, v("m"), v("tau2") / v("tau1"))
        }
        var out: [Float] = []
        out.reserveCapacity(rows * (width + Self.huntFeatures.count))
        var kept = 0
        for r in 0..<rows {
            let a = jet(r, 1), b = jet(r, 2)
            let ea = ((a.p * a.p).sum() + a.m * a.m).squareRoot(), eb = ((b.p * b.p).sum() + b.m * b.m).squareRoot()
            let p = a.p + b.p, e = ea + eb
            let mjj = Swift.max(0, e * e - (p * p).sum()).squareRoot()
            let (light, heavy) = a.m <= b.m ? (a, b) : (b, a)
            let derived = [mjj, light.m, heavy.m - light.m, light.tau21, heavy.tau21]
            let scaled = [derived[0] / 1000, derived[1] / 1000, derived[2] / 1000, derived[3], derived[4]]
            guard scaled.allSatisfy({ $0.isFinite }) else { continue }
            out += values[(r * width)..<((r + 1) * width)]
            out += scaled.map { Float($0) }
            kept += 1
        }
        dropped += rows - kept
        rows = kept
        names += Self.huntFeatures
        self.values = out
    }

    /// The index of a column, or an error naming the columns there are.
    public func index(of name: String) throws -> Int {
        guard let i = names.firstIndex(of: name) else {
            throw FormatError(
                sources.first ?? "the table", "has no column \(name) (columns: \(names.joined(separator: ", ")))")
        }
        return i
    }

    /// The named columns of the given rows (all rows when nil) as [rows, names.count].
    public func matrix(_ columns: [String], rows subset: [Int]? = nil) throws -> Tensor {
        let idx = try columns.map { try index(of: $0) }
        let picked = subset ?? Array(0..<rows)
        var out = [Float](repeating: 0, count: picked.count * idx.count)
        let width = names.count
        for (k, r) in picked.enumerated() {
            for (c, i) in idx.enumerated() { out[k * idx.count + c] = values[r * width + i] }
        }
        return Tensor(shape: [picked.count, idx.count], data: out)
    }

    /// One column's values.
    public func column(_ name: String) throws -> [Float] {
        let i = try index(of: name), width = names.count
        return (0..<rows).map { values[$0 * width + i] }
    }
}
