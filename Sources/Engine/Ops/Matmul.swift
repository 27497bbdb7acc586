// Matrix products through BLAS, batched over leading dims (with broadcasting of the batch dims).

extension Tensor {
    /// op(self) · op(other) on the last two axes, where op transposes when asked; leading axes are
    /// batch axes and broadcast. 1-D operands are not promoted: use `reshape`.
    // Long: forward beside its backward (the engine's rule), over the batched and transposed cases.
    public func matmul(_ other: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        let a = self, b = other
        if a.rank < 2 || b.rank < 2 { shapeFailure("matmul", "operands need rank ≥ 2, got \(a.shape) and \(b.shape)") }
        let m = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]
        let k = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        let kb = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
        let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        if k != kb {
            shapeFailure(
                "matmul", "inner sizes differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let batch = Shape.broadcast(batchA, batchB, op: "matmul")
        let out = Tensor(uninitialized: batch + [m, n])
        let batches = Shape.count(batch)
        let sa = batchA == batch ? m * k : (Shape.count(batchA) == 1 ? 0 : -1)
        let sb = batchB == batch ? k * n : (Shape.count(batchB) == 1 ? 0 : -1)
        if sa < 0 || sb < 0 {
            // Partial batch broadcasting: materialise it, then multiply.
            return a.expand(batch + Array(a.shape.suffix(2))).matmul(
                b.expand(batch + Array(b.shape.suffix(2))),
                transposeA: transposeA, transposeB: transposeB)
        }
        let pa = a.storage.pointer, pb = b.storage.pointer, po = out.storage.pointer
        let lda = a.shape[a.rank - 1], ldb = b.shape[b.rank - 1]
        if sb == 0 && !transposeA && batches > 1 {
            // A shared right operand: one tall GEMM over all batches at once.
            BLAS.sgemm(
                transA: false, transB: transposeB, m: batches * m, n: n, k: k, a: pa, lda: lda, b: pb, ldb: ldb, c: po,
                ldc: n)
        } else {
            // Batches side by side on the pool, one whole product each (a GEMM inside a pool job runs
            // on its thread): one dispatch instead of one per product, same numbers (no product is
            // split along k either way).
            parallelFor(batches, grain: 1) { r in
                for i in r {
                    BLAS.sgemm(
                        transA: transposeA, transB: transposeB, m: m, n: n, k: k, a: pa + i * sa, lda: lda,
                        b: pb + i * sb, ldb: ldb, c: po + i * m * n, ldc: n)
                }
            }
        }
        // C = op(A)·op(B): dA and dB follow from dC with the transposes arranged so no copy is made.
        return record(out, "matmul", [a, b]) { g in
            var ga: Tensor? = nil, gb: Tensor? = nil
            if a.requiresGrad {
                switch (transposeA, transposeB) {
                case (false, false): ga = g.matmul(b, transposeB: true)
                case (false, true): ga = g.matmul(b)
                case (true, false): ga = b.matmul(g, transposeB: true)
                case (true, true): ga = b.matmul(g, transposeA: true, transposeB: true)
                }
            }
            if b.requiresGrad {
                switch (transposeA, transposeB) {
                case (false, false): gb = a.matmul(g, transposeA: true)
                case (false, true): gb = g.matmul(a, transposeA: true)
                case (true, false): gb = a.matmul(g)
                case (true, true): gb = g.matmul(a, transposeA: true, transposeB: true)
                }
            }
            return [ga?.sumTo(a.shape), gb?.sumTo(b.shape)]
        }
    }
}
