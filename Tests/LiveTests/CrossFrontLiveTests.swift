import Foundation
import Testing
import TollgateTesting

/// The Anthropic front (Claude Code, the Anthropic SDKs) reaching providers that speak
/// neither Anthropic nor OpenAI, and OpenAI embeddings on Google and AWS models.
@Suite struct CrossFrontLiveTests {
    static func messagesBody(model: String, text: String, stream: Bool = false, tools: Bool = false) -> String {
        var body = #"{"model":"\#(model)","max_tokens":256,"system":"be brief","messages":[{"role":"user","content":"\#(text)"}]"#
        if stream { body += #","stream":true"# }
        if tools { body += #","tools":[{"name":"lookup","description":"find a thing","input_schema":{"type":"object","properties":{"q":{"type":"string"}}}}]"# }
        return body + "}"
    }

    /// Anthropic's events, named by their data's `type` (which always equals the `event:` line).
    static func anthropicEvents(_ stream: HTTPStream) throws -> [(event: String, data: [String: Any])] {
        try stream.sseEvents().compactMap { raw in
            guard let object = try? JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any] else { return nil }
            return (object["type"] as? String ?? "", object)
        }
    }

    @Test(arguments: ["gemini-echo", "bedrock-echo", "vertex-echo", "azure-chat", "gpt-echo"])
    func anthropicFrontWholeAndStreamed(model: String) throws {
        let h = try GatewayHarness(workers: 1)
        let r = try h.client().postJSON("/v1/messages", Self.messagesBody(model: model, text: "guten tag"),
                                        headers: auth() + [("anthropic-version", "2023-06-01")])
        #expect(r.status == 200, "\(r.bodyString)")
        let j = try r.json()
        #expect(j["type"] as? String == "message" && j["role"] as? String == "assistant" && j["model"] as? String == model)
        let content = j["content"] as? [[String: Any]]
        #expect(content?.first?["type"] as? String == "text" && content?.first?["text"] as? String == "guten tag")
        #expect(j["stop_reason"] as? String == "end_turn")
        let usage = j["usage"] as? [String: Any]
        #expect((usage?["input_tokens"] as? Int ?? 0) > 0 && (usage?["output_tokens"] as? Int ?? 0) > 0)
        #expect(Double(r.header("x-tollgate-cost-usd") ?? "") != nil || r.header("x-tollgate-input-tokens") != nil)

        let stream = try h.client().startStreaming("POST", "/v1/messages", headers: auth() + [("anthropic-version", "2023-06-01")],
                                                   body: Self.messagesBody(model: model, text: "eins zwei drei", stream: true))
        #expect(stream.status == 200)
        #expect(stream.header("content-type")?.hasPrefix("text/event-stream") == true)
        let events = try Self.anthropicEvents(stream)
        let names = events.map(\.event)
        #expect(names.first == "message_start" && names.last == "message_stop", "\(names)")
        #expect(names.contains("content_block_start") && names.contains("content_block_stop") && names.contains("message_delta"))
        let text = events.filter { $0.event == "content_block_delta" }
            .compactMap { ($0.data["delta"] as? [String: Any])?["text"] as? String }.joined()
        #expect(text == "eins zwei drei")
        let delta = events.first { $0.event == "message_delta" }?.data
        #expect((delta?["delta"] as? [String: Any])?["stop_reason"] as? String == "end_turn")
        #expect(((delta?["usage"] as? [String: Any])?["output_tokens"] as? Int ?? 0) > 0)
    }

    @Test(arguments: ["gemini-tool", "bedrock-tool"])
    func anthropicFrontToolUse(model: String) throws {
        let h = try GatewayHarness(workers: 1)
        let r = try h.client().postJSON("/v1/messages", Self.messagesBody(model: model, text: "find it", tools: true),
                                        headers: auth() + [("anthropic-version", "2023-06-01")])
        #expect(r.status == 200, "\(r.bodyString)")
        let j = try r.json()
        #expect(j["stop_reason"] as? String == "tool_use")
        let use = (j["content"] as? [[String: Any]])?.first { $0["type"] as? String == "tool_use" }
        #expect(use?["name"] as? String == "lookup")
        #expect(use?["input"] is [String: Any])
        #expect((use?["id"] as? String)?.isEmpty == false)
    }

    @Test func anthropicFrontCountTokens() throws {
        let h = try GatewayHarness(workers: 1)
        for model in ["gemini-echo", "vertex-echo", "bedrock-echo"] {
            let r = try h.client().postJSON("/v1/messages/count_tokens",
                                            #"{"model":"\#(model)","system":"be brief","messages":[{"role":"user","content":"count these words please"}]}"#,
                                            headers: auth() + [("anthropic-version", "2023-06-01")])
            #expect(r.status == 200, "\(model): \(r.bodyString)")
            #expect((try r.json()["input_tokens"] as? Int ?? 0) > 0, "\(model)")
        }
        let log = try HTTPTestClient(port: h.mockPort).request("GET", "/mock/requests")
        let paths = ((try JSONSerialization.jsonObject(with: Data(log.body)) as? [[String: Any]]) ?? []).compactMap { $0["path"] as? String }
        #expect(paths.contains("/v1beta/models/gemini-2.5-flash%2Becho:countTokens"))
        #expect(paths.contains("/model/anthropic.claude-3-haiku-20240307-v1%3A0%2Becho/count-tokens"))
    }

    @Test(arguments: ["gemini-embed", "vertex-embed", "titan-embed", "cohere-embed"])
    func embeddingsOnGoogleAndAWS(model: String) throws {
        let h = try GatewayHarness(workers: 1)
        let multi = model != "titan-embed"
        let input = multi ? #"["first text","second text"]"# : #""only text""#
        let r = try h.client().postJSON("/v1/embeddings", #"{"model":"\#(model)","input":\#(input)}"#, headers: auth())
        #expect(r.status == 200, "\(model): \(r.bodyString)")
        let j = try r.json()
        #expect(j["object"] as? String == "list" && j["model"] as? String == model)
        let data = j["data"] as? [[String: Any]] ?? []
        #expect(data.count == (multi ? 2 : 1))
        #expect(data.first?["object"] as? String == "embedding" && data.first?["index"] as? Int == 0)
        let vector = data.first?["embedding"] as? [Double] ?? []
        #expect(vector.count > 0)
        let norm = vector.reduce(0) { $0 + $1 * $1 }
        #expect(abs(norm - 1) < 0.01, "the mock's vectors are unit length: \(norm)")
        #expect(((j["usage"] as? [String: Any])?["prompt_tokens"] as? Int ?? 0) > 0)
        #expect(Int(r.header("x-tollgate-input-tokens") ?? "") ?? 0 > 0)

        // The OpenAI Python SDK asks for base64 by default: little-endian float32s.
        let b64 = try h.client().postJSON("/v1/embeddings", #"{"model":"\#(model)","input":\#(input),"encoding_format":"base64"}"#, headers: auth())
        let encoded = (try b64.json()["data"] as? [[String: Any]])?.first?["embedding"] as? String ?? ""
        let bytes = [UInt8](Data(base64Encoded: encoded) ?? Data())
        #expect(bytes.count == vector.count * 4)
        if bytes.count >= 4 {
            let first = Float(bitPattern: UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24)
            #expect(abs(Double(first) - vector[0]) < 1e-6)
        }
    }

    @Test func embeddingsThatCannotBeTranslatedAreRefused() throws {
        let h = try GatewayHarness(workers: 1)
        let tokens = try h.client().postJSON("/v1/embeddings", #"{"model":"gemini-embed","input":[1,2,3]}"#, headers: auth())
        #expect(tokens.status == 400)
        #expect((try tokens.json()["error"] as? [String: Any])?["param"] as? String == "input")
        let titanBatch = try h.client().postJSON("/v1/embeddings", #"{"model":"titan-embed","input":["a","b"]}"#, headers: auth())
        #expect(titanBatch.status == 400)
        #expect((try titanBatch.json()["error"] as? [String: Any])?["param"] as? String == "input")
        let dims = try h.client().postJSON("/v1/embeddings", #"{"model":"titan-embed","input":"a","dimensions":300}"#, headers: auth())
        #expect(dims.status == 400, "Bedrock's validation error is relayed: \(dims.bodyString)")
        let message = (try dims.json()["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message.contains("Upstream (bedrock)"))
    }

    @Test func theCatalogRefusesChatOnAnEmbeddingsModel() throws {
        let h = try GatewayHarness(workers: 1)
        let before = try HTTPTestClient(port: h.mockPort).request("GET", "/mock/requests")
        let r = try h.client().postJSON("/v1/chat/completions", chatBody(model: "text-embedding-3-small"), headers: auth())
        #expect(r.status == 400)
        let error = try r.json()["error"] as? [String: Any]
        #expect(error?["code"] as? String == "model_not_supported" && error?["param"] as? String == "model")
        let after = try HTTPTestClient(port: h.mockPort).request("GET", "/mock/requests")
        #expect(before.body == after.body, "the provider is not called")
        let fine = try h.client().postJSON("/v1/embeddings", #"{"model":"text-embedding-3-small","input":"x"}"#, headers: auth())
        #expect(fine.status == 200)
    }
}

/// `limits.max_response_collect_bytes`: what happens to a non-streamed answer too large to hold.
@Suite struct ResponseCollectCapLiveTests {
    @Test func tooLargeIsRelayedWhenAlreadyInTheClientsFormatElse502() throws {
        let h = try GatewayHarness(workers: 1, extraLimits: "  max_response_collect_bytes: 64KiB")
        // 40 inputs × 3072 dimensions: about a megabyte of JSON.
        let inputs = (0..<40).map { "\"text \($0)\"" }.joined(separator: ",")
        let big = try h.client().postJSON("/v1/embeddings", #"{"model":"text-embedding-3-small","input":[\#(inputs)],"dimensions":3072}"#, headers: auth())
        #expect(big.status == 200)
        #expect(big.body.count > 64 * 1024)
        let data = try big.json()["data"] as? [[String: Any]]
        #expect(data?.count == 40 && (data?.last?["embedding"] as? [Double])?.count == 3072, "relayed intact")
        #expect(big.header("x-tollgate-input-tokens") == nil, "no usage for what was not read")

        let translated = try h.client().postJSON("/v1/embeddings", #"{"model":"gemini-embed","input":[\#(inputs)],"dimensions":3072}"#, headers: auth())
        #expect(translated.status == 502)
        #expect((try translated.json()["error"] as? [String: Any])?["code"] as? String == "upstream_response_too_large")

        let small = try h.client().postJSON("/v1/embeddings", #"{"model":"text-embedding-3-small","input":"x"}"#, headers: auth())
        #expect(small.status == 200 && small.header("x-tollgate-input-tokens") != nil, "under the cap, usage as usual")
    }
}
