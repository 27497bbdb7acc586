// Batch normalisation as one fused op (training mode): statistics, normalisation and the affine
// map in two passes, and a backward rule in two more, instead of ~8 elementwise ops each way.

extension Tensor {
    /// Normalises each channel (axis 1) of [N, C, …] with the batch's mean and biased variance,
    /// then applies y = γ·x̂ + β. Returns the output and the per-channel mean and biased variance
    /// (for running statistics).
    ///
    /// Backward, with x̂ = (x − μ)/σ, σ = √(var + ε), m the count per channel:
    ///   dβ = Σ g,  dγ = Σ g·x̂,  dx = (γ/σ)·(g − Σg/m − x̂·Σ(g·x̂)/m)
    public func batchNorm(weight: Tensor?, bias: Tensor?, eps: Float) -> (out: Tensor, mean: [Float], variance: [Float]) {
        if rank < 2 { shapeFailure("batchNorm", "input \(shape) has no channel axis") }
        let n = shape[0], c = shape[1], inner = count / Swift.max(n * c, 1), m = n * inner
        if let weight, weight.shape != [c] { shapeFailure("batchNorm", "weight \(weight.shape) for \(c) channels") }
        if let bias, bias.shape != [c] { shapeFailure("batchNorm", "bias \(bias.shape) for \(c) channels") }
        if m < 2 { shapeFailure("batchNorm", "needs more than one value per channel in training mode, got input \(shape)") }
        let out = Tensor(uninitialized: shape)
        var mean = [Float](repeating: 0, count: c), variance = [Float](repeating: 0, count: c)
        let px = storage.pointer, po = out.storage.pointer
        let pw = weight?.storage.pointer, pb = bias?.storage.pointer
        mean.withUnsafeMutableBufferPointer { mu in
            variance.withUnsafeMutableBufferPointer { va in
                parallelFor(c, grain: 1) { channels in
                    for ch in channels {
                        var s = 0.0
                        for i in 0..<n { let row = px + (i * c + ch) * inner; s += Double(Reduce.sumContiguous(row, inner)) }
                        let mu0 = Float(s / Double(m))
                        var sq = 0.0
                        for i in 0..<n {
                            let row = px + (i * c + ch) * inner
                            var acc: Float = 0
                            for k in 0..<inner { let d = row[k] - mu0; acc += d * d }
                            sq += Double(acc)
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
            let gx = Tensor(uninitialized: self.shape)
            let gw = Tensor(uninitialized: [c]), gb = Tensor(uninitialized: [c])
            let pg = g.storage.pointer, pgx = gx.storage.pointer, pgw = gw.storage.pointer, pgb = gb.storage.pointer
            parallelFor(c, grain: 1) { channels in
                for ch in channels {
                    let mu0 = savedMean[ch], inv = 1 / (savedVar[ch] + eps).squareRoot()
                    var sg = 0.0, sgx = 0.0
                    for i in 0..<n {
                        let row = px + (i * c + ch) * inner, grow = pg + (i * c + ch) * inner
                        var a: Float = 0, b: Float = 0
                        for k in 0..<inner { a += grow[k]; b += grow[k] * (row[k] - mu0) }
                        sg += Double(a); sgx += Double(b) * Double(inv)
                    }
                    pgb[ch] = Float(sg); pgw[ch] = Float(sgx)
                    let gamma = pw?[ch] ?? 1
                    let meanG = Float(sg / Double(m)), meanGX = Float(sgx / Double(m))
                    for i in 0..<n {
                        let row = px + (i * c + ch) * inner, grow = pg + (i * c + ch) * inner, dst = pgx + (i * c + ch) * inner
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
