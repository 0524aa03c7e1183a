import Foundation
import Testing
import TollgateCore
@testable import MockProvider

/// The other wire formats the mock speaks, so the gateway's adapters have an upstream.
@Suite struct ProviderDialectTests {
    @Test func anthropicMessagesPlainStreamedAndErrors() throws {
        try withMockServer { server throws in
            let body = #"{"model":"claude-3-5-haiku+echo","max_tokens":100,"messages":[{"role":"user","content":"bonjour le monde"}]}"#
            let r = try server.exchange("POST", "/v1/messages", body: body)
            #expect(r.status == 200)
            let j = try r.json()
            #expect(j["type"] as? String == "message" && j["model"] as? String == "claude-3-5-haiku" && j["stop_reason"] as? String == "end_turn")
            #expect(((j["content"] as? [[String: Any]])?.first?["text"] as? String) == "bonjour le monde")
            #expect((j["usage"] as? [String: Any])?["output_tokens"] as? Int == 3)

            let streamed = try server.exchange("POST", "/v1/messages", body: String(body.dropLast()) + #","stream":true}"#)
            let names = streamed.text.components(separatedBy: "\n\n").compactMap { $0.split(separator: "\n").first }
                .filter { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
            #expect(names == ["message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
                              "content_block_delta", "content_block_stop", "message_delta", "message_stop"])

            let short = try server.exchange("POST", "/v1/messages", body: #"{"model":"c","max_tokens":2,"messages":[{"role":"user","content":"x"}]}"#)
            #expect(try short.json()["stop_reason"] as? String == "max_tokens")
            let overloaded = try server.exchange("POST", "/v1/messages", body: #"{"model":"c+fault=503","max_tokens":2,"messages":[{"role":"user","content":"x"}]}"#)
            #expect(overloaded.status == 529)
            #expect(((try overloaded.json()["error"] as? [String: Any])?["type"] as? String) == "overloaded_error")
            let missing = try server.exchange("POST", "/v1/messages", body: #"{"model":"c","messages":[{"role":"user","content":"x"}]}"#)
            #expect(missing.status == 400)
            #expect(try missing.json()["type"] as? String == "error")
            #expect(try server.exchange("POST", "/v1/messages/count_tokens", body: body).json()["input_tokens"] as? Int == body.utf8.count / 4)
        }
    }

    @Test func anthropicToolUse() throws {
        try withMockServer { server throws in
            let body = #"{"model":"c+tool","max_tokens":100,"tools":[{"name":"search","input_schema":{}}],"messages":[{"role":"user","content":"q"}]}"#
            let j = try server.exchange("POST", "/v1/messages", body: body).json()
            #expect(j["stop_reason"] as? String == "tool_use")
            let tool = (j["content"] as? [[String: Any]])?.last
            #expect(tool?["type"] as? String == "tool_use" && tool?["name"] as? String == "search")
            #expect(tool?["input"] as? [String: String] == ["query": "mock"])
        }
    }

    @Test func geminiGenerateAndStream() throws {
        try withMockServer { server throws in
            let body = #"{"contents":[{"role":"user","parts":[{"text":"hola gemini"}]}]}"#
            let r = try server.exchange("POST", "/v1beta/models/gemini-2.5-flash%2Becho:generateContent", body: body)
            #expect(r.status == 200)
            let candidate = (try r.json()["candidates"] as? [[String: Any]])?.first
            #expect(((candidate?["content"] as? [String: Any])?["parts"] as? [[String: Any]])?.first?["text"] as? String == "hola gemini")
            #expect(candidate?["finishReason"] as? String == "STOP")

            let s = try server.exchange("POST", "/v1beta/models/gemini-2.5-flash%2Becho:streamGenerateContent?alt=sse", body: body)
            #expect(s.header("content-type") == "text/event-stream")
            let events = s.text.components(separatedBy: "\r\n\r\n").filter { $0.hasPrefix("data: ") }
            #expect(events.count == 3)
            #expect(events.last?.contains("usageMetadata") == true && !s.text.contains("[DONE]"))

            let array = try server.exchange("POST", "/v1beta/models/g:streamGenerateContent", body: body)
            #expect((try JSONSerialization.jsonObject(with: Data(array.body)) as? [Any])?.count == 17, "16 tokens and the final response")

            let log = try server.exchange("GET", "/mock/requests")
            #expect(log.text.contains(#""model":"gemini-2.5-flash+echo""#))
        }
    }

    @Test func vertexNeedsATokenFromTheOAuthEndpoint() throws {
        try withMockServer { server throws in
            let path = "/v1/projects/p/locations/europe-west4/publishers/google/models/gemini-2.5-pro%2Becho:generateContent"
            let body = #"{"contents":[{"role":"user","parts":[{"text":"hallo"}]}]}"#
            #expect(try server.exchange("POST", path, body: body).status == 401)

            func segment(_ json: String) -> String {
                Data(json.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
                    .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            }
            let exp = Int(Date().timeIntervalSince1970) + 600
            let jwt = segment(#"{"alg":"RS256","typ":"JWT"}"#) + "." + segment(#"{"iss":"sa@p","aud":"t","scope":"s","exp":\#(exp)}"#) + ".sig"
            let form = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(jwt)"
            let token = try server.exchange("POST", "/token", body: form, headers: [("Content-Type", "application/x-www-form-urlencoded")])
            #expect(token.status == 200)
            let accessToken = try #require(try token.json()["access_token"] as? String)
            #expect(accessToken.hasPrefix("ya29.mock-"))
            let r = try server.exchange("POST", path, body: body, headers: [("Authorization", "Bearer \(accessToken)")])
            #expect(r.status == 200 && r.text.contains("hallo"))

            let expired = segment(#"{"alg":"RS256"}"#) + "." + segment(#"{"iss":"a","aud":"b","scope":"c","exp":1}"#) + ".sig"
            let denied = try server.exchange("POST", "/token", body: "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(expired)")
            #expect(denied.status == 400)
            #expect(try denied.json()["error"] as? String == "invalid_grant")
        }
    }

    @Test func bedrockConverseNeedsSigV4AndStreamsEventFrames() throws {
        try withMockServer { server throws in
            let body = #"{"messages":[{"role":"user","content":[{"text":"hello bedrock"}]}],"inferenceConfig":{"maxTokens":50}}"#
            let path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0%2Becho/converse"
            #expect(try server.exchange("POST", path, body: body).status == 403)
            let auth = [("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=x"),
                        ("X-Amz-Date", "20250101T000000Z")]
            let r = try server.exchange("POST", path, body: body, headers: auth)
            #expect(r.status == 200)
            let message = (try r.json()["output"] as? [String: Any])?["message"] as? [String: Any]
            #expect(((message?["content"] as? [[String: Any]])?.first?["text"] as? String) == "hello bedrock")

            let s = try server.exchange("POST", "/model/anthropic.claude-3-haiku-20240307-v1%3A0%2Becho/converse-stream", body: body, headers: auth)
            #expect(s.header("content-type") == "application/vnd.amazon.eventstream")
            var decoder = EventStreamDecoder()
            let frames = try decoder.feed(s.body)
            #expect(frames.compactMap { $0.headers[":event-type"] } ==
                    ["messageStart", "contentBlockDelta", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"])
            let throttled = try server.exchange("POST", "/model/m%2Bfault%3D429/converse", body: body, headers: auth)
            #expect(throttled.status == 429 && throttled.header("x-amzn-ErrorType") == "ThrottlingException")
        }
    }

    @Test func azureDeploymentsServeChatAndEmbeddings() throws {
        try withMockServer { server throws in
            let chat = try server.exchange("POST", "/openai/deployments/my-deployment%2Becho/chat/completions?api-version=2024-10-21",
                                           body: #"{"messages":[{"role":"user","content":"hello azure"}]}"#)
            #expect(chat.status == 200)
            let j = try chat.json()
            #expect(j["model"] as? String == "my-deployment")
            #expect((firstChoice(j)?["message"] as? [String: Any])?["content"] as? String == "hello azure")
            let embeddings = try server.exchange("POST", "/openai/deployments/emb/embeddings?api-version=2024-10-21", body: #"{"input":"x"}"#)
            #expect(embeddings.status == 200)
            #expect(try server.exchange("POST", "/openai/deployments/d/chat/completions", body: "{}").status == 404, "api-version is required")
        }
    }
}

@Suite struct MockProviderMainTests {
    @Test func bannerIsTheLineParentsParse() {
        #expect(MockProviderMain.banner(host: "127.0.0.1", port: 8081) == "mock-provider listening on http://127.0.0.1:8081")
        #expect(MockProviderMain.banner(host: "::1", port: 9) == "mock-provider listening on http://[::1]:9")
    }
}
