import Foundation
import NIOCore
import NIOHTTP1
import Testing
@testable import Worker

/// Golden tests for the pieces that let any front reach any provider: translator chains
/// (Gemini/Bedrock → OpenAI → Anthropic), embeddings requests and responses, count_tokens.
@Suite struct CrossFrontTranslationTests {
    static let geminiStream = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\"}]}}],\"responseId\":\"r9\"}\r\n\r\n"
        + "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"lo\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":7,\"candidatesTokenCount\":2}}\r\n\r\n"

    static func chain() -> TranslatorChain {
        TranslatorChain(GeminiResponseTranslator(publicModel: "claude-on-gemini", includeUsage: true, price: nil),
                        then: OpenAIToAnthropicResponse(publicModel: "claude-on-gemini", price: nil))
    }

    static func eventTypes(_ text: String) -> [String] {
        text.split(separator: "\n").filter { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
    }

    @Test func geminiStreamBecomesAnthropicEventsWhateverTheChunking() throws {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/event-stream")
        var reference: String?
        // Whole, and one byte at a time: the chain must not depend on where reads split.
        for size in [Self.geminiStream.utf8.count, 1, 7] {
            let t = Self.chain()
            guard case .stream(let contentType) = t.mode(status: 200, headers: headers) else {
                Issue.record("a Gemini SSE stream is streamed through the chain")
                return
            }
            #expect(contentType.hasPrefix("text/event-stream"))
            var out: [UInt8] = []
            let bytes = Array(Self.geminiStream.utf8)
            var i = 0
            while i < bytes.count {
                out += t.translateChunk(ByteBuffer(bytes: bytes[i..<min(i + size, bytes.count)]))
                i += size
            }
            out += t.finishStream()
            let text = String(decoding: out, as: UTF8.self)
            #expect(Self.eventTypes(text) == ["message_start", "content_block_start", "content_block_delta", "content_block_delta",
                                              "content_block_stop", "message_delta", "message_stop"], "\(text)")
            #expect(text.contains(#""delta":{"type":"text_delta","text":"Hel"}"#) && text.contains(#""text":"lo""#))
            #expect(text.contains(#""stop_reason":"end_turn""#))
            #expect(text.contains(#""output_tokens":2"#))
            #expect(!text.contains("[DONE]"), "OpenAI's terminator never reaches an Anthropic client")
            #expect(t.usage == Usage(promptTokens: 7, completionTokens: 2, cachedTokens: 0))
            if let reference { #expect(text.replacingOccurrences(of: "\r", with: "") == reference) } else { reference = text.replacingOccurrences(of: "\r", with: "") }
        }
    }

