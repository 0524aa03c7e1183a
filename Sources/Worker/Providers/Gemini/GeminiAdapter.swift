import Config
import TollgateCore

/// Google Gemini (AI Studio API key): `POST {base}/v1beta/models/{model}:generateContent`, or
/// `:streamGenerateContent?alt=sse` for streams, authenticated with `x-goog-api-key`. Chat from
/// either front (the Anthropic front through the OpenAI shape, `OpenAIShapedRequest`),
/// embeddings (`:batchEmbedContents`) and Anthropic's count_tokens (`:countTokens`).
///
/// With `vertex` settings the same wire formats go to Vertex AI's publisher-model URL,
/// `/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:…`, with the bearer token the
/// controller minted; embeddings there are `:predict`.
struct GeminiAdapter: ProviderAdapter {
    var vertex: GatewayConfig.VertexSettings? = nil

    private var kind: String { vertex == nil ? "gemini" : "vertex" }

    func upstreamRequest(for request: ProxyExchange.Request, backend: CompiledBackend) -> Result<UpstreamRequest, GatewayError> {
        switch request.endpoint {
        case .embeddings:
            let method = vertex == nil ? "batchEmbedContents" : "predict"
            return request.body.withUnsafeReadableBytes { EmbeddingsInput.parse($0, providerKind: kind) }
                .flatMap { GeminiEmbeddings.body($0, upstreamModel: backend.model, vertex: vertex != nil) }
                .map { UpstreamRequest(path: path(backend, method), headers: [], body: $0) }
        case .countTokens:
            guard let messages = CountTokensTranslator.messagesBody(request.body) else {
                return .failure(.badRequest("The request body is not a JSON object.", code: "invalid_json"))
            }
            return AnthropicToOpenAIRequest.translate(messages, upstreamModel: backend.model)
                .flatMap { ChatRequest.decode($0) }
                .flatMap { (chat: ChatRequest) -> Result<UpstreamRequest, GatewayError> in
                    var b = JSONBuilder(capacity: chat.body.readableBytes + 128)
                    b.beginObject()
                    let error: GatewayError? = chat.withBytes { (raw: UnsafeRawBufferPointer) -> GatewayError? in
                        if vertex != nil {
                            // Vertex's CountTokensRequest takes the content fields at the top level.
                            return GeminiRequestTranslator.write(chat, raw, into: &b, sections: .prompt)
                        }
                        b.key("generateContentRequest")
                        b.beginObject()
                        b.key("model")
                        b.string("models/" + backend.model)
                        let error = GeminiRequestTranslator.write(chat, raw, into: &b, sections: .all)
                        b.endObject()
                        return error
                    }
                    b.endObject()
                    if let error { return .failure(error) }
                    return .success(UpstreamRequest(path: path(backend, "countTokens"), headers: [], body: b.bytes))
                }
        case .chatCompletions, .messages:
            return OpenAIShapedRequest.chatRequest(request, backend: backend, providerKind: kind)
                .flatMap { GeminiRequestTranslator.translate($0) }
                .map { UpstreamRequest(path: path(backend, request.stream ? "streamGenerateContent?alt=sse" : "generateContent"), headers: [], body: $0) }
        }
    }

    func responseTranslator(for request: ProxyExchange.Request, backend: CompiledBackend) -> (any ResponseTranslator)? {
        switch request.endpoint {
        case .embeddings:
            guard case .success(let input) = request.body.withUnsafeReadableBytes({ EmbeddingsInput.parse($0, providerKind: kind) }) else { return nil }
            return EmbeddingsTranslator(providerKind: kind, publicModel: request.publicModel, input: input, price: backend.price,
                                        extract: GeminiEmbeddings.extract(vertex: vertex != nil))
        case .countTokens:
            return CountTokensTranslator(providerKind: kind, field: "totalTokens")
        case .chatCompletions, .messages:
            return OpenAIShapedRequest.responseTranslator(request, backend: backend) { includeUsage in
                GeminiResponseTranslator(publicModel: request.publicModel, includeUsage: includeUsage, price: backend.price,
                                         maxLineBytes: request.streamLimits.maxSSELineBytes)
            }
        }
    }

    /// `{prefix}{model}:{method}` where the prefix is AI Studio's or Vertex AI's.
    private func path(_ backend: CompiledBackend, _ method: String) -> String {
        let model = URIComponent.encode(backend.model)
        let prefix = vertex.map { "/v1/projects/\(URIComponent.encode($0.project))/locations/\(URIComponent.encode($0.location))/publishers/google/models/" }
            ?? "/v1beta/models/"
        return "\(prefix)\(model):\(method)"
    }
}
