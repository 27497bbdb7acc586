import CDNNL

/// Where convolutions run: oneDNN (what PyTorch's CPU convolutions use), loaded at run time when
/// Debian's libdnnl2 is present, or GenLab's own im2col + GEMM kernels (always there, and the
/// judge of the other in tests). `GENLAB_DNNL=0` keeps oneDNN off.
public enum ConvolutionBackend: String, Sendable {
    case oneDNN, im2col

    /// The backend convolutions use now: oneDNN when it loaded, else im2col. Tests switch it.
    nonisolated(unsafe) public static var current: ConvolutionBackend = OneDNN.available ? .oneDNN : .im2col

    /// The oneDNN library's version, or why it is not used.
    public static var oneDNNStatus: String { _ = OneDNN.available; return String(cString: genlab_dnnl_status()) }
}

enum OneDNN {
    static let available: Bool = genlab_dnnl_load(Int32(Threads.count)) == 1

    static var active: Bool { ConvolutionBackend.current == .oneDNN && available }

    /// A convolution of [n, c, h, w] by [o, c, kh, kw] onto [n, o, oh, ow].
    static func shape(
        _ n: Int, _ c: Int, _ h: Int, _ w: Int, out o: Int, kernel: (Int, Int), stride: (Int, Int),
        padding: (Int, Int), dilation: (Int, Int), output: (Int, Int)
    ) -> genlab_conv_shape {
        genlab_conv_shape(
            n: n, c: c, h: h, w: w, o: o, kh: kernel.0, kw: kernel.1, sh: stride.0, sw: stride.1,
            ph: padding.0, pw: padding.1, dh: dilation.0, dw: dilation.1, oh: output.0, ow: output.1)
    }

    static func forward(_ s: genlab_conv_shape, _ x: Tensor, _ w: Tensor, _ b: Tensor?, into y: Tensor) -> Bool {
        withUnsafePointer(to: s) {
            genlab_dnnl_conv_forward($0, x.storage.pointer, w.storage.pointer, b?.storage.pointer, y.storage.pointer)
                == 0
        }
    }

    static func backwardData(_ s: genlab_conv_shape, _ dy: Tensor, _ w: Tensor, into dx: Tensor) -> Bool {
        withUnsafePointer(to: s) {
            genlab_dnnl_conv_backward_data($0, dy.storage.pointer, w.storage.pointer, dx.storage.pointer) == 0
        }
    }

    static func backwardWeights(
        _ s: genlab_conv_shape, _ x: Tensor, _ dy: Tensor, into dw: Tensor, bias db: Tensor?
    ) -> Bool {
        withUnsafePointer(to: s) {
            genlab_dnnl_conv_backward_weights(
                $0, x.storage.pointer, dy.storage.pointer, dw.storage.pointer, db?.storage.pointer) == 0
        }
    }
}
