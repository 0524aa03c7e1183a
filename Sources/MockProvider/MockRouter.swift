import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Maps each request to its `MockReply` by method and path, and records it in the
/// `RequestLog` (all but the mock's own `/mock/*` and `/healthz`). Endpoints build their
/// replies from the request alone; the router adds the `x-request-id` every reply carries.
///
/// | method, path (`/v1` optional) | endpoint |
/// |---|---|
/// | `POST /chat/completions` | OpenAI chat completions, plain and streamed |
/// | `POST /embeddings` | OpenAI embeddings |
/// | `GET /models`, `GET /models/{id}` | OpenAI models |
/// | `POST /openai/deployments/{d}/chat/completions|embeddings?api-version=…` | Azure OpenAI |
/// | `POST /messages`, `POST /messages/count_tokens` | Anthropic Messages |
/// | `POST /v1beta/models/{model}:generateContent|streamGenerateContent|batchEmbedContents|countTokens` | Gemini |
/// | `POST /projects/{p}/locations/{l}/publishers/google/models/{model}:{method}` | Vertex AI (bearer from `/token`; also `predict`, `countTokens`) |
/// | `POST /token` | Google OAuth (service-account JWT grant) |
/// | `POST /model/{id}/converse`, `…/converse-stream` | Bedrock Converse (SigV4 required) |
/// | `POST /model/{id}/invoke`, `…/count-tokens` | Bedrock InvokeModel (Titan/Cohere embeddings), CountTokens |
/// | `PUT /latest/api/token`, `GET /latest/meta-data/iam/security-credentials/…` | EC2 IMDSv2 instance-role credentials |
/// | `GET /mock/aws/container-credentials` | ECS / EKS Pod Identity container credentials |
/// | `POST /mock/aws/sts` | STS AssumeRoleWithWebIdentity (EKS IRSA), XML |
/// | `POST /contentsafety/text:analyze|text:shieldPrompt?api-version=…` | Azure AI Content Safety |
/// | `GET`/`DELETE /mock/requests` | the request log, cleared |
/// | `GET /healthz` | liveness |
struct MockRouter: Sendable {
    let log: RequestLog
    let ids: MockIDs

    func reply(to request: MockRequest) -> MockReply {
        var reply = route(request)
        reply.headers.add(name: "x-request-id", value: ids.next("req_"))
        if request.path != "/healthz" && !request.path.hasPrefix("/mock/") {
            log.append(RequestLog.Entry(method: request.head.method, uri: request.head.uri, headers: request.head.headers,
                                        body: request.body, model: reply.requestedModel))
        }
        return reply
    }

    private func route(_ request: MockRequest) -> MockReply {
        let method = request.head.method
        let path = request.path
        switch path {
        case "/chat/completions":
            guard method == .POST else { return notAllowed(request, allow: "POST") }
            return ChatCompletionEndpoint.reply(to: request, ids: ids, created: now())
        case "/embeddings":
            guard method == .POST else { return notAllowed(request, allow: "POST") }
            return EmbeddingsEndpoint.reply(to: request)
        case "/models":
            guard method == .GET else { return notAllowed(request, allow: "GET") }
            return withHeaderControls(request) { ModelsEndpoint.list() }
        case "/messages":
            guard method == .POST else { return notAllowed(request, allow: "POST") }
            return AnthropicMessagesEndpoint.reply(to: request, ids: ids)
        case "/messages/count_tokens":
            guard method == .POST else { return notAllowed(request, allow: "POST") }
            return AnthropicMessagesEndpoint.countTokens(request)
        case "/token":
            guard method == .POST else { return notAllowed(request, allow: "POST") }
            return OAuthTokenEndpoint.reply(to: request, ids: ids, now: now())
        case "/latest/api/token":
            return AWSCredentialEndpoints.imdsToken(request, ids: ids)
        case "/mock/aws/container-credentials":
            return AWSCredentialEndpoints.container(request, now: now())
        case "/mock/aws/sts", "/mock/aws/sts/":
            return AWSCredentialEndpoints.sts(request, now: now())
        case "/mock/requests":
            switch method {
            case .GET:
                return .json(.ok, log.json)
            case .DELETE:
                log.clear()
                var b = ByteBuffer()
                b.writeStaticString("{\"cleared\":true}")
                return .json(.ok, b)
            default:
                return notAllowed(request, allow: "GET, DELETE")
            }
        case "/healthz":
            var b = ByteBuffer()
            b.writeStaticString("{\"status\":\"ok\"}")
            return .json(.ok, b)
        default:
            return routeByPrefix(request)
        }
    }

