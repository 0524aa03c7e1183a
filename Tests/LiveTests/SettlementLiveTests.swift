import Foundation
import Testing
import TollgateTesting

/// A stream the client abandons half way is charged the reserved estimate, in every provider
/// dialect: the provider's final usage never arrived, and partial numbers (Anthropic's
/// `message_start`, Gemini's running `usageMetadata`) must not stand in for it.
///
/// Observed through a dollar budget (a calendar window: nothing refills while the test runs):
/// a probe request admitted after the abort reports the budget left with its own reservation
/// taken, so `budget - remaining - probe estimate` is exactly what the abandoned stream was
/// charged. `concurrent_requests: 1` makes the probe wait until the stream has been settled.
@Suite struct SettlementLiveTests {
    static let budgetMicros = 1_000 * 1_000_000
    static let streamMaxTokens = 500

    /// Dialect → (model, front path, upstream model). Prices: $1 / $2 per million tokens, so
    /// micro-dollars are whole numbers (prompt + 2 × output).
    static let dialects: [(name: String, path: String, upstream: String, provider: String)] = [
        ("openai", "/v1/chat/completions", "gpt-4o-mini+tps=20+tokens=200", "mock"),
        ("anthropic-passthrough", "/v1/messages", "claude-3-5-haiku+tps=20+tokens=200", "claude"),
        ("anthropic-translated", "/v1/chat/completions", "claude-3-5-haiku+tps=20+tokens=200", "claude"),
        ("gemini", "/v1/chat/completions", "gemini-2.5-flash+tps=20+tokens=200", "google"),
        ("bedrock", "/v1/chat/completions", "anthropic.claude-3-haiku-20240307-v1:0+tps=20+tokens=200", "aws"),
    ]

    static func config(mock: Int, port: Int) -> String {
        var models = "  - {name: probe, provider: mock, upstream_model: gpt-4o-mini}\n"
        var pricing = "  gpt-4o-mini: {input: 1, output: 2}\n"
        var keys = ""
        var priced = Set<String>()
        for d in dialects {
            models += "  - {name: \(d.name), provider: \(d.provider), upstream_model: \"\(d.upstream)\"}\n"
            if priced.insert(d.upstream).inserted { pricing += "  \"\(d.upstream)\": {input: 1, output: 2}\n" }
            keys += """
              - name: \(d.name)
                key_hash: "sha256:\(sha256Hex("tg-settle-\(d.name)"))"
                models: ["*"]
                limits:
                  usd_per_day: \(budgetMicros / 1_000_000)
                  concurrent_requests: 1

            """
        }
        return """
        version: 1
        listeners: [{address: 127.0.0.1, port: \(port)}]
        providers:
          - name: mock
            kind: openai-compatible
            base_url: http://127.0.0.1:\(mock)/v1
          - name: claude
            kind: anthropic
            base_url: http://127.0.0.1:\(mock)
            api_key_env: ANTHROPIC_TEST_KEY
          - name: google
            kind: gemini
            base_url: http://127.0.0.1:\(mock)
            api_key_env: ANTHROPIC_TEST_KEY
          - name: aws
            kind: bedrock
            base_url: http://127.0.0.1:\(mock)
            aws_region: eu-west-1
        models:
        \(models)
        pricing:
        \(pricing)
        api_keys:
        \(keys)
        """
    }

    /// Micro-dollars from the `x-tollgate-budget-remaining-usd` text.
    static func micros(_ usd: String?) -> Int? {
        guard let usd, let dot = usd.firstIndex(of: ".") else { return nil }
        let whole = Int(usd[..<dot]) ?? 0
        var fraction = String(usd[usd.index(after: dot)...])
        fraction += String(repeating: "0", count: max(0, 6 - fraction.count))
        return whole * 1_000_000 + (Int(fraction) ?? 0)
    }

    @Test func anAbandonedStreamIsChargedItsEstimateInEveryDialect() throws {
        let h = try GatewayHarness(workers: 1, config: { Self.config(mock: $0, port: $1) })
        for d in Self.dialects {
            let key = "tg-settle-\(d.name)"
            let body = #"{"model":"\#(d.name)","max_tokens":\#(Self.streamMaxTokens),"stream":true,"messages":[{"role":"user","content":"tell me a long story"}]}"#
            var headers = auth(key)
            if d.path == "/v1/messages" { headers.append(("anthropic-version", "2023-06-01")) }
            let stream = try h.client().startStreaming("POST", d.path, headers: headers, body: body)
            #expect(stream.status == 200, "\(d.name)")
            var seen = 0
            while seen < 300, let chunk = try stream.nextChunk() { seen += chunk.count }
            stream.close()

            let probeBody = #"{"model":"probe","max_tokens":1,"messages":[{"role":"user","content":"hi"}]}"#
            var remaining: Int?
            let deadline = Date().addingTimeInterval(10)
            while remaining == nil && Date() < deadline {
                let probe = try h.client().postJSON("/v1/chat/completions", probeBody, headers: auth(key))
                if probe.status == 200 {
                    remaining = Self.micros(probe.header("x-tollgate-budget-remaining-usd"))
                } else {
                    #expect(probe.status == 429, "\(d.name): \(probe.bodyString)")
                    usleep(20_000)
                }
            }
            let probeEstimate = max(1, probeBody.utf8.count / 4) * 1 + 1 * 2
            let streamEstimate = max(1, body.utf8.count / 4) * 1 + Self.streamMaxTokens * 2
            let charged = Self.budgetMicros - (remaining ?? 0) - probeEstimate
            #expect(remaining != nil, "\(d.name): the probe was never admitted (the stream was not settled)")
            #expect(charged == streamEstimate, "\(d.name): the abandoned stream was charged \(charged) µ$, its estimate is \(streamEstimate) µ$")
        }
    }
}
