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
        // One clustering gives all three axis sets: exclusive kT to N stops at N of the same sequence.
        let axes = exclusiveKtAxes(particles, counts: [1, 2, 3])
        let taus = (1...3).map { tau(particles, axes: axes[$0] ?? [], radius: radius) }
        return Summary(
            pt: jet.pt, mass: jet.mass, multiplicity: particles.count, tau1: taus[0], tau2: taus[1], tau3: taus[2])
    }

    /// From a jet image (rows φ, columns η, over [−window, window]²; pixel values are pT).
    public static func summary(image: [Float], size: Int, window: Double = 1.25, radius: Double = 1.0) -> Summary {
        let step = 2 * window / Double(size)
        var particles: [FourVector] = []
        for r in 0..<size {
            for c in 0..<size where image[r * size + c] > 0 && image[r * size + c].isFinite {
                particles.append(
                    FourVector(
                        pt: Double(image[r * size + c]), eta: -window + (Double(c) + 0.5) * step,
                        phi: -window + (Double(r) + 0.5) * step))
            }
        }
        return summary(particles, radius: radius)
    }

    static func deltaR2(_ a: FourVector, _ b: FourVector) -> Double {
        Physics.deltaR2(a.rapidity, a.phi, b.rapidity, b.phi)
    }

    /// The exclusive-kT axes described above.
    public static func exclusiveKtAxes(_ particles: [FourVector], n: Int) -> [FourVector] {
        exclusiveKtAxes(particles, counts: [n])[n] ?? []
    }

    /// The exclusive-kT objects when `counts` of them remain (each count in one pass).
    ///
    /// FastJet's N² strategy: the pair with the smallest d_ij = min(pT_i², pT_j²)·ΔR²_ij always
    /// has one member as the other's geometric nearest neighbour, so each object keeps its
    /// nearest neighbour and only those that pointed at a merged object look again — a dense
    /// 32×32 image (1 024 pixels) clusters in milliseconds, not the seconds of the all-pairs search
    /// (`exclusiveKtAxesReference`, the judge in the tests).
    // Long: the N ln N exclusive-kT loop as one piece beside its reference.
    public static func exclusiveKtAxes(_ particles: [FourVector], counts: Set<Int>) -> [Int: [FourVector]] {
        var result: [Int: [FourVector]] = [:]
        for c in counts where particles.count <= c { result[c] = particles }
        guard let smallest = counts.filter({ $0 >= 1 && $0 < particles.count }).min() else { return result }
        // Flat buffers read through pointers: the loop evaluates about N²·log N distances, and array
        // bounds and exclusivity checks on each were most of its time. The live objects are also
        // kept packed in index order (`live`, with their y, φ and d beside them), so every scan
        // shrinks as objects merge and reads memory in order. Every index is 0..<n or 0..<count.
        let n = particles.count
        let objects = UnsafeMutablePointer<FourVector>.allocate(capacity: n)
        objects.initialize(from: particles, count: n)
        let doubles = UnsafeMutablePointer<Double>.allocate(capacity: 6 * n)
        let ints = UnsafeMutablePointer<Int>.allocate(capacity: 3 * n)
        defer {
            objects.deinitialize(count: n)
            objects.deallocate(); doubles.deallocate(); ints.deallocate()
        }
        let kt2 = doubles, nnDist = doubles + n  // by object
        let ly = doubles + 2 * n, lphi = doubles + 3 * n, ld = doubles + 4 * n  // by position in `live`
        let nn = ints, position = ints + n, live = ints + 2 * n
        var count = n
        for i in 0..<n {
            ly[i] = particles[i].rapidity; lphi[i] = particles[i].phi; kt2[i] = particles[i].pt2
            nn[i] = -1; nnDist[i] = .infinity; live[i] = i; position[i] = i
        }
        // d of the object at position k (infinite without a neighbour, where it is never chosen).
        func refresh(_ k: Int) {
            let i = live[k]
            ld[k] = nn[i] >= 0 ? min(kt2[i], kt2[nn[i]]) * nnDist[i] : .infinity
        }
        func findNeighbour(_ k: Int) {
            let (yi, phii) = (ly[k], lphi[k])
            var best = Double.infinity, bestJ = -1
            for m in 0..<count where m != k {
                let d = Physics.deltaR2(yi, phii, ly[m], lphi[m])
                if d < best { best = d; bestJ = live[m] }
            }
            nn[live[k]] = bestJ; nnDist[live[k]] = best
            refresh(k)
        }
        for k in 0..<n { findNeighbour(k) }
        while count > smallest {
            var best = -1, bestD = Double.infinity
            for k in 0..<count where nn[live[k]] >= 0 {
                let d = ld[k], i = live[k]
                if best < 0 || d < bestD || (d == bestD && min(i, nn[i]) < min(best, nn[best])) { bestD = d; best = i }
            }
            guard best >= 0 else { break }  // only with non-finite coordinates: nothing left to merge by
            let (i, j) = (min(best, nn[best]), max(best, nn[best]))
            objects[i] = objects[i] + objects[j]
            kt2[i] = objects[i].pt2
            let pj = position[j]
            let after = count - pj - 1  // close the gap j leaves in the packed arrays
            (ly + pj).update(from: ly + pj + 1, count: after)
            (lphi + pj).update(from: lphi + pj + 1, count: after)
            (ld + pj).update(from: ld + pj + 1, count: after)
            (live + pj).update(from: live + pj + 1, count: after)
            count -= 1
            for k in pj..<count { position[live[k]] = k }
            let pi = position[i]
            ly[pi] = objects[i].rapidity; lphi[pi] = objects[i].phi
            findNeighbour(pi)
            for k in 0..<count where k != pi {
                let m = live[k]
                if nn[m] == i || nn[m] == j {
                    findNeighbour(k)
                } else {
                    let d = Physics.deltaR2(ly[k], lphi[k], ly[pi], lphi[pi])
                    if d < nnDist[m] { nnDist[m] = d; nn[m] = i; refresh(k) }
                }
            }
            if counts.contains(count) {
                result[count] = (0..<count).map { objects[live[$0]] }
            }
        }
        return result
    }

    /// The plain all-pairs exclusive-kT clustering: the reference the fast one is tested against.
    public static func exclusiveKtAxesReference(_ particles: [FourVector], n: Int) -> [FourVector] {
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
        return tau(particles, axes: exclusiveKtAxes(particles, n: n), radius: radius)
    }

    static func tau(_ particles: [FourVector], axes: [FourVector], radius: Double) -> Double {
        guard !particles.isEmpty else { return 0 }
        var num = 0.0, den = 0.0
        for p in particles {
            let d = axes.map { deltaR2(p, $0) }.min() ?? 0
            num += p.pt * d.squareRoot()
            den += p.pt * radius
        }
        return den > 0 ? num / den : 0
    }
}
