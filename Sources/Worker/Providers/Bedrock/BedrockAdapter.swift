#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TollgateCore

/// Amazon Bedrock's Converse API behind the OpenAI front: `POST /model/{modelId}/converse`
/// (or `/converse-stream`, answered as an AWS event stream), SigV4-signed per request for
/// service `bedrock` in the provider's region. Requests and responses are translated
/// (`BedrockConverseTranslator`, `BedrockResponseTranslator`).
struct BedrockAdapter: ProviderAdapter {
    let signer: SigV4Signer?

    func upstreamRequest(for request: ProxyExchange.Request, backend: CompiledBackend) -> Result<UpstreamRequest, GatewayError> {
        guard request.endpoint == .chatCompletions else {
            return .failure(.badRequest("Provider kind bedrock serves chat completions only (for now); route this model to another provider.",
                                        code: "unsupported_endpoint"))
        }
        guard let signer else {
            return .failure(GatewayError(status: 500, type: "server_error", code: "provider_misconfigured",
                                         message: "The bedrock provider has no AWS credentials."))
        }
        switch BedrockConverseTranslator.translate(Array(request.body.readableBytesView)) {
        case .failure(let error):
            return .failure(error)
        case .success(let object):
            guard let data = try? JSONSerialization.data(withJSONObject: object) else {
                return .failure(GatewayError(status: 500, type: "server_error", code: "translation_error",
                                             message: "The request could not be encoded for provider kind bedrock."))
            }
            let body = Array(data)
            let path = backend.provider.target.basePath + "/model/" + SigV4Signer.uriEncode(backend.model) + (request.stream ? "/converse-stream" : "/converse")
            // content-type is sent by the proxy for every request; it is signed here all the same.
            let headers = signer.sign(method: "POST", path: path, query: "",
                                   headers: [("host", backend.provider.target.hostHeader), ("content-type", "application/json")],
                                   payload: body, amzDate: SigV4Signer.amzDate(now: Int(time(nil))))
            // The proxy prefixes the base path itself; the signature covered the full path.
            return .success(UpstreamRequest(path: String(path.dropFirst(backend.provider.target.basePath.count)), headers: headers, body: body))
        }
    }

    func responseTranslator(for request: ProxyExchange.Request, backend: CompiledBackend) -> (any ResponseTranslator)? {
        BedrockResponseTranslator(publicModel: request.publicModel, includeUsage: request.includeUsage, price: backend.price)
    }
}
