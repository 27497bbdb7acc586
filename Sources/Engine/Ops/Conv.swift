// 2-D convolution and transposed convolution (NCHW), as im2col + GEMM.
// Weights are laid out as PyTorch lays them: Conv2d [out, in, kh, kw], ConvTranspose2d [in, out, kh, kw].

extension Tensor {
    /// Cross-correlation of [N, C, H, W] with weight [O, C, kh, kw] (+ bias [O]) → [N, O, Ho, Wo].
    // Long: the op's forward beside its backward (the engine's rule), with the oneDNN path and its im2col fallback.
    public func conv2d(
        _ weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
        dilation: (Int, Int) = (1, 1)
    ) -> Tensor {
        let x = self
        if x.rank != 4 || weight.rank != 4 || weight.shape[1] != x.shape[1] {
            shapeFailure(
                "conv2d", "input \(x.shape) and weight \(weight.shape) (expected [N, C, H, W] and [O, C, kh, kw])")
        }
        let O = weight.shape[0], N = x.shape[0]
        if let bias, bias.shape != [O] { shapeFailure("conv2d", "bias \(bias.shape) for \(O) output channels") }
        let g = ConvGeometry(
            channels: x.shape[1], height: x.shape[2], width: x.shape[3],
            kernel: (weight.shape[2], weight.shape[3]), stride: stride, padding: padding, dilation: dilation)
        if OneDNN.active {
            let s = OneDNN.shape(
                N, x.shape[1], x.shape[2], x.shape[3], out: O, kernel: (weight.shape[2], weight.shape[3]),
                stride: stride,
                padding: padding, dilation: dilation, output: (g.outH, g.outW))
            if let out = OneDNN.forward(s, x, weight, bias) {
                let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
                return record(out, "conv2d", inputs) { gOut in
                    if creatingGraph() {
                        return Self.conv2dBackwardOnTape(gOut, x, weight, bias, stride, padding, dilation)
                    }
                    var gx = x.requiresGrad ? OneDNN.backwardData(s, gOut, weight) : nil
                    var gw = weight.requiresGrad ? Tensor(uninitialized: weight.shape) : nil
                    var gb = bias?.requiresGrad == true ? Tensor(uninitialized: [O]) : nil
                    if let t = gw, !OneDNN.backwardWeights(s, x, gOut, into: t, bias: gb) { gw = nil; gb = nil }
                    if (x.requiresGrad && gx == nil) || (weight.requiresGrad && gw == nil) {
                        let fallback = gOut.conv2dGradients(x, weight, g: g, batch: N, kept: nil)
                        gx = gx ?? fallback.x; gw = gw ?? fallback.w
                    }
                    if let bias, bias.requiresGrad, gb == nil || gw == nil { gb = Self.channelSums(gOut) }
                    var grads: [Tensor?] = [gx, gw]
                    if bias != nil { grads.append(gb) }
                    return grads
                }
            }
        }
        let out = Tensor(uninitialized: [N, O, g.outH, g.outW])
        let P = g.positions, nb = Im2col.chunk(g, batch: N, columnsPerImage: P)
        // When training and the whole batch unfolds at once, the column matrix is kept for dW, so
        // the backward pass does not unfold x a second time.
        let kept = GradMode.isEnabled && weight.requiresGrad && nb == N ? Storage(count: g.patchSize * N * P) : nil
        func unfoldAndMultiply(_ col: UnsafeMutablePointer<Float>) {
            Scratch.with(O * nb * P) { tmp in
                for n0 in Swift.stride(from: 0, to: N, by: nb) {
                    let b = Swift.min(nb, N - n0)
                    Im2col.im2col(g, batch: b, x.storage.pointer + n0 * g.imageSize, col)
                    BLAS.sgemm(
                        transA: false, transB: false, m: O, n: b * P, k: g.patchSize, a: weight.storage.pointer,
                        lda: g.patchSize, b: col, ldb: b * P, c: tmp, ldc: b * P)
                    Im2col.fromChannelMajor(
                        tmp, out.storage.pointer + n0 * O * P, batch: b, channels: O, length: P,
                        bias: bias?.storage.pointer)
                }
            }
        }
        if let kept { unfoldAndMultiply(kept.pointer) } else { Scratch.with(g.patchSize * nb * P, unfoldAndMultiply) }
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return record(out, "conv2d", inputs) { gOut in
            if creatingGraph() { return Self.conv2dBackwardOnTape(gOut, x, weight, bias, stride, padding, dilation) }
            let grads = gOut.conv2dGradients(x, weight, g: g, batch: N, kept: kept)
            var all: [Tensor?] = [grads.x, grads.w]
            if let bias { all.append(bias.requiresGrad ? gOut.sum(axes: [0, 2, 3]) : nil) }
            return all
        }
    }

