import TollgateCore

/// Scans the text fields of a JSON body and splices redacted strings back in, leaving every
/// byte outside the rewritten string literals exactly as it was.
public enum GuardrailJSONRewriter {
    /// The outcome for a whole body.
    public struct Result: Sendable {
        /// Findings of every field; ranges are relative to the decoded field text.
        public var findings: [GuardrailFinding]
        public var verdict: GuardrailAction
        /// The rewritten body when some field was redacted.
        public var body: [UInt8]?
        /// Original range → length of its replacement, sorted; lets callers shift byte ranges
        /// they computed on the original body (e.g. the `model` value).
        public var replacements: [(range: Range<Int>, newLength: Int)]

        /// `offset` of the original body mapped into the rewritten one (for an offset outside
        /// every replaced range).
        public func shifted(_ offset: Int) -> Int {
            var delta = 0
            for r in replacements where r.range.upperBound <= offset { delta += r.newLength - r.range.count }
            return offset + delta
        }

        public func shifted(_ range: Range<Int>) -> Range<Int> {
            shifted(range.lowerBound)..<shifted(range.upperBound)
        }
    }

    public static func scan(_ body: [UInt8], document: GuardrailDocument, engine: GuardrailEngine,
                            direction: GuardrailDirection) -> Result {
        body.withUnsafeBytes { scan($0, document: document, engine: engine, direction: direction) }
    }

    public static func scan(_ body: UnsafeRawBufferPointer, document: GuardrailDocument, engine: GuardrailEngine,
                            direction: GuardrailDirection) -> Result {
        var findings: [GuardrailFinding] = []
        var verdict = GuardrailAction.allow
        var replacements: [(Range<Int>, [UInt8])] = []
        // Document order, each literal once: the splice below needs disjoint ranges.
        var fields: [Range<Int>] = []
        for field in document.textFields(in: body).sorted(by: { $0.lowerBound < $1.lowerBound })
            where fields.last.map({ field.lowerBound >= $0.upperBound }) ?? true {
            fields.append(field)
        }
        for field in fields {
            let raw = field.lowerBound + 1..<field.upperBound - 1
            var hasEscape = false
            for i in raw where body[i] == UInt8(ascii: "\\") {
                hasEscape = true
                break
            }
            let result: GuardrailScanResult
            if hasEscape {
                guard let decoded = JSONScanner.decodeString(body, field) else { continue }
                result = engine.scan(Array(decoded.utf8), direction: direction)
            } else {
                // No escapes: the literal's bytes are the text; scan them in place.
                result = body.withMemoryRebound(to: UInt8.self) { bytes in
                    engine.scan(UnsafeBufferPointer(rebasing: bytes[raw]), direction: direction)
                }
            }
            findings.append(contentsOf: result.findings)
            verdict = max(verdict, result.verdict)
            if result.verdict == .block { break }
            if let redacted = result.redacted {
                var quoted: [UInt8] = []
                quoted.reserveCapacity(redacted.count + 2)
                JSONWriter.appendQuoted(String(decoding: redacted, as: UTF8.self), to: &quoted)
                replacements.append((field, quoted))
            }
        }
        guard verdict == .redact, !replacements.isEmpty else {
            return Result(findings: findings, verdict: verdict, body: nil, replacements: [])
        }
        let rewritten = JSONWriter.replacing(body, replacements)
        return Result(findings: findings, verdict: verdict, body: rewritten,
                      replacements: replacements.map { (range: $0.0, newLength: $0.1.count) })
    }
}
