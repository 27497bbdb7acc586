import CKernels

// Loss terms as single ops: one pass forward and one backward instead of a chain of elementwise
// ops and their gradients, with the CPU's widest vectors (CKernels). The composite each one
// replaces stays as its reference (tested to agree).

extension Tensor {
    /// Binary cross-entropy of logits (self) against targets of the same shape, element by
    /// element: max(x, 0) − x·t + log(1 + e^−|x|) — `softplus() - self * target` in one pass, and
    /// its gradient σ(x) − t (and −x for the target, when it requires one) in one pass.
    public func binaryCrossEntropyWithLogits(_ target: Tensor) -> Tensor {
        guard shape == target.shape else {
            shapeFailure("binaryCrossEntropyWithLogits", "logits \(shape) and target \(target.shape) differ")
        }
        let out = Tensor(uninitialized: shape)
        let px = storage.pointer, pt = target.storage.pointer, po = out.storage.pointer
        withExtendedLifetime((self, target)) {
            parallelFor(count) { r in
                genlab_bce_logits_forward(px + r.lowerBound, pt + r.lowerBound, po + r.lowerBound, r.count)
            }
        }
        return record(out, "binaryCrossEntropyWithLogits", [self, target]) {
            [self, target, x = self.detach(), t = target.detach(), needsTarget = target.requiresGrad] g in
            // Recorded: the composite's derivative, σ(x) − t and −x, on the tape.
            if creatingGraph() { return [g * (self.sigmoid() - target), needsTarget ? -(g * self) : nil] }
            let dx = Tensor(uninitialized: x.shape)
            let pg = g.storage.pointer, px = x.storage.pointer, pt = t.storage.pointer, pd = dx.storage.pointer
            withExtendedLifetime((g, x, t)) {
                parallelFor(x.count) { r in
                    let o = r.lowerBound
                    genlab_bce_logits_backward(pg + o, px + o, pt + o, pd + o, r.count)
                }
            }
            return [dx, needsTarget ? -(g * x) : nil]
        }
    }
}
