import NIOCore
import NIOHTTP1

/// Google's embedding and counting methods: AI Studio's `batchEmbedContents`
/// (`{"requests":[{"model","content":{"parts":[{"text"}]},"outputDimensionality"}]}` →
/// `{"embeddings":[{"values":[…]}]}`), Vertex AI's `predict` on an embedding model
/// (`{"instances":[{"content"}],"parameters":{"outputDimensionality"}}` →
/// `{"predictions":[{"embeddings":{"values","statistics":{"token_count","truncated"}}}]}`), and
/// `countTokens` in both shapes (AI Studio wraps the request in `generateContentRequest`).
/// Vectors are the same deterministic ones the OpenAI endpoint returns for the same text.
enum GeminiEmbedEndpoint {
    static let defaultDimensions = EmbeddingsRequest.defaultDimensions

    static func batchEmbed(_ view: JSONView) -> MockReply {
        guard let root = try? view.root() else { return invalid("Invalid JSON payload received.") }
        let requests = view.elements(view.member("requests", of: root))
        guard !requests.isEmpty else { return invalid("* BatchEmbedContentsRequest.requests: requests is not specified") }
        var b = ByteBuffer()
        b.writeStaticString("{\"embeddings\":[")
        for (i, request) in requests.enumerated() {
            let object = view.object(request)
            let parts = view.member("parts", of: view.object(view.member("content", of: object)))
            let text = view.joinedText(of: parts, typed: false)
            guard !text.isEmpty else { return invalid("* BatchEmbedContentsRequest.requests[\(i)].content: contents is not specified") }
            let dimensions = view.int(view.member("outputDimensionality", of: object)) ?? defaultDimensions
            guard (1...EmbeddingsRequest.maxDimensions).contains(dimensions) else { return invalid("outputDimensionality must be between 1 and \(EmbeddingsRequest.maxDimensions).") }
            if i > 0 { b.writeStaticString(",") }
            b.writeStaticString("{\"values\":")
            EmbeddingVector.writeFloats(EmbeddingVector.vector(seed: EmbeddingVector.seed(text: text), dimensions: dimensions), into: &b)
            b.writeStaticString("}")
        }
        b.writeStaticString("]}")
        return .json(.ok, b)
    }

    static func predict(_ view: JSONView) -> MockReply {
        guard let root = try? view.root() else { return invalid("Invalid JSON payload received.") }
        let instances = view.elements(view.member("instances", of: root))
        guard !instances.isEmpty else { return invalid("instances is required.") }
        let parameters = view.object(view.member("parameters", of: root))
        let dimensions = view.int(view.member("outputDimensionality", of: parameters)) ?? defaultDimensions
        guard (1...EmbeddingsRequest.maxDimensions).contains(dimensions) else { return invalid("outputDimensionality must be between 1 and \(EmbeddingsRequest.maxDimensions).") }
        var b = ByteBuffer()
        b.writeStaticString("{\"predictions\":[")
        var characters = 0
        for (i, instance) in instances.enumerated() {
            guard let text = view.string(view.member("content", of: view.object(instance))), !text.isEmpty else {
                return invalid("instances[\(i)].content is required.")
            }
            characters += text.count
            if i > 0 { b.writeStaticString(",") }
            b.writeStaticString("{\"embeddings\":{\"statistics\":{\"truncated\":false,\"token_count\":")
            b.writeJSONInt(MockText.estimatedTokens(byteCount: text.utf8.count))
            b.writeStaticString("},\"values\":")
            EmbeddingVector.writeFloats(EmbeddingVector.vector(seed: EmbeddingVector.seed(text: text), dimensions: dimensions), into: &b)
            b.writeStaticString("}}")
        }
        b.writeStaticString("],\"metadata\":{\"billableCharacterCount\":")
        b.writeJSONInt(characters)
        b.writeStaticString("}}")
        return .json(.ok, b)
    }

    /// `countTokens`: the prompt's tokens by the mock's rule (a token per four bytes of text).
    static func countTokens(_ view: JSONView, vertex: Bool) -> MockReply {
        guard let root = try? view.root() else { return invalid("Invalid JSON payload received.") }
        let request = vertex ? root : view.object(view.member("generateContentRequest", of: root))
        let contents = view.elements(view.member("contents", of: request))
        guard !contents.isEmpty else { return invalid("* CountTokensRequest.contents: contents is not specified") }
        var bytes = 0
        for content in contents {
            bytes += view.joinedText(of: view.member("parts", of: view.object(content)), typed: false).utf8.count
        }
        let system = view.member("parts", of: view.object(view.member("systemInstruction", of: request)))
        bytes += view.joinedText(of: system, typed: false).utf8.count
        var b = ByteBuffer()
        b.writeStaticString("{\"totalTokens\":")
        b.writeJSONInt(max(1, MockText.estimatedTokens(byteCount: bytes)))
        b.writeStaticString("}")
        return .json(.ok, b)
    }

    private static func invalid(_ message: String) -> MockReply {
        GeminiError(status: .badRequest, code: "INVALID_ARGUMENT", message: message).reply
    }
}
