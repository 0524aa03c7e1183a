import ArgumentParser
import Config
import Foundation
import WAF

/// Hidden developer tools that are not part of the operator-facing CLI.
struct DebugCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug",
        abstract: "Developer tools (measurements).",
        shouldDisplay: false,
        subcommands: [WAFBench.self, QuotaHammer.self, QuotaBench.self]
    )
}

/// Measures what the WAF filter costs per request on the event loop: the same engine and
/// call the worker makes, on a typical chat request, in this (release) build.
struct WAFBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "waf-bench",
        abstract: "Time ModSecurity + OWASP CRS inspections of a typical chat request."
    )

    @Option(help: "CRS paranoia level (1-4).")
    var paranoiaLevel = 1

    @Option(help: "Approximate request body size in bytes.")
    var bodyBytes = 2048

    @Option(help: "Timed inspections per case.")
    var iterations = 2000

    @Option(help: "The CRS installation.")
    var rulesDir = WAFConfig.defaultRulesDirectory

    func validate() throws {
        guard (1...4).contains(paranoiaLevel) else { throw ValidationError("--paranoia-level must be between 1 and 4") }
        guard iterations > 0, bodyBytes > 0 else { throw ValidationError("--iterations and --body-bytes must be positive") }
    }

    func run() throws {
        let config = WAFConfig(enabled: true, paranoiaLevel: paranoiaLevel, rulesDirectory: rulesDir)
        let buildStart = DispatchTime.now().uptimeNanoseconds
        let engine = try WAFEngine(config: config)
        let buildMs = Double(DispatchTime.now().uptimeNanoseconds - buildStart) / 1e6
        print("engine build (CRS parse): \(String(format: "%.1f", buildMs)) ms, paranoia level \(paranoiaLevel)")

        let body = Self.chatBody(bytes: bodyBytes)
        let cases: [(String, String, String)] = [
            ("harmless \(body.utf8.count) B chat", "/v1/chat/completions", body),
            ("SQLi in the query (blocked)", "/v1/chat/completions?id=1%27%20OR%201%3D1--", body),
            ("\(body.utf8.count) B body, prompts not excluded", "/v1/chat/completions", body.replacingOccurrences(of: "\"messages\"", with: "\"history\"")),
        ]
        for (name, uri, body) in cases {
            var samples = Self.measure(engine, uri: uri, body: body, iterations: iterations)
            samples.sort()
            let mean = samples.reduce(0, +) / Double(samples.count)
            let p50 = samples[samples.count / 2]
            let p99 = samples[min(samples.count - 1, samples.count * 99 / 100)]
            print("\(name): mean \(Self.µs(mean)) µs, p50 \(Self.µs(p50)) µs, p99 \(Self.µs(p99)) µs (\(iterations) runs)")
        }
    }

    static func µs(_ v: Double) -> String { String(format: "%.0f", v) }

    static func measure(_ engine: WAFEngine, uri: String, body: String, iterations: Int) -> [Double] {
        let headers: [(name: String, value: String)] = [
            ("Host", "gateway.example.com"), ("Content-Type", "application/json"), ("Content-Length", String(body.utf8.count)),
            ("Authorization", "Bearer tg-0123456789abcdef0123456789abcdef"), ("User-Agent", "OpenAI/Python 1.54.0"),
            ("Accept", "application/json"), ("Accept-Encoding", "gzip, deflate"), ("X-Stainless-Lang", "python"),
        ]
        var body = body
        return body.withUTF8 { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            for _ in 0..<min(200, iterations) {
                _ = engine.inspect(method: "POST", uri: uri, httpVersion: "1.1", headers: headers, body: raw, clientAddress: "10.1.2.3", clientPort: 51000)
            }
            var samples: [Double] = []
            samples.reserveCapacity(iterations)
            for _ in 0..<iterations {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = engine.inspect(method: "POST", uri: uri, httpVersion: "1.1", headers: headers, body: raw, clientAddress: "10.1.2.3", clientPort: 51000)
                samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
            }
            return samples
        }
    }

    /// A chat request like an SDK sends: system prompt, a few turns, sampling parameters.
    static func chatBody(bytes: Int) -> String {
        let turns = [
            "Summarize the attached quarterly report for the EMEA region and list the three biggest risks.",
            "Revenue grew 12% year over year, driven by the enterprise segment; churn in SMB rose to 4.1%.",
            "Which of those risks would you prioritise, and what would a mitigation plan look like in Q3?",
            "Start with SMB churn: run a win-back campaign, review pricing tiers, and add onboarding calls.",
        ]
        var messages = [#"{"role":"system","content":"You are a concise financial analyst. Answer in short paragraphs and cite figures from the conversation."}"#]
        var i = 0
        while messages.joined(separator: ",").utf8.count < bytes - 120 {
            let role = i % 2 == 0 ? "user" : "assistant"
            messages.append("{\"role\":\"\(role)\",\"content\":\"\(turns[i % turns.count])\"}")
            i += 1
        }
        return "{\"model\":\"gpt-4o-mini\",\"messages\":[\(messages.joined(separator: ","))],\"temperature\":0.2,\"max_tokens\":512,\"user\":\"analyst-42\"}"
    }
}
