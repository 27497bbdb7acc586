import Foundation

/// The working state of one event's tiled clustering (`JetClustering.cluster`): FastJet's tiled
/// strategy over flat buffers. Every per-particle quantity lives in a buffer of its own, read through
/// unsafe pointers — the loop runs a few hundred thousand distance evaluations per event, and array
/// bounds, uniqueness and exclusivity checks on each were most of its time. Sizes follow from the
/// particle count at `init` (only the tiles' pool grows, by doubling), and every index the loops
/// use is a particle (0..<n), a slot (0..<live), a tile (0..<tileCount) or a pool entry below
/// `poolUsed`, which `init` and `append` keep in bounds. `deallocate` frees it all.
///
/// Constituents are not copied on every merge: each merge is recorded as a node of a binary tree
/// (left: the surviving object's previous node, right: the absorbed one's), and a jet's
/// constituents are the tree's leaves read left first — the order `clusterReference` builds by
/// appending lists.
struct TiledClustering {
    let n: Int
    let r2: Double
    let algorithm: JetClustering.Algorithm
    // Per particle (index = the caller's particle, which keeps its index when it absorbs another).
    let momentum: UnsafeMutablePointer<FourVector>
    let y: UnsafeMutablePointer<Double>, phi: UnsafeMutablePointer<Double>, kt2p: UnsafeMutablePointer<Double>
    let nnDist: UnsafeMutablePointer<Double>
    let nn: UnsafeMutablePointer<Int>, tile: UnsafeMutablePointer<Int>, node: UnsafeMutablePointer<Int>
    // The packed d array of the live particles: `dij[slot[i]]` is i's, `owner[s]` the particle in slot s.
    let dij: UnsafeMutablePointer<Double>
    let slot: UnsafeMutablePointer<Int>, owner: UnsafeMutablePointer<Int>
    var live: Int
    // The merge tree: node n + k is merge k, with children `left[k]`, `right[k]`.
    let left: UnsafeMutablePointer<Int>, right: UnsafeMutablePointer<Int>
    var merges = 0
    // Tiles: nY rows × nPhi columns; tile t's members are `pool[start[t] ..< start[t] + count[t]]` in
    // the order they entered it, with room up to `capacity[t]` (a full tile moves to the pool's end).
    let nPhi: Int, nY: Int, tilePhi: Double, yMin: Double, tileY: Double
    var tileCount: Int { nY * nPhi }
    var pool: UnsafeMutablePointer<Int>
    /// Each member's y and φ beside its index, so the distance loops read a tile contiguously.
    var poolY: UnsafeMutablePointer<Double>, poolPhi: UnsafeMutablePointer<Double>
    var poolSize: Int, poolUsed: Int
    /// The tiles a step changes (at most three neighbourhoods of nine).
    let touched: UnsafeMutablePointer<Int>
    let start: UnsafeMutablePointer<Int>, count: UnsafeMutablePointer<Int>, capacity: UnsafeMutablePointer<Int>
    // The tiles around each tile (itself included, φ wrapping, y clamped): `around[9 t ..< 9 t + aroundCount[t]]`.
    let around: UnsafeMutablePointer<Int>, aroundCount: UnsafeMutablePointer<Int>

