import Engine
import Models
import NN

/// How a generative run's optimisers are driven (`--lr-schedule`, `--warmup-steps`,
/// `--weight-decay`, `--grad-clip`): the rate at each step, decoupled weight decay (AdamW, as
/// torch.optim.AdamW) and gradient-norm clipping (torch.nn.utils.clip_grad_norm_). The rate is a
/// function of the step alone, so a resumed run follows the same schedule exactly.
public struct OptimizerPolicy: Codable, Sendable, Equatable {
    /// The shape of the rate over the run after the warm-up.
    public enum Schedule: String, Codable, CaseIterable, Sendable, NamedChoice {
        /// The base rate throughout.
        case constant
        /// Cosine from the base rate to 0 at the last planned step (torch CosineAnnealingLR, eta_min = 0).
        case cosine
        /// × 0.1 after each third of the planned steps (torch StepLR with step_size = total / 3).
        case step
    }

    public var schedule: Schedule = .constant
    /// Steps of linear ramp from base / N up to the base rate (0: none).
    public var warmupSteps = 0
    /// Decoupled weight decay (0: plain Adam).
    public var weightDecay: Float = 0
    /// Largest global gradient norm per optimiser step (nil: no clipping).
    public var gradClip: Float?
    /// The run's planned steps (epochs × batches): what cosine and step divide.
    public var plannedSteps = 0

    public init() {}

    /// The schedule from the engine's LRSchedule.
    public var lrSchedule: LRSchedule {
        let rest = max(plannedSteps - warmupSteps, 1)
        let main: LRSchedule
        switch schedule {
        case .constant: main = .constant
        case .cosine: main = .cosine(total: rest, minimum: 0)
        case .step: main = .step(stepSize: max(rest / 3, 1), gamma: 0.1)
        }
        return warmupSteps > 0 ? .warmup(steps: warmupSteps, then: main) : main
    }

    /// The optimiser for `parameters`: Adam, or AdamW when there is weight decay.
    public func optimizer(
        _ parameters: [(String, Tensor)], lr: Float, betas: (Float, Float) = Adam.defaultBetas
    )
        -> Adam
    {
        weightDecay > 0
            ? AdamW(parameters, lr: lr, betas: betas, weightDecay: weightDecay)
            : Adam(parameters, lr: lr, betas: betas)
    }

    /// Just before `optimizer.step()` of step `step` (0-based): sets the rate and clips the gradients.
    public func prepare(_ optimizer: Optimizer, base: Float, step: Int) {
        optimizer.learningRate = lrSchedule.rate(at: step, base: base)
        if let gradClip { _ = clipGradNorm(optimizer.parameters.map(\.1), maxNorm: gradClip) }
    }
}
