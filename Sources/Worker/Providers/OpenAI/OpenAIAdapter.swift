import TollgateCore

/// OpenAI and every OpenAI-compatible server: the body is forwarded byte for byte except the
/// `model` value, which is replaced by the backend's upstream model; the response is relayed
/// untouched.
struct OpenAIAdapter: ProviderAdapter {
    func upstreamRequest(for request: ProxyExchange.Request, backend: CompiledBackend) -> Result<UpstreamRequest, GatewayError> {
        let body = request.body.withUnsafeReadableBytes { raw in
            JSONWriter.replacing(raw, [(request.modelRange, backend.quotedModel)])
        }
        var path = request.endpoint.upstreamPath
        if !request.query.isEmpty { path += "?" + request.query }
        return .success(UpstreamRequest(path: path, headers: [], body: body))
    }

    func responseTranslator(for request: ProxyExchange.Request, backend: CompiledBackend) -> (any ResponseTranslator)? {
        nil
    }
}
