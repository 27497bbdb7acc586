/// The geometry of a 2-D convolution: an image of `channels × height × width` read through a
/// `kernelH × kernelW` window with stride, zero padding and dilation, giving `outH × outW` positions.
public struct ConvGeometry: Equatable, Sendable {
    public var channels, height, width: Int
    public var kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW: Int
    public var outH, outW: Int

    public init(
        channels: Int, height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
        padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), op: String = "conv2d"
    ) {
        self.channels = channels; self.height = height; self.width = width
        (kernelH, kernelW) = kernel; (strideH, strideW) = stride; (padH, padW) = padding;
        (dilationH, dilationW) = dilation
        if kernelH < 1 || kernelW < 1 || strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1 || padH < 0
            || padW < 0
        {
            shapeFailure(
                op,
                "kernel \(kernel), stride \(stride), dilation \(dilation) must be positive and padding \(padding) "
                    + "non-negative"
            )
        }
        outH = (height + 2 * padH - dilationH * (kernelH - 1) - 1) / strideH + 1
        outW = (width + 2 * padW - dilationW * (kernelW - 1) - 1) / strideW + 1
        if height + 2 * padH < dilationH * (kernelH - 1) + 1 || width + 2 * padW < dilationW * (kernelW - 1) + 1 {
            shapeFailure(
                op,
                "a \(kernelH)×\(kernelW) kernel (dilation \(dilation)) does not fit a \(height)×\(width) image "
                    + "padded by \(padding)"
            )
        }
    }

    /// Rows of the column matrix: one per (channel, kernel row, kernel column).
    public var patchSize: Int { channels * kernelH * kernelW }
    public var imageSize: Int { channels * height * width }
    public var positions: Int { outH * outW }
}

enum Im2col {
    /// col[(c·kh + i)·kw + j, n·P + p] = x[n, c, ih, iw] (0 in the padding), for `batch` images.
    static func im2col(_ g: ConvGeometry, batch: Int, _ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>) {
        let P = g.positions, rowLen = batch * P, outW = g.outW, s = g.strideW
        parallelFor(g.patchSize, grain: 1) { rows in
            for row in rows {
                let c = row / (g.kernelH * g.kernelW), ki = (row / g.kernelW) % g.kernelH, kj = row % g.kernelW
                let dst = col + row * rowLen
                // Everything that depends only on the kernel offset is worked out once per row:
                // the output columns [lo, hi) and output rows [ohLo, ohHi) that read inside the image.
                let iw0 = kj * g.dilationW - g.padW
                let (lo, hi) = validColumns(iw0, g)
                let ih0 = ki * g.dilationH - g.padH
                let ohLo = ih0 >= 0 ? 0 : Swift.min(g.outH, (-ih0 + g.strideH - 1) / g.strideH)
                let ohHi = Swift.max(
                    ohLo, Swift.min(g.outH, g.height - ih0 <= 0 ? 0 : (g.height - ih0 + g.strideH - 1) / g.strideH))
                for n in 0..<batch {
                    let img = x + (n * g.channels + c) * g.height * g.width
                    let base = dst + n * P
                    if ohLo > 0 { base.update(repeating: 0, count: ohLo * outW) }
                    for oh in ohLo..<ohHi {
                        let line = img + (oh * g.strideH + ih0) * g.width + iw0
                        let out = base + oh * outW
                        for ow in 0..<lo { out[ow] = 0 }
                        if s == 1 {
                            (out + lo).update(from: line + lo, count: hi - lo)
                        } else {
                            for ow in lo..<hi { out[ow] = line[ow * s] }
                        }
                        for ow in hi..<outW { out[ow] = 0 }
                    }
                    if ohHi < g.outH { (base + ohHi * outW).update(repeating: 0, count: (g.outH - ohHi) * outW) }
                }
            }
        }
    }

