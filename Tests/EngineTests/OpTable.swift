import Engine
import Foundation

/// Calls an engine op by the name the fixture script uses, with the script's parameters.
func applyOp(_ op: String, _ xs: [Tensor], _ p: [String: Any]) -> Tensor {
    func ints(_ k: String) -> [Int] { (p[k] as! [Any]).map { ($0 as! NSNumber).intValue } }
    func pair(_ k: String) -> (Int, Int) { let v = ints(k); return (v[0], v[1]) }
    func float(_ k: String) -> Float { (p[k] as! NSNumber).floatValue }
    func int(_ k: String) -> Int { (p[k] as! NSNumber).intValue }
    func bool(_ k: String) -> Bool { (p[k] as? NSNumber)?.boolValue ?? false }
    func axes() -> [Int]? { p["axes"] is NSNull || p["axes"] == nil ? nil : ints("axes") }
    switch op {
    case "add": return xs[0] + xs[1]
    case "sub": return xs[0] - xs[1]
    case "mul": return xs[0] * xs[1]
    case "div": return xs[0] / xs[1]
    case "neg": return -xs[0]
    case "pow": return xs[0].pow(float("exponent"))
    case "powTensor": return xs[0].pow(xs[1])
    case "addScalar": return xs[0] + float("scalar")
    case "mulScalar": return xs[0] * float("scalar")
    case "rdivScalar": return float("scalar") / xs[0]
    case "exp": return xs[0].exp()
    case "log": return xs[0].log()
    case "sqrt": return xs[0].sqrt()
    case "abs": return xs[0].abs()
    case "clamp": return xs[0].clamp(min: float("min"), max: float("max"))
    case "relu": return xs[0].relu()
    case "leakyRelu": return xs[0].leakyRelu(float("slope"))
    case "sigmoid": return xs[0].sigmoid()
    case "tanh": return xs[0].tanh()
    case "softplus": return xs[0].softplus()
    case "binaryCrossEntropyWithLogits": return xs[0].binaryCrossEntropyWithLogits(xs[1])
    case "logSigmoid": return xs[0].logSigmoid()
    case "matmul": return xs[0].matmul(xs[1], transposeA: bool("transposeA"), transposeB: bool("transposeB"))
    case "sum": return axes().map { xs[0].sum(axes: $0, keepDims: bool("keepDims")) } ?? xs[0].sum()
    case "mean": return axes().map { xs[0].mean(axes: $0, keepDims: bool("keepDims")) } ?? xs[0].mean()
    case "variance": return xs[0].variance(axes: ints("axes"), unbiased: bool("unbiased"), keepDims: bool("keepDims"))
    case "max": return xs[0].max(axis: int("axis"), keepDims: bool("keepDims"))
    case "reshape": return xs[0].reshape(ints("shape"))
    case "expand": return xs[0].expand(ints("shape"))
    case "permute": return xs[0].permute(ints("order"))
    case "transpose": return xs[0].transpose(int("a"), int("b"))
    case "concat": return Tensor.concat(xs, axis: int("axis"))
    case "split":
        let parts = xs[0].split(ints("sizes"), axis: int("axis"))
        return Tensor.concat(parts.enumerated().map { $0.element * Float($0.offset + 1) }, axis: int("axis"))
    case "slice":
        let end = p["end"] is NSNull ? nil : int("end")
        return xs[0].slice(axis: int("axis"), start: int("start"), end: end, step: int("step"))
    case "indexSelect": return xs[0].indexSelect(axis: int("axis"), indices: ints("indices"))
    case "gather": return xs[0].gather(axis: int("axis"), index: ints("index"), indexShape: ints("indexShape"))
    case "pad":
        let w = (p["widths"] as! [[NSNumber]]).map { ($0[0].intValue, $0[1].intValue) }
        return xs[0].pad(w, value: float("value"))
    case "conv2d":
        return xs[0].conv2d(
            xs[1], bias: xs.count > 2 ? xs[2] : nil, stride: pair("stride"), padding: pair("padding"),
            dilation: pair("dilation"))
    case "convTranspose2d":
        return xs[0].convTranspose2d(
            xs[1], bias: xs.count > 2 ? xs[2] : nil, stride: pair("stride"), padding: pair("padding"),
            outputPadding: pair("outputPadding"), dilation: pair("dilation"))
    case "maxPool2d": return xs[0].maxPool2d(kernel: pair("kernel"), stride: pair("stride"), padding: pair("padding"))
    case "avgPool2d": return xs[0].avgPool2d(kernel: pair("kernel"), stride: pair("stride"), padding: pair("padding"))
    case "upsampleNearest": return xs[0].upsampleNearest(scale: int("scale"))
    default: fatalError("fixture names an op the table does not know: \(op)")
    }
}

/// One PyTorch reference case from Fixtures/ops.json.
struct OpCase {
    let name, op: String
    let params: [String: Any]
    let inputs: [Tensor]
    let output: Tensor
    let weight: [Float]
    let grads: [[Float]?]
    /// Second order: per input a direction v_i, and the gradients of s = Σᵢ ⟨vᵢ, ∂⟨y, w⟩/∂xᵢ⟩ with
    /// respect to every input and to the weight w.
    let v: [[Float]]
    let grads2: [[Float]]
    let weightGrad2: [Float]

    static func load() throws -> [OpCase] {
        let url = Bundle.module.url(forResource: "ops", withExtension: "json", subdirectory: "Fixtures")!
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        func tensor(_ o: Any) -> Tensor {
            let d = o as! [String: Any]
            return Tensor(shape: (d["shape"] as! [NSNumber]).map(\.intValue), data: floats(d["data"]!))
        }
        func floats(_ o: Any) -> [Float] { (o as! [NSNumber]).map(\.floatValue) }
        return (root["cases"] as! [[String: Any]]).map { c in
            OpCase(
                name: c["name"] as! String, op: c["op"] as! String, params: c["params"] as! [String: Any],
                inputs: (c["inputs"] as! [Any]).map(tensor), output: tensor(c["output"]!), weight: floats(c["weight"]!),
                grads: (c["grads"] as! [Any]).map { $0 is NSNull ? nil : floats($0) },
                v: (c["v"] as! [Any]).map(floats), grads2: (c["grads2"] as! [Any]).map(floats),
                weightGrad2: floats(c["weightGrad2"]!))
        }
    }
}

/// Largest |a − b| / (atol + rtol·|b|) over two arrays; ≤ 1 means they agree.
func mismatch(_ a: [Float], _ b: [Float], atol: Float = 1e-5, rtol: Float = 1e-5) -> Float {
    precondition(a.count == b.count)
    var worst: Float = 0
    for i in a.indices { worst = max(worst, abs(a[i] - b[i]) / (atol + rtol * abs(b[i]))) }
    return worst
}

/// ∂f/∂(inputs[i]) by central differences, element by element (the other inputs held fixed).
func centralDifferences(_ f: ([Tensor]) -> Double, _ inputs: [Tensor], input i: Int, eps: Float) -> [Float] {
    let x = inputs[i]
    return (0..<x.count).map { j in
        var plus = x.scalars, minus = x.scalars
        plus[j] += eps
        minus[j] -= eps
        var xsPlus = inputs.map { $0.detach() }, xsMinus = xsPlus
        xsPlus[i] = Tensor(shape: x.shape, data: plus)
        xsMinus[i] = Tensor(shape: x.shape, data: minus)
        return Float((f(xsPlus) - f(xsMinus)) / Double(2 * eps))
    }
}
