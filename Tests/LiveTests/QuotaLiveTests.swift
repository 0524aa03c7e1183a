import Foundation
import Synchronization
import Testing
import TollgateTesting

/// Rate limits, token limits, concurrency limits and budgets through the real gateway.
@Suite struct QuotaLiveTests {
    /// A config with one priced model (`gpt-4o-mini` upstream, $0.15/$0.60 per million tokens)
    /// and the demo key carrying `keyLimits` (YAML lines under `limits:`).
    static func config(mock: Int, port: Int, keyLimits: String, extra: String = "", upstream: String = "gpt-4o-mini") -> String {
        """
        version: 1
        listeners: [{address: 127.0.0.1, port: \(port)}]
        providers:
          - name: mock
            kind: openai-compatible
            base_url: http://127.0.0.1:\(mock)/v1
          - name: spare
            kind: openai-compatible
            base_url: http://127.0.0.1:\(mock)/v1
        \(extra)
        models:
          - name: chat
            provider: mock
            upstream_model: \(upstream)
          - name: slow
            provider: mock
            upstream_model: gpt-4o-mini+latency=600
          - name: stream-slowly
            provider: mock
            upstream_model: gpt-4o-mini+tps=20+tokens=200
        api_keys:
          - name: tester
            key_hash: "\(GatewayHarness.demoKeyHash)"
            models: ["*"]
            limits:
        \(keyLimits)
        """
    }

