import Datasets
import Engine
import Formats
import Foundation
import Lab

extension QualityCommand {
    /// Images: FID and KID with the standard Inception network — the model's samples (or --images), truth
    /// vs truth and the mean-image baseline against the same real reference — and, for a checkpoint, the
    /// memorisation check.
    func judgeImages(_ model: LoadedModel?) throws -> Quality.Report {
        let weights = try FIDInception.locate(inception)
        let network = try FIDInception(path: weights)
        network.resize = resize
        let spec = model?.spec
        // Real images at the model's size and channels (a model is judged at the resolution it makes).
        let options = ImageSet.Options(size: spec?.imageSize, channels: spec?.channels, limit: 2 * count)
        var real = try ModelInputs.usable(
            try ImageSet.load(reference, options: options), path: reference, minimum: Quality.minimumSample,
            purpose: "genlab quality")
        var truthSet: Tensor
        var n: Int
        if let truth {
            let other = try ModelInputs.usable(
                try ImageSet.load(truth, options: .init(size: spec?.imageSize, channels: spec?.channels, limit: count)),
                path: truth, minimum: Quality.minimumSample, purpose: "genlab quality --truth")
            n = min(count, real.count, other.count)
            truthSet = other.images.slice(axis: 0, start: 0, end: n).detach()
        } else {
            guard real.count >= 2 * Quality.minimumSample else {
                throw FormatError(
                    reference,
                    "\(real.count) usable images; truth vs truth needs two disjoint samples of at least "
                        + "\(Quality.minimumSample) (or give --truth)")
            }
            n = min(count, real.count / 2)
            truthSet = real.images.slice(axis: 0, start: n, end: 2 * n).detach()
        }
        real.images = real.images.slice(axis: 0, start: 0, end: n).detach()
        var generated: Tensor
        var report: Quality.Report
        if let model {
            let samples = Sampler.sample(model, count: n, seed: seed)
            // Memorisation in the model's own scale, on up to 256 samples (pairwise distances).
            let k = min(n, 256)
            report = Quality.memorisation(
                generated: samples.slice(axis: 0, start: 0, end: k).detach(),
                training: real.scaled(model.spec.scaling).images)
            let range = model.spec.displayRange
            generated = noGrad { ((samples - range.lowerBound) / (range.upperBound - range.lowerBound)) }
        } else {
            let set = try ModelInputs.usable(
                try ImageSet.load(images!, options: .init(limit: n)), path: images!, minimum: Quality.minimumSample,
                purpose: "genlab quality --images")
            generated = set.images
            if set.count < n {  // every sample the same size as the model's
                n = set.count
                real.images = real.images.slice(axis: 0, start: 0, end: n).detach()
                truthSet = truthSet.slice(axis: 0, start: 0, end: n).detach()
            }
            report = Quality.Report(kind: "images", samples: n)
        }
        if generated.shape[0] > n { generated = generated.slice(axis: 0, start: 0, end: n).detach() }
        let bar = output.chatty ? ProgressBar(total: 3 * n + real.count, label: "Inception features", unit: "img") : nil
        let read =
            "size \(spec?.imageSize ?? 0) channels \(spec?.channels ?? 0) limit \(2 * count) resize \(resize.rawValue)"
        let referenceKey = InceptionFeatureCache.key(
            source: reference, detail: read + " images 0..<\(n)", weights: weights)
        let truthKey =
            truth.map { InceptionFeatureCache.key(source: $0, detail: read + " truth 0..<\(n)", weights: weights) }
            ?? InceptionFeatureCache.key(source: reference, detail: read + " images \(n)..<\(2 * n)", weights: weights)
        report.inception = Quality.inceptionScores(
            network: network, generated: generated, reference: real.images, truth: truthSet, seed: seed,
            cache: featureCache ? InceptionFeatureCache(weights: weights) : nil, referenceKey: referenceKey,
            truthKey: truthKey
        ) { done, _ in bar?.update(done) }
        bar?.finish()
        print(describe(report))
        if let checkpoint {
            let parent = (checkpoint as NSString).deletingLastPathComponent
            let folder = plots ?? outFolder ?? (parent.isEmpty ? "." : parent)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Quality.writePage(report, checkpoint: checkpoint, folder: folder)
        } else if let folder = plots ?? outFolder {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Quality.writePage(report, checkpoint: images!, folder: folder)
        }
        try save(report)
        return report
    }

    /// The image report as the terminal shows it.
    func describe(_ report: Quality.Report) -> String {
        var lines: [String] = []
        if let f = report.inception {
            lines.append(
                "FID and KID with the standard Inception network, \(f.model.samples) images a sample against "
                    + "\(f.referenceSamples) real ones (KID: mean ± spread over \(f.kidSubsets) subset"
                    + (f.kidSubsets == 1 ? "" : "s") + " of \(f.kidSubsetSize)):")
            lines.append("                       FID        KID")
            for (name, row) in [("model", f.model), ("truth vs truth", f.truth), ("baseline", f.baseline)] {
                lines.append(
                    name.padding(toLength: 18, withPad: " ", startingAt: 0)
                        + String(format: "%10.3f   %.4g ± %.2g", row.fid, row.kid, row.kidSpread))
            }
            lines += f.warnings.map { "warning: " + $0 }
        }
        if let a = report.nearestTrainingDistance, let b = report.realNearestNeighbourDistance {
            lines.append(String(format: "median distance of a sample to its nearest training image: %.3f", a))
            lines.append(String(format: "median nearest-neighbour distance between training images: %.3f", b))
            lines.append(
                a < 0.5 * b
                    ? "warning: samples sit much closer to training images than real images to each other "
                        + "(memorisation?)"
                    : "samples are no closer to the training images than real images are to each other: no sign of "
                        + "memorisation")
        }
        return lines.joined(separator: "\n")
    }
}
