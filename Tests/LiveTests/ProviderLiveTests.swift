import Foundation
import Testing
import TollgateTesting

/// OpenAI clients reaching Bedrock (Converse, SigV4) through the gateway.
@Suite struct BedrockLiveTests {
    @Test func signedConverseAndConverseStream() throws {
        let h = try GatewayHarness(workers: 1)
        let r = try h.client().postJSON("/v1/chat/completions", chatBody(model: "bedrock-echo", content: "hello bedrock"), headers: auth())
        #expect(r.status == 200, "\(r.bodyString)")
        let message = (try r.json()["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
        #expect(message?["content"] as? String == "hello bedrock")
        let log = try HTTPTestClient(port: h.mockPort).request("GET", "/mock/requests")
        let sent = try #require((try JSONSerialization.jsonObject(with: Data(log.body)) as? [[String: Any]])?.last)
        #expect(sent["path"] as? String == "/model/anthropic.claude-3-haiku-20240307-v1%3A0%2Becho/converse")
        let headers = (sent["headers"] as? [[String]] ?? []).map { ($0[0].lowercased(), $0[1]) }
        let authorization = headers.first { $0.0 == "authorization" }?.1 ?? ""
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDLIVETEST/"))
        #expect(authorization.contains("/eu-west-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="))
        #expect(!authorization.contains("live-test-secret"))

        let stream = try h.client().startStreaming("POST", "/v1/chat/completions", headers: auth(),
                                                   body: chatBody(model: "bedrock-echo", content: "one two", stream: true, includeUsage: true))
        #expect(stream.header("content-type")?.hasPrefix("text/event-stream") == true)
        let events = try stream.sseEvents()
        #expect(events.last == "[DONE]")
        let chunks = events.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }.joined() == "one two")
        #expect(chunks.last?["usage"] is [String: Any])
    }
}

/// Bedrock with temporary credentials the controller fetched: the EC2 instance role through
/// IMDSv2, ECS/EKS Pod Identity container credentials, and EKS IRSA (STS web identity).
@Suite struct BedrockRoleCredentialsLiveTests {
    @Test(arguments: [("bedrock-instance-role", "ASIAMOCKIMDS"), ("bedrock-pod-identity", "ASIAMOCKCONTAINER"), ("bedrock-irsa", "ASIAMOCKIRSA")])
    func requestsAreSignedWithTheFetchedCredentials(model: String, keyID: String) throws {
        let h = try GatewayHarness(workers: 1)
        let r = try h.client().postJSON("/v1/chat/completions", chatBody(model: model, content: "role based"), headers: auth())
        #expect(r.status == 200, "\(r.bodyString)")
        let log = try HTTPTestClient(port: h.mockPort).request("GET", "/mock/requests")
        let entries = (try JSONSerialization.jsonObject(with: Data(log.body)) as? [[String: Any]]) ?? []
        let sent = try #require(entries.last { ($0["path"] as? String ?? "").hasPrefix("/model/") })
        let headers = (sent["headers"] as? [[String]] ?? []).map { ($0[0].lowercased(), $0[1]) }
        let authorization = headers.first { $0.0 == "authorization" }?.1 ?? ""
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=\(keyID)/"), "\(authorization)")
        #expect(authorization.contains("/us-west-2/bedrock/aws4_request"))
        #expect(authorization.contains("x-amz-security-token"), "the session token is signed")
        #expect(headers.contains { $0 == ("x-amz-security-token", "mock-session-token-" + keyID.lowercased()) })
        if keyID == "ASIAMOCKIMDS" {
            let paths = entries.compactMap { $0["path"] as? String }
            #expect(paths.contains("/latest/api/token") && paths.contains("/latest/meta-data/iam/security-credentials/tollgate-mock-role"),
                    "IMDSv2: a session token first, then the role's credentials")
        }
    }
}

