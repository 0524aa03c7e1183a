#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Measures scan throughput of the local checks on a realistic chat prompt and on a
/// coding-agent-sized request body, so `make bench` can report MB/s per core (one thread, no I/O).
public enum GuardrailBenchmark {
    public struct Measurement: Sendable {
        public var bytesPerScan: Int
        public var iterations: Int
        public var seconds: Double
        /// Findings per scan (also keeps the optimiser from discarding the scans).
        public var findingsPerScan: Int
        public var megabytesPerSecond: Double { Double(bytesPerScan * iterations) / seconds / 1_000_000 }
    }

    /// A policy with every local check on: 2,000 blocklist phrases, all PII detectors (redact),
    /// injection signatures (block, shadow so the scan runs to the end), one custom regex.
    public static func allChecksEngine() -> GuardrailEngine {
        var words: [String] = []
        for i in 0..<2000 { words.append("forbidden-term-\(i)") }
        let regex = try! CustomRegexRule(name: "ticket", pattern: #"TCK-[0-9]{6}"#)
        let checks = [
            GuardrailCheck(name: "keywords", kind: .keywords(KeywordMatcher(strings: words), wholeWord: true), action: .block, shadow: true),
            GuardrailCheck(name: "pii", kind: .pii(PIIDetector.allCases), action: .redact),
            GuardrailCheck(name: "injection", kind: .injection(GuardrailPolicy.sharedInjectionDetector), action: .block, shadow: true),
            GuardrailCheck(name: "regex", kind: .regex([regex]), action: .redact),
        ]
        return GuardrailEngine(policies: [GuardrailPolicy(name: "bench", checks: checks)])
    }

    /// What a measurement scans.
    public enum Input: String, Sendable, CaseIterable {
        /// `samplePrompt()`: 8 KB of text, scanned as one text.
        case prompt8K = "8 KB prompt"
        /// `agentRequestBody()`: ~100 KB OpenAI chat body, text fields found and scanned as the
        /// guardrails filter does (`GuardrailJSONRewriter`).
        case agentBody = "100 KB agent body"
    }

    /// Scans `input` repeatedly for about `seconds` with every local check on and returns the rate.
    public static func run(seconds: Double = 1.0, input: Input = .prompt8K) -> Measurement {
        measure(allChecksEngine(), seconds: seconds, input: input)
    }

    /// The rate of each check of `allChecksEngine()` on its own, and of each PII detector,
    /// to see where time goes.
    public static func runPerCheck(seconds: Double = 0.5, input: Input = .prompt8K) -> [(check: String, measurement: Measurement)] {
        func alone(_ check: GuardrailCheck) -> Measurement {
            measure(GuardrailEngine(policies: [GuardrailPolicy(name: "bench", checks: [check])]), seconds: seconds, input: input)
        }
        var out = allChecksEngine().policies[0].checks.map { ($0.name, alone($0)) }
        for d in PIIDetector.allCases {
            out.append(("pii.\(d.rawValue)", alone(GuardrailCheck(name: d.rawValue, kind: .pii([d]), action: .redact))))
        }
        return out
    }

    static func measure(_ engine: GuardrailEngine, seconds: Double, input: Input) -> Measurement {
        let bytes: [UInt8]
        let scan: () -> Int
        switch input {
        case .prompt8K:
            bytes = samplePrompt()
            scan = { engine.scan(bytes, direction: .prompt).findings.count }
        case .agentBody:
            bytes = agentRequestBody()
            scan = { GuardrailJSONRewriter.scan(bytes, document: .openAIChatRequest, engine: engine, direction: .prompt).findings.count }
        }
        var iterations = 0
        // Warm up: builds lazily initialised tables outside the timed part.
        var sink = scan()
        let start = now()
        var elapsed = 0.0
        while elapsed < seconds {
            for _ in 0..<16 {
                sink &+= scan()
                iterations += 1
            }
            elapsed = now() - start
        }
        return Measurement(bytesPerScan: bytes.count, iterations: iterations, seconds: elapsed, findingsPerScan: sink / (iterations + 1))
    }

    /// The thread's CPU time: on a shared, loaded machine wall time mostly measures the wait
    /// for a core, and "per core" is what the number claims.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
