import Config
import Foundation
import TollgateCore

/// Google Gemini (AI Studio API key) behind the OpenAI front: `POST {base}/v1beta/models/
/// {model}:generateContent`, or `:streamGenerateContent?alt=sse` for streams, authenticated with
/// `x-goog-api-key`. Requests and responses are translated (`GeminiRequestTranslator`,
/// `GeminiResponseTranslator`). Embeddings and the Anthropic front are not translated for
/// Gemini yet and answer 400.
///
/// With `vertex` settings the same wire format goes to Vertex AI's publisher-model URL,
/// `/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:…`, with the bearer token the
/// controller minted.
struct GeminiAdapter: ProviderAdapter {
    var vertex: GatewayConfig.VertexSettings? = nil

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
            let model = URIComponent.encode(backend.model)
            let prefix = vertex.map { "/v1/projects/\(URIComponent.encode($0.project))/locations/\(URIComponent.encode($0.location))/publishers/google/models/" }
                ?? "/v1beta/models/"
            let path = request.stream ? "\(prefix)\(model):streamGenerateContent?alt=sse" : "\(prefix)\(model):generateContent"
            return .success(UpstreamRequest(path: path, headers: [], body: Array(data)))
        }
    }

    func responseTranslator(for request: ProxyExchange.Request, backend: CompiledBackend) -> (any ResponseTranslator)? {
        GeminiResponseTranslator(publicModel: request.publicModel, includeUsage: request.includeUsage, price: backend.price)
    }
}
