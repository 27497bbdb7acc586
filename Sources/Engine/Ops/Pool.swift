// Pooling and nearest-neighbour upsampling over the last two axes of NCHW tensors.

extension Tensor {
    /// Max over k×k windows; the gradient goes to the (first) maximum of each window.
    /// Padding is −∞, as in PyTorch.
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
        let (g, N) = poolGeometry("maxPool2d", kernel, stride ?? kernel, padding)
        if padding.0 * 2 > kernel.0 || padding.1 * 2 > kernel.1 {
            shapeFailure("maxPool2d", "padding \(padding) must be at most half the kernel \(kernel)")
        }
        let planes = N * g.channels, P = g.positions, plane = g.height * g.width
        let out = Tensor(uninitialized: [N, g.channels, g.outH, g.outW])
        var arg = [Int32](repeating: 0, count: planes * P)
        let px = storage.pointer, po = out.storage.pointer
        arg.withUnsafeMutableBufferPointer { argp in
            let pa = argp.baseAddress!
            parallelFor(planes, grain: 1) { r in
                for pl in r {
                    let img = px + pl * plane
                    for oh in 0..<g.outH {
                        for ow in 0..<g.outW {
                            var best = -Float.infinity, at: Int32 = -1
                            for i in 0..<g.kernelH {
                                let ih = oh * g.strideH - g.padH + i
                                if ih < 0 || ih >= g.height { continue }
                                for j in 0..<g.kernelW {
                                    let iw = ow * g.strideW - g.padW + j
                                    if iw < 0 || iw >= g.width { continue }
                                    let v = img[ih * g.width + iw]
                                    if v > best || at < 0 || v.isNaN { best = v; at = Int32(ih * g.width + iw) }
                                }
                            }
                            po[pl * P + oh * g.outW + ow] = best
                            pa[pl * P + oh * g.outW + ow] = at
                        }
                    }
                }
            }
        }
        let inputShape = shape, outShape = out.shape
        // The gradient is routed to the maxima: a linear map of gOut (gathering back is its adjoint).
        return record(out, "maxPool2d", [self]) { gOut in
            [
                linearMap(
                    "maxPool2dᵀ", gOut,
                    apply: { g in
                        let gx = Tensor.zeros(inputShape)
                        let pg = g.storage.pointer, pi = gx.storage.pointer
                        for pl in 0..<planes {
                            for p in 0..<P { pi[pl * plane + Int(arg[pl * P + p])] += pg[pl * P + p] }
                        }
                        return gx
                    },
                    adjoint: { gx in
                        let g = Tensor(uninitialized: outShape)
                        let pg = g.storage.pointer, pi = gx.storage.pointer
                        for pl in 0..<planes {
                            for p in 0..<P { pg[pl * P + p] = pi[pl * plane + Int(arg[pl * P + p])] }
                        }
                        return g
                    })
            ]
        }
    }

    /// Mean over k×k windows; padded cells count as zeros in the divisor (PyTorch's default
    /// count_include_pad = true).
    public func avgPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
        let (g, N) = poolGeometry("avgPool2d", kernel, stride ?? kernel, padding)
        // Average pooling is a convolution of each plane with a constant kernel: reuse im2col.
        let planes = N * g.channels
        var single = g
        single.channels = 1
        let scale = 1 / Float(g.kernelH * g.kernelW)
        let P = g.positions, kk = g.kernelH * g.kernelW
        let inputShape = shape, outShape = [N, g.channels, g.outH, g.outW]
        // Linear: recorded with its adjoint (spreading each window's gradient back), and the
        // adjoint with it, so that it can be differentiated any number of times.
        return linearMap(
            "avgPool2d", self,
            apply: { x in
                let out = Tensor(uninitialized: outShape)
                Scratch.with(kk * planes * P) { col in
                    Im2col.im2col(single, batch: planes, x.storage.pointer, col)
                    let po = out.storage.pointer
                    parallelFor(planes * P) { r in
                        for i in r {
                            var s: Float = 0
                            for k in 0..<kk { s += col[k * planes * P + i] }
                            po[i] = s * scale
                        }
                    }
                }
                return out
            },
            adjoint: { gOut in
                let gx = Tensor.zeros(inputShape)
                Scratch.with(kk * planes * P) { col in
                    let pg = gOut.storage.pointer
                    for k in 0..<kk { for i in 0..<(planes * P) { col[k * planes * P + i] = pg[i] * scale } }
                    Im2col.col2im(single, batch: planes, col, gx.storage.pointer)
                }
                return gx
            })
    }

    /// Repeats each pixel `scale` times in both directions (nearest-neighbour upsampling).
    public func upsampleNearest(scale: Int) -> Tensor {
        if rank != 4 || scale < 1 {
            shapeFailure("upsampleNearest", "needs an NCHW tensor and scale ≥ 1, got \(shape) and \(scale)")
        }
        if scale == 1 { return self }
        let N = shape[0], C = shape[1], H = shape[2], W = shape[3]
        // A view of the input as [N, C, H, s, W, s] with zero strides on the repeat axes.
        let viewOf = StridedView(shape: [N, C, H, scale, W, scale], strides: [C * H * W, H * W, W, 0, 1, 0])
        let out = Tensor(uninitialized: [N, C, H * scale, W * scale])
        viewOf.gather(from: storage.pointer, into: out.storage.pointer)
        return record(out, "upsampleNearest", [self]) { g in
            // Each input pixel receives the sum of its s×s copies.
            [g.reshape([N, C, H, scale, W, scale]).sum(axes: [3, 5])]
        }
    }

    private func poolGeometry(
        _ op: String, _ kernel: (Int, Int), _ stride: (Int, Int), _ padding: (Int, Int)
    ) -> (ConvGeometry, Int) {
        if rank != 4 { shapeFailure(op, "needs an NCHW tensor, got \(shape)") }
        return (
            ConvGeometry(
                channels: shape[1], height: shape[2], width: shape[3], kernel: kernel, stride: stride,
                padding: padding, op: op), shape[0]
        )
    }
}