    @Test func wholeResponsesAndErrorsGoThroughBothTranslations() throws {
        let t = Self.chain()
        #expect({ if case .buffered = t.mode(status: 200, headers: HTTPHeaders()) { return true }; return false }())
        let body = #"{"candidates":[{"content":{"parts":[{"text":"Hi"}]},"finishReason":"MAX_TOKENS"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1}}"#
        let (status, out) = t.translateWhole(status: 200, body: Array(body.utf8))
        #expect(status == 200)
        let j = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])
        #expect(j["type"] as? String == "message" && j["stop_reason"] as? String == "max_tokens")
        #expect((j["content"] as? [[String: Any]])?.first?["text"] as? String == "Hi")

        let e = Self.chain()
        let (errorStatus, errorBody) = e.translateWhole(status: 429, body: Array(#"{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}"#.utf8))
        #expect(errorStatus == 429)
        let ej = try #require(try JSONSerialization.jsonObject(with: Data(errorBody)) as? [String: Any])
        #expect(ej["type"] as? String == "error")
        let message = (ej["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message.contains("quota"))
    }

    @Test func embeddingsInputParsing() throws {
        let one = try EmbeddingsInput.parse(Array(#"{"model":"m","input":"hi"}"#.utf8), providerKind: "gemini").get()
        #expect(one == EmbeddingsInput(texts: ["hi"], dimensions: nil, base64: false))
        let many = try EmbeddingsInput.parse(Array(#"{"model":"m","input":["a","b"],"dimensions":64,"encoding_format":"base64","user":"u"}"#.utf8), providerKind: "gemini").get()
        #expect(many == EmbeddingsInput(texts: ["a", "b"], dimensions: 64, base64: true))
        for (body, param) in [(#"{"input":[[1,2]]}"#, "input"), (#"{"input":[1,2]}"#, "input"), (#"{"input":[]}"#, "input"),
                              (#"{"input":""}"#, "input"), (#"{"input":"x","dimensions":0}"#, "dimensions"),
                              (#"{"input":"x","encoding_format":"int8"}"#, "encoding_format"), (#"{"input":"x","truncate":true}"#, "truncate")] {
            guard case .failure(let error) = EmbeddingsInput.parse(Array(body.utf8), providerKind: "bedrock") else {
                Issue.record("\(body) must be refused")
                continue
            }
            #expect(error.status == 400 && error.param == param, "\(body)")
        }
    }

    @Test func embeddingsWriterMatchesOpenAIsEncodings() throws {
        let vectors: [[Double]] = [[0.5, -0.25], [1, 0]]
        let floats = OpenAIEmbeddingsWriter.body(vectors: vectors, model: "emb", promptTokens: 4, base64: false)
        let j = try #require(try JSONSerialization.jsonObject(with: Data(floats)) as? [String: Any])
        #expect(j["object"] as? String == "list" && j["model"] as? String == "emb")
        #expect((j["data"] as? [[String: Any]])?[1]["index"] as? Int == 1)
        #expect((j["data"] as? [[String: Any]])?[0]["embedding"] as? [Double] == [0.5, -0.25])
        #expect((j["usage"] as? [String: Any])?["total_tokens"] as? Int == 4)
        // 0.5 = 0x3F000000, -0.25 = 0xBE800000, little-endian.
        #expect(OpenAIEmbeddingsWriter.encodeBase64([0.5, -0.25]) == Data([0, 0, 0, 0x3F, 0, 0, 0x80, 0xBE]).base64EncodedString())
    }

    @Test func providerEmbeddingBodies() throws {
        let input = EmbeddingsInput(texts: ["a", "b"], dimensions: 8, base64: false)
        let studio = try #require(try JSONSerialization.jsonObject(with: Data(GeminiEmbeddings.body(input, upstreamModel: "gemini-embedding-001", vertex: false).get())) as? [String: Any])
        let requests = studio["requests"] as? [[String: Any]]
        #expect(requests?.count == 2 && requests?[0]["model"] as? String == "models/gemini-embedding-001" && requests?[1]["outputDimensionality"] as? Int == 8)
        let vertex = try #require(try JSONSerialization.jsonObject(with: Data(GeminiEmbeddings.body(input, upstreamModel: "x", vertex: true).get())) as? [String: Any])
        #expect((vertex["instances"] as? [[String: Any]])?[1]["content"] as? String == "b")
        #expect((vertex["parameters"] as? [String: Any])?["outputDimensionality"] as? Int == 8)

        #expect(BedrockEmbeddings.family("us.cohere.embed-multilingual-v3") == .cohere)
        #expect(BedrockEmbeddings.family("amazon.titan-embed-text-v2:0") == .titan)
        let titan = try BedrockEmbeddings.body(EmbeddingsInput(texts: ["a"], dimensions: 256, base64: false), modelID: "amazon.titan-embed-text-v2:0").get()
        #expect(String(decoding: titan, as: UTF8.self).contains("\"inputText\":\"a\""))
        guard case .failure(let e) = BedrockEmbeddings.body(input, modelID: "amazon.titan-embed-text-v2:0") else {
            Issue.record("Titan takes one text per call")
            return
        }
        #expect(e.param == "input")

        var headers = HTTPHeaders()
        headers.add(name: "x-amzn-bedrock-input-token-count", value: "12")
        let cohere = TranslationHarness.extract(BedrockEmbeddings.extract(modelID: "cohere.embed-english-v3"), #"{"embeddings":[[0.1,0.2]]}"#, headers)
        #expect(cohere?.vectors == [[0.1, 0.2]] && cohere?.tokens == 12)
        let vertexOut = TranslationHarness.extract(GeminiEmbeddings.extract(vertex: true), #"{"predictions":[{"embeddings":{"values":[1.0],"statistics":{"token_count":3}}}]}"#)
        #expect(vertexOut?.tokens == 3)
    }

    @Test func countTokensAnswersInAnthropicsShape() throws {
        let t = CountTokensTranslator(providerKind: "gemini", field: "totalTokens")
        #expect(String(decoding: t.translateWhole(status: 200, body: Array(#"{"totalTokens":31}"#.utf8)).body, as: UTF8.self) == #"{"input_tokens":31}"#)
        let missing = t.translateWhole(status: 200, body: Array("{}".utf8))
        #expect(missing.status == 502)
        let body = try #require(CountTokensTranslator.messagesBody(Array(#"{"model":"m","messages":[]}"#.utf8)))
        #expect((try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["max_tokens"] as? Int == 1)
    }
}
