import TollgateCore

/// The chat request in OpenAI Chat Completions shape, whichever front it came in on: the
/// adapters of providers that translate from that shape (Gemini, Vertex, Bedrock) take the
/// Anthropic front through here and their responses through a `TranslatorChain`.
enum OpenAIShapedRequest {
    /// The client's body as an OpenAI chat request, or the 400 for what cannot be translated.
    static func chatBody(_ request: ProxyExchange.Request, backend: CompiledBackend, providerKind: String) -> Result<[UInt8], GatewayError> {
        switch request.endpoint {
        case .chatCompletions:
            return .success(Array(request.body.readableBytesView))
        case .messages:
            return AnthropicToOpenAIRequest.translate(request.body, upstreamModel: backend.model)
        case .embeddings, .countTokens:
            return .failure(unsupportedEndpoint(providerKind))
        }
    }

    /// The chat request decoded, for the translating adapters: the OpenAI front's as the
    /// filter chain decoded it, the Anthropic front's translated into OpenAI's shape first.
    static func chatRequest(_ request: ProxyExchange.Request, backend: CompiledBackend, providerKind: String) -> Result<ChatRequest, GatewayError> {
        switch request.endpoint {
        case .chatCompletions:
            return request.decodedChat()
        case .messages:
            return AnthropicToOpenAIRequest.translate(request.body, upstreamModel: backend.model).flatMap { ChatRequest.decode($0) }
        case .embeddings, .countTokens:
            return .failure(unsupportedEndpoint(providerKind))
        }
    }

    private static func unsupportedEndpoint(_ providerKind: String) -> GatewayError {
        .badRequest("Provider kind \(providerKind) does not serve this endpoint; route the model to another provider.",
                    code: "unsupported_endpoint")
    }

    /// The translator for a chat response: `translator` alone for the OpenAI front, chained
    /// into the Anthropic shape for the Anthropic front. `make(includeUsage)` builds the
    /// provider's own translator.
    static func responseTranslator(_ request: ProxyExchange.Request, backend: CompiledBackend,
                                   make: (_ includeUsage: Bool) -> any ResponseTranslator) -> any ResponseTranslator {
        guard request.endpoint == .messages else { return make(request.includeUsage) }
        return TranslatorChain(make(true), then: OpenAIToAnthropicResponse(publicModel: request.publicModel, price: backend.price, maxLineBytes: request.streamLimits.maxSSELineBytes))
    }
}
