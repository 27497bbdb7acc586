// Batch normalisation as one fused op (training mode): statistics, normalisation and the affine
// map in two passes, and a backward rule in two more, instead of ~8 elementwise ops each way.

extension Tensor {
    /// Why a recorded backward pass stops at batch norm, and what to use instead.
    static let batchNormOffTape =
        "use LayerNorm or no normalisation in a network whose gradient is differentiated (a WGAN-GP or R1 critic)"

    /// Normalises each channel (axis 1) of [N, C, …] with the batch's mean and biased variance,
    /// then applies y = γ·x̂ + β. Returns the output and the per-channel mean and biased variance
    /// (for running statistics).
    ///
    /// Backward, with x̂ = (x − μ)/σ, σ = √(var + ε), m the count per channel:
    ///   dβ = Σ g,  dγ = Σ g·x̂,  dx = (γ/σ)·(g − Σg/m − x̂·Σ(g·x̂)/m)
    // Long: forward beside its backward (the engine's rule).
    public func batchNorm(weight: Tensor?, bias: Tensor?, eps: Float) -> (out: Tensor, mean: [Float], variance: [Float])
    {
        if rank < 2 { shapeFailure("batchNorm", "input \(shape) has no channel axis") }
        let n = shape[0], c = shape[1], inner = count / Swift.max(n * c, 1), m = n * inner
        if let weight, weight.shape != [c] { shapeFailure("batchNorm", "weight \(weight.shape) for \(c) channels") }
        if let bias, bias.shape != [c] { shapeFailure("batchNorm", "bias \(bias.shape) for \(c) channels") }
        if m < 2 {
            shapeFailure("batchNorm", "needs more than one value per channel in training mode, got input \(shape)")
        }
        let (values, layout) = raw
        if layout != .plain { return batchNormBlocked(values, layout: layout, weight: weight, bias: bias, eps: eps) }
        let out = Tensor(uninitialized: shape)
        var mean = [Float](repeating: 0, count: c), variance = [Float](repeating: 0, count: c)
        let px = storage.pointer, po = out.storage.pointer
        let pw = weight?.storage.pointer, pb = bias?.storage.pointer
        mean.withUnsafeMutableBufferPointer { mu in
            variance.withUnsafeMutableBufferPointer { va in
                parallelFor(c, grain: 1) { channels in
                    for ch in channels {
                        var s = 0.0
                        for i in 0..<n {
                            let row = px + (i * c + ch) * inner; s += Double(Reduce.sumContiguous(row, inner))
                        }
                        let mu0 = Float(s / Double(m))
                        var sq = 0.0
                        for i in 0..<n {
                            let row = px + (i * c + ch) * inner
                            sq += Double(Reduce.sumSquaredDeviation(row, inner, from: mu0))
                        }
                        let v = Float(sq / Double(m))
                        mu[ch] = mu0; va[ch] = v
                        let inv = 1 / (v + eps).squareRoot()
                        let scale = (pw?[ch] ?? 1) * inv, shift = (pb?[ch] ?? 0) - mu0 * scale
                        for i in 0..<n {
                            let row = px + (i * c + ch) * inner, dst = po + (i * c + ch) * inner
                            for k in 0..<inner { dst[k] = row[k] * scale + shift }
                        }
                    }
                }
            }
        }
        let savedMean = mean, savedVar = variance
        var inputs = [self]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let result = record(out, "batchNorm", inputs) { [self] g in
            refuseToRecordBackward("batchNorm", advice: Tensor.batchNormOffTape)
            let gx = Tensor(uninitialized: self.shape)
            let gw = Tensor(uninitialized: [c]), gb = Tensor(uninitialized: [c])
            let pg = g.storage.pointer, pgx = gx.storage.pointer, pgw = gw.storage.pointer, pgb = gb.storage.pointer
            parallelFor(c, grain: 1) { channels in
                for ch in channels {
                    let mu0 = savedMean[ch], inv = 1 / (savedVar[ch] + eps).squareRoot()
                    var sg = 0.0, sgx = 0.0
                    for i in 0..<n {
                        let row = px + (i * c + ch) * inner, grow = pg + (i * c + ch) * inner
                        let (a, b) = Reduce.sumAndDeviationDot(grow, row, inner, from: mu0)
                        sg += Double(a); sgx += Double(b) * Double(inv)
                    }
                    pgb[ch] = Float(sg); pgw[ch] = Float(sgx)
                    let gamma = pw?[ch] ?? 1
                    let meanG = Float(sg / Double(m)), meanGX = Float(sgx / Double(m))
                    for i in 0..<n {
                        let row = px + (i * c + ch) * inner, grow = pg + (i * c + ch) * inner,
                            dst = pgx + (i * c + ch) * inner
                        for k in 0..<inner {
                            let xhat = (row[k] - mu0) * inv
                            dst[k] = gamma * inv * (grow[k] - meanG - xhat * meanGX)
                        }
                    }
                }
            }
            var grads: [Tensor?] = [gx]
            if weight != nil { grads.append(gw) }
            if bias != nil { grads.append(gb) }
            return grads
        }
        return (result, mean, variance)
    }
}

