import Engine
import Formats
import Foundation
import Models
import NN

/// An ONNX graph (opset 17) under construction, with the static shape of every value (the batch
/// axis symbolic), written as a ModelProto. Layers are turned into nodes by `emit`; weights
/// become initializers named by their state-dict key paths, so Netron shows GenLab's names.
public final class ONNXGraph {
    public static let opset = 17
    /// A value's shape; `batch` marks the symbolic batch axis.
    public typealias Shape = [Int]
    public static let batch = -1

    enum Attribute {
        case int(String, Int), float(String, Float), ints(String, [Int])
    }

    struct Node {
        var op: String; var inputs: [String]; var outputs: [String]; var name: String; var attributes: [Attribute]
    }
    struct Initializer { var name: String; var dims: [Int]; var floats: [Float]?; var ints: [Int]? }

    private(set) var nodes: [Node] = []
    private(set) var initializers: [Initializer] = []
    private(set) var inputs: [(String, Shape)] = []
    private(set) var outputs: [(String, Shape)] = []
    private(set) var shapes: [String: Shape] = [:]
    private var used: Set<String> = []

    public init() {}

    func fresh(_ base: String) -> String {
        var name = base, k = 1
        while used.contains(name) { k += 1; name = "\(base)_\(k)" }
        used.insert(name)
        return name
    }

    /// A graph input of `shape` (batch axis symbolic).
    public func input(_ name: String, _ shape: Shape) -> String {
        let n = fresh(name)
        inputs.append((n, shape)); shapes[n] = shape
        return n
    }

    public func output(_ value: String, as name: String) {
        // Outputs get their public name through an Identity node.
        let n = fresh(name)
        nodes.append(Node(op: "Identity", inputs: [value], outputs: [n], name: "output_" + n, attributes: []))
        shapes[n] = shapes[value]
        outputs.append((n, shapes[value] ?? []))
    }

    func constant(_ name: String, _ t: Tensor) -> String {
        let n = fresh(name)
        initializers.append(Initializer(name: n, dims: t.shape, floats: t.scalars, ints: nil))
        shapes[n] = t.shape
        return n
    }

    func constant(_ name: String, scalar: Float) -> String { constant(name, Tensor(shape: [], data: [scalar])) }

    func constant(_ name: String, ints: [Int]) -> String {
        let n = fresh(name)
        initializers.append(Initializer(name: n, dims: [ints.count], floats: nil, ints: ints))
        shapes[n] = [ints.count]
        return n
    }

    /// Adds a node with one output of the given shape.
    @discardableResult
    func node(
        _ op: String, _ inputs: [String], _ attributes: [Attribute] = [], shape: Shape, name: String? = nil
    ) -> String {
        let out = fresh(name ?? op.lowercased())
        nodes.append(Node(op: op, inputs: inputs, outputs: [out], name: out, attributes: attributes))
        shapes[out] = shape
        return out
    }

    func shape(_ value: String) -> Shape { shapes[value] ?? [] }

    // MARK: Writing

