import Guardrails
import Testing
import TollgateCore

/// Seeded random inputs built from PII fragments, separators, multi-byte and invalid UTF-8:
/// the scanners must never trap (they run inside the worker) and must keep their invariants.
@Suite struct GuardrailFuzzTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let fragments: [[UInt8]] = [
        "4111", " ", "-", "1111", "@", "example.com", ".", ":", "::", "ffff", "192", "168", "+", "(", ")", "eyJ", "hbGciOi",
        "AKIA", "IOSFODNN7EXAMPLE", "-----BEGIN ", "PRIVATE KEY-----", "-----END ", "sk-", "ghp_", "DE89", "3704", "GB82",
        "ignore", "previous", "instructions", "\u{200B}", "і", "ｉ", "é", "😀", "\n", "\"", "\\", "aws", "secret", "0", "9",
    ].map { Array($0.utf8) } + [[0xFF], [0xC3], [0xE2, 0x80], [0xF0, 0x9F, 0x98]]

    static func randomText(_ rng: inout SplitMix) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<Int.random(in: 0...60, using: &rng) {
            out += fragments.randomElement(using: &rng)!
        }
        return out
    }

    @Test func scannersNeverTrapAndRedactionOnlyTouchesFindings() {
        let engine = GuardrailBenchmark.allChecksEngine()
        let redactAll = GuardrailEngine(policies: [GuardrailPolicy(name: "p", checks: [
            GuardrailCheck(name: "pii", kind: .pii(PIIDetector.allCases), action: .redact),
            GuardrailCheck(name: "inj", kind: .injection(GuardrailPolicy.sharedInjectionDetector), action: .redact),
        ])])
        var rng = SplitMix(state: 42)
        for _ in 0..<3000 {
            let text = Self.randomText(&rng)
            let r = engine.scan(text, direction: .prompt)
            for f in r.findings { #expect(f.range.lowerBound >= 0 && f.range.upperBound <= text.count && !f.range.isEmpty) }
            let red = redactAll.scan(text, direction: .prompt)
            if red.verdict == .allow {
                #expect(red.findings.isEmpty && red.redacted == nil)
            } else if let out = red.redacted {
                // Scanning the redacted text again finds nothing the first pass redacted.
                let again = redactAll.scan(out, direction: .prompt)
                #expect(again.findings.count <= red.findings.count)
            }
        }
    }

    @Test func streamGuardReleasesWhatTheWholeScanWouldForAnySplit() {
        let engine = GuardrailEngine(policies: [GuardrailPolicy(name: "p", checks: [
            GuardrailCheck(name: "pii", kind: .pii([.creditCard, .email, .usSSN, .awsAccessKey]), action: .redact),
        ])])
        var rng = SplitMix(state: 7)
        for _ in 0..<500 {
            // Valid UTF-8 only: the stream is decoded JSON text.
            let text = Array(String(decoding: Self.randomText(&rng), as: UTF8.self).utf8)
            var guardian = StreamGuard(engine: engine)
            var out: [UInt8] = []
            var i = 0
            while i < text.count {
                let n = Int.random(in: 1...8, using: &rng)
                if case .release(let t, _) = guardian.feed(Array(text[i..<min(text.count, i + n)])) { out += t }
                i += n
            }
            if case .release(let t, _) = guardian.finish() { out += t }
            let whole = engine.scan(text, direction: .response)
            #expect(out == (whole.redacted ?? text), "\(String(decoding: text, as: UTF8.self).debugDescription)")
        }
    }

    @Test func jsonRewriterKeepsBodiesValid() throws {
        let engine = GuardrailEngine(policies: [GuardrailPolicy(name: "p", checks: [
            GuardrailCheck(name: "pii", kind: .pii(PIIDetector.allCases), action: .redact),
        ])])
        var rng = SplitMix(state: 99)
        for _ in 0..<500 {
            let content = String(decoding: Self.randomText(&rng), as: UTF8.self)
            var body: [UInt8] = Array(#"{"model":"m","messages":[{"role":"user","content":"#.utf8)
            JSONWriter.appendQuoted(content, to: &body)
            body += Array("}]}".utf8)
            let r = GuardrailJSONRewriter.scan(body, document: .openAIChatRequest, engine: engine, direction: .prompt)
            if let out = r.body {
                try out.withUnsafeBytes { try JSONScanner.validate($0) }
                #expect(out.starts(with: Array(#"{"model":"m","messages":[{"role":"user","content":"#.utf8)))
            }
        }
    }

    @Test func literalPrefilteredRegexesFindWhatTheFullScanFinds() throws {
        // "(?:…)" disables the prefilter, so each pair must agree on every text.
        let pairs = [("TCK-[0-9]{3}", "(?:TCK)-[0-9]{3}"), ("TCK?-[0-9]+", "(?:TC)K?-[0-9]+"), ("ab c*d", "(?:ab) c*d"),
                     ("id=[a-z]+", "(?:id)=[a-z]+")]
        var rng = SplitMix(state: 5)
        let pieces = ["TCK-", "TC-", "123", "4", "ab ", "cccd", "d", "id=", "xyz", "é", "😀", " ", "TCK", "-", "K"]
        for (fast, slow) in pairs {
            let a = GuardrailEngine(policies: [GuardrailPolicy(name: "p", checks: [GuardrailCheck(name: "r", kind: .regex([try CustomRegexRule(name: "r", pattern: fast)]), action: .redact)])])
            let b = GuardrailEngine(policies: [GuardrailPolicy(name: "p", checks: [GuardrailCheck(name: "r", kind: .regex([try CustomRegexRule(name: "r", pattern: slow)]), action: .redact)])])
            for _ in 0..<300 {
                let text = (0..<Int.random(in: 0...20, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
                #expect(a.scan(text, direction: .prompt).findings.map(\.range) == b.scan(text, direction: .prompt).findings.map(\.range), "\(fast) on \(text.debugDescription)")
            }
        }
    }
}
