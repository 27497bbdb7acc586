import Engine
import Foundation

/// `genlab data describe`: what a file or folder holds, as text for people.
public enum Describe {
    // Long: one describer per file kind, each a few lines.
    public static func report(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FormatError(path, "no such file or folder")
        }
        if isDirectory.boolValue {
            // Every image file, whatever its size: what a training run would see before resizing.
            // Each file is decoded once; its pixels feed the statistics.
            var sizes: [String: Int] = [:], unreadable: [String] = [], values: [Float] = []
            let names = ImageFolder.scan(path).files
            let files = names.count
            guard files > 0 else { throw FormatError(path, "folder holds no PNG or JPEG files") }
            var first: Image?
            for f in names {
                do {
                    let im = try Image.read(path + "/" + f)
                    sizes["\(im.width)×\(im.height)×\(im.channels)", default: 0] += 1
                    values += im.pixels
                    if first == nil { first = im }
                } catch { unreadable.append("\(error)") }
            }
            if sizes.count > 1 || !unreadable.isEmpty {
                var lines = ["\(path): image folder, \(files) image files, \(files - unreadable.count) readable"]
                lines.append(
                    "  sizes (w×h×channels): "
                        + sizes.sorted { $0.value > $1.value }.map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
                )
                if !unreadable.isEmpty {
                    lines.append("  unreadable \(unreadable.count): " + unreadable.prefix(3).joined(separator: "; "))
                }
                lines.append("  mixed sizes: train with --image-size N to centre-crop and resize them")
                return lines.joined(separator: "\n")
            }
            let im = first!
            return "\(path): image folder, \(files) images read, \(im.width)×\(im.height), \(im.channels) channel(s)\n"
                + "  values " + statistics(Tensor(shape: [values.count], data: values))
        }
        let kind = try FileKind.detect(path)
        switch kind {
        case .png, .jpeg:
            let im = try Image.read(path)
            return
                "\(path): \(kind.rawValue.uppercased()) \(im.width)×\(im.height), \(im.channels) channel(s), "
                + "\(im.bitDepth)-bit\n"
                + "  values " + statistics(Tensor(shape: [im.pixels.count], data: im.pixels))
        case .npy:
            let t = try NPY.read(path)
            return "\(path): .npy array \(t.shape)\n  values " + statistics(t)
        case .idx:
            let t = try IDX.read(path)
            return "\(path): IDX array \(t.shape)\n  values " + statistics(t)
        case .npz:
            let arrays = try NPZ.read(path)
            return
                (["\(path): .npz archive, \(arrays.count) arrays"]
                + arrays.keys.sorted().map { "  \($0): \(arrays[$0]!.shape)  " + statistics(arrays[$0]!) })
                .joined(separator: "\n")
        case .safetensors:
            let f = try SafeTensors.read(path)
            var lines = ["\(path): safetensors, \(f.tensors.count) tensors"]
            for (k, v) in f.metadata.sorted(by: { $0.key < $1.key }) {
                lines.append("  metadata \(k) = \(v.prefix(120))")
            }
            for k in f.tensors.keys.sorted() {
                lines.append("  \(k): \(f.dtypes[k]!) \(f.tensors[k]!.shape)  " + statistics(f.tensors[k]!))
            }
            return lines.joined(separator: "\n")
        case .hdf5:
            let file = try HDF5File(path)
            var lines = ["\(path): HDF5"]
            for (k, v) in try file.attributes().sorted(by: { $0.key < $1.key }) {
                lines.append("  @\(k) = \(shown(v, 160))")
            }
            for e in try file.entries() {
                if e.isGroup { lines.append("  \(e.path)/  (group)"); continue }
                var line = "  \(e.path): \(e.dtype)\(e.elementBytes * 8) \(e.shape)"
                if e.dtype == "float" || e.dtype == "int" || e.dtype == "uint" {
                    // Statistics over at most the first 20 000 rows, read as a slab.
                    let rows = Swift.min(e.shape.first ?? 1, 20_000)
                    if let t = try? (e.shape.isEmpty ? file.read(e.path) : file.readRows(e.path, 0, rows)) {
                        line += "  " + statistics(t) + (rows < (e.shape.first ?? 0) ? " (first \(rows) rows)" : "")
                    }
                }
                lines.append(line)
                for (k, v) in (try? file.attributes(of: e.path))?.sorted(by: { $0.key < $1.key }) ?? [] {
                    lines.append("    @\(k) = \(shown(v, 120))")
                }
            }
            return lines.joined(separator: "\n")
        default:
            throw FormatError(
                path,
                kind.advice
                    ?? "unrecognised file type (GenLab reads PNG, JPEG, .npy, IDX, HDF5, safetensors and image folders)"
            )
        }
    }

    /// An attribute's value on one line: newlines shown as ⏎, long values cut (pandas' pickled
    /// attributes run to thousands of characters).
    static func shown(_ value: String, _ limit: Int) -> String {
        let line = value.replacingOccurrences(of: "\n", with: "⏎")
        return line.count > limit ? line.prefix(limit) + "… (\(value.utf8.count) bytes)" : line
    }

    /// min / mean / max / std and the NaN and Inf counts.
    public static func statistics(_ t: Tensor) -> String {
        var lo = Float.infinity, hi = -Float.infinity, sum = 0.0, sq = 0.0, nan = 0, inf = 0, n = 0
        for v in t.storage.buffer {
            if v.isNaN { nan += 1; continue }
            if v.isInfinite { inf += 1; continue }
            lo = Swift.min(lo, v); hi = Swift.max(hi, v); sum += Double(v); sq += Double(v) * Double(v); n += 1
        }
        guard n > 0 else { return "no finite values (NaN \(nan), Inf \(inf))" }
        let mean = sum / Double(n), sd = Swift.max(sq / Double(n) - mean * mean, 0).squareRoot()
        return String(format: "min %.4g  mean %.4g  max %.4g  std %.4g  NaN %d  Inf %d", lo, mean, hi, sd, nan, inf)
    }
}
