import Config
import Guardrails
import Logging
import NIOCore
import NIOHTTP1
import TollgateCore

/// Entry points for the libFuzzer targets in `Fuzz/` (built only with `TOLLGATE_FUZZ=1`, see
/// docs/fuzzing.md). They drive the request parsing, the adapters and the response translators
/// exactly as the proxy does, on one fixed config with a priced backend of every provider kind,
/// and hand back plain values. `package` so the fuzz executables reach them without the
/// worker's types becoming public API; nothing on the request path calls them.
package enum WorkerFuzzing {
    /// The client fronts, as the connection handler names the endpoints.
    package enum Front: CaseIterable, Sendable {
        case chatCompletions, embeddings, messages, countTokens

        var endpoint: RequestContext.Endpoint {
            switch self {
            case .chatCompletions: return .chatCompletions
            case .embeddings: return .embeddings
            case .messages: return .messages
            case .countTokens: return .countTokens
            }
        }

        var path: String {
            switch self {
            case .chatCompletions: return "/v1/chat/completions"
            case .embeddings: return "/v1/embeddings"
            case .messages: return "/v1/messages"
            case .countTokens: return "/v1/messages/count_tokens"
            }
        }
    }

    /// One backend per adapter the worker has (Vertex and Gemini share one with a flag).
    package enum Provider: String, CaseIterable, Sendable {
        case openai, azure, anthropic, gemini, vertex, bedrock
    }

    /// What `RequestParsingFilter` found in a body.
    package struct ParsedRequest: Sendable {
        package var model: String
        package var modelRange: Range<Int>
        package var stream: Bool
        package var includeUsage: Bool
        package var streamOptionsRange: Range<Int>?
        package var maxTokens: Int?
    }

    /// A refusal in the client's API format.
    package struct Refusal: Error, Sendable {
        package var status: Int
        package var body: [UInt8]
    }

    /// The upstream request an adapter built.
    package struct Upstream: Sendable {
        package var path: String
        package var headers: [(String, String)]
        package var body: [UInt8]
    }

    /// Runs `RequestParsingFilter` on `body` as if it arrived on `front`.
    package static func parse(_ body: [UInt8], front: Front) -> Result<ParsedRequest, Refusal> {
        let context = context(body, front: front)
        switch RequestParsingFilter(config: runtime).onRequest(context) {
        case .proceed:
            guard let model = context.modelName, let range = context.modelRange else {
                return .failure(Refusal(status: 500, body: Array("parsing proceeded without a model".utf8)))
            }
            return .success(ParsedRequest(model: model, modelRange: range, stream: context.stream, includeUsage: context.includeUsage,
                                          streamOptionsRange: context.streamOptionsRange, maxTokens: context.maxTokens))
        case .respond(let error):
            return .failure(refusal(error, front: front))
        default:
            return .failure(Refusal(status: 500, body: Array("request parsing suspended".utf8)))
        }
    }

    /// The upstream request `provider`'s adapter builds for a parsed client request.
    package static func upstreamRequest(_ body: [UInt8], front: Front, parsed: ParsedRequest, provider: Provider,
                                        anthropicBeta: String? = nil) -> Result<Upstream, Refusal> {
        let backend = backend(provider)
        let request = exchangeRequest(body, front: front, parsed: parsed, anthropicBeta: anthropicBeta)
        switch backend.provider.adapter.upstreamRequest(for: request, backend: backend) {
        case .success(let up): return .success(Upstream(path: up.path, headers: up.headers, body: up.body))
        case .failure(let error): return .failure(refusal(error, front: front))
        }
    }

    /// The translator the proxy layers over `provider`'s response to a request on `front`,
    /// with `guardrails` on the output when given (as `GuardrailsFilter` arranges); nil when
    /// the response is relayed untouched.
    package static func responseTranslator(_ body: [UInt8], front: Front, parsed: ParsedRequest, provider: Provider,
                                           guardrails: GuardrailEngine? = nil) -> FuzzResponseTranslator? {
        let backend = backend(provider)
        let request = exchangeRequest(body, front: front, parsed: parsed, anthropicBeta: nil)
        guard var translator = backend.provider.adapter.responseTranslator(for: request, backend: backend) else { return nil }
        let relays = translator.relaysWhenTooLarge
        if let guardrails {
            translator = GuardedResponseTranslator(inner: translator, engine: guardrails, endpoint: front.endpoint,
                                                   requestID: "fuzz", logger: logger)
        }
        return FuzzResponseTranslator(translator, price: backend.price, relaysUpstreamBytes: relays)
    }

    /// Splits `bytes` as the SSE parser does when they arrive in the pieces `cuts` marks.
    package static func sseEvents(_ bytes: [UInt8], cuts: [Int]) -> (events: [(event: String?, data: [UInt8])], atBoundary: Bool) {
        var parser = SSEParser()
        var events: [(event: String?, data: [UInt8])] = []
        var start = 0
        for cut in cuts + [bytes.count] where cut >= start && cut <= bytes.count {
            // A line over the cap (4 MiB, far beyond the fuzzers' max_len) ends the stream.
            guard let batch = try? parser.feed(bytes[start..<cut]) else { return (events, false) }
            for e in batch { events.append((e.event, e.data)) }
            start = cut
        }
        return (events, parser.isAtBoundary)
    }

    // MARK: - The fixed config

    static let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

    static let price = GatewayConfig.ModelPrice(inputPerMillion: 15, outputPerMillion: 75, cachedInputPerMillion: 1.5)

    static let runtime: RuntimeConfig = {
        var providers: [GatewayConfig.Provider] = []
        for p in Provider.allCases {
            switch p {
            case .openai: providers.append(.init(name: p.rawValue, kind: .openai, baseURL: "http://127.0.0.1:9/v1", apiKey: Secret("k")))
            case .azure: providers.append(.init(name: p.rawValue, kind: .azureOpenAI, baseURL: "http://127.0.0.1:9/openai/deployments/d",
                                                apiKey: Secret("k"), apiVersion: "2024-10-21"))
            case .anthropic: providers.append(.init(name: p.rawValue, kind: .anthropic, baseURL: "http://127.0.0.1:9", apiKey: Secret("k")))
            case .gemini: providers.append(.init(name: p.rawValue, kind: .gemini, baseURL: "http://127.0.0.1:9", apiKey: Secret("k")))
            case .vertex:
                var v = GatewayConfig.Provider(name: p.rawValue, kind: .vertex, baseURL: "http://127.0.0.1:9", apiKey: Secret("token"))
                v.vertex = .init(project: "proj", location: "us-central1", clientEmail: "sa@proj.iam.gserviceaccount.com",
                                 privateKeyPEM: Secret("unused"), tokenURI: "http://127.0.0.1:9/token")
                providers.append(v)
            case .bedrock:
                var b = GatewayConfig.Provider(name: p.rawValue, kind: .bedrock, baseURL: "http://127.0.0.1:9")
                b.awsRegion = "us-east-1"
                b.awsCredentials = .init(accessKeyID: "AKIDEXAMPLE", secretAccessKey: Secret("secret"), sessionToken: nil)
                providers.append(b)
            }
        }
        var catalog = ModelCatalog.builtIn
        catalog["fuzz-model"] = GatewayConfig.ModelInfo(price: price, contextWindow: 200_000, maxOutputTokens: 64_000)
        let gc = GatewayConfig(
            listeners: [.init(address: "127.0.0.1", port: 8080)],
            providers: providers,
            models: Provider.allCases.map { .init(name: $0.rawValue, route: $0.rawValue) },
            routes: Provider.allCases.map {
                .init(name: $0.rawValue, priorities: [.init(backends: [.init(provider: $0.rawValue, model: "fuzz-model")])], maxAttempts: 1)
            },
            apiKeys: [], catalog: catalog)
        do {
            return try RuntimeConfig(gc, generation: 1)
        } catch {
            fatalError("the fuzz config does not compile: \(error)")
        }
    }()

    static func backend(_ provider: Provider) -> CompiledBackend {
        guard let route = runtime.routesByName[provider.rawValue], let backend = route.priorities.first?.first else {
            fatalError("the fuzz config has no route \(provider.rawValue)")
        }
        return backend
    }

    static func context(_ body: [UInt8], front: Front) -> RequestContext {
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: front.path, headers: ["host": "gateway", "content-type": "application/json"])
        return RequestContext(head: head, body: ByteBuffer(bytes: body), query: "", endpoint: front.endpoint, requestID: "fuzz", config: runtime)
    }

    static func exchangeRequest(_ body: [UInt8], front: Front, parsed: ParsedRequest, anthropicBeta: String?) -> ProxyExchange.Request {
        var headers: HTTPHeaders = ["host": "gateway", "content-type": "application/json"]
        if let anthropicBeta { headers.add(name: "anthropic-beta", value: anthropicBeta) }
        var request = ProxyExchange.Request(
            endpoint: front.endpoint, query: "", clientHead: HTTPRequestHead(version: .http1_1, method: .POST, uri: front.path, headers: headers),
            body: ByteBuffer(bytes: body), modelRange: parsed.modelRange, publicModel: parsed.model, requestID: "fuzz",
            stream: parsed.stream, includeUsage: parsed.includeUsage, streamOptionsRange: parsed.streamOptionsRange)
        request.maxTokens = parsed.maxTokens
        return request
    }

    static func refusal(_ error: GatewayError, front: Front) -> Refusal {
        Refusal(status: error.status, body: Array(error.body(for: front.endpoint.front).utf8))
    }
}

