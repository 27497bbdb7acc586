/// How a tensor's values lie in memory.
public enum Layout: Sendable, Equatable {
    /// Row-major (NCHW for images): what every op reads through `Tensor.storage`.
    case plain
    /// oneDNN's `nChw16c` (`aBcd16b`): an [N, C, H, W] tensor with C a multiple of 16, stored as
    /// [N, C/16, H, W, 16] — sixteen channels side by side at each position, the layout oneDNN's
    /// AVX-512 convolutions compute in. A convolution leaves its output so when the next layers can
    /// read it so (batch norm, elementwise maps, the next convolution), which saves the two
    /// rearrangements PyTorch's NCHW tensors pay between every pair of convolutions.
    case blocked16
    /// oneDNN's `nChw8c` (`aBcd8b`): the same with blocks of eight channels, what its AVX2
    /// convolutions compute in.
    case blocked8

    /// The channels side by side in a block (nil for row-major).
    public var lanes: Int? {
        switch self {
        case .plain: return nil
        case .blocked16: return 16
        case .blocked8: return 8
        }
    }

    /// The blocked layout with `lanes` channels to a block (8 or 16), if there is one.
    static func blocked(lanes: Int) -> Layout? { lanes == 16 ? .blocked16 : lanes == 8 ? .blocked8 : nil }
}

/// The channel-blocked layouts' rearrangements and index arithmetic.
enum ChannelBlocks {
    /// Whether a tensor of `shape` can lie in blocks of `lanes` channels: rank 4, channels a
    /// positive multiple of `lanes`.
    static func holds(_ shape: [Int], lanes: Int) -> Bool {
        shape.count == 4 && shape[1] > 0 && lanes > 0 && shape[1] % lanes == 0
    }

    /// Row-major values of the blocked `source` ([N, C, H, W] = `shape`).
    static func toPlain(_ source: Storage, shape: [Int], lanes: Int) -> Storage {
        let out = Storage(count: source.count)
        rearrange(source.pointer, out.pointer, shape: shape, lanes: lanes, toBlocked: false)
        return out
    }

    /// Blocked values of the row-major `source`.
    static func toBlocked(_ source: Storage, shape: [Int], lanes: Int) -> Storage {
        let out = Storage(count: source.count)
        rearrange(source.pointer, out.pointer, shape: shape, lanes: lanes, toBlocked: true)
        return out
    }

    /// The reference rearrangement: element (n, c, p) of an image with P positions sits at
    /// ((n·C/L + c/L)·P + p)·L + c mod L in blocks of L channels, (n·C + c)·P + p when row-major.
    static func blockedIndex(n: Int, c: Int, p: Int, channels: Int, positions: Int, lanes: Int) -> Int {
        ((n * (channels / lanes) + c / lanes) * positions + p) * lanes + c % lanes
    }

    // One block of L channels × P positions at a time: an L × P transpose.
    private static func rearrange(
        _ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, shape: [Int], lanes: Int,
        toBlocked: Bool
    ) {
        precondition(
            holds(shape, lanes: lanes), "GenLab ChannelBlocks: shape \(shape) cannot lie in blocks of \(lanes)")
        let blocks = shape[0] * shape[1] / lanes, positions = shape[2] * shape[3]
        parallelFor(blocks, grain: 1) { range in
            for b in range {
                let block = b * lanes * positions
                let plain = (toBlocked ? src : dst) + block, blocked = (toBlocked ? dst : src) + block
                for p0 in stride(from: 0, to: positions, by: 64) {
                    let p1 = min(p0 + 64, positions)
                    for l in 0..<lanes {
                        let row = plain + l * positions
                        if toBlocked {
                            for p in p0..<p1 { blocked[p * lanes + l] = row[p] }
                        } else {
                            for p in p0..<p1 { row[p] = blocked[p * lanes + l] }
                        }
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// The values laid out as `layout` (a blocked one): the tensor's own buffer when it lies so,
    /// else a rearranged copy — for layout-aware kernels that need two operands alike.
    func values(in layout: Layout) -> Storage {
        let (v, own) = raw
        if own == layout { return v }
        return ChannelBlocks.toBlocked(own == .plain ? v : storage, shape: shape, lanes: layout.lanes!)
    }
}
