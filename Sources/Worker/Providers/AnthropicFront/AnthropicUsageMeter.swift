import Config
import Foundation
import NIOCore
import NIOHTTP1
import TollgateCore

/// Anthropic front → Anthropic backend: the response passes through unchanged while its usage
/// is read (`usage` of a message; `message_start`/`message_delta` of a stream), for the cost
/// headers and the `: tollgate-usage` comment after `message_stop`.
final class AnthropicUsageMeter: ResponseTranslator {
    private let price: GatewayConfig.ModelPrice?
    private var parser = SSEParser()
    private var input = 0
    private var output = 0
    private var cached = 0
    private var seen = false

    init(price: GatewayConfig.ModelPrice?) {
        self.price = price
    }

    var usage: Usage? {
        seen ? Usage(promptTokens: input + cached, completionTokens: output, cachedTokens: cached) : nil
    }

    /// The body is the client's own format: when it is too large to hold, relay it.
    var relaysWhenTooLarge: Bool { true }

    func mode(status: Int, headers: HTTPHeaders) -> TranslationMode {
        guard (200..<300).contains(status) else { return .passthrough }
        let type = headers.first(name: "content-type") ?? ""
        if type.hasPrefix("text/event-stream") { return .stream(contentType: type) }
        return type.hasPrefix("application/json") ? .buffered : .passthrough
    }

    func translateWhole(status: Int, body: [UInt8]) -> (status: Int, body: [UInt8]) {
        if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
            note(object["usage"] as? [String: Any])
        }
        return (status, body)
    }

    func translateChunk(_ buffer: ByteBuffer) -> [UInt8] {
        var out: [UInt8] = []
        for event in parser.feed(buffer.readableBytesView) {
            if event.data.containsBytes("\"usage\""),
               let object = try? JSONSerialization.jsonObject(with: Data(event.data)) as? [String: Any] {
                note((object["message"] as? [String: Any])?["usage"] as? [String: Any] ?? object["usage"] as? [String: Any])
            }
            if let name = event.event { out += Array("event: \(name)\n".utf8) }
            out += Array("data: ".utf8) + event.data + [0x0A, 0x0A]
            if event.event == "message_stop", let usage { out += usage.streamComment(price) }
        }
        return out
    }

    func finishStream() -> [UInt8] { [] }

    private func note(_ u: [String: Any]?) {
        guard let u else { return }
        seen = true
        if let v = u["input_tokens"] as? Int { input = v }
        if let v = u["output_tokens"] as? Int { output = v }
        if let v = u["cache_read_input_tokens"] as? Int { cached = v }
    }
}