    /// The adjoint of im2col: x[n, c, ih, iw] += col[…] for every window position that read it.
    /// `x` must be zeroed (or hold what to add to) beforehand.
    static func col2im(_ g: ConvGeometry, batch: Int, _ col: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>) {
        let P = g.positions, rowLen = batch * P, kk = g.kernelH * g.kernelW, outW = g.outW, s = g.strideW
        // Parallel over channels: rows of one channel add into the same image plane.
        parallelFor(g.channels, grain: 1) { channels in
            for c in channels {
                for r in 0..<kk {
                    let ki = r / g.kernelW, kj = r % g.kernelW
                    let src = col + (c * kk + r) * rowLen
                    let iw0 = kj * g.dilationW - g.padW
                    let (lo, hi) = validColumns(iw0, g)
                    let ih0 = ki * g.dilationH - g.padH
                    let ohLo = ih0 >= 0 ? 0 : Swift.min(g.outH, (-ih0 + g.strideH - 1) / g.strideH)
                    let ohHi = Swift.max(
                        ohLo, Swift.min(g.outH, g.height - ih0 <= 0 ? 0 : (g.height - ih0 + g.strideH - 1) / g.strideH))
                    for n in 0..<batch {
                        let img = x + (n * g.channels + c) * g.height * g.width
                        for oh in ohLo..<ohHi {
                            let line = img + (oh * g.strideH + ih0) * g.width + iw0, from = src + n * P + oh * outW
                            for ow in lo..<hi { line[ow * s] += from[ow] }
                        }
                    }
                }
            }
        }
    }

    /// The output columns ow with 0 ≤ ow·stride + iw0 < width, as a half-open range.
    @inline(__always)
    static func validColumns(_ iw0: Int, _ g: ConvGeometry) -> (Int, Int) {
        let s = g.strideW
        let lo = iw0 >= 0 ? 0 : (-iw0 + s - 1) / s
        let hi = g.width - iw0 <= 0 ? 0 : (g.width - iw0 + s - 1) / s
        let top = Swift.min(g.outW, hi)
        return (Swift.min(lo, top), top)
    }

    /// [batch, C, L] → [C, batch·L] (channel-major, as the GEMMs want it).
    static func toChannelMajor(
        _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, batch: Int, channels: Int, length: Int
    ) {
        parallelFor(channels, grain: 1) { cs in
            for c in cs {
                for n in 0..<batch {
                    (dst + (c * batch + n) * length).update(from: src + (n * channels + c) * length, count: length)
                }
            }
        }
    }

    /// [C, batch·L] → [batch, C, L], adding `bias[c]` when given.
    static func fromChannelMajor(
        _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, batch: Int, channels: Int,
        length: Int, bias: UnsafePointer<Float>?
    ) {
        parallelFor(channels, grain: 1) { cs in
            for c in cs {
                let b = bias?[c] ?? 0
                for n in 0..<batch {
                    let from = src + (c * batch + n) * length, to = dst + (n * channels + c) * length
                    for i in 0..<length { to[i] = from[i] + b }
                }
            }
        }
    }

    /// How many images to unfold at once so the column matrix stays near 32 MB.
    static func chunk(_ g: ConvGeometry, batch: Int, columnsPerImage: Int) -> Int {
        max(1, min(batch, (8 << 20) / max(1, g.patchSize * columnsPerImage)))
    }
}

extension Reference {
    /// Direct convolution, one multiply-add at a time: the yardstick for im2col + GEMM.
    public static func conv2d(
        _ g: ConvGeometry, batch: Int, outChannels: Int, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>
    ) {
        for n in 0..<batch {
            for o in 0..<outChannels {
                for oh in 0..<g.outH {
                    for ow in 0..<g.outW {
                        var acc = Double(bias?[o] ?? 0)
                        for c in 0..<g.channels {
                            for i in 0..<g.kernelH {
                                for j in 0..<g.kernelW {
                                    let ih = oh * g.strideH - g.padH + i * g.dilationH,
                                        iw = ow * g.strideW - g.padW + j * g.dilationW
                                    if ih < 0 || ih >= g.height || iw < 0 || iw >= g.width { continue }
                                    acc +=
                                        Double(x[((n * g.channels + c) * g.height + ih) * g.width + iw])
                                        * Double(weight[((o * g.channels + c) * g.kernelH + i) * g.kernelW + j])
                                }
                            }
                        }
                        out[((n * outChannels + o) * g.outH + oh) * g.outW + ow] = Float(acc)
                    }
                }
            }
        }
    }
}
