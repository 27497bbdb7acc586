import Engine

/// 2-D convolution over NCHW input; weight [out, in, kh, kw] as in PyTorch.
public final class Conv2d: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)

    public init(
        _ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
        padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), bias: Bool = true, rng: inout PRNG
    ) {
        self.stride = stride; self.padding = padding; self.dilation = dilation
        let fanIn = inChannels * kernel.0 * kernel.1
        weight = Tensor.zeros([outChannels, inChannels, kernel.0, kernel.1], requiresGrad: true)
        Init.kaimingUniform(weight, fanIn: fanIn, rng: &rng)
        self.bias = bias ? Init.bias(outChannels, fanIn: fanIn, rng: &rng) : nil
    }

    /// A convolution with the given weight [out, in, kh, kw] and bias.
    public init(
        weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
        dilation: (Int, Int) = (1, 1)
    ) {
        self.weight = weight; self.bias = bias
        self.stride = stride; self.padding = padding; self.dilation = dilation
    }

    public convenience init(
        _ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
        dilation: Int = 1, bias: Bool = true, rng: inout PRNG
    ) {
        self.init(
            inChannels, outChannels, kernel: (kernel, kernel), stride: (stride, stride), padding: (padding, padding),
            dilation: (dilation, dilation), bias: bias, rng: &rng)
    }

    public override func forward(_ x: Tensor) -> Tensor { forward(x, weight: weight) }

    public func forward(_ x: Tensor, weight: Tensor) -> Tensor {
        x.conv2d(weight, bias: bias, stride: stride, padding: padding, dilation: dilation)
    }

    public func replacingWeight(_ weight: Tensor) -> Module {
        Conv2d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation)
    }
}

extension Conv2d: WeightedLayer {}

/// Transposed 2-D convolution; weight [in, out, kh, kw] as in PyTorch.
public final class ConvTranspose2d: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: (Int, Int), padding: (Int, Int), outputPadding: (Int, Int), dilation: (Int, Int)

    public init(
        _ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
        padding: (Int, Int) = (0, 0), outputPadding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1),
        bias: Bool = true, rng: inout PRNG
    ) {
        self.stride = stride; self.padding = padding; self.outputPadding = outputPadding; self.dilation = dilation
        // PyTorch computes the fan-in of a transposed convolution from weight.shape[1] (= out channels).
        let fanIn = outChannels * kernel.0 * kernel.1
        weight = Tensor.zeros([inChannels, outChannels, kernel.0, kernel.1], requiresGrad: true)
        Init.kaimingUniform(weight, fanIn: fanIn, rng: &rng)
        self.bias = bias ? Init.bias(outChannels, fanIn: fanIn, rng: &rng) : nil
    }

    public convenience init(
        _ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
        outputPadding: Int = 0, dilation: Int = 1, bias: Bool = true, rng: inout PRNG
    ) {
        self.init(
            inChannels, outChannels, kernel: (kernel, kernel), stride: (stride, stride), padding: (padding, padding),
            outputPadding: (outputPadding, outputPadding), dilation: (dilation, dilation), bias: bias, rng: &rng)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        x.convTranspose2d(
            weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding, dilation: dilation)
    }
}
