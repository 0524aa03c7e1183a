/// The validated, compiled configuration of one data plane: what the controller writes into a
/// snapshot and what every worker decodes once per generation.
///
/// This is the *output* of validation, not the YAML schema: every reference is resolved
/// (a model's route exists, a backend's provider exists), every default is filled in, and
/// credentials are resolved to values. Workers trust it without re-checking. It must stay
/// `Codable` (it is the snapshot payload) and cheap to turn into lookup tables.
public struct GatewayConfig: Codable, Sendable, Equatable {
    /// Schema version of the YAML the config was compiled from (currently 1).
    public var version: Int
    public var listeners: [Listener]
    public var limits: Limits
    public var providers: [Provider]
    public var models: [Model]
    public var routes: [Route]
    public var apiKeys: [APIKey]
    /// When set, `tollgate serve` also runs the built-in mock provider as a supervised child.
    public var mockProvider: MockProviderSettings?
    /// Upstream model → catalog entry (price, limits, capabilities): the built-in catalog,
    /// then the config's `catalog_file:`, then its `pricing:`.
    public var catalog: [String: ModelInfo]
    /// Rate limits, token limits, budgets and their cluster sync.
    public var quotas: Quotas = Quotas()
    /// The optional ModSecurity + OWASP CRS filter (off unless `waf.enabled`).
    public var waf = WAFConfig()
    /// Guardrail policies and the ones every request gets.
    public var guardrails = GuardrailsSettings()
    /// The operator listener (`admin:`) that serves `/metrics`; nil: no metrics endpoint.
    public var admin: Listener?

    public init(
        version: Int = 1,
        listeners: [Listener],
        limits: Limits = Limits(),
        providers: [Provider],
        models: [Model],
        routes: [Route],
        apiKeys: [APIKey],
        mockProvider: MockProviderSettings? = nil,
        catalog: [String: ModelInfo] = ModelCatalog.builtIn
    ) {
        self.version = version
        self.listeners = listeners
        self.limits = limits
        self.providers = providers
        self.models = models
        self.routes = routes
        self.apiKeys = apiKeys
        self.mockProvider = mockProvider
        self.catalog = catalog
    }
}

extension GatewayConfig {
    /// An address the workers accept client connections on (bound with SO_REUSEPORT by each).
    public struct Listener: Codable, Sendable, Equatable {
        public var address: String
        public var port: Int
        public init(address: String, port: Int) {
            self.address = address
            self.port = port
        }
    }

    /// Every bound the data plane enforces. Each has a default, so an empty `limits:` section
    /// still yields a gateway that cannot be exhausted by one slow or oversized client.
    public struct Limits: Codable, Sendable, Equatable {
        /// Largest request body accepted; larger gets 413. Default 10 MiB.
        public var maxBodyBytes: Int = 10 * 1024 * 1024
        /// Largest total size of request line + headers; larger gets 431. Default 32 KiB.
        public var maxHeaderBytes: Int = 32 * 1024
        /// Time a client has to send a complete request once it started one; else 408. Default 30 s.
        public var requestReadTimeoutMs: Int = 30_000
        /// Idle keep-alive connections are closed after this long. Default 75 s.
        public var idleTimeoutMs: Int = 75_000
        /// TCP (+TLS) connect to an upstream. Default 5 s.
        public var upstreamConnectTimeoutMs: Int = 5_000
        /// From request sent to response head received. Default 300 s (non-streaming
        /// completions only answer when the whole generation is done).
        public var upstreamFirstByteTimeoutMs: Int = 300_000
        /// Longest silence between two body chunks of an upstream response. Default 120 s.
        public var upstreamIdleTimeoutMs: Int = 120_000
        /// Client connections one worker holds at most; more are closed at accept. Default 10000.
        public var maxConnectionsPerWorker: Int = 10_000
        /// Idle keep-alive connections kept per upstream per event loop. Default 64.
        public var upstreamMaxIdleConnections: Int = 64
        /// Connections (connecting, busy and idle) one worker opens at most to one upstream
        /// origin; more requests wait for one. Default 512, at most 60000.
        public var maxUpstreamConnectionsPerOrigin: Int = 512
        /// Requests that may wait per origin for a connection once the origin is at
        /// `maxUpstreamConnectionsPerOrigin` (for at most the connect timeout); more fail at once
        /// with 503 (or the next backend). Default 1024, at most 1000000.
        public var maxUpstreamWaitQueue: Int = 1024
        /// An idle pooled (keep-alive) upstream connection is closed after this long. Default
        /// 55 s: below the 60 s after which common servers and load balancers drop an idle
        /// connection, so the gateway closes first instead of writing into a dying one.
        public var upstreamKeepaliveTimeoutMs: Int = 55_000
        /// How long SIGTERM waits for in-flight requests (streams included). Default 30 s.
        public var shutdownGraceMs: Int = 30_000
        /// Longest `retry-after` the router will wait out within one request when nothing else
        /// is left to try. Default 0: never wait, fail over or fail fast.
        public var maxRetryAfterWaitMs: Int = 0
        /// Largest non-streamed upstream response the gateway collects to translate it or read
        /// its usage; larger gets 502 `upstream_response_too_large`. Default 16 MiB.
        public var maxResponseCollectBytes: Int = 16 * 1024 * 1024
        /// Longest line (or one event's accumulated `data:`) of an upstream Server-Sent Events
        /// stream; longer ends the stream with an error event. Default 4 MiB.
        public var maxSSELineBytes: Int = 4 * 1024 * 1024
        /// Largest AWS event-stream frame (Bedrock streams); larger ends the stream with an
        /// error event. Default 4 MiB, at most 16 MiB (the format's own ceiling).
        public var maxEventFrameBytes: Int = 4 * 1024 * 1024
        /// How much of a refused request's body (401 decided on the head, 413) the gateway
        /// reads and drops after answering, so the client sees the answer rather than a reset;
        /// beyond it the connection is closed. Default 64 KiB.
        public var maxRefusedBodyBytes: Int = 64 * 1024