    /// The ModelProto bytes: IR version 8, opset 17, the metadata as metadata_props.
    // Long: the ModelProto written field by field.
    public func encode(name: String, metadata: [String: String], docString: String) -> Data {
        var graph = ProtobufWriter()
        for n in nodes {
            var node = ProtobufWriter()
            for i in n.inputs { node.add(1, string: i) }
            for o in n.outputs { node.add(2, string: o) }
            node.add(3, string: n.name)
            node.add(4, string: n.op)
            for a in n.attributes {
                var attr = ProtobufWriter()
                switch a {
                case let .int(k, v): attr.add(1, string: k); attr.add(3, int: v); attr.add(20, int: 2)
                case let .float(k, v): attr.add(1, string: k); attr.add(2, float: v); attr.add(20, int: 1)
                case let .ints(k, v): attr.add(1, string: k); for x in v { attr.add(8, int: x) }; attr.add(20, int: 7)
                }
                node.add(5, message: attr)
            }
            graph.add(1, message: node)
        }
        graph.add(2, string: name)
        for t in initializers {
            var tensor = ProtobufWriter()
            tensor.add(1, packedInts: t.dims)
            tensor.add(2, int: t.floats != nil ? 1 : 7)  // FLOAT, INT64
            tensor.add(8, string: t.name)
            var raw: [UInt8] = []
            if let f = t.floats {
                for v in f { withUnsafeBytes(of: v.bitPattern.littleEndian) { raw.append(contentsOf: $0) } }
            }
            if let ints = t.ints {
                for v in ints { withUnsafeBytes(of: Int64(v).littleEndian) { raw.append(contentsOf: $0) } }
            }
            tensor.add(9, bytes: raw)
            graph.add(5, message: tensor)
        }
        graph.add(10, string: docString)
        for (field, list) in [(11, inputs), (12, outputs)] {
            for (n, shape) in list {
                var dims = ProtobufWriter()
                for d in shape {
                    var dim = ProtobufWriter()
                    if d == ONNXGraph.batch { dim.add(2, string: "batch") } else { dim.add(1, int: d) }
                    dims.add(1, message: dim)
                }
                var tensorType = ProtobufWriter()
                tensorType.add(1, int: 1)
                tensorType.add(2, message: dims)
                var type = ProtobufWriter()
                type.add(1, message: tensorType)
                var info = ProtobufWriter()
                info.add(1, string: n)
                info.add(2, message: type)
                graph.add(field, message: info)
            }
        }
        var model = ProtobufWriter()
        model.add(1, int: 8)
        model.add(2, string: "GenLab")
        model.add(3, string: "0.1.0")
        model.add(6, string: docString)
        model.add(7, message: graph)
        var opset = ProtobufWriter()
        opset.add(1, string: "")
        opset.add(2, int: ONNXGraph.opset)
        model.add(8, message: opset)
        for (k, v) in metadata.sorted(by: { $0.key < $1.key }) {
            var entry = ProtobufWriter()
            entry.add(1, string: k)
            entry.add(2, string: v)
            model.add(14, message: entry)
        }
        return Data(model.bytes)
    }
}

/// A layer ONNX export does not know.
public struct ExportError: Error, CustomStringConvertible {
    public let description: String
}

extension ONNXGraph {
    /// The nodes of `module` applied to `x` (evaluation mode); weights named `key.…`.
    // Long: one case per GenLab layer kind.
    func emit(_ module: Module, _ x: String, key: String) throws -> String {
        let s = shape(x)
        func k(_ name: String) -> String { key.isEmpty ? name : key + "." + name }
        switch module {
        case let m as Sequential:
            var h = x
            for (i, layer) in m.layers.enumerated() { h = try emit(layer, h, key: k("\(i)")) }
            return h
        case let m as SpectralNorm:
            return try emit(m.folded(), x, key: key)  // W / σ from the saved power iteration
        case let m as Linear:
            guard s.count == 2 else { throw ExportError(description: "Linear \(key) on a rank-\(s.count) input") }
            var ins = [x, constant(k("weight"), m.weight)]
            if let b = m.bias { ins.append(constant(k("bias"), b)) }
            return node("Gemm", ins, [.int("transB", 1)], shape: [s[0], m.outFeatures], name: key + "/out")
        case let m as Conv2d:
            let kh = m.weight.shape[2], kw = m.weight.shape[3]
            let h = (s[2] + 2 * m.padding.0 - m.dilation.0 * (kh - 1) - 1) / m.stride.0 + 1
            let w = (s[3] + 2 * m.padding.1 - m.dilation.1 * (kw - 1) - 1) / m.stride.1 + 1
            var ins = [x, constant(k("weight"), m.weight)]
            if let b = m.bias { ins.append(constant(k("bias"), b)) }
            return node(
                "Conv", ins,
                [
                    .ints("kernel_shape", [kh, kw]), .ints("strides", [m.stride.0, m.stride.1]),
                    .ints("pads", [m.padding.0, m.padding.1, m.padding.0, m.padding.1]),
                    .ints("dilations", [m.dilation.0, m.dilation.1]),
                ],
                shape: [s[0], m.weight.shape[0], h, w], name: key + "/out")
        case let m as ConvTranspose2d:
            let kh = m.weight.shape[2], kw = m.weight.shape[3]
            let h = (s[2] - 1) * m.stride.0 - 2 * m.padding.0 + m.dilation.0 * (kh - 1) + m.outputPadding.0 + 1
            let w = (s[3] - 1) * m.stride.1 - 2 * m.padding.1 + m.dilation.1 * (kw - 1) + m.outputPadding.1 + 1
            var ins = [x, constant(k("weight"), m.weight)]
            if let b = m.bias { ins.append(constant(k("bias"), b)) }
            return node(
                "ConvTranspose", ins,
                [
                    .ints("kernel_shape", [kh, kw]), .ints("strides", [m.stride.0, m.stride.1]),
                    .ints("pads", [m.padding.0, m.padding.1, m.padding.0, m.padding.1]),
                    .ints("output_padding", [m.outputPadding.0, m.outputPadding.1]),
                    .ints("dilations", [m.dilation.0, m.dilation.1]),
                ],
                shape: [s[0], m.weight.shape[1], h, w], name: key + "/out")
        case let m as BatchNorm:
            let c = m.features
            let scale = constant(k("weight"), m.weight ?? Tensor.ones([c])),
                bias = constant(k("bias"), m.bias ?? Tensor.zeros([c]))
            let mean = constant(k("running_mean"), m.running_mean.value),
                variance = constant(k("running_var"), m.running_var.value)
            return node(
                "BatchNormalization", [x, scale, bias, mean, variance], [.float("epsilon", m.eps)], shape: s,
                name: key + "/out")
        case is ReLU: return node("Relu", [x], shape: s)
        case let m as LeakyReLU: return node("LeakyRelu", [x], [.float("alpha", m.slope)], shape: s)
        case is Sigmoid: return node("Sigmoid", [x], shape: s)
        case is Tanh: return node("Tanh", [x], shape: s)
        case is Softplus: return node("Softplus", [x], shape: s)
        case is Dropout: return x
        case let m as Flatten:
            guard m.startDim == 1 else { throw ExportError(description: "Flatten from axis \(m.startDim)") }
            return node("Flatten", [x], [.int("axis", 1)], shape: [s[0], s.dropFirst().reduce(1, *)])
        case let m as Reshape:
            return reshape(x, [s[0]] + m.shape)
        case let m as MaxPool2d:
            let h = (s[2] + 2 * m.padding.0 - m.kernel.0) / m.stride.0 + 1,
                w = (s[3] + 2 * m.padding.1 - m.kernel.1) / m.stride.1 + 1
            return node(
                "MaxPool", [x],
                [
                    .ints("kernel_shape", [m.kernel.0, m.kernel.1]), .ints("strides", [m.stride.0, m.stride.1]),
                    .ints("pads", [m.padding.0, m.padding.1, m.padding.0, m.padding.1]),
                ],
                shape: [s[0], s[1], h, w])
        case let m as CentreCrop:
            return centreCrop(x, m.size)
        default:
            throw ExportError(description: "no ONNX export for layer \(key) (\(type(of: module)))")
        }
    }

