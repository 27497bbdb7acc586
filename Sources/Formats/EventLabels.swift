import Foundation

/// Class labels read from an event or image file: 0 (background) or 1 (signal), nothing else.
/// A NaN, a fraction, a huge value or a third class is an error naming the file and the event,
/// never an integer conversion that crashes or a ROC that silently disappears.
public enum EventLabels {
    public static func validated(
        _ values: [Float], file: String, dataset: String = "/labels", firstIndex: Int = 0
    ) throws -> [Int] {
        try values.enumerated().map { i, v in
            guard v == 0 || v == 1 else {
                throw FormatError(
                    file, "\(dataset)[\(firstIndex + i)] is \(v): labels must be 0 (background) or 1 (signal)")
            }
            return Int(v)
        }
    }
}
