import Config
import NIOCore
import NIOHTTP1
import TollgateCore

/// The wire format of one provider kind: how a client request becomes the upstream request,
/// and how the upstream response becomes what the client's front expects.
///
/// `Providers/` owns every upstream wire format, both ways, around one decoded chat request:
/// `ChatRequest` (`Request/`), the OpenAI Chat Completions body decoded once with
/// `JSONScanner` by `RequestParsingFilter` and read by every translator
/// (`ProxyExchange.Request.decodedChat()`; a body a guardrail rewrote is decoded once more, as
/// spans point into bytes). Output is written with `JSONBuilder`, copying what the client or
/// upstream sent as the bytes it is; upstream bodies and stream events are read with
/// `JSONObjectView`. It must not use `JSONSerialization`, `[String: Any]` or `as?` casts on the
/// request or stream path, do I/O (adapters are bytes in, bytes out), or trap on any input.
/// `tollgate providers-bench` (`Bench/`) measures each translator.
///
/// Adapters are stateless values chosen per provider when the config is compiled; everything
/// per response lives in the `ResponseTranslator` an adapter hands out. The OpenAI adapter
/// passes bytes through (only the `model` value is rewritten); translating adapters parse.
protocol ProviderAdapter: Sendable {
    /// The request for one attempt at `backend`, or a 400 naming what cannot be translated.
    func upstreamRequest(for request: ProxyExchange.Request, backend: CompiledBackend) -> Result<UpstreamRequest, GatewayError>
    /// How to translate the response, or nil to relay it untouched.
    func responseTranslator(for request: ProxyExchange.Request, backend: CompiledBackend) -> (any ResponseTranslator)?
}

/// What goes upstream, apart from the headers every request gets (host, length, auth, id).
struct UpstreamRequest {
    /// Path under the provider's base URL, query included.
    var path: String
    var headers: [(String, String)]
    var body: [UInt8]
}

/// Token counts of one response, as the provider reported them, pinned to
/// `0...Usage.maxTokens`: the numbers come from the upstream's body, and a negative count must
/// not refund a budget nor an absurd one overflow the cost arithmetic. `wasClamped` records
/// that a number had to be pinned, so the exchange can log the misbehaving upstream.
struct Usage: Equatable, Sendable {
    /// More tokens than any one response can hold (≈1.1 × 10¹²); at $10,000 per million
    /// tokens this still costs less than 2^63 nano-dollars.
    static let maxTokens = 1 << 40

    private(set) var promptTokens: Int
    private(set) var completionTokens: Int
    private(set) var cachedTokens: Int
    /// Some count the provider sent was negative or above `maxTokens`.
    private(set) var wasClamped = false

    init(promptTokens: Int, completionTokens: Int, cachedTokens: Int) {
        self.promptTokens = 0
        self.completionTokens = 0
        self.cachedTokens = 0
        self.promptTokens = pin(promptTokens)
        self.completionTokens = pin(completionTokens)
        // Cached tokens are a part of the prompt's.
        self.cachedTokens = min(pin(cachedTokens), self.promptTokens)
    }

    private mutating func pin(_ value: Int) -> Int {
        if value < 0 || value > Self.maxTokens { wasClamped = true }
        return Saturating.clamp(value, to: 0...Self.maxTokens)
    }

    /// `a + b` for token counts of one response (input + cache reads + cache writes).
    static func sum(_ values: Int...) -> Int {
        values.reduce(0) { Saturating.add($0, $1) }
    }

    /// Total tokens, for the quota table.
    var totalTokens: Int { promptTokens + completionTokens }

    /// What these tokens cost at `price`, or nil when the model has no known price. Never
    /// negative (counts are pinned at zero; a price is validated non-negative) and at most
    /// `maxFormattedUSD` (an absurd price times an absurd count is not infinity).
    func cost(_ price: GatewayConfig.ModelPrice?) -> Double? {
        guard let c = price?.cost(promptTokens: promptTokens, completionTokens: completionTokens, cachedTokens: cachedTokens) else { return nil }
        return c > 0 ? min(c, Self.maxFormattedUSD) : 0  // NaN compares false: 0
    }

