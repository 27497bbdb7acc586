import Datasets
import Engine
import Formats
import Foundation
import Models

/// `genlab score` with a flow checkpoint: every row of the feature tables scored by minus the flow's
/// log-density of its features given its context (`log_density`: higher is less like the training
/// data), with the file's labels and m_jj (the mass column of the score report) where it has them.
public enum FlowScoring {
    public static func table(_ flow: ConditionalFlow, paths: [String]) throws -> AnomalyScorer.Table {
        let c = flow.config
        guard c.featureNames.count == c.features, c.contextNames.count == c.contextFeatures else {
            throw FormatError(paths.first ?? "--checkpoint", "the flow's checkpoint does not name its columns")
        }
        var out = AnomalyScorer.Table(names: [AnomalyScore.logDensity.rawValue])
        out.scores = [[]]
        for path in paths {
            let table = try FeatureTable.reading([path])
            let x = try table.matrix(c.featureNames)
            let context = c.contextFeatures > 0 ? try table.matrix(c.contextNames) : nil
            let labels = table.names.contains("label") ? try table.column("label") : nil
            let mass = table.names.contains("mjj") ? try table.column("mjj") : nil
            for start in stride(from: 0, to: table.rows, by: 16_384) {
                let end = min(table.rows, start + 16_384)
                let logp = noGrad {
                    flow.logProbability(
                        x.slice(axis: 0, start: start, end: end),
                        context: context?.slice(axis: 0, start: start, end: end)
                    ).scalars
                }
                out.scores[0] += logp.map { -Double($0) }
            }
            for r in 0..<table.rows {
                out.labels.append(labels.map { Int($0[r]) })
                out.mass.append(mass.map { Double($0[r]) })
                out.file.append(path)
                out.index.append(r)
                out.problem.append(out.scores[0][out.index.count - 1].isFinite ? nil : "non-finite density")
                out.weight.append(1)
            }
        }
        return out
    }
}
