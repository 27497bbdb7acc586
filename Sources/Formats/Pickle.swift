import Foundation

/// A value read from a Python pickle by `Unpickler`. Containers are shared references, as in Python
/// (a memoised list that is appended to later is the same list wherever it was referenced).
public indirect enum PickleValue: CustomStringConvertible {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list(PickleList)
    case tuple([PickleValue])
    case dict(PickleDict)
    /// A module-level name (`GLOBAL`): "module.name". Never imported, never called.
    case global(String)
    /// An instance of a class (`NEWOBJ` + `BUILD`): its class name and the state it was built with.
    case object(PickleObject)
    /// What `persistent_load` is given (`BINPERSID`): PyTorch's storage references.
    case persistent([PickleValue])
    /// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)`.
    case tensor(PickledTensor)

    public var description: String {
        switch self {
        case .none: "None"
        case .bool(let b): b ? "True" : "False"
        case .int(let i): "\(i)"
        case .float(let d): "\(d)"
        case .string(let s): "'\(s)'"
        case .bytes(let b): "bytes(\(b.count))"
        case .list(let l): "list(\(l.items.count))"
        case .tuple(let t): "tuple(\(t.count))"
        case .dict(let d): "dict(\(d.pairs.count))"
        case .global(let g): g
        case .object(let o): "\(o.type) object"
        case .persistent: "persistent id"
        case .tensor(let t): "tensor \(t.size)"
        }
    }

    /// Nesting depth (1 for a scalar), so that a crafted pickle cannot nest deeper than readers recurse.
    var depth: Int {
        switch self {
        case .list(let l): l.depth
        case .dict(let d): d.depth
        case .object(let o): o.depth
        case .tuple(let t): 1 + (t.map(\.depth).max() ?? 0)
        case .persistent(let t): 1 + (t.map(\.depth).max() ?? 0)
        default: 1
        }
    }
}

public final class PickleList {
    public internal(set) var items: [PickleValue] = []
    var depth = 1
}

public final class PickleDict {
    public internal(set) var pairs: [(key: PickleValue, value: PickleValue)] = []
    var depth = 1
    /// The value under a string key.
    public subscript(key: String) -> PickleValue? {
        pairs.last { if case .string(let s) = $0.key { return s == key } else { return false } }?.value
    }
}

public final class PickleObject {
    public let type: String
    public internal(set) var state: PickleValue?
    var depth = 1
    init(type: String) { self.type = type }
}

/// A tensor as PyTorch pickles it: where its storage is and how it is viewed.
public struct PickledTensor {
    /// The storage's record name in the archive (`data/<key>`), its element type ("Float", "Double",
    /// "Half", "Long", …) and length in elements.
    public let storageKey: String, storageType: String, storageCount: Int
    public let offset: Int, size: [Int], stride: [Int]
}

/// Reads a Python pickle (protocols 0–5) as data, the way `torch.load(weights_only=True)` does: the
/// only callables it accepts are the few PyTorch uses to rebuild tensors and containers, recognised by
/// name and never run; any other `REDUCE` target is refused with its name. Sizes and nesting are bounded.
public struct Unpickler {
    public static let maxDepth = 200
    let bytes: [UInt8]
    let file: String

    public init(_ data: Data, file: String) {
        self.bytes = [UInt8](data)
        self.file = file
    }

