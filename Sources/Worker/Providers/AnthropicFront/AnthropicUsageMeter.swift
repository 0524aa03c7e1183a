import Config
import NIOCore
import NIOHTTP1
import TollgateCore

/// Anthropic front → Anthropic backend: the response passes through unchanged while its usage
/// is read (`usage` of a message; `message_start`/`message_delta` of a stream), for the cost
/// headers and the `: tollgate-usage` comment after `message_stop`.
///
/// Only the provider's final count is usage: `message_start` carries the prompt and a
/// placeholder output count of one or so, the real output count arrives in `message_delta`.
/// A stream cut before that has no usage, and the exchange settles it with the reserved
/// estimate (billing `message_start` would charge cents for a dollar answer). Numbers are read
/// with `JSONScanner` and saturated, never trusted to fit.
final class AnthropicUsageMeter: ResponseTranslator {
    private let price: GatewayConfig.ModelPrice?
    private var parser: SSEParser
    private var input = 0
    private var output = 0
    private var cached = 0
    private var final = false
    private(set) var streamFailure: String?

    init(price: GatewayConfig.ModelPrice?, maxLineBytes: Int = SSEParser.defaultMaxLineBytes) {
        self.price = price
        self.parser = SSEParser(maxLineBytes: maxLineBytes)
    }

    var usage: Usage? {
        final ? Usage(promptTokens: Usage.sum(input, max(0, cached)), completionTokens: output, cachedTokens: cached) : nil
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
        body.withUnsafeBytes { raw in
            guard let index = try? JSONScanner.scanObject(raw) else { return }
            note(index.member("usage", in: raw), in: raw, final: true)
        }
        return (status, body)
    }

    func translateChunk(_ buffer: ByteBuffer) -> [UInt8] {
        var out: [UInt8] = []
        let events: [SSEParser.Event]
        do {
            events = try parser.feed(buffer.readableBytesView)
        } catch {
            streamFailure = error.description
            return Self.streamErrorEvent(error.description, front: .anthropic)
        }
        for event in events {
            if event.data.containsBytes("\"usage\"") {
                event.data.withUnsafeBytes { raw in
                    guard let index = try? JSONScanner.scanObject(raw) else { return }
                    let type = event.event ?? index.string("type", in: raw)
                    if type == "message_start", let message = index.member("message", in: raw), message.kind == .object,
                       let nested = try? JSONScanner.scanObject(raw, in: message.value) {
                        note(nested.member("usage", in: raw), in: raw, final: false)
                    } else if type == "message_delta" {
                        note(index.member("usage", in: raw), in: raw, final: true)
                    }
                }
            }
            if let name = event.event { out += Array("event: \(name)\n".utf8) }
            out += Array("data: ".utf8) + event.data + [0x0A, 0x0A]
            if event.event == "message_stop", let usage { out += usage.streamComment(price) }
        }
        return out
    }

    func finishStream() -> [UInt8] { [] }

    private func note(_ member: JSONObjectIndex.Member?, in raw: UnsafeRawBufferPointer, final isFinal: Bool) {
        guard let member, member.kind == .object, let u = try? JSONScanner.scanObject(raw, in: member.value) else { return }
        if isFinal { final = true }
        if let v = u.saturatingInt("input_tokens", in: raw) { input = v }
        if let v = u.saturatingInt("output_tokens", in: raw) { output = v }
        if let v = u.saturatingInt("cache_read_input_tokens", in: raw) { cached = v }
    }
}