/// OpenAI clients reaching Gemini on Vertex AI: the controller minted a service-account token.
@Suite struct VertexLiveTests {
    @Test func bearerTokenFromTheServiceAccountAndPublisherModelURL() throws {
        let h = try GatewayHarness(workers: 1)
        let r = try h.client().postJSON("/v1/chat/completions", chatBody(model: "vertex-echo", content: "hallo vertex"), headers: auth())
        #expect(r.status == 200, "\(r.bodyString)")
        let message = (try r.json()["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
        #expect(message?["content"] as? String == "hallo vertex")
        let log = try HTTPTestClient(port: h.mockPort).request("GET", "/mock/requests")
        let entries = (try JSONSerialization.jsonObject(with: Data(log.body)) as? [[String: Any]]) ?? []
        #expect(entries.contains { ($0["path"] as? String) == "/token" }, "the token was minted against the key's token_uri")
        let sent = try #require(entries.last)
        #expect(sent["path"] as? String == "/v1/projects/tg-test/locations/europe-west4/publishers/google/models/gemini-2.5-pro%2Becho:generateContent")
        #expect((sent["headers"] as? [[String]] ?? []).contains { $0[0].lowercased() == "authorization" && $0[1].hasPrefix("Bearer ya29.mock-") })
    }
}

/// OpenAI clients reaching Gemini through the gateway.
@Suite struct GeminiLiveTests {
    @Test func completionStreamAndToolCall() throws {
        let h = try GatewayHarness(workers: 1)
        let r = try h.client().postJSON("/v1/chat/completions", chatBody(model: "gemini-echo", content: "hola gemini"), headers: auth())
        #expect(r.status == 200, "\(r.bodyString)")
        let message = (try r.json()["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
        #expect(message?["content"] as? String == "hola gemini")
        #expect(Int(r.header("x-tollgate-input-tokens") ?? "") ?? 0 > 0)
        let log = try HTTPTestClient(port: h.mockPort).request("GET", "/mock/requests")
        let sent = try #require((try JSONSerialization.jsonObject(with: Data(log.body)) as? [[String: Any]])?.last)
        #expect(sent["path"] as? String == "/v1beta/models/gemini-2.5-flash%2Becho:generateContent")
        #expect((sent["headers"] as? [[String]] ?? []).contains { $0[0].lowercased() == "x-goog-api-key" && $0[1] == GatewayHarness.anthropicKey })

        let stream = try h.client().startStreaming("POST", "/v1/chat/completions", headers: auth(),
                                                   body: chatBody(model: "gemini-echo", content: "uno dos tres", stream: true, includeUsage: true))
        let events = try stream.sseEvents()
        #expect(events.last == "[DONE]")
        let chunks = events.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }.joined() == "uno dos tres")
        #expect(chunks.last?["usage"] is [String: Any])

        let tool = try h.client().postJSON("/v1/chat/completions", """
            {"model":"gemini-tool","messages":[{"role":"user","content":"find"}],
             "tools":[{"type":"function","function":{"name":"find","parameters":{"type":"object"}}}]}
            """, headers: auth())
        let choice = (try tool.json()["choices"] as? [[String: Any]])?.first
        #expect(choice?["finish_reason"] as? String == "tool_calls")
    }
}

/// OpenAI clients reaching an Azure OpenAI deployment through the gateway.
@Suite struct AzureOpenAILiveTests {
    @Test func deploymentURLAndAPIKeyHeader() throws {
        let h = try GatewayHarness(workers: 1)
        let r = try h.client().postJSON("/v1/chat/completions", chatBody(model: "azure-chat", content: "hello azure"), headers: auth())
        #expect(r.status == 200, "\(r.bodyString)")
        let message = (try r.json()["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
        #expect(message?["content"] as? String == "hello azure")
        let log = try HTTPTestClient(port: h.mockPort).request("GET", "/mock/requests")
        let sent = try #require((try JSONSerialization.jsonObject(with: Data(log.body)) as? [[String: Any]])?.last)
        #expect(sent["path"] as? String == "/openai/deployments/my-gpt4o-deployment%2Becho/chat/completions?api-version=2024-10-21")
        let headers = (sent["headers"] as? [[String]] ?? []).map { ($0[0].lowercased(), $0[1]) }
        #expect(headers.contains { $0 == ("api-key", GatewayHarness.anthropicKey) })
        #expect(!headers.contains { $0.0 == "authorization" })
    }
}

/// OpenAI clients reaching an Anthropic (Messages API) backend through the gateway; the mock
/// speaks Anthropic's wire format, events and errors.
@Suite struct AnthropicLiveTests {
    @Test func completionStreamToolsAndFallback() throws {
        let h = try GatewayHarness(workers: 1)
        let c = h.client()
        let r = try c.postJSON("/v1/chat/completions",
                               "{\"model\":\"claude-echo\",\"messages\":[{\"role\":\"system\",\"content\":\"be nice\"},{\"role\":\"user\",\"content\":\"bonjour le monde\"}]}",
                               headers: auth())
        #expect(r.status == 200, "\(r.bodyString)")
        let j = try r.json()
        #expect(j["object"] as? String == "chat.completion" && j["model"] as? String == "claude-echo")
        let message = (j["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
        #expect(message?["content"] as? String == "bonjour le monde")
        #expect(r.header("x-tollgate-backend") == "claude/claude-3-5-haiku+echo")
        #expect(((j["usage"] as? [String: Any])?["completion_tokens"] as? Int ?? 0) > 0)

        // What the upstream got: the Messages API, Anthropic's auth, the system prompt hoisted.
        let log = try HTTPTestClient(port: h.mockPort).request("GET", "/mock/requests")
        let entries = (try JSONSerialization.jsonObject(with: Data(log.body)) as? [[String: Any]]) ?? []
        let sent = try #require(entries.last)
        #expect(sent["path"] as? String == "/v1/messages")
        let headers = (sent["headers"] as? [[String]] ?? []).map { ($0[0].lowercased(), $0[1]) }
        #expect(headers.contains { $0 == ("x-api-key", GatewayHarness.anthropicKey) })
        #expect(headers.contains { $0 == ("anthropic-version", "2023-06-01") })
        #expect(!headers.contains { $0.0 == "authorization" })
        let body = (sent["body"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(body?["system"] as? String == "be nice" && body?["max_tokens"] as? Int == 4096)

        let stream = try h.client().startStreaming("POST", "/v1/chat/completions", headers: auth(),
            body: "{\"model\":\"claude-echo\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"one two three\"}]}")
        #expect(stream.status == 200)
        #expect(stream.header("content-type")?.hasPrefix("text/event-stream") == true)
        #expect(stream.header("content-length") == nil)
        let events = try stream.sseEvents()
        #expect(events.last == "[DONE]")
        let chunks = events.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let text = chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }.joined()
        #expect(text == "one two three")
        #expect(chunks.last?["usage"] is [String: Any])

        let tool = try h.client().postJSON("/v1/chat/completions", """
            {"model":"claude-tool","messages":[{"role":"user","content":"search"}],
             "tools":[{"type":"function","function":{"name":"search","parameters":{"type":"object","properties":{"query":{"type":"string"}}}}}]}
            """, headers: auth())
        let choice = (try tool.json()["choices"] as? [[String: Any]])?.first
        #expect(choice?["finish_reason"] as? String == "tool_calls")
        let call = ((choice?["message"] as? [String: Any])?["tool_calls"] as? [[String: Any]])?.first?["function"] as? [String: Any]
        #expect(call?["name"] as? String == "search" && call?["arguments"] as? String == #"{"query":"mock"}"#)

        let fallback = try h.client().postJSON("/v1/chat/completions", chatBody(model: "claude-fallback"), headers: auth())
        #expect(fallback.status == 200)
        #expect(fallback.header("x-tollgate-backend") == "mock/mock-small")

        let refused = try h.client().postJSON("/v1/chat/completions",
            "{\"model\":\"claude-echo\",\"logit_bias\":{\"1\":1},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", headers: auth())
        #expect(refused.status == 400)
        #expect((try refused.json()["error"] as? [String: Any])?["param"] as? String == "logit_bias")
    }
}