    private func routeByPrefix(_ request: MockRequest) -> MockReply {
        let method = request.head.method
        let path = request.path
        let segments = Array(path.split(separator: "/", omittingEmptySubsequences: false).dropFirst())
        if path.hasPrefix("/models/"), segments.count == 2 {
            guard method == .GET else { return notAllowed(request, allow: "GET") }
            let id = PercentDecoding.decode(segments.last ?? "") ?? String(segments.last ?? "")
            return withHeaderControls(request) { ModelsEndpoint.retrieve(id) }
        }
        if path.hasPrefix("/v1beta/models/"), segments.count == 3 {
            guard method == .POST else { return notAllowed(request, allow: "POST") }
            return GeminiEndpoint.reply(to: request, modelAndMethod: segments.last ?? "", ids: ids)
        }
        // Vertex AI: /projects/{p}/locations/{l}/publishers/google/models/{model}:{method}
        if path.hasPrefix("/projects/"), segments.count == 8,
           segments[2] == "locations", segments[4...6] == ["publishers", "google", "models"] {
            guard method == .POST else { return notAllowed(request, allow: "POST") }
            guard request.head.headers.first(name: "authorization")?.hasPrefix("Bearer " + OAuthTokenEndpoint.tokenPrefix) == true else {
                return GeminiError(status: .unauthorized, code: "UNAUTHENTICATED", message: "Request had invalid authentication credentials.").reply
            }
            return GeminiEndpoint.reply(to: request, modelAndMethod: segments.last ?? "", ids: ids)
        }
        let imdsCredentials = "/latest/meta-data/iam/security-credentials/"
        if path.hasPrefix(imdsCredentials) {
            return AWSCredentialEndpoints.imdsCredentials(request, rest: path.dropFirst(imdsCredentials.count), now: now())
        }
        if path.hasPrefix("/model/") {
            guard method == .POST else { return notAllowed(request, allow: "POST") }
            return BedrockConverseEndpoint.reply(to: request, path: path)
        }
        if path.hasPrefix("/contentsafety/"), segments.count == 2 {
            return ContentSafetyEndpoint.reply(to: request, operation: segments[1])
        }
        if path.hasPrefix("/openai/deployments/") {
            return azure(request, segments: segments)
        }
        return OpenAIError.invalidRequest("Invalid URL (\(method.rawValue) \(request.head.uri))").reply(.notFound)
    }

    /// Azure OpenAI: `/openai/deployments/{deployment}/{operation}?api-version=…`; the
    /// deployment stands in for a body without `model`.
    private func azure(_ request: MockRequest, segments: [Substring]) -> MockReply {
        guard segments.count >= 4, request.queryParameter("api-version") != nil else {
            var b = ByteBuffer()
            b.writeStaticString("{\"error\":{\"code\":\"404\",\"message\":\"Resource not found\"}}")
            return .json(.notFound, b)
        }
        guard request.head.method == .POST else { return notAllowed(request, allow: "POST") }
        let deployment = PercentDecoding.decode(segments[2]) ?? String(segments[2])
        switch segments[3...].joined(separator: "/") {
        case "chat/completions":
            return ChatCompletionEndpoint.reply(to: request, ids: ids, created: now(), defaultModel: deployment)
        case "embeddings":
            return EmbeddingsEndpoint.reply(to: request, defaultModel: deployment)
        default:
            var b = ByteBuffer()
            b.writeStaticString("{\"error\":{\"code\":\"404\",\"message\":\"Resource not found\"}}")
            return .json(.notFound, b)
        }
    }

    /// `build`'s reply under the controls of the `x-mock-*` headers (endpoints without a model).
    private func withHeaderControls(_ request: MockRequest, _ build: () -> MockReply) -> MockReply {
        let controls: MockControls
        do throws(MockControlError) {
            controls = try MockControls.parse(model: "", headers: request.head.headers).controls
        } catch {
            return OpenAIError.invalidRequest(error.message, code: "invalid_mock_control").reply(.badRequest)
        }
        return (OpenAIFaults.reply(controls) ?? build()).applying(controls)
    }

    private func notAllowed(_ request: MockRequest, allow: String) -> MockReply {
        OpenAIError.invalidRequest("Method \(request.head.method.rawValue) is not allowed on \(request.path); use \(allow).")
            .reply(.methodNotAllowed, headers: [("allow", allow)])
    }

    private func now() -> Int {
        Int(time(nil))
    }
}
