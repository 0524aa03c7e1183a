import Foundation
import TollgateCore

/// Anthropic's Messages API behind the OpenAI front: requests and responses are translated
/// (see `AnthropicRequestTranslator`, `AnthropicResponseTranslator`); auth is `x-api-key` plus
/// `anthropic-version`, set by the compiled provider.
struct AnthropicAdapter: ProviderAdapter {
    static let apiVersion = "2023-06-01"

    func upstreamRequest(for request: ProxyExchange.Request, backend: CompiledBackend) -> Result<UpstreamRequest, GatewayError> {
        guard request.endpoint == .chatCompletions else {
            return .failure(.badRequest("Provider kind anthropic has no embeddings API; route this model to an embeddings provider.",
                                        code: "unsupported_endpoint"))
        }
        let bytes = Array(request.body.readableBytesView)
        switch AnthropicRequestTranslator.translate(bytes, upstreamModel: backend.model) {
        case .failure(let error):
            return .failure(error)
        case .success(let object):
            guard let data = try? JSONSerialization.data(withJSONObject: object) else {
                return .failure(GatewayError(status: 500, type: "server_error", code: "translation_error",
                                             message: "The request could not be encoded for provider kind anthropic."))
            }
            return .success(UpstreamRequest(path: "/v1/messages", headers: [], body: Array(data)))
        }
    }

    func responseTranslator(for request: ProxyExchange.Request, backend: CompiledBackend) -> (any ResponseTranslator)? {
        AnthropicResponseTranslator(publicModel: request.publicModel, includeUsage: request.includeUsage, price: backend.price)
    }
}
