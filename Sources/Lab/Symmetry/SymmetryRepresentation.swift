import Cluster
import Engine
import Foundation
import Models

/// What the symmetry classifier reads, for a batch of two-colour images:
/// - `pca` — fit a decoy network to each image, take its last hidden layer over all pixels
///   (pixels × neurons), and keep the first `components` principal-component scores, each laid
///   back on the pixel grid as an image (standardised; the sign chosen so the component
///   correlates positively with the image, or by its skewness when it does not correlate);
/// - `untrained` — the same from a decoy that was never fitted (the control: how much does
///   fitting add?);
/// - `raw` — the image itself, as ±1 (the control: does the decoy add anything at all?).
public struct SymmetryRepresentation: Codable, Equatable, Sendable {
    public enum Input: String, CaseIterable, Codable, Sendable { case pca, raw, untrained }

    public var input: Input = .pca
    public var size = 32
    public var components = 4
    public var decoy = DecoyNet.Config()
    /// Decoys fitted side by side in one batched graph (speed only: a decoy's fit does not depend
    /// on its batch; 32 measured faster than 16, 64 and 128 on 2 cores).
    public var batch = 32
    /// Bring every image to canonical form first (`SymmetryGeometry.canonical`: polarity, centre,
    /// scale). Absent (off) in checkpoints written before it existed.
    public var canonical: Bool? = nil
    /// With `canonical`: also turn each shape so that its best mirror axis stands upright.
    public var upright: Bool? = nil
    /// For `pca` and `untrained`: the two-colour image itself as one more channel, after the PCA
    /// images (absent: off).
    public var withImage: Bool? = nil

    /// A new representation (canonical form on; checkpoints that lack the key decode with it off).
    public init(input: Input = .pca) {
        self.input = input; canonical = true; upright = true; withImage = input == .raw ? nil : true
    }

    public var channels: Int { input == .raw ? 1 : components + (withImage == true ? 1 : 0) }

    /// Problems with this representation, in words (a checkpoint's, which anyone can edit).
    public var problems: [String] {
        var p = decoy.problems
        if !(8...256).contains(size) { p.append("representation size \(size) is outside 8...256") }
        if !(1...32).contains(components) { p.append("components \(components) is outside 1...32") }
        if !(1...1024).contains(batch) { p.append("decoy batch \(batch) is outside 1...1024") }
        if components > (decoy.hidden.last ?? 0) && input != .raw {
            p.append("\(components) components from a \(decoy.hidden.last ?? 0)-wide layer")
        }
        if p.isEmpty && input == .pca && decoy.fitWork(pixels: size * size) > ModelLimits.maxDecoyFitWork {
            p.append(
                String(
                    format: "a decoy fit of %.2g multiply-adds (steps × widths × pixels), over the limit of %.0g: "
                        + "lower the decoy's steps, widths or the representation size",
                    decoy.fitWork(pixels: size * size), ModelLimits.maxDecoyFitWork))
        }
        return p
    }

    public struct Output {
        /// [N, channels, size, size].
        public var images: Tensor
        /// Each decoy's pixel accuracy (nil for raw and untrained).
        public var decoyAccuracy: [Float]?
        /// Variance fraction each kept component explains, per image.
        public var explained: [[Double]]
    }

    /// A size × size two-colour image as the decoy is fitted to it: in canonical form (turned
    /// upright where asked) for checkpoints that use it, unchanged for older ones.
    public func classifierForm(_ pixels: [Float]) -> [Float] {
        canonical == true
            ? SymmetryGeometry.canonical(pixels, width: size, height: size, size: size, upright: upright == true)
            : pixels
    }

    /// FNV-1a over the pixels' bits.
    static func fingerprint(_ pixels: [Float]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in pixels { h = (h ^ UInt64(v.bitPattern)) &* 0x100_0000_01b3 }
        return h
    }

    /// The classifier's input for `images` (each size² values of 0/1); decoys are seeded from `seed`.
    public func make(
        _ images: [[Float]], seed: UInt64, progress: ((Int) -> Void)? = nil, cluster: Cluster? = nil
    ) -> Output {
        make(images, seeds: [UInt64](repeating: seed, count: images.count), progress: progress, cluster: cluster)
    }

