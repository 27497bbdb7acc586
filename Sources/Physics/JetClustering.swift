import Foundation

/// Sequential-recombination jet clustering (the generalised kT family), as FastJet defines it:
/// d_ij = min(pT_i^2p, pT_j^2p)·ΔR_ij²/R², d_iB = pT_i^2p, with ΔR² = Δy² + Δφ² in rapidity and
/// azimuth, E-scheme recombination; p = −1 anti-kT, 0 Cambridge/Aachen, 1 kT. Inclusive jets.
///
/// The nearest-neighbour bookkeeping of FastJet's "N²" strategy: each particle keeps its nearest
/// neighbour, and after a merge only the particles that pointed at the merged pair are updated,
/// which makes a 700-particle event cost O(N²).
public struct JetClustering: Sendable {
    public enum Algorithm: String, Codable, CaseIterable, Sendable {
        case antiKt = "anti-kt", kt, cambridgeAachen = "cambridge-aachen"
        var p: Double { self == .antiKt ? -1 : self == .kt ? 1 : 0 }
    }

    public struct Jet: Sendable {
        public var momentum: FourVector
        /// Indices of the input particles it contains.
        public var constituents: [Int]
        public var pt: Double { momentum.pt }
        public var eta: Double { momentum.eta }
        public var phi: Double { momentum.phi }
        public var mass: Double { momentum.mass }
    }

    public var algorithm: Algorithm
    public var radius: Double

    /// `radius` must be finite and positive.
    public init(_ algorithm: Algorithm = .antiKt, radius: Double = 1.0) {
        precondition(radius.isFinite && radius > 0, "JetClustering: radius must be finite and positive, got \(radius)")
        self.algorithm = algorithm; self.radius = radius
    }

    /// Inclusive jets with pT ≥ ptMin, hardest first — the plain O(N²)-per-event reference
    /// (every nearest-neighbour search scans all particles).
    // Long: the plain all-pairs algorithm, kept whole as the judge of the fast one.
    public func clusterReference(_ particles: [FourVector], ptMin: Double = 0) -> [Jet] {
        let n = particles.count
        if n == 0 { return [] }
        var p = particles
        var members = (0..<n).map { [$0] }
        var active = [Bool](repeating: true, count: n)
        var y = p.map(\.rapidity), phi = p.map(\.phi), kt2p = p.map { weight($0) }
        let r2 = radius * radius
        var nnDist = [Double](repeating: .infinity, count: n), nn = [Int](repeating: -1, count: n)
        func distance(_ i: Int, _ j: Int) -> Double { deltaR2(y[i], phi[i], y[j], phi[j]) }
        func updateNN(_ i: Int) {
            nnDist[i] = r2; nn[i] = -1
            for j in 0..<n where j != i && active[j] {
                let d = distance(i, j)
                if d < nnDist[i] { nnDist[i] = d; nn[i] = j }
            }
        }
        for i in 0..<n { updateNN(i) }
        var jets: [Jet] = []
        var remaining = n
        while remaining > 0 {
            // The smallest d: d_iB = kt2p_i·(nnDist/R² capped at 1) covers both cases.
            var best = -1, bestD = Double.infinity
            for i in 0..<n where active[i] {
                let d = (nn[i] >= 0 ? min(kt2p[i], kt2p[nn[i]]) : kt2p[i]) * (nn[i] >= 0 ? nnDist[i] / r2 : 1)
                if best < 0 || d < bestD { bestD = d; best = i }
            }
            let i = best
            if nn[i] >= 0 {
                // Merge i and its neighbour j into i.
                let j = nn[i]
                p[i] = p[i] + p[j]
                members[i] += members[j]
                active[j] = false
                y[i] = p[i].rapidity; phi[i] = p[i].phi; kt2p[i] = weight(p[i])
                remaining -= 1
                updateNN(i)
                for k in 0..<n where active[k] && k != i {
                    if nn[k] == i || nn[k] == j {
                        updateNN(k)
                    } else {
                        let d = distance(k, i)
                        if d < nnDist[k] { nnDist[k] = d; nn[k] = i }
                    }
                }
            } else {
                // i becomes a jet.
                active[i] = false
                remaining -= 1
                if p[i].pt >= ptMin { jets.append(Jet(momentum: p[i], constituents: members[i])) }
                for k in 0..<n where active[k] && nn[k] == i { updateNN(k) }
            }
        }
        return jets.sorted { $0.pt > $1.pt }
    }

    private func weight(_ v: FourVector) -> Double { Self.weight(v, algorithm) }

    /// p_T^{2p}: the weight in d_ij and d_iB.
    static func weight(_ v: FourVector, _ algorithm: Algorithm) -> Double {
        switch algorithm {
        case .antiKt: return v.pt2 > 0 ? 1 / v.pt2 : .infinity
        case .kt: return v.pt2
        case .cambridgeAachen: return 1
        }
    }

    /// Inclusive jets with pT ≥ ptMin, hardest first. FastJet's tiled strategy: the (y, φ) plane is
    /// cut into tiles at least R wide, so a particle's neighbours within R lie in its own and the
    /// eight surrounding tiles, and nearest-neighbour searches touch a few dozen particles instead
    /// of all of them. Same results as `clusterReference` (tested against it and FastJet).
    public func cluster(_ particles: [FourVector], ptMin: Double = 0) -> [Jet] {
        // Particles with a non-finite component have no place in the (y, φ) plane: cluster the
        // others, and report constituents by their index in the caller's list.
        let finite = particles.indices.filter { i in
            let q = particles[i]
            return q.px.isFinite && q.py.isFinite && q.pz.isFinite && q.e.isFinite
        }
        if finite.count < particles.count {
            return cluster(finite.map { particles[$0] }, ptMin: ptMin).map { jet in
                Jet(momentum: jet.momentum, constituents: jet.constituents.map { finite[$0] })
            }
        }
        if particles.isEmpty { return [] }
        var state = TiledClustering(particles, radius: radius, algorithm: algorithm)
        defer { state.deallocate() }
        return state.run(ptMin: ptMin)
    }
}
