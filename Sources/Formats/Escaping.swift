import Foundation

/// The one escaping routine for text that GenLab writes into HTML pages: everything that comes
/// from a file name, metadata or a config passes through here before it reaches a report.
public enum HTML {
    /// Text safe as element content and inside a double- or single-quoted attribute.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\0": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// An `href`/`src` value for a file beside the page (or a relative path of such names): each
    /// component percent-encoded and the whole prefixed with `./`, so a name such as
    /// `javascript:alert(1)` stays a file name and never becomes a scheme. Already attribute-safe.
    public static func relativeLink(_ path: String) -> String {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map { part -> String in
            String(part).addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        }
        return "./" + parts.joined(separator: "/")
    }
}

/// The one escaping routine for text that GenLab writes into generated Python source.
public enum PythonSource {
    /// A double-quoted Python string literal holding exactly `s`: only printable ASCII other than
    /// the quote and backslash appears as itself; everything else (quotes, newlines, carriage
    /// returns, NUL, any non-ASCII) is a `\x`, `\u` or `\U` escape, so no text can end the literal,
    /// a line, or the file's encoding.
    public static func stringLiteral(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            let v = scalar.value
            switch v {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x20...0x7E: out.unicodeScalars.append(scalar)
            case 0...0xFF: out += String(format: "\\x%02x", v)
            case 0x100...0xFFFF: out += String(format: "\\u%04x", v)
            default: out += String(format: "\\U%08x", v)
            }
        }
        return out + "\""
    }
}
