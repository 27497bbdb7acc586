import Foundation

/// Energy flow polynomials (Komiske, Metodiev & Thaler 2018), with the hadronic measure at β = 1
/// as energyflow's `EFPSet(measure="hadr", beta=1, coords="ptyphim")` uses it: for a multigraph G
/// with vertices V and edges E,
///   EFP_G = Σ_{i_1…i_|V|} z_{i_1}⋯z_{i_|V|} Π_{(k,l)∈E} θ_{i_k i_l},
/// z_i = pT_i / Σ pT, θ_ij = √(Δy² + Δφ²). A disconnected graph's EFP is the product of its
/// connected parts'. Connected graphs are evaluated by variable elimination (every graph up to
/// degree 5 has tree-width ≤ 2, so no intermediate is bigger than an M × M matrix).
public enum EnergyFlow {
    /// A multigraph: its edges (k < l) with multiplicities, over vertices 0..<vertices.
    public struct Graph: Hashable, Sendable, CustomStringConvertible {
        public var vertices: Int
        public var edges: [Edge]
        public struct Edge: Hashable, Sendable { public var a: Int, b: Int, multiplicity: Int }

        public var degree: Int { edges.reduce(0) { $0 + $1.multiplicity } }
        public var description: String {
            edges.map { "\($0.a)-\($0.b)" + ($0.multiplicity > 1 ? "×\($0.multiplicity)" : "") }.joined(separator: " ")
        }
    }

    /// An EFP: a product of connected graphs (one for a prime EFP).
    public struct Polynomial: Hashable, Sendable {
        public var factors: [Graph]
        public var degree: Int { factors.reduce(0) { $0 + $1.degree } }
        public var vertices: Int { factors.reduce(0) { $0 + $1.vertices } }
        public var isPrime: Bool { factors.count == 1 }
        /// An empty list of factors is the degree-0 EFP, 1 for every jet.
        public init(factors: [Graph]) { self.factors = factors }
    }

    /// Every connected multigraph of degree `d` (edges counted with multiplicity), up to isomorphism.
    public static func connectedGraphs(degree d: Int) -> [Graph] {
        guard d >= 1 else { return [] }
        var seen = Set<[Int]>(), out: [Graph] = []
        for n in 2...(d + 1) {
            let pairs = (0..<n).flatMap { a in ((a + 1)..<n).map { (a, $0) } }
            // Multisets of d pairs, as non-decreasing index sequences.
            var choice = [Int](repeating: 0, count: d)
            func visit(_ position: Int, _ start: Int) {
                if position == d {
                    var counts = [Int](repeating: 0, count: pairs.count)
                    for c in choice { counts[c] += 1 }
                    let edges = pairs.indices.filter { counts[$0] > 0 }.map {
                        Graph.Edge(a: pairs[$0].0, b: pairs[$0].1, multiplicity: counts[$0])
                    }
                    let g = Graph(vertices: n, edges: edges)
                    guard isConnected(g) else { return }
                    let key = canonical(g)
                    if seen.insert(key).inserted { out.append(g) }
                    return
                }
                for c in start..<pairs.count { choice[position] = c; visit(position + 1, c) }
            }
            visit(0, 0)
        }
        return out
    }

    /// Every EFP of degree 1…`maxDegree` (prime and composite), ordered by degree then vertices.
    public static func polynomials(maxDegree: Int) -> [Polynomial] {
        let connected = (1...max(maxDegree, 1)).map { connectedGraphs(degree: $0) }
        let flat = connected.flatMap { $0 }
        var out: [Polynomial] = []
        // Multisets of connected graphs (indices non-decreasing) with total degree ≤ maxDegree.
        func visit(_ start: Int, _ chosen: [Graph], _ degree: Int) {
            if !chosen.isEmpty { out.append(Polynomial(factors: chosen)) }
            for i in start..<flat.count where degree + flat[i].degree <= maxDegree {
                visit(i, chosen + [flat[i]], degree + flat[i].degree)
            }
        }
        visit(0, [], 0)
        return out.sorted { ($0.degree, $0.vertices, $0.factors.count) < ($1.degree, $1.vertices, $1.factors.count) }
    }

    static func isConnected(_ g: Graph) -> Bool {
        var reached: Set<Int> = [0], frontier = [0]
        while let v = frontier.popLast() {
            for e in g.edges where e.a == v || e.b == v {
                let u = e.a == v ? e.b : e.a
                if reached.insert(u).inserted { frontier.append(u) }
            }
        }
        return reached.count == g.vertices
    }

