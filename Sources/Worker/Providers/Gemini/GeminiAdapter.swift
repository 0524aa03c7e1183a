import Foundation
import TollgateCore

/// Google Gemini (AI Studio API key) behind the OpenAI front: `POST {base}/v1beta/models/
/// {model}:generateContent`, or `:streamGenerateContent?alt=sse` for streams, authenticated with
/// `x-goog-api-key`. Requests and responses are translated (`GeminiRequestTranslator`,
/// `GeminiResponseTranslator`). Embeddings and the Anthropic front are not translated for
/// Gemini yet and answer 400.
struct GeminiAdapter: ProviderAdapter {
    func upstreamRequest(for request: ProxyExchange.Request, backend: CompiledBackend) -> Result<UpstreamRequest, GatewayError> {
        guard request.endpoint == .chatCompletions else {
            return .failure(.badRequest("Provider kind gemini serves chat completions only (for now); route this model to another provider.",
                                        code: "unsupported_endpoint"))
        }
        switch GeminiRequestTranslator.translate(Array(request.body.readableBytesView)) {
        case .failure(let error):
            return .failure(error)
        case .success(let object):
            guard let data = try? JSONSerialization.data(withJSONObject: object) else {
                return .failure(GatewayError(status: 500, type: "server_error", code: "translation_error",
                                             message: "The request could not be encoded for provider kind gemini."))
            }
            let model = AzureOpenAIAdapter.percentEncode(backend.model)
            let path = request.stream ? "/v1beta/models/\(model):streamGenerateContent?alt=sse" : "/v1beta/models/\(model):generateContent"
            return .success(UpstreamRequest(path: path, headers: [], body: Array(data)))
        }
    }

    func responseTranslator(for request: ProxyExchange.Request, backend: CompiledBackend) -> (any ResponseTranslator)? {
        GeminiResponseTranslator(publicModel: request.publicModel, includeUsage: request.includeUsage, price: backend.price)
    }
}
