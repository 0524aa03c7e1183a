/// One check of a policy: what it looks for, what it does about it, and on which side.
public struct GuardrailCheck: Sendable {
    /// What the check looks for.
    public enum Kind: Sendable {
        /// A phrase blocklist (case-insensitive, on `FoldedText` when the text is not ASCII).
        case keywords(KeywordMatcher, wholeWord: Bool)
        /// Built-in PII and secret detectors.
        case pii([PIIDetector])
        /// Prompt-injection signatures on folded text.
        case injection(InjectionDetector)
        /// Custom named regexes.
        case regex([CustomRegexRule])
    }

    /// Name shown in the response header, logs and errors (`pii`, or the configured name).
    public let name: String
    public let kind: Kind
    public let action: GuardrailAction
    public let shadow: Bool
    public let appliesTo: GuardrailScope

    public init(name: String, kind: Kind, action: GuardrailAction, shadow: Bool = false, appliesTo: GuardrailScope = .both) {
        self.name = name
        self.kind = kind
        self.action = action
        self.shadow = shadow
        self.appliesTo = appliesTo
    }

    /// Longest original span one match can cover, or nil when unbounded (PEM blocks, custom
    /// regexes). Sizes the streaming hold-back window.
    public var maxMatchLength: Int? {
        switch kind {
        // A folded byte can stand for a 4-byte scalar plus invisible characters and marks.
        case .keywords(let m, _): return (m.patterns.map(\.count).max() ?? 0) * 8
        case .pii(let detectors):
            var longest = 0
            for d in detectors {
                guard let l = d.maxMatchLength else { return nil }
                longest = max(longest, l)
            }
            return longest
        case .injection(let d): return d.maxOriginalLength
        case .regex: return nil
        }
    }

    /// Appends this check's findings in `text`. `triggers` is what one pass over `text` found
    /// (detectors whose trigger bytes are absent are skipped); `string` is the same text as a
    /// `String`, made lazily by the caller only when a regex rule has a candidate.
    func scan(_ text: UnsafeBufferPointer<UInt8>, triggers: TextTriggers, string: () -> String, policy: String,
              ranges: inout [Range<Int>], into out: inout [GuardrailFinding]) {
        func emit(rule: String, type: String) {
            guard !ranges.isEmpty else { return }
            for r in ranges {
                out.append(GuardrailFinding(policy: policy, check: name, rule: rule, type: type, range: r, action: action, shadow: shadow))
            }
            ranges.removeAll(keepingCapacity: true)
        }
        switch kind {
        case .keywords(let matcher, let wholeWord):
            if triggers.isASCII {
                matcher.forEachDisjointMatch(in: text, wholeWord: wholeWord) { ranges.append($0.range) }
            } else {
                // Accents, fullwidth, math letters, look-alikes and invisible characters fold
                // away first; the ranges map back to what the user wrote.
                let folded = FoldedText(text)
                folded.bytes.withUnsafeBufferPointer { bytes in
                    matcher.forEachDisjointMatch(in: bytes, wholeWord: wholeWord) { ranges.append(folded.originalRange($0.range)) }
                }
            }
            emit(rule: "keyword", type: "KEYWORD")
        case .pii(let detectors):
            for d in detectors where triggers.mayMatch(d) {
                d.scan(text, into: &ranges)
                emit(rule: d.rawValue, type: d.redactionType)
            }
        case .injection(let detector):
            detector.scan(text, isASCII: triggers.isASCII, into: &ranges)
            emit(rule: "injection", type: "PROMPT_INJECTION")
        case .regex(let rules):
            for rule in rules {
                rule.scan(string, bytes: text, into: &ranges)
                emit(rule: rule.name, type: rule.redactionType)
            }
        }
    }
}
