import Engine
import Formats
import Foundation
import Physics

/// The event layouts physicists hold, recognised by their structure (never by a file name), each
/// read into GenLab's jets: constituents as (pT, η, φ) in GeV, with labels and per-event weights
/// where the file has them. Whole events (LHC Olympics) come as particles to be clustered.
public enum EventLayout: Equatable, Sendable {
    /// GenLab's own: `/constituents` (N, M, 3) of (pT, η, φ), with optional `/jets` and `/labels`.
    case genlab(constituents: Int)
    /// Top Quark Tagging Reference Dataset: pandas key `table`, columns E_i, PX_i, PY_i, PZ_i.
    case topTagging(format: PandasFrame.Format, constituents: Int, labelled: Bool)
    /// LHC Olympics 2020 (R&D with a label column, black box without): pandas key `df`, each row
    /// a whole event of (pT, η, φ) triplets.
    case lhcOlympics(format: PandasFrame.Format, particles: Int, labelled: Bool)
    /// JetNet: `particle_features` (N, 30, 4) of (η_rel, φ_rel, pT_rel, mask), `jet_features`.
    case jetNet(particles: Int, features: Int)
    /// ATLAS Top Tagging Open Data: `fjet_clus_pt|eta|phi|E` (N, 200) in MeV, `labels`, `training_weights`.
    case atlasTopTagging(constituents: Int)

    /// The layout in words, for `data describe` and messages.
    public var description: String {
        switch self {
        case let .genlab(m): return "GenLab jet constituents (/constituents), \(m) a jet"
        case let .topTagging(format, m, labelled):
            return "Top Quark Tagging Reference Dataset, pandas \(format.rawValue) format, \(m) constituents (E, px, "
                + "py, pz)" + (labelled ? ", labels from is_signal_new" : ", no labels")
        case let .lhcOlympics(format, p, labelled):
            return "LHC Olympics 2020 \(labelled ? "R&D" : "black-box") events, pandas \(format.rawValue) format, "
                + "\(p) particles (pT, η, φ) an event" + (labelled ? ", labels in the last column" : ", no labels")
                + "; jets are clustered (anti-kT, R = 1.0)"
        case let .jetNet(p, f):
            return "JetNet particle features, \(p) particles × \(f) (η_rel, φ_rel, pT_rel, mask)"
                + ", jet_features when present"
        case let .atlasTopTagging(m):
            return "ATLAS Top Tagging Open Data, \(m) constituents (pT, η, φ, E in MeV → GeV), labels and "
                + "training_weights when present"
        }
    }

    /// Whether this is GenLab's own `/constituents` layout.
    public var isGenLab: Bool { if case .genlab = self { return true } else { return false } }

    /// Whether each row is a whole event whose jets are clustered here.
    public var isWholeEvents: Bool { if case .lhcOlympics = self { return true } else { return false } }

    /// The layout of an HDF5 file, by its structure; nil when it holds none of these (images, or
    /// other data).
    public static func detect(_ file: HDF5File) throws -> EventLayout? {
        let entries = try file.entries()
        func entry(_ path: String) -> HDF5File.Entry? { entries.first { $0.path == path && !$0.isGroup } }
        if let c = entry("/constituents") {
            guard c.shape.count == 3, c.shape[2] == 3 else {
                throw FormatError(file.path, "/constituents has shape \(c.shape), expected (N, M, 3) of (pT, η, φ)")
            }
            return .genlab(constituents: c.shape[1])
        }
        if let p = entry("/particle_features"), p.shape.count == 3, (3...4).contains(p.shape[2]) {
            return .jetNet(particles: p.shape[1], features: p.shape[2])
        }
        if let pt = entry("/fjet_clus_pt"), pt.shape.count == 2,
            ["/fjet_clus_eta", "/fjet_clus_phi"].allSatisfy({ entry($0)?.shape == pt.shape })
        {
            return .atlasTopTagging(constituents: pt.shape[1])
        }
        for key in ["table", "df"] where PandasFrame.isFrame(file, key: key) {
            let frame = try PandasFrame(file, key: key)
            let m = (0..<10_000).prefix { i in ["E", "PX", "PY", "PZ"].allSatisfy { frame.contains("\($0)_\(i)") } }
                .count
            if m > 0 {
                return .topTagging(format: frame.format, constituents: m, labelled: frame.contains("is_signal_new"))
            }
            let numeric = frame.columns.allSatisfy { Int($0) != nil }
            if numeric, frame.columns.count >= 3 {
                let w = frame.columns.count
                if w % 3 == 1 { return .lhcOlympics(format: frame.format, particles: w / 3, labelled: true) }
                if w % 3 == 0 { return .lhcOlympics(format: frame.format, particles: w / 3, labelled: false) }
            }
        }
        return nil
    }
}

