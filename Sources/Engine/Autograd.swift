/// Reverse-mode automatic differentiation, define-by-run.
///
/// Every op that has an input requiring a gradient records a `GradFn`: its inputs and a closure that
/// maps the gradient of its output to the gradients of its inputs. `backward()` visits the recorded
/// graph in reverse topological order. Backward closures are written with tensor ops, run with
/// recording switched off; switching it on would give gradients of gradients (not needed yet).
///
/// As in PyTorch, `backward()` frees what each entry saved for it (its inputs and the closure's
/// captures: activations, unfolded columns) once it has run, unless asked to keep the graph.
public final class GradFn {
    public let name: String
    private(set) var inputs: [Tensor]
    private(set) var backward: ((Tensor) -> [Tensor?])?

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }

    func release() {
        inputs = []
        backward = nil
    }
}

/// Whether ops record themselves on the tape (per task/thread).
public enum GradMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording ops (evaluation, optimiser updates).
@discardableResult
public func noGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$isEnabled.withValue(false, operation: body)
}

/// Attaches a tape entry to `out` when recording is on and an input requires a gradient.
@inline(__always)
func record(_ out: Tensor, _ name: String, _ inputs: [Tensor], _ backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
    var needed = false
    for t in inputs where t.requiresGrad { needed = true; break }
    if needed && GradMode.isEnabled {
        out.requiresGrad = true
        out.gradFn = GradFn(name: name, inputs: inputs, backward: backward)
    }
    return out
}

extension Tensor {
    /// Accumulates d(self)/d(leaf) into `.grad` of every leaf that requires a gradient.
    /// `gradient` defaults to 1 for a one-element tensor. The graph's saved values are freed as
    /// it goes unless `retainGraph` (needed to run backward through the same graph again).
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) {
        precondition(requiresGrad, "GenLab backward: tensor \(shape) does not require a gradient")
        let seed: Tensor
        if let gradient {
            precondition(gradient.shape == shape, "GenLab backward: gradient \(gradient.shape) for tensor \(shape)")
            seed = gradient
        } else {
            precondition(count == 1, "GenLab backward: implicit gradient needs a one-element tensor, got \(shape)")
            seed = Tensor.ones(shape)
        }
        let order = topologicalOrder()
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        noGrad {
            for t in order.reversed() {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
                guard let fn = t.gradFn else { t.accumulateGrad(g); continue }
                if t.retainsGrad { t.accumulateGrad(g) }
                guard let rule = fn.backward else {
                    preconditionFailure(
                        "GenLab backward: the graph through \(fn.name) was already freed by an earlier backward(); "
                            + "pass retainGraph: true to the first backward to go through it again")
                }
                let inputs = fn.inputs
                if !retainGraph { fn.release() }
                let inputGrads = rule(g)
                for (input, gi) in zip(inputs, inputGrads) {
                    guard input.requiresGrad, let gi else { continue }
                    assert(
                        gi.shape == input.shape,
                        "GenLab \(fn.name) backward: gradient \(gi.shape) for input \(input.shape)")
                    let key = ObjectIdentifier(input)
                    grads[key] = grads[key].map { $0 + gi } ?? gi
                }
            }
        }
    }

    private func accumulateGrad(_ g: Tensor) {
        if let existing = grad {
            addInPlace(existing, g)
        } else {
            grad = g.copy()  // a backward rule may hand the same tensor to several inputs
        }
    }

    /// Tensors reachable through the tape, each after all of its inputs.
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (t, next) = stack.popLast() {
            let inputs = t.gradFn?.inputs ?? []
            if next < inputs.count {
                stack.append((t, next + 1))
                let child = inputs[next]
                if child.requiresGrad && visited.insert(ObjectIdentifier(child)).inserted {
                    stack.append((child, 0))
                }
            } else {
                order.append(t)
            }
        }
        return order
    }
}

/// `target += source`, elementwise, for gradient accumulation and optimisers.
public func addInPlace(_ target: Tensor, _ source: Tensor, scale: Float = 1) {
    precondition(target.shape == source.shape, "GenLab addInPlace: \(source.shape) into \(target.shape)")
    let t = target.storage.pointer, s = source.storage.pointer
    parallelFor(target.count) { r in for i in r { t[i] += scale * s[i] } }
}