    /// The SSE comment that closes a stream with its usage and cost. Comments are ignored by
    /// SSE clients (and the SDKs), so this costs nothing to anyone who does not look.
    func streamComment(_ price: GatewayConfig.ModelPrice?) -> [UInt8] {
        var s = ": tollgate-usage {\"prompt_tokens\":\(promptTokens),\"completion_tokens\":\(completionTokens),\"cached_tokens\":\(cachedTokens)"
        if let c = cost(price) { s += ",\"cost_usd\":" + Usage.format(c) }
        return Array((s + "}\n\n").utf8)
    }

    /// The largest amount `format` prints: a billion dollars for one response is already a
    /// misbehaving upstream or catalog, and it keeps the nano-dollar count far from Int.max.
    static let maxFormattedUSD = 1_000_000_000.0

    /// USD to the nano-dollar, without exponent notation and without Foundation's formatter
    /// (this runs for every response). Negative and NaN print as 0, huge values as
    /// `maxFormattedUSD`.
    static func format(_ usd: Double) -> String {
        let nanos = Saturating.int((Saturating.clamp(usd.isNaN ? 0 : usd, to: 0...maxFormattedUSD) * 1_000_000_000).rounded())
        let whole = nanos / 1_000_000_000
        var fraction = String(nanos % 1_000_000_000)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.count > 1 && fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)"
    }
}

/// Turns one upstream response into the client front's format.
protocol ResponseTranslator: AnyObject {
    /// The usage seen so far (complete once the response ended).
    var usage: Usage? { get }
    /// Decides, from the upstream head of a response that will be served, whether the body is
    /// translated as it streams (SSE) or collected whole and translated at the end.
    func mode(status: Int, headers: HTTPHeaders) -> TranslationMode
    /// Streaming: translated bytes for a piece of upstream body (possibly empty).
    func translateChunk(_ buffer: ByteBuffer) -> [UInt8]
    /// Streaming, as the proxy calls it: the bytes to send for a piece of upstream body. A
    /// translator that mostly relays can return (a slice of) `buffer` itself, sparing a copy.
    func relayChunk(_ buffer: ByteBuffer) -> ByteBuffer
    /// Streaming: bytes to send after the upstream body ended (e.g. `data: [DONE]`).
    func finishStream() -> [UInt8]
    /// Buffered: the client's status and body for the whole upstream body.
    func translateWhole(status: Int, body: [UInt8]) -> (status: Int, body: [UInt8])
    /// Buffered, when the body outgrows `limits.max_response_collect_bytes`: true when the
    /// upstream body is already in the client's format (only read for usage), so it can be
    /// relayed as it is; false when it must be translated, and the request fails with 502.
    var relaysWhenTooLarge: Bool { get }
    /// Set once a stream cannot be translated on (the upstream broke the framing or a
    /// parser's cap): the bytes the translator already returned end with the front's error
    /// event, and the exchange stops reading and closes the response.
    var streamFailure: String? { get }
}

extension ResponseTranslator {
    var relaysWhenTooLarge: Bool { false }
    var streamFailure: String? { nil }

    /// The error event that ends a stream of `front` the gateway cannot translate further.
    static func streamErrorEvent(_ reason: String, front: APIFront) -> [UInt8] {
        SSEStreamReader.errorEvent(reason, front: front)
    }

    func relayChunk(_ buffer: ByteBuffer) -> ByteBuffer {
        let out = translateChunk(buffer)
        return out.isEmpty ? ByteBuffer() : ByteBuffer(bytes: out)
    }
}

enum TranslationMode {
    case stream(contentType: String)
    case buffered
    /// Relay untouched (e.g. an error body the client's front already understands).
    case passthrough
}
