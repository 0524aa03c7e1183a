import Foundation
import NIOCore
import NIOHTTP1
import TollgateCore

/// A provider's token-count answer → Anthropic's `/v1/messages/count_tokens` response
/// (`{"input_tokens":N}`): Gemini/Vertex `countTokens` answer `totalTokens`, Bedrock's
/// `CountTokens` answers `inputTokens`. Errors keep the upstream's message in Anthropic's
/// error shape. Counting is free, so there is no usage.
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
        let object = try? JSONSerialization.jsonObject(with: Data(body))
        guard (200..<300).contains(status) else {
            let e = GatewayError(status: status, type: "", code: nil,
                                 message: "Upstream (\(providerKind)): " + (EmbeddingsTranslator.errorMessage(object) ?? "HTTP \(status)"))
            return (status, Array(e.anthropicBody.utf8))
        }
        guard let raw = Usage.count((object as? [String: Any])?[field]) else {
            let e = GatewayError(status: 502, type: "", code: "upstream_invalid_response",
                                 message: "The upstream (\(providerKind)) answered count_tokens without '\(field)'.")
            return (502, Array(e.anthropicBody.utf8))
        }
        // Pinned like any upstream count (a negative or absurd number is the upstream's bug).
        let count = Saturating.clamp(raw, to: 0...Usage.maxTokens)
        return (200, Array("{\"input_tokens\":\(count)}".utf8))
    }

    /// A count_tokens body is a Messages body without `max_tokens`; the chat translators need
    /// one, and it does not change the count.
    static func messagesBody(_ body: [UInt8]) -> [UInt8]? {
        guard var object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        if object["max_tokens"] == nil { object["max_tokens"] = 1 }
        return (try? JSONSerialization.data(withJSONObject: object)).map { Array($0) }
    }
}
