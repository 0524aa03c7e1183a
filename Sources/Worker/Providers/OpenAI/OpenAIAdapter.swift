import TollgateCore

/// OpenAI and every OpenAI-compatible server: the body is forwarded byte for byte except the
/// `model` value, which is replaced by the backend's upstream model. A streamed chat request
/// always asks upstream for usage (`stream_options.include_usage`), so every stream can be
/// accounted; the usage chunk is passed on only when the client asked for it too.
struct OpenAIAdapter: ProviderAdapter {
    func upstreamRequest(for request: ProxyExchange.Request, backend: CompiledBackend) -> Result<UpstreamRequest, GatewayError> {
        .success(UpstreamRequest(path: Self.path(request), headers: [], body: Self.rewrittenBody(request, backend: backend)))
    }

    func responseTranslator(for request: ProxyExchange.Request, backend: CompiledBackend) -> (any ResponseTranslator)? {
        OpenAIUsageMeter(price: backend.price, forwardUsageChunk: request.includeUsage)
    }

    static func path(_ request: ProxyExchange.Request) -> String {
        request.query.isEmpty ? request.endpoint.upstreamPath : request.endpoint.upstreamPath + "?" + request.query
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
