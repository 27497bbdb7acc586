import Engine

/// A seeded split of `count` examples into training and validation: a permutation drawn from the
/// caller's stream, its first `held` examples held out. Every model's validation set is drawn so.
public struct HoldOut: Equatable, Sendable {
    public let training: [Int]
    public let validation: [Int]

    public init(count: Int, held: Int, rng: inout PRNG) {
        precondition(held >= 0 && held <= count, "HoldOut: \(held) of \(count) examples")
        let order = rng.permutation(count)
        validation = Array(order.prefix(held))
        training = Array(order.dropFirst(held))
    }

    /// How many of `count` examples a `fraction` holds out: at least one when the fraction is positive.
    public static func size(of count: Int, fraction: Double) -> Int {
        fraction > 0 ? min(count, max(1, Int(Double(count) * fraction))) : 0
    }
}