    /// `particles` must be finite (the caller filters) and non-empty.
    // Long: every buffer and the tiles laid out in one pass; the order of the steps is the layout's.
    init(_ particles: [FourVector], radius: Double, algorithm: JetClustering.Algorithm) {
        n = particles.count
        r2 = radius * radius
        self.algorithm = algorithm
        momentum = .allocate(capacity: n)
        momentum.initialize(from: particles, count: n)
        y = .allocate(capacity: n); phi = .allocate(capacity: n); kt2p = .allocate(capacity: n)
        nnDist = .allocate(capacity: n); nn = .allocate(capacity: n); tile = .allocate(capacity: n)
        node = .allocate(capacity: n); dij = .allocate(capacity: n); slot = .allocate(capacity: n)
        owner = .allocate(capacity: n)
        left = .allocate(capacity: max(n, 1)); right = .allocate(capacity: max(n, 1))
        var lo = Double.infinity, hi = -Double.infinity
        for i in 0..<n {
            let q = particles[i]
            y[i] = min(max(q.rapidity, -1e4), 1e4); phi[i] = q.phi; kt2p[i] = JetClustering.weight(q, algorithm)
            nnDist[i] = r2; nn[i] = -1; node[i] = i; slot[i] = i; owner[i] = i
            lo = min(lo, y[i]); hi = max(hi, y[i])
        }
        live = n
        // Tiles at least R wide (so neighbours within R lie in adjacent tiles) and, as FastJet's,
        // at least 0.1: a tiny R must not ask for millions of tiles.
        let side = max(radius, 0.1)
        nPhi = max(3, Int((2 * Double.pi / side).rounded(.down)))
        tilePhi = 2 * Double.pi / Double(nPhi)
        yMin = lo - 1e-9
        let yMax = hi + 1e-9
        nY = max(1, min(Int(((yMax - yMin) / side).rounded(.down)), 1000))
        tileY = (yMax - yMin) / Double(nY)
        let tiles = nY * nPhi
        start = .allocate(capacity: tiles); count = .allocate(capacity: tiles); capacity = .allocate(capacity: tiles)
        around = .allocate(capacity: 9 * tiles); aroundCount = .allocate(capacity: tiles)
        for t in 0..<tiles {
            let iy = t / nPhi, ip = t % nPhi
            var k = 0
            for dy in -1...1 where iy + dy >= 0 && iy + dy < nY {
                for dp in -1...1 {
                    let q = (iy + dy) * nPhi + (ip + dp + nPhi) % nPhi
                    var seen = false
                    for m in 0..<k where around[9 * t + m] == q { seen = true }
                    if !seen { around[9 * t + k] = q; k += 1 }
                }
            }
            aroundCount[t] = k
        }
        pool = .allocate(capacity: 1); poolSize = 1; poolUsed = 0
        poolY = .allocate(capacity: 1); poolPhi = .allocate(capacity: 1)
        touched = .allocate(capacity: 27)
        // Each tile starts with room for its particles and as many again (at least 8).
        for t in 0..<tiles { count[t] = 0 }
        for i in 0..<n { tile[i] = tileOf(i); count[tile[i]] += 1 }
        var offset = 0
        for t in 0..<tiles {
            start[t] = offset; capacity[t] = max(8, 2 * count[t]); offset += capacity[t]; count[t] = 0
        }
        pool.deallocate(); poolY.deallocate(); poolPhi.deallocate()
        poolUsed = offset
        poolSize = 2 * offset
        pool = .allocate(capacity: poolSize); poolY = .allocate(capacity: poolSize);
        poolPhi = .allocate(capacity: poolSize)
        for i in 0..<n { append(i, to: tile[i]) }
    }

    func deallocate() {
        momentum.deinitialize(count: n)
        momentum.deallocate()
        for b in [y, phi, kt2p, nnDist, dij, poolY, poolPhi] { b.deallocate() }
        for b in [nn, tile, node, slot, owner, left, right, pool, start, count, capacity, around, aroundCount, touched]
        {
            b.deallocate()
        }
    }

    func tileOf(_ i: Int) -> Int {
        let iy = min(nY - 1, max(0, Int((y[i] - yMin) / tileY)))
        let ip = (Int(((phi[i] + .pi) / tilePhi).rounded(.down)) % nPhi + nPhi) % nPhi
        return iy * nPhi + ip
    }

    mutating func append(_ i: Int, to t: Int) {
        if count[t] == capacity[t] {
            // Move the tile to the pool's end with twice the room (growing the pool if needed).
            let room = 2 * capacity[t]
            if poolUsed + room > poolSize {
                poolSize = 2 * (poolUsed + room)
                let bigger = UnsafeMutablePointer<Int>.allocate(capacity: poolSize)
                let biggerY = UnsafeMutablePointer<Double>.allocate(capacity: poolSize)
                let biggerPhi = UnsafeMutablePointer<Double>.allocate(capacity: poolSize)
                bigger.update(from: pool, count: poolUsed)
                biggerY.update(from: poolY, count: poolUsed)
                biggerPhi.update(from: poolPhi, count: poolUsed)
                pool.deallocate(); poolY.deallocate(); poolPhi.deallocate()
                pool = bigger; poolY = biggerY; poolPhi = biggerPhi
            }
            (pool + poolUsed).update(from: pool + start[t], count: count[t])
            (poolY + poolUsed).update(from: poolY + start[t], count: count[t])
            (poolPhi + poolUsed).update(from: poolPhi + start[t], count: count[t])
            start[t] = poolUsed; capacity[t] = room; poolUsed += room
        }
        pool[start[t] + count[t]] = i
        poolY[start[t] + count[t]] = y[i]; poolPhi[start[t] + count[t]] = phi[i]
        count[t] += 1
    }

    /// Removes i from its tile, keeping the others' order.
    func removeFromTile(_ i: Int) {
        let t = tile[i], members = pool + start[t]
        var k = 0
        while k < count[t] && members[k] != i { k += 1 }
        guard k < count[t] else { return }
        let after = count[t] - k - 1
        (members + k).update(from: members + k + 1, count: after)
        (poolY + start[t] + k).update(from: poolY + start[t] + k + 1, count: after)
        (poolPhi + start[t] + k).update(from: poolPhi + start[t] + k + 1, count: after)
        count[t] -= 1
    }

    func refreshD(_ i: Int) {
        dij[slot[i]] = nn[i] >= 0 ? min(kt2p[i], kt2p[nn[i]]) * nnDist[i] / r2 : kt2p[i]
    }

    mutating func retire(_ i: Int) {
        let s = slot[i], last = owner[live - 1]
        dij[s] = dij[live - 1]; owner[s] = last; slot[last] = s
        live -= 1
    }

