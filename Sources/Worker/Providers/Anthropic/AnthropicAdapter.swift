import TollgateCore

/// Anthropic's Messages API behind the OpenAI front: requests and responses are translated
/// (see `AnthropicRequestTranslator`, `AnthropicResponseTranslator`); auth is `x-api-key` plus
/// `anthropic-version`, set by the compiled provider.
struct AnthropicAdapter: ProviderAdapter {
    static let apiVersion = "2023-06-01"

    func upstreamRequest(for request: ProxyExchange.Request, backend: CompiledBackend) -> Result<UpstreamRequest, GatewayError> {
        switch request.endpoint {
        case .messages, .countTokens:
            // Anthropic front to an Anthropic backend: the client's bytes, only `model` rewritten.
            let body = request.body.withUnsafeReadableBytes { JSONWriter.replacing($0, [(request.modelRange, backend.quotedModel)]) }
            return .success(UpstreamRequest(path: request.endpoint == .messages ? "/v1/messages" : "/v1/messages/count_tokens",
                                            headers: Self.forwardedBetaHeader(request), body: body))
        case .embeddings:
            return .failure(.badRequest("Provider kind anthropic has no embeddings API; route this model to an embeddings provider.",
                                        code: "unsupported_endpoint"))
        case .chatCompletions:
            break
        }
        return request.decodedChat()
            .flatMap { AnthropicRequestTranslator.translate($0, upstreamModel: backend.model) }
            .map { UpstreamRequest(path: "/v1/messages", headers: [], body: $0) }
    }

    /// Claude Code and the SDKs opt into features with `anthropic-beta`; it must reach Anthropic.
    static func forwardedBetaHeader(_ request: ProxyExchange.Request) -> [(String, String)] {
        request.clientHead.headers["anthropic-beta"].map { ("anthropic-beta", $0) }
    }

    func responseTranslator(for request: ProxyExchange.Request, backend: CompiledBackend) -> (any ResponseTranslator)? {
        switch request.endpoint {
        case .messages: return AnthropicUsageMeter(price: backend.price, maxLineBytes: request.streamLimits.maxSSELineBytes)
        case .countTokens: return nil
        default: break
        }
        return AnthropicResponseTranslator(publicModel: request.publicModel, includeUsage: request.includeUsage, price: backend.price,
                                           maxLineBytes: request.streamLimits.maxSSELineBytes)
    }
}
