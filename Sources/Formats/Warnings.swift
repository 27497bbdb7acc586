import Foundation

/// The one place warnings go: files that were skipped, inputs that may not mean what the user
/// thinks. On stderr by default, one line each, naming the file; a caller (a test, a run that
/// keeps a log) can collect them instead.
public enum Warnings {
    nonisolated(unsafe) public static var handler: (String) -> Void = { message in
        FileHandle.standardError.write(Data(("genlab: warning: " + message + "\n").utf8))
    }

    public static func emit(_ message: String) { handler(message) }
}