    /// Reshape to `target` (the batch axis, ONNXGraph.batch, as −1).
    func reshape(_ x: String, _ target: Shape) -> String {
        node("Reshape", [x, constant("shape", ints: target.map { $0 == ONNXGraph.batch ? -1 : $0 })], shape: target)
    }

    /// The centred size×size window of an [N, C, H, W] value, as `Tensor.centreCrop`.
    func centreCrop(_ x: String, _ size: Int) -> String {
        let s = shape(x)
        if s[2] == size && s[3] == size { return x }
        let top = (s[2] - size) / 2, left = (s[3] - size) / 2
        return node(
            "Slice",
            [
                x, constant("crop_starts", ints: [top, left]), constant("crop_ends", ints: [top + size, left + size]),
                constant("crop_axes", ints: [2, 3]),
            ], shape: [s[0], s[1], size, size])
    }

    func binary(_ op: String, _ a: String, _ b: String) -> String {
        let sa = shape(a), sb = shape(b)
        let n = max(sa.count, sb.count)
        let pa = [Int](repeating: 1, count: n - sa.count) + sa, pb = [Int](repeating: 1, count: n - sb.count) + sb
        return node(op, [a, b], shape: zip(pa, pb).map { $0 == 1 ? $1 : $0 })
    }

    func unary(_ op: String, _ x: String, _ attributes: [Attribute] = []) -> String {
        node(op, [x], attributes, shape: shape(x))
    }

    /// ReduceMean / ReduceSum over `axes` (opset 17: ReduceMean takes axes as an attribute,
    /// ReduceSum as an input).
    func reduce(_ op: String, _ x: String, axes: [Int], keepDims: Bool) -> String {
        let s = shape(x)
        let out =
            keepDims
            ? s.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
            : s.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        if op == "ReduceSum" {
            return node(op, [x, constant("axes", ints: axes)], [.int("keepdims", keepDims ? 1 : 0)], shape: out)
        }
        return node(op, [x], [.ints("axes", axes), .int("keepdims", keepDims ? 1 : 0)], shape: out)
    }
}
