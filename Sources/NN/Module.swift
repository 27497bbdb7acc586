import Engine

/// A non-trainable tensor that belongs to a module's state (BatchNorm's running statistics):
/// saved in checkpoints under its key path, never handed to an optimiser.
public final class Buffer {
    public var value: Tensor
    public init(_ value: Tensor) { self.value = value }
}

/// The base of every layer and model: named parameters, buffers and submodules, train/eval mode.
///
/// Parameters, buffers and submodules are found by reflection over stored properties, so a model
/// written as
///
///     final class Encoder: Module { let conv1 = Conv2d(…); let fc = Linear(…) }
///
/// has the key paths `conv1.weight`, `conv1.bias`, `fc.weight`, … — PyTorch's `state_dict` names
/// for the same architecture. A `Tensor` property is a parameter, a `Buffer` a buffer, a `Module`
/// (or an array of them, keyed by index as in `nn.Sequential`) a submodule. Properties whose
/// names start with an underscore are skipped.
open class Module {
    /// Training mode (batch statistics, dropout) versus evaluation mode.
    public private(set) var isTraining = true

    public init() {}

    /// The layer's function; models with several inputs or outputs define their own methods.
    open func forward(_ x: Tensor) -> Tensor {
        preconditionFailure("GenLab: \(type(of: self)) has no single-tensor forward")
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { forward(x) }

    /// Switches this module and every submodule to training (`true`) or evaluation mode.
    public func train(_ on: Bool = true) {
        isTraining = on
        for (_, m) in namedChildren() { m.train(on) }
    }

    public func eval() { train(false) }

    /// Direct submodules with their names.
    public func namedChildren() -> [(String, Module)] {
        var out: [(String, Module)] = []
        forEachProperty { name, value in
            if let m = value as? Module {
                out.append((name, m))
            } else if let ms = value as? [Module] {
                for (i, m) in ms.enumerated() { out.append(("\(name).\(i)", m)) }
            }
        }
        return out
    }

    /// This module and every descendant under its key path ("" for this one).
    public func namedModules(prefix: String = "") -> [(String, Module)] {
        var out: [(String, Module)] = [(prefix, self)]
        for (name, m) in namedChildren() { out += m.namedModules(prefix: prefix.isEmpty ? name : prefix + "." + name) }
        return out
    }

    /// Every parameter under its key path, depth first in declaration order.
    public func namedParameters(prefix: String = "") -> [(String, Tensor)] { named(Tensor.self, prefix: prefix) }

    /// Every buffer under its key path.
    public func namedBuffers(prefix: String = "") -> [(String, Buffer)] { named(Buffer.self, prefix: prefix) }

    /// Stored properties of type T here, then in every submodule, under their key paths.
    private func named<T>(_ type: T.Type, prefix: String) -> [(String, T)] {
        var out: [(String, T)] = []
        forEachProperty { name, value in
            if let t = value as? T { out.append((prefix + name, t)) }
        }
        for (name, m) in namedChildren() { out += m.named(type, prefix: prefix + name + ".") }
        return out
    }

    public func parameters() -> [Tensor] { namedParameters().map(\.1) }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// Parameters and buffers by key path (PyTorch's `state_dict`).
    public func stateDict() -> [String: Tensor] {
        var d: [String: Tensor] = [:]
        for (k, t) in namedParameters() { d[k] = t }
        for (k, b) in namedBuffers() { d[k] = b.value }
        return d
    }

    /// Copies values into the parameters and buffers. With `strict`, a missing or unexpected key is
    /// an error; a shape mismatch always is. Returns the keys that were not loaded.
    @discardableResult
    public func loadStateDict(
        _ dict: [String: Tensor], strict: Bool = true
    ) throws -> (missing: [String], unexpected: [String]) {
        var missing: [String] = []
        var used = Set<String>()
        for (k, t) in namedParameters() {
            guard let v = dict[k] else { missing.append(k); continue }
            guard v.shape == t.shape else {
                throw StateDictError.shapeMismatch(key: k, expected: t.shape, found: v.shape)
            }
            t.assign(v)
            used.insert(k)
        }
        for (k, b) in namedBuffers() {
            guard let v = dict[k] else { missing.append(k); continue }
            guard v.shape == b.value.shape else {
                throw StateDictError.shapeMismatch(key: k, expected: b.value.shape, found: v.shape)
            }
            b.value = v.copy()
            used.insert(k)
        }
        let unexpected = dict.keys.filter { !used.contains($0) }.sorted()
        if strict && (!missing.isEmpty || !unexpected.isEmpty) {
            throw StateDictError.keys(missing: missing, unexpected: unexpected)
        }
        return (missing, unexpected)
    }

    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters() { p.zeroGrad() } }

    /// Runs `body` with this module's parameters cut from gradients (PyTorch's
    /// `requires_grad_(False)` around a block), then restores each as it was. Gradients still flow
    /// through the module to its inputs, but no parameter gradient is computed or accumulated —
    /// a GAN's generator step, which needs only the gradient through the discriminator, not the
    /// discriminator's own (its next step clears them anyway), skips its weight gradients.
    public func frozen<T>(_ body: () throws -> T) rethrows -> T {
        let trainable = parameters().filter(\.requiresGrad)
        for p in trainable { p.requiresGrad = false }
        defer { for p in trainable { p.requiresGrad = true } }
        return try body()
    }

    private func forEachProperty(_ body: (String, Any) -> Void) {
        var mirror: Mirror? = Mirror(reflecting: self)
        var levels: [Mirror] = []
        while let m = mirror { levels.append(m); mirror = m.superclassMirror }
        // Base-class properties first, as PyTorch registers them in __init__ order.
        for m in levels.reversed() {
            for child in m.children {
                guard let label = child.label, !label.hasPrefix("_"), !label.hasPrefix("$") else { continue }
                body(label, child.value)
            }
        }
    }
}

public enum StateDictError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(key: String, expected: [Int], found: [Int])
    case keys(missing: [String], unexpected: [String])

    public var description: String {
        switch self {
        case let .shapeMismatch(key, expected, found):
            return "state dict key '\(key)': shape \(found) does not match the model's \(expected)"
        case let .keys(missing, unexpected):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing keys: \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("unexpected keys: \(unexpected.joined(separator: ", "))") }
            return "state dict does not match the model: " + parts.joined(separator: "; ")
        }
    }
}
