// Batch normalisation of a channel-blocked tensor (`Layout.blocked16`/`.blocked8`), the layout a
// convolution on oneDNN leaves: the same statistics, map and backward rule as `batchNorm`, with a
// block's channels side by side in each vector. The output and the input gradient stay blocked.

extension Tensor {
    @inline(__always)
    private static func load<Lanes: SIMD>(_ p: UnsafeMutablePointer<Float>) -> Lanes where Lanes.Scalar == Float {
        UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
    }

    @inline(__always)
    private static func store<Lanes: SIMD>(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) where Lanes.Scalar == Float {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
    }

    /// `batchNorm` for a blocked `self` ([N, C, H, W]) lying in `layout`.
    func batchNormBlocked(
        _ values: Storage, layout: Layout, weight: Tensor?, bias: Tensor?, eps: Float
    ) -> (out: Tensor, mean: [Float], variance: [Float]) {
        layout == .blocked16
            ? batchNormBlocked(values, SIMD16<Float>.self, layout: layout, weight: weight, bias: bias, eps: eps)
            : batchNormBlocked(values, SIMD8<Float>.self, layout: layout, weight: weight, bias: bias, eps: eps)
    }

    /// The same for blocks of `Lanes.scalarCount` channels: the per-channel sums in single
    /// precision over each image's positions, in double precision over the batch.
    // Long: forward beside its backward (the engine's rule).
    private func batchNormBlocked<Lanes: SIMD>(
        _ values: Storage, _: Lanes.Type, layout: Layout, weight: Tensor?, bias: Tensor?, eps: Float
    ) -> (out: Tensor, mean: [Float], variance: [Float]) where Lanes.Scalar == Float {
        let n = shape[0], c = shape[1], plane = shape[2] * shape[3], m = n * plane
        let lanes = Lanes.scalarCount, blocks = c / lanes
        let out = Tensor(shape: shape, storage: Storage(count: count), layout: layout)
        var mean = [Float](repeating: 0, count: c), variance = [Float](repeating: 0, count: c)
        let px = values.pointer, po = out.raw.storage.pointer
        let pw = weight?.storage.pointer, pb = bias?.storage.pointer
        // The first element of block b of image i.
        func at(_ i: Int, _ b: Int) -> Int { (i * blocks + b) * plane * lanes }
        mean.withUnsafeMutableBufferPointer { mu in
            variance.withUnsafeMutableBufferPointer { va in
                parallelFor(blocks, grain: 1) { range in
                    for b in range {
                        var s = [Double](repeating: 0, count: lanes)
                        for i in 0..<n {
                            var acc = Lanes()
                            let p = px + at(i, b)
                            for k in 0..<plane { acc += Self.load(p + k * lanes) as Lanes }
                            for l in 0..<lanes { s[l] += Double(acc[l]) }
                        }
                        var mu0 = Lanes()
                        for l in 0..<lanes { mu0[l] = Float(s[l] / Double(m)) }
                        var sq = [Double](repeating: 0, count: lanes)
                        for i in 0..<n {
                            var acc = Lanes()
                            let p = px + at(i, b)
                            for k in 0..<plane {
                                let d = (Self.load(p + k * lanes) as Lanes) - mu0
                                acc += d * d
                            }
                            for l in 0..<lanes { sq[l] += Double(acc[l]) }
                        }
                        var scale = Lanes(), shift = Lanes()
                        for l in 0..<lanes {
                            let ch = b * lanes + l, v = Float(sq[l] / Double(m))
                            mu[ch] = mu0[l]; va[ch] = v
                            scale[l] = (pw?[ch] ?? 1) / (v + eps).squareRoot()
                            shift[l] = (pb?[ch] ?? 0) - mu0[l] * scale[l]
                        }
                        for i in 0..<n {
                            let p = px + at(i, b), q = po + at(i, b)
                            for k in 0..<plane {
                                Self.store((Self.load(p + k * lanes) as Lanes) * scale + shift, q + k * lanes)
                            }
                        }
                    }
                }
            }
        }
        let savedMean = mean, savedVar = variance
        var inputs = [self]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let result = record(out, "batchNorm", inputs) { [self, values] g in
            refuseToRecordBackward("batchNorm", advice: Tensor.batchNormOffTape)
            let gValues = g.values(in: layout)
            let gx = Tensor(shape: self.shape, storage: Storage(count: self.count), layout: layout)
            let gw = Tensor(uninitialized: [c]), gb = Tensor(uninitialized: [c])
            let pg = gValues.pointer, pgx = gx.raw.storage.pointer, pgw = gw.storage.pointer, pgb = gb.storage.pointer
            let px = values.pointer
            withExtendedLifetime(gValues) {
                parallelFor(blocks, grain: 1) { range in
                    for b in range {
                        var mu0 = Lanes(), inv = Lanes(), gamma = Lanes()
                        for l in 0..<lanes {
                            let ch = b * lanes + l
                            mu0[l] = savedMean[ch]; inv[l] = 1 / (savedVar[ch] + eps).squareRoot()
                            gamma[l] = pw?[ch] ?? 1
                        }
                        var sg = [Double](repeating: 0, count: lanes), sgx = sg
                        for i in 0..<n {
                            var a = Lanes(), d = Lanes()
                            let p = px + at(i, b), q = pg + at(i, b)
                            for k in 0..<plane {
                                let gk: Lanes = Self.load(q + k * lanes)
                                a += gk
                                d += gk * ((Self.load(p + k * lanes) as Lanes) - mu0)
                            }
                            for l in 0..<lanes { sg[l] += Double(a[l]); sgx[l] += Double(d[l]) * Double(inv[l]) }
                        }
                        var meanG = Lanes(), meanGX = Lanes()
                        for l in 0..<lanes {
                            pgb[b * lanes + l] = Float(sg[l]); pgw[b * lanes + l] = Float(sgx[l])
                            meanG[l] = Float(sg[l] / Double(m)); meanGX[l] = Float(sgx[l] / Double(m))
                        }
                        let factor = gamma * inv
                        for i in 0..<n {
                            let p = px + at(i, b), q = pg + at(i, b), r = pgx + at(i, b)
                            for k in 0..<plane {
                                let xhat = ((Self.load(p + k * lanes) as Lanes) - mu0) * inv
                                let gk: Lanes = Self.load(q + k * lanes)
                                Self.store(factor * (gk - meanG - xhat * meanGX), r + k * lanes)
                            }
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
