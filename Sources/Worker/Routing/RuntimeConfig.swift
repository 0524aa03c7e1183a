import Config
import Crypto
import TollgateCore
import WAF

/// The worker's view of one config generation: `GatewayConfig` turned into the lookup tables
/// the request path needs (no URL parsing, no string building, no linear scans per request).
/// Immutable once built; a reload builds a new one and swaps the reference.
public final class RuntimeConfig: Sendable {
    public let generation: UInt64
    public let source: GatewayConfig
    public let limits: GatewayConfig.Limits
    let modelsByName: [String: GatewayConfig.Model]
    let routesByName: [String: CompiledRoute]
    let keys: KeyTable
    /// Public model names in config order (for `/v1/models`).
    let modelNames: [String]
    /// Rate limits, token limits and budgets, compiled for the quota table.
    let quotaPlan: QuotaPlan
    /// The compiled WAF of this generation; nil when `waf.enabled` is false.
    let waf: WAFEngine?

    public init(_ config: GatewayConfig, generation: UInt64) throws(RuntimeConfigError) {
        self.generation = generation
        self.source = config
        self.limits = config.limits
        var providers: [String: CompiledProvider] = [:]
        for p in config.providers {
            guard let target = UpstreamTarget(baseURL: p.baseURL) else {
                throw .invalidBaseURL(provider: p.name, url: p.baseURL)
            }
            var auth: [(String, String)] = []
            let adapter: any ProviderAdapter
            switch p.kind {
            case .openai, .openaiCompatible:
                adapter = OpenAIAdapter()
                if let key = p.apiKey { auth.append(("authorization", "Bearer \(key.value)")) }
            case .azureOpenAI:
                adapter = AzureOpenAIAdapter(apiVersion: p.apiVersion ?? "")
                if let key = p.apiKey {
                    auth.append(p.authScheme == .bearer ? ("authorization", "Bearer \(key.value)") : ("api-key", key.value))
                }
            case .bedrock:
                adapter = BedrockAdapter(signer: p.awsCredentials.map {
                    SigV4Signer(credentials: .init(accessKeyID: $0.accessKeyID, secretAccessKey: $0.secretAccessKey.value,
                                                   sessionToken: $0.sessionToken?.value),
                                region: p.awsRegion ?? "us-east-1", service: "bedrock")
                })
            case .vertex:
                adapter = GeminiAdapter(vertex: p.vertex)
                if let token = p.apiKey { auth.append(("authorization", "Bearer \(token.value)")) }
            case .gemini:
                adapter = GeminiAdapter()
                if let key = p.apiKey { auth.append(("x-goog-api-key", key.value)) }
            case .anthropic:
                adapter = AnthropicAdapter()
                if let key = p.apiKey { auth.append(("x-api-key", key.value)) }
                auth.append(("anthropic-version", AnthropicAdapter.apiVersion))
            }
            providers[p.name] = CompiledProvider(
                name: p.name, target: target, adapter: adapter, authHeaders: auth,
                extraHeaders: p.headers.sorted { $0.key < $1.key })
        }
        var routes: [String: CompiledRoute] = [:]
        for r in config.routes {
            var priorities: [[CompiledBackend]] = []
            for pr in r.priorities {
                var level: [CompiledBackend] = []
                for b in pr.backends {
                    guard let provider = providers[b.provider] else {
                        throw .unknownProvider(route: r.name, provider: b.provider)
                    }
                    level.append(CompiledBackend(id: b.id, provider: provider, model: b.model,
                                                 quotedModel: Array(JSONWriter.quoted(b.model).utf8),
                                                 weight: max(1, b.weight),
                                                 info: ModelCatalog.info(for: b.model, in: config.catalog)))
                }
                priorities.append(level)
            }
            routes[r.name] = CompiledRoute(name: r.name, priorities: priorities, maxAttempts: max(1, r.maxAttempts), forwardQuery: r.forwardQuery)
        }
        var models: [String: GatewayConfig.Model] = [:]
        for m in config.models {
            guard routes[m.route] != nil else { throw .unknownRoute(model: m.name, route: m.route) }
            models[m.name] = m
        }
        self.modelsByName = models
        self.routesByName = routes
        self.modelNames = config.models.map(\.name)
        self.keys = try KeyTable(config.apiKeys, routes: routes)
        self.quotaPlan = QuotaPlan(config)
        self.waf = try Self.makeWAF(config.waf)
    }