    /// The same with image i's decoy seeded from `seeds[i]`, so one batch can hold several fits of
    /// one image (what `SymmetryDetector.score` does: one image under 20 seeds is one batch).
    /// With `prepared`, the images are already in `classifierForm` (a caller that fits one image
    /// under many seeds brings it to that form once).
    ///
    /// With a distributed `cluster` the batches of decoys are shared out over its ranks (whole
    /// batches, so the same digits as one process) and every rank gets the whole output.
    // Long: fit, PCA and channel assembly for one batch of images, as one pipeline.
    public func make(
        _ images: [[Float]], seeds: [UInt64], prepared: Bool = false, progress: ((Int) -> Void)? = nil,
        cluster: Cluster? = nil
    ) -> Output {
        let p = size * size
        precondition(
            seeds.count == images.count, "SymmetryRepresentation: \(seeds.count) seeds for \(images.count) images")
        for (i, im) in images.enumerated() {
            precondition(im.count == p, "SymmetryRepresentation: image \(i) has \(im.count) pixels, expected \(p)")
        }
        let images = prepared ? images : images.map(classifierForm)
        var out = [Float](), accuracy = [Float](), explained = [[Double]]()
        out.reserveCapacity(images.count * channels * p)
        if input == .raw {
            for im in images { out += im.map { 2 * $0 - 1 } }
            progress?(images.count)
            return Output(
                images: Tensor(shape: [images.count, 1, size, size], data: out), decoyAccuracy: nil, explained: [])
        }
        let starts = Array(stride(from: 0, to: images.count, by: batch))
        let mine = cluster.map { starts[$0.share(of: starts.count)] } ?? starts[...]
        for start in mine {
            let range = start..<min(images.count, start + batch)
            let chunk = Array(images[range])
            // Each decoy's stream comes from its seed and the image itself, so an image gets the
            // same decoy (and score) whichever images it is scored with.
            let net = DecoyNet(decoy, rngs: range.map { PRNG(seed: seeds[$0]).fork(Self.fingerprint(images[$0])) })
            if input == .pca {
                accuracy += net.fit(Tensor(shape: [chunk.count, p], data: chunk.flatMap { $0 }), size: size)
            }
            let hidden = noGrad { net.representation(net.coordinates(size: size)) }
            let width = hidden.shape[2], pointer = hidden.storage.pointer
            // Each decoy's PCA on its own, side by side.
            let pieces = parallelMap(chunk.count) {
                pcaChannels(pointer + $0 * p * width, width: width, image: chunk[$0])
            }
            for piece in pieces {
                out += piece.channels
                explained.append(piece.explained)
            }
            progress?(min(images.count, start + batch))
        }
        if let cluster, cluster.isDistributed {
            struct Part: Codable { var out: [Float]; var accuracy: [Float]; var explained: [[Double]] }
            let parts: [Part]
            do { parts = try cluster.allGather(Part(out: out, accuracy: accuracy, explained: explained)) } catch {
                FileHandle.standardError.write(
                    Data("genlab: rank \(cluster.rank): decoy representations not shared: \(error)\n".utf8))
                cluster.abort(code: 70)
            }
            out = parts.flatMap(\.out); accuracy = parts.flatMap(\.accuracy); explained = parts.flatMap(\.explained)
        }
        return Output(
            images: Tensor(shape: [images.count, channels, size, size], data: out),
            decoyAccuracy: input == .pca ? accuracy : nil, explained: explained)
    }

    /// One decoy's channels: the PCA images of its hidden layer (`hidden`: [size², width]), each
    /// signed to agree with the image (or, where it barely correlates, to skew positive), zeros for
    /// missing components, then the image itself as ±1 when `withImage`.
    func pcaChannels(
        _ hidden: UnsafePointer<Float>, width: Int, image im: [Float]
    ) -> (channels: [Float], explained: [Double]) {
        let p = size * size
        let (scores, fractions) = PCA.scores(hidden, rows: p, features: width, k: components)
        var out = [Float]()
        out.reserveCapacity(channels * p)
        let mean = Double(im.reduce(0, +)) / Double(p)
        for s in scores {
            let corr = zip(s, im).reduce(0.0) { $0 + $1.0 * (Double($1.1) - mean) } / Double(p)
            let skew = s.reduce(0.0) { $0 + $1 * $1 * $1 }
            let sign: Double = abs(corr) > 0.05 ? (corr > 0 ? 1 : -1) : (skew >= 0 ? 1 : -1)
            out += s.map { Float(sign * $0) }
        }
        for _ in scores.count..<components { out += [Float](repeating: 0, count: p) }
        if withImage == true { out += im.map { 2 * $0 - 1 } }
        return (out, fractions)
    }
}