/// One response's translator, as the proxy drives it: `mode` from the upstream head, then
/// `relay` per body read and `finish` at the end (streamed) or `whole` once (buffered).
package final class FuzzResponseTranslator {
    package enum Mode: Equatable, Sendable {
        case stream(contentType: String), buffered, passthrough
    }

    private let inner: any ResponseTranslator
    private let price: GatewayConfig.ModelPrice?
    /// The adapter's translator relays the upstream's bytes (already in the client's format)
    /// and only reads them for usage: its output is whatever the upstream sent.
    package let relaysUpstreamBytes: Bool

    init(_ inner: any ResponseTranslator, price: GatewayConfig.ModelPrice?, relaysUpstreamBytes: Bool) {
        self.inner = inner
        self.price = price
        self.relaysUpstreamBytes = relaysUpstreamBytes
    }

    package func mode(status: Int, contentType: String?) -> Mode {
        var headers = HTTPHeaders()
        if let contentType { headers.add(name: "content-type", value: contentType) }
        switch inner.mode(status: status, headers: headers) {
        case .stream(let contentType): return .stream(contentType: contentType)
        case .buffered: return .buffered
        case .passthrough: return .passthrough
        }
    }

    package func relay(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        Array(inner.relayChunk(ByteBuffer(bytes: bytes)).readableBytesView)
    }

    package func finish() -> [UInt8] { inner.finishStream() }

    package func whole(status: Int, body: [UInt8]) -> (status: Int, body: [UInt8]) {
        inner.translateWhole(status: status, body: body)
    }

    /// Token counts so far: prompt, completion, cached.
    package var usage: (prompt: Int, completion: Int, cached: Int)? {
        inner.usage.map { ($0.promptTokens, $0.completionTokens, $0.cachedTokens) }
    }

    /// What the proxy derives from the usage at the end: the `x-tollgate-cost-usd` value and
    /// the closing SSE comment.
    package func settlement() -> (costHeader: String?, streamComment: [UInt8])? {
        guard let usage = inner.usage else { return nil }
        return (usage.cost(price).map(Usage.format), usage.streamComment(price))
    }
}
