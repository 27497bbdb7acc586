import Engine

/// Runs its layers in order; keys are the layer indices ("0.weight", "2.bias"), as nn.Sequential.
public final class Sequential: Module {
    public let layers: [Module]

    public init(_ layers: [Module]) { self.layers = layers }

    public override func forward(_ x: Tensor) -> Tensor { layers.reduce(x) { $1($0) } }

    // Keys are "0.…", not "layers.0.…", to match nn.Sequential's state_dict.
    public override func namedChildren() -> [(String, Module)] {
        layers.enumerated().map { ("\($0.offset)", $0.element) }
    }
}

public final class ReLU: Module {
    public override func forward(_ x: Tensor) -> Tensor { x.relu() }
}

public final class LeakyReLU: Module {
    public let slope: Float
    public init(_ slope: Float = 0.01) { self.slope = slope }
    public override func forward(_ x: Tensor) -> Tensor { x.leakyRelu(slope) }
}

public final class Sigmoid: Module {
    public override func forward(_ x: Tensor) -> Tensor { x.sigmoid() }
}

public final class Tanh: Module {
    public override func forward(_ x: Tensor) -> Tensor { x.tanh() }
}

public final class Softplus: Module {
    public override func forward(_ x: Tensor) -> Tensor { x.softplus() }
}

/// Inverted dropout in training mode, identity in evaluation mode. Its mask stream is seeded.
public final class Dropout: Module {
    public let p: Float
    var _rng: PRNG

    public init(_ p: Float = 0.5, rng: inout PRNG) {
        precondition(p >= 0 && p < 1, "GenLab Dropout: p must be in [0, 1), got \(p)")
        self.p = p
        _rng = rng.fork(0xD5)
        _ = rng.next()
    }

    public override func forward(_ x: Tensor) -> Tensor { isTraining ? x.dropout(p, rng: &_rng) : x }
}

/// Flattens axes from `startDim` on (default 1: keeps the batch axis).
public final class Flatten: Module {
    public let startDim: Int
    public init(startDim: Int = 1) { self.startDim = startDim }
    public override func forward(_ x: Tensor) -> Tensor { x.flatten(from: startDim) }
}

/// Reshapes each sample to `shape` (the batch axis is kept).
public final class Reshape: Module {
    public let shape: [Int]
    public init(_ shape: [Int]) { self.shape = shape }
    public override func forward(_ x: Tensor) -> Tensor { x.reshape([x.shape[0]] + shape) }
}

public final class MaxPool2d: Module {
    public let kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    public init(_ kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernel = (kernel, kernel); self.stride = (stride ?? kernel, stride ?? kernel);
        self.padding = (padding, padding)
    }
    public override func forward(_ x: Tensor) -> Tensor {
        x.maxPool2d(kernel: kernel, stride: stride, padding: padding)
    }
}

public final class AvgPool2d: Module {
    public let kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    public init(_ kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernel = (kernel, kernel); self.stride = (stride ?? kernel, stride ?? kernel);
        self.padding = (padding, padding)
    }
    public override func forward(_ x: Tensor) -> Tensor {
        x.avgPool2d(kernel: kernel, stride: stride, padding: padding)
    }
}
