import CTollgate
import Config
import NIOCore
import NIOHTTP1
import TollgateCore

/// Reads the usage out of an OpenAI-format response without changing what the client gets:
/// a JSON body is collected (so usage and cost can go into the response headers) and passed on
/// byte for byte; a stream is relayed event by event, the usage chunk is dropped when only the
/// gateway asked for it, and a `: tollgate-usage {…}` comment with tokens and cost goes before
/// `[DONE]`.
final class OpenAIUsageMeter: ResponseTranslator {
    private let price: GatewayConfig.ModelPrice?
    private let forwardUsageChunk: Bool
    private var reader: SSEStreamReader
    var streamFailure: String? { reader.failure }
    private(set) var usage: Usage?

    /// Bodies larger than this are relayed without usage rather than held in memory.
    static let maxCollectedBytes = 8 * 1024 * 1024

    /// The body is the client's own format: when it is too large to hold, relay it.
    var relaysWhenTooLarge: Bool { true }

    init(price: GatewayConfig.ModelPrice?, forwardUsageChunk: Bool, maxLineBytes: Int = SSEParser.defaultMaxLineBytes) {
        self.reader = SSEStreamReader(maxLineBytes: maxLineBytes, front: .openAI)
        self.price = price
        self.forwardUsageChunk = forwardUsageChunk
    }

    func mode(status: Int, headers: HTTPHeaders) -> TranslationMode {
        guard (200..<300).contains(status) else { return .passthrough }
        let type = headers.first(name: "content-type") ?? ""
        if type.hasPrefix("text/event-stream") { return .stream(contentType: type) }
        if type.hasPrefix("application/json"),
           (headers.first(name: "content-length").flatMap(Int.init) ?? 0) <= Self.maxCollectedBytes {
            return .buffered
        }
        return .passthrough
    }

    func translateWhole(status: Int, body: [UInt8]) -> (status: Int, body: [UInt8]) {
        body.withUnsafeBytes { raw in
            if let index = try? JSONScanner.scanObject(raw) {
                usage = Self.usage(in: raw, index: index)
            }
        }
        return (status, body)
    }

    /// Zero-copy for the common piece: complete events that carry no usage object and no
    /// `[DONE]` go out as the very buffer that came in.
    func relayChunk(_ buffer: ByteBuffer) -> ByteBuffer {
        if reader.isAtBoundary {
            let raw = buffer.withUnsafeReadableBytes { Self.rawPrefixLength($0) }
            if raw == buffer.readableBytes { return buffer }
            if raw > 0 {
                var head = buffer.getSlice(at: buffer.readerIndex, length: raw)!
                let tail = buffer.getSlice(at: buffer.readerIndex + raw, length: buffer.readableBytes - raw)!
                let rest = parsed(tail)
                if !rest.isEmpty { head.writeBytes(rest) }
                return head
            }
        }
        let out = parsed(buffer)
        return out.isEmpty ? ByteBuffer() : ByteBuffer(bytes: out)
    }

    func translateChunk(_ buffer: ByteBuffer) -> [UInt8] {
        let out = relayChunk(buffer)
        return Array(out.readableBytesView)
    }

    /// The events of `buffer` through the parser: the usage chunk read (and dropped when the
    /// client did not ask for it), `[DONE]` preceded by the usage comment.
    private func parsed(_ buffer: ByteBuffer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(buffer.readableBytes + 16)
        for event in reader.events(buffer) {
            if event.isDone {
                if let usage { out += usage.streamComment(price) }
                out += Array("data: [DONE]\n\n".utf8)
                continue
            }
            let bytes = event.data
            var isUsageOnly = false
            // Only the chunk that carries usage is worth a scan; the others say `"usage":null` or nothing.
            if bytes.containsBytes("\"usage\":{") || bytes.containsBytes("\"usage\": {") {
                bytes.withUnsafeBytes { raw in
                    guard let index = try? JSONScanner.scanObject(raw), let u = Self.usage(in: raw, index: index) else { return }
                    usage = u
                    if let choices = index.member("choices", in: raw), choices.kind == .array {
                        isUsageOnly = raw[choices.value].allSatisfy { $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "]") || $0 == 0x20 }
                    }
                }
            }
            if isUsageOnly && !forwardUsageChunk { continue }
            if let name = event.event { out += Array("event: \(name)\n".utf8) }
            out.append(contentsOf: "data: ".utf8)
            out.append(contentsOf: bytes)
            out.append(0x0A)
            out.append(0x0A)
        }
        return out + reader.takeFailureEvent()
    }

    func finishStream() -> [UInt8] { [] }

    /// How many leading bytes are complete events that need no inspection: up to the last
    /// event boundary (`\n\n`) before the first usage object (`"usage":{`, spaces allowed) or
    /// `[DONE]`. One vectorised pass: `"usage":` occurs in every chunk of a stream that asked
    /// for usage (as `null`), each hit costs a byte look; `[DONE]` is the stream's last event,
    /// so only the buffer's tail can hold it.
    static func rawPrefixLength(_ raw: UnsafeRawBufferPointer) -> Int {
        var limit = raw.count
        var from = 0
        while from < raw.count, let hit = firstIndex(of: #""usage":"#, in: UnsafeRawBufferPointer(rebasing: raw[from...])) {
            var j = from + hit + 8
            while j < raw.count && raw[j] == 0x20 { j += 1 }
            if j >= raw.count || raw[j] == UInt8(ascii: "{") {
                limit = from + hit
                break
            }
            from = j
        }
        let tail = max(0, limit - 32)
        if let done = firstIndex(of: "[DONE]", in: UnsafeRawBufferPointer(rebasing: raw[tail..<limit])) {
            limit = tail + done
        }
        var i = limit - 1
        while i >= 1 {
            if raw[i] == 0x0A && raw[i - 1] == 0x0A { return i + 1 }
            i -= 1
        }
        return 0
    }

    /// glibc's `memmem` (vectorised): this runs over every streamed byte, three needles each.
    static func firstIndex(of needle: StaticString, in raw: UnsafeRawBufferPointer) -> Int? {
        guard let base = raw.baseAddress, raw.count >= needle.utf8CodeUnitCount else { return nil }
        guard let hit = tg_memmem(base, raw.count, needle.utf8Start, needle.utf8CodeUnitCount) else { return nil }
        return base.distance(to: UnsafeRawPointer(hit))
    }

    /// `usage.prompt_tokens`, `completion_tokens` and `prompt_tokens_details.cached_tokens`.
    static func usage(in raw: UnsafeRawBufferPointer, index: JSONObjectIndex) -> Usage? {
        guard let member = index.member("usage", in: raw), member.kind == .object,
              let u = try? JSONScanner.scanObject(raw, in: member.value) else { return nil }
        var cached = 0
        if let details = u.member("prompt_tokens_details", in: raw), details.kind == .object,
           let d = try? JSONScanner.scanObject(raw, in: details.value) {
            cached = d.saturatingInt("cached_tokens", in: raw) ?? 0
        }
        let prompt = u.saturatingInt("prompt_tokens", in: raw) ?? 0
        let completion = u.saturatingInt("completion_tokens", in: raw) ?? 0
        return Usage(promptTokens: prompt, completionTokens: completion, cachedTokens: cached)
    }
}
