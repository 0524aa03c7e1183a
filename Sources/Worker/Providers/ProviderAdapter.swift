import Config
import Foundation
import NIOCore
import NIOHTTP1
import TollgateCore

/// The wire format of one provider kind: how a client request becomes the upstream request,
/// and how the upstream response becomes what the client's front expects.
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

/// Token counts of one response, as the provider reported them.
struct Usage: Equatable, Sendable {
    var promptTokens: Int
    var completionTokens: Int
    var cachedTokens: Int

    /// What these tokens cost at `price`, or nil when the model has no known price.
    func cost(_ price: GatewayConfig.ModelPrice?) -> Double? {
        price?.cost(promptTokens: promptTokens, completionTokens: completionTokens, cachedTokens: cachedTokens)
    }

    /// The SSE comment that closes a stream with its usage and cost. Comments are ignored by
    /// SSE clients (and the SDKs), so this costs nothing to anyone who does not look.
    func streamComment(_ price: GatewayConfig.ModelPrice?) -> [UInt8] {
        var s = ": tollgate-usage {\"prompt_tokens\":\(promptTokens),\"completion_tokens\":\(completionTokens),\"cached_tokens\":\(cachedTokens)"
        if let c = cost(price) { s += ",\"cost_usd\":" + Usage.format(c) }
        return Array((s + "}\n\n").utf8)
    }

    /// USD to the nano-dollar, without exponent notation and without Foundation's formatter
    /// (this runs for every response).
    static func format(_ usd: Double) -> String {
        let nanos = Int((usd * 1_000_000_000).rounded())
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
}

extension ResponseTranslator {
    var relaysWhenTooLarge: Bool { false }

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
