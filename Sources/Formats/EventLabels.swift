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

/// Class labels of an image set (`/labels` of an HDF5 or .npz file, an IDX label file): integers
/// 0 ..< `maxClasses`, one per image; anything else is an error naming the file and the image.
public enum ClassLabels {
    /// More classes than this is not a labelled image set but a corrupt or misread label array.
    public static let maxClasses = 1000

    public static func validated(_ values: [Float], file: String, dataset: String = "/labels") throws -> [Int] {
        try values.enumerated().map { i, v in
            guard v.isFinite, v == v.rounded(), v >= 0, v < Float(maxClasses) else {
                throw FormatError(
                    file, "\(dataset)[\(i)] is \(v): class labels must be whole numbers 0 … \(maxClasses - 1)")
            }
            return Int(v)
        }
    }

    /// The class names of labels 0 ..< K with no names recorded: "0", "1", ….
    public static func numberNames(_ labels: [Int]) -> [String] {
        (0...(labels.max() ?? 0)).map(String.init)
    }
}
