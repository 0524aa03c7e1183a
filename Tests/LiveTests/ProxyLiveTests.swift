import Foundation
import Testing
import TollgateTesting

/// The real `tollgate serve` in front of the real mock provider: what a client sees.
@Suite(.serialized) struct ProxyLiveTests {
    @Test func nonStreamingCompletionArrivesIntact() throws {
        let h = try GatewayHarness(workers: 1, config: { mock, port in
            GatewayHarness.defaultConfig(mockPort: mock, port: port, chatBackend: "gpt-4o-mini+echo")
        })
        let client = h.client()
        let r = try client.postJSON("/v1/chat/completions", chatBody(content: "The quick brown fox, \\\"quoted\\\" and ünïcødé ✓"), headers: auth())
        #expect(r.status == 200, "\(r.bodyString)")
        let json = try r.json()
        let choices = json["choices"] as? [[String: Any]]
        let message = choices?.first?["message"] as? [String: Any]
        #expect(message?["content"] as? String == "The quick brown fox, \"quoted\" and ünïcødé ✓")
        #expect(json["object"] as? String == "chat.completion")
        let usage = json["usage"] as? [String: Any]
        #expect((usage?["prompt_tokens"] as? Int ?? 0) > 0)
        #expect(r.header("x-tollgate-backend") == "mock/gpt-4o-mini+echo")
        #expect(r.header("x-request-id")?.isEmpty == false)
        #expect(r.header("x-tollgate-attempts") == "1")

        // What reached the upstream: the rewritten model, the provider's auth, not the client's key.
        let mockClient = HTTPTestClient(port: h.mockPort)
        let log = try mockClient.request("GET", "/mock/requests")
        #expect(log.bodyString.contains("gpt-4o-mini+echo"))
        #expect(!log.bodyString.contains(GatewayHarness.demoKey))
    }

