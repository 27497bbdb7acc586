/// Reverse-mode automatic differentiation, define-by-run.
///
/// Every op that has an input requiring a gradient records a `GradFn`: its inputs and a closure that
/// maps the gradient of its output to the gradients of its inputs. `backward()` visits the recorded
/// graph in reverse topological order. Backward closures are written with tensor ops and run with
/// recording switched off — or on, for `backward(createGraph: true)` and `grad(of:withRespectTo:
/// createGraph: true)`, which record the backward pass itself so that it can be differentiated again
/// (gradients of gradients: WGAN-GP, R1). A rule that uses a raw kernel checks `creatingGraph()` and
/// then takes a differentiable form; the few that have none refuse, naming the op.
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

/// Inside a backward rule: whether the rule is itself being recorded (`createGraph`), so that it
/// must be built from differentiable ops rather than a raw kernel.
@inline(__always)
public func creatingGraph() -> Bool { GradMode.isEnabled }

/// For a backward rule with no differentiable form: stops a recorded backward pass, naming the op.
func refuseToRecordBackward(_ op: String, advice: String) {
    if creatingGraph() {
        preconditionFailure("GenLab backward(createGraph: true): \(op) has no differentiable backward rule; \(advice)")
    }
}

/// A map that is linear in `x`, computed by a raw kernel (`apply`), recorded with `adjoint` as its
/// backward rule — itself recorded the same way, with `apply` as its adjoint — so that gathers,
/// scatters, padding and pooling routes can be differentiated any number of times.
func linearMap(
    _ name: String, _ x: Tensor, apply: @escaping (Tensor) -> Tensor, adjoint: @escaping (Tensor) -> Tensor
) -> Tensor {
    let out = noGrad { apply(x) }
    return record(out, name, [x]) { g in [linearMap(name + "ᵀ", g, apply: adjoint, adjoint: apply)] }
}

/// The gradients of `output` with respect to `inputs` (torch.autograd.grad), without touching any
/// `.grad`: nil for an input the output does not depend on. `gradient` defaults to 1 for a
/// one-element output. With `createGraph` the returned gradients are on the tape (their own
/// gradients can be taken: a gradient penalty), and the graph is kept unless `retainGraph` is false.
public func grad(
    of output: Tensor, withRespectTo inputs: [Tensor], gradient: Tensor? = nil, createGraph: Bool = false,
    retainGraph: Bool? = nil
) -> [Tensor?] {
    precondition(
        inputs.allSatisfy(\.requiresGrad),
        "GenLab grad: every input must require a gradient, got shapes \(inputs.map(\.shape))")
    let wanted = Set(inputs.map(ObjectIdentifier.init))
    var found: [ObjectIdentifier: Tensor] = [:]
    output.propagate(
        gradient, retainGraph: retainGraph ?? createGraph, createGraph: createGraph, targets: wanted
    ) { t, g in found[ObjectIdentifier(t)] = g }
    return inputs.map { found[ObjectIdentifier($0)] }
}

extension Tensor {
    /// Accumulates d(self)/d(leaf) into `.grad` of every leaf that requires a gradient.
    /// `gradient` defaults to 1 for a one-element tensor. The graph's saved values are freed as
    /// it goes unless `retainGraph` (needed to run backward through the same graph again).
    /// `createGraph` records the backward pass (the `.grad`s it leaves can be differentiated
    /// again) and keeps the graph.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false, createGraph: Bool = false) {
        propagate(gradient, retainGraph: retainGraph || createGraph, createGraph: createGraph, targets: nil) { t, g in
            t.accumulateGrad(g, createGraph: createGraph)
        }
    }

    /// The backward pass: hands each leaf (or retained / targeted tensor) its total gradient.
    /// `targets`: visit only what lies between them and self (nil: everything).
    // Long: the one traversal both `backward` and `grad(of:)` use.
    fileprivate func propagate(
        _ gradient: Tensor?, retainGraph: Bool, createGraph: Bool, targets: Set<ObjectIdentifier>?,
        deliver: (Tensor, Tensor) -> Void
    ) {
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
        // With targets: a tensor is worth visiting when a target lies at or behind it.
        var leadsToTarget = Set<ObjectIdentifier>()
        if let targets {
            for t in order {
                let id = ObjectIdentifier(t)
                if targets.contains(id)
                    || (t.gradFn?.inputs ?? []).contains(where: { leadsToTarget.contains(ObjectIdentifier($0)) })
                {
                    leadsToTarget.insert(id)
                }
            }
        }
        func wanted(_ t: Tensor) -> Bool { targets == nil || leadsToTarget.contains(ObjectIdentifier(t)) }
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        GradMode.$isEnabled.withValue(createGraph) {
            for t in order.reversed() {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
                if let targets {
                    if targets.contains(ObjectIdentifier(t)) { deliver(t, g) }
                } else if t.gradFn == nil || t.retainsGrad {
                    deliver(t, g)
                }
                guard let fn = t.gradFn, wanted(t) else { continue }
                guard let rule = fn.backward else {
                    preconditionFailure(
                        "GenLab backward: the graph through \(fn.name) was already freed by an earlier backward(); "
                            + "pass retainGraph: true to the first backward to go through it again")
                }
                let inputs = fn.inputs
                if !retainGraph { fn.release() }
                let inputGrads = rule(g)
                for (input, gi) in zip(inputs, inputGrads) {
                    guard input.requiresGrad, wanted(input), let gi else { continue }
                    assert(
                        gi.shape == input.shape,
                        "GenLab \(fn.name) backward: gradient \(gi.shape) for input \(input.shape)")
                    let key = ObjectIdentifier(input)
                    grads[key] = grads[key].map { $0 + gi } ?? gi
                }
            }
        }
    }

    private func accumulateGrad(_ g: Tensor, createGraph: Bool) {
        if createGraph {
            // On the tape, so never added to in place; `+ 0` gives it its own storage, as a rule may
            // hand the same tensor to several inputs.
            grad = grad.map { $0 + g } ?? g + 0
        } else if let existing = grad, !existing.requiresGrad {
            addInPlace(existing, g)
        } else {
            // A rule may hand one tensor to several inputs: the first gradient is copied.
            grad = grad.map { existing in noGrad { existing + g } } ?? g.copy()
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
