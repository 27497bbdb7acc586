import Foundation

/// Jet substructure observables, from constituents or from a jet image (pixels taken as massless
/// particles at the pixel centres).
///
/// N-subjettiness (Thaler & Van Tilburg 2011), β = 1:
///   τ_N = Σ_k pT_k · min_a ΔR(k, a) / Σ_k pT_k · R0,   R0 = the jet radius (1.0 here).
/// Axis choice: exclusive kT axes — the constituents are merged pairwise (E-scheme), always the
/// pair with the smallest d_ij = min(pT_i², pT_j²)·ΔR_ij² and never with the beam, until N remain;
/// ΔR in (rapidity, φ). τ21 = τ2/τ1 and τ32 = τ3/τ2 separate two- and three-prong jets.
public enum Observables {
    public struct Summary: Codable, Equatable, Sendable {
        public var pt: Double
        public var mass: Double
        public var multiplicity: Int
        public var tau1: Double, tau2: Double, tau3: Double
        public var tau21: Double { tau1 > 0 ? tau2 / tau1 : 0 }
        public var tau32: Double { tau2 > 0 ? tau3 / tau2 : 0 }
    }

    public static func summary(_ particles: [FourVector], radius: Double = 1.0) -> Summary {
        let jet = particles.reduce(FourVector(px: 0, py: 0, pz: 0, e: 0), +)
        let taus = (1...3).map { nSubjettiness(particles, n: $0, radius: radius) }
        return Summary(pt: jet.pt, mass: jet.mass, multiplicity: particles.count, tau1: taus[0], tau2: taus[1], tau3: taus[2])
    }

    /// From a jet image (rows φ, columns η, over [−window, window]²; pixel values are pT).
    public static func summary(image: [Float], size: Int, window: Double = 1.25, radius: Double = 1.0) -> Summary {
        let step = 2 * window / Double(size)
        var particles: [FourVector] = []
        for r in 0..<size {
            for c in 0..<size where image[r * size + c] > 0 {
                particles.append(FourVector(pt: Double(image[r * size + c]), eta: -window + (Double(c) + 0.5) * step,
                                            phi: -window + (Double(r) + 0.5) * step))
            }
        }
        return summary(particles, radius: radius)
    }

    static func deltaR2(_ a: FourVector, _ b: FourVector) -> Double {
        var dphi = abs(a.phi - b.phi)
        if dphi > .pi { dphi = 2 * .pi - dphi }
        let dy = a.rapidity - b.rapidity
        return dy * dy + dphi * dphi
    }

    /// The exclusive-kT axes described above.
    public static func exclusiveKtAxes(_ particles: [FourVector], n: Int) -> [FourVector] {
        var objects = particles
        while objects.count > n {
            var best = (0, 1), bestD = Double.infinity
            for i in 0..<objects.count {
                for j in (i + 1)..<objects.count {
                    let d = min(objects[i].pt2, objects[j].pt2) * deltaR2(objects[i], objects[j])
                    if d < bestD { bestD = d; best = (i, j) }
                }
            }
            objects[best.0] = objects[best.0] + objects[best.1]
            objects.remove(at: best.1)
        }
        return objects
    }

    public static func nSubjettiness(_ particles: [FourVector], n: Int, radius: Double = 1.0) -> Double {
        guard !particles.isEmpty else { return 0 }
        let axes = exclusiveKtAxes(particles, n: n)
        var num = 0.0, den = 0.0
        for p in particles {
            let d = axes.map { deltaR2(p, $0) }.min() ?? 0
            num += p.pt * d.squareRoot()
            den += p.pt * radius
        }
        return den > 0 ? num / den : 0
    }
}
