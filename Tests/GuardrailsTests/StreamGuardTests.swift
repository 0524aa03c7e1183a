import Guardrails
import Testing

@Suite struct StreamGuardTests {
    static let engine = GuardrailEngine(policies: [GuardrailPolicy(name: "p", checks: [
        GuardrailCheck(name: "pii", kind: .pii([.creditCard, .email, .usSSN]), action: .redact),
        GuardrailCheck(name: "words", kind: .keywords(KeywordMatcher(strings: ["launch code"]), wholeWord: true), action: .block),
    ])])

    /// Feeds `text` split at `cuts`, returns everything released and whether it blocked.
    static func run(_ text: String, cuts: [Int]) -> (String, Bool) {
        var guardian = StreamGuard(engine: engine)
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var start = 0
        for cut in cuts + [bytes.count] {
            switch guardian.feed(Array(bytes[start..<cut])) {
            case .release(let text, _): out += text
            case .block: return (String(decoding: out, as: UTF8.self), true)
            }
            start = cut
        }
        switch guardian.finish() {
        case .release(let text, _): out += text
        case .block: return (String(decoding: out, as: UTF8.self), true)
        }
        return (String(decoding: out, as: UTF8.self), false)
    }

    @Test func matchSplitAtEveryBoundaryIsStillRedacted() {
        let text = "Your card 4111 1111 1111 1111 and mail bob@example.com are on file."
        let expected = "Your card [REDACTED:CREDIT_CARD] and mail [REDACTED:EMAIL] are on file."
        let n = text.utf8.count
        for a in 1..<n {
            #expect(Self.run(text, cuts: [a]).0 == expected, "cut at \(a)")
            for b in stride(from: a + 1, to: n, by: 7) {
                #expect(Self.run(text, cuts: [a, b]).0 == expected, "cuts at \(a), \(b)")
            }
        }
    }

    @Test func byteByByteNeverReleasesSecretDigits() {
        var guardian = StreamGuard(engine: Self.engine)
        var released: [UInt8] = []
        for b in "ssn 123-45-6789 end".utf8 {
            if case .release(let t, _) = guardian.feed([b]) { released += t }
            #expect(!String(decoding: released, as: UTF8.self).contains("6789"))
        }
        if case .release(let t, let findings) = guardian.finish() { released += t; _ = findings }
        #expect(String(decoding: released, as: UTF8.self) == "ssn [REDACTED:US_SSN] end")
    }

    @Test func blockMidStreamStopsReleasing() {
        let text = "status ok. the launch code is 0000"
        for cut in 1..<text.utf8.count {
            let (released, blocked) = Self.run(text, cuts: [cut])
            #expect(blocked)
            #expect(!released.contains("launch"))
        }
        var guardian = StreamGuard(engine: Self.engine)
        // A short held text is scanned once enough of it arrived (or at the end), not per token.
        #expect(guardian.feed("the launch code") == .release(text: [], findings: []))
        guard case .block(let finding) = guardian.feed(String(repeating: " and more", count: 8)) else {
            Issue.record("expected a block once 64 bytes are held")
            return
        }
        #expect(finding.check == "words" && finding.range == 4..<15)
        #expect(guardian.feed("more") == .block(finding))
    }

    @Test func releasesEarlyTextAndKeepsUTF8Whole() {
        var guardian = StreamGuard(engine: Self.engine)
        let long = String(repeating: "é", count: 400)
        guard case .release(let text, _) = guardian.feed(long) else {
            Issue.record("expected release")
            return
        }
        #expect(!text.isEmpty)
        #expect(text.count <= 800 - guardian.window + 1)
        #expect(String(validating: text, as: UTF8.self) != nil)
    }

    @Test func aMatchLongerThanTheWindowNeitherStallsNorLeaksItsEnd() throws {
        // A custom regex is unbounded, so the window is capped; a match that only completes
        // after its start was released must still have its held part redacted.
        let rule = try CustomRegexRule(name: "run", pattern: "a{10,}b")
        let engine = GuardrailEngine(policies: [GuardrailPolicy(name: "p", checks: [GuardrailCheck(name: "re", kind: .regex([rule]), action: .redact)])])
        var guardian = StreamGuard(engine: engine)
        #expect(guardian.window == StreamGuard.maxWindow)
        var out: [UInt8] = []
        for delta in [String(repeating: "a", count: 3000), "b tail"] {
            if case .release(let t, _) = guardian.feed(delta) { out += t }
        }
        if case .release(let t, _) = guardian.finish() { out += t }
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.hasSuffix("[REDACTED:RUN] tail"))
        // Text released before the match could be known is the documented limit; the rest is redacted.
        #expect(!text.contains("ab"))
        #expect(text.utf8.count < 3000)
    }

    @Test func findingsNearTheCutStayWhole() {
        // An SSN and an e-mail near the end of a long text, split anywhere: both stay whole.
        let text = "x " + String(repeating: "y", count: 300) + " 123-45-6789 a@example.com"
        let expected = "x " + String(repeating: "y", count: 300) + " [REDACTED:US_SSN] [REDACTED:EMAIL]"
        for cut in stride(from: 1, to: text.utf8.count, by: 3) {
            #expect(Self.run(text, cuts: [cut]).0 == expected, "cut \(cut)")
        }
    }
}
