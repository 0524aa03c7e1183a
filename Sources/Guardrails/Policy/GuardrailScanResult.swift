/// What scanning one text found and what to do about it.
public struct GuardrailScanResult: Sendable {
    /// Every finding, shadow and `allow` ones included, ordered by position.
    public var findings: [GuardrailFinding]
    /// The strongest action that takes effect (shadow findings never count).
    public var verdict: GuardrailAction
    /// The rewritten text when `verdict == .redact`.
    public var redacted: [UInt8]?

    public init(findings: [GuardrailFinding], verdict: GuardrailAction, redacted: [UInt8]?) {
        self.findings = findings
        self.verdict = verdict
        self.redacted = redacted
    }

    /// The first finding that blocks, for the error message.
    public var blockingFinding: GuardrailFinding? {
        findings.first { $0.effectiveAction == .block }
    }
}
