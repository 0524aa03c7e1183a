import Config
import Foundation
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
        let object = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
        if !(200..<300).contains(status) {
            let e = GatewayError(status: status, type: status >= 500 ? "server_error" : "invalid_request_error", code: nil,
                                 message: "Upstream (bedrock): " + (object["message"] as? String ?? object["Message"] as? String ?? "HTTP \(status)"))
            return (status, Array(e.openAIBody.utf8))
        }
        noteUsage(object["usage"] as? [String: Any])
        let message = (object["output"] as? [String: Any])?["message"] as? [String: Any] ?? [:]
        var text = ""
        var calls: [String] = []
        for block in message["content"] as? [[String: Any]] ?? [] {
            if let t = block["text"] as? String { text += t }
            if let use = block["toolUse"] as? [String: Any] {
                calls.append("{\"id\":" + JSONWriter.quoted(use["toolUseId"] as? String ?? "") + ",\"type\":\"function\",\"function\":{\"name\":"
                             + JSONWriter.quoted(use["name"] as? String ?? "") + ",\"arguments\":" + JSONWriter.quoted(OpenAIChunkWriter.json(use["input"])) + "}}")
            }
        }
        var m = "{\"role\":\"assistant\",\"content\":" + (text.isEmpty && !calls.isEmpty ? "null" : JSONWriter.quoted(text))
        if !calls.isEmpty { m += ",\"tool_calls\":[" + calls.joined(separator: ",") + "]" }
        m += ",\"refusal\":null,\"annotations\":[]}"
        let out = "{\"id\":" + JSONWriter.quoted(writer.id) + ",\"object\":\"chat.completion\",\"created\":\(writer.created),\"model\":" + JSONWriter.quoted(model)
            + ",\"choices\":[{\"index\":0,\"message\":" + m + ",\"logprobs\":null,\"finish_reason\":\"" + Self.finishReason(object["stopReason"] as? String)
            + "\"}],\"usage\":" + OpenAIChunkWriter.usageJSON(usage) + ",\"system_fingerprint\":null}"
        return (200, Array(out.utf8))
    }

    func translateChunk(_ buffer: ByteBuffer) -> [UInt8] {
        guard !done else { return [] }
        // The messages before a corrupt or oversized frame are relayed, then the error event:
        // what the client gets does not depend on how the upstream's bytes were cut into reads.
        let decoded = decoder.decode(buffer.readableBytesView)
        var out: [UInt8] = []
        for message in decoded.messages {
            if message.headers[":message-type"] == "exception" || message.headers[":message-type"] == "error" {
                let payload = (try? JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any]) ?? [:]
                done = true
                return out + errorEvent("\(message.headers[":exception-type"] ?? message.headers[":error-code"] ?? "exception"): \(payload["message"] as? String ?? "")")
            }
            let payload = (try? JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any]) ?? [:]
            switch message.headers[":event-type"] {
            case "messageStart":
                out += writer.chunk(delta: "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}")
            case "contentBlockStart":
                if let use = (payload["start"] as? [String: Any])?["toolUse"] as? [String: Any], let block = payload["contentBlockIndex"] as? Int {
                    let index = toolIndex.count
                    toolIndex[block] = index
                    out += writer.chunk(delta: "{\"tool_calls\":[{\"index\":\(index),\"id\":" + JSONWriter.quoted(use["toolUseId"] as? String ?? "")
                                 + ",\"type\":\"function\",\"function\":{\"name\":" + JSONWriter.quoted(use["name"] as? String ?? "") + ",\"arguments\":\"\"}}]}")
                }
            case "contentBlockDelta":
                let delta = payload["delta"] as? [String: Any] ?? [:]
                if let text = delta["text"] as? String {
                    out += writer.chunk(delta: "{\"content\":" + JSONWriter.quoted(text) + "}")
                } else if let input = (delta["toolUse"] as? [String: Any])?["input"] as? String,
                          let block = payload["contentBlockIndex"] as? Int, let index = toolIndex[block] {
                    out += writer.chunk(delta: "{\"tool_calls\":[{\"index\":\(index),\"function\":{\"arguments\":" + JSONWriter.quoted(input) + "}}]}")
                }
            case "messageStop":
                out += writer.chunk(delta: "{}", finish: Self.finishReason(payload["stopReason"] as? String))
            case "metadata":
                noteUsage(payload["usage"] as? [String: Any])
            default:
                break
            }
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

    private func noteUsage(_ u: [String: Any]?) {
        guard let u else { return }
        let cached = max(0, Usage.count(u["cacheReadInputTokens"]) ?? 0)
        usage = Usage(promptTokens: Usage.sum(Usage.count(u["inputTokens"]) ?? 0, cached), completionTokens: Usage.count(u["outputTokens"]) ?? 0, cachedTokens: cached)
    }
}