    /// The im2col kernels' input and weight gradients of a convolution, for output gradient
    /// `self`: dW = dOut · colᵀ, dcol = Wᵀ · dOut, dx = col2im(dcol). `kept`: x already unfolded
    /// (the whole batch), when the forward pass kept it.
    /// `inputGradient`/`weightGradient`: which to compute (by default, those that require one).
    func conv2dGradients(
        _ x: Tensor, _ weight: Tensor, g: ConvGeometry, batch N: Int, kept: Storage?, inputGradient: Bool? = nil,
        weightGradient: Bool? = nil
    ) -> (x: Tensor?, w: Tensor?) {
        let gOut = self, O = weight.shape[0], P = g.positions, nb = Im2col.chunk(g, batch: N, columnsPerImage: P)
        let gx = inputGradient ?? x.requiresGrad ? Tensor.zeros(x.shape) : nil
        let gw = weightGradient ?? weight.requiresGrad ? Tensor.zeros(weight.shape) : nil
        Scratch.with(g.patchSize * nb * P) { col in
            Scratch.with(O * nb * P) { gmat in
                for n0 in Swift.stride(from: 0, to: N, by: nb) {
                    let b = Swift.min(nb, N - n0)
                    Im2col.toChannelMajor(gOut.storage.pointer + n0 * O * P, gmat, batch: b, channels: O, length: P)
                    if let gw {
                        let unfolded = kept?.pointer ?? col
                        if kept == nil { Im2col.im2col(g, batch: b, x.storage.pointer + n0 * g.imageSize, col) }
                        BLAS.sgemm(
                            transA: false, transB: true, m: O, n: g.patchSize, k: b * P, a: gmat, lda: b * P,
                            b: unfolded, ldb: b * P, beta: 1, c: gw.storage.pointer, ldc: g.patchSize)
                    }
                    if let gx {
                        BLAS.sgemm(
                            transA: true, transB: false, m: g.patchSize, n: b * P, k: O, a: weight.storage.pointer,
                            lda: g.patchSize, b: gmat, ldb: b * P, c: col, ldc: b * P)
                        Im2col.col2im(g, batch: b, col, gx.storage.pointer + n0 * g.imageSize)
                    }
                }
            }
        }
        return (gx, gw)
    }

