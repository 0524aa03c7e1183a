/// One CRS (or custom) rule that matched a request: its id and its `msg`, never the data it
/// matched, so a verdict can be logged and shown to the client without leaking the request.
public struct WAFRuleMatch: Sendable, Equatable, CustomStringConvertible {
    public let id: Int
    public let message: String

    public init(id: Int, message: String) {
        self.id = id
        self.message = message
    }

    public var description: String { "\(id) \(message)" }
}

/// What the WAF decided about one request.
public enum WAFVerdict: Sendable, Equatable {
    /// Let it through. `matched` lists rules that fired without blocking: scores below the
    /// threshold, or every rule in detect mode (including the one that would have blocked).
    case allow(matched: [WAFRuleMatch])
    /// Refuse it with ModSecurity's status (403 from the CRS anomaly evaluation). `rules` are
    /// the rules that matched, the disruptive one included.
    case block(status: Int, rules: [WAFRuleMatch])

    public var isBlocked: Bool {
        if case .block = self { return true }
        return false
    }

    /// Every rule that matched, whatever the outcome.
    public var rules: [WAFRuleMatch] {
        switch self {
        case .allow(let matched): return matched
        case .block(_, let rules): return rules
        }
    }
}
