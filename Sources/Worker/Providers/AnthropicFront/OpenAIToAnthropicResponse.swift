import Config
import NIOCore
import NIOHTTP1
import TollgateCore

/// OpenAI Chat Completions response → Anthropic Messages response, whole or streamed.
///
/// A stream becomes Anthropic's documented sequence: `message_start`; per text run a
/// `content_block_start`/`text_delta`…/`content_block_stop`; per tool call a `tool_use` block
/// with `input_json_delta`s; then `message_delta` (stop reason and usage) and `message_stop`.
/// Finish reasons: stop → end_turn, length → max_tokens, tool_calls → tool_use,
/// content_filter → refusal.
final class OpenAIToAnthropicResponse: ResponseTranslator {
    private let model: String
    private let price: GatewayConfig.ModelPrice?
    private var reader: SSEStreamReader
    var streamFailure: String? { reader.failure }
    private(set) var usage: Usage?
    private var started = false
    private var finished = false
    private var id = "msg_tollgate"
    private var blockIndex = -1
    private var openBlock: OpenBlock?
    private var toolBlocks: [Int: Int] = [:]
    private var stopReason = "end_turn"

    private enum OpenBlock: Equatable {
        case text
        case tool(Int)
    }

    init(publicModel: String, price: GatewayConfig.ModelPrice?, maxLineBytes: Int = SSEParser.defaultMaxLineBytes) {
        self.reader = SSEStreamReader(maxLineBytes: maxLineBytes, front: .anthropic)
        self.model = publicModel
        self.price = price
    }

    func mode(status: Int, headers: HTTPHeaders) -> TranslationMode {
        if (200..<300).contains(status), headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true {
            return .stream(contentType: "text/event-stream; charset=utf-8")
        }
        return .buffered
    }

    static func stopReason(_ finish: String?) -> String {
        switch finish {
        case "length": return "max_tokens"
        case "tool_calls", "function_call": return "tool_use"
        case "content_filter": return "refusal"
        default: return "end_turn"
        }
    }

    // MARK: - Whole

    func translateWhole(status: Int, body: [UInt8]) -> (status: Int, body: [UInt8]) {
        body.withUnsafeBytes { raw in
            guard let object = JSONObjectView(document: raw) else {
                let e = GatewayError(status: 502, type: "server_error", code: "upstream_invalid_response",
                                     message: "The upstream answered HTTP \(status) with a body that is not JSON.")
                return (502, Array(e.anthropicBody.utf8))
            }
            if !(200..<300).contains(status) {
                let message = object.object("error")?.string("message") ?? "HTTP \(status)"
                let e = GatewayError(status: status, type: "", code: nil, message: "Upstream: " + message)
                return (status, Array(e.anthropicBody.utf8))
            }
            noteUsage(object.object("usage"))
            let choice = object.objects("choices")?.first
            let message = choice?.object("message")
            var content: [String] = []
            if let text = message?["content"], text.kind == .string, !text.isEmptyString, let m = message {
                content.append("{\"type\":\"text\",\"text\":" + String(decoding: m.bytes(text), as: UTF8.self) + "}")
            }
            for call in message?.objects("tool_calls") ?? [] {
                let fn = call.object("function")
                let input = ToolArguments.object(fn?.string("arguments")).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
                content.append("{\"type\":\"tool_use\",\"id\":" + JSONWriter.quoted(call.string("id") ?? "") + ",\"name\":"
                               + JSONWriter.quoted(fn?.string("name") ?? "") + ",\"input\":" + input + "}")
            }
            let stop = Self.stopReason(choice?.string("finish_reason"))
            let out = "{\"id\":" + JSONWriter.quoted("msg_" + (object.string("id") ?? "tollgate")) + ",\"type\":\"message\",\"role\":\"assistant\",\"model\":"
                + JSONWriter.quoted(model) + ",\"content\":[" + content.joined(separator: ",") + "],\"stop_reason\":\"\(stop)\",\"stop_sequence\":null,\"usage\":"
                + usageJSON() + "}"
            return (200, Array(out.utf8))
        }
    }

    // MARK: - Stream

