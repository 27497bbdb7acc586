import CDNNL
import Foundation

/// Where convolutions run: oneDNN (what PyTorch's CPU convolutions use), loaded at run time when
/// Debian's libdnnl2 is present, or GenLab's own im2col + GEMM kernels (always there, and the
/// judge of the other in tests). `GENLAB_DNNL=0` keeps oneDNN off.
public enum ConvolutionBackend: String, Sendable {
    case oneDNN, im2col

    /// The backend convolutions use now: oneDNN when it loaded, else im2col. Tests switch it.
    nonisolated(unsafe) public static var current: ConvolutionBackend = OneDNN.available ? .oneDNN : .im2col

    /// Whether convolutions on oneDNN may leave their outputs channel-blocked (`Layout.blocked16`
    /// or `.blocked8`, whichever oneDNN computes in) for the layout-aware ops after them;
    /// `GENLAB_BLOCKED=0` keeps every tensor row-major. Tests switch it.
    nonisolated(unsafe) public static var blockedActivations: Bool =
        ProcessInfo.processInfo.environment["GENLAB_BLOCKED"] != "0"

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

    /// Which image buffers of a pass oneDNN computes channel-blocked, and in which layout (bit i:
    /// buffer i, numbered as the C calls' arguments).
    private struct Blockable {
        var by16: UInt32 = 0, by8: UInt32 = 0

        func layout(of i: Int) -> Layout? {
            by16 >> i & 1 == 1 ? .blocked16 : by8 >> i & 1 == 1 ? .blocked8 : nil
        }
    }

    /// The blocked buffers of `pass`, when convolutions may leave tensors blocked.
    private static func blockedBuffers(_ pass: Int, bias: Bool, _ s: genlab_conv_shape) -> Blockable {
        guard ConvolutionBackend.blockedActivations else { return Blockable() }
        var b = Blockable()
        b.by16 = withUnsafePointer(to: s) { genlab_dnnl_conv_blocked(Int32(pass), bias ? 1 : 0, $0, &b.by8) }
        return b
    }

    /// Input image `t` for buffer `i`: its blocked values as they lie when the primitive computes
    /// in that very layout (bit i joins `handed`), else its row-major values.
    private static func input(_ t: Tensor, _ i: Int, _ blockable: Blockable, _ handed: inout UInt32) -> Storage {
        let (v, layout) = t.raw
        if layout != .plain && blockable.layout(of: i) == layout {
            handed |= 1 << i
            return v
        }
        return t.storage
    }

    /// A new output image of `shape` for buffer `i`: left blocked when the primitive computes in
    /// a blocked layout (bit i joins `handed`), else row-major.
    private static func output(_ shape: [Int], _ i: Int, _ blockable: Blockable, _ handed: inout UInt32) -> Tensor {
        if let layout = blockable.layout(of: i), let lanes = layout.lanes, ChannelBlocks.holds(shape, lanes: lanes) {
            handed |= 1 << i
            return Tensor(shape: shape, storage: Storage(count: Shape.count(shape)), layout: layout)
        }
        return Tensor(uninitialized: shape)
    }

    /// y = conv(x, w) + b as a new [n, o, oh, ow] tensor; nil when oneDNN refused.
    static func forward(_ s: genlab_conv_shape, _ x: Tensor, _ w: Tensor, _ b: Tensor?) -> Tensor? {
        let blockable = blockedBuffers(Int(GENLAB_CONV_FORWARD), bias: b != nil, s)
        var handed: UInt32 = 0
        let xs = input(x, 0, blockable, &handed)
        let y = output([s.n, s.o, s.oh, s.ow], 2, blockable, &handed)
        let ws = w.storage, bs = b?.storage, ys = y.raw.storage
        let rc = withExtendedLifetime((xs, ws, bs, ys)) {
            withUnsafePointer(to: s) {
                genlab_dnnl_conv_forward($0, xs.pointer, ws.pointer, bs?.pointer, ys.pointer, handed)
            }
        }
        return rc == 0 ? y : nil
    }

    /// The input gradient [n, c, h, w] for output gradient dy; nil when oneDNN refused.
    static func backwardData(_ s: genlab_conv_shape, _ dy: Tensor, _ w: Tensor) -> Tensor? {
        let blockable = blockedBuffers(Int(GENLAB_CONV_BACKWARD_DATA), bias: false, s)
        var handed: UInt32 = 0
        let dys = input(dy, 0, blockable, &handed)
        let dx = output([s.n, s.c, s.h, s.w], 2, blockable, &handed)
        let ws = w.storage, dxs = dx.raw.storage
        let rc = withExtendedLifetime((dys, ws, dxs)) {
            withUnsafePointer(to: s) {
                genlab_dnnl_conv_backward_data($0, dys.pointer, ws.pointer, dxs.pointer, handed)
            }
        }
        return rc == 0 ? dx : nil
    }

    /// Writes the weight gradient into `dw` (and the bias gradient into `db`); false when oneDNN refused.
    static func backwardWeights(
        _ s: genlab_conv_shape, _ x: Tensor, _ dy: Tensor, into dw: Tensor, bias db: Tensor?
    ) -> Bool {
        let blockable = blockedBuffers(Int(GENLAB_CONV_BACKWARD_WEIGHTS), bias: db != nil, s)
        var handed: UInt32 = 0
        let xs = input(x, 0, blockable, &handed), dys = input(dy, 1, blockable, &handed)
        let dws = dw.storage, dbs = db?.storage
        let rc = withExtendedLifetime((xs, dys, dws, dbs)) {
            withUnsafePointer(to: s) {
                genlab_dnnl_conv_backward_weights($0, xs.pointer, dys.pointer, dws.pointer, dbs?.pointer, handed)
            }
        }
        return rc == 0
    }
}
