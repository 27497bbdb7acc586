/// How a tensor's values lie in memory.
public enum Layout: Sendable {
    /// Row-major (NCHW for images): what every op reads through `Tensor.storage`.
    case plain
    /// oneDNN's `nChw16c` (`aBcd16b`): an [N, C, H, W] tensor with C a multiple of 16, stored as
    /// [N, C/16, H, W, 16] — sixteen channels side by side at each position, the layout oneDNN's
    /// AVX-512 convolutions compute in. A convolution leaves its output so when the next layers can
    /// read it so (batch norm, elementwise maps, the next convolution), which saves the two
    /// rearrangements PyTorch's NCHW tensors pay between every pair of convolutions.
    case blocked16
}

/// The channel-blocked layout's rearrangements and index arithmetic.
enum Blocked16 {
    static let lanes = 16

    /// Whether a tensor of `shape` can lie channel-blocked: rank 4, channels a positive multiple of 16.
    static func holds(_ shape: [Int]) -> Bool { shape.count == 4 && shape[1] > 0 && shape[1] % lanes == 0 }

    /// Row-major values of the blocked `source` ([N, C, H, W] = `shape`).
    static func toPlain(_ source: Storage, shape: [Int]) -> Storage {
        let out = Storage(count: source.count)
        rearrange(source.pointer, out.pointer, shape: shape, toBlocked: false)
        return out
    }

    /// Blocked values of the row-major `source`.
    static func toBlocked(_ source: Storage, shape: [Int]) -> Storage {
        let out = Storage(count: source.count)
        rearrange(source.pointer, out.pointer, shape: shape, toBlocked: true)
        return out
    }

    /// The reference rearrangement: element (n, c, p) of an image with P positions sits at
    /// ((n·C/16 + c/16)·P + p)·16 + c mod 16 when blocked, (n·C + c)·P + p when row-major.
    static func blockedIndex(n: Int, c: Int, p: Int, channels: Int, positions: Int) -> Int {
        ((n * (channels / lanes) + c / lanes) * positions + p) * lanes + c % lanes
    }

    // One block of 16 channels × P positions at a time: a 16 × P transpose.
    private static func rearrange(
        _ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, shape: [Int], toBlocked: Bool
    ) {
        precondition(holds(shape), "GenLab Blocked16: shape \(shape) cannot be channel-blocked")
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
    /// The values laid out channel-blocked (a new buffer, or the tensor's own when it is blocked),
    /// for layout-aware kernels that need two operands alike.
    func blocked16Values() -> Storage {
        let (v, layout) = raw
        return layout == .blocked16 ? v : Blocked16.toBlocked(v, shape: shape)
    }
}
