import Guardrails
import NIOCore
import SharedState
import NIOHTTP1
import NIOPosix
import TollgateCore

/// One stage of the request path (auth, parsing, model access, guardrails; later WAF,
/// quotas), in the manner of Envoy's HTTP filters.
///
/// A filter value is built once per config generation from the immutable `RuntimeConfig`
/// (that is its validated "FilterConfig"), and then asked about each request. Per-request
/// state lives in the `RequestContext`, never in the filter. Adding a filter means adding its
/// folder under `Filters/` and one line in `FilterChain.factories`.
protocol RequestFilter: Sendable {
    /// A short stable name for logs and metrics.
    var name: String { get }
    /// Called on the worker's event loop. Must not block.
    func onRequest(_ context: RequestContext) -> FilterResult
}

/// What a filter decided.
enum FilterResult {
    /// Go on to the next filter (and finally upstream).
    case proceed
    /// Answer the client now with this error; nothing goes upstream.
    case respond(GatewayError)
    /// The filter waits for I/O (e.g. a remote content-safety check); the chain resumes with
    /// the future's result on the same event loop.
    case suspend(EventLoopFuture<FilterResult>)
}

/// What one API request carries through the chain.
final class RequestContext {
    enum Endpoint: Sendable, Equatable {
        case chatCompletions
        case embeddings
        /// Anthropic's Messages API (`/v1/messages`).
        case messages
        /// Anthropic's `/v1/messages/count_tokens`.
        case countTokens

        /// The path of the equivalent OpenAI operation under an OpenAI-family base URL.
        var upstreamPath: String {
            switch self {
            case .chatCompletions, .messages, .countTokens: return "/chat/completions"
            case .embeddings: return "/embeddings"
            }
        }

        var front: APIFront {
            switch self {
            case .chatCompletions, .embeddings: return .openAI
            case .messages, .countTokens: return .anthropic
            }
        }
    }

    let head: HTTPRequestHead
    /// Replacing the body (a guardrail's redaction) drops `chatRequest`: its spans point into the old bytes.
    var body: ByteBuffer { didSet { chatRequest = nil } }
    let query: String
    let endpoint: Endpoint
    let requestID: String
    let config: RuntimeConfig
    /// The client's address (for the WAF); set by the connection handler.
    var clientAddress: SocketAddress?
    /// Set by `AuthFilter`.
    var key: KeyTable.Entry?
    /// Set by `RequestParsingFilter`: the `model` value and its byte range in `body`.
    var modelName: String?
    var modelRange: Range<Int>?
    /// Set by `RequestParsingFilter`: `stream`, `stream_options.include_usage`, and the byte
    /// range of the `stream_options` value if present.
    var stream = false
    var includeUsage = false
    var streamOptionsRange: Range<Int>?
    var maxTokens: Int?
    /// Set by `RequestParsingFilter` for chat completions: the decoded request every translator reads.
    var chatRequest: ChatRequest?
    /// Set by `ModelAccessFilter`.
    var route: CompiledRoute?
    /// Set by `QuotaFilter` when the request holds quota; settled once when it ends.
    var admission: QuotaAdmission?
    /// The pod's quota table and this worker's column in it (from the worker).
    var quotaTable: QuotaTable?
    var quotaWorker = 0
    /// Strict (per-request Redis) quota checks, when the config has any.
    var strictQuota: StrictQuotaPool?
    /// The pod's per-rule counters (guardrail findings, WAF matches) for /metrics.
    var counters: LabeledCounters?
    /// The worker's WAF thread (ModSecurity inspections run there, not on the event loop).
    var wafThread: NIOThreadPool?
    /// Headers filters add to the client's response (e.g. `x-tollgate-guardrails`).
    var responseHeaders: [(String, String)] = []
    /// Set by `GuardrailsFilter` when some policy inspects the response.
    var responseGuardrails: GuardrailEngine?
    /// The worker's loop and upstream pool, for filters that make calls of their own.
    var io: FilterIO?

    init(head: HTTPRequestHead, body: ByteBuffer, query: String, endpoint: Endpoint, requestID: String, config: RuntimeConfig) {
        self.head = head
        self.body = body
        self.query = query
        self.endpoint = endpoint
        self.requestID = requestID
        self.config = config
    }
}
