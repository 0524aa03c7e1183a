/// Finds prompt-injection phrases in a text after folding it (`NormalizedText`): the phrases
/// are folded the same way, so `1gn0re   prev1ous` and `іgnore` (Cyrillic і) still match.
public struct InjectionDetector: Sendable {
    let matcher: KeywordMatcher
    /// Longest folded phrase; for the streaming window (folding only shrinks text, but an
    /// evasive original can be much longer, hence the factor in `maxOriginalLength`).
    public let maxPhraseLength: Int

    public init(phrases: [String] = InjectionSignatures.phrases) {
        var folded: [[UInt8]] = []
        folded.reserveCapacity(phrases.count)
        var longest = 0
        for p in phrases {
            let f = NormalizedText(p).bytes
            if !f.isEmpty {
                folded.append(f)
                longest = max(longest, f.count)
            }
        }
        matcher = KeywordMatcher(folded)
        maxPhraseLength = longest
    }

    /// A bound on the original bytes one match can span: each folded byte may come from a
    /// 3-byte homoglyph plus a few separators or zero-width characters.
    public var maxOriginalLength: Int { maxPhraseLength * 8 }

    /// Original byte ranges of every injection phrase in `text`.
    public func scan(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        let normalized = NormalizedText(text)
        var lastEnd = -1
        normalized.bytes.withUnsafeBufferPointer { folded in
            matcher.forEachMatch(in: folded, wholeWord: false) { match in
                guard normalized.isWordAligned(match.range) else { return }
                let original = normalized.originalRange(match.range)
                // Overlapping variants of one phrase ("ignore all previous instructions" and
                // "ignore all previous instruction") are one finding.
                if original.lowerBound < lastEnd, let last = out.last {
                    out[out.count - 1] = min(last.lowerBound, original.lowerBound)..<max(last.upperBound, original.upperBound)
                } else {
                    out.append(original)
                }
                lastEnd = max(lastEnd, original.upperBound)
            }
        }
    }

    public func matches(in text: String) -> [String] {
        let bytes = Array(text.utf8)
        var ranges: [Range<Int>] = []
        bytes.withUnsafeBufferPointer { scan($0, into: &ranges) }
        return ranges.map { String(decoding: bytes[$0], as: UTF8.self) }
    }
}
