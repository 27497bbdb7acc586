import Engine

/// How a class-conditional model reads its class: a one-hot row beside the noise (generator,
/// decoder) or beside the features (encoder, projection discriminator).
public enum ClassConditioning {
    /// One-hot rows [N, classes] for class indices.
    public static func oneHot(_ labels: [Int], classes: Int) -> Tensor {
        var data = [Float](repeating: 0, count: labels.count * classes)
        for (i, l) in labels.enumerated() {
            precondition(l >= 0 && l < classes, "GenLab: class \(l) outside 0..<\(classes)")
            data[i * classes + l] = 1
        }
        return Tensor(shape: [labels.count, classes], data: data)
    }

    /// `x` [N, D] followed by the one-hot rows of `labels`: [N, D + classes]; `x` itself when
    /// `classes` is 0 (an unconditional model takes no labels).
    public static func append(to x: Tensor, labels: [Int]?, classes: Int, model: String) -> Tensor {
        guard classes > 0 else { return x }
        guard let labels, labels.count == x.shape[0] else {
            shapeFailure(model, "a class-conditional model needs one class per row (\(x.shape[0]) rows)")
        }
        return Tensor.concat([x, oneHot(labels, classes: classes)], axis: 1)
    }

    /// Class indices for `count` samples when none is chosen: every class in turn, in runs of
    /// about count / classes (a grid shows each class together).
    public static func cycle(count: Int, classes: Int) -> [Int] {
        (0..<count).map { $0 * classes / Swift.max(count, 1) }
    }

    /// The index of the class a user names, by its name or by its index; nil when `names` has no such class.
    public static func index(of text: String, in names: [String]) -> Int? {
        if let i = names.firstIndex(of: text) { return i }
        if let i = Int(text), names.indices.contains(i) { return i }
        return nil
    }

    /// The classes `count` samples are drawn for: `chosen`, else every class in turn; nil for an
    /// unconditional model (`classes` 0).
    public static func labels(_ chosen: [Int]?, count: Int, classes: Int) -> [Int]? {
        classes > 0 ? chosen ?? cycle(count: count, classes: classes) : nil
    }
}