    @Test func streamingCompletionArrivesChunkByChunk() throws {
        let h = try GatewayHarness(workers: 1, config: { mock, port in
            GatewayHarness.defaultConfig(mockPort: mock, port: port, chatBackend: "gpt-4o-mini+echo+tps=200")
        })
        let client = h.client()
        let stream = try client.startStreaming("POST", "/v1/chat/completions", headers: auth(),
                                               body: chatBody(content: "one two three four five six seven eight", stream: true, includeUsage: true))
        #expect(stream.status == 200)
        #expect(stream.header("content-type")?.hasPrefix("text/event-stream") == true)
        #expect(stream.header("x-tollgate-backend") == "mock/gpt-4o-mini+echo+tps=200")
        let events = try stream.sseEvents()
        #expect(events.last == "[DONE]")
        var text = ""
        var sawUsage = false
        for event in events.dropLast() {
            let obj = try JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any]
            #expect(obj?["object"] as? String == "chat.completion.chunk")
            if let choices = obj?["choices"] as? [[String: Any]], let delta = choices.first?["delta"] as? [String: Any] {
                text += delta["content"] as? String ?? ""
            }
            if obj?["usage"] is [String: Any] { sawUsage = true }
        }
        #expect(text == "one two three four five six seven eight")
        #expect(sawUsage)
        #expect(events.count > 5, "expected one event per token, got \(events.count)")
    }

    @Test func usageAndCostOnEveryResponse() throws {
        let h = try GatewayHarness(workers: 1)
        let r = try h.client().postJSON("/v1/chat/completions", chatBody(), headers: auth())
        let usage = try r.json()["usage"] as? [String: Any]
        #expect(r.header("x-tollgate-input-tokens") == (usage?["prompt_tokens"] as? Int).map(String.init))
        #expect(r.header("x-tollgate-output-tokens") == "16")
        let expected = (Double(usage?["prompt_tokens"] as? Int ?? 0) * 0.15 + 16 * 0.60) / 1_000_000
        #expect(abs((Double(r.header("x-tollgate-cost-usd") ?? "") ?? -1) - expected) < 1e-9, "\(r.headers)")

        // A stream the client did not ask usage for: no usage chunk reaches it, the cost comment does,
        // and upstream was asked for usage.
        let stream = try h.client().startStreaming("POST", "/v1/chat/completions", headers: auth(), body: chatBody(stream: true))
        var raw: [UInt8] = []
        while let chunk = try stream.nextChunk() { raw += chunk }
        let text = String(decoding: raw, as: UTF8.self)
        #expect(text.contains(": tollgate-usage {\"prompt_tokens\":"))
        #expect(text.contains("\"cost_usd\":"))
        #expect(!text.contains("\"choices\":[],\"usage\""))
        #expect(text.hasSuffix("data: [DONE]\n\n"))
        let log = try HTTPTestClient(port: h.mockPort).request("GET", "/mock/requests")
        #expect(log.bodyString.contains(#"\"stream_options\":{\"include_usage\":true}"#))
    }

    @Test func fallsBackFromFailingPriorityZero() throws {
        let h = try GatewayHarness(workers: 1)
        let client = h.client()
        let r = try client.postJSON("/v1/chat/completions", chatBody(model: "fallback-503"), headers: auth())
        #expect(r.status == 200, "\(r.bodyString)")
        #expect(r.header("x-tollgate-backend") == "mock/mock-small")
        #expect(r.header("x-tollgate-attempts") == "2")

        let dead = try client.postJSON("/v1/chat/completions", chatBody(model: "fallback-dead"), headers: auth())
        #expect(dead.status == 200, "\(dead.bodyString)")
        #expect(dead.header("x-tollgate-backend") == "mock/mock-small")
    }

    @Test func exhaustedChainListsWhatWasTried() throws {
        let h = try GatewayHarness(workers: 1)
        let r = try h.client().postJSON("/v1/chat/completions", chatBody(model: "all-fail"), headers: auth())
        #expect(r.status == 502)
        let error = try r.json()["error"] as? [String: Any]
        #expect(error?["type"] as? String == "server_error")
        #expect(error?["code"] as? String == "upstream_error")
        let message = error?["message"] as? String ?? ""
        #expect(message.contains("flaky/mock-small+fault=500: HTTP 500"))
        #expect(message.contains("dead/mock-small: connect failed"))
        #expect((error?["attempts"] as? [Any])?.count == 2)
    }

    @Test func firstByteTimeoutFallsBackThenGives504() throws {
        let h = try GatewayHarness(workers: 1, extraLimits: "  upstream_first_byte_timeout_ms: 600")
        let start = Date()
        let r = try h.client().postJSON("/v1/chat/completions", chatBody(model: "fallback-hang"), headers: auth())
        #expect(r.status == 200, "\(r.bodyString)")
        #expect(r.header("x-tollgate-backend") == "mock/mock-small")
        #expect(Date().timeIntervalSince(start) >= 0.6)
        let dead = try h.client().postJSON("/v1/chat/completions", chatBody(model: "all-hang"), headers: auth())
        #expect(dead.status == 504, "\(dead.bodyString)")
        #expect((try dead.json()["error"] as? [String: Any])?["code"] as? String == "upstream_timeout")
        #expect(dead.bodyString.contains("first byte timeout"))
    }

    @Test func anUpstreamThatDiesMidStreamEndsWithAnErrorEvent() throws {
        let h = try GatewayHarness(workers: 1)
        let stream = try h.client().startStreaming("POST", "/v1/chat/completions", headers: auth(),
                                                   body: chatBody(model: "broken-stream", stream: true))
        #expect(stream.status == 200)
        let events = try stream.sseEvents()
        #expect(events.count >= 2, "\(events)")
        #expect(events.last?.contains("upstream_stream_interrupted") == true, "stream ended silently: \(events.suffix(2))")
        #expect(!events.contains("[DONE]"))
        // The worker is fine afterwards.
        #expect(try h.client().postJSON("/v1/chat/completions", chatBody(), headers: auth()).status == 200)
    }

    @Test func clientErrorsUseOpenAIShapeAndStatus() throws {
        let h = try GatewayHarness(workers: 1, extraLimits: "  max_body_bytes: 2048\n  max_header_bytes: 4096")
        let c = h.client()
        func check(_ r: HTTPResponse, _ status: Int, _ code: String?, file: String = #file, line: Int = #line) throws {
            #expect(r.status == status, "\(r.bodyString)")
            let error = try r.json()["error"] as? [String: Any]
            #expect(error?["message"] is String)
            #expect(error?["type"] is String)
            if let code { #expect(error?["code"] as? String == code) }
        }
        try check(c.postJSON("/v1/chat/completions", chatBody(), headers: [("Content-Type", "application/json")]), 401, "invalid_api_key")
        try check(c.postJSON("/v1/chat/completions", chatBody(), headers: auth("wrong-key")), 401, "invalid_api_key")
        try check(c.postJSON("/v1/chat/completions", "{\"model\": \"gpt-4o-mini\", ", headers: auth()), 400, "invalid_json")
        try check(c.postJSON("/v1/chat/completions", "{\"messages\":[]}", headers: auth()), 400, "missing_model")
        try check(c.postJSON("/v1/chat/completions", chatBody(model: "nope"), headers: auth()), 404, "model_not_found")
        try check(c.postJSON("/v1/chat/completions", chatBody(model: "private-model"), headers: auth(GatewayHarness.limitedKey)), 403, "model_not_allowed")
        try check(c.postJSON("/v1/chat/completions", chatBody(content: String(repeating: "a", count: 5000)), headers: auth()), 413, "request_too_large")
        let bigHeader = [("x-filler", String(repeating: "b", count: 6000))] + auth()
        try check(HTTPTestClient(port: h.port).postJSON("/v1/chat/completions", chatBody(), headers: bigHeader), 431, nil)
        try check(HTTPTestClient(port: h.port).request("GET", "/v1/nothing-here", headers: auth()), 404, "unknown_url")
        try check(HTTPTestClient(port: h.port).request("GET", "/v1/chat/completions", headers: auth()), 405, "method_not_allowed")

        // The worker survived all of that and still serves.
        let ok = try HTTPTestClient(port: h.port).postJSON("/v1/chat/completions", chatBody(), headers: auth())
        #expect(ok.status == 200)
    }

    @Test func garbageOnTheSocketGetsA400AndTheWorkerSurvives() throws {
        let h = try GatewayHarness(workers: 1)
        let raw = try sendRaw(port: h.port, bytes: Array("NOT HTTP AT ALL\r\n\r\n".utf8), readTimeout: 5)
        let text = String(decoding: raw, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 400"), "\(text)")
        #expect(text.contains("\"error\""))
        let ok = try h.client().postJSON("/v1/chat/completions", chatBody(), headers: auth())
        #expect(ok.status == 200)
    }

    @Test func slowRequestGets408() throws {
        let h = try GatewayHarness(workers: 1, extraLimits: "  request_read_timeout_ms: 600")
        let partial = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(GatewayHarness.demoKey)\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\":"
        let raw = try sendRaw(port: h.port, bytes: Array(partial.utf8), readTimeout: 5)
        let text = String(decoding: raw, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 408"), "\(text)")
        #expect(text.contains("request_timeout"))
    }

    @Test func modelsListOnlyWhatTheKeyMayUse() throws {
        let h = try GatewayHarness(workers: 1)
        let all = try h.client().request("GET", "/v1/models", headers: auth())
        #expect(all.status == 200)
        let ids = ((try all.json()["data"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
        #expect(ids.contains("gpt-4o-mini") && ids.contains("private-model"))
        let limited = try h.client().request("GET", "/v1/models", headers: auth(GatewayHarness.limitedKey))
        let limitedIDs = ((try limited.json()["data"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
        #expect(limitedIDs == ["gpt-4o-mini"])
    }

    @Test func embeddingsAndHealthEndpoints() throws {
        let h = try GatewayHarness(workers: 1)
        let c = h.client()
        let r = try c.postJSON("/v1/embeddings", "{\"model\":\"text-embedding-3-small\",\"input\":[\"a\",\"b\"]}", headers: auth())
        #expect(r.status == 200, "\(r.bodyString)")
        #expect((try r.json()["data"] as? [Any])?.count == 2)
        #expect(try c.request("GET", "/healthz").status == 200)
        let ready = try c.request("GET", "/readyz")
        #expect(ready.status == 200)
        #expect(ready.bodyString.contains("\"generation\":1"))
        #expect(try c.request("GET", "/metrics").status == 404, "metrics are on the admin listener only")
        let metrics = try h.adminClient().request("GET", "/metrics")
        #expect(metrics.bodyString.contains("tollgate_requests_total{worker=\"0\"}"))
        // The embeddings call left one idle keep-alive connection to the mock in the pool; the
        // worker publishes its pool gauges a few times a second.
        #expect(metrics.bodyString.contains("# TYPE tollgate_upstream_connections gauge"))
        let deadline = Date().addingTimeInterval(10)
        var pool = ""
        while Date() < deadline {
            pool = try h.adminClient().request("GET", "/metrics").bodyString
            if pool.contains("tollgate_upstream_idle_connections{worker=\"0\"} 1") { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(pool.contains("tollgate_upstream_connections{worker=\"0\"} 1"), "\(pool)")
        #expect(pool.contains("tollgate_upstream_idle_connections{worker=\"0\"} 1"), "\(pool)")
        #expect(pool.contains("tollgate_upstream_pool_waiters{worker=\"0\"} 0"), "\(pool)")
        #expect(try h.adminClient().request("GET", "/v1/models", headers: auth()).status == 404, "the admin listener serves no API")
    }
}
