import Foundation

/// GenLab's pseudo-random number generator: xoshiro256** seeded through SplitMix64.
///
/// Every random stream in GenLab (initialisation, shuffling, noise, dropout) comes from one of these
/// with an explicit seed, so runs are reproducible across machines and Swift versions. The state is
/// four words and can be saved in a checkpoint (`state`) and restored exactly.
public struct PRNG: Sendable, Equatable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var sm = seed
        func splitmix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// Restores a generator from a saved `state`.
    public init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 }, "GenLab PRNG: a state is four words, not all zero")
        self.state = (state[0], state[1], state[2], state[3])
    }

    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    /// An independent generator for a named sub-stream (e.g. data order vs. noise), derived from this
    /// one's current state without advancing it.
    public func fork(_ stream: UInt64) -> PRNG {
        PRNG(seed: state.0 ^ (stream &* 0x9E37_79B9_7F4A_7C15) ^ state.2.rotl(17))
    }

    public static func == (a: PRNG, b: PRNG) -> Bool { a.stateWords == b.stateWords }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = (state.1 &* 5).rotl(7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = state.3.rotl(45)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits (every Float32 step in the interval).
    @inline(__always)
    public mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform integer in 0..<bound, unbiased (Lemire's method).
    public mutating func nextInt(_ bound: Int) -> Int {
        precondition(bound > 0, "GenLab PRNG: bound must be positive, got \(bound)")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// A standard normal sample (Box–Muller; one of the pair is discarded so the state stays 4 words).
    public mutating func nextNormal() -> Float {
        let u1 = Double(next() >> 11) * 0x1p-53
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * log(1 - u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    public mutating func fillUniform(_ out: UnsafeMutableBufferPointer<Float>, low: Float = 0, high: Float = 1) {
        let span = high - low
        for i in out.indices { out[i] = low + span * nextFloat() }
    }

    /// Normal samples, generated in Box–Muller pairs.
    public mutating func fillNormal(_ out: UnsafeMutableBufferPointer<Float>, mean: Float = 0, std: Float = 1) {
        var i = 0
        while i < out.count {
            let u1 = Double(next() >> 11) * 0x1p-53
            let u2 = Double(next() >> 11) * 0x1p-53
            let r = (-2 * log(1 - u1)).squareRoot()
            out[i] = mean + std * Float(r * cos(2 * Double.pi * u2))
            if i + 1 < out.count { out[i + 1] = mean + std * Float(r * sin(2 * Double.pi * u2)) }
            i += 2
        }
    }

    /// 1 with probability `p`, else 0.
    public mutating func fillBernoulli(_ out: UnsafeMutableBufferPointer<Float>, p: Float) {
        for i in out.indices { out[i] = nextFloat() < p ? 1 : 0 }
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, nextInt(i + 1)) }
        return p
    }
}

extension UInt64 {
    @inline(__always) fileprivate func rotl(_ k: UInt64) -> UInt64 { (self << k) | (self >> (64 - k)) }
}
