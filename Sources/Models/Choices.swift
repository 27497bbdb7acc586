import NN

/// A closed set of named options (a model kind, an architecture, a likelihood, …). Flags and
/// checkpoint metadata name them; they are turned into the type once, where they are read, and an
/// unknown name is refused there with the names that are allowed.
public protocol NamedChoice: RawRepresentable, CaseIterable, Codable, Sendable, CustomStringConvertible
where RawValue == String {}

extension NamedChoice {
    public init(from decoder: Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: name) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(name)' is not \(Self.choices)"))
        }
        self = value
    }

    /// The allowed names in words: "a, b or c".
    public static var choices: String { words(Array(allCases)) }

    /// Some of the names in words: "a, b or c".
    public static func words(_ some: [Self]) -> String {
        let names = some.map(\.rawValue)
        return names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
    }

    public var description: String { rawValue }
}

/// What a GenLab checkpoint holds (its `genlab.kind`).
public enum ModelKind: String, NamedChoice {
    case gan, vae, ae, tagger, symmetry, flow

    /// The kinds `genlab train` makes and `genlab score` reads.
    public static let generative: [ModelKind] = [.gan, .vae, .ae]
}

extension Checkpoint {
    /// The checkpoint's kind, or nil when `genlab.kind` is missing or names no GenLab model.
    public var modelKind: ModelKind? { ModelKind(rawValue: kind) }
}