    /// The route a key's request for `model` walks: the key's override, else the model's own.
    func route(for model: GatewayConfig.Model, key: KeyTable.Entry) -> CompiledRoute? {
        if let override = key.routeOverrides[model.name] {
            return routesByName[override]
        }
        return routesByName[model.route]
    }
}

public enum RuntimeConfigError: Error, CustomStringConvertible, Equatable {
    case invalidBaseURL(provider: String, url: String)
    case unknownProvider(route: String, provider: String)
    case unknownRoute(model: String, route: String)
    case invalidKeyHash(key: String)
    case waf(String)

    public var description: String {
        switch self {
        case .invalidBaseURL(let p, let url): return "provider \(p): base_url \(url) cannot be parsed"
        case .unknownProvider(let r, let p): return "route \(r): unknown provider \(p)"
        case .unknownRoute(let m, let r): return "model \(m): unknown route \(r)"
        case .invalidKeyHash(let k): return "api key \(k): key_hash is not sha256:<64 hex>"
        case .waf(let message): return "waf: \(message)"
        }
    }
}

/// A provider with everything precomputed that goes on the wire.
final class CompiledProvider: Sendable {
    let name: String
    let target: UpstreamTarget
    /// Translates requests and responses for the provider's kind.
    let adapter: any ProviderAdapter
    /// Credential and version headers in the kind's convention (never logged).
    let authHeaders: [(String, String)]
    let extraHeaders: [(key: String, value: String)]

    init(name: String, target: UpstreamTarget, adapter: any ProviderAdapter, authHeaders: [(String, String)],
         extraHeaders: [(key: String, value: String)]) {
        self.name = name
        self.target = target
        self.adapter = adapter
        self.authHeaders = authHeaders
        self.extraHeaders = extraHeaders
    }
}

/// One backend of a route, with its upstream model name pre-quoted for the body rewrite.
struct CompiledBackend: Sendable {
    let id: String
    let provider: CompiledProvider
    let model: String
    let quotedModel: [UInt8]
    let weight: Int
    /// From the model catalog (built-in, `catalog_file:`, `pricing:`); nil when unknown.
    let info: GatewayConfig.ModelInfo?

    var price: GatewayConfig.ModelPrice? { info?.price }
}

struct CompiledRoute: Sendable {
    let name: String
    let priorities: [[CompiledBackend]]
    let maxAttempts: Int
    /// The route's shape as the fallback state machine sees it (weights only).
    let plan: FallbackPlan
    /// The largest output limit the catalog gives any backend's model, for quota estimates.
    let maxOutputTokens: Int?
    /// The most expensive input and output prices among the backends (a reservation must
    /// cover whichever one serves).
    let highestPrice: GatewayConfig.ModelPrice?
    /// `forward_query`: the client's query string goes upstream (else it is dropped).
    let forwardQuery: Bool

    /// Derives what requests read from the route once per config generation, not per request.
    init(name: String, priorities: [[CompiledBackend]], maxAttempts: Int, forwardQuery: Bool = false) {
        self.name = name
        self.forwardQuery = forwardQuery
        self.priorities = priorities
        self.maxAttempts = maxAttempts
        plan = FallbackPlan(priorities: priorities.map { $0.map(\.weight) }, maxAttempts: maxAttempts)
        maxOutputTokens = priorities.joined().compactMap { $0.info?.maxOutputTokens }.max()
        let prices = priorities.joined().compactMap(\.price)
        highestPrice = prices.isEmpty ? nil : .init(inputPerMillion: prices.map(\.inputPerMillion).max() ?? 0,
                                                    outputPerMillion: prices.map(\.outputPerMillion).max() ?? 0, cachedInputPerMillion: nil)
    }

    /// Whether some backend may serve `capability`: false only when the catalog knows every
    /// backend's model and none of them has it (an embeddings model asked to chat).
    func mayServe(_ capability: GatewayConfig.Capability) -> Bool {
        priorities.contains { $0.contains { !($0.info?.lacks(capability) ?? false) } }
    }

    func backend(_ ref: FallbackPlan.BackendRef) -> CompiledBackend {
        priorities[ref.priority][ref.index]
    }
}
