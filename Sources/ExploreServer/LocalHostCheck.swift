import Hummingbird

/// Refuses (421) a request whose Host header names another machine while the server listens on
/// loopback: a web page elsewhere cannot reach the explorer by pointing a name at 127.0.0.1
/// (DNS rebinding). Listening on another address (--host) turns the check off.
struct LocalHostCheck<Context: RequestContext>: RouterMiddleware {
    let enabled: Bool

    init(bindHost: String) { enabled = ["127.0.0.1", "localhost", "::1"].contains(bindHost) }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        if enabled, let host = request.head.authority.map(Self.hostPart),
            !["127.0.0.1", "localhost", "[::1]"].contains(host)
        {
            throw HTTPError(.misdirectedRequest, message: "this explorer answers on localhost only")
        }
        return try await next(request, context)
    }

    /// "localhost:8080" → "localhost"; "[::1]:8080" → "[::1]".
    static func hostPart(_ header: String) -> String {
        if header.hasPrefix("["), let end = header.firstIndex(of: "]") { return String(header[...end]) }
        return String(header.split(separator: ":", maxSplits: 1).first ?? "").lowercased()
    }
}
