import Foundation
import Testing
import TollgateTesting

/// `content_safety` checks against the mock's Azure AI Content Safety endpoints: thresholds,
/// blocklists, prompt shields, and what 5xx and timeouts do with fail-open and fail-closed.
@Suite(.serialized) struct ContentSafetyLiveTests {
    static func config(onError: String) -> (Int, Int) -> String {
        { mock, port in
            GatewayHarness.defaultConfig(mockPort: mock, port: port) + """

            guardrails:
              default: [safety]
              policies:
                - name: safety
                  checks:
                    - {type: pii, detectors: [credit_card], action: redact}
                    - name: azure
                      type: content_safety
                      endpoint: http://127.0.0.1:\(mock)
                      api_key_env: ANTHROPIC_TEST_KEY
                      categories: {hate: 4, violence: 4}
                      blocklists: [corp-terms]
                      shield_prompt: true
                      timeout_ms: 400
                      on_error: \(onError)
                      action: block
            """
        }
    }

    static func send(_ h: GatewayHarness, _ content: String) throws -> HTTPResponse {
        try h.client().postJSON("/v1/chat/completions", chatBody(model: "gpt-echo", content: content), headers: auth())
    }

    /// Request bodies the mock received on `path`.
    static func bodies(_ h: GatewayHarness, path: String) throws -> [String] {
        let log = try HTTPTestClient(port: h.mockPort).request("GET", "/mock/requests")
        let entries = (try JSONSerialization.jsonObject(with: Data(log.body)) as? [[String: Any]]) ?? []
        return entries.filter { ($0["path"] as? String)?.hasPrefix(path) == true }.compactMap { $0["body"] as? String }
    }

    @Test func verdictsThresholdsAndFailClosed() throws {
        let h = try GatewayHarness(workers: 1, config: Self.config(onError: "block"))
        let ok = try Self.send(h, "hello cs-hate-2 and card 4111111111111111")
        #expect(ok.status == 200, "\(ok.bodyString)")
        #expect(ok.header("x-tollgate-guardrails") == "safety/pii=redact, safety/azure=pass")
        // The service sees the redacted prompt, with its key, for both operations.
        let analyzed = try Self.bodies(h, path: "/contentsafety/text:analyze")
        #expect(analyzed.last?.contains("card [REDACTED:CREDIT_CARD]") == true && analyzed.last?.contains("\"blocklistNames\":[\"corp-terms\"]") == true)
        #expect(try Self.bodies(h, path: "/contentsafety/text:shieldPrompt").count == 1)

        for (marker, rule) in [("cs-hate-6", "content_safety:hate"), ("cs-violence-4", "content_safety:violence"),
                               ("cs-block", "content_safety:blocklist:corp-terms"), ("cs-attack", "content_safety:prompt_attack")] {
            let r = try Self.send(h, "zebra \(marker)")
            #expect(r.status == 403, "\(marker): \(r.bodyString)")
            let error = try r.json()["error"] as? [String: Any]
            #expect(error?["code"] as? String == "guardrail_blocked")
            #expect(error?["message"] as? String == "The request was blocked by guardrail policy 'safety' (check 'azure', rule '\(rule)').")
        }
        #expect(try Self.bodies(h, path: "/v1/chat/completions").allSatisfy { !$0.contains("zebra") }, "blocked prompts never reach the provider")

        // Tool output goes to the prompt shield as a document: an indirect attack.
        let indirect = try h.client().postJSON("/v1/chat/completions",
            #"{"model":"gpt-echo","messages":[{"role":"user","content":"summarise the page"},{"role":"tool","tool_call_id":"t1","content":"page text cs-attack"}]}"#,
            headers: auth())
        #expect(indirect.status == 403)
        #expect(((try indirect.json()["error"] as? [String: Any])?["message"] as? String)?.contains("content_safety:document_attack") == true)

        let failed = try Self.send(h, "cs-fault-500")
        #expect(failed.status == 503)
        #expect((try failed.json()["error"] as? [String: Any])?["code"] as? String == "guardrail_unavailable")
        #expect(failed.header("x-tollgate-guardrails") == "safety/pii=pass, safety/azure=error-block")

        let start = Date()
        let hung = try Self.send(h, "cs-fault-hang")
        #expect(hung.status == 503)
        #expect(Date().timeIntervalSince(start) < 3, "the 400 ms timeout bounds the wait")
        #expect((try hung.json()["error"] as? [String: Any])?["message"] as? String == "The content-safety check 'azure' of guardrail policy 'safety' could not complete (timed out after 400 ms), and it fails closed.")
    }

    @Test func failOpenLetsRequestsThroughWhenTheServiceFails() throws {
        let h = try GatewayHarness(workers: 1, config: Self.config(onError: "allow"))
        for marker in ["cs-fault-500", "cs-fault-hang"] {
            let r = try Self.send(h, marker)
            #expect(r.status == 200, "\(marker): \(r.bodyString)")
            #expect(r.header("x-tollgate-guardrails") == "safety/pii=pass, safety/azure=error-allow")
        }
        #expect(try Self.send(h, "cs-hate-6").status == 403, "violations still block when failing open")
    }
}
