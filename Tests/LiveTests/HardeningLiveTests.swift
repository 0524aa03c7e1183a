import Foundation
import Testing
import TollgateTesting

/// The real gateway against a hostile client and a hostile upstream (the mock's `usage_raw`,
/// `retry_after_raw` and `hostile_headers` controls): clear 400s, clamped numbers, filtered
/// headers, and the same worker processes alive at the end (no crash, no respawn).
@Suite struct HardeningLiveTests {
    static func config(mock: Int, port: Int, extraModels: String = "", routes: String = "") -> String {
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
        routes:
          - name: retry-hostile
            priorities:
              - backends: [{provider: mock, model: "gpt-4o-mini+fault=429+retry_after_raw=1e17"}]
              - backends: [{provider: spare, model: "gpt-4o-mini+fault=503+retry_after_ms_raw=inf"}]
              - backends: [{provider: mock, model: "gpt-4o-mini+fault=429+retry_after_raw=nan"}]
              - backends: [{provider: spare, model: "gpt-4o-mini"}]
          - name: with-query
            forward_query: true
            priorities:
              - backends: [{provider: mock, model: "gpt-4o-mini"}]
        \(routes)
        models:
          - name: priced
            provider: mock
            upstream_model: gpt-4o-mini
          - name: retry-hostile
            route: retry-hostile
          - name: with-query
            route: with-query
          - name: hostile-headers
            provider: mock
            upstream_model: gpt-4o-mini+hostile_headers
        \(hostileUsage.map { "  - {name: usage-\($0.name), provider: mock, upstream_model: \"gpt-4o-mini+usage_raw=\($0.literal)\"}" }.joined(separator: "\n"))
        \(extraModels)
        pricing:
          gpt-4o-mini: {input: 30, output: 60}
          gpt-4o-mini+hostile_headers: {input: 30, output: 60}
        \(hostileUsage.map { "  \"gpt-4o-mini+usage_raw=\($0.literal)\": {input: 30, output: 60}" }.joined(separator: "\n"))
        api_keys:
          - name: tester
            key_hash: "\(GatewayHarness.demoKeyHash)"
            models: ["*"]
            limits:
              tokens_per_minute: 100000000
              usd_per_day: 1000
        \(hostileUsage.flatMap { u in ["whole", "stream"].map { mode in """
          - name: \(u.name)-\(mode)
            key_hash: "sha256:\(sha256Hex(Self.key(u.name, mode)))"
            models: ["*"]
            limits: {tokens_per_minute: 100000000, usd_per_day: 1000}
        """ } }.joined(separator: "\n"))
        """
    }

    /// Usage numbers the mock reports (`usage_raw`): each settles a clamped charge that
    /// exhausts its key's limits, so each model and mode has a key of its own.
    static let hostileUsage: [(name: String, literal: String)] = [
        ("huge", "1e308"), ("intmax", "9223372036854775807"), ("2p63", "9223372036854775808"),
        ("1e15", "1000000000000000"), ("negative", "-1000000"),
    ]

    static func key(_ name: String, _ mode: String) -> String { "tg-hostile-\(name)-\(mode)" }

    static func workers(_ h: GatewayHarness) -> [Int32] {
        guard let gw = h.gateway else { return [] }
        return childProcesses(of: gw.pid).filter { $0.cmdline.contains(" worker ") }.map(\.pid).sorted()
    }

    @Test func hostileNumbersFromClientAndUpstreamNeverKillAWorker() throws {
        let h = try GatewayHarness(workers: 1, config: { Self.config(mock: $0, port: $1) })
        let before = Self.workers(h)
        #expect(before.count == 1)
        let c = h.client()

        // Client side: every extreme max_tokens / max_completion_tokens is a 400 in the front's shape.
        for value in ["2e18", "9223372036854775807", "9223372036854775808", "-1", "0", "1e308", "\"100\"", "1.5"] {
            for field in ["max_tokens", "max_completion_tokens"] {
                let r = try c.postJSON("/v1/chat/completions", #"{"model":"priced","\#(field)":\#(value),"messages":[{"role":"user","content":"hi"}]}"#, headers: auth())
                #expect(r.status == 400, "\(field)=\(value): \(r.bodyString)")
                #expect((try r.json()["error"] as? [String: Any])?["param"] as? String == field)
            }
            let a = try c.postJSON("/v1/messages", #"{"model":"priced","max_tokens":\#(value),"messages":[{"role":"user","content":"hi"}]}"#,
                                   headers: auth() + [("anthropic-version", "2023-06-01")])
            #expect(a.status == 400 && a.bodyString.hasPrefix("{\"type\":\"error\""), "messages max_tokens=\(value): \(a.bodyString)")
        }
        let embeddings = try c.postJSON("/v1/embeddings", #"{"model":"priced","input":"x","dimensions":1e308}"#, headers: auth())
        #expect(embeddings.status == 400)
        // The largest valid request is admitted and served (the estimate saturates, it does not trap).
        let big = try c.postJSON("/v1/chat/completions", #"{"model":"priced","max_tokens":2147483647,"messages":[{"role":"user","content":"hi"}]}"#, headers: auth())
        #expect(big.status == 200 || big.status == 429, "\(big.status) \(big.bodyString)")

        // Upstream side: absurd usage is clamped, cost is never negative, whole and streamed.
        for usage in Self.hostileUsage {
            let model = "usage-\(usage.name)"
            let r = try c.postJSON("/v1/chat/completions", chatBody(model: model), headers: auth(Self.key(usage.name, "whole")))
            #expect(r.status == 200, "\(model): \(r.bodyString)")
            let cost = Double(r.header("x-tollgate-cost-usd") ?? "") ?? -1
            #expect(cost >= 0 && cost <= 1_000_000_000, "\(model): cost \(r.header("x-tollgate-cost-usd") ?? "-")")
            let tokens = Int(r.header("x-tollgate-input-tokens") ?? "") ?? -1
            #expect(tokens >= 0 && tokens <= 1 << 40, "\(model): \(tokens)")
            let stream = try c.startStreaming("POST", "/v1/chat/completions", headers: auth(Self.key(usage.name, "stream")), body: chatBody(model: model, stream: true))
            var raw: [UInt8] = []
            while let chunk = try stream.nextChunk() { raw += chunk }
            let text = String(decoding: raw, as: UTF8.self)
            #expect(text.contains(": tollgate-usage {") && !text.contains("\"cost_usd\":-"), "\(model)")
            #expect(text.hasSuffix("data: [DONE]\n\n"))
        }

        // Upstream retry-after of 1e17 s, inf ms and NaN: clamped or ignored, the chain goes on.
        let retried = try c.postJSON("/v1/chat/completions", chatBody(model: "retry-hostile"), headers: auth())
        #expect(retried.status == 200, "\(retried.bodyString)")
        #expect(retried.header("x-tollgate-attempts") == "4")
        let again = try c.postJSON("/v1/chat/completions", chatBody(model: "retry-hostile"), headers: auth())
        #expect(again.status == 200, "cooling-down backends are skipped, the last one serves: \(again.bodyString)")

        #expect(try c.request("GET", "/healthz").status == 200)
        #expect(Self.workers(h) == before, "the same worker process served everything (no crash, no respawn)")
    }

    @Test func upstreamHeadersPassAnAllowListAndQueriesStayHome() throws {
        let h = try GatewayHarness(workers: 1, config: { Self.config(mock: $0, port: $1) })
        let r = try h.client().postJSON("/v1/chat/completions", chatBody(model: "hostile-headers"), headers: auth())
        #expect(r.status == 200)
        for leaked in ["server", "openai-organization", "x-hop", "set-cookie"] {
            #expect(r.header(leaked) == nil, "\(leaked) reached the client")
        }
        #expect(r.headers.filter { $0.name.lowercased() == "x-tollgate-cost-usd" }.count == 1)
        #expect(r.header("x-tollgate-cost-usd") != "0.0", "the upstream's spoofed cost lost to the gateway's")
        #expect(r.header("x-ratelimit-remaining-requests") != "999999", "the upstream's own rate limits never reach the client")
        #expect(r.header("openai-processing-ms") == "7")
        #expect(r.header("x-upstream-request-id")?.isEmpty == false)
        #expect(r.header("x-request-id") != r.header("x-upstream-request-id"))

        // The client's query string is dropped, unless the route forwards it.
        _ = try h.client().postJSON("/v1/chat/completions?api-version=evil&debug=1", chatBody(model: "priced"), headers: auth())
        _ = try h.client().postJSON("/v1/chat/completions?tenant=blue", chatBody(model: "with-query"), headers: auth())
        let log = try HTTPTestClient(port: h.mockPort).request("GET", "/mock/requests").bodyString
        #expect(!log.contains("debug=1"), "\(log)")
        #expect(log.contains("/v1/chat/completions?tenant=blue"), "\(log)")
    }

    @Test func anUnauthenticatedUploadIsRefusedBeforeItsBody() throws {
        let h = try GatewayHarness(workers: 1, config: { Self.config(mock: $0, port: $1) })
        let s = TestSocket()
        try s.connect(host: "127.0.0.1", port: h.port, timeout: 5)
        defer { s.close() }
        let total = 10 * 1024 * 1024
        try s.write(Array("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(total)\r\n\r\n".utf8))
        // Not one byte of the body sent: the 401 is already there.
        let (status, headers) = try s.readHead()
        #expect(status == 401)
        #expect(headers.contains { $0.name.lowercased() == "connection" && $0.value == "close" })
        var sent = 0
        let chunk = [UInt8](repeating: 0x20, count: 64 * 1024)
        while sent < total {
            do { try s.write(chunk) } catch { break }
            sent += chunk.count
            usleep(1000)
        }
        #expect(sent < total, "the gateway stopped the upload (\(sent) bytes went before the connection closed)")
        #expect(try h.client().request("GET", "/healthz").status == 200)
    }

    @Test func pipelinedRequestsAreAnsweredInOrderAndHostIsRequired() throws {
        let h = try GatewayHarness(workers: 1, config: { Self.config(mock: $0, port: $1) })
        let body = chatBody(model: "priced")
        func request(_ id: String, close: Bool) -> String {
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(GatewayHarness.demoKey)\r\nX-Request-Id: \(id)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\(close ? "Connection: close\r\n" : "")\r\n\(body)"
        }
        let raw = request("pipe-one", close: false) + request("pipe-two", close: false) + "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: pipe-three\r\nConnection: close\r\n\r\n"
        let answer = String(decoding: try sendRaw(port: h.port, bytes: Array(raw.utf8), readTimeout: 10), as: UTF8.self)
        let ids = answer.components(separatedBy: "\r\n").filter { $0.lowercased().hasPrefix("x-request-id:") }
        #expect(ids.map { $0.split(separator: " ").last.map(String.init) ?? "" } == ["pipe-one", "pipe-two", "pipe-three"], "\(answer)")
        #expect(answer.components(separatedBy: "HTTP/1.1 200 OK").count - 1 == 3)

        let noHost = String(decoding: try sendRaw(port: h.port, bytes: Array("GET /healthz HTTP/1.1\r\n\r\n".utf8), readTimeout: 5), as: UTF8.self)
        #expect(noHost.hasPrefix("HTTP/1.1 400"), "\(noHost)")
        #expect(try h.client().request("POST", "/healthz", body: "{}").status == 405)
    }

    /// Hostile usage from every provider dialect, through the Anthropic front (passthrough and
    /// translated) and the OpenAI front, whole and streamed.
    @Test func hostileUsageFromEveryDialectIsClamped() throws {
        let dialects: [(provider: String, upstream: String)] = [
            ("claude", "claude-3-5-haiku"), ("google", "gemini-2.5-flash"), ("aws", "anthropic.claude-3-haiku-20240307-v1:0"),
        ]
        let literals = ["1e308", "-1000000", "9223372036854775808"]
        var models = ""
        var pricing = ""
        for d in dialects {
            for (i, literal) in literals.enumerated() {
                models += "  - {name: \(d.provider)-\(i), provider: \(d.provider), upstream_model: \"\(d.upstream)+usage_raw=\(literal)\"}\n"
                pricing += "  \"\(d.upstream)+usage_raw=\(literal)\": {input: 30, output: 60}\n"
            }
        }
        let h = try GatewayHarness(workers: 1, config: { mock, port in
            """
            version: 1
            listeners: [{address: 127.0.0.1, port: \(port)}]
            providers:
              - {name: claude, kind: anthropic, base_url: "http://127.0.0.1:\(mock)", api_key_env: ANTHROPIC_TEST_KEY}
              - {name: google, kind: gemini, base_url: "http://127.0.0.1:\(mock)", api_key_env: ANTHROPIC_TEST_KEY}
              - {name: aws, kind: bedrock, base_url: "http://127.0.0.1:\(mock)", aws_region: eu-west-1}
            models:
            \(models)
            pricing:
            \(pricing)
            api_keys:
              - {name: tester, key_hash: "\(GatewayHarness.demoKeyHash)", models: ["*"]}
            """
        })
        let before = Self.workers(h)
        let c = h.client()
        for d in dialects {
            for i in literals.indices {
                let model = "\(d.provider)-\(i)"
                let chat = try c.postJSON("/v1/chat/completions", chatBody(model: model), headers: auth())
                #expect(chat.status == 200, "\(model): \(chat.bodyString)")
                let cost = Double(chat.header("x-tollgate-cost-usd") ?? "") ?? -1
                #expect(cost >= 0 && cost <= 1_000_000_000, "\(model): \(chat.header("x-tollgate-cost-usd") ?? "no cost")")
                #expect((Int(chat.header("x-tollgate-output-tokens") ?? "") ?? -1) >= 0)

                let messages = try c.postJSON("/v1/messages", #"{"model":"\#(model)","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}"#,
                                              headers: auth() + [("anthropic-version", "2023-06-01")])
                #expect(messages.status == 200, "\(model) messages: \(messages.bodyString)")
                #expect((Double(messages.header("x-tollgate-cost-usd") ?? "") ?? -1) >= 0, "\(model) messages")

                for (path, body) in [("/v1/chat/completions", chatBody(model: model, stream: true)),
                                     ("/v1/messages", #"{"model":"\#(model)","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#)] {
                    let stream = try c.startStreaming("POST", path, headers: auth() + [("anthropic-version", "2023-06-01")], body: body)
                    #expect(stream.status == 200, "\(model) \(path)")
                    var raw: [UInt8] = []
                    while let chunk = try stream.nextChunk() { raw += chunk }
                    let text = String(decoding: raw, as: UTF8.self)
                    // The gateway's own account (a passthrough body is the upstream's, relayed as it is).
                    let account = text.split(separator: "\n").first { $0.hasPrefix(": tollgate-usage {") }
                    #expect(account != nil && !(account ?? "").contains(":-"), "\(model) \(path): \(text.suffix(300))")
                }
            }
        }
        #expect(try c.request("GET", "/healthz").status == 200)
        #expect(Self.workers(h) == before, "no crash, no respawn")
    }
}