    /// The pickled object.
    // Long: one switch over the opcodes, each a few lines, as Python's own pickle.py has it.
    public func load() throws -> PickleValue {
        var stack: [PickleValue] = []
        var marks: [Int] = []
        var memo: [Int: PickleValue] = [:]
        var at = 0
        let b = bytes
        func fail(_ why: String) -> FormatError { FormatError(file, "pickle offset \(at): \(why)") }
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, at + n <= b.count else { throw fail("truncated") }
            defer { at += n }
            return b[at..<(at + n)]
        }
        func uint(_ n: Int) throws -> Int {
            let s = try take(n)
            var v = 0
            for (i, byte) in s.enumerated() { v |= Int(byte) << (8 * i) }
            return v
        }
        func line() throws -> String {
            guard let end = b[at...].firstIndex(of: 0x0A) else { throw fail("truncated text line") }
            defer { at = end + 1 }
            return String(decoding: b[at..<end], as: UTF8.self)
        }
        func pop() throws -> PickleValue {
            guard let v = stack.popLast() else { throw fail("stack underflow") }
            return v
        }
        func popMark() throws -> [PickleValue] {
            guard let m = marks.popLast(), m <= stack.count else { throw fail("no MARK") }
            defer { stack.removeSubrange(m...) }
            return Array(stack[m...])
        }
        func push(_ v: PickleValue) throws {
            guard v.depth <= Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth)") }
            stack.append(v)
        }
        func text(_ s: ArraySlice<UInt8>) throws -> String {
            guard let t = String(bytes: s, encoding: .utf8) else { throw fail("string is not UTF-8") }
            return t
        }
        func append(_ items: [PickleValue], to target: PickleValue) throws {
            guard case .list(let l) = target else { throw fail("APPEND to \(target), not a list") }
            l.items += items
            l.depth = max(l.depth, 1 + (items.map(\.depth).max() ?? 0))
            guard l.depth <= Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth)") }
        }
        func setItems(_ items: [PickleValue], in target: PickleValue) throws {
            guard case .dict(let d) = target, items.count % 2 == 0 else { throw fail("SETITEM(S) outside a dict") }
            for i in stride(from: 0, to: items.count, by: 2) { d.pairs.append((items[i], items[i + 1])) }
            d.depth = max(d.depth, 1 + (items.map(\.depth).max() ?? 0))
            guard d.depth <= Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth)") }
        }
        while true {
            let op = try uint(1)
            switch op {
            case 0x80: _ = try uint(1)  // PROTO
            case 0x95: _ = try uint(8)  // FRAME
            case 0x2E:  // STOP
                guard let top = stack.last else { throw fail("STOP on an empty stack") }
                return top
            case 0x28: marks.append(stack.count)  // MARK
            case 0x30: _ = try pop()  // POP
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x32: guard let top = stack.last else { throw fail("DUP on an empty stack") }; stack.append(top)
            case 0x4E: try push(.none)
            case 0x88: try push(.bool(true))
            case 0x89: try push(.bool(false))
            case 0x4A: try push(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))  // BININT
            case 0x4B: try push(.int(try uint(1)))  // BININT1
            case 0x4D: try push(.int(try uint(2)))  // BININT2
            case 0x8A:  // LONG1
                let n = try uint(1)
                guard n <= 8 else { throw fail("integer of \(n) bytes is too large") }
                let s = try take(n)
                var v: UInt64 = 0
                for (i, byte) in s.enumerated() { v |= UInt64(byte) << (8 * UInt64(i)) }
                if n > 0, n < 8, s.last! & 0x80 != 0 { v |= ~0 << (8 * UInt64(n)) }  // sign-extend
                try push(.int(Int(Int64(bitPattern: v))))
            case 0x49:  // INT (protocol 0)
                let t = try line()
                if t == "01" {
                    try push(.bool(true))
                } else if t == "00" {
                    try push(.bool(false))
                } else {
                    guard let v = Int(t) else { throw fail("bad INT '\(t)'") }
                    try push(.int(v))
                }
            case 0x47: try push(.float(Double(bitPattern: UInt64(bigEndian: UInt64(truncatingIfNeeded: try uint(8))))))
            case 0x58: try push(.string(try text(try take(try uint(4)))))  // BINUNICODE
            case 0x8C: try push(.string(try text(try take(try uint(1)))))  // SHORT_BINUNICODE
            case 0x8D: try push(.string(try text(try take(try uint(8)))))  // BINUNICODE8
            case 0x56: try push(.string(try line()))  // UNICODE (protocol 0, raw-unicode-escape: ASCII here)
            case 0x43: try push(.bytes(Array(try take(try uint(1)))))  // SHORT_BINBYTES
            case 0x42: try push(.bytes(Array(try take(try uint(4)))))  // BINBYTES
            case 0x8E: try push(.bytes(Array(try take(try uint(8)))))  // BINBYTES8
            case 0x29: try push(.tuple([]))
            case 0x85: try push(.tuple([try pop()]))
            case 0x86: let y = try pop(), x = try pop(); try push(.tuple([x, y]))
            case 0x87: let z = try pop(), y = try pop(), x = try pop(); try push(.tuple([x, y, z]))
            case 0x74: try push(.tuple(try popMark()))  // TUPLE
            case 0x5D: try push(.list(PickleList()))  // EMPTY_LIST
            case 0x6C: let l = PickleList(); try append(try popMark(), to: .list(l)); try push(.list(l))  // LIST
            case 0x7D: try push(.dict(PickleDict()))  // EMPTY_DICT
            case 0x64: let d = PickleDict(); try setItems(try popMark(), in: .dict(d)); try push(.dict(d))  // DICT
            case 0x61: let v = try pop(); guard let l = stack.last else { throw fail("APPEND") }; try append([v], to: l)
            case 0x65:
                let items = try popMark(); guard let l = stack.last else { throw fail("APPENDS") }
                try append(items, to: l)
            case 0x73:
                let v = try pop(), k = try pop()  // SETITEM
                guard let d = stack.last else { throw fail("SETITEM") }
                try setItems([k, v], in: d)
            case 0x75:
                let items = try popMark(); guard let d = stack.last else { throw fail("SETITEMS") }
                try setItems(items, in: d)
            case 0x71: guard let top = stack.last else { throw fail("BINPUT") }; memo[try uint(1)] = top
            case 0x72: guard let top = stack.last else { throw fail("LONG_BINPUT") }; memo[try uint(4)] = top
            case 0x94: guard let top = stack.last else { throw fail("MEMOIZE") }; memo[memo.count] = top
            case 0x70:  // PUT (protocol 0)
                guard let top = stack.last, let k = Int(try line()) else { throw fail("PUT") }
                memo[k] = top
            case 0x68, 0x6A, 0x67:  // BINGET, LONG_BINGET, GET
                let k = op == 0x68 ? try uint(1) : op == 0x6A ? try uint(4) : (Int(try line()) ?? -1)
                guard let v = memo[k] else { throw fail("memo key \(k) was never stored") }
                try push(v)
            case 0x63:  // GLOBAL
                let module = try line(), name = try line()
                try push(.global(module + "." + name))
            case 0x93:  // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                try push(.global(module + "." + name))
            case 0x51: try push(.persistent(try tupleItems(try pop(), fail)))  // BINPERSID
            case 0x81, 0x92:  // NEWOBJ, NEWOBJ_EX
                if op == 0x92 { _ = try pop() }
                _ = try pop()
                guard case .global(let type) = try pop() else { throw fail("NEWOBJ of something not a class") }
                try push(.object(PickleObject(type: type)))
            case 0x62:  // BUILD
                let state = try pop()
                guard let target = stack.last else { throw fail("BUILD on an empty stack") }
                guard case .object(let o) = target else { throw fail("BUILD of \(target), not an object") }
                o.state = state
                o.depth = 1 + state.depth
                guard o.depth <= Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth)") }
            case 0x52:  // REDUCE
                let args = try tupleItems(try pop(), fail)
                guard case .global(let callable) = try pop() else { throw fail("REDUCE of something not a name") }
                try push(try reduce(callable, args, fail))
            default:
                throw fail(String(format: "unsupported opcode 0x%02x (GenLab reads data, never code)", op))
            }
        }
    }

    private func tupleItems(_ v: PickleValue, _ fail: (String) -> FormatError) throws -> [PickleValue] {
        guard case .tuple(let t) = v else { throw fail("expected a tuple, found \(v)") }
        return t
    }

    /// The callables a PyTorch file may name, read as data.
    private func reduce(
        _ callable: String, _ args: [PickleValue], _ fail: (String) -> FormatError
    ) throws
        -> PickleValue
    {
        switch callable {
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
            guard args.count >= 4, case .persistent(let pid) = args[0], case .int(let offset) = args[1],
                case .tuple(let size) = args[2], case .tuple(let stride) = args[3]
            else { throw fail("\(callable) with unexpected arguments") }
            // ('storage', <type>, key, location, count)
            guard pid.count == 5, case .string("storage") = pid[0], case .global(let type) = pid[1],
                case .string(let key) = pid[2], case .int(let count) = pid[4]
            else { throw fail("a tensor whose storage reference is not ('storage', type, key, device, count)") }
            func ints(_ values: [PickleValue]) throws -> [Int] {
                try values.map { v -> Int in
                    guard case .int(let i) = v, i >= 0 else { throw fail("\(callable): size or stride \(v)") }
                    return i
                }
            }
            let typeName = type.split(separator: ".").last.map(String.init) ?? type
            return .tensor(
                PickledTensor(
                    storageKey: key, storageType: typeName.replacingOccurrences(of: "Storage", with: ""),
                    storageCount: count, offset: offset, size: try ints(size), stride: try ints(stride)))
        case "collections.OrderedDict", "builtins.dict":
            guard args.isEmpty else { throw fail("\(callable) with arguments") }
            return .dict(PickleDict())
        case "torch.jit._pickle.build_intlist", "torch.jit._pickle.build_doublelist",
            "torch.jit._pickle.build_boollist", "torch.jit._pickle.build_genericlist",
            "torch.jit._pickle.build_tensorlist", "torch.jit._pickle.restore_type_tag":
            guard let first = args.first else { throw fail("\(callable) without arguments") }
            return first
        default:
            throw fail(
                "it calls \(callable), which GenLab does not run (only PyTorch's tensor and container rebuilders)")
        }
    }
}