    /// Transposed convolution (the adjoint of conv2d) of [N, Cin, H, W] with weight
    /// [Cin, Cout, kh, kw] (+ bias [Cout]) → [N, Cout, Ho, Wo],
    /// Ho = (H − 1)·stride − 2·padding + dilation·(kh − 1) + outputPadding + 1.
    // Long: the op's forward beside its backward (the engine's rule), with the oneDNN path and its im2col fallback.
    public func convTranspose2d(
        _ weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
        outputPadding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1)
    ) -> Tensor {
        let x = self
        if x.rank != 4 || weight.rank != 4 || weight.shape[0] != x.shape[1] {
            shapeFailure(
                "convTranspose2d",
                "input \(x.shape) and weight \(weight.shape) (expected [N, Cin, H, W] and [Cin, Cout, kh, kw])")
        }
        if outputPadding.0 < 0 || outputPadding.1 < 0 || (outputPadding.0 >= Swift.max(stride.0, dilation.0))
            || (outputPadding.1 >= Swift.max(stride.1, dilation.1))
        {
            shapeFailure(
                "convTranspose2d",
                "output padding \(outputPadding) must be smaller than stride \(stride) or dilation \(dilation)")
        }
        let N = x.shape[0], Cin = x.shape[1], H = x.shape[2], W = x.shape[3], Cout = weight.shape[1]
        let kh = weight.shape[2], kw = weight.shape[3]
        if let bias, bias.shape != [Cout] {
            shapeFailure("convTranspose2d", "bias \(bias.shape) for \(Cout) output channels")
        }
        let Ho = (H - 1) * stride.0 - 2 * padding.0 + dilation.0 * (kh - 1) + outputPadding.0 + 1
        let Wo = (W - 1) * stride.1 - 2 * padding.1 + dilation.1 * (kw - 1) + outputPadding.1 + 1
        if Ho < 1 || Wo < 1 {
            shapeFailure(
                "convTranspose2d", "input \(x.shape) with weight \(weight.shape) gives an empty \(Ho)×\(Wo) output")
        }
        // Seen from the output: a convolution of the [Cout, Ho, Wo] image that lands on H×W positions.
        var g = ConvGeometry(
            channels: Cout, height: Ho, width: Wo, kernel: (kh, kw), stride: stride, padding: padding,
            dilation: dilation, op: "convTranspose2d")
        g.outH = H; g.outW = W
        // Seen as a convolution of the output: [N, Cout, Ho, Wo] by the weight [Cin, Cout, kh, kw] onto [N, Cin, H, W].
        let s = OneDNN.shape(
            N, Cout, Ho, Wo, out: Cin, kernel: (kh, kw), stride: stride, padding: padding, dilation: dilation,
            output: (H, W))
        if OneDNN.active {
            if let out = OneDNN.backwardData(s, x, weight) {
                if let bias { Self.addChannelBias(out, bias) }
                let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
                return record(out, "convTranspose2d", inputs) { gOut in
                    if creatingGraph() {
                        return Self.convTranspose2dBackwardOnTape(gOut, x, weight, bias, stride, padding, dilation)
                    }
                    var gx = x.requiresGrad ? OneDNN.forward(s, gOut, weight, nil) : nil
                    var gw = weight.requiresGrad ? Tensor(uninitialized: weight.shape) : nil
                    if let t = gw, !OneDNN.backwardWeights(s, gOut, x, into: t, bias: nil) { gw = nil }
                    if (x.requiresGrad && gx == nil) || (weight.requiresGrad && gw == nil) {
                        let fallback = gOut.convTranspose2dGradients(x, weight, g: g, batch: N)
                        gx = gx ?? fallback.x; gw = gw ?? fallback.w
                    }
                    var grads: [Tensor?] = [gx, gw]
                    if let bias { grads.append(bias.requiresGrad ? Self.channelSums(gOut) : nil) }
                    return grads
                }
            }
        }
        let P = H * W, nb = Im2col.chunk(g, batch: N, columnsPerImage: P)
        let out = Tensor.zeros([N, Cout, Ho, Wo])
        Scratch.with(g.patchSize * nb * P) { col in
            Scratch.with(Cin * nb * P) { xmat in
                for n0 in Swift.stride(from: 0, to: N, by: nb) {
                    let b = Swift.min(nb, N - n0)
                    Im2col.toChannelMajor(x.storage.pointer + n0 * Cin * P, xmat, batch: b, channels: Cin, length: P)
                    BLAS.sgemm(
                        transA: true, transB: false, m: g.patchSize, n: b * P, k: Cin, a: weight.storage.pointer,
                        lda: g.patchSize, b: xmat, ldb: b * P, c: col, ldc: b * P)
                    Im2col.col2im(g, batch: b, col, out.storage.pointer + n0 * g.imageSize)
                }
            }
        }
        if let bias { Self.addChannelBias(out, bias) }
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return record(out, "convTranspose2d", inputs) { gOut in
            if creatingGraph() {
                return Self.convTranspose2dBackwardOnTape(gOut, x, weight, bias, stride, padding, dilation)
            }
            let grads = gOut.convTranspose2dGradients(x, weight, g: g, batch: N)
            var all: [Tensor?] = [grads.x, grads.w]
            if let bias { all.append(bias.requiresGrad ? gOut.sum(axes: [0, 2, 3]) : nil) }
            return all
        }
    }

    /// out[n, c] += bias[c] over every position (of a new tensor not yet on the tape), in its layout.
    static func addChannelBias(_ out: Tensor, _ bias: Tensor) {
        let channels = out.shape[1], plane = out.shape[2] * out.shape[3]
        let (values, layout) = out.raw
        let po = values.pointer, pb = bias.storage.pointer
        if let lanes = layout.lanes {
            let blocks = channels / lanes
            parallelFor(out.shape[0] * blocks, grain: 1) { r in
                for nb in r {
                    let b0 = nb % blocks * lanes, p = po + nb * plane * lanes
                    for i in 0..<plane { for l in 0..<lanes { p[i * lanes + l] += pb[b0 + l] } }
                }
            }
            return
        }
        parallelFor(out.shape[0] * channels, grain: 1) { r in
            for nc in r { let v = pb[nc % channels], p = po + nc * plane; for i in 0..<plane { p[i] += v } }
        }
    }

    /// Σ over the batch and positions of each channel of [N, C, H, W] (a channel bias's gradient),
    /// read in the tensor's layout.
    static func channelSums(_ g: Tensor) -> Tensor {
        let (values, layout) = g.raw
        switch layout {
        case .plain: return g.sum(axes: [0, 2, 3])
        case .blocked16: return blockedChannelSums(values, shape: g.shape, SIMD16<Float>.self)
        case .blocked8: return blockedChannelSums(values, shape: g.shape, SIMD8<Float>.self)
        }
    }

    /// `channelSums` of values in blocks of `V.scalarCount` channels: in single precision over each
    /// image's positions, in double precision over the batch.
    private static func blockedChannelSums<V: SIMD>(_ values: Storage, shape: [Int], _: V.Type) -> Tensor
    where V.Scalar == Float {
        let n = shape[0], channels = shape[1], plane = shape[2] * shape[3], lanes = V.scalarCount
        let out = Tensor(uninitialized: [channels])
        let pg = values.pointer, po = out.storage.pointer
        withExtendedLifetime(values) {
            parallelFor(channels / lanes, grain: 1) { r in
                for b in r {
                    var total = [Double](repeating: 0, count: lanes)
                    for i in 0..<n {
                        var acc = V()
                        let p = pg + ((i * (channels / lanes) + b) * plane) * lanes
                        for k in 0..<plane { acc += UnsafeRawPointer(p + k * lanes).loadUnaligned(as: V.self) }
                        for l in 0..<lanes { total[l] += Double(acc[l]) }
                    }
                    for l in 0..<lanes { po[b * lanes + l] = Float(total[l]) }
                }
            }
        }
        return out
    }

    /// The im2col kernels' input and weight gradients of a transposed convolution, for output
    /// gradient `self` (geometry `g` seen from the output): dcol = im2col(dOut), dx = W · dcol,
    /// dW = x · dcolᵀ.
    func convTranspose2dGradients(
        _ x: Tensor, _ weight: Tensor, g: ConvGeometry, batch N: Int
    ) -> (x: Tensor?, w: Tensor?) {
        let gOut = self, Cin = x.shape[1], P = x.shape[2] * x.shape[3],
            nb = Im2col.chunk(g, batch: N, columnsPerImage: P)
        let gx = x.requiresGrad ? Tensor(uninitialized: x.shape) : nil
        let gw = weight.requiresGrad ? Tensor.zeros(weight.shape) : nil
        Scratch.with(g.patchSize * nb * P) { col in
            Scratch.with(Cin * nb * P) { xmat in
                for n0 in Swift.stride(from: 0, to: N, by: nb) {
                    let b = Swift.min(nb, N - n0)
                    Im2col.im2col(g, batch: b, gOut.storage.pointer + n0 * g.imageSize, col)
                    if let gx {
                        BLAS.sgemm(
                            transA: false, transB: false, m: Cin, n: b * P, k: g.patchSize, a: weight.storage.pointer,
                            lda: g.patchSize, b: col, ldb: b * P, c: xmat, ldc: b * P)
                        Im2col.fromChannelMajor(
                            xmat, gx.storage.pointer + n0 * Cin * P, batch: b, channels: Cin, length: P, bias: nil)
                    }
                    if let gw {
                        Im2col.toChannelMajor(
                            x.storage.pointer + n0 * Cin * P, xmat, batch: b, channels: Cin, length: P)
                        BLAS.sgemm(
                            transA: false, transB: true, m: Cin, n: g.patchSize, k: b * P, a: xmat, lda: b * P,
                            b: col, ldb: b * P, beta: 1, c: gw.storage.pointer, ldc: g.patchSize)
                    }
                }
            }
        }
        return (gx, gw)
    }
}
