import Foundation

/// A learning-rate schedule: the rate at a given step (or epoch) from the base rate.
public enum LRSchedule: Codable, Sendable, Equatable {
    case constant
    /// × gamma every `stepSize` steps (torch StepLR).
    case step(stepSize: Int, gamma: Float)
    /// Cosine from the base rate down to `minimum` over `total` steps (torch CosineAnnealingLR).
    case cosine(total: Int, minimum: Float)
    /// Linear ramp from base/warmup·1 to base over `steps` steps, then `then` (shifted by `steps`).
    indirect case warmup(steps: Int, then: LRSchedule)

    public func rate(at step: Int, base: Float) -> Float {
        switch self {
        case .constant:
            return base
        case let .step(stepSize, gamma):
            return base * Foundation.pow(gamma, Float(step / max(stepSize, 1)))
        case let .cosine(total, minimum):
            let t = Float(min(step, total)) / Float(max(total, 1))
            return minimum + (base - minimum) * (1 + Foundation.cos(Float.pi * t)) / 2
        case let .warmup(steps, then):
            if step < steps { return base * Float(step + 1) / Float(steps) }
            return then.rate(at: step - steps, base: base)
        }
    }
}

/// Sets an optimiser's rate from a schedule as steps go by.
public final class LRScheduler {
    public let schedule: LRSchedule
    public let base: Float
    public private(set) var stepCount = 0
    let optimizer: Optimizer

    public init(_ optimizer: Optimizer, schedule: LRSchedule) {
        self.optimizer = optimizer
        self.schedule = schedule
        base = optimizer.learningRate
        optimizer.learningRate = schedule.rate(at: 0, base: base)
    }

    public func step() {
        stepCount += 1
        optimizer.learningRate = schedule.rate(at: stepCount, base: base)
    }
}
