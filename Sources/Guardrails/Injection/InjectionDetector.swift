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
        scan(text, isASCII: UnicodeFold.isASCII(text), into: &out)
    }

    /// The same, when the caller already knows whether `text` is ASCII. ASCII text (the
    /// common case) is folded while the automaton walks it, with no copy of the text.
    func scan(_ text: UnsafeBufferPointer<UInt8>, isASCII: Bool, into out: inout [Range<Int>]) {
        if isASCII {
            scanASCII(text, into: &out)
            return
        }
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

    /// `scan(NormalizedText(text))` for ASCII text without building it: each byte folds
    /// through `NormalizedText.asciiFold` and goes straight into the automaton. A match's end
    /// must sit on a gap, which is known only at the next folded byte, so the outputs of a
    /// state are looked at one folded byte late; the folded bytes' origins and gaps live in a
    /// ring as long as the longest phrase (a match never reaches further back).
    func scanASCII(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        guard matcher.stateCount > 1, !text.isEmpty else { return }
        var ringSize = 1
        while ringSize <= maxPhraseLength + 1 { ringSize <<= 1 }
        let mask = ringSize - 1
        var lastEnd = -1
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: ringSize) { origin in
            withUnsafeTemporaryAllocation(of: Bool.self, capacity: ringSize) { gapRing in
                NormalizedText.asciiFold.withUnsafeBufferPointer { fold in
                    matcher.withAutomaton { a in
                        var k = 0              // folded bytes so far
                        var state = 0
                        var pendingState = -1  // state after folded byte k-1 with outputs to check
                        var gap = true
                        func report(_ outState: Int, end: Int, gapAfter: Bool) {
                            guard gapAfter else { return }
                            var o = outState
                            while o >= 0 {
                                let length = Int(a.patternLength[Int(a.outputPattern[o])])
                                let start = end - length
                                if gapRing[start & mask] {
                                    let original = Int(origin[start & mask])..<(Int(origin[(end - 1) & mask]) + 1)
                                    if original.lowerBound < lastEnd, let last = out.last {
                                        out[out.count - 1] = min(last.lowerBound, original.lowerBound)..<max(last.upperBound, original.upperBound)
                                    } else {
                                        out.append(original)
                                    }
                                    lastEnd = max(lastEnd, original.upperBound)
                                }
                                o = Int(a.outputLink[o])
                            }
                        }
                        for i in 0..<text.count {
                            let folded = fold[Int(text[i] & 0x7F)]
                            if folded == 0 {
                                gap = true
                                continue
                            }
                            if pendingState >= 0 {
                                report(pendingState, end: k, gapAfter: gap)
                                pendingState = -1
                            }
                            origin[k & mask] = Int32(truncatingIfNeeded: i)
                            gapRing[k & mask] = gap
                            gap = false
                            state = a.next(state, folded)
                            k += 1
                            let o = a.firstOutput(state)
                            if o >= 0 { pendingState = o }
                        }
                        if pendingState >= 0 { report(pendingState, end: k, gapAfter: true) }
                    }
                }
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
