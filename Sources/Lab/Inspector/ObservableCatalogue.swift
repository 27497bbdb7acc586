import Datasets
import Engine
import Formats
import Foundation
import Physics

/// The human quantities the latent inspector correlates with latent neurons.
///
/// Image observables are computed from an image in model space, so they apply alike to data and
/// to decoded images (traversals):
/// - jet images (pT per pixel, any scale): `mass_over_pt` (the pixels as massless particles at the
///   pixel centres), `multiplicity` (pixels above 1 % of the hardest), `tau21`, `tau32`
///   (N-subjettiness on those pixels; the 1 % cut keeps decoded images, which are dense, comparable
///   with the sparse real ones);
/// - other images (grey level in [0, 1]): `brightness` (mean), `contrast` (standard deviation),
///   `asymmetry` (mean |I − mirror(I)|, left–right: pose), `centroid_x`, `centroid_y` (the
///   brightness-weighted centre minus the image centre, in image widths).
/// File observables come with the data: `mass` and `pt` from an HDF5 file's `/jets` (pT, η, φ, m),
/// and `label` (0 background, 1 signal) when the files' labels take both values.
public enum ObservableCatalogue {
    public static let jetImageNames = ["mass_over_pt", "multiplicity", "tau21", "tau32"]
    public static let imageNames = ["brightness", "contrast", "asymmetry", "centroid_x", "centroid_y"]
    public static let fileNames = ["mass", "pt", "label"]

    /// The image observables that apply to a model's data.
    public static func imageObservables(for spec: DataSpec) -> [String] {
        spec.isJetImages ? jetImageNames : imageNames
    }

    /// Image observables of every image in a model-space batch [N, C, H, W], in parallel over images.
    public static func compute(_ names: [String], images: Tensor, spec: DataSpec) -> [String: [Double]] {
        let n = images.shape[0], c = images.shape[1], h = images.shape[2], w = images.shape[3]
        let x = images
        var rows = [[Double]](repeating: [], count: n)
        rows.withUnsafeMutableBufferPointer { out in
            let out = out
            parallelFor(n, grain: 1) { range in
                for i in range {
                    let grey = (0..<(h * w)).map { k -> Double in
                        var s = 0.0
                        for ch in 0..<c { s += Double(x.storage.pointer[i * c * h * w + ch * h * w + k]) }
                        return s / Double(c)
                    }
                    let values =
                        spec.isJetImages
                        ? jet(grey, size: h, window: spec.jetImage.window)
                        : picture(grey.map { spec.scaling == .minusOneToOne ? ($0 + 1) / 2 : $0 }, height: h, width: w)
                    out[i] = names.map { values[$0] ?? .nan }
                }
            }
        }
        var result: [String: [Double]] = [:]
        for (j, name) in names.enumerated() { result[name] = rows.map { $0[j] } }
        return result
    }

    /// A jet image's pixels (row φ, column η, over [−window, window]²) as massless particles at the
    /// pixel centres: m/ΣpT over all positive pixels, and the particles above 1 % of the hardest
    /// pixel (the ones multiplicity and N-subjettiness count). Nil for an image without positive pT.
    static func jetPixels(
        size: Int, window: Double, _ pixel: (Int) -> Double
    ) -> (massOverPt: Double, kept: [FourVector])? {
        var hardest = 0.0
        for k in 0..<(size * size) { hardest = max(hardest, pixel(k)) }
        guard hardest > 0 else { return nil }
        let step = 2 * window / Double(size)
        var all = FourVector(px: 0, py: 0, pz: 0, e: 0), total = 0.0
        var kept: [FourVector] = []
        for r in 0..<size {
            for col in 0..<size where pixel(r * size + col) > 0 {
                let pt = pixel(r * size + col)
                let p = FourVector(
                    pt: pt, eta: -window + (Double(col) + 0.5) * step, phi: -window + (Double(r) + 0.5) * step)
                all = all + p
                total += pt
                if pt > 0.01 * hardest { kept.append(p) }
            }
        }
        return (all.mass / total, kept)
    }

    static func jet(_ pixels: [Double], size: Int, window: Double) -> [String: Double] {
        guard let (massOverPt, kept) = jetPixels(size: size, window: window, { pixels[$0] }) else { return [:] }
        let s = Observables.summary(kept)
        return ["mass_over_pt": massOverPt, "multiplicity": Double(kept.count), "tau21": s.tau21, "tau32": s.tau32]
    }

    static func picture(_ grey: [Double], height h: Int, width w: Int) -> [String: Double] {
        let (mean, std) = Statistics.meanAndSpread(grey)
        var asym = 0.0, sx = 0.0, sy = 0.0, total = 0.0
        for r in 0..<h {
            for c in 0..<w {
                let v = grey[r * w + c]
                asym += abs(v - grey[r * w + (w - 1 - c)])
                sx += v * (Double(c) + 0.5); sy += v * (Double(r) + 0.5); total += v
            }
        }
        return [
            "brightness": mean, "contrast": std, "asymmetry": asym / Double(h * w),
            "centroid_x": total > 0 ? (sx / total - Double(w) / 2) / Double(w) : .nan,
            "centroid_y": total > 0 ? (sy / total - Double(h) / 2) / Double(w) : .nan,
        ]
    }
}
