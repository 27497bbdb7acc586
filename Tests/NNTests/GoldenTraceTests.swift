import Engine
import Formats
import NN
import XCTest

/// llm.c-style golden traces: the same initial weights (a PyTorch state_dict saved with
/// safetensors.torch.save_file) and the same batches in PyTorch and GenLab; after 10 optimiser
/// steps the losses, the weights and BatchNorm's running statistics agree.
final class GoldenTraceTests: XCTestCase {
    var data: [String: Any] = [:]

    override func setUpWithError() throws { data = try Fixture.json("nn.json") }

    func testMLPWithSGDMomentumWeightDecayAndStepSchedule() throws {
        try run("mlp_sgd", conv: false) {
            SGD($0, lr: 0.05, momentum: 0.9, weightDecay: 1e-3)
        } schedule: {
            LRScheduler($0, schedule: .step(stepSize: 3, gamma: 0.5))
        }
    }

    func testMLPWithAdamW() throws {
        try run("mlp_adamw", conv: false) { AdamW($0, lr: 1e-2, weightDecay: 0.1) }
    }

    func testConvNetWithBatchNormAndNesterovSGD() throws {
        try run("conv_sgd", conv: true) { SGD($0, lr: 0.1, momentum: 0.9, nesterov: true) }
    }

    func testConvNetWithBatchNormAndAdam() throws {
        try run("conv_adam", conv: true) { Adam($0, lr: 1e-2) }
    }

    private func run(
        _ name: String, conv: Bool, optimizer make: ([(String, Tensor)]) -> Optimizer,
        schedule: ((Optimizer) -> LRScheduler)? = nil
    ) throws {
        var rng = PRNG(seed: 0)
        let model = conv ? makeConvNet(&rng) : makeMLP(&rng)
        let initial = try Checkpoint.load(Fixture.path("\(name)_initial.safetensors"))
        try initial.restore(into: model)
        let trace = (data["traces"] as! [String: Any])[name] as! [String: Any]

        // A PyTorch state_dict gives the same outputs in GenLab (evaluation mode).
        model.eval()
        let probeOut = noGrad { model(tensor(trace["probe"]!)) }
        XCTAssertLessThanOrEqual(
            mismatch(probeOut.scalars, tensor(trace["probeOutput"]!).scalars), 1, "\(name): probe output")
        model.train()

        let opt = make(model.namedParameters())
        let scheduler = schedule?(opt)
        let expectedLosses = (trace["losses"] as! [NSNumber]).map(\.floatValue)
        var losses: [Float] = []
        if conv {
            for batch in data["convBatches"] as! [[Any]] {
                let x = tensor(batch[0]), y = (batch[1] as! [NSNumber]).map(\.intValue)
                opt.zeroGrad()
                let loss = Loss.crossEntropy(model(x), targets: y)
                loss.backward()
                opt.step()
                scheduler?.step()
                losses.append(loss.item())
            }
        } else {
            for batch in data["mlpBatches"] as! [[Any]] {
                opt.zeroGrad()
                let loss = Loss.mse(model(tensor(batch[0])), tensor(batch[1]))
                loss.backward()
                opt.step()
                scheduler?.step()
                losses.append(loss.item())
            }
        }
        XCTAssertEqual(losses.count, 10)
        XCTAssertLessThanOrEqual(
            mismatch(losses, expectedLosses, atol: 1e-5, rtol: 1e-4), 1,
            "\(name): losses \(losses) vs \(expectedLosses)")
        let final = try SafeTensors.read(Fixture.path("\(name)_final.safetensors")).tensors
        let mine = model.stateDict()
        XCTAssertEqual(Set(mine.keys), Set(final.keys), "\(name): state dict keys")
        for (key, expected) in final {
            guard let got = mine[key] else { continue }
            XCTAssertEqual(got.shape, expected.shape, "\(name): \(key)")
            XCTAssertLessThanOrEqual(
                mismatch(got.scalars, expected.scalars, atol: 2e-5, rtol: 1e-4), 1, "\(name): \(key) after 10 steps")
        }
    }
}