    func updateNN(_ i: Int) {
        var best = r2, bestJ = -1
        let (yi, phii) = (y[i], phi[i])
        let ring = around + 9 * tile[i]
        for a in 0..<aroundCount[tile[i]] {
            let t = ring[a], members = pool + start[t], ys = poolY + start[t], phis = poolPhi + start[t]
            for k in 0..<count[t] {
                let d = deltaR2(yi, phii, ys[k], phis[k])
                if d < best && members[k] != i { best = d; bestJ = members[k] }
            }
        }
        nnDist[i] = best; nn[i] = bestJ
        refreshD(i)
    }

    /// The live particle `clusterReference` would pick: the smallest d, the lowest index among
    /// equal ones (a pair that are each other's neighbours has one d twice); NaN ds (two particles
    /// without transverse momentum at one place) are passed over, unless the lowest-index live
    /// particle has one — the reference starts from it, and no comparison with NaN replaces it.
    func smallest() -> Int {
        // The smallest value eight lanes at a time (a NaN never compares less), then the slots that hold it.
        var m = SIMD8<Double>(repeating: .infinity)
        var nan = SIMDMask<SIMD8<Int64>>(repeating: false)
        var q = 0
        while q + 8 <= live {
            let v = UnsafeRawPointer(dij + q).loadUnaligned(as: SIMD8<Double>.self)
            m.replace(with: v, where: v .< m)
            nan .|= v .!= v
            q += 8
        }
        var least = m.min(), sawNaN = any(nan)
        while q < live {
            if dij[q] < least { least = dij[q] }
            if dij[q].isNaN { sawNaN = true }
            q += 1
        }
        if sawNaN {
            var first = 0
            for s in 1..<live where owner[s] < owner[first] { first = s }
            if dij[first].isNaN { return owner[first] }
        }
        var best = -1
        for s in 0..<live where dij[s] == least && (best < 0 || owner[s] < owner[best]) { best = s }
        return owner[best]
    }

    /// The particles merged into node `root`, left first.
    func leaves(_ root: Int) -> [Int] {
        var out: [Int] = [], stack = [root]
        while let top = stack.popLast() {
            if top < n {
                out.append(top)
            } else {
                stack.append(right[top - n]); stack.append(left[top - n])
            }
        }
        return out
    }

    // Long: one merge-or-jet step of FastJet's tiled loop with the neighbour updates it implies.
    mutating func run(ptMin: Double) -> [JetClustering.Jet] {
        for i in 0..<n { updateNN(i) }
        var jets: [JetClustering.Jet] = []
        var touchedCount = 0
        let touched = self.touched
        @inline(__always) func touch(_ t: Int) {
            var k = 0
            while k < touchedCount && touched[k] != t { k += 1 }
            if k == touchedCount { touched[touchedCount] = t; touchedCount += 1 }
        }
        for _ in 0..<n {
            let i = smallest()
            // Tiles whose particles may have pointed at the objects that change.
            touchedCount = 0
            for a in 0..<aroundCount[tile[i]] { touch(around[9 * tile[i] + a]) }
            if nn[i] >= 0 {
                let j = nn[i]
                for a in 0..<aroundCount[tile[j]] { touch(around[9 * tile[j] + a]) }
                momentum[i] = momentum[i] + momentum[j]
                left[merges] = node[i]; right[merges] = node[j]; node[i] = n + merges; merges += 1
                retire(j)
                removeFromTile(j)
                removeFromTile(i)
                y[i] = min(max(momentum[i].rapidity, -1e4), 1e4); phi[i] = momentum[i].phi
                kt2p[i] = JetClustering.weight(momentum[i], algorithm)
                tile[i] = tileOf(i)
                append(i, to: tile[i])
                for a in 0..<aroundCount[tile[i]] { touch(around[9 * tile[i] + a]) }
                updateNN(i)
                let (yi, phii) = (y[i], phi[i])
                for c in 0..<touchedCount {
                    let t = touched[c], members = pool + start[t], ys = poolY + start[t], phis = poolPhi + start[t]
                    for k in 0..<count[t] {
                        let m = members[k]
                        if m == i { continue }
                        if nn[m] == i || nn[m] == j { updateNN(m); continue }
                        let d = deltaR2(ys[k], phis[k], yi, phii)
                        if d < nnDist[m] { nnDist[m] = d; nn[m] = i; refreshD(m) }
                    }
                }
            } else {
                retire(i)
                removeFromTile(i)
                if momentum[i].pt >= ptMin {
                    jets.append(JetClustering.Jet(momentum: momentum[i], constituents: leaves(node[i])))
                }
                for c in 0..<touchedCount {
                    let t = touched[c]
                    for k in 0..<count[t] where nn[pool[start[t] + k]] == i { updateNN(pool[start[t] + k]) }
                }
            }
        }
        return jets.sorted { $0.pt > $1.pt }
    }
}