        public init() {}
    }

    /// The wire format a provider speaks; the worker picks the matching adapter.
    /// `openai` and `openai-compatible` are the same format; `anthropic` is the Messages API
    /// (base URL without `/v1`, e.g. `https://api.anthropic.com`).
    public enum ProviderKind: String, Codable, Sendable, Equatable, CaseIterable {
        case openai
        case openaiCompatible = "openai-compatible"
        case azureOpenAI = "azure-openai"
        case anthropic
        /// Google AI Studio's Gemini API (base URL `https://generativelanguage.googleapis.com`).
        case gemini
        /// Amazon Bedrock's Converse API, SigV4-signed (base URL
        /// `https://bedrock-runtime.<region>.amazonaws.com`).
        case bedrock
        /// Gemini on Vertex AI, with a service-account OAuth token the controller mints and
        /// refreshes (base URL `https://<location>-aiplatform.googleapis.com`).
        case vertex
    }

    /// Vertex AI: where the model lives and the service account that may call it.
    public struct VertexSettings: Codable, Sendable, Equatable {
        public var project: String
        public var location: String
        public var clientEmail: String
        public var privateKeyPEM: Secret
        public var tokenURI: String
        /// When the access token in the provider's `apiKey` expires (unix seconds; 0 = none yet).
        public var tokenExpiresAt: Int
        public init(project: String, location: String, clientEmail: String, privateKeyPEM: Secret, tokenURI: String, tokenExpiresAt: Int = 0) {
            self.project = project
            self.location = location
            self.clientEmail = clientEmail
            self.privateKeyPEM = privateKeyPEM
            self.tokenURI = tokenURI
            self.tokenExpiresAt = tokenExpiresAt
        }
    }

    /// Resolved AWS credentials (from the environment or a shared credentials file).
    public struct AWSCredentials: Codable, Sendable, Equatable {
        public var accessKeyID: String
        public var secretAccessKey: Secret
        public var sessionToken: Secret?
        public init(accessKeyID: String, secretAccessKey: Secret, sessionToken: Secret?) {
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }
    }

    /// How a credential is presented upstream where a kind allows a choice (Azure OpenAI takes
    /// its `api-key` header or an Entra ID bearer token).
    public enum AuthScheme: String, Codable, Sendable, Equatable, CaseIterable {
        case apiKey = "api-key"
        case bearer
    }

    /// An upstream API endpoint and how to authenticate to it.
    public struct Provider: Codable, Sendable, Equatable {
        public var name: String
        public var kind: ProviderKind
        /// Scheme, host, optional port and path prefix, e.g. `https://api.openai.com/v1`.
        /// Request paths are appended after the prefix with the front's `/v1` stripped.
        public var baseURL: String
        /// Resolved credential (from env or file at compile time), sent the way the kind expects
        /// (a bearer token, or Anthropic's `x-api-key`).
        public var apiKey: Secret?
        /// Extra static headers sent upstream (e.g. `OpenAI-Organization`).
        public var headers: [String: String]
        /// Azure OpenAI's `api-version` query parameter (required for `azure-openai`).
        public var apiVersion: String?
        /// Azure OpenAI: `api-key` header (default) or `bearer` token.
        public var authScheme: AuthScheme?
        /// Bedrock: the region requests are signed for, and the credentials.
        public var awsRegion: String?
        public var awsCredentials: AWSCredentials?
        /// Bedrock: set when the credentials are temporary and fetched by the controller;
        /// `awsCredentials` then holds the current ones, valid until `awsCredentialsExpireAt`
        /// (unix seconds; 0 before the first fetch).
        public var awsCredentialSource: AWSCredentialSource?
        public var awsCredentialsExpireAt: Int = 0
        /// USD budgets on this provider's spending: a backend whose provider is over budget is
        /// skipped in fallback chains.
        public var budget: LimitSet?
        /// Vertex AI settings (the access token itself goes into `apiKey` once minted).
        public var vertex: VertexSettings?

