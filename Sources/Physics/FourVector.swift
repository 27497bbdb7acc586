import Foundation

/// ΔR² between two points of the (y, φ) plane, φ wrapped so that |Δφ| ≤ π: the distance every
/// clustering and observable here measures (written once; the loops inline it).
@inline(__always)
func deltaR2(_ y1: Double, _ phi1: Double, _ y2: Double, _ phi2: Double) -> Double {
    var dphi = abs(phi1 - phi2)
    if dphi > .pi { dphi = 2 * .pi - dphi }
    let dy = y1 - y2
    return dy * dy + dphi * dphi
}

/// A four-momentum (px, py, pz, E) in GeV.
public struct FourVector: Equatable, Sendable {
    public var px, py, pz, e: Double

    public init(px: Double, py: Double, pz: Double, e: Double) { self.px = px; self.py = py; self.pz = pz; self.e = e }

    /// A massless particle from (pT, η, φ).
    public init(pt: Double, eta: Double, phi: Double) {
        self.init(px: pt * cos(phi), py: pt * sin(phi), pz: pt * sinh(eta), e: pt * cosh(eta))
    }

    public static func + (a: FourVector, b: FourVector) -> FourVector {
        FourVector(px: a.px + b.px, py: a.py + b.py, pz: a.pz + b.pz, e: a.e + b.e)
    }

    public var pt2: Double { px * px + py * py }
    public var pt: Double { pt2.squareRoot() }
    /// φ in [−π, π), as FastJet's phi_std.
    public var phi: Double { pt2 == 0 ? 0 : atan2(py, px) }
    public var eta: Double {
        let p = (pt2 + pz * pz).squareRoot()
        if p == abs(pz) { return pz >= 0 ? 1e5 : -1e5 }
        return 0.5 * log((p + pz) / (p - pz))
    }
    /// Rapidity, the coordinate FastJet's distances use.
    public var rapidity: Double {
        if e == abs(pz) && pt2 == 0 { return pz >= 0 ? 1e5 : -1e5 }
        let emz = max(e - pz, 1e-300), epz = max(e + pz, 1e-300)
        return 0.5 * log(epz / emz)
    }
    public var mass: Double {
        let m2 = e * e - pt2 - pz * pz
        return m2 >= 0 ? m2.squareRoot() : -(-m2).squareRoot()
    }
}
