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

        // The way prompts were spared before they were blanked: one exclusion per prompt
        // place, which libmodsecurity evaluates against every argument in every rule.
        let byRule = try WAFEngine(config: WAFConfig(enabled: true, paranoiaLevel: paranoiaLevel, rulesDirectory: rulesDir,
                                                     excludeArgs: Self.promptExclusionsByRule))

        let body = Self.chatBody(bytes: bodyBytes)
        let agent = Self.chatBody(bytes: 100 * 1024)
        let cases: [(String, WAFEngine, String, String, Bool)] = [
            ("harmless \(body.utf8.count) B chat, prompt blanked", engine, "/v1/chat/completions", body, true),
            ("harmless \(body.utf8.count) B chat, prompt excluded by rule (before)", byRule, "/v1/chat/completions", body, false),
            ("agent-sized \(agent.utf8.count) B chat, prompt blanked", engine, "/v1/chat/completions", agent, true),
            ("agent-sized \(agent.utf8.count) B chat, prompt excluded by rule (before)", byRule, "/v1/chat/completions", agent, false),
            ("SQLi in the query (blocked)", engine, "/v1/chat/completions?id=1%27%20OR%201%3D1--", body, true),
            ("\(body.utf8.count) B body, prompts not spared", engine, "/v1/chat/completions", body.replacingOccurrences(of: "\"messages\"", with: "\"history\""), true),
        ]
        for (name, engine, uri, body, blank) in cases {
            let runs = body.utf8.count > 10_000 ? max(1, iterations / 10) : iterations
            var samples = Self.measure(engine, uri: uri, body: body, iterations: runs, blankPrompt: blank)
            samples.sort()
            let mean = samples.reduce(0, +) / Double(samples.count)
            let p50 = samples[samples.count / 2]
            let p99 = samples[min(samples.count - 1, samples.count * 99 / 100)]
            print("\(name): mean \(Self.µs(mean)) µs, p50 \(Self.µs(p50)) µs, p99 \(Self.µs(p99)) µs of CPU (\(runs) runs)")
        }
    }

    /// The prompt places as ModSecurity argument regexes (what `WAFPromptBlanker` blanks).
    static let promptExclusionsByRule = [
        #"/^json\.messages\.array_\d+\.content/"#,
        #"/^json\.messages\.array_\d+\.tool_calls\.array_\d+\.function\.arguments/"#,
        #"/^json\.messages\.array_\d+\.function_call\.arguments/"#,
        #"/^json\.system/"#, #"/^json\.prompt/"#, #"/^json\.input/"#, #"/^json\.instructions/"#,
        #"/^json\.tools\.array_\d+\./"#, #"/^json\.functions\.array_\d+\./"#,
    ]

    /// CPU time of the calling thread, in µs: what an inspection costs, whatever else runs.
    static func threadCPUMicros() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1e6 + Double(ts.tv_nsec) / 1e3
    }

    static func µs(_ v: Double) -> String { String(format: "%.0f", v) }

    static func measure(_ engine: WAFEngine, uri: String, body: String, iterations: Int, blankPrompt: Bool) -> [Double] {
        let headers: [(name: String, value: String)] = [
            ("Host", "gateway.example.com"), ("Content-Type", "application/json"), ("Content-Length", String(body.utf8.count)),
            ("Authorization", "Bearer tg-0123456789abcdef0123456789abcdef"), ("User-Agent", "OpenAI/Python 1.54.0"),
            ("Accept", "application/json"), ("Accept-Encoding", "gzip, deflate"), ("X-Stainless-Lang", "python"),
        ]
        var body = body
        return body.withUTF8 { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            for _ in 0..<min(200, iterations) {
                _ = engine.inspect(method: "POST", uri: uri, httpVersion: "1.1", headers: headers, body: raw, clientAddress: "10.1.2.3",
                                   clientPort: 51000, blankPrompt: blankPrompt)
            }
            var samples: [Double] = []
            samples.reserveCapacity(iterations)
            for _ in 0..<iterations {
                let start = threadCPUMicros()
                _ = engine.inspect(method: "POST", uri: uri, httpVersion: "1.1", headers: headers, body: raw, clientAddress: "10.1.2.3",
                                   clientPort: 51000, blankPrompt: blankPrompt)
                samples.append(threadCPUMicros() - start)
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
