import NIOCore
import NIOHTTP1

/// Bedrock's `InvokeModel` for embedding models and its `CountTokens`:
/// - `/model/{id}/invoke` on a Cohere Embed id (`{"texts":[…],"input_type"}` →
///   `{"embeddings":[[…]],"id","response_type":"embeddings_floats","texts"}`) or an Amazon Titan
///   embeddings id (`{"inputText","dimensions"}` → `{"embedding":[…],"inputTextTokenCount"}`),
///   with the token count also in `x-amzn-bedrock-input-token-count` as Bedrock sends it;
/// - `/model/{id}/count-tokens` (`{"input":{"converse":{"messages","system"}}}` →
///   `{"inputTokens"}`).
enum BedrockInvokeEndpoint {
    static func invoke(_ view: JSONView, model: String) -> MockReply {
        guard let root = try? view.root() else { return BedrockConverseEndpoint.error(.badRequest, "ValidationException", "Malformed input request.") }
        if model.contains("cohere.embed") {
            let texts = view.elements(view.member("texts", of: root)).compactMap { view.string($0) }
            guard !texts.isEmpty else {
                return BedrockConverseEndpoint.error(.badRequest, "ValidationException", "Malformed input request: #: required key [texts] not found")
            }
            var b = ByteBuffer()
            b.writeStaticString("{\"embeddings\":[")
            var tokens = 0
            for (i, text) in texts.enumerated() {
                if i > 0 { b.writeStaticString(",") }
                EmbeddingVector.writeFloats(EmbeddingVector.vector(seed: EmbeddingVector.seed(text: text), dimensions: 1024), into: &b)
                tokens += MockText.estimatedTokens(byteCount: text.utf8.count)
            }
            b.writeStaticString("],\"id\":\"mock-embed\",\"response_type\":\"embeddings_floats\",\"texts\":[")
            for (i, text) in texts.enumerated() {
                if i > 0 { b.writeStaticString(",") }
                b.writeJSONString(text)
            }
            b.writeStaticString("]}")
            return .json(.ok, b, headers: [("x-amzn-bedrock-input-token-count", String(tokens))])
        }
        guard let text = view.string(view.member("inputText", of: root)), !text.isEmpty else {
            return BedrockConverseEndpoint.error(.badRequest, "ValidationException", "Malformed input request: #: required key [inputText] not found")
        }
        let dimensions = view.int(view.member("dimensions", of: root)) ?? 1024
        guard [256, 512, 1024].contains(dimensions) else {
            return BedrockConverseEndpoint.error(.badRequest, "ValidationException", "Malformed input request: #/dimensions: \(dimensions) is not a valid enum value")
        }
        let tokens = MockText.estimatedTokens(byteCount: text.utf8.count)
        var b = ByteBuffer()
        b.writeStaticString("{\"embedding\":")
        EmbeddingVector.writeFloats(EmbeddingVector.vector(seed: EmbeddingVector.seed(text: text), dimensions: dimensions), into: &b)
        b.writeStaticString(",\"inputTextTokenCount\":")
        b.writeJSONInt(tokens)
        b.writeStaticString("}")
        return .json(.ok, b, headers: [("x-amzn-bedrock-input-token-count", String(tokens))])
    }

    static func countTokens(_ view: JSONView) -> MockReply {
        guard let root = try? view.root() else { return BedrockConverseEndpoint.error(.badRequest, "ValidationException", "Malformed input request.") }
        let converse = view.object(view.member("converse", of: view.object(view.member("input", of: root))))
        let messages = view.elements(view.member("messages", of: converse))
        guard !messages.isEmpty else {
            return BedrockConverseEndpoint.error(.badRequest, "ValidationException", "The input must contain converse.messages.")
        }
        var bytes = 0
        for message in messages {
            bytes += view.joinedText(of: view.member("content", of: view.object(message)), typed: false).utf8.count
        }
        bytes += view.joinedText(of: view.member("system", of: converse), typed: false).utf8.count
        var b = ByteBuffer()
        b.writeStaticString("{\"inputTokens\":")
        b.writeJSONInt(max(1, MockText.estimatedTokens(byteCount: bytes)))
        b.writeStaticString("}")
        return .json(.ok, b)
    }
}
