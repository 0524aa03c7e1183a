/// Finds prompt-injection phrases in a text after folding it (`NormalizedText`): the phrases
/// are folded the same way, so `1gn0re   prev1ous`, `іgnore` (Cyrillic і), `ı͏gnore` and `𝐢𝐠𝐧𝐨𝐫𝐞` still
/// match, and so does a phrase spelled in invisible tag characters.
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
        scan(normalized, into: &out)
        // A phrase smuggled in tag characters is invisible to people but read by some models.
        if normalized.hasTagCharacters {
            var smuggled: [Range<Int>] = []
            scan(NormalizedText(tagPayloadOf: text), into: &smuggled)
            if !smuggled.isEmpty {
                out += smuggled
                out.sort { $0.lowerBound < $1.lowerBound }
            }
        }
    }

    private func scan(_ normalized: NormalizedText, into out: inout [Range<Int>]) {
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
