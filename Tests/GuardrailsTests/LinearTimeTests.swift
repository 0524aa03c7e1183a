#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import Guardrails
import Testing
import TollgateCore

/// Every scanner that sees untrusted text is linear: its worst input at 1 MB costs at most 15×
/// what it costs at 100 KB (a quadratic scanner costs 100×). The clock is the thread's CPU
/// time (monotonic, and blind to the time the thread spends waiting for a core, which on a
/// busy machine would otherwise dominate the longer run), the minimum of a few repetitions.
@Suite struct LinearTimeTests {
    static let small = 100 * 1024
    static let large = 1024 * 1024
    static let maxRatio = 15.0

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// `unit` repeated to `size` bytes (cut on a scalar boundary).
    static func repeated(_ unit: String, to size: Int) -> [UInt8] {
        let u = Array(unit.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(size + u.count)
        while out.count + u.count <= size { out += u }
        return out
    }

    /// Minimum nanoseconds of `reps` runs of `body`.
    static func cost(reps: Int, _ body: () -> Void) -> UInt64 {
        var best = UInt64.max
        for _ in 0..<reps {
            let t0 = now()
            body()
            best = min(best, now() - t0)
        }
        return max(best, 1)
    }

    /// Measures `body` on the input built for 100 KB and for 1 MB; asserts the ratio and
    /// returns it (printed for the report). One retry absorbs a noisy neighbour.
    @discardableResult
    static func expectLinear(_ name: String, input: (Int) -> [UInt8], _ body: @escaping ([UInt8]) -> Void) -> Double {
        let a = input(small), b = input(large)
        var ratio = 0.0
        for _ in 0..<2 {
            let ts = cost(reps: 2) { body(a) }
            let tl = cost(reps: 1) { body(b) }
            ratio = Double(tl) / Double(ts) * (Double(a.count) / Double(small)) / (Double(b.count) / Double(large))
            if ratio <= maxRatio { break }
        }
        print("guardrails linear \(name): 1 MB / 100 KB = \(String(format: "%.1f", ratio))×")
        #expect(ratio <= maxRatio, "\(name): 1 MB costs \(ratio)× the 100 KB input")
        return ratio
    }

    static func detector(_ d: PIIDetector) -> ([UInt8]) -> Void {
        { text in
            var out: [Range<Int>] = []
            text.withUnsafeBufferPointer { d.scan($0, into: &out) }
            precondition(out.count >= 0)
        }
    }

    /// The worst inputs per detector: digit runs with every separator, long tokens, many
    /// `@`/`.`, prefix storms.
    static let worst: [(PIIDetector, String)] = [
        (.creditCard, "1 "), (.creditCard, "4111 1111 1111 1111 "), (.creditCard, "1-1.1 1\u{00A0}"), (.creditCard, "１\u{200B}"),
        (.usSSN, "123-45-"), (.email, "a.a.a@a"), (.email, "@a."), (.phone, "(1) 1-"), (.iban, "DE89 "),
        (.ipAddress, "1.1.1.1 ::1 "), (.ipAddress, "ffff:"), (.jwt, "eyJ."), (.awsAccessKey, "AKIA"),
        (.awsSecretKey, "aws AbCdEfGhIjKlMnOpQrStUvWxYz0123456789/+ "), (.privateKey, "-----BEGIN RSA PRIVATE KEY-----\n"),
        (.apiKey, "sk-a1"),
    ]

    @Test(arguments: worst.indices)
    func detectorIsLinear(_ k: Int) {
        let (d, unit) = Self.worst[k]
        Self.expectLinear("\(d.rawValue) \(unit.debugDescription)", input: { Self.repeated(unit, to: $0) }, Self.detector(d))
    }

    @Test func keywordMatcherWithDeepOverlapIsLinear() {
        let patterns = (1...32).map { String(repeating: "a", count: $0) } + ["ab", "ba", "aab"]
        let matcher = KeywordMatcher(strings: patterns)
        let check = GuardrailCheck(name: "k", kind: .keywords(matcher, wholeWord: false), action: .redact)
        let engine = GuardrailEngine(policies: [GuardrailPolicy(name: "p", checks: [check])])
        Self.expectLinear("keywords overlap", input: { Self.repeated("a", to: $0) }) { _ = engine.scan($0, direction: .prompt) }
        Self.expectLinear("keywords overlap (folded)", input: { Self.repeated("aá\u{200B}", to: $0) }) { _ = engine.scan($0, direction: .prompt) }
        Self.expectLinear("keyword matcher raw", input: { Self.repeated("a", to: $0) }) { text in
            var count = 0
            text.withUnsafeBufferPointer { matcher.forEachDisjointMatch(in: $0, wholeWord: true) { _ in count += 1 } }
        }
    }

    @Test func injectionAndNormalisationAreLinear() {
        let detector = GuardrailPolicy.sharedInjectionDetector
        for unit in ["ignore all previous ", "𝐢𝐠𝐧𝐨𝐫𝐞 á\u{301}\u{200D} ", "\u{E0069}\u{E0067}"] {
            Self.expectLinear("injection \(unit.debugDescription)", input: { Self.repeated(unit, to: $0) }) { text in
                var out: [Range<Int>] = []
                text.withUnsafeBufferPointer { detector.scan($0, into: &out) }
            }
        }
        Self.expectLinear("NormalizedText", input: { Self.repeated("é\u{200B}𝐢ｉ\u{E0041}a ", to: $0) }) { text in
            _ = text.withUnsafeBufferPointer { NormalizedText($0).bytes.count }
        }
        Self.expectLinear("FoldedText", input: { Self.repeated("é\u{200B}𝐢ｉ\u{E0041}a ", to: $0) }) { text in
            _ = text.withUnsafeBufferPointer { FoldedText($0).bytes.count }
        }
    }

    @Test func customRegexPrefilterIsLinear() throws {
        let anchored = try CustomRegexRule(name: "ticket", pattern: #"TCK-[0-9]{6}"#)
        let greedy = try CustomRegexRule(name: "greedy", pattern: #"TCK-[A-Z-]*[0-9]"#)
        for (rule, unit) in [(anchored, "TCK-"), (anchored, "TCK-123456 "), (greedy, "TCK-")] {
            Self.expectLinear("regex \(rule.pattern) over \(unit.debugDescription)", input: { Self.repeated(unit, to: $0) }) { text in
                var out: [Range<Int>] = []
                let s = String(decoding: text, as: UTF8.self)
                text.withUnsafeBufferPointer { rule.scan({ s }, bytes: $0, into: &out) }
            }
        }
    }

    @Test func redactorIsLinear() {
        Self.expectLinear("redactor", input: { Self.repeated("0123456789", to: $0) }) { text in
            let spans = stride(from: 0, to: text.count - 4, by: 10).map { Redactor.Span(range: $0..<($0 + 4), type: "X") }
            _ = text.withUnsafeBufferPointer { Redactor.apply(spans, to: $0) }
        }
    }

    @Test func streamGuardIsLinear() {
        let engine = GuardrailEngine(policies: [GuardrailPolicy(name: "p", checks: [
            GuardrailCheck(name: "pii", kind: .pii([.creditCard, .privateKey]), action: .redact),
        ])])
        // Deltas of a digit run, and an unterminated private key that never lets go of its
        // finding.
        for unit in ["1 ", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7v\n"] {
            Self.expectLinear("stream guard \(unit.debugDescription)", input: { Self.repeated(unit, to: $0) }) { text in
                var guardrail = StreamGuard(engine: engine)
                var released = 0
                var i = 0
                while i < text.count {
                    let end = min(text.count, i + 256)
                    if case .release(let t, _) = guardrail.feed(Array(text[i..<end])) { released += t.count }
                    i = end
                }
                if case .release(let t, _) = guardrail.finish() { released += t.count }
                precondition(released > 0)
            }
        }
    }

    @Test func jsonWalkersAreLinear() {
        let engine = GuardrailEngine(policies: [GuardrailPolicy(name: "p", checks: [
            GuardrailCheck(name: "pii", kind: .pii([.email, .creditCard]), action: .redact),
        ])])
        // Many messages, a deep schema, one long escaped string.
        let manyMessages: (Int) -> [UInt8] = { size in
            var s = #"{"model":"m","messages":["#
            while s.utf8.count < size { s += #"{"role":"user","name":"n","content":[{"type":"text","text":"mail a@b.io"}]},"# }
            return Array((s + #"{"role":"user","content":"x"}]}"#).utf8)
        }
        let deepSchema: (Int) -> [UInt8] = { size in
            var s = #"{"model":"m","messages":[],"tools":[{"type":"function","function":{"name":"f","parameters":"#
            var depth = 0
            var siblings = 0
            while s.utf8.count < size {
                if depth < 50 {
                    s += #"{"description":"a@b.io","properties":{"p":"#
                    depth += 1
                } else {
                    s += #"{"enum":["x@y.io","4111111111111111"]},"q\#(siblings)":"#
                    siblings += 1
                }
            }
            s += "{}"
            for _ in 0..<depth { s += "}}" }
            return Array((s + "}}]}").utf8)
        }
        let escaped: (Int) -> [UInt8] = { size in
            Array((#"{"model":"m","messages":[{"role":"user","content":""# + String(repeating: #"\n\u00e9 a@b.io "#, count: size / 16) + #""}]}"#).utf8)
        }
        for (name, input) in [("messages", manyMessages), ("escaped string", escaped), ("deep schema", deepSchema)] {
            Self.expectLinear("json rewriter \(name)", input: input) { body in
                let result = GuardrailJSONRewriter.scan(body, document: .openAIChatRequest, engine: engine, direction: .prompt)
                precondition(result.verdict == .redact, "\(name) must find something")
            }
        }
    }
}