/// One read of an event file: a jet (or, for whole events, the particles of an event) a row.
public struct EventBatch {
    public typealias Particle = (pt: Double, eta: Double, phi: Double)
    /// Each row's particles (zero-pT padding and masked entries left out).
    public var particles: [[Particle]]
    /// The jet axis where the file stores one (else nil: the leading constituent's direction).
    public var axis: [(eta: Double, phi: Double)?]
    /// The jet's mass in GeV where the file stores it or the constituents give it exactly.
    public var mass: [Double?]
    public var labels: [Int?]
    /// Per-event weights where the file has them.
    public var weights: [Double]?
}

/// An event file in one of the layouts above.
public struct EventFile {
    public let path: String
    public let file: HDF5File
    public let layout: EventLayout
    public let count: Int
    let frame: PandasFrame?

    /// Opens `path`; nil when it is HDF5 but holds no event layout (images, say).
    public init?(_ path: String) throws {
        guard try FileKind.detect(path) == .hdf5 else { return nil }
        let file = try HDF5File(path)
        guard let layout = try EventLayout.detect(file) else { return nil }
        try self.init(file, layout: layout)
    }

    public init(_ file: HDF5File, layout: EventLayout) throws {
        self.file = file
        self.path = file.path
        self.layout = layout
        switch layout {
        case .topTagging: frame = try PandasFrame(file, key: "table")
        case .lhcOlympics: frame = try PandasFrame(file, key: "df")
        default: frame = nil
        }
        let main: String
        switch layout {
        case .genlab: main = "/constituents"
        case .jetNet: main = "/particle_features"
        case .atlasTopTagging: main = "/fjet_clus_pt"
        case .topTagging, .lhcOlympics: main = ""
        }
        count = try frame?.rows ?? file.shape(main)[0]
        if !main.isEmpty { try file.requireStored(main) }
        if case .atlasTopTagging = layout, file.contains("/fjet_clus_E") {
            let s = try file.shape("/fjet_clus_E"), pt = try file.shape("/fjet_clus_pt")
            guard s == pt else {
                throw FormatError(path, "/fjet_clus_E has shape \(s), /fjet_clus_pt \(pt): they must agree")
            }
        }
        try frame?.requireStored()
        try EventFile.requireRowPerEvent(
            file, count: count,
            [
                ("/labels", 0), ("/jets", 4), ("/jet_features", 3), ("/training_weights", 0), ("/weights", 0),
                ("/fjet_m", 0),
            ])
    }

    /// Refuses per-event datasets whose shape is not one row an event: `columns` 0 for one value an
    /// event ((N) or (N, 1)), else (N, ≥ columns). Datasets the file lacks are skipped.
    public static func requireRowPerEvent(_ file: HDF5File, count: Int, _ datasets: [(String, Int)]) throws {
        for (name, columns) in datasets where file.contains(name) {
            let s = try file.shape(name)
            let ok = columns == 0 ? (s.count == 1 || (s.count == 2 && s[1] == 1)) : (s.count == 2 && s[1] >= columns)
            guard ok, s[0] == count else {
                throw FormatError(
                    file.path,
                    "\(name) has shape \(s), expected (\(count)\(columns == 0 ? "" : ", \(columns)")), one row an event"
                )
            }
        }
    }

    /// Whether events carry labels.
    public var hasLabels: Bool {
        switch layout {
        case let .topTagging(_, _, labelled), let .lhcOlympics(_, _, labelled): return labelled
        default: return file.contains("/labels")
        }
    }

    /// Whether events carry per-event weights.
    public var hasWeights: Bool { file.contains("/training_weights") || file.contains("/weights") }

