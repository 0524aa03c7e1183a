#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TollgateCore

/// Amazon Bedrock, SigV4-signed per request for service `bedrock` in the provider's region:
/// chat from either front through the Converse API (`POST /model/{id}/converse`, or
/// `/converse-stream` answered as an AWS event stream; the Anthropic front goes through the
/// OpenAI shape, `OpenAIShapedRequest`), embeddings through `InvokeModel` (`/model/{id}/invoke`,
/// `BedrockEmbeddings`), and Anthropic's count_tokens through `CountTokens`
/// (`/model/{id}/count-tokens` with the Converse body).
struct BedrockAdapter: ProviderAdapter {
    let signer: SigV4Signer?

    func upstreamRequest(for request: ProxyExchange.Request, backend: CompiledBackend) -> Result<UpstreamRequest, GatewayError> {
        guard let signer else {
            return .failure(GatewayError(status: 500, type: "server_error", code: "provider_misconfigured",
                                         message: "The bedrock provider has no AWS credentials."))
        }
        let body: Result<[UInt8], GatewayError>
        let operation: String
        switch request.endpoint {
        case .embeddings:
            operation = "invoke"
            body = request.body.withUnsafeReadableBytes { EmbeddingsInput.parse($0, providerKind: "bedrock") }
                .flatMap { BedrockEmbeddings.body($0, modelID: backend.model) }
        case .countTokens:
            operation = "count-tokens"
            guard let messages = CountTokensTranslator.messagesBody(request.body) else {
                return .failure(.badRequest("The request body is not a JSON object.", code: "invalid_json"))
            }
            body = AnthropicToOpenAIRequest.translate(messages, upstreamModel: backend.model)
                .flatMap { ChatRequest.decode($0) }
                .flatMap { (chat: ChatRequest) -> Result<[UInt8], GatewayError> in
                    // CountTokens takes the Converse fields that make up the prompt.
                    var b = JSONBuilder(capacity: chat.body.readableBytes + 128)
                    b.beginObject()
                    b.key("input")
                    b.beginObject()
                    b.key("converse")
                    b.beginObject()
                    if let error = chat.withBytes({ BedrockConverseTranslator.write(chat, $0, into: &b, promptOnly: true) }) { return .failure(error) }
                    b.endObject()
                    b.endObject()
                    b.endObject()
                    return .success(b.bytes)
                }
        case .chatCompletions, .messages:
            operation = request.stream ? "converse-stream" : "converse"
            body = OpenAIShapedRequest.chatRequest(request, backend: backend, providerKind: "bedrock")
                .flatMap { BedrockConverseTranslator.translate($0) }
        }
        return body.map { body in
            let target = backend.provider.target
            let path = target.basePath + "/model/" + SigV4Signer.uriEncode(backend.model) + "/" + operation
            // content-type is sent by the proxy for every request; it is signed here all the same.
            let headers = signer.sign(method: "POST", path: path, query: "",
                                      headers: [("host", target.hostHeader), ("content-type", "application/json")],
                                      payload: body, amzDate: SigV4Signer.amzDate(now: Int(time(nil))))
            // The proxy prefixes the base path itself; the signature covered the full path.
            return UpstreamRequest(path: String(path.dropFirst(target.basePath.count)), headers: headers, body: body)
        }
    }

    func responseTranslator(for request: ProxyExchange.Request, backend: CompiledBackend) -> (any ResponseTranslator)? {
        switch request.endpoint {
        case .embeddings:
            guard case .success(let input) = request.body.withUnsafeReadableBytes({ EmbeddingsInput.parse($0, providerKind: "bedrock") }) else { return nil }
            return EmbeddingsTranslator(providerKind: "bedrock", publicModel: request.publicModel, input: input, price: backend.price,
                                        extract: BedrockEmbeddings.extract(modelID: backend.model))
        case .countTokens:
            return CountTokensTranslator(providerKind: "bedrock", field: "inputTokens")
        case .chatCompletions, .messages:
            return OpenAIShapedRequest.responseTranslator(request, backend: backend) { includeUsage in
                BedrockResponseTranslator(publicModel: request.publicModel, includeUsage: includeUsage, price: backend.price,
                                          maxFrameBytes: request.streamLimits.maxEventFrameBytes)
            }
        }
    }
}
