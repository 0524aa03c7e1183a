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
        var path = "/openai/deployments/" + Self.percentEncode(backend.model) + request.endpoint.upstreamPath + "?api-version=" + Self.percentEncode(apiVersion)
        if !request.query.isEmpty { path += "&" + request.query }
        return OpenAIAdapter.body(for: request, backend: backend).map { UpstreamRequest(path: path, headers: [], body: $0) }
    }

    func responseTranslator(for request: ProxyExchange.Request, backend: CompiledBackend) -> (any ResponseTranslator)? {
        OpenAIAdapter.translator(for: request, backend: backend)
    }

    /// RFC 3986 unreserved characters stay; everything else is %-encoded.
    static func percentEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(Unicode.Scalar(b)))
            default:
                out += "%" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
            }
        }
        return out
    }
}