    // Long: one branch per layout, each turning its columns into (pT, η, φ) rows.
    public func read(_ start: Int, _ n: Int) throws -> EventBatch {
        var batch = EventBatch(
            particles: [], axis: Array(repeating: nil, count: n), mass: Array(repeating: nil, count: n),
            labels: Array(repeating: nil, count: n), weights: nil)
        switch layout {
        case .genlab:
            let c = try file.readRows("/constituents", start, n)
            let m = c.shape[1], p = c.storage.pointer
            batch.particles = (0..<n).map { i in
                (0..<m).map { k in
                    let r = p + (i * m + k) * 3
                    return (Double(r[0]), Double(r[1]), Double(r[2]))
                }.filter { $0.pt > 0 }
            }
            if file.contains("/jets") {
                let j = try file.readRows("/jets", start, n), w = j.shape[1], q = j.storage.pointer
                for i in 0..<n {
                    batch.axis[i] = (Double(q[i * w + 1]), Double(q[i * w + 2]))
                    batch.mass[i] = Double(q[i * w + 3])
                }
            } else {
                // No stored jets: the constituents' (massless) sum gives the jet's mass.
                for i in 0..<n where !batch.particles[i].isEmpty {
                    let sum = batch.particles[i].reduce(FourVector(px: 0, py: 0, pz: 0, e: 0)) {
                        $0 + FourVector(pt: $1.pt, eta: $1.eta, phi: $1.phi)
                    }
                    batch.mass[i] = sum.mass
                }
            }
        case let .topTagging(_, m, _):
            let names = (0..<m).flatMap { i in ["E_\(i)", "PX_\(i)", "PY_\(i)", "PZ_\(i)"] }
            let v = try frame!.read(names, start, n), p = v.storage.pointer
            for i in 0..<n {
                var sum = FourVector(px: 0, py: 0, pz: 0, e: 0)
                var row: [EventBatch.Particle] = []
                for k in 0..<m {
                    let r = p + i * 4 * m + 4 * k
                    let four = FourVector(px: Double(r[1]), py: Double(r[2]), pz: Double(r[3]), e: Double(r[0]))
                    guard four.e > 0, four.pt > 0 else { continue }
                    sum = sum + four
                    row.append((four.pt, four.eta, four.phi))
                }
                batch.particles.append(row)
                if !row.isEmpty { batch.axis[i] = (sum.eta, sum.phi); batch.mass[i] = sum.mass }
            }
            if frame!.contains("is_signal_new") {
                batch.labels = try EventLabels.validated(
                    frame!.read(["is_signal_new"], start, n).scalars, file: path, dataset: "is_signal_new",
                    firstIndex: start)
            }
        case let .lhcOlympics(_, particles, labelled):
            let names = frame!.columns
            let v = try frame!.read(names, start, n), p = v.storage.pointer, w = names.count
            batch.particles = (0..<n).map { i in
                (0..<particles).map { k in
                    let r = p + i * w + 3 * k
                    return (Double(r[0]), Double(r[1]), Double(r[2]))
                }.filter { $0.pt > 0 }
            }
            if labelled {
                batch.labels = try EventLabels.validated(
                    (0..<n).map { p[$0 * w + w - 1] }, file: path, dataset: "the label column", firstIndex: start)
            }
        case let .jetNet(m, f):
            let c = try file.readRows("/particle_features", start, n), p = c.storage.pointer
            // pT_rel as pT (a jet image is normalised to unit sum anyway); mass from jet_features.
            batch.particles = (0..<n).map { i in
                (0..<m).compactMap { k -> EventBatch.Particle? in
                    let r = p + (i * m + k) * f
                    if f == 4 && r[3] <= 0 { return nil }
                    return r[2] > 0 ? (Double(r[2]), Double(r[0]), Double(r[1])) : nil
                }
            }
            batch.axis = Array(repeating: (0, 0), count: n)
            if file.contains("/jet_features") {
                let j = try file.readRows("/jet_features", start, n), w = j.shape[1], q = j.storage.pointer
                for i in 0..<n { batch.mass[i] = Double(q[i * w + 2]) }
            }
        case let .atlasTopTagging(m):
            // MeV → GeV.
            let pt = try file.readRows("/fjet_clus_pt", start, n), eta = try file.readRows("/fjet_clus_eta", start, n)
            let phi = try file.readRows("/fjet_clus_phi", start, n)
            let energy = file.contains("/fjet_clus_E") ? try file.readRows("/fjet_clus_E", start, n) : nil
            let a = pt.storage.pointer, b = eta.storage.pointer, c = phi.storage.pointer
            for i in 0..<n {
                var sum = FourVector(px: 0, py: 0, pz: 0, e: 0)
                var row: [EventBatch.Particle] = []
                for k in 0..<m where a[i * m + k] > 0 {
                    let x = (Double(a[i * m + k]) / 1000, Double(b[i * m + k]), Double(c[i * m + k]))
                    row.append(x)
                    var four = FourVector(pt: x.0, eta: x.1, phi: x.2)
                    if let energy, Double(energy.storage.pointer[i * m + k]) / 1000 >= four.e {
                        four.e = Double(energy.storage.pointer[i * m + k]) / 1000
                    }
                    sum = sum + four
                }
                batch.particles.append(row)
                if !row.isEmpty { batch.axis[i] = (sum.eta, sum.phi); batch.mass[i] = sum.mass }
            }
        }
        switch layout {
        case .genlab, .jetNet, .atlasTopTagging:
            if file.contains("/labels") {
                batch.labels = try EventLabels.validated(
                    file.readRows("/labels", start, n).scalars, file: path, firstIndex: start)
            }
        case .topTagging, .lhcOlympics: break
        }
        for name in ["/training_weights", "/weights"] where file.contains(name) {
            let w = try file.readRows(name, start, n).scalars.map(Double.init)
            if let bad = w.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
                throw FormatError(path, "\(name)[\(start + bad)] is \(w[bad]): weights must be finite and non-negative")
            }
            batch.weights = w
            break
        }
        return batch
    }
}