    func translateChunk(_ buffer: ByteBuffer) -> [UInt8] {
        var out: [UInt8] = []
        for event in reader.events(buffer) {
            if event.isDone {
                out += finish()
                continue
            }
            event.data.withUnsafeBytes { raw in translate(raw, into: &out) }
        }
        return out + reader.takeFailureEvent()
    }

    private func translate(_ raw: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        guard let object = JSONObjectView(document: raw) else { return }
        if let error = object.object("error") {
            finished = true
            let e = GatewayError(status: 502, type: "", code: nil, message: "Upstream stream error: " + (error.string("message") ?? "unknown"))
            out += Self.event("error", e.anthropicBody)
            return
        }
        if !started {
            started = true
            id = "msg_" + (object.string("id") ?? "tollgate")
            out += Self.event("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":" + JSONWriter.quoted(id)
                              + ",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":" + JSONWriter.quoted(model)
                              + ",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":0,\"output_tokens\":0}}}")
        }
        noteUsage(object.object("usage"))
        guard let choice = object.objects("choices")?.first else { return }
        let delta = choice.object("delta")
        if let delta, let text = delta["content"], text.kind == .string, !text.isEmptyString {
            if openBlock != .text {
                out += closeBlock()
                blockIndex += 1
                openBlock = .text
                out += Self.event("content_block_start", "{\"type\":\"content_block_start\",\"index\":\(blockIndex),\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
            }
            out += Self.event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":\(blockIndex),\"delta\":{\"type\":\"text_delta\",\"text\":"
                              + String(decoding: delta.bytes(text), as: UTF8.self) + "}}")
        }
        for call in delta?.objects("tool_calls") ?? [] {
            let index = call.int("index") ?? 0
            let fn = call.object("function")
            if toolBlocks[index] == nil {
                out += closeBlock()
                blockIndex += 1
                toolBlocks[index] = blockIndex
                openBlock = .tool(index)
                out += Self.event("content_block_start", "{\"type\":\"content_block_start\",\"index\":\(blockIndex),\"content_block\":{\"type\":\"tool_use\",\"id\":"
                                  + JSONWriter.quoted(call.string("id") ?? "toolu_\(index)") + ",\"name\":" + JSONWriter.quoted(fn?.string("name") ?? "")
                                  + ",\"input\":{}}}")
            }
            if let fn, let args = fn["arguments"], args.kind == .string, !args.isEmptyString, let block = toolBlocks[index] {
                out += Self.event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":\(block),\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":"
                                  + String(decoding: fn.bytes(args), as: UTF8.self) + "}}")
            }
        }
        if let reason = choice.string("finish_reason") {
            stopReason = Self.stopReason(reason)
            out += closeBlock()
        }
    }

    func finishStream() -> [UInt8] {
        finished || streamFailure != nil ? [] : finish()
    }

    private func finish() -> [UInt8] {
        guard !finished else { return [] }
        finished = true
        var out = closeBlock()
        let u = usage ?? Usage(promptTokens: 0, completionTokens: 0, cachedTokens: 0)
        out += Self.event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"\(stopReason)\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":\(u.promptTokens - u.cachedTokens),\"output_tokens\":\(u.completionTokens),\"cache_read_input_tokens\":\(u.cachedTokens)}}")
        out += Self.event("message_stop", "{\"type\":\"message_stop\"}")
        if let usage { out += usage.streamComment(price) }
        return out
    }

    private func closeBlock() -> [UInt8] {
        guard openBlock != nil else { return [] }
        openBlock = nil
        return Self.event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":\(blockIndex)}")
    }

    private func noteUsage(_ u: JSONObjectView?) {
        guard let u else { return }
        let cached = u.object("prompt_tokens_details")?.count("cached_tokens") ?? 0
        usage = Usage(promptTokens: u.count("prompt_tokens") ?? 0, completionTokens: u.count("completion_tokens") ?? 0, cachedTokens: cached)
    }

    private func usageJSON() -> String {
        let u = usage ?? Usage(promptTokens: 0, completionTokens: 0, cachedTokens: 0)
        return "{\"input_tokens\":\(u.promptTokens - u.cachedTokens),\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":\(u.cachedTokens),\"output_tokens\":\(u.completionTokens)}"
    }

    static func event(_ name: String, _ json: String) -> [UInt8] {
        Array("event: \(name)\ndata: \(json)\n\n".utf8)
    }
}
