import NIOHTTP1

/// Which upstream response headers reach the client: an allow-list, not a deny-list, so a
/// provider that adds a header (its organisation id, its own rate limits, a cookie, a spoofed
/// `x-tollgate-cost-usd`) cannot leak it through the gateway or contradict the gateway's own.
///
/// Passed on:
/// - `content-type`, `content-length`, `content-encoding` (dropped when the body is
///   translated, since they describe the upstream's bytes);
/// - `retry-after`, `retry-after-ms`, `x-should-retry` (the OpenAI and Anthropic SDKs' retry
///   logic reads them);
/// - `openai-processing-ms`, `openai-version` (OpenAI's documented debugging headers);
/// - the provider's request id, renamed `x-upstream-request-id`: OpenAI's and Azure's
///   `x-request-id`, Anthropic's `request-id`, Bedrock's `x-amzn-requestid` (the first one
///   wins), so support tickets can quote it while `x-request-id` stays the gateway's.
///
/// Everything else is dropped: hop-by-hop headers and any header `Connection:` names, `server`,
/// `set-cookie`, `openai-organization`, `anthropic-organization-id`, the upstream's
/// `x-ratelimit-*` and `anthropic-ratelimit-*` (the gateway's own limits are the client's),
/// every `x-tollgate-*`. The lookup is one dictionary probe on the name as received (providers
/// send lowercase names), lowercasing only names with capitals.
enum UpstreamHeaderPolicy {
    enum Disposition {
        case keep
        /// Kept unless the body is rewritten.
        case representation
        /// Renamed `x-upstream-request-id`.
        case requestID
        case drop
    }

    static let table: [String: Disposition] = [
        "content-type": .representation,
        "content-length": .representation,
        "content-encoding": .representation,
        "retry-after": .keep,
        "retry-after-ms": .keep,
        "x-should-retry": .keep,
        "openai-processing-ms": .keep,
        "openai-version": .keep,
        "x-request-id": .requestID,
        "request-id": .requestID,
        "x-amzn-requestid": .requestID,
    ]

    static func disposition(_ name: String) -> Disposition {
        if let d = table[name] { return d }
        guard name.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return .drop }
        return table[name.lowercased()] ?? .drop
    }

    /// The header names a `Connection:` header nominates as hop-by-hop (lowercased).
    static func connectionTokens(_ headers: HTTPHeaders) -> [String] {
        var out: [String] = []
        for value in headers[canonicalForm: "connection"] {
            let token = String(value).trimmingSpaces.lowercased()
            if !token.isEmpty, token != "close", token != "keep-alive" { out.append(token) }
        }
        return out
    }
}
