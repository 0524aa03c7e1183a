#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Measures scan throughput of the local checks on a realistic prompt, so `make bench` can
/// report MB/s per core (one thread, no I/O).
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

    /// An ~8 KB chat prompt: prose, code, numbers, dates, versions and a few real PII items.
    public static func samplePrompt(bytes: Int = 8 * 1024) -> [UInt8] {
        let paragraphs = [
            "Please review the following incident report and summarise the customer impact for the weekly status update. ",
            "The outage started on 2024-03-14 at 09:12 UTC after release v2.14.3 was rolled out to 35% of the fleet. ",
            "Error rates on the checkout service peaked at 4.7% and latency p99 went from 180 ms to 2.4 s. ",
            "Contact the on-call engineer at oncall@example.com or +1 415 555 2671 if anything is unclear. ",
            "func handle(_ request: Request) async throws -> Response { let id = request.id; return try await next(id) } ",
            "The customer mentioned their card 4111 1111 1111 1111 was charged twice for order 99381723. ",
            "Server 10.20.30.40 handled most of the retries; build 1.2.3 of the agent did not log them. ",
            "Quarterly numbers: revenue 12,430,221 USD, margin 23.5%, churn 1.9%, NPS 41 across 1,204 responses. ",
        ]
        var out: [UInt8] = []
        var i = 0
        while out.count < bytes {
            out.append(contentsOf: paragraphs[i % paragraphs.count].utf8)
            i += 1
        }
        return Array(out.prefix(bytes))
    }

    /// Scans `samplePrompt()` repeatedly for about `seconds` and returns the rate.
    public static func run(seconds: Double = 1.0) -> Measurement {
        measure(allChecksEngine(), seconds: seconds)
    }

    /// The rate of each check of `allChecksEngine()` on its own, and of each PII detector,
    /// to see where time goes.
    public static func runPerCheck(seconds: Double = 0.5) -> [(check: String, measurement: Measurement)] {
        func alone(_ check: GuardrailCheck) -> Measurement {
            measure(GuardrailEngine(policies: [GuardrailPolicy(name: "bench", checks: [check])]), seconds: seconds)
        }
        var out = allChecksEngine().policies[0].checks.map { ($0.name, alone($0)) }
        for d in PIIDetector.allCases {
            out.append(("pii.\(d.rawValue)", alone(GuardrailCheck(name: d.rawValue, kind: .pii([d]), action: .redact))))
        }
        return out
    }

    static func measure(_ engine: GuardrailEngine, seconds: Double) -> Measurement {
        let prompt = samplePrompt()
        var iterations = 0
        var sink = 0
        // Warm up: builds lazily initialised tables outside the timed part.
        sink &+= engine.scan(prompt, direction: .prompt).findings.count
        let start = now()
        var elapsed = 0.0
        while elapsed < seconds {
            for _ in 0..<16 {
                sink &+= engine.scan(prompt, direction: .prompt).findings.count
                iterations += 1
            }
            elapsed = now() - start
        }
        return Measurement(bytesPerScan: prompt.count, iterations: iterations, seconds: elapsed, findingsPerScan: sink / (iterations + 1))
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