    @Test func requestLimitAnswers429WithOpenAIHeadersInEitherFront() throws {
        let h = try GatewayHarness(workers: 2, config: { Self.config(mock: $0, port: $1, keyLimits: "      requests_per_minute: 3") })
        var last: HTTPResponse?
        for i in 0..<3 {
            let r = try h.client().postJSON("/v1/chat/completions", chatBody(model: "chat"), headers: auth())
            #expect(r.status == 200, "request \(i): \(r.bodyString)")
            #expect(r.header("x-ratelimit-limit-requests") == "3")
            #expect(r.header("x-ratelimit-remaining-requests") == String(2 - i), "both workers count in one shared table")
            last = r
        }
        #expect(last?.header("x-ratelimit-reset-requests")?.hasSuffix("s") == true)
        let refused = try h.client().postJSON("/v1/chat/completions", chatBody(model: "chat"), headers: auth())
        #expect(refused.status == 429)
        let error = try refused.json()["error"] as? [String: Any]
        #expect(error?["code"] as? String == "rate_limit_exceeded" && error?["type"] as? String == "requests")
        let message = error?["message"] as? String ?? ""
        #expect(message.contains("API key 'tester'") && message.contains("requests_per_minute"))
        #expect(Int(refused.header("retry-after") ?? "") ?? 0 >= 1)
        #expect(refused.header("x-ratelimit-remaining-requests") == "0")

        let anthropic = try h.client().postJSON("/v1/messages", #"{"model":"chat","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"#,
                                                headers: auth() + [("anthropic-version", "2023-06-01")])
        #expect(anthropic.status == 429)
        #expect((try anthropic.json()["error"] as? [String: Any])?["type"] as? String == "rate_limit_error")
        #expect(anthropic.header("anthropic-ratelimit-requests-limit") == "3", "Anthropic's own header names on its front")
        #expect(anthropic.header("anthropic-ratelimit-requests-reset")?.hasSuffix("Z") == true)
        #expect(anthropic.header("x-ratelimit-limit-requests") == nil)

        let metrics = try h.adminClient().request("GET", "/metrics").bodyString
        let rejected = metrics.split(separator: "\n").filter { $0.hasPrefix("tollgate_quota_rejected_total{") }
            .compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }.reduce(0, +)
        #expect(rejected == 2, "\(metrics)")
        #expect(metrics.contains("tollgate_quota_slots_in_use 1\n"), "one key, one limit, one slot")
    }

    @Test func tokenLimitsReserveMaxTokensAndRefuseWhatCanNeverFit() throws {
        let h = try GatewayHarness(workers: 1, config: { Self.config(mock: $0, port: $1, keyLimits: "      tokens_per_minute: 1000") })
        let huge = try h.client().postJSON("/v1/chat/completions",
                                           #"{"model":"chat","max_tokens":5000,"messages":[{"role":"user","content":"hi"}]}"#, headers: auth())
        #expect(huge.status == 429)
        #expect(huge.header("retry-after") == nil, "waiting would not help")
        #expect(((try huge.json()["error"] as? [String: Any])?["message"] as? String ?? "").contains("lower max_tokens"))
        let fits = try h.client().postJSON("/v1/chat/completions",
                                           #"{"model":"chat","max_tokens":300,"messages":[{"role":"user","content":"hi"}]}"#, headers: auth())
        #expect(fits.status == 200)
        // Settled with the real usage (a few dozen tokens), not the 300-token reservation.
        let remaining = Int(fits.header("x-ratelimit-remaining-tokens") ?? "") ?? 0
        #expect(remaining < 700, "the reservation counted max_tokens: \(remaining)")
        let next = try h.client().postJSON("/v1/chat/completions",
                                           #"{"model":"chat","max_tokens":600,"messages":[{"role":"user","content":"hi"}]}"#, headers: auth())
        #expect(next.status == 200, "the first request's unused reservation was refunded: \(next.bodyString)")
    }

    @Test func concurrencyLimitIsReleasedWhenTheClientDisconnectsMidStream() throws {
        let h = try GatewayHarness(workers: 1, config: { Self.config(mock: $0, port: $1, keyLimits: "      concurrent_requests: 1") })
        let stream = try h.client().startStreaming("POST", "/v1/chat/completions", headers: auth(),
                                                   body: chatBody(model: "stream-slowly", content: "go", stream: true))
        #expect(stream.status == 200)
        _ = try stream.nextChunk()
        let second = try h.client().postJSON("/v1/chat/completions", chatBody(model: "chat"), headers: auth())
        #expect(second.status == 429, "one stream is in flight")
        stream.close()
        var admitted = false
        for _ in 0..<40 where !admitted {
            usleep(50_000)
            admitted = try h.client().postJSON("/v1/chat/completions", chatBody(model: "chat"), headers: auth()).status == 200
        }
        #expect(admitted, "the disconnect settled the stream's reservation")
    }

    @Test func budgetIsExhaustedWithADistinctCodeAndConcurrentClientsCannotOverspend() throws {
        // Each request reserves ≈ 40 prompt tokens × $0.15 + 1000 × $0.60 per million ≈ $0.000606,
        // and really costs ≈ $0.00002: a $0.005 budget admits a few reservations at a time.
        let budget = 0.005
        let h = try GatewayHarness(workers: 2, config: {
            Self.config(mock: $0, port: $1, keyLimits: "      usd_per_day: \(budget)", upstream: "gpt-4o-mini+tokens=1000")
                + "\npricing:\n  gpt-4o-mini+tokens=1000: {input: 0.15, output: 0.60}\n"
        })
        let spent = Mutex<(Double, Int, Double)>((0, 0, 0))
        DispatchQueue.concurrentPerform(iterations: 12) { _ in
            let client = h.client()
            for _ in 0..<40 {
                guard let r = try? client.postJSON("/v1/chat/completions",
                                                   #"{"model":"chat","max_tokens":1000,"messages":[{"role":"user","content":"spend"}]}"#, headers: auth()) else { continue }
                if r.status == 200 {
                    let cost = Double(r.header("x-tollgate-cost-usd") ?? "") ?? 0
                    spent.withLock { $0.0 += cost; $0.1 += 1 }
                } else if r.status == 429 {
                    let code = (try? r.json()["error"] as? [String: Any])?["code"] as? String
                    if code == "budget_exceeded" { spent.withLock { $0.2 += 1 } }
                    break
                }
            }
        }
        let (total, served, refusedClients) = spent.withLock { $0 }
        #expect(served > 0 && refusedClients > 0, "served \(served), refused \(refusedClients)")
        let oneReservation = (40 * 0.15 + 1000 * 0.60) / 1_000_000
        print("budget $\(budget): 12 concurrent clients were served \(served) requests costing $\(total) (bound: budget + one reservation = $\(budget + oneReservation))")
        #expect(total <= budget + oneReservation, "spent \(total) of \(budget)")
        let after = try h.client().postJSON("/v1/chat/completions", chatBody(model: "chat"), headers: auth())
        #expect(after.status == 429)
        let error = try after.json()["error"] as? [String: Any]
        #expect(error?["code"] as? String == "budget_exceeded" && error?["type"] as? String == "insufficient_quota")
    }

    @Test func aProviderOverItsBudgetIsSkippedInTheChain() throws {
        let extra = """
              - name: capped
                kind: openai-compatible
                base_url: http://127.0.0.1:@MOCK@/v1
                budget: {usd_per_month: 0.000001}
            routes:
              - name: capped-first
                priorities:
                  - backends: [{provider: capped, model: gpt-4o-mini}]
                  - backends: [{provider: spare, model: gpt-4o-mini}]
            """
        let h = try GatewayHarness(workers: 1, config: { mock, port in
            Self.config(mock: mock, port: port, keyLimits: "      requests_per_minute: 1000",
                        extra: extra.replacingOccurrences(of: "@MOCK@", with: String(mock)))
                .replacingOccurrences(of: "models:\n  - name: chat", with: "models:\n  - name: capped-chat\n    route: capped-first\n  - name: chat")
        })
        let r = try h.client().postJSON("/v1/chat/completions", chatBody(model: "capped-chat"), headers: auth())
        #expect(r.status == 200, "\(r.bodyString)")
        #expect(r.header("x-tollgate-backend") == "spare/gpt-4o-mini", "the capped provider's budget cannot hold one reservation")
        #expect(r.header("x-tollgate-attempts") == "2")
    }
}