extension Tensor {
    /// Batch normalisation whose statistics span every process of a data-parallel run
    /// (synchronised BatchNorm, as torch.nn.SyncBatchNorm): `reduce` sums a vector over the
    /// processes. Forward sums Σx and the count, then Σ(x − μ)², over all processes; backward sums
    /// Σg and Σg·x̂ likewise, so each process gets the gradient of the loss summed over all of
    /// them with respect to its own inputs. dγ and dβ stay this process's own sums (the gradient
    /// all-reduce combines them). Returns the global mean, biased variance and count per channel.
    // Long: forward beside its backward (the engine's rule), with the cross-process sums.
    public func batchNorm(
        weight: Tensor?, bias: Tensor?, eps: Float, reduce: @escaping ([Double]) -> [Double]
    )
        -> (out: Tensor, mean: [Float], variance: [Float], count: Int)
    {
        if rank < 2 { shapeFailure("batchNorm", "input \(shape) has no channel axis") }
        let n = shape[0], c = shape[1], inner = count / Swift.max(n * c, 1)
        if let weight, weight.shape != [c] { shapeFailure("batchNorm", "weight \(weight.shape) for \(c) channels") }
        if let bias, bias.shape != [c] { shapeFailure("batchNorm", "bias \(bias.shape) for \(c) channels") }
        let px = storage.pointer
        // Per-channel sums over this process's rows, in double precision.
        func channelSums(_ value: @escaping (Int, Int) -> Double) -> [Double] {
            var out = [Double](repeating: 0, count: c)
            out.withUnsafeMutableBufferPointer { o in
                parallelFor(c, grain: 1) { channels in
                    for ch in channels {
                        var s = 0.0
                        for i in 0..<n {
                            let base = (i * c + ch) * inner; for k in 0..<inner { s += value(ch, base + k) }
                        }
                        o[ch] = s
                    }
                }
            }
            return out
        }
        let first = reduce(channelSums { _, j in Double(px[j]) } + [Double(n * inner)])
        let m = first[c]
        if m < 2 {
            shapeFailure("batchNorm", "needs more than one value per channel in training mode over all processes")
        }
        let mean = first.prefix(c).map { $0 / m }
        let sq = reduce(
            channelSums { ch, j in
                let d = Double(px[j]) - mean[ch]; return d * d
            })
        let variance = sq.map { $0 / m }
        let inv = variance.map { 1 / (Float($0) + eps).squareRoot() }
        let mu = mean.map { Float($0) }
        let out = Tensor(uninitialized: shape)
        let po = out.storage.pointer, pw = weight?.storage.pointer, pb = bias?.storage.pointer
        parallelFor(c, grain: 1) { channels in
            for ch in channels {
                let scale = (pw?[ch] ?? 1) * inv[ch], shift = (pb?[ch] ?? 0) - mu[ch] * scale
                for i in 0..<n {
                    let base = (i * c + ch) * inner; for k in 0..<inner { po[base + k] = px[base + k] * scale + shift }
                }
            }
        }
        var inputs = [self]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let result = record(out, "batchNormSynchronised", inputs) { [self] g in
            refuseToRecordBackward("batchNormSynchronised", advice: Tensor.batchNormOffTape)
            let pg = g.storage.pointer
            let sg = channelSums { _, j in Double(pg[j]) }
            let sgx = channelSums { ch, j in Double(pg[j]) * (Double(px[j]) - mean[ch]) * Double(inv[ch]) }
            let total = reduce(sg + sgx)
            let gx = Tensor(uninitialized: self.shape), pgx = gx.storage.pointer
            parallelFor(c, grain: 1) { channels in
                for ch in channels {
                    let gamma = pw?[ch] ?? 1, meanG = Float(total[ch] / m), meanGX = Float(total[c + ch] / m)
                    for i in 0..<n {
                        let base = (i * c + ch) * inner
                        for k in 0..<inner {
                            let xhat = (px[base + k] - mu[ch]) * inv[ch]
                            pgx[base + k] = gamma * inv[ch] * (pg[base + k] - meanG - xhat * meanGX)
                        }
                    }
                }
            }
            var grads: [Tensor?] = [gx]
            if weight != nil { grads.append(Tensor(shape: [c], data: sgx.map { Float($0) })) }
            if bias != nil { grads.append(Tensor(shape: [c], data: sg.map { Float($0) })) }
            return grads
        }
        return (result, mu, variance.map { Float($0) }, Int(m))
    }
}
