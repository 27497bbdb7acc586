import Engine
import Models

/// Differentiable augmentation (Zhao et al. 2020, "DiffAugment"): the same random transformations
/// are applied to real and generated images before the discriminator sees them, and gradients flow
/// through them to the generator — so a discriminator trained on a few hundred images cannot simply
/// memorise them. The three policies of the paper, with its ranges:
/// - `color`: brightness + U(−0.5, 0.5), saturation × U(0, 2) about each pixel's channel mean,
///   contrast × U(0.5, 1.5) about the image mean (per image);
/// - `translation`: a shift by up to 1/8 of the side in each direction, zeros shifted in;
/// - `cutout`: a square of half the side, at a random place, set to zero.
/// Images are in the model's scale ([−1, 1] for a tanh GAN), as in the paper.
public enum DiffAugment {
    public enum Policy: String, NamedChoice { case color, translation, cutout }

    /// `x` ([N, C, H, W]) with every policy applied in the paper's order (color, translation, cutout).
    public static func apply(_ x: Tensor, _ policies: [Policy], rng: inout PRNG) -> Tensor {
        var h = x
        if policies.contains(.color) { h = color(h, rng: &rng) }
        if policies.contains(.translation) { h = translation(h, rng: &rng) }
        if policies.contains(.cutout) { h = cutout(h, rng: &rng) }
        return h
    }

    static func perImage(_ n: Int, _ low: Float, _ high: Float, rng: inout PRNG) -> Tensor {
        Tensor(shape: [n, 1, 1, 1], data: (0..<n).map { _ in low + (high - low) * rng.nextFloat() })
    }

    static func color(_ x: Tensor, rng: inout PRNG) -> Tensor {
        let n = x.shape[0]
        var h = x + perImage(n, -0.5, 0.5, rng: &rng)
        if x.shape[1] > 1 {
            let mean = h.mean(axes: [1], keepDims: true)
            h = (h - mean) * perImage(n, 0, 2, rng: &rng) + mean
        }
        let mean = h.mean(axes: [1, 2, 3], keepDims: true)
        return (h - mean) * perImage(n, 0.5, 1.5, rng: &rng) + mean
    }

    /// Every output pixel reads its source pixel, or a zero appended to the flattened batch.
    static func gather(_ x: Tensor, _ source: (Int, Int, Int) -> (Int, Int)?) -> Tensor {
        let n = x.shape[0], c = x.shape[1], hgt = x.shape[2], wid = x.shape[3]
        let zero = n * c * hgt * wid
        var indices = [Int](repeating: zero, count: zero)
        for i in 0..<n {
            for y in 0..<hgt {
                for xx in 0..<wid {
                    guard let (sy, sx) = source(i, y, xx) else { continue }
                    for ch in 0..<c {
                        indices[((i * c + ch) * hgt + y) * wid + xx] = ((i * c + ch) * hgt + sy) * wid + sx
                    }
                }
            }
        }
        let flat = Tensor.concat([x.reshape([zero, 1]), Tensor.zeros([1, 1])], axis: 0)
        return flat.indexSelect(axis: 0, indices: indices).reshape(x.shape)
    }

    static func translation(_ x: Tensor, rng: inout PRNG) -> Tensor {
        let n = x.shape[0], hgt = x.shape[2], wid = x.shape[3]
        let sy = max(1, Int((Float(hgt) * 0.125 + 0.5).rounded(.down))),
            sx = max(1, Int((Float(wid) * 0.125 + 0.5).rounded(.down)))
        let shifts = (0..<n).map { _ in (rng.nextInt(2 * sy + 1) - sy, rng.nextInt(2 * sx + 1) - sx) }
        return gather(x) { i, y, xx in
            let (dy, dx) = shifts[i]
            let fy = y - dy, fx = xx - dx
            return fy >= 0 && fy < hgt && fx >= 0 && fx < wid ? (fy, fx) : nil
        }
    }

    static func cutout(_ x: Tensor, rng: inout PRNG) -> Tensor {
        let n = x.shape[0], hgt = x.shape[2], wid = x.shape[3]
        let ch = Int((Float(hgt) * 0.5 + 0.5).rounded(.down)), cw = Int((Float(wid) * 0.5 + 0.5).rounded(.down))
        var mask = [Float](repeating: 1, count: n * hgt * wid)
        for i in 0..<n {
            // The square's centre anywhere in the image (it may hang over the edge), as in the paper.
            let cy = rng.nextInt(hgt + (1 - ch % 2)), cx = rng.nextInt(wid + (1 - cw % 2))
            for y in max(0, cy - ch / 2)..<min(hgt, cy - ch / 2 + ch) {
                for xx in max(0, cx - cw / 2)..<min(wid, cx - cw / 2 + cw) { mask[(i * hgt + y) * wid + xx] = 0 }
            }
        }
        return x * Tensor(shape: [n, 1, hgt, wid], data: mask)
    }
}
