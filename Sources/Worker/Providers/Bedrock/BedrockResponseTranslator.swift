import Config
import NIOCore
import NIOHTTP1
import TollgateCore

/// Bedrock Converse response → OpenAI Chat Completions; ConverseStream's binary event stream
/// (`EventStreamDecoder`) → OpenAI chunks: messageStart → role chunk, contentBlockStart with a
/// toolUse → tool call chunk, contentBlockDelta → content or arguments, messageStop → finish
/// reason, metadata → usage (and then the usage chunk, the cost comment and `[DONE]`); an
/// exception frame → an OpenAI-shaped error event. Stop reasons: end_turn/stop_sequence → stop,
/// max_tokens → length, tool_use → tool_calls, guardrail_intervened/content_filtered →
/// content_filter.
final class BedrockResponseTranslator: ResponseTranslator {
    private let model: String
    private let price: GatewayConfig.ModelPrice?
    private let writer: OpenAIChunkWriter
    private var decoder: EventStreamDecoder
    private(set) var streamFailure: String?
    private(set) var usage: Usage?
    private var toolIndex: [Int: Int] = [:]
    private var done = false

    init(publicModel: String, includeUsage: Bool, price: GatewayConfig.ModelPrice?,
         maxFrameBytes: Int = EventStreamDecoder.defaultMaxMessageBytes) {
        self.decoder = EventStreamDecoder(maxMessageBytes: maxFrameBytes)
        self.model = publicModel
        self.price = price
        self.writer = OpenAIChunkWriter(id: "chatcmpl-bedrock-\(UInt64.random(in: 0..<UInt64.max))", model: publicModel, includeUsage: includeUsage)
    }

    func mode(status: Int, headers: HTTPHeaders) -> TranslationMode {
        if (200..<300).contains(status), headers.first(name: "content-type")?.hasPrefix("application/vnd.amazon.eventstream") == true {
            return .stream(contentType: "text/event-stream; charset=utf-8")
        }
        return .buffered
    }

    static func finishReason(_ stop: String?) -> String {
        switch stop {
        case "max_tokens": return "length"
        case "tool_use": return "tool_calls"
        case "guardrail_intervened", "content_filtered": return "content_filter"
        default: return "stop"
        }
    }

    func translateWhole(status: Int, body: [UInt8]) -> (status: Int, body: [UInt8]) {
        body.withUnsafeBytes { raw in
            let object = JSONObjectView(document: raw)
            if !(200..<300).contains(status) {
                let e = GatewayError(status: status, type: status >= 500 ? "server_error" : "invalid_request_error", code: nil,
                                     message: "Upstream (bedrock): " + (object?.string("message") ?? object?.string("Message") ?? "HTTP \(status)"))
                return (status, Array(e.openAIBody.utf8))
            }
            noteUsage(object?.object("usage"))
            var text = ""
            var calls: [String] = []
            for block in object?.object("output")?.object("message")?.objects("content") ?? [] {
                if let t = block.string("text") { text += t }
                if let use = block.object("toolUse") {
                    calls.append("{\"id\":" + JSONWriter.quoted(use.string("toolUseId") ?? "") + ",\"type\":\"function\",\"function\":{\"name\":"
                                 + JSONWriter.quoted(use.string("name") ?? "") + ",\"arguments\":" + JSONWriter.quoted(use.compactJSON("input")) + "}}")
                }
            }
            var m = "{\"role\":\"assistant\",\"content\":" + (text.isEmpty && !calls.isEmpty ? "null" : JSONWriter.quoted(text))
            if !calls.isEmpty { m += ",\"tool_calls\":[" + calls.joined(separator: ",") + "]" }
            m += ",\"refusal\":null,\"annotations\":[]}"
            let out = "{\"id\":" + JSONWriter.quoted(writer.id) + ",\"object\":\"chat.completion\",\"created\":\(writer.created),\"model\":" + JSONWriter.quoted(model)
                + ",\"choices\":[{\"index\":0,\"message\":" + m + ",\"logprobs\":null,\"finish_reason\":\"" + Self.finishReason(object?.string("stopReason"))
                + "\"}],\"usage\":" + OpenAIChunkWriter.usageJSON(usage) + ",\"system_fingerprint\":null}"
            return (200, Array(out.utf8))
        }
    }

