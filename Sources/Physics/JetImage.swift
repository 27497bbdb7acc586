import Foundation

/// Jet images from constituents with the standard preprocessing, matching
/// scripts/python/make_jets.py's `jet_image` (the reference):
/// 1. translate the pT-weighted centroid to the origin (φ differences wrapped to [−π, π));
/// 2. rotate so the principal axis of the pT-weighted second-moment tensor lies along η;
/// 3. flip η, then φ, so the half with the larger pT sum has positive coordinates;
/// 4. sum pT into size × size pixels over [−window, window]² (row = φ bin, column = η bin).
public struct JetImage: Codable, Equatable, Sendable {
    public var size: Int = 25
    public var window: Double = 1.25

    public init(size: Int = 25, window: Double = 1.25) { self.size = size; self.window = window }

    /// Constituents as (pT, η, φ) rows; zero-pT rows (padding) are ignored. Returns nil for a jet
    /// without any positive-pT constituent.
    public func image(
        _ constituents: [(pt: Double, eta: Double, phi: Double)], jetEta: Double, jetPhi: Double
    ) -> [Float]? {
        let c = constituents.filter { $0.pt > 0 && $0.pt.isFinite && $0.eta.isFinite && $0.phi.isFinite }
        let total = c.reduce(0) { $0 + $1.pt }
        guard total > 0, total.isFinite, jetEta.isFinite, jetPhi.isFinite else { return nil }
        var x = c.map { $0.eta - jetEta }, y = c.map { wrap($0.phi - jetPhi) }
        let w = c.map { $0.pt / total }
        let cx = zip(w, x).reduce(0) { $0 + $1.0 * $1.1 }, cy = zip(w, y).reduce(0) { $0 + $1.0 * $1.1 }
        x = x.map { $0 - cx }; y = y.map { $0 - cy }
        var sxx = 0.0, syy = 0.0, sxy = 0.0
        for i in c.indices { sxx += w[i] * x[i] * x[i]; syy += w[i] * y[i] * y[i]; sxy += w[i] * x[i] * y[i] }
        let theta = 0.5 * atan2(2 * sxy, sxx - syy), co = cos(theta), si = sin(theta)
        for i in c.indices { (x[i], y[i]) = (co * x[i] + si * y[i], -si * x[i] + co * y[i]) }
        var neg = 0.0, pos = 0.0
        for i in c.indices { if x[i] < 0 { neg += c[i].pt } else if x[i] > 0 { pos += c[i].pt } }
        if neg > pos { x = x.map { -$0 } }
        neg = 0; pos = 0
        for i in c.indices { if y[i] < 0 { neg += c[i].pt } else if y[i] > 0 { pos += c[i].pt } }
        if neg > pos { y = y.map { -$0 } }
        var img = [Double](repeating: 0, count: size * size)
        let step = 2 * window / Double(size)
        for i in c.indices {
            let u = ((x[i] + window) / step).rounded(.down), v = ((y[i] + window) / step).rounded(.down)
            // Compared as doubles first: a far-away (or non-finite) coordinate must not reach Int().
            guard u >= 0, u < Double(size), v >= 0, v < Double(size) else { continue }
            img[Int(v) * size + Int(u)] += c[i].pt
        }
        return img.map(Float.init)
    }

    func wrap(_ d: Double) -> Double {
        var r = (d + .pi).truncatingRemainder(dividingBy: 2 * .pi)
        if r < 0 { r += 2 * .pi }
        return r - .pi
    }
}
