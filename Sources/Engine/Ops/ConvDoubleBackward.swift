// The convolutions' backward passes written with differentiable ops, for a recorded backward pass
// (gradients of gradients): the input gradient of a convolution is a transposed convolution of the
// output gradient and the other way round, and the weight gradient is its own op whose backward is
// again a pair of convolutions.

extension Tensor {
    /// conv2d's gradients for output gradient `gOut`, on the tape.
    static func conv2dBackwardOnTape(
        _ gOut: Tensor, _ x: Tensor, _ weight: Tensor, _ bias: Tensor?, _ stride: (Int, Int), _ padding: (Int, Int),
        _ dilation: (Int, Int)
    ) -> [Tensor?] {
        let kernel = (weight.shape[2], weight.shape[3])
        var grads: [Tensor?] = [
            x.requiresGrad
                ? gOut.convTranspose2d(
                    weight, stride: stride, padding: padding,
                    outputPadding: convOutputPadding(
                        input: (x.shape[2], x.shape[3]), output: (gOut.shape[2], gOut.shape[3]), kernel: kernel,
                        stride: stride, padding: padding, dilation: dilation),
                    dilation: dilation) : nil,
            weight.requiresGrad
                ? conv2dWeightGradient(
                    input: x, outputGradient: gOut, kernel: kernel, stride: stride, padding: padding, dilation: dilation
                )
                : nil,
        ]
        if let bias { grads.append(bias.requiresGrad ? gOut.sum(axes: [0, 2, 3]) : nil) }
        return grads
    }

    /// convTranspose2d's gradients for output gradient `gOut`, on the tape: the transposed
    /// convolution is conv2d's input gradient, so its own input gradient is conv2d of gOut, and its
    /// weight gradient is conv2d's weight gradient with the roles of input and output swapped.
    static func convTranspose2dBackwardOnTape(
        _ gOut: Tensor, _ x: Tensor, _ weight: Tensor, _ bias: Tensor?, _ stride: (Int, Int), _ padding: (Int, Int),
        _ dilation: (Int, Int)
    ) -> [Tensor?] {
        var grads: [Tensor?] = [
            x.requiresGrad ? gOut.conv2d(weight, stride: stride, padding: padding, dilation: dilation) : nil,
            weight.requiresGrad
                ? conv2dWeightGradient(
                    input: gOut, outputGradient: x, kernel: (weight.shape[2], weight.shape[3]), stride: stride,
                    padding: padding, dilation: dilation) : nil,
        ]
        if let bias { grads.append(bias.requiresGrad ? gOut.sum(axes: [0, 2, 3]) : nil) }
        return grads
    }

    /// The output padding a transposed convolution needs to give back a conv2d input of size
    /// `input` from its output of size `output` (the rows the convolution's stride left unread).
    static func convOutputPadding(
        input: (Int, Int), output: (Int, Int), kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
        dilation: (Int, Int)
    ) -> (Int, Int) {
        (
            input.0 - ((output.0 - 1) * stride.0 - 2 * padding.0 + dilation.0 * (kernel.0 - 1) + 1),
            input.1 - ((output.1 - 1) * stride.1 - 2 * padding.1 + dilation.1 * (kernel.1 - 1) + 1)
        )
    }

    /// The weight gradient of conv2d of `input` [N, C, H, W] for `outputGradient` [N, O, Ho, Wo]:
    /// Σ over the batch and positions of the output gradient times the unfolded input, [O, C, kh, kw].
    /// Bilinear, so its backward for a weight-shaped gradient G is conv2d's input gradient with
    /// weight G (for the input) and conv2d of the input with weight G (for the output gradient).
    public static func conv2dWeightGradient(
        input x: Tensor, outputGradient gOut: Tensor, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
        dilation: (Int, Int)
    ) -> Tensor {
        let g = ConvGeometry(
            channels: x.shape[1], height: x.shape[2], width: x.shape[3], kernel: kernel, stride: stride,
            padding: padding, dilation: dilation, op: "conv2dWeightGradient")
        if gOut.rank != 4 || gOut.shape[0] != x.shape[0] || gOut.shape[2] != g.outH || gOut.shape[3] != g.outW {
            shapeFailure(
                "conv2dWeightGradient",
                "output gradient \(gOut.shape) for input \(x.shape) (expected [\(x.shape[0]), O, "
                    + "\(g.outH), \(g.outW)])")
        }
        // The raw kernel reads only the weight's shape for a weight gradient.
        let shapeOnly = Tensor(uninitialized: [gOut.shape[1], x.shape[1], kernel.0, kernel.1])
        let out = noGrad {
            gOut.conv2dGradients(
                x, shapeOnly, g: g, batch: x.shape[0], kept: nil, inputGradient: false, weightGradient: true
            )
            .w!
        }
        return record(out, "conv2dWeightGradient", [x, gOut]) { gw in
            [
                x.requiresGrad
                    ? gOut.convTranspose2d(
                        gw, stride: stride, padding: padding,
                        outputPadding: convOutputPadding(
                            input: (x.shape[2], x.shape[3]), output: (g.outH, g.outW), kernel: kernel, stride: stride,
                            padding: padding, dilation: dilation),
                        dilation: dilation) : nil,
                gOut.requiresGrad ? x.conv2d(gw, stride: stride, padding: padding, dilation: dilation) : nil,
            ]
        }
    }
}
