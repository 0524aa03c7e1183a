/// The guardrail policies that apply to one request (global defaults + route + API key),
/// deduplicated and in order, and the scan that runs them over a text.
///
/// Immutable and `Sendable`; the worker caches one per distinct policy combination per
/// config generation. Scanning allocates only for what it finds (and a `String` copy when a
/// custom regex check is present).
public struct GuardrailEngine: Sendable {
    public let policies: [GuardrailPolicy]
    /// The checks that cover each direction with their policy's name, in order: decided once
    /// here instead of on every scan.
    private let promptChecks: [(policy: String, check: GuardrailCheck)]
    private let responseChecks: [(policy: String, check: GuardrailCheck)]

    public init(policies: [GuardrailPolicy]) {
        var seen = Set<String>()
        let unique = policies.filter { seen.insert($0.name).inserted }
        func checks(_ direction: GuardrailDirection) -> [(policy: String, check: GuardrailCheck)] {
            unique.flatMap { p in p.checks.filter { $0.appliesTo.covers(direction) }.map { (p.name, $0) } }
        }
        self.policies = unique
        promptChecks = checks(.prompt)
        responseChecks = checks(.response)
    }

    public var isEmpty: Bool { policies.allSatisfy { $0.checks.isEmpty } }

    /// Whether any check covers `direction`.
    public func applies(to direction: GuardrailDirection) -> Bool {
        !(direction == .prompt ? promptChecks : responseChecks).isEmpty
    }

    /// Runs every check for `direction` over `text`. Stops early after the first check whose
    /// findings block (nothing else could change the outcome), so a blocked prompt costs less.
    /// One pass over the text first finds which trigger bytes occur (`TextTriggers`); each
    /// detector then runs only when its triggers are there.
    public func scan(_ text: UnsafeBufferPointer<UInt8>, direction: GuardrailDirection) -> GuardrailScanResult {
        let checks = direction == .prompt ? promptChecks : responseChecks
        guard !checks.isEmpty, !text.isEmpty else { return GuardrailScanResult(findings: [], verdict: .allow, redacted: nil) }
        let triggers = TextTriggers(text)
        var findings: [GuardrailFinding] = []
        var ranges: [Range<Int>] = []
        var cachedString: String?
        let string: () -> String = {
            if let s = cachedString { return s }
            let s = String(decoding: text, as: UTF8.self)
            cachedString = s
            return s
        }
        var verdict = GuardrailAction.allow
        for (policy, check) in checks {
            let before = findings.count
            check.scan(text, triggers: triggers, string: string, policy: policy, ranges: &ranges, into: &findings)
            if findings.count > before, !check.shadow {
                verdict = max(verdict, check.action)
                if verdict == .block { break }
            }
        }
        if findings.count > 1 { findings.sort { $0.range.lowerBound < $1.range.lowerBound } }
        var redacted: [UInt8]?
        if verdict == .redact {
            let spans = findings.filter { $0.effectiveAction == .redact }.map { Redactor.Span(range: $0.range, type: $0.type) }
            redacted = Redactor.apply(spans, to: text)
        }
        return GuardrailScanResult(findings: findings, verdict: verdict, redacted: redacted)
    }

    public func scan(_ text: [UInt8], direction: GuardrailDirection) -> GuardrailScanResult {
        text.withUnsafeBufferPointer { scan($0, direction: direction) }
    }

    public func scan(_ text: String, direction: GuardrailDirection) -> GuardrailScanResult {
        scan(Array(text.utf8), direction: direction)
    }

    /// Longest original span a single match can cover across all checks for `direction`,
    /// nil when some check is unbounded.
    public func maxMatchLength(for direction: GuardrailDirection) -> Int? {
        var longest = 0
        for policy in policies {
            for check in policy.checks where check.appliesTo.covers(direction) {
                guard let l = check.maxMatchLength else { return nil }
                longest = max(longest, l)
            }
        }
        return longest
    }
}