    /// The lexicographically smallest adjacency listing over all vertex relabellings.
    static func canonical(_ g: Graph) -> [Int] {
        var best: [Int]?
        var perm = Array(0..<g.vertices)
        func consider() {
            var m = [Int](repeating: 0, count: g.vertices * g.vertices)
            for e in g.edges {
                let (x, y) = (perm[e.a], perm[e.b])
                m[min(x, y) * g.vertices + max(x, y)] = e.multiplicity
            }
            if best == nil || m.lexicographicallyPrecedes(best!) { best = m }
        }
        func permute(_ k: Int) {
            if k == perm.count { consider(); return }
            for i in k..<perm.count {
                perm.swapAt(k, i); permute(k + 1); perm.swapAt(k, i)
            }
        }
        permute(0)
        return [g.vertices] + best!
    }

    // MARK: Evaluation

    /// Particles as (pT, y, φ); the values of `polynomials` for them.
    public static func values(
        _ polynomials: [Polynomial], particles: [(pt: Double, y: Double, phi: Double)]
    ) -> [Double] {
        let p = particles.filter { $0.pt > 0 && $0.pt.isFinite && $0.y.isFinite && $0.phi.isFinite }
        let m = p.count
        guard m > 0 else { return [Double](repeating: 0, count: polynomials.count) }
        let total = p.reduce(0) { $0 + $1.pt }
        let z = p.map { $0.pt / total }
        var theta = [Double](repeating: 0, count: m * m)
        for i in 0..<m {
            for j in (i + 1)..<m {
                let t = deltaR2(p[i].y, p[i].phi, p[j].y, p[j].phi).squareRoot()
                theta[i * m + j] = t; theta[j * m + i] = t
            }
        }
        var cache: [Graph: Double] = [:]
        return polynomials.map { poly in
            poly.factors.reduce(1.0) { product, g in
                if let v = cache[g] { return product * v }
                let v = connectedValue(g, z: z, theta: theta, m: m)
                cache[g] = v
                return product * v
            }
        }
    }

    /// A connected graph's EFP by variable elimination: vertex factors are vectors (z, then
    /// messages), edge factors M × M matrices (θ to the edge's multiplicity).
    static func connectedValue(_ g: Graph, z: [Double], theta: [Double], m: Int) -> Double {
        var unary: [Int: [Double]] = [:]
        for v in 0..<g.vertices { unary[v] = z }
        var pairwise: [[Int]: [Double]] = [:]  // key [a, b] with a < b; matrix indexed [i_a * m + i_b]
        for e in g.edges {
            var power = theta
            if e.multiplicity > 1 {
                for k in power.indices { power[k] = Foundation.pow(theta[k], Double(e.multiplicity)) }
            }
            pairwise[[e.a, e.b]] = power
        }
        var remaining = Set(0..<g.vertices)
        func neighbours(_ v: Int) -> [Int] {
            pairwise.keys.filter { $0.contains(v) }.map { $0[0] == v ? $0[1] : $0[0] }
        }
        while true {
            let v = remaining.min { (neighbours($0).count, $0) < (neighbours($1).count, $1) }!
            let ns = neighbours(v), u = unary[v]!
            remaining.remove(v)
            switch ns.count {
            case 0:
                return u.reduce(0, +)
            case 1:
                let w = ns[0], key = [min(v, w), max(v, w)], a = pairwise.removeValue(forKey: key)!
                var message = [Double](repeating: 0, count: m)
                for i in 0..<m where u[i] != 0 {
                    for j in 0..<m { message[j] += u[i] * (v < w ? a[i * m + j] : a[j * m + i]) }
                }
                unary[w] = zip(unary[w]!, message).map(*)
            default:
                // Two neighbours (tree-width ≤ 2): B[j, l] = Σ_i u_i A_vw1[i, j] A_vw2[i, l].
                precondition(ns.count == 2, "EnergyFlow: graph \(g) has tree-width above 2")
                let (w1, w2) = (min(ns[0], ns[1]), max(ns[0], ns[1]))
                let a1 = pairwise.removeValue(forKey: [min(v, w1), max(v, w1)])!,
                    a2 = pairwise.removeValue(forKey: [min(v, w2), max(v, w2)])!
                var b = [Double](repeating: 0, count: m * m)
                for i in 0..<m where u[i] != 0 {
                    for j in 0..<m {
                        let x = u[i] * (v < w1 ? a1[i * m + j] : a1[j * m + i])
                        if x == 0 { continue }
                        for l in 0..<m { b[j * m + l] += x * (v < w2 ? a2[i * m + l] : a2[l * m + i]) }
                    }
                }
                if let old = pairwise[[w1, w2]] { for k in b.indices { b[k] *= old[k] } }
                pairwise[[w1, w2]] = b
            }
        }
    }
}
