import Engine

/// Tiles a batch of images [N, C, H, W] into one picture, `columns` wide, with `padding` pixels of
/// `background` between tiles. Values in `range` map to [0, 1]; `normalizeEach` stretches each
/// tile to its own min…max instead (jet images, whose scale varies).
public func imageGrid(
    _ batch: Tensor, columns: Int? = nil, padding: Int = 2, range: ClosedRange<Float> = 0...1,
    normalizeEach: Bool = false, background: Float = 1
) -> Image {
    precondition(batch.rank == 4, "GenLab imageGrid: batch \(batch.shape) is not [N, C, H, W]")
    let n = batch.shape[0], c = batch.shape[1], h = batch.shape[2], w = batch.shape[3]
    let cols = max(1, min(columns ?? Int(Double(n).squareRoot().rounded(.up)), max(n, 1)))
    let rows = (n + cols - 1) / cols
    let W = cols * w + (cols + 1) * padding, H = rows * h + (rows + 1) * padding
    var px = [Float](repeating: background, count: W * H * c)
    let src = batch.storage.pointer, tile = c * h * w
    for i in 0..<n {
        let base = src + i * tile
        var lo = range.lowerBound, hi = range.upperBound
        if normalizeEach {
            lo = .infinity; hi = -.infinity
            for k in 0..<tile where base[k].isFinite { lo = min(lo, base[k]); hi = max(hi, base[k]) }
            if !(hi > lo) { lo = 0; hi = max(hi, 1) }
        }
        let ox = padding + (i % cols) * (w + padding), oy = padding + (i / cols) * (h + padding)
        for y in 0..<h {
            for x in 0..<w {
                for k in 0..<c {
                    px[((oy + y) * W + ox + x) * c + k] = (base[(k * h + y) * w + x] - lo) / (hi - lo)
                }
            }
        }
    }
    return Image(width: W, height: H, channels: c, pixels: px)
}