    func translateChunk(_ buffer: ByteBuffer) -> [UInt8] {
        guard !done else { return [] }
        // The messages before a corrupt or oversized frame are relayed, then the error event:
        // what the client gets does not depend on how the upstream's bytes were cut into reads.
        let decoded = decoder.decode(buffer.readableBytesView)
        var out: [UInt8] = []
        for message in decoded.messages {
            if message.headers[":message-type"] == "exception" || message.headers[":message-type"] == "error" {
                let text = message.payload.withUnsafeBytes { JSONObjectView(document: $0)?.string("message") } ?? ""
                done = true
                return out + errorEvent("\(message.headers[":exception-type"] ?? message.headers[":error-code"] ?? "exception"): \(text)")
            }
            message.payload.withUnsafeBytes { raw in translate(event: message.headers[":event-type"], raw, into: &out) }
        }
        if let error = decoded.error {
            done = true
            let reason: String
            if case .tooLarge(let size, let limit) = error {
                reason = "an upstream event-stream frame of \(size) bytes exceeds \(limit) (limits.max_event_frame_bytes)"
            } else {
                reason = "the upstream event stream is corrupt (\(error))"
            }
            streamFailure = reason
            return out + errorEvent(reason)
        }
        return out
    }

    func finishStream() -> [UInt8] {
        guard !done else { return [] }
        done = true
        if decoder.pendingByteCount > 0 {
            // The upstream closed inside a frame: the answer is cut off, not complete.
            let reason = "the upstream event stream ended inside a frame (\(decoder.pendingByteCount) bytes of it)"
            streamFailure = reason
            return errorEvent(reason)
        }
        var out = writer.usageChunk(usage)
        if let usage { out += usage.streamComment(price) }
        return out + Array("data: [DONE]\n\n".utf8)
    }

    private func errorEvent(_ message: String) -> [UInt8] {
        let e = GatewayError(status: 502, type: "server_error", code: "upstream_stream_error", message: "Upstream (bedrock) stream error: " + message)
        return Array(("data: " + e.openAIBody + "\n\n").utf8)
    }

    private func translate(event: String?, _ raw: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let payload = JSONObjectView(document: raw)
        switch event {
        case "messageStart":
            out += writer.chunk(delta: "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}")
        case "contentBlockStart":
            if let use = payload?.object("start")?.object("toolUse"), let block = payload?.int("contentBlockIndex") {
                let index = toolIndex.count
                toolIndex[block] = index
                out += writer.chunk(delta: "{\"tool_calls\":[{\"index\":\(index),\"id\":" + JSONWriter.quoted(use.string("toolUseId") ?? "")
                             + ",\"type\":\"function\",\"function\":{\"name\":" + JSONWriter.quoted(use.string("name") ?? "") + ",\"arguments\":\"\"}}]}")
            }
        case "contentBlockDelta":
            guard let delta = payload?.object("delta") else { return }
            if let text = delta["text"], text.kind == .string {
                out += writer.chunk(delta: "{\"content\":" + String(decoding: delta.bytes(text), as: UTF8.self) + "}")
            } else if let input = delta.object("toolUse")?["input"], input.kind == .string,
                      let block = payload?.int("contentBlockIndex"), let index = toolIndex[block] {
                out += writer.chunk(delta: "{\"tool_calls\":[{\"index\":\(index),\"function\":{\"arguments\":" + String(decoding: delta.bytes(input), as: UTF8.self) + "}}]}")
            }
        case "messageStop":
            out += writer.chunk(delta: "{}", finish: Self.finishReason(payload?.string("stopReason")))
        case "metadata":
            noteUsage(payload?.object("usage"))
        default:
            break
        }
    }

    private func noteUsage(_ u: JSONObjectView?) {
        guard let u else { return }
        let cached = max(0, u.count("cacheReadInputTokens") ?? 0)
        usage = Usage(promptTokens: Usage.sum(u.count("inputTokens") ?? 0, cached), completionTokens: u.count("outputTokens") ?? 0, cachedTokens: cached)
    }
}
