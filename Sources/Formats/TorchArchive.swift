import Engine
import Foundation

/// A PyTorch zip archive — what `torch.save` writes and what `torch.jit.save` writes for a
/// TorchScript module (`<name>/data.pkl` beside `<name>/data/<key>` storages and, for TorchScript,
/// `<name>/code/`). The pickle is read as data (`Unpickler`); the code is never read or run: a
/// caller that knows the architecture takes the weights and attributes by their key paths.
public struct TorchArchive {
    public let file: String
    /// The pickled object: a module tree for TorchScript, usually a dict for `torch.save`.
    public let root: PickleValue
    let zip: ZipArchive
    let prefix: String

    public static func read(_ path: String, limits: InputLimits = .current) throws -> TorchArchive {
        try TorchArchive(InputFile.contents(path), file: path, limits: limits)
    }

    public init(_ data: Data, file: String, limits: InputLimits = .current) throws {
        self.file = file
        zip = try ZipArchive(data, file: file)
        guard
            let pkl = zip.members.first(where: {
                $0.name.hasSuffix("/data.pkl") && $0.name.split(separator: "/").count == 2
            })
        else { throw FormatError(file, "no <name>/data.pkl member: not a PyTorch (torch.save / TorchScript) archive") }
        prefix = String(pkl.name.dropLast("data.pkl".count))
        root = try Unpickler(try zip.contents(pkl, limits: limits), file: file + ":" + pkl.name).load()
    }

    /// Every tensor and every integer (or list of integers) reachable from the root through module
    /// attributes and string-keyed dicts, by dotted key path as `state_dict` names them
    /// ("layers.conv.weight"); `training` flags and other values are left out.
    public func entries(limits: InputLimits = .current) throws -> (tensors: [String: Tensor], integers: [String: [Int]])
    {
        var tensors: [String: Tensor] = [:], integers: [String: [Int]] = [:]
        var storages: [String: [Float]] = [:]
        try walk { v, path in
            switch v {
            case .tensor(let t):
                tensors[path] = try tensor(t, key: path, storages: &storages, limits: limits)
            case .int(let i):
                integers[path] = [i]
            case .list(let l):
                let ints = l.items.compactMap { if case .int(let i) = $0 { i } else { nil } }
                if ints.count == l.items.count, !ints.isEmpty { integers[path] = ints }
            default: break
            }
        }
        return (tensors, integers)
    }

    /// The class of every object reachable from the root, by dotted key path ("" for the root):
    /// e.g. "__torch__.torch.nn.modules.pooling.MaxPool2d", for layers whose settings are constants of
    /// their class rather than attributes.
    public func objectTypes() -> [String: String] {
        var out: [String: String] = [:]
        walk { v, path in if case .object(let o) = v { out[path] = o.type } }
        return out
    }

    /// Every value reachable from the root through objects' states and string-keyed dicts, with its
    /// dotted key path, as `state_dict` names it.
    func walk(
        _ v: PickleValue? = nil, _ path: String = "", _ body: (PickleValue, String) throws -> Void
    ) rethrows {
        let v = v ?? root
        try body(v, path)
        switch v {
        case .object(let o):
            if let state = o.state { try walk(state, path, body) }
        case .dict(let d):
            for (k, value) in d.pairs {
                if case .string(let key) = k { try walk(value, path.isEmpty ? key : path + "." + key, body) }
            }
        default: break
        }
    }

    /// A pickled tensor's values, contiguous, as Float; its view checked against its storage.
    func tensor(
        _ t: PickledTensor, key: String, storages: inout [String: [Float]], limits: InputLimits
    ) throws
        -> Tensor
    {
        guard t.size.count == t.stride.count, t.size.count <= 8 else {
            throw FormatError(file, "tensor \(key): \(t.size.count)-d size with \(t.stride.count) strides")
        }
        let count = try limits.elements(t.size, file: file, what: "tensor \(key)")
        if storages[t.storageKey] == nil {
            let name = prefix + "data/" + t.storageKey
            guard let m = zip.member(name) else { throw FormatError(file, "tensor \(key): storage \(name) is missing") }
            let width: Int
            switch t.storageType {
            case "Float": width = 4
            case "Double": width = 8
            case "Half", "BFloat16": width = 2
            default:
                throw FormatError(file, "tensor \(key): \(t.storageType) storage (GenLab reads float weights)")
            }
            _ = try limits.elements([t.storageCount], elementBytes: width, file: file, what: "storage \(name)")
            let bytes = try zip.contents(m, limits: limits)
            guard bytes.count >= t.storageCount * width else {
                throw FormatError(
                    file, "storage \(name): \(bytes.count) bytes for \(t.storageCount) \(t.storageType) values")
            }
            var values = [Float](repeating: 0, count: t.storageCount)
            bytes.withUnsafeBytes { raw in
                for i in 0..<t.storageCount {
                    switch t.storageType {
                    case "Float":
                        values[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                    case "Double":
                        values[i] = Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
                    case "Half":
                        values[i] = Float(
                            Float16(bitPattern: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    default:  // bfloat16: the top half of a float
                        values[i] = Float(
                            bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
                    }
                }
            }
            storages[t.storageKey] = values
        }
        let values = storages[t.storageKey]!
        // The furthest element the view reaches must lie in the storage.
        var last = t.offset
        for (n, s) in Swift.zip(t.size, t.stride) where n > 0 { last += (n - 1) * s }
        guard t.offset >= 0, count == 0 || last < values.count else {
            throw FormatError(
                file,
                "tensor \(key): view of shape \(t.size) at offset \(t.offset) runs past its storage of \(values.count)")
        }
        let out = Tensor(uninitialized: t.size)
        let p = out.storage.pointer
        var index = [Int](repeating: 0, count: t.size.count)
        for i in 0..<count {
            var at = t.offset
            for d in 0..<index.count { at += index[d] * t.stride[d] }
            p[i] = values[at]
            var d = index.count - 1
            while d >= 0 { index[d] += 1; if index[d] < t.size[d] { break }; index[d] = 0; d -= 1 }
        }
        return out
    }
}
