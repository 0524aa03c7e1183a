/// What a check does when it finds something. Ordered by severity, so the strongest action of
/// several findings wins (`block` > `redact` > `allow`).
public enum GuardrailAction: String, Codable, Sendable, CaseIterable, Comparable {
    /// Log and count the finding; the text goes through unchanged.
    case allow
    /// Replace each matched span with `[REDACTED:<TYPE>]`.
    case redact
    /// Refuse the request (403) or end the response with an error.
    case block

    var severity: Int {
        switch self {
        case .allow: return 0
        case .redact: return 1
        case .block: return 2
        }
    }

    public static func < (lhs: GuardrailAction, rhs: GuardrailAction) -> Bool { lhs.severity < rhs.severity }
}

/// Which side of an exchange a check inspects.
public enum GuardrailScope: String, Codable, Sendable, CaseIterable {
    case prompt, response, both

    public func covers(_ direction: GuardrailDirection) -> Bool {
        switch (self, direction) {
        case (.both, _), (.prompt, .prompt), (.response, .response): return true
        default: return false
        }
    }
}

/// The side of the exchange a text comes from.
public enum GuardrailDirection: String, Sendable {
    case prompt, response
}

/// One thing a check found. Carries where, never what: the matched text is not kept, so a
/// finding can be logged as is.
public struct GuardrailFinding: Sendable, Equatable {
    /// Policy name from the config.
    public var policy: String
    /// Check name within the policy (`pii`, `keywords`, or the configured `name`).
    public var check: String
    /// Rule within the check: the detector (`credit_card`), the regex rule's name, or
    /// `keyword`/`injection`.
    public var rule: String
    /// Redaction label: `CREDIT_CARD`, `EMAIL`, … or the custom rule's name upper-cased.
    public var type: String
    /// Byte range in the scanned text.
    public var range: Range<Int>
    public var action: GuardrailAction
    /// Evaluated and reported only; changes nothing.
    public var shadow: Bool

    public init(policy: String, check: String, rule: String, type: String, range: Range<Int>, action: GuardrailAction, shadow: Bool) {
        self.policy = policy
        self.check = check
        self.rule = rule
        self.type = type
        self.range = range
        self.action = action
        self.shadow = shadow
    }

    /// The action that actually takes effect (`allow` for shadow findings).
    public var effectiveAction: GuardrailAction { shadow ? .allow : action }
}