        public init(name: String, kind: ProviderKind, baseURL: String, apiKey: Secret? = nil, headers: [String: String] = [:],
                    apiVersion: String? = nil, authScheme: AuthScheme? = nil) {
            self.name = name
            self.kind = kind
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.headers = headers
            self.apiVersion = apiVersion
            self.authScheme = authScheme
        }
    }

    /// A public model name clients send, and the route its requests walk by default.
    public struct Model: Codable, Sendable, Equatable {
        public var name: String
        /// Name of the route in `routes`.
        public var route: String
        /// Limits on the model across all keys.
        public var limits: LimitSet?
        public init(name: String, route: String, limits: LimitSet? = nil) {
            self.name = name
            self.route = route
            self.limits = limits
        }
    }

    /// A fallback chain: priorities are tried in order; inside one, backends by weight.
    public struct Route: Codable, Sendable, Equatable {
        public var name: String
        public var priorities: [Priority]
        /// Upper bound on upstream attempts for one client request (defaults to every backend).
        public var maxAttempts: Int
        /// Guardrail policies for requests on this route (after the defaults).
        public var guardrails: [String]
        /// Whether the client's query string is appended to the upstream URL (`forward_query`);
        /// off by default, so a client cannot reach upstream parameters the route did not mean
        /// to expose.
        public var forwardQuery: Bool
        public init(name: String, priorities: [Priority], maxAttempts: Int, guardrails: [String] = [], forwardQuery: Bool = false) {
            self.name = name
            self.priorities = priorities
            self.maxAttempts = maxAttempts
            self.guardrails = guardrails
            self.forwardQuery = forwardQuery
        }
    }

    public struct Priority: Codable, Sendable, Equatable {
        public var backends: [Backend]
        public init(backends: [Backend]) { self.backends = backends }
    }

    /// One upstream target: a provider and the model name to send it.
    public struct Backend: Codable, Sendable, Equatable {
        public var provider: String
        public var model: String
        /// Relative share within its priority; > 0.
        public var weight: Int
        public init(provider: String, model: String, weight: Int = 1) {
            self.provider = provider
            self.model = model
            self.weight = weight
        }
        /// Stable identifier used in headers, logs and error bodies: `provider/model`.
        public var id: String { "\(provider)/\(model)" }
    }

    /// A client credential, stored only as a hash.
    public struct APIKey: Codable, Sendable, Equatable {
        public var name: String
        /// `sha256:` followed by 64 lowercase hex digits of SHA-256(plaintext key).
        public var keyHash: String
        /// Public model names this key may call; `["*"]` means all.
        public var models: [String]
        /// Per-key route overrides: public model name → route name.
        public var routes: [String: String]
        /// The team (`quotas.teams`) whose limits this key shares.
        public var team: String?
        /// The key's own limits (else `quotas.key_defaults`), and per model.
        public var limits: LimitSet?
        public var modelLimits: [String: LimitSet] = [:]
        /// Guardrail policies for this key's requests (after the defaults and the route's).
        public var guardrails: [String]
        public init(name: String, keyHash: String, models: [String], routes: [String: String] = [:],
                    team: String? = nil, limits: LimitSet? = nil, modelLimits: [String: LimitSet] = [:], guardrails: [String] = []) {
            self.name = name
            self.keyHash = keyHash
            self.models = models
            self.routes = routes
            self.team = team
            self.limits = limits
            self.modelLimits = modelLimits
            self.guardrails = guardrails
        }
    }

    public struct MockProviderSettings: Codable, Sendable, Equatable {
        public var address: String
        public var port: Int
        public init(address: String, port: Int) {
            self.address = address
            self.port = port
        }
    }
}

/// A credential value. Its descriptions never show the value, so a secret that ends up in a
/// log line or an error message by accident prints as `<redacted>`.
public struct Secret: Codable, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String
    public init(_ value: String) { self.value = value }
    public init(from decoder: any Decoder) throws {
        self.value = try decoder.singleValueContainer().decode(String.self)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
