import Datasets
import Foundation

extension FeatureTable {
    /// Reads `paths` as `FeatureTable(paths:)` does, with a progress bar (rate, ETA) while the jets
    /// of whole-event files are clustered — a million events take minutes.
    public static func reading(_ paths: [String], quiet: Bool = false) throws -> FeatureTable {
        var bar: (path: String, bar: ProgressBar)?
        let table = try FeatureTable(paths: paths) { path, done, total in
            if bar?.path != path {
                bar?.bar.finish()
                let b = ProgressBar(
                    total: total, label: "clustering \((path as NSString).lastPathComponent)", unit: "ev")
                b.quiet = b.quiet || quiet
                bar = (path, b)
            }
            bar?.bar.update(done)
        }
        bar?.bar.finish()
        return table
    }
}
