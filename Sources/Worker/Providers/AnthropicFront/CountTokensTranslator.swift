import NIOCore
import NIOHTTP1
import TollgateCore

/// A provider's token-count answer → Anthropic's `/v1/messages/count_tokens` response
/// (`{"input_tokens":N}`): Gemini/Vertex `countTokens` answer `totalTokens`, Bedrock's
/// `CountTokens` answers `inputTokens`. Errors keep the upstream's message in Anthropic's
/// error shape. Counting is free, so there is no usage. Read with `JSONScanner`.
final class CountTokensTranslator: ResponseTranslator {
    private let providerKind: String
    private let field: String
    let usage: Usage? = nil

    init(providerKind: String, field: String) {
        self.providerKind = providerKind
        self.field = field
    }

    func mode(status: Int, headers: HTTPHeaders) -> TranslationMode { .buffered }
    func translateChunk(_ buffer: ByteBuffer) -> [UInt8] { [] }
    func finishStream() -> [UInt8] { [] }

    func translateWhole(status: Int, body: [UInt8]) -> (status: Int, body: [UInt8]) {
        body.withUnsafeBytes { raw in
            let index = try? JSONScanner.scanObject(raw)
            guard (200..<300).contains(status) else {
                let e = GatewayError(status: status, type: "", code: nil,
                                     message: "Upstream (\(providerKind)): " + (index.flatMap { UpstreamError.message(raw, $0) } ?? "HTTP \(status)"))
                return (status, Array(e.anthropicBody.utf8))
            }
            guard let count = index?.saturatingInt(field, in: raw) else {
                let e = GatewayError(status: 502, type: "", code: "upstream_invalid_response",
                                     message: "The upstream (\(providerKind)) answered count_tokens without '\(field)'.")
                return (502, Array(e.anthropicBody.utf8))
            }
            // Pinned like any upstream count (a negative or absurd number is the upstream's bug).
            return (200, Array("{\"input_tokens\":\(Saturating.clamp(count, to: 0...Usage.maxTokens))}".utf8))
        }
    }

    /// A count_tokens body is a Messages body without `max_tokens`; the chat translators need
    /// one, and it does not change the count. The client's bytes with `"max_tokens":1` spliced
    /// in after the opening brace; nil when the body is not a JSON object.
    static func messagesBody(_ body: ByteBuffer) -> [UInt8]? {
        body.withUnsafeReadableBytes { raw in
            guard let index = try? JSONScanner.scanObject(raw) else { return nil }
            if index.member("max_tokens", in: raw) != nil { return Array(raw) }
            var open = 0
            while raw[open] != UInt8(ascii: "{") { open += 1 }
            let insert = Array((index.members.isEmpty ? #""max_tokens":1"# : #""max_tokens":1,"#).utf8)
            return JSONWriter.replacing(raw, [((open + 1)..<(open + 1), insert)])
        }
    }

    static func messagesBody(_ body: [UInt8]) -> [UInt8]? {
        messagesBody(ByteBuffer(bytes: body))
    }
}

/// The message of an upstream's error body: Google's `{"error":{"message"}}` or AWS's
/// `{"message"}` / `{"Message"}`.
enum UpstreamError {
    static func message(_ raw: UnsafeRawBufferPointer, _ index: JSONObjectIndex) -> String? {
        if let e = index.member("error", in: raw), e.kind == .object, let nested = try? JSONScanner.scanObject(raw, in: e.value),
           let m = nested.string("message", in: raw) {
            return m
        }
        return index.string("message", in: raw) ?? index.string("Message", in: raw)
    }
}
