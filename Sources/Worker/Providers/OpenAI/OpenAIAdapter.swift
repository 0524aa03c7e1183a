import TollgateCore

/// OpenAI and every OpenAI-compatible server. From the OpenAI front, the body is forwarded
/// byte for byte except the `model` value, which is replaced by the backend's upstream model,
/// and a streamed chat request always asks upstream for usage (`stream_options.include_usage`)
/// so every stream can be accounted; the usage chunk is passed on only when the client asked
/// too. From the Anthropic front, requests and responses are translated.
struct OpenAIAdapter: ProviderAdapter {
    func upstreamRequest(for request: ProxyExchange.Request, backend: CompiledBackend) -> Result<UpstreamRequest, GatewayError> {
        Self.body(for: request, backend: backend).map { UpstreamRequest(path: Self.path(request), headers: [], body: $0) }
    }

    func responseTranslator(for request: ProxyExchange.Request, backend: CompiledBackend) -> (any ResponseTranslator)? {
        Self.translator(for: request, backend: backend)
    }

    static func translator(for request: ProxyExchange.Request, backend: CompiledBackend) -> any ResponseTranslator {
        if request.endpoint == .messages {
            return OpenAIToAnthropicResponse(publicModel: request.publicModel, price: backend.price, maxLineBytes: request.streamLimits.maxSSELineBytes)
        }
        return OpenAIUsageMeter(price: backend.price, forwardUsageChunk: request.includeUsage, maxLineBytes: request.streamLimits.maxSSELineBytes)
    }

    static func path(_ request: ProxyExchange.Request) -> String {
        request.query.isEmpty ? request.endpoint.upstreamPath : request.endpoint.upstreamPath + "?" + request.query
    }

    /// The OpenAI-format body for any front (shared by the OpenAI and Azure adapters).
    static func body(for request: ProxyExchange.Request, backend: CompiledBackend) -> Result<[UInt8], GatewayError> {
        switch request.endpoint {
        case .chatCompletions, .embeddings:
            return .success(rewrittenBody(request, backend: backend))
        case .messages:
            return OpenAIShapedRequest.chatBody(request, backend: backend, providerKind: "openai")
        case .countTokens:
            return .failure(.badRequest("count_tokens needs an Anthropic backend; this model is served by an OpenAI-compatible one.",
                                        code: "unsupported_endpoint"))
        }
    }

    /// The client's bytes with the model replaced and, for streamed chat, usage requested.
    static func rewrittenBody(_ request: ProxyExchange.Request, backend: CompiledBackend) -> [UInt8] {
        request.body.withUnsafeReadableBytes { raw in
            var edits: [(Range<Int>, [UInt8])] = [(request.modelRange, backend.quotedModel)]
            if request.endpoint == .chatCompletions, request.stream, !request.includeUsage {
                let usageOn = Array(#"{"include_usage":true}"#.utf8)
                if let options = request.streamOptionsRange {
                    edits.append((options, usageOn))
                } else if let close = lastClosingBrace(raw) {
                    edits.append((close..<close, Array(#","stream_options":"#.utf8) + usageOn))
                }
            }
            edits.sort { $0.0.lowerBound < $1.0.lowerBound }
            return JSONWriter.replacing(raw, edits)
        }
    }

    /// The top-level object's closing brace (the body was validated as one JSON object).
    static func lastClosingBrace(_ raw: UnsafeRawBufferPointer) -> Int? {
        var i = raw.count - 1
        while i >= 0 {
            if raw[i] == UInt8(ascii: "}") { return i }
            i -= 1
        }
        return nil
    }
}
