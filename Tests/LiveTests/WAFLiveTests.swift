import Foundation
import Testing
import TollgateTesting

/// The WAF (ModSecurity + OWASP CRS from Debian's packages, which `make test` installs) in
/// the real gateway binary, in front of the real mock provider.
@Suite(.serialized) struct WAFLiveTests {
    static func harness() throws -> GatewayHarness {
        try GatewayHarness(workers: 1, config: { mock, port in
            GatewayHarness.defaultConfig(mockPort: mock, port: port) + "\nwaf:\n  enabled: true\n  paranoia_level: 1\n"
        })
    }

    /// Model calls the mock received (the controller's Vertex token requests are not).
    func upstreamRequests(_ h: GatewayHarness) throws -> [[String: Any]] {
        let log = try HTTPTestClient(port: h.mockPort).request("GET", "/mock/requests")
        let entries = try JSONSerialization.jsonObject(with: Data(log.bodyString.utf8)) as? [[String: Any]] ?? []
        return entries.filter { ($0["path"] as? String)?.hasPrefix("/v1/") == true }
    }

    @Test func sqlInjectionInTheQueryIsBlockedBeforeTheProvider() throws {
        let h = try Self.harness()
        let r = try h.client().postJSON("/v1/chat/completions?id=1%27%20OR%201%3D1--", chatBody(), headers: auth())
        #expect(r.status == 403, "\(r.bodyString)")
        #expect(r.header("content-type") == "application/json")
        #expect(r.header("x-request-id")?.isEmpty == false)
        let error = try r.json()["error"] as? [String: Any]
        #expect(error?["code"] as? String == "waf_blocked")
        #expect(error?["type"] as? String == "permission_error")
        #expect(error?.keys.contains("param") == true)
        #expect((error?["message"] as? String)?.contains("942100") == true)
        #expect((error?["waf_rule_ids"] as? [Int])?.contains(942100) == true)
        #expect(try upstreamRequests(h).isEmpty, "the provider must never see a blocked request")
        let metrics = try h.adminClient().request("GET", "/metrics").bodyString
        #expect(metrics.contains(#"tollgate_waf_rule_matches_total{rule="942100",outcome="block"} 1"#), "per-rule counters: \(metrics)")

        // The Anthropic front answers in Anthropic's error shape.
        let anthropic = try h.client().postJSON(
            "/v1/messages?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            #"{"model":"gpt-4o-mini","max_tokens":16,"messages":[{"role":"user","content":"hello"}]}"#,
            headers: [("x-api-key", GatewayHarness.demoKey), ("anthropic-version", "2023-06-01"), ("Content-Type", "application/json")])
        #expect(anthropic.status == 403, "\(anthropic.bodyString)")
        let body = try anthropic.json()
        #expect(body["type"] as? String == "error")
        let inner = body["error"] as? [String: Any]
        #expect(inner?["type"] as? String == "permission_error")
        #expect((inner?["message"] as? String)?.contains("941100") == true)
        #expect(try upstreamRequests(h).isEmpty)
    }

    @Test func promptsThatMentionSQLOrScriptsReachTheModel() throws {
        let h = try Self.harness()
        let prompt = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Explain SELECT * FROM users WHERE id = 1 OR 1=1"},{"role":"user","content":"What does <script>alert(1)</script> do?"}]}"#
        let r = try h.client().postJSON("/v1/chat/completions", prompt, headers: auth())
        #expect(r.status == 200, "\(r.bodyString)")
        #expect(try r.json()["object"] as? String == "chat.completion")

        let anthropic = try h.client().postJSON(
            "/v1/messages",
            #"{"model":"gpt-4o-mini","max_tokens":16,"system":"You explain SQL such as ' OR 1=1--","messages":[{"role":"user","content":[{"type":"text","text":"Is <script>alert(1)</script> an XSS?"}]}]}"#,
            headers: [("x-api-key", GatewayHarness.demoKey), ("anthropic-version", "2023-06-01"), ("Content-Type", "application/json")])
        #expect(anthropic.status == 200, "\(anthropic.bodyString)")
        #expect(try upstreamRequests(h).count == 2)
    }

    @Test func injectionInANonPromptFieldIsBlocked() throws {
        let h = try Self.harness()
        let r = try h.client().postJSON("/v1/chat/completions",
                                        #"{"model":"gpt-4o-mini","user":"1' OR 1=1--","messages":[{"role":"user","content":"hi"}]}"#,
                                        headers: auth())
        #expect(r.status == 403, "\(r.bodyString)")
        #expect(try (r.json()["error"] as? [String: Any])?["code"] as? String == "waf_blocked")
        #expect(try upstreamRequests(h).isEmpty)
    }
}
