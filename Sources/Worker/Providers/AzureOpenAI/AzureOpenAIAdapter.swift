import TollgateCore

/// Azure OpenAI: OpenAI's wire format at deployment URLs,
/// `{base}/openai/deployments/{deployment}/{chat/completions|embeddings}?api-version=…`, where
/// the backend's model names the deployment. Auth is the `api-key` header or a bearer token
/// (set by the compiled provider). Bodies and responses pass through; only `model` is
/// rewritten (Azure ignores it, but logs and usage then name the deployment).
/// Azure's newer `/openai/v1` surface is plain OpenAI: use kind `openai-compatible` for it.
struct AzureOpenAIAdapter: ProviderAdapter {
    let apiVersion: String

    func upstreamRequest(for request: ProxyExchange.Request, backend: CompiledBackend) -> Result<UpstreamRequest, GatewayError> {
        var path = "/openai/deployments/" + URIComponent.encode(backend.model) + request.endpoint.upstreamPath + "?api-version=" + URIComponent.encode(apiVersion)
        if !request.query.isEmpty { path += "&" + request.query }
        return OpenAIAdapter.body(for: request, backend: backend).map { UpstreamRequest(path: path, headers: [], body: $0) }
    }

    func responseTranslator(for request: ProxyExchange.Request, backend: CompiledBackend) -> (any ResponseTranslator)? {
        OpenAIAdapter.translator(for: request, backend: backend)
    }
}
